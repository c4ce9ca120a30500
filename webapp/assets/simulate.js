/*
 * wormlab Simulate page: the network animation, run in the browser (clientside callbacks).
 *
 * activityStyle colours the network for one frame of a run: the frames (from
 * webapp.figures.dynamics.activity_frames, in the simulate-frames store) hold one code
 * string per frame, one character per neuron; character c stands for colour
 * frames.colors[frames.chars.indexOf(c)]. Stimulated neurons get a thick outline, ablated
 * ones are faded. It returns the stylesheet and the time label.
 *
 * play steps the time slider while the Play button is on (simulate-interval ticks).
 *
 * bodyPose shows the Body view's worm at the time of the shared slider: the simulate-body
 * store holds the posture figure (webapp.figures.body.posture_figure, without plotly's own
 * controls; layout.meta.frame_t: its frames' times), and the frame nearest the network
 * frame's time is drawn, so Play and the slider move the worm with the other views. With no
 * body the store holds the figure to show instead ({placeholder}).
 *
 * running shows "Running…" (a spinner, in the stylesheet) from the click on Run or a
 * preset's autorun; the server's run callback clears it with the status line. (It cannot
 * listen to the status line itself: Dash would hold it until the run is over.)
 */

window.dash_clientside = Object.assign({}, window.dash_clientside, {
  wormlab_simulate: {
    activityStyle: function (frames, k, base) {
      if (!base) { return window.dash_clientside.no_update; }
      var sheet = base.sheet.slice();
      var label = "t = –";
      function ids(names) {
        return names.map(function (n) { return 'node[id = "' + n + '"]'; }).join(", ");
      }
      if (frames && frames.source === base.source && frames.codes.length) {
        k = Math.max(0, Math.min(k || 0, frames.codes.length - 1));
        var code = frames.codes[k], chars = frames.chars, groups = {};
        for (var i = 0; i < frames.names.length; i++) {
          var c = code.charAt(i);
          (groups[c] = groups[c] || []).push(frames.names[i]);
        }
        Object.keys(groups).forEach(function (c) {
          sheet.push({selector: ids(groups[c]),
                      style: {"background-color": frames.colors[chars.indexOf(c)]}});
        });
        if (frames.stimulated.length) {
          sheet.push({selector: ids(frames.stimulated),
                      style: {"border-width": 3, "border-color": "#111",
                              "min-zoomed-font-size": 0, "font-weight": "bold"}});
        }
        if (frames.ablated.length) {
          sheet.push({selector: ids(frames.ablated),
                      style: {"opacity": 0.25, "border-style": "dashed",
                              "background-color": "#ffffff"}});
        }
        label = "t = " + frames.t[k].toPrecision(4) + " " + frames.time_unit;
      }
      return [sheet, label];
    },

    bodyPose: function (k, body, frames) {
      if (!body) { return window.dash_clientside.no_update; }
      if (body.placeholder) { return [body.placeholder, ""]; }
      var times = body.layout.meta.frame_t, n = times.length;
      var t = times[n - 1];
      if (frames && frames.t && frames.t.length) {
        t = frames.t[Math.max(0, Math.min(k || 0, frames.t.length - 1))];
      }
      var best = 0;
      for (var i = 1; i < n; i++) {
        if (Math.abs(times[i] - t) < Math.abs(times[best] - t)) { best = i; }
      }
      var meta = Object.assign({}, body.layout.meta, {frame: best});
      var figure = {data: body.frames[best].data,
                    layout: Object.assign({}, body.layout, {meta: meta})};
      return [figure, "body t = " + times[best].toFixed(2) + " s"];
    },

    running: function (clicks, autorun) {
      return "Running…";
    },

    play: function (clicks, ticks, disabled, value, max) {
      var trig = (window.dash_clientside.callback_context.triggered[0] || {}).prop_id || "";
      value = value || 0;
      if (trig.indexOf("simulate-play") === 0) {
        if (disabled) {
          return [value >= max ? 0 : value, false, "❚❚ Pause"];
        }
        return [window.dash_clientside.no_update, true, "▶ Play"];
      }
      if (disabled) { return window.dash_clientside.no_update; }
      if (value + 1 >= max) { return [max, true, "▶ Play"]; }
      return [value + 1, false, window.dash_clientside.no_update];
    }
  }
});

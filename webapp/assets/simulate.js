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

/*
 * wormlab Explore page: apply the network elements computed in Python to the cytoscape graph.
 *
 * dash-cytoscape copies the graph's elements back into its `elements` property 100 ms after
 * every add/remove (a debounced write-back of the whole graph). With thousands of edges
 * that costs time, and when a newer server update lands inside that 100 ms window the
 * write-back overwrites it with the older graph. So the Explore page never updates the
 * `elements` property: the server sends the elements, packed in columns
 * (webapp.network.pack), to a dcc.Store, and applyElements unpacks them and applies them to
 * the cytoscape instance directly (diffing by element id), after detaching dash-cytoscape's
 * add/remove listeners. It then fits the view to the nodes, and again whenever the graph's
 * box is resized.
 *
 * The page's other clientside callbacks (the address bar, the copy-link button, the
 * matrix tab) are small functions in the same namespace.
 */

/* Element objects from webapp.network.pack's columns. */
function unpackElements(packed) {
  var out = [];
  var n = packed.n, i;
  for (i = 0; i < n.length; i++) {
    out.push({group: "nodes", data: {id: n[i]}, classes: packed.nc[i],
              position: {x: packed.x[i], y: packed.y[i]}});
  }
  for (i = 0; i < packed.s.length; i++) {
    var source = n[packed.s[i]], target = n[packed.t[i]], classes = packed.ec[i];
    var data = {id: classes.split(" ")[0] + "|" + source + "|" + target,
                source: source, target: target};
    if (packed.w[i] !== null) { data.w = packed.w[i]; data.wd = packed.wd[i]; }
    out.push({group: "edges", data: data, classes: classes});
  }
  return out;
}

/*
 * Fit the view to the node positions. cy.fit() measures the bounding box of every element,
 * which for thousands of edges means computing all their rendered geometry first (seconds in
 * a busy headless chromium); the node positions alone are known and cheap.
 */
function fitToPositions(cy, packed, padding) {
  if (!packed.x.length) { return; }
  var x0 = Math.min.apply(null, packed.x), x1 = Math.max.apply(null, packed.x);
  var y0 = Math.min.apply(null, packed.y), y1 = Math.max.apply(null, packed.y);
  var margin = 20;  // model px around the outermost nodes (node radius and labels)
  x0 -= margin; y0 -= margin; x1 += margin; y1 += margin;
  var w = cy.width(), h = cy.height();
  var zoom = Math.min((w - 2 * padding) / (x1 - x0), (h - 2 * padding) / (y1 - y0));
  zoom = Math.max(cy.minZoom(), Math.min(cy.maxZoom(), zoom));
  cy.viewport({
    zoom: zoom,
    pan: {x: (w - zoom * (x0 + x1)) / 2, y: (h - zoom * (y0 + y1)) / 2}
  });
}

function applyTo(cy, packed) {
  cy.off("add remove dragfree");  // dash-cytoscape's layout refresh and element write-back
  var elements = unpackElements(packed);
  var wanted = {};
  for (var i = 0; i < elements.length; i++) { wanted[elements[i].data.id] = true; }
  cy.batch(function () {
    cy.elements().filter(function (ele) { return !wanted[ele.id()]; }).remove();
    var added = [];
    for (var j = 0; j < elements.length; j++) {
      var want = elements[j];
      var have = cy.getElementById(want.data.id);
      if (have.empty()) { added.push(want); continue; }
      if (have.classes().join(" ") !== want.classes) { have.classes(want.classes); }
      if (want.position) {
        var p = have.position();
        if (p.x !== want.position.x || p.y !== want.position.y) { have.position(want.position); }
      }
      if (want.data.w !== undefined && have.data("w") !== want.data.w) {
        have.data({w: want.data.w, wd: want.data.wd});
      }
    }
    if (added.length) { cy.add(added); }
  });
  fitToPositions(cy, packed, 24);
  refitOnResize(cy, packed);
  return elements.length;
}

/*
 * Fit the drawing again whenever the graph's box changes size (a resized window, a phone
 * turned sideways, the panel moving below the graph): one ResizeObserver per graph, fitting
 * to the positions last applied. Cytoscape itself only notices window resizes, and keeps
 * the old zoom and pan.
 */
function refitOnResize(cy, packed) {
  cy.scratch("wormlab-packed", packed);
  if (cy.scratch("wormlab-resize") || typeof ResizeObserver === "undefined") { return; }
  var container = cy.container();
  var size = {w: container.clientWidth, h: container.clientHeight};
  var observer = new ResizeObserver(function () {
    var w = container.clientWidth, h = container.clientHeight;
    if (!w || !h || (w === size.w && h === size.h)) { return; }
    size = {w: w, h: h};
    cy.resize();
    fitToPositions(cy, cy.scratch("wormlab-packed"), 24);
  });
  observer.observe(container);
  cy.scratch("wormlab-resize", observer);
}

window.dash_clientside = Object.assign({}, window.dash_clientside, {
  wormlab: {
    /* Keep the address bar on the page state (the query the server wrote), without a reload
       or a new history entry; the app shell keeps the query for the Explore nav link. */
    syncQuery: function (query) {
      var url = window.location.pathname + (query || "") + window.location.hash;
      if (url !== window.location.pathname + window.location.search + window.location.hash) {
        window.history.replaceState(window.history.state, "", url);
      }
      return query || "";
    },

    /* The link the "copy link" button copies: this view's address. */
    pageLink: function (n) { return window.location.href; },

    /* The adjacency matrix overlay is shown on its tab only. */
    heatmapBoxStyle: function (tab) {
      return {"display": tab === "heatmap" ? "block" : "none"};
    },

    applyElements: function (packed, graphId) {
      if (!packed) {
        return window.dash_clientside.no_update;
      }
      return new Promise(function (resolve) {
        var tries = 0;
        var attempt = function () {
          var el = document.getElementById(graphId);
          var cy = el && el._cyreg && el._cyreg.cy;
          if (cy) {
            resolve(applyTo(cy, packed));
          } else if (++tries > 600) {
            resolve(-1);  // about 10 s without a graph: the page went away
          } else {
            requestAnimationFrame(attempt);
          }
        };
        attempt();
      });
    }
  }
});

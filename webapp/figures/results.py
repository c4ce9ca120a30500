"""The Simulate page's result panels: from one run to its figures, frames, table and key.

Pure functions of a :class:`sim.runner.SimResult` (and the request and analysis of
:mod:`webapp.simulation`) that return figures (:mod:`webapp.figures.dynamics`), the network
animation's frames, and small Dash components (the response table, the colour key); they
are called by the page's callbacks and tested without a browser.
"""

import numpy as np
from dash import html

import connectome
from webapp import network
from webapp.figures.control import empty_figure
from webapp.figures.dynamics import (
    CODE_CHARS,
    activity_frames,
    heatmap_figure,
    phase_portrait_figure,
    traces_figure,
)
from webapp.simulation import VENTRAL_CORD, load_source, oscillation_period, units_of

__all__ = [
    "SUMMARY_ROWS",
    "MAX_EDGES",
    "summary_table",
    "traces",
    "run_figures",
    "colour_key",
    "activity_network",
    "activity_sheet",
    "stretch_to_panel",
    "PANEL_ASPECT",
    "NETWORK_LAYOUT",
]

#: The activity view's cytoscape layout: preset positions fitted to the panel. The page sends
#: it with a ``drawing`` key naming the source and view (cytoscape ignores it): dash-cytoscape
#: runs the layout again, and so fits the new drawing, only when the layout prop changes.
NETWORK_LAYOUT = {"name": "preset", "fit": True, "padding": 10}
#: Width / height of the activity panel (100% wide, 330 px high: about 2.6 on a laptop).
PANEL_ASPECT = 2.5
SUMMARY_ROWS = 60  # rows of the response table (all neurons are in its CSV)
MAX_EDGES = 1000  # synapses drawn in the activity view (the strongest)


def summary_table(summary, stimulated, unit, time_unit, rows=SUMMARY_ROWS):
    """The neurons with the largest responses (stimulated ones marked), as an html table."""
    df = summary.assign(mag=summary["peak"].abs()).sort_values("mag", ascending=False)
    stim = set(stimulated)
    u, tu = (f" ({x})" if x else "" for x in (unit, time_unit))
    heads = ("neuron", f"baseline{u}", f"peak ΔV{u}", f"peak at{tu}", f"latency{tu}")

    def num(x):
        return "–" if not np.isfinite(x) else f"{x:.4g}"

    body = [
        html.Tr(
            [html.Td(name + (" (stimulated)" if name in stim else ""))]
            + [html.Td(num(x), className="wl-num") for x in (base, peak, when, lat)]
        )
        for name, base, peak, when, lat in df.head(rows)[
            ["baseline", "peak", "peak_time", "latency"]
        ].itertuples()
    ]
    note = f"The {min(rows, len(df))} largest responses of {len(df)} neurons"
    note += "; all of them in the Summary CSV." if len(df) > rows else "."
    return [
        html.Div(note, className="wl-note"),
        html.Table(
            [html.Thead(html.Tr([html.Th(h) for h in heads])), html.Tbody(body)],
            className="wl-partners",
            id="simulate-summary-table",
        ),
    ]


def traces(result, names, highlight, run_id, stacked=True, reference=None, quantity="V"):
    """The traces of ``names``; ``reference`` (N,), when given, is subtracted (``quantity``
    names the result, e.g. "V − fixed point"; see :func:`webapp.simulation.trace_reference`)."""
    idx = result.indices(names) if names else np.zeros(0, dtype=np.int64)
    units = units_of(result.model)
    V = result.V[:, idx]
    if reference is not None:
        V = V - np.asarray(reference, np.float64)[idx].astype(np.float32)
    return traces_figure(
        result.t,
        V,
        [result.names[i] for i in idx],
        unit=units["V"],
        time_unit=units["t"],
        highlight=highlight,
        title=f"{quantity} (dashed: stimulated)",
        stacked=stacked,
        meta={"run": run_id, "quantity": quantity},
        quantity=quantity,
    )


def run_figures(result, request, info, run_id, base_source):
    """Heatmap, phase portrait and network frames of a run."""
    cc = result.circuit
    units = units_of(result.model)
    vunit, tunit = units["V"], units["t"]
    net = load_source(request.source)
    order = network.ordered_nodes(net, cc.names)
    table = network.node_table(net)
    idx = result.indices(order)
    dV = result.V[:, idx] - result.V[0, idx]
    heat = heatmap_figure(
        result.t, dV, order, list(table.loc[order, "type"]), unit=vunit, time_unit=tunit,
        meta={"run": run_id},
    )  # fmt: skip
    if info["pca"] is not None:
        p = info["pca"]
        classes = set(cc.neurons.loc[info["motor"], "class"])
        label = "ventral cord motor neurons" if classes <= set(VENTRAL_CORD) else "motor neurons"
        period = oscillation_period(info)
        swing = float(np.ptp(p.projections[:, 0]))
        note = "" if period is not None else f"no oscillation; mode 1 swings {swing:.2g} {vunit}"
        portrait = phase_portrait_figure(
            p.t,
            p.projections,
            explained=p.explained,
            unit=vunit,
            time_unit=tunit,
            label=f"{len(info['motor'])} {label}<br>t ≥ {info['window']:.3g} {tunit}",
            period=period,
            note=note,
            meta={"run": run_id, "motor": list(info["motor"])},
        )
    else:
        portrait = empty_figure("fewer than two motor neurons: no phase portrait", 400)
    frames = activity_frames(result.t, result.V, cc.names, unit=vunit)
    frames.update(
        chars=CODE_CHARS,  # frame codes' characters, in level order (assets/simulate.js)
        source=base_source,
        stimulated=info["stimulated"],
        ablated=list(cc.ablated),
        time_unit=tunit,
        run=run_id,
    )
    return heat, portrait, frames


def colour_key(frames):
    colors = frames["colors"]
    gradient = f"linear-gradient(90deg, {colors[0]}, {colors[len(colors) // 2]}, {colors[-1]})"
    unit = frames["unit"]
    return [
        html.Span(f"−{frames['scale']:.3g} {unit}".strip()),
        html.Span(className="wl-sim-gradient", style={"background": gradient}),
        html.Span(f"+{frames['scale']:.3g} {unit}".strip()),
        html.Span(" colour: V − V(0) (blue below, red above the initial state); "
                  "thick outline: stimulated; faded: ablated."),
    ]  # fmt: skip


def activity_network(net):
    """Nodes and the strongest synapses (at most :data:`MAX_EDGES`) of a source."""
    for m in (1, 2, 3, 5, 8, 13, 21, 34, 55):
        nodes, edges = connectome.filter_network(net, min_chemical=m, min_electrical=m)
        if len(edges) <= MAX_EDGES:
            return nodes, edges, m
    return nodes, edges.nlargest(MAX_EDGES, "weight"), m


def activity_sheet(net, view):
    """The activity view's base stylesheet: nodes sized for the view
    (:func:`webapp.network.view_scale`) and thin, faint edges, so that the nodes' activity
    colours, not the wiring, are what one sees."""
    sheet = network.stylesheet("type", scale=network.view_scale(net, view))
    return sheet + [
        {"selector": "edge", "style": {"width": 0.6, "opacity": 0.12, "arrow-scale": 0.4}},
        {"selector": "edge.gap", "style": {"opacity": 0.1}},
    ]


def stretch_to_panel(elements, aspect=PANEL_ASPECT):
    """Cytoscape elements with node x positions stretched about their mean so the drawing
    is ``aspect`` times as wide as high (never squeezed): a tall drawing (the layered view,
    about 1.4 : 1) then fills the wide activity panel instead of a strip of it.

    >>> els = [{"data": {"id": "A"}, "position": {"x": 0.0, "y": 0.0}},
    ...        {"data": {"id": "B"}, "position": {"x": 10.0, "y": 10.0}}]
    >>> [e["position"]["x"] for e in stretch_to_panel(els, 2.0)]
    [-5.0, 15.0]
    """
    nodes = [e for e in elements if "position" in e]
    if len(nodes) < 2:
        return elements
    xs = np.array([e["position"]["x"] for e in nodes])
    ys = np.array([e["position"]["y"] for e in nodes])
    w, h = float(np.ptp(xs)), float(np.ptp(ys))
    if w <= 0 or h <= 0 or w >= aspect * h:
        return elements
    k, mid = aspect * h / w, float(xs.mean())
    out = []
    for e in elements:
        if "position" in e:
            x = round(mid + (e["position"]["x"] - mid) * k, 1)
            e = {**e, "position": {**e["position"], "x": x}}
        out.append(e)
    return out

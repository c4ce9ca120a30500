"""Figures of the body: pure functions from a body run's arrays to plotly figures.

Inputs are plain arrays as in :class:`sim.body.BodyResult` (times ``t`` (R,), centre-line
points ``xy`` (R, 26, 2) head first in mm, ``curvature`` (R, 24) in 1/mm, ``centroid`` (R, 2)),
so every function is testable without a browser and without ElegansBot.

- :func:`worm_outline`: the body's outline (a closed polygon) at one time;
- :func:`posture_figure`: the worm on its plate, animated with plotly frames (Play and a time
  slider), with the head's and the centroid's tracks;
- :func:`kymogram_figure`: curvature along the body (head at the top) against time;
- :func:`trajectory_figure`: the centroid's path coloured by time;
- :func:`neuromuscular_figure`: the neuron -> muscle map as a signed heatmap (for Explore);
- :func:`body_panels`: the Simulate page's Body view figures of one body run.
"""

import numpy as np
import plotly.graph_objects as go

from webapp.figures.dynamics import bin_mean

__all__ = [
    "POSTURE_FRAMES",
    "PLATE_COLOURS",
    "worm_outline",
    "posture_figure",
    "kymogram_figure",
    "trajectory_figure",
    "neuromuscular_figure",
    "body_panels",
]

POSTURE_FRAMES = 100  # frames of the animation sent to the browser
#: Background of the plate: agar (pale straw) or water (pale blue).
PLATE_COLOURS = {"agar": "#f3ecd6", "water": "#e3f0fa"}
_BODY, _HEAD, _TRACK = "#8c6d31", "#d55e00", "#0072b2"
_DIVERGING = [
    [0.0, "#2166ac"],
    [0.25, "#92c5de"],
    [0.5, "#f7f7f7"],
    [0.75, "#f4a582"],
    [1.0, "#b2182b"],
]  # fmt: skip  (ColorBrewer RdBu: blue ventral, red dorsal)
_FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif", "size": 12}


_LOOK = {"template": "none", "font": _FONT, "paper_bgcolor": "white",
         "margin": {"l": 60, "r": 20, "t": 36, "b": 44}}  # fmt: skip


def _layout(height, **extra):
    return {**_LOOK, "height": height, **extra}


def worm_outline(xy, width=0.08):
    """Closed outline of a body whose centre line is ``xy`` (P, 2), head first.

    The half-width follows ElegansBot's drawing, ``width/2 * sin(arccos(s))`` for ``s`` from
    -0.98 (head) to 0.98 (tail); ``width`` is the largest diameter (mm; 0.08 for a 1 mm worm).

    Returns
    -------
    ndarray, shape (2 P + 1, 2)
        One side head to tail, the other tail to head, and the first point again.

    Examples
    --------
    >>> xy = np.stack([np.linspace(0, 1, 5), np.zeros(5)], axis=1)
    >>> o = worm_outline(xy)
    >>> o.shape, bool(np.allclose(o[0], o[-1])), round(float(o[:, 1].max()), 3)
    ((11, 2), True, 0.04)
    """
    xy = np.asarray(xy, dtype=np.float64)
    half = width / 2 * np.sin(np.arccos(np.linspace(-0.98, 0.98, len(xy))))
    tangent = np.gradient(xy, axis=0)
    tangent /= np.maximum(np.linalg.norm(tangent, axis=1, keepdims=True), 1e-12)
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
    side_a = xy + half[:, None] * normal
    side_b = xy - half[:, None] * normal
    return np.concatenate([side_a, side_b[::-1], side_a[:1]])


def _frames(n, n_frames):
    return np.unique(np.linspace(0, n - 1, min(n, max(2, n_frames))).round().astype(int))


def _extent(xy, pad=0.15):
    lo, hi = xy.reshape(-1, 2).min(axis=0) - pad, xy.reshape(-1, 2).max(axis=0) + pad
    half = max(hi - lo) / 2
    mid = (lo + hi) / 2
    return [mid[0] - half, mid[0] + half], [mid[1] - half, mid[1] + half]


def posture_figure(t, xy, centroid=None, *, friction="agar", n_frames=POSTURE_FRAMES, height=460,
                   controls=True, meta=None):  # fmt: skip
    """The worm on its plate, animated: outline, head, head track and centroid track.

    Parameters
    ----------
    t : ndarray, shape (R,)
        Times, s.
    xy : ndarray, shape (R, P, 2)
        Centre-line points, head first, mm.
    centroid : ndarray, shape (R, 2), optional
        Centre of mass (mm); the centre line's mean when omitted.
    friction : {"agar", "water"}
        Colours the plate.
    n_frames : int
        Frames sent (a uniform sample of the records; the last record is always one).
    controls : bool
        Add plotly's own Play/Pause button and time slider; without them (the Simulate page,
        whose own time slider and Play pick the frame, ``assets/simulate.js``) the figure
        shows the last frame.
    meta : dict, optional
        Kept in ``layout.meta``, with ``frame_t``: the frames' times (s).

    Returns
    -------
    plotly.graph_objects.Figure
        Traces: 0 body outline, 1 head, 2 head track, 3 centroid track. One frame per kept
        record, named by its time (``f"{t:.3f}"``), and (with ``controls``) a Play/Pause
        button and a time slider.
    """
    t = np.asarray(t, dtype=np.float64)
    xy = np.asarray(xy, dtype=np.float64)
    cen = xy.mean(axis=1) if centroid is None else np.asarray(centroid, dtype=np.float64)
    keep = _frames(len(t), n_frames)

    def traces(k):
        outline = worm_outline(xy[k])
        upto = keep[keep <= k]
        return [
            go.Scatter(x=outline[:, 0], y=outline[:, 1], fill="toself", mode="lines",
                       line={"color": _BODY, "width": 1}, fillcolor="rgba(140,109,49,0.55)",
                       name="body", hoverinfo="skip"),
            go.Scatter(x=[xy[k, 0, 0]], y=[xy[k, 0, 1]], mode="markers",
                       marker={"color": _HEAD, "size": 9}, name="head"),
            go.Scatter(x=xy[upto, 0, 0], y=xy[upto, 0, 1], mode="lines",
                       line={"color": _HEAD, "width": 1}, name="head track", opacity=0.6),
            go.Scatter(x=cen[upto, 0], y=cen[upto, 1], mode="lines",
                       line={"color": _TRACK, "width": 2}, name="centroid"),
        ]  # fmt: skip

    xr, yr = _extent(xy)
    fig = go.Figure(
        data=traces(keep[0] if controls else keep[-1]),
        frames=[go.Frame(data=traces(k), name=f"{t[k]:.3f}") for k in keep],
    )
    fig.update_layout(
        **_layout(
            height,
            plot_bgcolor=PLATE_COLOURS.get(friction, "white"),
            title={"text": f"body on {friction}", "x": 0.01, "font": {"size": 13}},
            legend={"orientation": "h", "y": -0.25 if controls else -0.18},
            margin={"l": 60, "r": 20, "t": 36, "b": 110 if controls else 70},
            meta={**(meta or {}), "frame_t": [float(t[k]) for k in keep]},
        ),
        xaxis={"title": "x (mm)", "range": xr, "zeroline": False},
        yaxis={"title": "y (mm)", "range": yr, "zeroline": False, "scaleanchor": "x"},
    )
    if not controls:
        return fig
    step_ms = 1000 * float(np.median(np.diff(t[keep]))) if len(keep) > 1 else 100
    fig.update_layout(
        updatemenus=[{
            "type": "buttons", "direction": "left", "x": 0.0, "y": -0.12, "xanchor": "left",
            "buttons": [
                {"label": "Play", "method": "animate",
                 "args": [None, {"frame": {"duration": step_ms, "redraw": False},
                                 "fromcurrent": True, "transition": {"duration": 0}}]},
                {"label": "Pause", "method": "animate",
                 "args": [[None], {"frame": {"duration": 0}, "mode": "immediate"}]},
            ],
        }],
        sliders=[{
            "x": 0.15, "y": -0.08, "len": 0.85, "currentvalue": {"prefix": "t = ", "suffix": " s"},
            "steps": [{"label": f"{t[k]:.2f}", "method": "animate",
                       "args": [[f"{t[k]:.3f}"], {"frame": {"duration": 0, "redraw": False},
                                                  "mode": "immediate"}]} for k in keep],
        }],
    )  # fmt: skip
    return fig


def kymogram_figure(t, curvature, *, height=360, max_columns=300):
    """Curvature along the body against time (joint 0, the head, at the top).

    Parameters
    ----------
    t : ndarray, shape (R,)
    curvature : ndarray, shape (R, J)
        1/mm; positive = dorsal side concave (red).
    max_columns : int
        Time bins sent (block means, :func:`webapp.figures.dynamics.bin_mean`).

    Returns
    -------
    plotly.graph_objects.Figure
        One heatmap, ``z`` of shape (J, columns), colour range symmetric about 0.
    """
    tb, kb = bin_mean(np.asarray(t, dtype=np.float64), np.asarray(curvature), max_columns)
    lim = max(float(np.nanmax(np.abs(kb))) if kb.size else 0.0, 1e-6)
    fig = go.Figure(
        go.Heatmap(
            x=tb,
            y=np.arange(kb.shape[1]),
            z=kb.T.astype(np.float32),
            zmin=-lim,
            zmax=lim,
            colorscale=_DIVERGING,
            colorbar={"title": {"text": "1/mm", "side": "right"}},
            hovertemplate="t %{x:.2f} s<br>joint %{y}<br>curvature %{z:.2f}/mm<extra></extra>",
        )
    )
    fig.update_layout(
        **_layout(height, title={"text": "kymogram", "x": 0.01, "font": {"size": 13}}),
        xaxis={"title": "time (s)"},
        yaxis={"title": "joint (head → tail)", "autorange": "reversed"},
    )
    return fig


def trajectory_figure(t, centroid, *, height=360):
    """The centroid's path on the plate, coloured by time, with start and end marked.

    Returns
    -------
    plotly.graph_objects.Figure
        Traces: 0 path (markers coloured by ``t``), 1 start, 2 end.
    """
    t = np.asarray(t, dtype=np.float64)
    c = np.asarray(centroid, dtype=np.float64)
    fig = go.Figure(
        [
            go.Scatter(x=c[:, 0], y=c[:, 1], mode="lines+markers", name="centroid",
                       line={"color": "#bbbbbb", "width": 1},
                       marker={"size": 4, "color": t, "colorscale": "Viridis",
                               "colorbar": {"title": {"text": "s"}}},
                       hovertemplate="t %{marker.color:.2f} s<br>x %{x:.3f} mm<br>"
                       "y %{y:.3f} mm<extra></extra>"),
            go.Scatter(x=c[:1, 0], y=c[:1, 1], mode="markers", name="start",
                       marker={"symbol": "circle-open", "size": 11, "color": "black"}),
            go.Scatter(x=c[-1:, 0], y=c[-1:, 1], mode="markers", name="end",
                       marker={"symbol": "x", "size": 10, "color": "black"}),
        ]
    )  # fmt: skip
    span = np.ptp(c, axis=0).max() if len(c) else 0.0
    pad = max(0.05, 0.1 * float(span))
    xr, yr = _extent(c[:, None, :], pad)
    fig.update_layout(
        **_layout(height, title={"text": "centroid trajectory", "x": 0.01, "font": {"size": 13}}),
        xaxis={"title": "x (mm)", "range": xr},
        yaxis={"title": "y (mm)", "range": yr, "scaleanchor": "x"},
        showlegend=False,
    )
    return fig


def neuromuscular_figure(table, *, height=640):
    """The neuron -> body-wall-muscle map as a heatmap: one row per neuron, one column per
    muscle (MDL, MDR, MVL, MVR, each head to tail), signed EM section counts.

    Parameters
    ----------
    table : pandas.DataFrame
        ``NeuromuscularMap.table()``: columns neuron, muscle, weight, sign.

    Returns
    -------
    plotly.graph_objects.Figure
        One heatmap; ``z[i, j]`` = sign x sections from neuron ``y[i]`` to muscle ``x[j]``
        (0 where there is no junction); neurons ordered by their first (most anterior) muscle
        row, then name.
    """
    z = table.assign(signed=table["weight"] * table["sign"]).pivot_table(
        index="neuron", columns="muscle", values="signed", aggfunc="sum", fill_value=0.0
    )
    muscles = sorted(z.columns, key=lambda m: (m[:3], int(m[3:])))
    first = table.assign(row=table["muscle"].str[3:].astype(int)).groupby("neuron")["row"].min()
    neurons = sorted(z.index, key=lambda n: (first[n], n))
    z = z.loc[neurons, muscles]
    lim = max(float(np.abs(z.to_numpy()).max()), 1.0)
    fig = go.Figure(
        go.Heatmap(
            x=muscles, y=neurons, z=z.to_numpy(), zmin=-lim, zmax=lim, colorscale=_DIVERGING,
            colorbar={"title": {"text": "sections (- inhibitory)", "side": "right"}},
            hovertemplate="%{y} -> %{x}: %{z:g} sections<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(
        **_layout(
            height, title={"text": "neuromuscular junctions", "x": 0.01, "font": {"size": 13}}
        ),
        xaxis={"title": "muscle (dorsal left / right, ventral left / right; head to tail)",
               "tickfont": {"size": 8}},
        yaxis={"title": "neuron", "autorange": "reversed", "tickfont": {"size": 8}},
    )  # fmt: skip
    return fig


def body_panels(worm, meta=None, *, friction="agar"):
    """The Simulate page's Body view of one body run: the worm's frames (without plotly's
    own controls: the page's slider picks the frame), the kymogram and the trajectory, each
    with ``meta`` in ``layout.meta``.

    Parameters
    ----------
    worm : sim.body.BodyResult or alike
        Read: ``t``, ``xy``, ``centroid``, ``curvature``.
    meta : dict, optional
    friction : {"agar", "water"}

    Returns
    -------
    dict
        ``posture`` (:func:`posture_figure`, its centre line rounded to 0.1 µm, finer than a
        pixel, so the frames sent stay small), ``kymogram``, ``trajectory``.
    """
    meta = dict(meta or {})
    posture = posture_figure(worm.t, np.round(worm.xy, 4), np.round(worm.centroid, 4),
                             friction=friction, controls=False, meta=meta)  # fmt: skip
    kymogram = kymogram_figure(worm.t, worm.curvature, height=420)
    trajectory = trajectory_figure(worm.t, worm.centroid, height=300)
    for fig in (kymogram, trajectory):
        fig.update_layout(meta=meta)
    return {"posture": posture, "kymogram": kymogram, "trajectory": trajectory}

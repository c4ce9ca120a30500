"""Figures of the Simulate page: pure functions from recorded activity to figures.

Inputs are plain arrays (times ``t`` of shape (T,), potentials ``V`` of shape (T, N) as in
:class:`sim.runner.SimResult`, neuron names), so every function can be tested without a
browser and called inside a callback.

- :func:`traces_figure`: potentials of a few neurons over time;
- :func:`heatmap_figure`: every neuron's deviation from its initial potential over time, rows
  grouped by neuron type;
- :func:`phase_portrait_figure`: the trajectory on the first two principal components (e.g. of
  the motor neurons, where Kunert et al. 2014 found a two-mode limit cycle);
- :func:`activity_frames`, :func:`activity_colors`: the network coloured by activity, as a few
  compact frames that the browser turns into cytoscape styles.

What a screen shows is a few hundred to a thousand points across, so the arrays are reduced
before they are sent (:func:`decimate` keeps every k-th record, which keeps the plotted data a
true, uniformly spaced sample of the trajectory; :func:`bin_mean` averages blocks, which is
what a heatmap cell should show) and sent as float32 (plotly >= 6 sends numpy arrays as
base64 typed arrays).
"""

import math

import numpy as np
import plotly.graph_objects as go

__all__ = [
    "ACTIVITY_LEVELS",
    "CODE_CHARS",
    "TRACE_POINTS",
    "HEATMAP_COLUMNS",
    "FRAMES",
    "decimate",
    "bin_mean",
    "robust_scale",
    "traces_figure",
    "heatmap_figure",
    "phase_portrait_figure",
    "activity_colors",
    "activity_frames",
]

TRACE_POINTS = 1000  # samples per trace sent to the browser
HEATMAP_COLUMNS = 300  # time bins of the heatmap (about 2 px each on a laptop screen)
FRAMES = 120  # frames of the network animation
ACTIVITY_LEVELS = 21  # colour levels of the network animation (odd: the middle one is rest)
#: One character per colour level in an encoded frame (see :func:`activity_frames`).
CODE_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# ColorBrewer RdBu (Brewer 2003; colour-blind safe), blue = below rest, red = above
_BLUE, _WHITE, _RED = (33, 102, 172), (247, 247, 247), (178, 24, 43)
_DIVERGING = [[0.0, "#2166ac"], [0.25, "#92c5de"], [0.5, "#f7f7f7"], [0.75, "#f4a582"],
              [1.0, "#b2182b"]]  # fmt: skip
_FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif", "size": 12}
_GRID = "#e6e9ed"
_PALETTE = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#000000",
    "#8C6D31",
    "#6A3D9A",
    "#999999",
)  # fmt: skip  (Okabe & Ito 2008, then more)


def _base_layout(height, **extra):
    layout = {
        "template": "none",
        "height": height,
        "font": _FONT,
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "margin": {"l": 60, "r": 20, "t": 36, "b": 44},
    }
    layout.update(extra)
    return layout


def _in(unit):
    """`` (unit)`` for a title, nothing for a unitless quantity (the ltc model)."""
    return f" ({unit})" if unit else ""


def _axis(title, font=None, **extra):
    axis = {
        "title": {"text": title, **({"font": font} if font else {})},
        "gridcolor": _GRID,
        "zerolinecolor": "#c9ced4",
        "linecolor": "#9aa3ad",
        "showline": True,
        "ticks": "outside",
        "tickcolor": "#9aa3ad",
    }
    axis.update(extra)
    return axis


def _spacing(t):
    """``(t[0], step)`` of uniformly spaced times (step 1 for a single time)."""
    t = np.asarray(t, dtype=np.float64)
    if len(t) < 2:
        return float(t[0]) if len(t) else 0.0, 1.0
    return float(t[0]), float((t[-1] - t[0]) / (len(t) - 1))


def decimate(t, V, max_points=TRACE_POINTS):
    """Every k-th record, with the smallest k that leaves at most ``max_points``.

    Parameters
    ----------
    t : array_like, shape (T,)
    V : array_like, shape (T, ...)
    max_points : int

    Returns
    -------
    t, V : ndarray (float32 ``V``), the records ``0, k, 2k, ...`` (uniformly spaced, so
        spectra and periods computed from them are those of the trajectory as long as ``k``
        records are much shorter than the fastest oscillation shown).

    Examples
    --------
    >>> t, v = decimate(np.arange(10.0), np.arange(10.0), 4)
    >>> t.tolist()
    [0.0, 3.0, 6.0, 9.0]
    """
    t = np.asarray(t)
    V = np.asarray(V)
    k = max(1, math.ceil(len(t) / max(1, int(max_points))))
    return t[::k], np.ascontiguousarray(V[::k], dtype=np.float32)


def bin_mean(t, V, max_bins=HEATMAP_COLUMNS):
    """Means over consecutive blocks of records, at most ``max_bins`` blocks.

    Returns
    -------
    t, V : ndarray
        Block mean times (T',) and block means (T', ...) as float32; the last block may be
        shorter.

    Examples
    --------
    >>> t, v = bin_mean(np.arange(5.0), np.arange(5.0), 2)
    >>> t.tolist(), v.tolist()
    ([1.0, 3.5], [1.0, 3.5])
    """
    t = np.asarray(t, dtype=np.float64)
    V = np.asarray(V, dtype=np.float64)
    k = max(1, math.ceil(len(t) / max(1, int(max_bins))))
    starts = np.arange(0, len(t), k)
    counts = np.diff(np.append(starts, len(t)))
    shape = (-1,) + (1,) * (V.ndim - 1)
    tm = np.add.reduceat(t, starts) / counts
    vm = np.add.reduceat(V, starts, axis=0) / counts.reshape(shape)
    return tm, vm.astype(np.float32)


def robust_scale(x, q=98.0, floor=1e-6):
    """The ``q``-th percentile of ``|x|`` (at least ``floor``): a colour range that a few
    directly stimulated neurons, which move far more than the rest, do not wash out."""
    x = np.abs(np.asarray(x, dtype=np.float64))
    x = x[np.isfinite(x)]
    if x.size == 0:
        return floor
    return max(float(np.percentile(x, q)), floor)


def traces_figure(
    t,
    V,
    names,
    *,
    unit="mV",
    time_unit="s",
    highlight=(),
    max_points=TRACE_POINTS,
    title="",
    stacked=True,
    meta=None,
    height=340,
    quantity="V",
):
    """Potentials of some neurons over time, one line each.

    Stacked (the default), each neuron has its own strip and y axis, as recordings are
    usually shown: a directly stimulated neuron that moves by volts does not flatten the
    millivolt oscillations of the others. Overlaid, all share one axis.

    Parameters
    ----------
    t : array_like, shape (T,)
        Times (``time_unit``).
    V : array_like, shape (T, len(names))
        Potentials (``unit``) of ``names``, in that order.
    names : sequence of str
    highlight : iterable of str
        Neurons drawn dashed (the stimulated ones).
    max_points : int
        Samples per line sent (:func:`decimate`).
    stacked : bool
        One strip per neuron (own y axis) instead of one shared axis.
    meta : dict, optional
        Stored in ``layout.meta`` (the page puts the run's id there).
    height : int
        Figure height in px (stacked: at least 64 px per neuron).
    quantity : str
        What ``V`` is (the y label, e.g. "V − fixed point").

    Returns
    -------
    plotly.graph_objects.Figure
        One ``scatter`` trace per neuron, named after it: ``y`` float32 samples at times
        ``x0 + k dx`` (uniform, so no ``x`` array is sent); stacked, trace ``j`` is on y axis
        ``j + 1`` (``"y"``, ``"y2"``, ...).
    """
    names = list(names)
    V = np.asarray(V)
    if V.ndim != 2 or V.shape[1] != len(names):
        raise ValueError(f"V has shape {V.shape}; expected (T, {len(names)})")
    td, vd = decimate(t, V, max_points)
    x0, dx = _spacing(td)
    hl = set(highlight)
    data = []
    for j, name in enumerate(names):
        data.append(
            go.Scatter(
                x0=x0,
                dx=dx,
                y=vd[:, j],
                mode="lines",
                name=name,
                line={
                    "width": 1.6,
                    "color": _PALETTE[j % len(_PALETTE)],
                    "dash": "dash" if name in hl else "solid",
                },
                hovertemplate=f"{name}: %{{y:.4g}} {unit}<br>t = %{{x:.4g}} {time_unit}"
                "<extra></extra>",
                yaxis=f"y{j + 1}" if stacked and j else "y",
            )
        )
    n = len(names)
    if not (stacked and n > 1):
        layout = _base_layout(
            height,
            title={"text": title, "x": 0.01, "font": {"size": 13}},
            xaxis=_axis(f"t{_in(time_unit)}"),
            yaxis=_axis(f"{quantity}{_in(unit)}"),
            legend={"orientation": "v", "x": 1.01, "y": 1, "font": {"size": 11}},
            margin={"l": 60, "r": 110, "t": 36, "b": 44},
            hovermode="closest",
            meta=meta or {},
        )
        return go.Figure(data=data, layout=layout)
    gap = 0.012
    strip = (1.0 - gap * (n - 1)) / n
    axes = {}
    for j, name in enumerate(names):
        top = 1.0 - j * (strip + gap)
        axes["yaxis" if j == 0 else f"yaxis{j + 1}"] = _axis(
            name,
            font={"size": 11},
            domain=[max(0.0, top - strip), top],
            anchor="x",
            nticks=3,
            tickfont={"size": 9},
        )
    layout = _base_layout(
        max(height, 64 * n + 90),
        title={"text": f"{title}{_in(unit)}", "x": 0.01, "font": {"size": 13}},
        xaxis=_axis(f"t{_in(time_unit)}", anchor=f"y{n}"),
        showlegend=False,
        margin={"l": 70, "r": 20, "t": 36, "b": 44},
        hovermode="closest",
        meta=meta or {},
        **axes,
    )
    return go.Figure(data=data, layout=layout)


def heatmap_figure(
    t,
    dV,
    names,
    groups,
    *,
    unit="mV",
    time_unit="s",
    max_columns=HEATMAP_COLUMNS,
    meta=None,
    height=520,
):
    """Every neuron's activity over time as a heatmap, rows grouped (by neuron type).

    Parameters
    ----------
    t : array_like, shape (T,)
    dV : array_like, shape (T, N)
        What to colour, usually ``V - V[0]`` (the deviation from the initial state), columns
        already in display order (first row at the top).
    names : sequence of str, length N
        Row labels.
    groups : sequence of str, length N
        Each row's group (e.g. "sensory"); consecutive equal groups are separated by a line
        and labelled on the right with their size.
    max_columns : int
        Time bins sent (:func:`bin_mean`).

    Returns
    -------
    plotly.graph_objects.Figure
        One ``heatmap`` trace, scaled per neuron: ``z`` (float32, (N, columns)) is each row's
        ``dV`` divided by that row's largest ``|dV|``, so the colour range [-1, 1] covers the
        data and a neuron that moves by microvolts shows its time course as clearly as one a
        stimulus drives by volts (rows that never move, below 1e-9 of the largest, stay 0);
        ``customdata`` holds the ``dV`` values themselves (shown on hover).
    """
    names = list(names)
    groups = list(groups)
    dV = np.asarray(dV)
    if dV.ndim != 2 or dV.shape[1] != len(names) or len(groups) != len(names):
        raise ValueError(f"dV has shape {dV.shape}; expected (T, {len(names)}) with one group each")
    tb, zb = bin_mean(t, dV, max_columns)
    zb = np.where(np.isfinite(zb), zb, 0.0)
    size = np.abs(zb).max(axis=0) if zb.size else np.zeros(len(names))
    floor = max(float(size.max(initial=0.0)) * 1e-9, 1e-30)
    z = np.ascontiguousarray((zb / np.where(size > floor, size, np.inf)).T.astype(np.float32))
    n = len(names)
    heat = go.Heatmap(
        x=tb.astype(np.float32),
        y=names,
        z=z,
        customdata=np.ascontiguousarray(zb.T.astype(np.float32)),
        colorscale=_DIVERGING,
        zmid=0.0,
        zmin=-1.0,
        zmax=1.0,
        colorbar={
            "title": {"text": "ΔV / neuron's<br>largest |ΔV|"},
            "thickness": 12,
            "len": 0.9,
        },  # fmt: skip
        hovertemplate=f"%{{y}}<br>t = %{{x:.4g}} {time_unit}<br>ΔV = %{{customdata:.4g}} {unit}"
        "<extra></extra>",
    )
    # category axis: row i sits at y = i; reversed so that the first name is on top
    shapes, annotations = [], []
    start = 0
    for i in range(1, n + 1):
        if i == n or groups[i] != groups[start]:
            annotations.append(
                {
                    "x": 1.0,
                    "xref": "paper",
                    "xanchor": "right",
                    "y": (start + i - 1) / 2,
                    "yref": "y",
                    "text": f"{groups[start]} ({i - start})",
                    "showarrow": False,
                    "font": {"size": 11, "color": "#333"},
                    "bgcolor": "rgba(255,255,255,0.75)",
                }
            )
            if i < n:
                shapes.append(
                    {
                        "type": "line",
                        "xref": "paper",
                        "x0": 0,
                        "x1": 1,
                        "yref": "y",
                        "y0": i - 0.5,
                        "y1": i - 0.5,
                        "line": {"color": "#222", "width": 1},
                    }
                )
            start = i
    step = max(1, math.ceil(n / 40))
    ticks = list(range(0, n, step))
    layout = _base_layout(
        height,
        title={
            "text": "All neurons: V − V(0), each row scaled to its own range, grouped by type",
            "x": 0.01,
            "font": {"size": 13},
        },
        xaxis=_axis(f"t{_in(time_unit)}", showgrid=False),
        yaxis=_axis(
            "",
            autorange="reversed",
            tickmode="array",
            tickvals=[names[i] for i in ticks],
            tickfont={"size": 9},
            showgrid=False,
        ),
        shapes=shapes,
        annotations=annotations,
        margin={"l": 60, "r": 20, "t": 36, "b": 44},
        meta=meta or {},
    )
    return go.Figure(data=[heat], layout=layout)


def phase_portrait_figure(
    t,
    proj,
    *,
    explained,
    unit="mV",
    time_unit="s",
    label="motor neurons",
    period=None,
    note="",
    max_points=1500,
    meta=None,
    height=400,
):
    """The trajectory on the first two principal components, coloured by time.

    Parameters
    ----------
    t : array_like, shape (T,)
    proj : array_like, shape (T, >= 2)
        Projections on the modes (:func:`sim.analysis.pca`), ``unit``.
    explained : sequence of float
        Variance fraction of each mode (axis titles).
    label : str
        What the modes are of (title).
    period : float, optional
        Dominant period of mode 1 (title), NaN or None when there is none.
    note : str
        Added to the title (e.g. "no oscillation").

    Returns
    -------
    plotly.graph_objects.Figure
        Trace 0: the path (``x`` mode 1, ``y`` mode 2, float32; time as ``marker.color``);
        trace 1: the start point.
    """
    proj = np.asarray(proj)
    if proj.ndim != 2 or proj.shape[1] < 2:
        raise ValueError("proj needs two columns (modes 1 and 2)")
    td, pd_ = decimate(t, proj[:, :2], max_points)
    td = td.astype(np.float32)
    path = go.Scatter(
        x=pd_[:, 0],
        y=pd_[:, 1],
        mode="lines+markers",
        name="trajectory",
        line={"color": "#9aa3ad", "width": 1},
        marker={
            "size": 4,
            "color": td,
            "colorscale": "Viridis",
            "colorbar": {"title": {"text": f"t{_in(time_unit)}"}, "thickness": 12, "len": 0.9},
        },
        hovertemplate=f"t = %{{marker.color:.4g}} {time_unit}<extra></extra>",
    )
    start = go.Scatter(
        x=pd_[:1, 0],
        y=pd_[:1, 1],
        mode="markers",
        name="start",
        marker={"size": 10, "symbol": "x", "color": "#D55E00"},
        hoverinfo="skip",
    )
    ex = list(explained) + [0.0, 0.0]
    title = f"Phase portrait (PCA) of {label}"
    if period is not None and np.isfinite(period):
        title += f"; period {period:.3g} {time_unit}"
    if note:
        title += f"; {note}"
    layout = _base_layout(
        height,
        title={"text": title, "x": 0.01, "font": {"size": 13}},
        xaxis=_axis(f"mode 1 ({ex[0]:.1%}){_in(unit)}"),
        yaxis=_axis(f"mode 2 ({ex[1]:.1%}){_in(unit)}"),
        showlegend=False,
        margin={"l": 60, "r": 20, "t": 56, "b": 44},
        meta=meta or {},
    )
    return go.Figure(data=[path, start], layout=layout)


def activity_colors(levels=ACTIVITY_LEVELS):
    """``levels`` hex colours from blue (below rest) through near-white (rest, the middle
    level) to red (above rest), interpolated in RGB between ColorBrewer RdBu's ends.

    >>> activity_colors(3)
    ['#2166ac', '#f7f7f7', '#b2182b']
    """
    if levels < 3 or levels % 2 == 0:
        raise ValueError(f"levels must be odd and >= 3, got {levels}")
    half = levels // 2
    out = []
    for i in range(levels):
        if i <= half:
            a, b, f = _BLUE, _WHITE, i / half
        else:
            a, b, f = _WHITE, _RED, (i - half) / half
        rgb = [round(x + (y - x) * f) for x, y in zip(a, b, strict=True)]
        out.append("#{:02x}{:02x}{:02x}".format(*rgb))
    return out


def activity_frames(t, V, names, *, n_frames=FRAMES, levels=ACTIVITY_LEVELS, scale=None, unit="mV"):
    """The network's activity as a few frames of colour levels, compact enough to send.

    Frame ``f`` holds, for every neuron, the level of ``dV = V(t_f) - V(0)``:
    ``round((clip(dV / scale, -1, 1) + 1) / 2 * (levels - 1))`` written as one character of
    :data:`CODE_CHARS` per neuron (level ``levels // 2`` is rest).

    Parameters
    ----------
    t : array_like, shape (T,)
    V : array_like, shape (T, N)
    names : sequence of str, length N
    n_frames : int
        At most this many frames (every k-th record, :func:`decimate`).
    levels : int
        Colour levels (odd, at most ``len(CODE_CHARS)``).
    scale : float, optional
        ``|dV|`` drawn at full colour; default :func:`robust_scale` with the 90th percentile
        of each neuron's largest ``|dV|``, so that most responding neurons are visible and
        the few stimulated ones saturate.

    Returns
    -------
    dict
        JSON-ready: ``names``, ``t`` (frame times), ``codes`` (one str of length N per frame),
        ``colors`` (:func:`activity_colors`), ``scale``, ``unit``.
    """
    if levels > len(CODE_CHARS):
        raise ValueError(f"at most {len(CODE_CHARS)} levels")
    V = np.asarray(V, dtype=np.float64)
    names = list(names)
    if V.ndim != 2 or V.shape[1] != len(names):
        raise ValueError(f"V has shape {V.shape}; expected (T, {len(names)})")
    tf, vf = decimate(t, V, n_frames)
    d = vf.astype(np.float64) - V[0]
    if scale is None:
        scale = robust_scale(np.abs(d).max(axis=0), q=90.0)
    x = np.clip(d / scale, -1.0, 1.0)
    lev = np.rint((x + 1.0) / 2.0 * (levels - 1)).astype(np.int64)
    table = np.array(list(CODE_CHARS[:levels]))
    codes = ["".join(table[row]) for row in lev]
    return {
        "names": names,
        "t": [float(v) for v in tf],
        "codes": codes,
        "colors": activity_colors(levels),
        "scale": float(scale),
        "unit": unit,
    }

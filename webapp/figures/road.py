"""Figures of lane keeping on the Train page: the car on the road, its lateral error, circuits.

Pure functions from plain data (a recorded episode of ``lane-keeping-v0`` in the numba port,
:func:`webapp.training.record_episode`; per-run summaries) to plotly figures, testable
without a browser:

- :func:`road_figure`: an animation (plotly frames, play button and slider) of the car on
  highway-env's road: the straight start lane, the lane joining it to the sine lane, the sine
  lane's edges and centre line; the car as a 5 m x 2 m rectangle turned to its heading, its
  centre marked, its path so far drawn behind it;
- :func:`lateral_error_figure`: the lateral offset from the reference lane's centre (m) at
  every step, with the lane's edges;
- :func:`circuit_comparison_figure`: the return and the mean lateral error of each run
  trained in the session, side by side.

The road's numbers come from :func:`sim.lanekeeping.road`.
"""

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim import lanekeeping
from webapp.figures.control import animation_controls

__all__ = ["CAR_LENGTH", "CAR_WIDTH", "road_figure", "lateral_error_figure",
           "circuit_comparison_figure"]  # fmt: skip

CAR_LENGTH, CAR_WIDTH = 5.0, 2.0  # m: highway-env's BicycleVehicle
_ROAD = "#495057"
_CENTRE = "#adb5bd"
_CAR = "#1c7ed6"
_PATH = "#e8590c"


def _straight(lane, side):
    """(xs, ys) of a straight lane's centre (side 0) or edge (side -1 right, +1 left)."""
    (x0, y0), (x1, y1) = lane["start"], lane["end"]
    length = math.hypot(x1 - x0, y1 - y0)
    lx, ly = -(y1 - y0) / length, (x1 - x0) / length  # the lane's lateral axis
    off = side * lane["width"] / 2
    return [x0 + off * lx, x1 + off * lx], [y0 + off * ly, y1 + off * ly]


def _sine(lane, xs, side):
    """ys of the sine lane's centre (side 0) or edge (+-1) at ``xs`` (its frame is the
    world's: start (0, 0), heading 0, so an edge is the centre shifted in y)."""
    centre = lane["amplitude"] * np.sin(lane["pulsation"] * xs + lane["phase"])
    return centre + side * lane["width"] / 2


def _road_traces(x_lo, x_hi):
    """Static traces of the road between ``x_lo`` and ``x_hi`` (m)."""
    road = lanekeeping.road()
    traces = []
    edge = {"mode": "lines", "line": {"color": _ROAD, "width": 2}, "hoverinfo": "skip"}
    centre = {"mode": "lines", "line": {"color": _CENTRE, "width": 1, "dash": "dash"},
              "hoverinfo": "skip"}  # fmt: skip
    for name in ("straight", "connector"):
        for side in (-1, 1):
            xs, ys = _straight(road[name], side)
            traces.append(go.Scatter(x=xs, y=ys, name=f"{name} lane edge", **edge))
        xs, ys = _straight(road[name], 0)
        traces.append(go.Scatter(x=xs, y=ys, name=f"{name} lane centre", **centre))
    sine = road["sine"]
    lo, hi = max(x_lo, sine["x_start"]), min(x_hi, sine["x_end"])
    xs = np.linspace(lo, hi, max(int(hi - lo), 2) * 2)
    for side in (-1, 1):
        traces.append(go.Scatter(x=xs, y=_sine(sine, xs, side), name="sine lane edge", **edge))
    traces.append(go.Scatter(x=xs, y=_sine(sine, xs, 0), name="sine lane centre", **centre))
    return traces


def _layout(title, height, background, margin):
    """The layout both figures share: title (if any), height, no legend, background, margins
    (``margin`` without its top, which the title sets)."""
    return {
        "title": {"text": title, "x": 0.02, "font": {"size": 13}} if title else None,
        "height": height,
        "showlegend": False,
        "plot_bgcolor": background,
        "margin": {**margin, "t": 36 if title else 10},
    }


def _car(x, y, heading):
    """Closed outline (xs, ys) of the car centred at (x, y) turned to ``heading`` (rad)."""
    c, s = math.cos(heading), math.sin(heading)
    half_l, half_w = CAR_LENGTH / 2, CAR_WIDTH / 2
    corners = [(-half_l, -half_w), (half_l, -half_w), (half_l, half_w), (-half_l, half_w),
               (-half_l, -half_w)]  # fmt: skip
    return [x + c * a - s * b for a, b in corners], [y + s * a + c * b for a, b in corners]


def _episode_arrays(episode):
    """(states (T + 1, >= 3), rewards (T,), lateral (T + 1,)) of a recorded episode, checked."""
    states = np.asarray(episode["states"], dtype=np.float64)
    rewards = np.asarray(episode["rewards"], dtype=np.float64)
    lateral = np.asarray(episode["lateral"], dtype=np.float64)
    if states.ndim != 2 or states.shape[0] < 1 or states.shape[1] < 3:
        raise ValueError(f"states must be a (T + 1, >= 3) array, got shape {states.shape}")
    if rewards.shape != (states.shape[0] - 1,) or lateral.shape != (states.shape[0],):
        raise ValueError(
            f"{states.shape[0]} states need {states.shape[0] - 1} rewards and "
            f"{states.shape[0]} lateral offsets, got {rewards.shape} and {lateral.shape}"
        )
    return states, rewards, lateral


def road_figure(episode: dict, frame_ms: int = 60, title: str = "") -> go.Figure:
    """An animation of one lane-keeping episode: the car on the road, one frame per step.

    Parameters
    ----------
    episode : dict
        ``states`` (T + 1) x 6 (x, y in m, heading in rad, speed, lateral speed, yaw rate:
        the port's vehicle state at reset and after every step), ``rewards`` (T,),
        ``lateral`` (T + 1,) (lateral offset, m).
    frame_ms : int
        Frame duration in ms when playing.
    title : str
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
        Frame ``t`` (named ``str(t)``) holds, in order: the car's outline, its centre (one
        marker at ``(x_t, y_t)``), its path up to step ``t`` and a text label (step, return,
        lateral offset).

    Raises
    ------
    ValueError
        States, rewards and lateral offsets of inconsistent shapes.
    """
    states, rewards, lateral = _episode_arrays(episode)
    xs, ys = states[:, 0], states[:, 1]
    # the view: the car's path and, whatever it did, the start lane and where the sine lane
    # begins (a car that circles on the start lane is seen on its road)
    start = lanekeeping.road()["straight"]
    (x0, y0), (x1, y1) = start["start"], start["end"]
    margin = 15.0  # m
    xr = (min(float(xs.min()), x0) - margin, max(float(xs.max()), x1 + 40) + margin)
    yr = (min(float(ys.min()), y1, -10.0) - margin, max(float(ys.max()), y0) + margin)
    static = _road_traces(*xr)
    ret = np.concatenate([[0.0], np.cumsum(rewards)])

    def moving(t):
        cx, cy = _car(float(xs[t]), float(ys[t]), float(states[t, 2]))
        text = f"step {t}   return {ret[t]:.1f}   lateral offset {lateral[t]:+.2f} m"
        return [
            go.Scatter(x=cx, y=cy, mode="lines", fill="toself", line={"color": "#1864ab"},
                       fillcolor=_CAR, hoverinfo="skip"),
            go.Scatter(x=[float(xs[t])], y=[float(ys[t])], mode="markers",
                       marker={"size": 5, "color": "#212529"}, name="car",
                       hovertemplate="x %{x:.2f} m, y %{y:.2f} m<extra></extra>"),
            go.Scatter(x=xs[: t + 1], y=ys[: t + 1], mode="lines",
                       line={"color": _PATH, "width": 1.5}, hoverinfo="skip"),
            go.Scatter(x=[xr[0] + 0.02 * (xr[1] - xr[0])], y=[yr[1] - 0.08 * (yr[1] - yr[0])],
                       mode="text", text=[text], textposition="middle right",
                       hoverinfo="skip"),
        ]  # fmt: skip

    picks = range(states.shape[0])
    first = moving(0)
    fig = go.Figure(data=[*static, *first])
    idx = list(range(len(static), len(static) + len(first)))
    fig.frames = [go.Frame(data=moving(t), traces=idx, name=str(t)) for t in picks]
    fig.update_layout(
        **_layout(title, 360, "#f1f3f5", {"l": 10, "r": 10, "b": 10}),
        xaxis={"range": list(xr), "visible": False, "fixedrange": True},
        yaxis={"range": list(yr), "visible": False, "scaleanchor": "x", "scaleratio": 1,
               "fixedrange": True},
        **animation_controls(picks, frame_ms),
    )  # fmt: skip
    return fig


def lateral_error_figure(episode: dict, title: str = "") -> go.Figure:
    """The lateral offset (m) from the reference lane's centre at reset and after every step,
    with the lane's edges (the offset at which the reward reaches 0.75).

    Parameters
    ----------
    episode : dict
        As :func:`road_figure` takes it (``lateral`` is drawn; ``states`` and ``rewards``
        are checked against it).
    title : str
        Figure title.

    Returns
    -------
    plotly.graph_objects.Figure
        Its first trace: x the step (0 .. T), y the lateral offset.
    """
    _, _, lateral = _episode_arrays(episode)
    half = lanekeeping.road()["sine"]["width"] / 2
    steps = np.arange(lateral.shape[0])
    fig = go.Figure()
    # plain lists: the browser gets the floats as JSON numbers, not base64-packed arrays
    fig.add_scatter(x=steps.tolist(), y=lateral.tolist(), mode="lines", name="lateral offset",
                    line={"color": _CAR, "width": 2},
                    hovertemplate="step %{x}: %{y:+.2f} m<extra></extra>")  # fmt: skip
    for y in (-half, half):
        fig.add_hline(y=y, line_dash="dot", line_color=_ROAD)
    fig.add_hline(y=0.0, line_color=_CENTRE)
    fig.update_layout(
        **_layout(title, 220, "white", {"l": 55, "r": 10, "b": 40}),
        xaxis_title="step (10 per second)",
        yaxis_title="lateral offset (m)",
    )
    fig.update_xaxes(showgrid=True, gridcolor="#eee")
    fig.update_yaxes(showgrid=True, gridcolor="#eee", zeroline=False)
    return fig


def circuit_comparison_figure(rows: list[dict]) -> go.Figure:
    """The runs of a session side by side: return and mean lateral error per run.

    Parameters
    ----------
    rows : list of dict
        One per run, in training order: ``label`` (str), ``return`` (the evaluation's mean
        return) and ``lateral_error`` (mean absolute lateral offset over the evaluation
        episodes, m).

    Returns
    -------
    plotly.graph_objects.Figure
        Two horizontal bar traces (return, lateral error), each with one bar per row.
    """
    labels = [r["label"] for r in rows]
    fig = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.08,
        shared_yaxes=True,
        subplot_titles=("mean return (max 200)", "mean |lateral offset| (m)"),
    )
    fig.add_bar(
        x=[float(r["return"]) for r in rows],
        y=labels,
        orientation="h",
        marker_color=_CAR,
        text=[f"{r['return']:.1f}" for r in rows],
        textposition="auto",
        name="return",
        row=1,
        col=1,
    )
    fig.add_bar(x=[float(r["lateral_error"]) for r in rows], y=labels, orientation="h",
                marker_color=_PATH, text=[f"{r['lateral_error']:.2f}" for r in rows],
                textposition="auto", name="lateral error", row=1, col=2)  # fmt: skip
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(rangemode="tozero", showgrid=True, gridcolor="#eee")
    fig.update_layout(
        height=max(160, 60 + 34 * len(rows)),
        showlegend=False,
        plot_bgcolor="white",
        margin={"l": 10, "r": 10, "t": 30, "b": 20},
        font={"size": 11},
    )
    return fig

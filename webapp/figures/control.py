"""Figures of the Circuit and Train pages: pure functions from plain data to figures.

Inputs are JSON-ready data (a wiring dict from :func:`connectome.io.to_dict`, a controller
dict from :meth:`sim.control.Controller.to_dict`, a training history, a recorded episode), so
every function can be tested without a browser and called inside a callback.

- :func:`circuit_elements`, :func:`circuit_stylesheet`: the circuit as dash-cytoscape
  elements in the layered view of :mod:`webapp.network` (sensory -> inter -> motor),
  chemical synapses marked by sign, optionally with trained conductances;
- :func:`circuit_stats_figure`: neurons by role, synapses by kind and sign;
- :func:`learning_curve_figure`: best (validated) and mean return per generation;
- :func:`episode_figure`: an animation of one episode of CartPole-v1,
  MountainCarContinuous-v0, Pendulum-v1 or Acrobot-v1, drawn from the environment's state
  with the geometry of gymnasium's own renderers.
"""

import math
from types import MappingProxyType, SimpleNamespace

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from connectome.neurons import ROLE_TYPES
from sim.envs import CLASSIC_CONTROL
from webapp import network

__all__ = [
    "ROLE_COLORS",
    "ANIMATED_ENVS",
    "wiring_network",
    "circuit_elements",
    "circuit_stylesheet",
    "circuit_stats_figure",
    "learning_curve_figure",
    "episode_figure",
    "animation_controls",
    "empty_figure",
]

ROLE_COLORS = MappingProxyType(
    {
        "sensory": network.TYPE_COLORS["sensory"],
        "inter": network.TYPE_COLORS["interneuron"],
        "motor": network.TYPE_COLORS["motor"],
    }
)
_EXCITATORY = "#009E73"
_INHIBITORY = "#CC3311"
_GAP = "#E69F00"


def empty_figure(message: str = "", height: int = 300) -> go.Figure:
    """A blank figure showing ``message`` in its middle (for 'nothing to show yet')."""
    fig = go.Figure()
    fig.update_layout(
        height=height,
        xaxis={"visible": False},
        yaxis={"visible": False},
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        plot_bgcolor="white",
        annotations=[
            {
                "text": message,
                "showarrow": False,
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "font": {"size": 14, "color": "#868e96"},
            }
        ]
        if message
        else [],
    )
    return fig


# ------------------------------------------------------------------------ circuit graph
def wiring_network(wiring: dict) -> SimpleNamespace:
    """A wiring source (``.name``, ``.neurons``, ``.edges``) built from a wiring dict
    (:func:`connectome.io.to_dict`) or a controller dict
    (:meth:`sim.control.Controller.to_dict`), for the drawing functions of
    :mod:`webapp.network`.

    Neurons keep their roles; a controller file, which has no neuron types, gets the type its
    role implies. Positions are unknown (NaN), so layers are ordered by class name.
    """
    rows = []
    for n in wiring["neurons"]:
        role = n.get("role", "inter")
        rows.append(
            {
                "name": n["name"],
                "class": n.get("class") or n["name"],
                "type": n.get("type") or ROLE_TYPES.get(role, "interneuron"),
                "role": role,
                "transmitter": "",
                "x": np.nan,
                "y": np.nan,
                "z": np.nan,
            }
        )
    neurons = pd.DataFrame(
        rows, columns=["name", "class", "type", "role", "transmitter", "x", "y", "z"]
    ).set_index("name")
    synapses = [dict(s) for s in wiring.get("synapses", [])]
    synapses += [dict(g, kind="electrical") for g in wiring.get("gaps", [])]
    edges = pd.DataFrame(
        [
            {
                "pre": e["pre"],
                "post": e["post"],
                "kind": e.get("kind", "chemical"),
                "weight": float(e.get("weight", 1.0)),
                "sign": int(e.get("sign", 1)),
            }
            for e in synapses
        ],
        columns=["pre", "post", "kind", "weight", "sign"],
    )
    return SimpleNamespace(name=str(wiring.get("dataset", "")), neurons=neurons, edges=edges)


def _trained_values(controller: dict) -> dict:
    """``{(kind, pre, post): {parameter: value}}`` of a controller dict's synapses."""
    out = {}
    for s in controller.get("synapses", []):
        out[("chemical", s["pre"], s["post"])] = {
            "tw": float(s["w"]), "mu": float(s["mu"]), "sigma": float(s["sigma"]),
        }  # fmt: skip
    for g in controller.get("gaps", []):
        out[("electrical", g["pre"], g["post"])] = {"tg": float(g["g"])}
    return out


def _trained_width(value: float, vmax: float) -> float:
    """Line width in px (0.6 to 6) growing with log(1 + 100 value / vmax)."""
    if vmax <= 0 or not math.isfinite(value):
        return 0.6
    return round(0.6 + 5.4 * math.log1p(100 * max(value, 0.0) / vmax) / math.log(101), 1)


def circuit_elements(net, trained: dict | None = None) -> list[dict]:
    """dash-cytoscape elements of a circuit in the layered view (sensory -> inter -> motor)
    of :func:`webapp.network.elements`, edges marked by sign.

    Parameters
    ----------
    net : Circuit or dict
        A :class:`connectome.Circuit`, a wiring dict or a controller dict.
    trained : dict, optional
        A controller dict (:meth:`sim.control.Controller.to_dict`): edge widths then show its
        trained conductances (chemical ``w`` as ``tw``, gap ``g`` as ``tg``, each kind scaled
        to its largest) and each edge carries ``mu`` and ``sigma``; nodes carry ``cm``,
        ``gleak`` and ``vleak``.

    Returns
    -------
    list of dict
        Node classes: the type (``sensory``, ``interneuron``, ``motor``); edge classes:
        ``chem`` plus ``exc`` or ``inh``, or ``gap``. Edge data: ``source``, ``target``,
        ``w`` (dataset weight), ``wd`` (width), ``kind``, ``sign``.
    """
    if isinstance(net, dict):
        net = wiring_network(net)
    edges = net.edges
    nodes = list(net.neurons.index)
    els = network.elements(net, nodes, edges, view="layered")
    signs = {
        ("chemical" if kind == "chemical" else "electrical", pre, post): int(sign)
        for pre, post, kind, sign in zip(
            edges["pre"], edges["post"], edges["kind"], edges["sign"], strict=True
        )
    }
    values = _trained_values(trained) if trained else {}
    vmax = {
        "tw": max((v["tw"] for v in values.values() if "tw" in v), default=0.0),
        "tg": max((v["tg"] for v in values.values() if "tg" in v), default=0.0),
    }
    # small circuits: spread the layered view (made for hundreds of nodes) and thin the
    # lines, so that a fitted view of a few neurons stays legible
    sx, sy = (1.4, 2.0) if len(nodes) <= 30 else (1.2, 1.4) if len(nodes) <= 120 else (1.0, 1.0)
    node_params = {n["name"]: n for n in (trained or {}).get("neurons", [])}
    roles = net.neurons["role"] if "role" in net.neurons.columns else {}
    for el in els:
        data = el["data"]
        if "source" not in data:
            el["position"] = {
                "x": round(el["position"]["x"] * sx, 1),
                "y": round(el["position"]["y"] * sy, 1),
            }
            if data["id"] in roles:
                data["role"] = str(roles[data["id"]])
            for key in ("cm", "gleak", "vleak", "role"):
                if key in node_params.get(data["id"], {}):
                    data[key] = node_params[data["id"]][key]
            continue
        kind = "chemical" if el["classes"].startswith("chem") else "electrical"
        key = (kind, data["source"], data["target"])
        data["kind"] = kind
        data["sign"] = signs.get(key, 1)
        data["wd"] = round(0.6 * data["wd"], 1)
        if kind == "chemical":
            el["classes"] += " exc" if data["sign"] > 0 else " inh"
        if key in values:
            data.update(values[key])
            p = "tw" if kind == "chemical" else "tg"
            data["wd"] = _trained_width(values[key][p], vmax[p])
    return els


def circuit_stylesheet(nodes=()) -> list[dict]:
    """The stylesheet of :func:`circuit_elements`: :func:`webapp.network.stylesheet`
    (colour by type, labels of ``nodes`` always shown) with larger nodes for small
    circuits, excitatory chemical synapses green, inhibitory ones red with a bar end."""
    sheet = network.stylesheet("type", labels=list(nodes))
    sheet += [
        {
            "selector": "node",
            "style": {"width": 20, "height": 20, "font-size": 10, "text-valign": "top"},
        },
        {"selector": "edge", "style": {"opacity": 0.7, "curve-style": "bezier"}},
        {
            "selector": "edge.exc",
            "style": {"line-color": _EXCITATORY, "target-arrow-color": _EXCITATORY},
        },
        {
            "selector": "edge.inh",
            "style": {
                "line-color": _INHIBITORY,
                "target-arrow-color": _INHIBITORY,
                "target-arrow-shape": "tee",
            },
        },
        {"selector": "edge.gap", "style": {"line-color": _GAP}},
        {"selector": ":selected", "style": {"border-width": 3, "border-color": "#111"}},
    ]
    return sheet


def circuit_stats_figure(summary: dict) -> go.Figure:
    """Neurons by role and synapses by kind and sign (:meth:`connectome.Circuit.summary`).

    Parameters
    ----------
    summary : dict
        Keys sensory, inter, motor, excitatory, inhibitory, electrical (counts) and
        chemical_weight, electrical_weight (summed dataset weights).
    """
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=(f"{summary['neurons']} neurons", "synapses"),
        horizontal_spacing=0.18,
    )
    roles = ["sensory", "inter", "motor"]
    fig.add_bar(
        x=[summary[r] for r in roles],
        y=roles,
        orientation="h",
        marker_color=[ROLE_COLORS[r] for r in roles],
        text=[summary[r] for r in roles],
        textposition="auto",
        hovertemplate="%{y}: %{x}<extra></extra>",
        row=1,
        col=1,
    )
    kinds = ["excitatory", "inhibitory", "electrical"]
    labels = ["chemical +", "chemical \u2212", "gap junction"]
    fig.add_bar(
        x=[summary[k] for k in kinds],
        y=labels,
        orientation="h",
        marker_color=[_EXCITATORY, _INHIBITORY, _GAP],
        text=[summary[k] for k in kinds],
        textposition="auto",
        customdata=[
            summary.get("chemical_weight", 0.0) if k != "electrical" else 0.0 for k in kinds
        ],
        hovertemplate="%{y}: %{x}<extra></extra>",
        row=1,
        col=2,
    )
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(rangemode="tozero", showgrid=True, gridcolor="#eee")
    fig.update_layout(
        height=190,
        showlegend=False,
        margin={"l": 10, "r": 10, "t": 30, "b": 20},
        plot_bgcolor="white",
        font={"size": 11},
    )
    return fig


# ------------------------------------------------------------------------ training
def learning_curve_figure(history: list[dict], target: float | None = None) -> go.Figure:
    """Best validated return and the generation's mean training return, per generation.

    Parameters
    ----------
    history : list of dict
        Per generation: ``generation``, ``best`` (validation score of the best controller so
        far) and ``mean`` (the generation's mean training return); ``gen_best`` is drawn
        when present.
    target : float, optional
        A dotted line at the score that stops training.
    """
    if not history:
        return empty_figure("The learning curve appears here while training runs.", 260)
    gens = [h["generation"] for h in history]
    fig = go.Figure()
    fig.add_scatter(
        x=gens,
        y=[h["mean"] for h in history],
        name="generation mean",
        mode="lines",
        line={"color": "#adb5bd"},
    )
    if all("gen_best" in h for h in history):
        fig.add_scatter(
            x=gens,
            y=[h["gen_best"] for h in history],
            name="generation best",
            mode="lines",
            line={"color": "#74c0fc", "dash": "dot"},
        )
    fig.add_scatter(
        x=gens,
        y=[h["best"] for h in history],
        name="best (validated)",
        mode="lines+markers",
        line={"color": "#1c7ed6", "width": 3},
        marker={"size": 5},
    )
    if target is not None:
        fig.add_hline(y=target, line_dash="dot", line_color="#2b8a3e")
    fig.update_layout(
        height=260,
        margin={"l": 50, "r": 10, "t": 10, "b": 40},
        xaxis_title="generation",
        yaxis_title="return",
        legend={"orientation": "h", "y": 1.12, "x": 0},
        plot_bgcolor="white",
        uirevision="learning-curve",
    )
    fig.update_xaxes(showgrid=True, gridcolor="#eee", dtick=1 if len(gens) <= 12 else None)
    fig.update_yaxes(showgrid=True, gridcolor="#eee")
    return fig


# ------------------------------------------------------------------------ episodes
ANIMATED_ENVS = CLASSIC_CONTROL  # the envs with a scene (sim.envs)


def _rect(cx, cy, w, h, angle=0.0):
    """Closed polygon (xs, ys) of a w x h rectangle centred at (cx, cy), rotated by angle."""
    c, s = math.cos(angle), math.sin(angle)
    corners = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2), (-w / 2, -h / 2)]
    return [cx + c * x - s * y for x, y in corners], [cy + s * x + c * y for x, y in corners]


def _cartpole(state):
    """CartPole-v1: cart at x, pole of length 2 * 0.5 tilted by theta (right for theta > 0)."""
    x, theta = float(state[0]), float(state[2])
    cart_y = 0.0
    cx, cy = _rect(x, cart_y, 0.5, 0.3)
    tip = (x + 1.0 * math.sin(theta), cart_y + 0.15 + 1.0 * math.cos(theta))
    return [
        {"x": cx, "y": cy},
        {"x": [x, tip[0]], "y": [cart_y + 0.15, tip[1]]},
    ]


def _hill(x):
    return np.sin(3 * np.asarray(x)) * 0.45 + 0.55


def _mountain_car(state):
    """MountainCarContinuous-v0: the car on the hill y = 0.45 sin(3x) + 0.55."""
    p = float(state[0])
    angle = math.atan(0.45 * 3 * math.cos(3 * p))
    nx, ny = -math.sin(angle), math.cos(angle)
    cx, cy = _rect(p + 0.05 * nx, float(_hill(p)) + 0.05 * ny, 0.2, 0.1, angle)
    return [{"x": cx, "y": cy}]


def _pendulum(state):
    """Pendulum-v1: rod of length 1 from the pivot, upright at theta = 0 (counter-clockwise
    for theta > 0, as gymnasium draws it)."""
    th = float(state[0])
    return [{"x": [0.0, -math.sin(th)], "y": [0.0, math.cos(th)]}]


def _acrobot(state):
    """Acrobot-v1: two links of length 1 hanging from the pivot (gymnasium's geometry)."""
    t1, t2 = float(state[0]), float(state[1])
    p1 = (math.sin(t1), -math.cos(t1))
    p2 = (p1[0] + math.sin(t1 + t2), p1[1] - math.cos(t1 + t2))
    return [{"x": [0.0, p1[0], p2[0]], "y": [0.0, p1[1], p2[1]]}]


def _scene(env_id):
    """Static traces, moving-trace styles, axis ranges and the geometry function."""
    if env_id == "CartPole-v1":
        static = [
            go.Scatter(
                x=[-2.4, 2.4], y=[-0.15, -0.15], mode="lines", line={"color": "#343a40"},
                hoverinfo="skip",
            ),
            go.Scatter(
                x=[-2.4, -2.4, None, 2.4, 2.4], y=[-0.35, 0.05, None, -0.35, 0.05],
                mode="lines", line={"color": "#c92a2a", "dash": "dot"}, hoverinfo="skip",
            ),
        ]  # fmt: skip
        moving = [
            {"mode": "lines", "fill": "toself", "line": {"color": "#343a40"},
             "fillcolor": "#495057"},
            {"mode": "lines+markers", "line": {"color": "#e8590c", "width": 8},
             "marker": {"size": [6, 0], "color": "#343a40"}},
        ]  # fmt: skip
        return static, moving, (-2.6, 2.6), (-0.5, 1.4), _cartpole
    if env_id == "MountainCarContinuous-v0":
        xs = np.linspace(-1.2, 0.6, 200)
        static = [
            go.Scatter(
                x=xs, y=_hill(xs), mode="lines", line={"color": "#343a40", "width": 2},
                fill="tozeroy", fillcolor="#e9ecef", hoverinfo="skip",
            ),
            go.Scatter(
                x=[0.45, 0.45, 0.52], y=[float(_hill(0.45)), float(_hill(0.45)) + 0.2,
                                         float(_hill(0.45)) + 0.17],
                mode="lines", line={"color": "#e67700", "width": 3}, hoverinfo="skip",
            ),
        ]  # fmt: skip
        moving = [
            {"mode": "lines", "fill": "toself", "line": {"color": "#343a40"},
             "fillcolor": "#1c7ed6"},
        ]  # fmt: skip
        return static, moving, (-1.25, 0.65), (0.0, 1.15), _mountain_car
    if env_id == "Pendulum-v1":
        static = [
            go.Scatter(x=[0], y=[0], mode="markers", marker={"size": 10, "color": "#343a40"},
                       hoverinfo="skip"),
        ]  # fmt: skip
        moving = [
            {"mode": "lines+markers", "line": {"color": "#c92a2a", "width": 10},
             "marker": {"size": [0, 14], "color": "#c92a2a"}},
        ]  # fmt: skip
        return static, moving, (-1.3, 1.3), (-1.3, 1.3), _pendulum
    if env_id == "Acrobot-v1":
        static = [
            go.Scatter(x=[-2.2, 2.2], y=[1.0, 1.0], mode="lines",
                       line={"color": "#2b8a3e", "dash": "dash"}, hoverinfo="skip"),
        ]  # fmt: skip
        moving = [
            {"mode": "lines+markers", "line": {"color": "#1c7ed6", "width": 8},
             "marker": {"size": 10, "color": "#343a40"}},
        ]  # fmt: skip
        return static, moving, (-2.2, 2.2), (-2.2, 2.2), _acrobot
    raise ValueError(f"no animation for {env_id!r}; animated envs: {', '.join(ANIMATED_ENVS)}")


def animation_controls(picks, frame_ms: int = 40) -> dict:
    """The play/pause buttons and the slider of an animation whose frames are named
    ``str(t)`` for ``t`` in ``picks``: ``{"updatemenus", "sliders"}`` for
    ``fig.update_layout``."""
    still = {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}
    play = {
        "frame": {"duration": int(frame_ms), "redraw": False},
        "fromcurrent": True,
        "transition": {"duration": 0},
        "mode": "immediate",
    }
    return {
        "updatemenus": [
            {
                "type": "buttons",
                "direction": "left",
                "x": 0.0,
                "y": -0.02,
                "xanchor": "left",
                "yanchor": "top",
                "pad": {"t": 4, "r": 6},
                "buttons": [
                    {"label": "\u25b6 Play", "method": "animate", "args": [None, play]},
                    {"label": "\u275a\u275a Pause", "method": "animate", "args": [[None], still]},
                ],
            }
        ],
        "sliders": [
            {
                "active": 0,
                "x": 0.3,
                "len": 0.7,
                "y": -0.02,
                "yanchor": "top",
                "pad": {"t": 4},
                "ticklen": 0,
                "minorticklen": 0,
                "font": {"color": "rgba(0,0,0,0)"},
                "currentvalue": {"visible": False},
                "steps": [
                    {"label": str(t), "method": "animate", "args": [[str(t)], still]} for t in picks
                ],
            }
        ],
    }


def episode_figure(
    env_id: str,
    states,
    rewards=None,
    max_frames: int = 200,
    frame_ms: int = 40,
    title: str = "",
) -> go.Figure:
    """An animation (plotly frames, play button and slider) of one recorded episode.

    Parameters
    ----------
    env_id : str
        One of :data:`ANIMATED_ENVS`.
    states : array_like (T + 1, state_dim)
        The environment's state (``env.unwrapped.state``) at reset and after every step:
        CartPole (x, x_dot, theta, theta_dot); MountainCar (position, velocity); Pendulum
        (theta, theta_dot); Acrobot (theta1, theta2, dtheta1, dtheta2).
    rewards : array_like (T,), optional
        Reward of each step (shows the running return).
    max_frames : int
        At most this many frames (every k-th state; the last state is always shown).
    frame_ms : int
        Frame duration in ms when playing.
    title : str
        Figure title.

    Raises
    ------
    ValueError
        Unknown env or states of the wrong shape.
    """
    states = np.asarray(states, dtype=np.float64)
    if states.ndim != 2 or states.shape[0] < 1:
        raise ValueError(f"states must be a (T + 1, state_dim) array, got shape {states.shape}")
    static, moving, xr, yr, geometry = _scene(env_id)
    T = states.shape[0]
    step = max(1, math.ceil(T / max(int(max_frames), 1)))
    picks = list(range(0, T, step))
    if picks[-1] != T - 1:
        picks.append(T - 1)
    ret = np.concatenate([[0.0], np.cumsum(np.asarray(rewards, np.float64))]) if (
        rewards is not None
    ) else None  # fmt: skip

    def label(t):
        text = f"step {t}"
        if ret is not None and t < len(ret):
            text += f"   return {ret[t]:.1f}"
        return text

    def moving_traces(t):
        traces = [
            go.Scatter(**style, **coords, hoverinfo="skip", showlegend=False)
            for style, coords in zip(moving, geometry(states[t]), strict=True)
        ]
        traces.append(
            go.Scatter(
                x=[xr[0] + 0.02 * (xr[1] - xr[0])], y=[yr[1] - 0.06 * (yr[1] - yr[0])],
                mode="text", text=[label(t)], textposition="middle right",
                hoverinfo="skip", showlegend=False,
            )
        )  # fmt: skip
        return traces

    n_static = len(static)
    first = moving_traces(picks[0])
    moving_idx = list(range(n_static, n_static + len(first)))
    fig = go.Figure(data=[*static, *first])
    fig.frames = [go.Frame(data=moving_traces(t), traces=moving_idx, name=str(t)) for t in picks]
    fig.update_layout(
        title={"text": title, "x": 0.02, "font": {"size": 13}} if title else None,
        height=360,
        showlegend=False,
        plot_bgcolor="white",
        margin={"l": 10, "r": 10, "t": 36 if title else 10, "b": 10},
        xaxis={"range": list(xr), "visible": False, "fixedrange": True},
        yaxis={
            "range": list(yr),
            "visible": False,
            "scaleanchor": "x",
            "scaleratio": 1,
            "fixedrange": True,
        },
        **animation_controls(picks, frame_ms),
    )
    return fig

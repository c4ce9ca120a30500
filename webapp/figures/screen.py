"""Figures of the Simulate page's Screen panel: pure functions from a screen or sweep table.

- :func:`ranking_figure`: the ablations that change the oscillation most, as horizontal bars
  (change in strength or relative change in period), coloured by verdict, the baseline in
  the title;
- :func:`sweep_figure`: metrics against the swept amplitude (period and amplitude on two
  y axes), the bifurcation diagram of the stimulus; points that failed or do not oscillate
  are gaps.

Inputs are the tables of :func:`sim.screens.rank` and :func:`sim.sweeps.sweep`.
"""

import numpy as np
import plotly.graph_objects as go

__all__ = ["VERDICT_COLORS", "ranking_figure", "sweep_figure"]

#: Bar colour of each verdict (ColorBrewer Set1, Brewer 2003).
VERDICT_COLORS = {
    "stops": "#e41a1c",
    "starts": "#4daf4a",
    "shifts period": "#377eb8",
    "amplitude": "#984ea3",
    "": "#999999",
    "error": "#000000",
}


def ranking_figure(ranked, *, top=30, value="d_strength"):
    """Horizontal bars of the first ``top`` ranked ablations.

    Parameters
    ----------
    ranked : pandas.DataFrame
        :func:`sim.screens.rank` output (``attrs["baseline"]`` for the title).
    top : int
        Bars shown (the ranking's first rows).
    value : {"d_strength", "rel_period", "d_amplitude", "d_period"}
        What a bar's length shows.
    """
    rows = ranked.head(top).iloc[::-1]  # plotly draws the first category at the bottom
    x = rows[value].to_numpy(np.float64)
    fig = go.Figure()
    for verdict, color in VERDICT_COLORS.items():
        sel = (rows["verdict"] == verdict).to_numpy()
        if not sel.any():
            continue
        fig.add_bar(
            x=np.nan_to_num(x[sel]),
            y=rows["ablate"].to_numpy()[sel],
            orientation="h",
            name=verdict or "no change",
            marker_color=color,
            customdata=np.stack(
                [
                    rows["period"].to_numpy()[sel],
                    rows["strength"].to_numpy()[sel],
                    rows["amplitude"].to_numpy()[sel],
                ],
                axis=1,
            ),  # fmt: skip
            hovertemplate="%{y}: period %{customdata[0]:.3f} s, strength %{customdata[1]:.2f},"
            " amplitude %{customdata[2]:.2f} mV<extra></extra>",
        )
    base = ranked.attrs.get("baseline", {})
    title = "lesion screen"
    if base:
        title += (
            f" (baseline: period {base['period']:.3f} s, strength {base['strength']:.2f}, "
            f"amplitude {base['amplitude']:.1f} mV)"
        )
    labels = {
        "d_strength": "change in oscillation strength",
        "rel_period": "relative change in period",
        "d_amplitude": "change in amplitude (mV)",
        "d_period": "change in period (s)",
    }
    fig.update_layout(
        title=title,
        xaxis_title=labels.get(value, value),
        yaxis={"categoryorder": "array", "categoryarray": list(rows["ablate"])},
        barmode="overlay",
        height=max(300, 18 * len(rows) + 120),
        margin={"l": 80, "r": 20, "t": 50, "b": 40},
        legend_title="verdict",
    )
    return fig


def sweep_figure(table, axis, *, metrics=("period", "amplitude"), min_strength=0.8):
    """Metrics of a sweep against ``axis`` (e.g. ``stim.0.amp``).

    The period is shown only where the network oscillates (``strength >= min_strength``);
    failed points (an ``error``) are gaps.
    """
    t = table.sort_values(axis, kind="stable")
    x = t[axis].to_numpy(np.float64)
    ok = (t["error"] == "").to_numpy()
    fig = go.Figure()
    for k, m in enumerate(metrics):
        y = t[m].to_numpy(np.float64).copy()
        y[~ok] = np.nan
        if m == "period" and "strength" in t:
            y[t["strength"].to_numpy(np.float64) < min_strength] = np.nan
        fig.add_scatter(
            x=x, y=y, mode="lines+markers", name=m, yaxis="y" if k == 0 else "y2",
        )  # fmt: skip
    units = {"period": " (s)", "amplitude": " (mV)", "strength": ""}
    layout = {
        "xaxis_title": axis.replace("stim.0.amp", "stimulus amplitude (pA)"),
        "yaxis": {"title": metrics[0] + units.get(metrics[0], "")},
        "margin": {"l": 60, "r": 60, "t": 30, "b": 40},
    }
    if len(metrics) > 1:
        layout["yaxis2"] = {
            "title": metrics[1] + units.get(metrics[1], ""),
            "overlaying": "y",
            "side": "right",
        }
    fig.update_layout(**layout)
    return fig

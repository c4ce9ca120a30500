"""The Train page's insight figures: what a lesion costs, and the baseline comparison table.

Pure functions of the :mod:`webapp.insight` job results. :func:`lesion_figure` draws one bar
per lesion, sorted by the drop in held-out return, on the return axis: each bar spans from
the lesioned return up (or down) to the intact return, drawn as a reference line, so a bar's
length is the drop (its ``y`` value; its ``base`` the lesioned return). The comparison's
figure is :func:`sim.comparison.comparison_figure`; :func:`comparison_table` is its table.
"""

import math
from types import MappingProxyType

import plotly.graph_objects as go
from dash import html

from webapp.figures.control import empty_figure

__all__ = ["SUMMARY_COLUMNS", "synapse_label", "lesion_figure", "comparison_table"]

#: The comparison table's columns: summary column -> (header, number format).
SUMMARY_COLUMNS = MappingProxyType(
    {
        "baseline": ("controller", None),
        "params": ("parameters", "{:d}"),
        "seeds": ("seeds", "{:d}"),
        "heldout_mean": ("held-out mean", "{:.1f}"),
        "heldout_std": ("spread (sd over seeds)", "{:.1f}"),
        "success": ("success rate", "{:.0%}"),
    }
)


def synapse_label(s) -> str:
    """``PRE→POST`` for a chemical synapse, ``A—B (gap)`` for a gap junction."""
    if s["kind"] == "electrical":
        return f"{s['pre']}\u2014{s['post']} (gap)"
    return f"{s['pre']}\u2192{s['post']}"


def lesion_figure(labels, drops, intact, title, height=300):
    """Bars of the drop in held-out return per lesion, largest first, against the intact
    return (a dashed line): each bar spans from the lesioned return to the intact one.

    Parameters
    ----------
    labels : sequence of str
        What was lesioned (neuron names, :func:`synapse_label`).
    drops : sequence of float
        intact - lesioned return, per label.
    intact : float
        The intact controller's mean held-out return.
    """
    if not labels:
        return empty_figure("Nothing was lesioned.", height)
    order = sorted(range(len(labels)), key=lambda i: -drops[i])
    xs = [labels[i] for i in order]
    ys = [float(drops[i]) for i in order]
    fig = go.Figure(
        go.Bar(
            x=xs, y=ys, base=[intact - d for d in ys], name="lesioned",
            marker_color=["#c92a2a" if d > 0 else "#2b8a3e" for d in ys],
            customdata=[[intact - d] for d in ys],
            hovertemplate="%{x}: lesioned %{customdata[0]:.1f}, drop %{y:.1f}<extra></extra>",
        )
    )  # fmt: skip
    fig.add_hline(
        y=intact, line_dash="dash", line_color="#343a40",
        annotation_text=f"intact {intact:.1f}", annotation_position="top right",
    )  # fmt: skip
    fig.update_layout(
        title={"text": title, "font": {"size": 13}}, height=height,
        margin={"l": 50, "r": 10, "t": 40, "b": 60}, yaxis_title="held-out return",
        showlegend=False, plot_bgcolor="#fcfcfd",
    )  # fmt: skip
    return fig


def _cell(value, fmt):
    if fmt is None:
        return str(value)
    if isinstance(value, float) and math.isnan(value):
        return "\u2013"
    return fmt.format(int(value) if fmt == "{:d}" else float(value))


def comparison_table(summary):
    """An html table of a comparison's summary (:class:`sim.comparison.CompareResult`): one
    row per controller: parameters, seeds, held-out mean and spread, success rate and the
    mean return at each observation-noise level."""
    noise = [c for c in summary.columns if c.startswith("noise_")]
    columns = {**SUMMARY_COLUMNS,
               **{c: (f"noise {c[len('noise_'):]}", "{:.1f}") for c in noise}}  # fmt: skip
    pad = {"padding": "2px 8px", "borderBottom": "1px solid #dee2e6", "textAlign": "right"}
    head = html.Tr([html.Th(h, style=pad) for h, _ in columns.values()])
    rows = [
        html.Tr([html.Td(_cell(r[c], fmt), style=pad) for c, (_, fmt) in columns.items()])
        for _, r in summary.iterrows()
    ]
    return html.Table([html.Thead(head), html.Tbody(rows)], className="wl-table",
                      style={"fontSize": "12px", "borderCollapse": "collapse"})  # fmt: skip

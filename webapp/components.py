"""Small layout pieces the pages share (labels, buttons, status lines, messages).

Pure functions returning Dash components; styling lives in ``assets/wormlab.css``.
"""

from dash import html

__all__ = ["label", "button", "status", "error", "info"]


def label(text, child, width=None):
    """``child`` (an input) with a small caption above it."""
    style = {"display": "inline-block", "marginRight": "10px", "verticalAlign": "top"}
    if width:
        style["width"] = width
    caption = html.Span(text, style={"display": "block", "fontSize": "12px", "color": "#495057"})
    return html.Label([caption, child], style=style)


def button(text, id_, primary=False, disabled=False):
    """A wormlab button (``primary`` for the main action of a panel)."""
    return html.Button(
        text,
        id=id_,
        n_clicks=0,
        disabled=disabled,
        className="wl-button wl-primary" if primary else "wl-button",
        style={"marginRight": "6px", "marginTop": "6px"},
    )


def status(id_):
    """An empty status line that callbacks fill with :func:`error` or :func:`info`."""
    return html.Div(id=id_, role="status", style={"fontSize": "13px", "marginTop": "4px"})


def error(text):
    """A message that says what is wrong and how to fix it."""
    return html.Div(text, className="wl-message wl-error")


def info(text):
    """A neutral message (progress, done, what was loaded)."""
    return html.Div(text, className="wl-message wl-info")

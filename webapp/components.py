"""Small layout pieces the pages share (labels, fields, buttons, status lines, messages).

Pure functions returning Dash components; styling lives in ``assets/wormlab.css``.
"""

from dash import dcc, html

import connectome

__all__ = [
    "card",
    "label",
    "number",
    "button",
    "status",
    "error",
    "info",
    "dataset_options",
    "field",
    "field_error",
    "text_input",
]


def card(title, *children, **style):
    """A titled panel; ``style`` adds to or overrides the panel's style."""
    return html.Div(
        [html.H4(title, style={"margin": "0 0 8px 0", "fontSize": "15px"}), *children],
        style={
            "border": "1px solid #dee2e6",
            "borderRadius": "6px",
            "padding": "10px 12px",
            "marginBottom": "10px",
            "background": "#fff",
            **style,
        },
    )


def number(id_, value, min_, max_=None, step=1, width=90, debounce=False):
    """A number input ``width`` pixels wide (``debounce``: report on Enter or blur)."""
    return dcc.Input(
        id=id_,
        type="number",
        value=value,
        min=min_,
        max=max_,
        step=step,
        style={"width": f"{width}px"},
        debounce=debounce,
    )


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


def dataset_options() -> list[dict]:
    """Dropdown options of every shipped dataset: ``"<key> · <title>"`` (the Explore and
    Simulate pages' dataset pickers)."""
    table = connectome.datasets()
    return [{"label": f"{key} · {row.title}", "value": key} for key, row in table.iterrows()]


def text_input(id_, value, placeholder=None):
    """A text field that reports on Enter or blur (numbers are parsed on the server, with
    :func:`webapp.forms.parse_number`, so that a bad value gets a message, not a blank)."""
    return dcc.Input(
        id=id_,
        value=value,
        type="text",
        debounce=True,
        placeholder=placeholder,
        className="wl-field-input",
    )


def field_error(id_):
    """The empty line under a field where its problem is shown."""
    return html.Div(id=id_, className="wl-field-error", role="alert")


def field(label, control, err_id, unit="", title=None, width=None):
    """A labelled form field with its error line under it.

    ``unit`` is appended to the label in brackets, ``title`` is the label's tooltip and
    ``width`` is ``"third"`` or ``"half"`` of the row (else the field grows to fill it).
    """
    head = label + (f" ({unit})" if unit else "")
    return html.Div(
        [html.Label(head, className="wl-field-label", title=title), control, field_error(err_id)],
        className=f"wl-field wl-field-{width}" if width else "wl-field",
    )

"""The Circuit page (placeholder until it lands)."""

from dash import html

PATH = "/circuit"
NAME = "Circuit"
ORDER = {"simulate": 1, "circuit": 2, "train": 3}["circuit"]


def layout(**_query):
    return html.Div([html.H2("Circuit"), html.P("This page is coming.")], id="circuit-page")


def register_callbacks(app) -> None:
    """This page has no callbacks yet."""

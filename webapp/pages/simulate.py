"""The Simulate page (placeholder until it lands)."""

from dash import html

PATH = "/simulate"
NAME = "Simulate"
ORDER = {"simulate": 1, "circuit": 2, "train": 3}["simulate"]


def layout(**_query):
    return html.Div([html.H2("Simulate"), html.P("This page is coming.")], id="simulate-page")


def register_callbacks(app) -> None:
    """This page has no callbacks yet."""

"""The Train page (placeholder until it lands)."""

from dash import html

PATH = "/train"
NAME = "Train"
ORDER = {"simulate": 1, "circuit": 2, "train": 3}["train"]


def layout(**_query):
    return html.Div([html.H2("Train"), html.P("This page is coming.")], id="train-page")


def register_callbacks(app) -> None:
    """This page has no callbacks yet."""

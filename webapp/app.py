"""The Dash app factory."""

from dash import Dash, html

__all__ = ["create_app", "warm_up"]


def warm_up() -> None:
    """Load the default dataset once before the first request."""
    import connectome

    connectome.load("cook2019")


def create_app() -> Dash:
    """A new Dash app (placeholder until the pages land)."""
    app = Dash(__name__, title="wormlab")
    app.layout = html.Div([html.H1("wormlab"), html.P("The Explore page is coming.")])
    return app

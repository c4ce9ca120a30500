"""The Dash app factory: pages, navigation bar and the stores shared between pages.

``create_app()`` builds a new, independent app each time it is called (tests call it
several times in one process): every page attaches its callbacks to that app with
``app.callback``, and the only process-wide state is Dash's own page registry, which
every call fills with the same pages.

Per-user state lives in the browser (session storage):

- ``store-dataset``: the current dataset key;
- ``store-selection``: what the Explore page sends with "Use as circuit",
  ``{"dataset", "level", "names"}``;
- ``store-circuit``: the current circuit as ``connectome.io.to_dict`` data.

Long work runs as Dash background callbacks in a ``DiskcacheManager`` whose cache
folder (under the system temporary folder) belongs to one app.
"""

import shutil
import tempfile
import weakref
from pathlib import Path

import dash
from dash import Dash, Input, Output, dcc, html

from webapp.pages import circuit, explore, simulate, train

__all__ = ["PAGES", "create_app", "warm_up", "DEFAULT_DATASET"]


#: Page modules in navigation order.
PAGES = (explore, simulate, circuit, train)
DEFAULT_DATASET = "cook2019"
ASSETS = Path(__file__).resolve().parent / "assets"


def warm_up() -> None:
    """Everything a first request would otherwise wait for: the default dataset and its
    drawing, every numba kernel (from numba's on-disk cache when it is warm), the default
    compiled network of the Simulate page and the training kernels' cache."""
    import connectome
    import sim

    connectome.load(DEFAULT_DATASET)
    explore.warm_up()
    sim.warmup()
    simulate.warm_up()
    train.warm_up()


def _background_manager():
    """A DiskcacheManager over a cache folder of its own (removed when the app goes)."""
    import diskcache

    folder = tempfile.mkdtemp(prefix="wormlab-dash-")
    cache = diskcache.Cache(folder)
    manager = dash.DiskcacheManager(cache)
    return manager, cache, folder


def _navbar(app: Dash):
    links = [
        dcc.Link(
            page.NAME,
            href=app.get_relative_path(page.PATH),
            id=f"app-nav-{page.NAME.lower()}",
            className="wl-nav-link",
        )
        for page in PAGES
    ]
    return html.Header(
        [
            html.Span(
                [html.Span("worm", className="wl-brand-a"), html.Span("lab")], className="wl-brand"
            ),
            html.Nav(links, className="wl-nav-links"),
            html.Span("C. elegans connectome explorer and simulator", className="wl-tagline"),
        ],
        className="wl-nav",
    )


def _shell(app: Dash):
    return html.Div(
        [
            _navbar(app),
            dcc.Location(id="app-url", refresh=False),
            dcc.Store(id="store-dataset", storage_type="session", data=DEFAULT_DATASET),
            dcc.Store(id="store-selection", storage_type="session"),
            dcc.Store(id="store-circuit", storage_type="session"),
            # the Explore page's last query string, so the nav link returns to the same view
            dcc.Store(id="app-explore-query", storage_type="session", data=""),
            html.Div(dash.page_container, className="wl-page"),
        ],
        className="wl-app",
    )


def _register_shell_callbacks(app: Dash) -> None:
    explore_href = app.get_relative_path(explore.PATH)
    app.clientside_callback(
        f"""
        function(query) {{ return "{explore_href}" + (query || ""); }}
        """,
        Output("app-nav-explore", "href"),
        Input("app-explore-query", "data"),
    )
    paths = [app.get_relative_path(page.PATH) for page in PAGES]
    app.clientside_callback(
        f"""
        function(pathname) {{
            var paths = {paths!r};
            return paths.map(function(p) {{
                return "wl-nav-link" + (p === pathname ? " wl-active" : "");
            }});
        }}
        """,
        [Output(f"app-nav-{page.NAME.lower()}", "className") for page in PAGES],
        Input("app-url", "pathname"),
    )


def create_app() -> Dash:
    """A new wormlab Dash app (Explore, Simulate, Circuit and Train pages).

    Returns
    -------
    dash.Dash
        Serve it with ``app.run(host, port, debug)`` or through ``app.server`` (Flask).
    """
    manager, cache, folder = _background_manager()
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        assets_folder=str(ASSETS),
        title="wormlab",
        update_title=None,
        background_callback_manager=manager,
        suppress_callback_exceptions=True,
    )
    weakref.finalize(app, _remove_cache, cache, folder)
    for page in PAGES:
        dash.register_page(
            page.__name__,
            path=page.PATH,
            name=page.NAME,
            order=page.ORDER,
            title=f"wormlab · {page.NAME}",
            layout=page.layout,
        )
    app.layout = _shell(app)
    _register_shell_callbacks(app)
    for page in PAGES:
        page.register_callbacks(app)
    return app


def _remove_cache(cache, folder: str) -> None:
    cache.close()
    shutil.rmtree(folder, ignore_errors=True)

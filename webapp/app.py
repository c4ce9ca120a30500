"""The Dash app factory: pages, navigation bar and the stores shared between pages.

``create_app()`` builds a new, independent app each time it is called (tests call it
several times in one process): every page attaches its callbacks to that app with
``app.callback``, and the only process-wide state is Dash's own page registry, which
every call fills with the same pages.

Per-user state lives in the browser (session storage):

- ``store-dataset``: the current dataset key;
- ``store-selection``: what the Explore page sends with "Use as circuit",
  ``{"dataset", "level", "names"}``;
- ``store-circuit``: the current circuit as ``connectome.io.to_dict`` data;
- ``store-controller``: the last controller the Train page trained, as
  ``sim.control.Controller.to_dict`` data (the Circuit page's ncps download with trained
  parameters).

Long work runs as Dash background callbacks in a ``DiskcacheManager`` whose cache sits in
the app's own temporary folder (:mod:`webapp.tempdirs`: ``wormlab-dash-*`` under the system
temporary folder, owner recorded, removed by :func:`close_app` or at exit); each job is a
thread of the server (:mod:`webapp.jobmanager`), never a fork of it. Requests larger
than :data:`MAX_REQUEST_BYTES` are refused (HTTP 413) before their body is read.

Given a :class:`webapp.warmup.Warmup`, the shell polls it and shows "compiling the
simulator (once)…" while the kernels compile in the background.

The safety net (:mod:`webapp.errors`): an exception no page handled, in any callback, is
logged with its traceback on the server and shown in the shell's message area
(``app-error``) next to the page, never answered with an empty HTTP 500.
"""

import os
import shutil
import weakref
from pathlib import Path

import dash
import diskcache
from dash import Dash, Input, Output, dcc, html

# the largest request body the server reads (an upload of the largest file, base64-encoded,
# with the page's circuit and form): a body over it gets HTTP 413 unread
from connectome.limits import MAX_REQUEST_BYTES
from webapp import errors, tempdirs
from webapp.jobmanager import ThreadJobManager
from webapp.pages import circuit, explore, simulate, train
from webapp.warmup import Warmup

__all__ = ["PAGES", "create_app", "close_app", "warm_up", "DEFAULT_DATASET", "MAX_REQUEST_BYTES"]


#: Page modules in navigation order.
PAGES = (explore, simulate, circuit, train)
DEFAULT_DATASET = "cook2019"
ASSETS = Path(__file__).resolve().parent / "assets"


def warm_up() -> None:
    """Everything a first request would otherwise wait for, in this thread: the default
    dataset and its drawing, every numba kernel (from numba's on-disk cache when it is
    warm), the default compiled network of the Simulate page and the training kernels'
    cache (:func:`webapp.warmup.steps`). ``run_app.py`` runs the same steps in the
    background while it serves."""
    Warmup().run()


def _background_manager(folder: str):
    """The background-callback manager over a job cache in ``folder``, and that cache."""
    cache = diskcache.Cache(os.path.join(folder, "cache"))
    return ThreadJobManager(cache), cache


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
            dcc.Store(id="store-controller", storage_type="session"),
            # the Explore page's last query string, so the nav link returns to the same view
            dcc.Store(id="app-explore-query", storage_type="session", data=""),
            html.Div(id="app-warmup"),
            errors.message_area(),
            dcc.Interval(id="app-warmup-poll", interval=1000),
            html.Div(dash.page_container, className="wl-page"),
        ],
        className="wl-app",
    )


def _register_warmup_banner(app: Dash, warmup: Warmup | None) -> None:
    @app.callback(
        Output("app-warmup", "children"),
        Output("app-warmup-poll", "disabled"),
        Input("app-warmup-poll", "n_intervals"),
    )
    def _warmup_banner(_n):
        text = warmup.banner() if warmup is not None else ""
        done = warmup is None or warmup.finished
        banner = html.Div(text, className="wl-message wl-info", style={"margin": "6px 12px"})
        return (banner if text else ""), done


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


def create_app(warmup: Warmup | None = None) -> Dash:
    """A new wormlab Dash app (Explore, Simulate, Circuit and Train pages).

    Parameters
    ----------
    warmup : webapp.warmup.Warmup, optional
        A warm-up running in the background: the pages say "compiling the simulator
        (once)…" until it is done.

    Returns
    -------
    dash.Dash
        Serve ``app.server`` (Flask) with a WSGI server, as ``run_app.py`` does. Its
        temporary folder (:func:`webapp.tempdirs.app_folder`) goes with :func:`close_app`,
        when the app is garbage-collected or at interpreter exit, whichever comes first.
    """
    folder = tempdirs.make(tempdirs.DASH_PREFIX)
    manager, cache = _background_manager(folder)
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        assets_folder=str(ASSETS),
        title="wormlab",
        update_title=None,
        background_callback_manager=manager,
        suppress_callback_exceptions=True,
        on_error=errors.on_callback_error,
    )
    errors.install(app)
    app.server.config[tempdirs.APP_FOLDER_KEY] = folder
    app.server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST_BYTES
    app.server.extensions["wormlab-close"] = weakref.finalize(app, _remove_cache, cache, folder)
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
    _register_warmup_banner(app, warmup)
    for page in PAGES:
        page.register_callbacks(app)
    return app


def close_app(app: Dash) -> None:
    """Close the app's background-callback cache and remove its temporary folder (once;
    later calls do nothing)."""
    app.server.extensions["wormlab-close"]()


def _remove_cache(cache, folder: str) -> None:
    cache.close()
    shutil.rmtree(folder, ignore_errors=True)

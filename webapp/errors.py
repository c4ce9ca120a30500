"""The app's safety net: an exception no page handled becomes a logged traceback on the
server and a visible message to the user, never an empty HTTP 500.

Pages handle the errors they expect (a bad field, an unknown neuron) next to the control
that caused them. Everything else lands here:

- :func:`on_callback_error` is the ``on_error`` handler of ``Dash(...)``: Dash calls it
  with the exception a callback raised (for background callbacks too, in the request that
  collects the result). It logs the traceback, fills the shell's message area
  (:func:`message_area`) with ``set_props`` and leaves every output of the callback
  unchanged.
- :func:`install` covers what happens outside a callback's body (a request whose shape
  Dash cannot dispatch, a return value it cannot encode): Flask logs the traceback, and a
  callback request is answered 200 with the same message as a side update instead of a
  500 the page would silently drop.

The message names the control the user acted on, the error's kind and a reference that is
also in the server's log line; a :class:`connectome.errors.WormlabError` shows its own
message (written for users). No traceback reaches the browser.
"""

import json
import logging
import uuid

import dash
from dash import html

from connectome.errors import WormlabError

__all__ = ["AREA_ID", "message_area", "user_message", "on_callback_error", "install"]

#: The id of the shell's message area (its text is ``AREA_ID + "-text"``).
AREA_ID = "app-error"
_TEXT_ID = AREA_ID + "-text"
_CLOSE_ID = AREA_ID + "-close"
_LOG = logging.getLogger(__name__)
_CALLBACK_PATH = "_dash-update-component"


def message_area():
    """The shell's message area for errors no page handled: hidden until one happens, with
    a button that hides it again."""
    return html.Div(
        [
            html.Span(id=_TEXT_ID),
            html.Button("×", id=_CLOSE_ID, title="dismiss", className="wl-error-close"),
        ],
        id=AREA_ID,
        hidden=True,
        role="alert",
        className="wl-message wl-error wl-app-error",
    )


def user_message(err: BaseException, where: str | None, reference: str) -> str:
    """What the user reads about ``err``, raised while handling ``where`` (a component id,
    or None when unknown).

    >>> user_message(ValueError("x"), "simulate-run", "ab12cd34")  # doctest: +NORMALIZE_WHITESPACE
    'simulate-run: something went wrong (an unexpected ValueError); nothing was changed.
    The server log has the details (reference ab12cd34).'
    """
    place = f"{where}: " if where else ""
    if isinstance(err, WormlabError):
        return f"{place}{err} (reference {reference})."
    return (
        f"{place}something went wrong (an unexpected {type(err).__name__}); nothing was "
        f"changed. The server log has the details (reference {reference})."
    )


def _where() -> str | None:
    try:
        trigger = dash.ctx.triggered_id
    except Exception:  # no callback context (outside a request): name no place
        return None
    if isinstance(trigger, dict):  # a pattern-matching id
        return json.dumps(trigger, sort_keys=True, separators=(",", ":"))
    return trigger


def on_callback_error(err: Exception):
    """Dash's ``on_error`` handler: log ``err`` with its traceback, show the message in the
    shell's message area, leave the callback's outputs as they were (returns None)."""
    reference = uuid.uuid4().hex[:8]
    where = _where()
    # a background callback's error carries the job's traceback in its text
    _LOG.error(
        "callback error (reference %s) while handling %s",
        reference,
        where,
        exc_info=(type(err), err, err.__traceback__),
    )
    if isinstance(err, dash.exceptions.BackgroundCallbackError):
        err = RuntimeError("background job failed")
    dash.set_props(_TEXT_ID, {"children": user_message(err, where, reference)})
    dash.set_props(AREA_ID, {"hidden": False})
    return None


def _server_error(error):
    """Flask's handler of HTTP 500 (Flask has logged the traceback): a callback request
    gets the message as a side update with status 200; other requests a short page."""
    from flask import request

    reference = uuid.uuid4().hex[:8]
    original = getattr(error, "original_exception", None) or error
    _LOG.error(
        "request error (reference %s) on %s: %s", reference, request.path, type(original).__name__
    )
    if not request.path.endswith(_CALLBACK_PATH):
        return f"wormlab: an internal error (reference {reference}); see the server log.", 500
    try:
        body = request.get_json(silent=True) or {}
        where = (body.get("changedPropIds") or [None])[0]
    except Exception:  # a body that is not a callback request: name no place
        where = None
    where = where.rsplit(".", 1)[0] if isinstance(where, str) else None
    payload = {
        "multi": True,
        "response": {},
        "sideUpdate": {
            _TEXT_ID: {"children": user_message(original, where, reference)},
            AREA_ID: {"hidden": False},
        },
    }
    return json.dumps(payload), 200, {"Content-Type": "application/json"}


def install(app: dash.Dash) -> None:
    """Attach the request-level half of the safety net and the message area's dismiss
    button to ``app`` (call once, after ``Dash(..., on_error=on_callback_error)``)."""
    app.server.register_error_handler(500, _server_error)
    app.clientside_callback(
        "function(n) { return true; }",
        dash.Output(AREA_ID, "hidden", allow_duplicate=True),
        dash.Input(_CLOSE_ID, "n_clicks"),
        prevent_initial_call=True,
    )

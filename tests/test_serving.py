"""Serving: the request-size bound of ``run_app.py`` (waitress) and of the app itself agrees
with the pages' upload check: the largest file the page accepts gets through with the
largest circuit the page keeps, a file just over it gets the page's own message, and a body
over the bound is refused before it is read."""

import base64
import json
import socket

import connectome
from connectome import io
from webapp.app import MAX_REQUEST_BYTES, close_app, create_app
from webapp.uploads import MAX_BYTES

UPLOAD = "circuit-upload.contents"


def data_url(raw: bytes) -> str:
    return "data:application/json;base64," + base64.b64encode(raw).decode()


def padded(text: str, size: int) -> bytes:
    """``text`` (JSON) padded with trailing spaces to ``size`` bytes: still the same JSON."""
    raw = text.encode()
    assert len(raw) <= size
    return raw + b" " * (size - len(raw))


def largest_state():
    """The Circuit page's state carrying a wiring as large as an accepted file."""
    whole = connectome.load("cook2019")
    wiring = io.to_dict(connectome.Circuit.from_neurons(whole, list(whole.neurons.index)))
    state = {"start": {"kind": "upload", "label": "all of Cook 2019", "wiring": wiring},
             "ops": [], "note": ""}  # fmt: skip
    state["note"] = " " * (MAX_BYTES - len(json.dumps(state)))
    assert len(json.dumps(state)) == MAX_BYTES
    return state


def upload(server, raw: bytes, state):
    status, out = server.call(
        UPLOAD,
        {UPLOAD: data_url(raw), "circuit-upload.filename": "big.json", "circuit-state.data": state},
        timeout=240,
    )
    assert status == 200, str(out)[:300]
    return json.dumps(out["response"]["circuit-upload-msg"]["children"])


def test_the_largest_upload_gets_through_and_one_byte_more_gets_the_pages_message(app_server):
    tw = io.to_json(connectome.presets.tap_withdrawal(connectome.load("cook2019")))
    state = largest_state()
    message = upload(app_server, padded(tw, MAX_BYTES), state)
    assert "Loaded big.json" in message, message
    message = upload(app_server, padded(tw, MAX_BYTES + 1), state)
    assert "file too large" in message and f"{MAX_BYTES:,}" in message, message


def test_a_body_over_the_bound_is_refused_unread(app_server):
    """A client announcing 200 MB gets 413 after sending only its headers."""
    with socket.create_connection(("127.0.0.1", app_server.port), timeout=60) as s:
        s.sendall(
            b"POST /_dash-update-component HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 200000000\r\n\r\n{"
        )
        reply = s.recv(4096).decode(errors="replace")
    assert reply.startswith("HTTP/1.1 413"), reply
    assert "wormlab" in app_server.get("/")  # and it goes on serving


def test_the_app_itself_refuses_bodies_over_the_bound():
    """Behind any WSGI server (the browser tests' werkzeug one too)."""
    app = create_app()
    try:
        client = app.server.test_client()
        over = client.post(
            "/_dash-update-component",
            data=b" " * (MAX_REQUEST_BYTES + 1),
            content_type="application/json",
        )
        assert over.status_code == 413
    finally:
        close_app(app)

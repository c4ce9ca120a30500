"""Start-up: the README's app command, what it prints, and the kernel warm-up it runs in the
background while it already serves."""

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

import run_app
import sim
from sim import envs, kernels
from tests.appserver import ROOT, AppServer
from webapp.warmup import WARMUP_NICENESS, Step, Warmup

BANNER = "app-warmup-poll.n_intervals"  # the shell's banner callback


def test_warmup_compiles_every_kernel_family():
    sim.warmup()
    for kernel in (kernels.run_chunks, kernels.ltc_step, envs.env_step, envs.env_observe):
        assert kernel.signatures, f"{kernel.__name__} was not compiled by sim.warmup()"


def _thread_niceness():
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(sys.platform != "linux", reason="a thread's own niceness is Linux's")
def test_only_the_background_warmup_runs_at_a_lower_priority():
    """The warm-up's own thread yields to requests; a caller that runs the steps itself
    (the browser tests' server, a script) keeps its priority for what it does next: a
    thread cannot raise its priority again, and the whole suite once ran at nice 10 behind
    other work after its first browser test."""
    seen = []
    step = Step("probe", "", "notes its thread's niceness", lambda: seen.append(_thread_niceness()))
    before = _thread_niceness()
    Warmup([step], echo=None).run()
    assert seen == [before] and _thread_niceness() == before
    warmup = Warmup([step], echo=None)
    warmup.start().join(timeout=60)
    assert warmup.finished
    assert seen[1] == min(19, before + WARMUP_NICENESS)
    assert _thread_niceness() == before


def test_app_binds_loopback_without_debug_by_default():
    args = run_app.build_parser().parse_args([])
    assert args.host == "127.0.0.1" and args.port == 8050 and args.debug is False


def test_run_app_serves_the_explore_page():
    """The README's command: the page is served, by waitress, from a process that said at
    once what it is doing; once the warm-up (from numba's warm on-disk cache here) is done
    it says so, and the page's banner goes and stops polling."""
    server = AppServer()
    try:
        server.wait_for_line("wormlab: starting", timeout=60)
        server.wait_for_line("wormlab: open http://127.0.0.1:", timeout=240)
        server.wait_for_page("/")
        body = server.get("/")
        assert "wormlab" in body
        with urllib.request.urlopen(server.url + "/", timeout=30) as r:
            assert r.headers["Server"] == "wormlab"  # waitress (ident), not werkzeug
        server.wait_for_line("wormlab: ready", timeout=600)
        status, out = server.call(BANNER, {BANNER: 2})
        assert status == 200 and out["response"]["app-warmup"]["children"] == "", out
        assert out["response"]["app-warmup-poll"]["disabled"] is True  # polling stops
    finally:
        server.stop()
    first = server.lines[0][1]
    assert first.startswith("wormlab: starting"), server.output
    assert "loaded from the cache" in server.output, server.output
    assert server.has_line("wormlab: stopped"), server.output


def test_startup_prints_first_and_serves_while_compiling(tmp_path):
    """With a cold numba cache, the server prints before its imports, says what it compiles
    (once) before compiling it, and answers the page and a callback while the simulator
    compiles; the page says "Compiling the simulator (once)". (The end of the warm-up is
    checked on a warm cache above: waiting here for every kernel to compile from nothing
    would cost minutes and show nothing more.)"""
    server = AppServer(env={"NUMBA_CACHE_DIR": str(tmp_path / "numba")})
    try:
        server.wait_for_line("wormlab: starting", timeout=60)
        server.wait_for_page("/")
        body = server.get("/")
        assert "wormlab" in body
        banner, deadline = "", time.monotonic() + 600
        while "Compiling the simulator (once)" not in banner:
            assert not server.has_line("wormlab: ready"), f"no banner seen:\n{server.output}"
            assert time.monotonic() < deadline, server.output
            status, out = server.call(BANNER, {BANNER: 1})
            assert status == 200, out
            assert out["response"]["app-warmup-poll"]["disabled"] is False  # still polling
            banner = json.dumps(out["response"]["app-warmup"]["children"])
            time.sleep(0.5)  # the page polls once a second
        server.wait_for_line("simulator's numba kernels", timeout=60)
    finally:
        server.stop()
    out = server.output
    # what is compiled is said before it is compiled, the page before the compiler
    order = [
        out.index("wormlab: starting"),
        out.index("wormlab: open"),
        out.index("happens once"),
        out.index("simulator's numba kernels"),
    ]
    assert order == sorted(order), out


def test_a_port_in_use_is_one_line_and_exit_code_1():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "run_app.py", "--port", str(port)],
            cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"cannot serve on 127.0.0.1:{port}" in done.stdout and "--port" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stdout.rstrip().endswith("its temporary folders are removed")

"""Start-up: the README's app command and the kernel warm-up it relies on."""

import socket
import subprocess
import sys
import time
import urllib.request

import run_app
import sim
from sim import envs, kernels


def test_warmup_compiles_every_kernel_family():
    sim.warmup()
    for kernel in (kernels.run_chunks, kernels.ltc_step, envs.env_step, envs.env_observe):
        assert kernel.signatures, f"{kernel.__name__} was not compiled by sim.warmup()"


def test_app_binds_loopback_without_debug_by_default():
    args = run_app.build_parser().parse_args([])
    assert args.host == "127.0.0.1" and args.port == 8050 and args.debug is False


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_run_app_serves_the_explore_page():
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "run_app.py", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 240
        body = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                    body = r.read().decode()
                break
            except OSError:
                time.sleep(0.5)
        assert proc.poll() is None, proc.stdout.read()
        assert body is not None, "run_app.py did not answer within 240 s"
        assert "wormlab" in body
    finally:
        proc.terminate()
        proc.wait(timeout=20)

"""A real ``run_app.py`` server process for tests and benchmarks: start it, read its output
as it comes, ask it for pages and callbacks, stop it with a signal."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

__all__ = ["ROOT", "AppServer", "free_port"]

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """``python run_app.py --port N`` in the repository root, its output collected by a
    thread as ``(seconds since start, line)``.

    Parameters
    ----------
    env : dict, optional
        Extra environment variables (e.g. ``NUMBA_CACHE_DIR``).
    """

    def __init__(self, env=None, args=()):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
        full_env["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
        self.lines = []
        self._changed = threading.Condition()
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [sys.executable, "run_app.py", "--port", str(self.port), *args],
            cwd=ROOT,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append((time.monotonic() - self.started, line.rstrip("\n")))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        with self._changed:
            return "\n".join(line for _, line in self.lines)

    def wait_for_line(self, text: str, timeout: float) -> float:
        """Seconds from start to the first output line containing ``text``; fails with the
        output when it does not come within ``timeout`` s or the server exits."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for t, line in self.lines:
                    if text in line:
                        return t
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f"no line with {text!r} in the output:\n{self.output}")
                self._changed.wait(min(left, 1.0))

    def has_line(self, text: str) -> bool:
        with self._changed:
            return any(text in line for _, line in self.lines)

    def get(self, path: str = "/", timeout: float = 30) -> str:
        with urllib.request.urlopen(self.url + path, timeout=timeout) as r:
            return r.read().decode()

    def wait_for_page(self, path: str = "/", timeout: float = 240) -> float:
        """Seconds from start until ``path`` answers 200 (polling while it refuses)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"the server exited:\n{self.output}"
            try:
                self.get(path, timeout=10)
                return time.monotonic() - self.started
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)  # polling for a server that is not listening yet
        raise AssertionError(f"{path} did not answer within {timeout} s:\n{self.output}")

    def post(self, path: str, body: bytes, timeout: float = 60):
        """(status, body) of a POST with a JSON content type."""
        request = urllib.request.Request(
            self.url + path, data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, err.read().decode(errors="replace")

    def spec_of(self, trigger: str) -> dict:
        """The ``/_dash-dependencies`` entry of the one callback triggered by ``trigger``
        (``"id.prop"``); its output string carries the ``@hash`` of duplicate outputs."""
        found = [d for d in json.loads(self.get("/_dash-dependencies"))
                 if trigger in (f"{i['id']}.{i['property']}" for i in d["inputs"])]  # fmt: skip
        assert len(found) == 1, f"{len(found)} callbacks triggered by {trigger}: {found}"
        return found[0]

    def call(self, trigger: str, values=None, timeout: float = 60, body=None):
        """Post the callback triggered by ``trigger`` as the browser does, with the
        ``values`` given as ``{"id.prop": value}`` (others None; pattern-matching ones
        ``[]``: no such components). Returns (status, decoded JSON or text). ``body``
        replaces the JSON payload's bytes (to send something else to the same URL)."""
        spec, values = self.spec_of(trigger), values or {}
        output = spec["output"]
        names = output.strip(".").split("...") if output.startswith("..") else [output]
        outs = [dict(zip(("id", "property"), name.split(".", 1), strict=True)) for name in names]

        def item(dep):
            key = f"{dep['id']}.{dep['property']}"
            if dep["id"].startswith("{"):  # pattern-matching: a list of matches
                return values.get(key, [])
            return {"id": dep["id"], "property": dep["property"], "value": values.get(key)}

        payload = {
            "output": output,
            "outputs": outs if output.startswith("..") else outs[0],
            "inputs": [item(d) for d in spec["inputs"]],
            "changedPropIds": [trigger],
            "state": [item(d) for d in spec["state"]],
        }
        data = json.dumps(payload).encode() if body is None else body(payload)
        status, text = self.post("/_dash-update-component", data, timeout)
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def signal(self, sig=signal.SIGTERM, timeout: float = 60) -> int:
        """Send ``sig`` and wait for the exit; returns the exit code."""
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=10)
        return code

    def stop(self):
        if self.proc.poll() is None:
            self.signal(signal.SIGTERM)

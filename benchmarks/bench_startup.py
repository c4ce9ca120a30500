"""Time to the first page of ``python run_app.py``, with a cold and a warm numba cache.

Run: ``python benchmarks/bench_startup.py [--runs 1] [--no-browser]`` (about 2 minutes on
a quiet 2-core machine). Each run starts the server twice with ``NUMBA_CACHE_DIR`` pointing
at a fresh, empty folder: the first start compiles every kernel (cold, as on a fresh
clone), the second loads them from that folder (warm, every later start). Python's own
bytecode caches are warm in both, as after ``pip install``.

Printed per start, in seconds from launching the process:

- ``print``: its first line of output;
- ``http``: ``/`` answers;
- ``page``: the Explore page's graph is drawn in chromium (the first page a user sees);
- ``ready``: every kernel is compiled (the warm-up is done);

and the peer, what the first page cost when run_app.py compiled everything before it served:
``ready + http`` (compiling first, then starting to serve), with the ratio page / peer.
The load average is printed before and after: the machine is shared.
"""

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.appserver import AppServer  # noqa: E402


def _loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def one_start(cache_dir: str, browser) -> dict:
    server = AppServer(env={"NUMBA_CACHE_DIR": cache_dir})
    try:
        t_print = server.wait_for_line("wormlab:", timeout=600)
        t_http = server.wait_for_page("/", timeout=600)
        t_page = float("nan")
        if browser is not None:
            from tests.browser.test_ui_explore import READY

            page = browser.new_page()
            page.goto(server.url + "/")
            page.wait_for_function(READY, timeout=600_000)
            t_page = time.monotonic() - server.started
            page.close()
        t_ready = server.wait_for_line("wormlab: ready", timeout=1200)
    finally:
        server.stop()
    return {"print": t_print, "http": t_http, "page": t_page, "ready": t_ready}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="cold+warm pairs (default 1)")
    parser.add_argument("--no-browser", action="store_true", help="skip chromium (page = nan)")
    args = parser.parse_args(argv)
    print(f"load average before: {_loadavg()} ({os.cpu_count()} cores)")
    rows = []
    with _browser(not args.no_browser) as browser:
        for run in range(args.runs):
            cache = tempfile.mkdtemp(prefix="wormlab-bench-numba-")
            try:
                for kind in ("cold", "warm"):
                    row = {"run": run, "start": kind, **one_start(cache, browser)}
                    row["peer"] = row["ready"] + row["http"]
                    rows.append(row)
                    print(
                        f"run {run} {kind}: print {row['print']:5.1f} s  http {row['http']:5.1f}"
                        f" s  page {row['page']:5.1f} s  ready {row['ready']:5.1f} s  |  peer "
                        f"(compile, then serve) {row['peer']:5.1f} s  page/peer "
                        f"{row['page'] / row['peer']:.2f}  [load {_loadavg()}]",
                        flush=True,
                    )
            finally:
                shutil.rmtree(cache, ignore_errors=True)
    print(f"load average after: {_loadavg()}")
    return rows


@contextlib.contextmanager
def _browser(wanted: bool):
    """Chromium (Debian's, as in tests/browser) for the page timings, or None."""
    if not wanted:
        yield None
        return
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROME_ARGS, CHROMIUM

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS)
        try:
            yield browser
        finally:
            browser.close()


if __name__ == "__main__":
    main()

"""Start the wormlab web app: ``python run_app.py [--host 127.0.0.1] [--port 8050]``.

The app is served by waitress, a production WSGI server (pure Python, several threads), on
127.0.0.1 by default, with Dash's debug mode off and request bodies limited to
:data:`webapp.app.MAX_REQUEST_BYTES`. The page is served within seconds; the numba kernels
compile in the background meanwhile (:mod:`webapp.warmup`), and the pages say so.

The server's temporary folders (:mod:`webapp.tempdirs`) are removed when it stops (Ctrl-C,
SIGTERM or a normal exit), after its background jobs are stopped; folders left by a server
that was killed (SIGKILL) are removed at the next start, and so are old training runs
(:func:`webapp.runs.prune`).
"""

import argparse
import signal
import sys
import time

__all__ = ["build_parser", "main"]


def _say(text: str) -> None:
    print(text, flush=True)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Start the wormlab web app.")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    parser.add_argument("--port", type=int, default=8050, help="port (default 8050; 0: any free)")
    parser.add_argument(
        "--threads", type=int, default=8, help="request threads of the server (default 8)"
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="Dash's development server with debug mode (never on a shared machine)",
    )
    return parser


def _stop_children(timeout: float = 5.0) -> None:
    """Stop this process's descendants: Dash background jobs, their training workers and
    the warm-up's training run (they would write into folders about to be removed)."""
    import psutil

    children = psutil.Process().children(recursive=True)
    for child in children:
        try:
            child.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(children, timeout=timeout)
    for child in alive:
        try:
            child.kill()
        except psutil.NoSuchProcess:
            pass


def _on_sigterm(_signum, _frame):
    raise SystemExit(0)  # unwinds the server loop like Ctrl-C, so the clean-up below runs


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not 1 <= args.threads <= 64:
        parser.error(f"--threads must be from 1 to 64, got {args.threads}")
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be from 0 to 65535, got {args.port}")
    tic = time.perf_counter()
    _say("wormlab: starting the web app (loading Python packages takes a few seconds) ...")
    signal.signal(signal.SIGTERM, _on_sigterm)
    from webapp import tempdirs

    app = server = None
    try:
        stale = tempdirs.remove_stale()
        if stale:
            _say(f"wormlab: removed {len(stale)} temporary folder(s) left by a killed server")
        from webapp import runs

        try:
            old = runs.prune()
        except OSError as err:  # an unreadable runs folder: the runs are kept
            old = []
            _say(f"wormlab: the training runs' folder cannot be read ({err})")
        if old:
            _say(
                f"wormlab: removed {len(old)} old training run(s) from {runs.runs_root()} "
                f"(kept: the newest {runs.KEEP_RUNS}, none older than "
                f"{runs.MAX_RUN_AGE_DAYS} days)"
            )
        from webapp.app import MAX_REQUEST_BYTES, create_app
        from webapp.warmup import Warmup

        warmup = Warmup(echo=_say)
        app = create_app(warmup)
        if args.debug:
            warmup.start()
            app.run(host=args.host, port=args.port, debug=True)
            return 0
        from waitress import create_server

        try:
            server = create_server(
                app.server,
                host=args.host,
                port=args.port,
                threads=args.threads,
                max_request_body_size=MAX_REQUEST_BYTES,
                ident="wormlab",
            )
        except OSError as err:
            _say(
                f"wormlab: cannot serve on {args.host}:{args.port} ({err.strerror or err}); "
                "is another server using that port? Choose another with --port."
            )
            return 1
        _say(
            f"wormlab: open http://{server.effective_host}:{server.effective_port}/  (waitress, "
            f"{args.threads} threads, requests up to {MAX_REQUEST_BYTES / 1e6:.1f} MB; up in "
            f"{time.perf_counter() - tic:.1f} s; Ctrl-C stops)"
        )
        warmup.start()
        server.run()  # returns on Ctrl-C or SIGTERM
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one clean-up, not two
        if server is not None:
            server.close()
        _stop_children()
        if app is not None:
            from webapp.app import close_app

            close_app(app)
        tempdirs.remove_owned()
        _say("wormlab: stopped; its temporary folders are removed")


if __name__ == "__main__":
    sys.exit(main())

"""Start the wormlab web app: ``python run_app.py [--host 127.0.0.1] [--port 8050] [--debug]``."""

import argparse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Start the wormlab web app.")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)"
    )
    parser.add_argument("--port", type=int, default=8050, help="port (default 8050)")
    parser.add_argument("--debug", action="store_true", help="Dash debug mode (off by default)")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    from webapp.app import create_app, warm_up

    warm_up()
    app = create_app()
    print(f"wormlab: open http://{args.host}:{args.port}", flush=True)
    app.run(host=args.host, port=args.port, debug=args.debug)


if __name__ == "__main__":
    main()

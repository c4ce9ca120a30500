"""Command line of the simulator: ``python -m sim run ...``, ``python -m sim warmup``.

Examples
--------
::

    python -m sim run --dataset varshney2011 --stim PLM:step:amp=2000 --duration 10 \\
        --record-every 10 --out plm.parquet
    python -m sim run --circuit tw.json --model ltc --stim PLM:pulse:amp=1,period=20,width=5 \\
        --ablate AVD --duration 200 --out tw.csv

The training subcommands (``train``, ``evaluate``) come from :mod:`sim.train`.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from connectome.errors import SimulationError
from sim import train
from sim.body import add_cli_arguments, run_cli
from sim.train import _cli_errors

__all__ = ["main", "build_parser", "ProgressBar"]


class ProgressBar:
    """A one-line text progress bar on a stream, shown only once a run has taken ``delay`` s.

    Call it with the fraction done (0..1), as :func:`sim.simulate.simulate`'s ``progress``.
    """

    def __init__(self, stream=None, delay=2.0, width=30):
        self.stream = sys.stderr if stream is None else stream
        self.delay = delay
        self.width = width
        self.start = time.perf_counter()
        self.shown = False

    def __call__(self, fraction):
        elapsed = time.perf_counter() - self.start
        if elapsed < self.delay and fraction < 1.0:
            return
        if not self.shown and fraction >= 1.0:
            return  # finished before the delay: never shown
        self.shown = True
        filled = int(round(self.width * fraction))
        eta = elapsed * (1.0 - fraction) / max(fraction, 1e-9)
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (self.width - filled)}] {100 * fraction:5.1f}%  "
            f"{elapsed:6.1f} s, {eta:6.1f} s left"
        )
        if fraction >= 1.0:
            self.stream.write("\n")
        self.stream.flush()


def _names(values):
    out = []
    for v in values or ():
        out.extend(x.strip() for x in v.split(",") if x.strip())
    return out


def _param_value(text):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _source(args):
    import connectome

    if args.circuit:
        from connectome import io

        with open(args.circuit, encoding="utf-8") as f:
            return io.from_json(f.read())
    return connectome.load(args.dataset)


def _cmd_run(args):
    import numba

    from sim.compile import compile
    from sim.models import default_params
    from sim.simulate import simulate

    if args.threads:
        numba.set_num_threads(args.threads)
    overrides = {}
    for item in args.param or ():
        key, eq, value = item.partition("=")
        if not eq:
            raise SimulationError(f"cannot read --param {item!r}; use key=value")
        overrides[key.strip()] = _param_value(value.strip())
    params = default_params(args.model, **overrides)
    if args.out and not args.out.endswith((".csv", ".parquet")):
        raise SimulationError(f"--out {args.out!r}: write a .csv or .parquet file")
    source = _source(args)
    cc = compile(source, args.model, params, ablate=_names(args.ablate))
    bar = None if args.quiet else ProgressBar()
    tic = time.perf_counter()
    result = simulate(
        cc,
        list(args.stim or ()),
        duration=args.duration,
        dt=args.dt,
        record_every=args.record_every,
        progress=bar,
    )
    wall = time.perf_counter() - tic
    neurons = _names(args.neurons) or None
    if args.out:
        df = result.to_dataframe(neurons)
        if args.out.endswith(".parquet"):
            df.columns = [str(c) for c in df.columns]
            df.to_parquet(args.out)
        else:
            df.to_csv(args.out)
    print(_summary(result, cc, wall, args.out))
    if args.body:
        print(run_cli(result, args))
    return 0


def _summary(result, cc, wall, out):
    from sim.analysis import dominant_period

    steps = int(round(result.t[-1] / result.dt))
    rate = steps * (cc.n_synapses + cc.n_gap) / max(wall, 1e-9)
    unit = "mV" if result.model == "graded" else ""
    lines = [
        f"{result.model} model on {cc.source_name}: {cc.n} neurons, {cc.n_synapses} chemical "
        f"synapses, {cc.n_gap // 2} gap-junction pairs"
        + (f" (ablated {', '.join(cc.ablated)})" if cc.ablated else ""),
        f"stimuli: {', '.join(repr(s) for s in result.stimulus) or 'none'}",
        f"{steps} steps of {result.dt:g} in {wall:.2f} s ({rate:.3g} synapse updates/s); "
        f"{len(result.t)} records",
    ]
    v = result.V.astype(np.float64)
    swing = np.ptp(v, axis=0)
    lines.append(f"V range {v.min():.4g} .. {v.max():.4g} {unit}; most active neurons:")
    half = result.t >= result.t[-1] / 2
    for i in np.argsort(swing)[::-1][:5]:
        est = (
            dominant_period(v[half, i], result.dt * result.record_every) if half.sum() > 8 else None
        )
        period = f", period {est.period:.4g}" if est is not None and est.strength > 0.5 else ""
        lines.append(f"  {result.names[i]:8s} peak-to-peak {swing[i]:.4g} {unit}{period}")
    if out:
        lines.append(f"written to {out}")
    return "\n".join(lines)


def _cmd_warmup(args):
    from sim import warmup

    tic = time.perf_counter()
    warmup()
    print(f"kernels ready in {time.perf_counter() - tic:.2f} s")
    return 0


def build_parser():
    """The ``python -m sim`` argument parser (each subcommand sets ``func``)."""
    parser = argparse.ArgumentParser(prog="python -m sim", description="wormlab simulator")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run",
        help="simulate a dataset or circuit under stimuli",
        description="Simulate a connectome or a circuit file; write V as CSV or Parquet "
        "(rows = recorded times, columns = neurons) and print a summary.",
    )
    src = run.add_mutually_exclusive_group()
    src.add_argument("--dataset", default="cook2019", help="dataset key (default: %(default)s)")
    src.add_argument("--circuit", help="wiring JSON file (python -m connectome export)")
    run.add_argument("--model", choices=("graded", "ltc"), default="graded")
    run.add_argument(
        "--stim",
        action="append",
        metavar="SPEC",
        help="TARGET:kind:key=value,... e.g. PLM:step:amp=2000,start=0.5 (repeatable; kinds "
        "step, pulse, sine, ramp, noise; currents in pA for graded)",
    )
    run.add_argument("--ablate", action="append", metavar="NAMES", help="neurons or classes")
    run.add_argument("--param", action="append", metavar="KEY=VALUE", help="model parameter")
    run.add_argument("--duration", type=float, required=True, help="model time (s for graded)")
    run.add_argument("--dt", type=float, default=None, help="step (default: the model's)")
    run.add_argument("--record-every", type=int, default=1, help="keep every k-th step")
    run.add_argument("--neurons", action="append", metavar="NAMES", help="columns to write")
    run.add_argument("--out", help="output file, .csv or .parquet")
    run.add_argument("--threads", type=int, default=None, help="numba threads")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    add_cli_arguments(run)
    run.set_defaults(func=_cli_errors(_cmd_run))
    warm = sub.add_parser("warmup", help="compile every kernel (numba cache)")
    warm.set_defaults(func=_cli_errors(_cmd_warmup))
    train.add_cli(sub)
    return parser


def main(argv=None):
    """Run the command line; returns the exit code (0 ok, 2 error)."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

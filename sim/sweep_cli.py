"""Command line of sweeps and screens: ``python -m sim sweep ...``, ``python -m sim screen ...``.

Examples
--------
::

    python -m sim sweep --dataset varshney2011 --stim PLM:step:amp=2000 \\
        --axis stim.0.amp=0:4000:21 --neurons VA,VB,DA,DB,VD,DD,AS --duration 10 \\
        --out amp.parquet
    python -m sim screen --dataset varshney2011 --stim PLM:step:amp=2000 \\
        --neurons VA,VB,DA,DB,VD,DD,AS --duration 10 --start 4 --workers 2 --out screen.parquet
    python -m sim sweep --spec sweep.toml --scheduler tcp://10.0.0.5:8786 --out big.parquet

Axis values: ``NAME=v1,v2,...`` or ``NAME=LO:HI:N`` (N evenly spaced values); ablation sets
are written ``A+B`` and ``none`` for nothing, e.g. ``--axis ablate=none,PVC,AVA+AVB``. A spec
file (JSON or TOML) holds :func:`sim.sweeps.sweep_spec`'s arguments (``dataset`` or
``circuit`` for the source, ``grid`` or ``points``); flags given as well override it.
"""

from __future__ import annotations

import json
import tomllib

import numpy as np
import pandas as pd

from connectome.errors import SimulationError
from connectome.neurons import as_name_list

__all__ = ["add_cli", "parse_axis", "parse_value", "read_spec_file"]


def parse_value(text):
    """A command-line value as int, else float, else the text itself.

    >>> parse_value("3"), parse_value("2.5"), parse_value("log1p")
    (3, 2.5, 'log1p')
    """
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_axis(text):
    """``(name, values)`` from ``NAME=v1,v2`` or ``NAME=LO:HI:N``.

    >>> parse_axis("stim.0.amp=0:1000:3")
    ('stim.0.amp', [0.0, 500.0, 1000.0])
    >>> parse_axis("ablate=none,PVC,AVA+AVB")
    ('ablate', ['', 'PVC', 'AVA+AVB'])
    """
    name, eq, values = str(text).partition("=")
    name = name.strip()
    if not eq or not name or not values.strip():
        raise SimulationError(f"cannot read --axis {text!r}; use NAME=v1,v2,... or NAME=LO:HI:N")
    if name == "ablate":
        return name, ["" if v.strip().lower() == "none" else v.strip() for v in values.split(",")]
    parts = values.split(":")
    if len(parts) == 3:
        try:
            lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
        except ValueError:
            raise SimulationError(
                f"--axis {text!r}: LO:HI:N needs two numbers and a count"
            ) from None
        if n < 1:
            raise SimulationError(f"--axis {text!r}: N = {n} must be >= 1")
        return name, [float(x) for x in np.linspace(lo, hi, n)]
    return name, [parse_value(v.strip()) for v in values.split(",") if v.strip()]


def read_spec_file(path):
    """The arguments of :func:`sim.sweeps.sweep_spec` from a JSON or TOML file."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        if str(path).endswith(".toml"):
            spec = tomllib.loads(data.decode("utf-8"))
        else:
            spec = json.loads(data)
    except (ValueError, UnicodeDecodeError) as err:
        raise SimulationError(f"cannot read the sweep spec {path}: {err}") from err
    if not isinstance(spec, dict):
        raise SimulationError(f"the sweep spec {path} must hold a table of settings")
    return spec


_SPEC_KEYS = {
    "dataset", "circuit", "model", "stimulus", "params", "ablate", "duration", "dt",
    "record_every", "grid", "points", "metrics", "neurons", "start", "onset", "lanes",
    "chunk_size",
}  # fmt: skip


def _options(args):
    """sweep_spec keyword arguments from a spec file and the flags."""
    spec = read_spec_file(args.spec) if args.spec else {}
    unknown = sorted(set(spec) - _SPEC_KEYS)
    if unknown:
        raise SimulationError(
            f"unknown setting(s) {unknown} in {args.spec}; known: {sorted(_SPEC_KEYS)}"
        )
    if args.dataset is not None:
        spec.pop("circuit", None)
        spec["dataset"] = args.dataset
    if args.circuit is not None:
        spec.pop("dataset", None)
        spec["circuit"] = args.circuit
    flags = {
        "model": args.model,
        "duration": args.duration,
        "dt": args.dt,
        "record_every": args.record_every,
        "start": args.start,
        "onset": args.onset,
        "lanes": args.lanes,
        "chunk_size": args.chunk_size,
    }
    spec.update({k: v for k, v in flags.items() if v is not None})
    if args.stim:
        spec["stimulus"] = list(args.stim)
    if args.param:
        params = dict(spec.get("params") or {})
        for item in args.param:
            key, eq, value = item.partition("=")
            if not eq:
                raise SimulationError(f"cannot read --param {item!r}; use key=value")
            params[key.strip()] = parse_value(value.strip())
        spec["params"] = params
    if args.ablate:
        spec["ablate"] = as_name_list(args.ablate)
    if args.metric:
        spec["metrics"] = as_name_list(args.metric)
    if args.neurons:
        spec["neurons"] = as_name_list(args.neurons)
    circuit = spec.pop("circuit", None)
    if circuit is not None:
        with open(circuit, encoding="utf-8") as f:
            spec["source"] = f.read()
    else:
        spec["source"] = spec.pop("dataset", "cook2019")
    return spec


def _write(table, args):
    if args.csv:
        table.to_csv(args.csv, index=False)


def _show(table, columns, limit):
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        shown = table[[c for c in columns if c in table]]
        print(shown.head(limit).to_string(index=False))
        if len(shown) > limit:
            print(f"... {len(shown) - limit} more rows")


def _cmd_sweep(args, progress_bar):
    from sim.sweeps import sweep

    options = _options(args)
    if args.axis:
        if "points" in options:
            raise SimulationError("the spec file lists points; --axis adds a grid: use one")
        options["grid"] = dict(parse_axis(a) for a in args.axis)
    table = sweep(
        workers=args.workers,
        scheduler=args.scheduler,
        out=args.out,
        progress=None if args.quiet else progress_bar(),
        **options,
    )
    _write(table, args)
    failed = int((table["error"] != "").sum())
    _show(table, list(table.columns), args.top)
    print(f"{len(table)} points, {failed} failed" + (f"; rows in {args.out}" if args.out else ""))
    return 0


def _cmd_screen(args, progress_bar):
    from sim.screens import screen

    options = _options(args)
    table = screen(
        candidates=as_name_list(args.candidates or ()) or None,
        level=args.level,
        pairs=as_name_list(args.pairs or ()) or None,
        workers=args.workers,
        scheduler=args.scheduler,
        out=args.out,
        progress=None if args.quiet else progress_bar(),
        **options,
    )
    _write(table, args)
    base = table.attrs["baseline"]
    print(
        f"baseline: period {base['period']:.4g}, strength {base['strength']:.3f}, "
        f"amplitude {base['amplitude']:.4g}"
    )
    _show(
        table,
        ["ablate", "verdict", "period", "rel_period", "strength", "amplitude", "d_amplitude",
         "error"],
        args.top,
    )  # fmt: skip
    counts = table["verdict"].value_counts()
    print(", ".join(f"{v or 'no change'}: {n}" for v, n in counts.items()))
    return 0


def _common(p):
    p.add_argument("--spec", help="JSON or TOML file of sweep settings")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--dataset", help="dataset key (default cook2019)")
    src.add_argument("--circuit", help="wiring JSON (python -m connectome circuit ... -o FILE)")
    p.add_argument("--model", choices=("graded", "ltc"))
    p.add_argument("--stim", action="append", metavar="SPEC", help="base stimulus (repeatable)")
    p.add_argument("--param", action="append", metavar="KEY=VALUE", help="base model parameter")
    p.add_argument("--ablate", action="append", metavar="NAMES", help="base ablation")
    p.add_argument(
        "--metric",
        action="append",
        metavar="NAME",
        help="period, strength, amplitude, amplitude_pc1, modes2, peak:N, latency:N, mean:N, ptp:N",
    )
    p.add_argument(
        "--neurons",
        action="append",
        metavar="NAMES",
        help="neurons or classes of the oscillation metrics",
    )
    p.add_argument("--duration", type=float, help="model time per point (s for graded)")
    p.add_argument("--dt", type=float)
    p.add_argument("--record-every", type=int)
    p.add_argument("--start", type=float, help="analysis window start (default: a third)")
    p.add_argument("--onset", type=float, help="input onset for peak/latency")
    p.add_argument("--lanes", type=int, help="items per kernel thread (default 16)")
    p.add_argument("--chunk-size", type=int, help="points per task (default 32)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, help="run on a local dask cluster of N workers")
    where.add_argument("--scheduler", help="run on a dask scheduler, e.g. tcp://host:8786")
    p.add_argument("--out", help="Parquet directory; rerunning with it resumes the sweep")
    p.add_argument("--csv", help="also write the table as CSV")
    p.add_argument("--top", type=int, default=30, help="rows to print (default 30)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def add_cli(subparsers, progress_bar, errors):
    """Register ``sweep`` and ``screen`` on ``python -m sim``'s subparsers.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
    progress_bar : callable
        Makes a progress callback (called with the fraction done), e.g. sim's ProgressBar.
    errors : callable
        Wraps a command so that a WormlabError becomes a message and exit code 2.
    """
    p = subparsers.add_parser(
        "sweep",
        help="run a grid of points and tabulate metrics",
        description="Sweep stimulus amplitudes, model parameters, ablation sets or datasets "
        "over one base run; one row of metrics per point (see sim.sweeps).",
    )
    _common(p)
    p.add_argument(
        "--axis",
        action="append",
        metavar="NAME=VALUES",
        help="NAME=v1,v2 or NAME=LO:HI:N (repeatable: the cartesian product)",
    )
    p.set_defaults(func=errors(lambda args: _cmd_sweep(args, progress_bar)))
    q = subparsers.add_parser(
        "screen",
        help="ablate each neuron (or pair) and rank the change in the oscillation",
        description="Lesion screen: every single ablation (or every pair within a set) "
        "against the baseline, ranked by the change in period, strength and amplitude.",
    )
    _common(q)
    q.add_argument(
        "--candidates",
        action="append",
        metavar="NAMES",
        help="what to ablate one at a time (default: every neuron or class)",
    )
    q.add_argument("--level", choices=("neuron", "class"), default="neuron")
    q.add_argument(
        "--pairs", action="append", metavar="NAMES", help="ablate every pair within these names"
    )
    q.set_defaults(func=errors(lambda args: _cmd_screen(args, progress_bar)))
    return subparsers

"""The simulator's command line: ``python -m sim run | warmup | train | evaluate | sweep |
screen | compare``.

Examples
--------
::

    python -m sim run --dataset varshney2011 --stim PLM:step:amp=2000 --duration 10 \\
        --record-every 10 --out plm.parquet
    python -m sim run --circuit tw.json --model ltc --stim PLM:pulse:amp=1,period=20,width=5 \\
        --ablate AVD --duration 200 --out tw.csv
    python -m sim train --preset tap_withdrawal --env CartPole-v1 --seed 0 -o cartpole.json
    python -m sim evaluate cartpole.json --episodes 100
    python -m sim compare --preset tap_withdrawal --env CartPole-v1 --seeds 5 -o cmp/

``sweep`` and ``screen`` come from :mod:`sim.sweep_cli`; ``train --seeds/--envs`` runs
several trainings as tasks (:mod:`sim.train_runs`).

Every subcommand turns a :class:`~connectome.errors.WormlabError` or an ``OSError`` into a
one-line message and exit code 2 (:func:`cli_errors`); a bad argument is one line and exit code
2 too (the parser's usage is in ``--help``). Arguments are checked before any work starts.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np

from connectome import limits
from connectome.errors import ControllerError, SimulationError, WormlabError
from connectome.neurons import as_name_list
from sim import sweep_cli
from sim.body import add_cli_arguments as add_body_arguments
from sim.body import cli_options as body_options
from sim.body import run_cli as run_body_cli
from sim.models import SIGN_SETS

__all__ = ["main", "build_parser", "ProgressBar", "cli_errors", "add_training_commands"]


def _one_line(err) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def cli_errors(func):
    """Run a subcommand; a WormlabError or OSError becomes a one-line message and exit code 2.

    Anything else is a wormlab bug: it is reported in one line too (exit code 1) and named
    as one, so that no user sees a traceback.
    """

    def wrapped(args):
        try:
            return func(args)
        except (WormlabError, OSError) as err:
            print(f"error: {_one_line(err)}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("\ninterrupted", file=sys.stderr)
            return 130
        except Exception as err:  # noqa: BLE001 - the last line of defence of the CLI
            print(
                f"error: internal error, please report it: {type(err).__name__}: {_one_line(err)}",
                file=sys.stderr,
            )
            return 1

    return wrapped


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (``prog: error: ...``), exit code 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {_one_line(message)} (see --help)\n")


class ProgressBar:
    """A one-line text progress bar on a stream, shown only once a run has taken ``delay`` s.

    Call it with the fraction done (0..1), as :func:`sim.runner.simulate`'s ``progress``.
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


def _read_circuit(path):
    """The circuit in a wiring JSON file (bytes handed to the checked reader)."""
    from connectome import io

    with open(path, "rb") as f:
        return io.from_json(f.read(io.MAX_BYTES + 1))


def _source(args):
    import connectome

    if args.circuit:
        return _read_circuit(args.circuit)
    return connectome.load(args.dataset)


#: The record interval that ``sim run`` picks when none is given keeps about this many samples.
RECORDS_BY_DEFAULT = 5000
#: ``sim run`` says how large its output will be, before writing, above this size.
LARGE_OUTPUT_BYTES = 50_000_000  # bytes


def default_record_every(duration, dt) -> int:
    """The record interval that keeps about :data:`RECORDS_BY_DEFAULT` samples of a run.

    >>> default_record_every(10.0, 1e-4), default_record_every(0.1, 1e-4)
    (20, 1)
    """
    steps = float(duration) / float(dt)
    if not math.isfinite(steps) or steps > limits.MAX_STEPS:
        return 1  # simulate() refuses such a run with the bound's message
    return max(1, int(round(steps)) // RECORDS_BY_DEFAULT)


def _cmd_run(args):
    import numba

    from sim.compiler import compile_circuit
    from sim.jsonfile import check_writable
    from sim.models import default_params
    from sim.runner import simulate
    from sim.threads import check_threads

    threads = None if args.threads is None else check_threads(args.threads)
    overrides = {}
    for item in args.param or ():
        key, eq, value = item.partition("=")
        if not eq:
            raise SimulationError(f"cannot read --param {item!r}; use key=value")
        overrides[key.strip()] = sweep_cli.parse_value(value.strip())
    if args.signs:
        if args.model != "graded":
            raise SimulationError(f"--signs {args.signs} is a graded-model option; drop it or "
                                  "use --model graded")  # fmt: skip
        overrides["signs"] = args.signs
    params = default_params(args.model, **overrides)
    if args.out:
        if not args.out.endswith((".csv", ".parquet")):
            raise SimulationError(f"--out {args.out!r}: write a .csv or .parquet file")
        check_writable(args.out, "--out")
    if getattr(args, "body_out", None):
        check_writable(args.body_out, "--body-out")
    body = body_options(args) if args.body or args.feedback is not None else None
    if threads is not None:
        numba.set_num_threads(threads)
    source = _source(args)
    cc = compile_circuit(source, args.model, params, ablate=as_name_list(args.ablate or ()))
    record_every = args.record_every
    if record_every is None:
        record_every = default_record_every(args.duration, args.dt or params.dt)
    bar = None if args.quiet else ProgressBar()
    tic = time.perf_counter()
    worm = None
    run = {"duration": args.duration, "dt": args.dt, "record_every": record_every, "progress": bar}
    if body is not None and body["feedback"] is not None:  # network and body in lockstep
        from sim.body import simulate_body

        result, worm = simulate_body(cc, list(args.stim or ()), **run, **body)
    else:
        result = simulate(cc, list(args.stim or ()), **run)
    wall = time.perf_counter() - tic
    neurons = as_name_list(args.neurons or ()) or None
    if args.out:
        df = result.to_dataframe(neurons)
        size = df.shape[0] * (df.shape[1] + 1) * (4 if args.out.endswith(".parquet") else 12)
        if size > LARGE_OUTPUT_BYTES:
            print(
                f"writing {args.out}: about {size / 1e6:.0f} MB ({df.shape[0]} rows x "
                f"{df.shape[1]} neurons); --record-every or --neurons make it smaller"
                + ("" if args.out.endswith(".parquet") else ", .parquet about 3x smaller"),
                file=sys.stderr,
            )
        if args.out.endswith(".parquet"):
            df.columns = [str(c) for c in df.columns]
            df.to_parquet(args.out)
        else:
            df.to_csv(args.out)
    print(_summary(result, cc, wall, args.out))
    if args.body:
        print(run_body_cli(result, args, worm))
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
    parser = _Parser(prog="python -m sim", description="wormlab simulator")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run",
        help="simulate a dataset or circuit under stimuli",
        description="Simulate a connectome or a circuit file; write V as CSV or Parquet "
        "(rows = recorded times, columns = neurons) and print a summary.",
    )
    src = run.add_mutually_exclusive_group()
    src.add_argument("--dataset", default="cook2019", help="dataset key (default: %(default)s)")
    src.add_argument("--circuit", help="wiring JSON (python -m connectome circuit ... -o FILE)")
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
    run.add_argument("--signs", choices=SIGN_SETS, default=None,
                     help="inhibitory synapses (graded): transmitter (default, Wang et al. 2024) "
                     "or kunert2014 (the paper's 26 GABAergic neurons)")  # fmt: skip
    run.add_argument("--duration", type=float, required=True, help="model time (s for graded)")
    run.add_argument("--dt", type=float, default=None, help="step (default: the model's)")
    run.add_argument(
        "--record-every",
        type=int,
        default=None,
        help=f"keep every k-th step (default: about {RECORDS_BY_DEFAULT} samples in all)",
    )
    run.add_argument("--neurons", action="append", metavar="NAMES", help="columns to write")
    run.add_argument("--out", help="output file, .csv or .parquet")
    run.add_argument("--threads", type=int, default=None, help="numba threads")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    add_body_arguments(run)
    run.set_defaults(func=cli_errors(_cmd_run))
    warm = sub.add_parser("warmup", help="compile every kernel (numba cache)")
    warm.set_defaults(func=cli_errors(_cmd_warmup))
    add_training_commands(sub)
    sweep_cli.add_cli(sub, ProgressBar, cli_errors)
    return parser


def main(argv=None):
    """Run the command line; returns the exit code (0 ok, 2 error)."""
    args = build_parser().parse_args(argv)
    return args.func(args)


# ----------------------------------------------------------------------------- training


def _progress_bar(total, stream=None):
    stream = stream or sys.stderr

    def show(generation, best, mean, elapsed):
        width = 30
        done = min(int(width * generation / total), width)
        bar = "#" * done + "." * (width - done)
        stream.write(
            f"\r[{bar}] gen {generation}/{total}  best {best:.2f}  mean {mean:.2f}  {elapsed:.1f} s"
        )
        stream.flush()

    return show


def _load_circuit(args):
    import connectome

    if args.circuit:
        return _read_circuit(args.circuit)
    return connectome.presets.preset(args.preset, connectome.load(args.dataset))


def _cmd_train(args) -> int:
    from sim.control import load_controller
    from sim.envs import env_info
    from sim.evaluation import evaluate
    from sim.trainer import default_generations, train

    if args.seeds or args.envs or args.workers or args.scheduler or args.summary:
        return _cmd_train_runs(args)
    limits.check_int(args.evaluate, "--evaluate", 0, limits.MAX_EVAL_EPISODES, SimulationError)
    ckpt = args.checkpoint or (args.output + ".ckpt.json")
    if args.resume and not os.path.exists(ckpt):
        print(f"no checkpoint at {ckpt}; starting a new run", file=sys.stderr)
    if args.controller:
        base = load_controller(args.controller)
        options = {}
    else:
        base = _load_circuit(args)
        options = {"input_map": args.input_map, "output_map": args.output_map}
        options.update(_prior_options(args))
    env_id = args.env or (None if args.controller else "CartPole-v1")
    target = args.target
    if target is None and not args.keep_going:  # stop at the env's solved threshold
        target = (base.env if args.controller else env_info(env_id)).target
    generations = args.generations
    if generations is None:
        generations = default_generations(base.env.env_id if args.controller else env_id)
    try:
        result = train(
            base,
            env_id,
            seed=args.seed,
            generations=generations,
            popsize=args.popsize,
            episodes=args.episodes,
            sigma0=args.sigma0,
            restarts=args.restarts,
            patience=args.patience,
            target=target,
            validation_episodes=args.validation_episodes,
            max_seconds=args.seconds,
            obs_noise=args.train_noise,
            randomise=args.randomise,
            checkpoint=ckpt,
            resume=args.resume,
            output=args.output,
            progress=None if args.quiet else _progress_bar(generations),
            **options,
        )
    except KeyboardInterrupt:
        print(f"\ninterrupted; resume with the same command and --resume ({ckpt})", file=sys.stderr)
        return 130
    if not args.quiet:
        print(file=sys.stderr)
    print(
        f"{result.reason}: {result.generations} generations, {result.elapsed:.1f} s; held-out "
        f"score {result.heldout:.2f} (100 fresh episodes; validation {result.score:.2f}, "
        f"which chose it); saved {args.output}; checkpoint {ckpt} (resume with --resume)"
    )
    if args.evaluate:
        ev = evaluate(result.controller, episodes=args.evaluate, seed=args.seed)
        print(
            f"gymnasium: mean {ev.mean:.2f}  min {ev.min:.2f}  max {ev.max:.2f}  "
            f"({args.evaluate} episodes)"
        )
    return 0


def _cmd_train_runs(args) -> int:
    """Several runs (``--seeds``, ``--envs``) as tasks, here or on dask (sim.train_runs)."""
    from sim.train_runs import train_runs

    if args.controller or args.checkpoint or args.resume:
        raise ControllerError(
            "--seeds/--envs/--workers/--scheduler/--summary train circuits; each run keeps its "
            "own checkpoint and resumes from it (no --controller, --checkpoint or --resume)"
        )
    seeds = []
    for x in as_name_list(args.seeds or [str(args.seed)]):
        if not x.isdigit():
            raise ControllerError(f"--seeds: {x!r} is not an integer >= 0")
        seeds.append(int(x))
    envs = as_name_list(args.envs or [args.env or "CartPole-v1"])
    options = dict(
        generations=args.generations, popsize=args.popsize, episodes=args.episodes,
        sigma0=args.sigma0, restarts=args.restarts, patience=args.patience, target=args.target,
        validation_episodes=args.validation_episodes, max_seconds=args.seconds,
        obs_noise=args.train_noise, randomise=args.randomise, input_map=args.input_map,
        output_map=args.output_map, **_prior_options(args),
    )  # fmt: skip

    def show(row):
        if not args.quiet:
            print(f"{row['env']} seed {row['seed']}: " + (row["error"] or (
                f"{row['reason']}, {row['generations']} generations, score {row['score']:.2f}"
            )), file=sys.stderr)  # fmt: skip

    table = train_runs(
        _load_circuit(args), envs, seeds, args.output, workers=args.workers,
        scheduler=args.scheduler, summary=args.summary, progress=show, **options,
    )  # fmt: skip
    print(table.drop(columns=["checkpoint"]).to_string(index=False))
    return 0 if (table["error"] == "").all() else 2


def _cmd_evaluate(args) -> int:
    from sim.control import load_controller
    from sim.evaluation import evaluate

    ctrl = load_controller(args.controller)
    for variant in args.variant or [None]:
        ev = evaluate(
            ctrl,
            args.env,
            episodes=args.episodes,
            seed=args.seed,
            variant=variant,
            randomise=args.randomise,
        )
        road = f" [{ev.variant}]" if ev.variant else ""
        if args.json:
            row = {"env": ev.env_id, "mean": ev.mean, "min": ev.min, "max": ev.max,
                   "episodes": len(ev.returns)}  # fmt: skip
            print(json.dumps({**row, "variant": ev.variant} if ev.variant else row))
        else:
            print(
                f"{ev.env_id}{road}: mean {ev.mean:.2f}  min {ev.min:.2f}  max {ev.max:.2f}  "
                f"over {len(ev.returns)} episodes"
            )
    return 0


def _add_circuit_source(parser):
    """--circuit | --preset (a mutually exclusive group, returned) for a training command."""
    src = parser.add_mutually_exclusive_group()
    src.add_argument("--circuit", help="wiring JSON (python -m connectome circuit ... -o FILE)")
    src.add_argument(
        "--preset", default="tap_withdrawal", help="circuit preset (default: %(default)s)"
    )
    return src


def _add_prior_options(parser):
    """--signs, --count-prior, --train-noise and --randomise of a training command."""
    parser.add_argument("--signs", default="transmitter", help="sign model (sim.priors)")
    parser.add_argument(
        "--count-prior", choices=("none", "init", "tie"), default="none",
        help="synapse strengths from the EM counts: 'init' starts them there, 'tie' trains one "
        "scale per synapse kind times the count (sim.priors)",
    )  # fmt: skip
    parser.add_argument("--train-noise", type=float, default=0.0, help="train under this noise")
    parser.add_argument(
        "--randomise", type=float, default=0.0, metavar="FRACTION",
        help="train with each episode's physics uniform within +-FRACTION of nominal (drawn "
        "from the episode seed); the held-out score is on the nominal env",
    )  # fmt: skip


def _prior_options(args) -> dict:
    """The Controller.from_circuit options of --signs and --count-prior."""
    return {
        "signs": args.signs,
        "count_prior": None if args.count_prior == "none" else args.count_prior,
    }


def add_training_commands(subparsers):
    """Register the ``train`` and ``evaluate`` subcommands of ``python -m sim``.

    Each subparser sets ``func``: call ``args.func(args)``, which returns the exit code.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        From ``parser.add_subparsers()``.
    """
    p = subparsers.add_parser(
        "train",
        help="train a circuit as a controller with CMA-ES",
        description="Train a circuit (wiring JSON or preset) as a controller for a gymnasium "
        "env with CMA-ES. A checkpoint is written after every generation; rerun with --resume "
        "to continue an interrupted run.",
    )
    src = _add_circuit_source(p)
    src.add_argument("--controller", help="continue training a controller JSON file")
    p.add_argument(
        "--dataset", default="cook2019", help="dataset of the preset (default: %(default)s)"
    )
    p.add_argument("--env", help="gymnasium id (default: CartPole-v1, or the controller's env)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--generations", type=int, default=None,
        help="generation budget (default: 300 for Pendulum-v1, else 100)",
    )  # fmt: skip
    p.add_argument("--seconds", type=float, default=None, help="wall-time budget in s")
    p.add_argument(
        "--target",
        type=float,
        default=None,
        help="stop at this validation score (default: the env's solved threshold)",
    )
    p.add_argument(
        "--keep-going",
        action="store_true",
        help="train to the budget instead of stopping at the env's solved threshold",
    )
    p.add_argument("--popsize", type=int, default=None)
    p.add_argument("--episodes", type=int, default=8, help="episodes per candidate")
    p.add_argument("--validation-episodes", type=int, default=32)
    p.add_argument(
        "--sigma0",
        type=float,
        default=None,
        help="initial step size (default: 0.5 for Pendulum, else 0.25)",
    )
    p.add_argument(
        "--restarts",
        type=int,
        default=None,
        help="restarts of a stagnating run (default: 100 for Pendulum, else 0)",
    )
    p.add_argument(
        "--patience",
        type=int,
        default=None,
        help="generations with no better validation score before a restart",
    )
    p.add_argument("--input-map", choices=("dense", "pairs"), default="dense")
    p.add_argument("--output-map", choices=("auto", "difference", "dense"), default="auto")
    _add_prior_options(p)
    p.add_argument("--output", "-o", required=True, help="controller JSON to write")
    p.add_argument("--checkpoint", help="checkpoint path (default: OUTPUT.ckpt.json)")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    p.add_argument("--evaluate", type=int, default=0, metavar="N",
                   help="replay the result over N gymnasium episodes")  # fmt: skip
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    many = p.add_argument_group("several runs (sim.train_runs)")
    many.add_argument("--seeds", action="append", metavar="S,S,...", help="one run per seed")
    many.add_argument("--envs", action="append", metavar="ID,ID,...", help="one run per env")
    where = many.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, help="run on a local dask cluster of N workers")
    where.add_argument("--scheduler", help="run on a dask scheduler (tcp://host:8786)")
    many.add_argument("--summary", help="CSV summary of the runs (rewritten as runs finish)")
    p.set_defaults(func=cli_errors(_cmd_train))

    q = subparsers.add_parser(
        "evaluate",
        help="replay a trained controller in gymnasium",
        description="Replay a controller JSON (or a checkpoint's best) in gymnasium's own env "
        "and report mean, min and max return.",
    )
    q.add_argument("controller", help="controller JSON or training checkpoint")
    q.add_argument("--env", default=None, help="gymnasium id (default: the controller's)")
    q.add_argument("--episodes", type=int, default=100)
    q.add_argument("--seed", type=int, default=0)
    q.add_argument(
        "--variant", action="append", metavar="NAME",
        help="lane-keeping-v0: replay on this road (repeatable: one line each; base is "
        "highway-env's own; sim.lanekeeping.VARIANTS, "
        "e.g. amplitude-8, wavelength-60, offset-2, noise-x4, speed-12, or field-value joined "
        "by '+')",
    )  # fmt: skip
    q.add_argument("--json", action="store_true", help="print JSON")
    q.add_argument(
        "--randomise", type=float, default=0.0, metavar="FRACTION",
        help="each episode's physics uniform within +-FRACTION of nominal (as training draws it)",
    )  # fmt: skip
    q.set_defaults(func=cli_errors(_cmd_evaluate))

    c = subparsers.add_parser(
        "compare",
        help="train a circuit and its baselines over seeds; score them on held-out episodes",
        description="Train a circuit and its baselines (linear, MLP, shuffled wiring, no "
        "interneurons, fully connected LTC) with the same trainer and budget over N seeds; "
        "write summary.csv, runs.csv, lesions.csv, the controllers and comparison.html to the "
        "output folder (sim.comparison.compare).",
    )
    _add_circuit_source(c)
    c.add_argument("--dataset", default="cook2019", help="dataset of the preset")
    c.add_argument("--env", default="CartPole-v1", help="gymnasium id (default: %(default)s)")
    c.add_argument("--seeds", type=int, default=5, help="run seeds 0..N-1 (default: 5)")
    c.add_argument(
        "--baselines", default="all", help="comma-separated sim.baselines.BASELINES (default: all)"
    )
    c.add_argument(
        "--generations", type=int, default=None,
        help="generation budget per run (default: 300 for Pendulum-v1, else 100)",
    )  # fmt: skip
    c.add_argument("--seconds", type=float, default=None, help="wall-time budget per run, s")
    c.add_argument("--popsize", type=int, default=None)
    c.add_argument("--episodes", type=int, default=8, help="episodes per candidate")
    c.add_argument("--test-episodes", type=int, default=100, help="held-out episodes per run")
    c.add_argument("--noise", default="0,0.1,0.3,1", help="observation-noise ladder")
    _add_prior_options(c)
    c.add_argument("--input-map", choices=("dense", "pairs"), default="dense")
    c.add_argument("--no-lesions", action="store_true", help="skip the per-neuron lesions")
    c.add_argument(
        "--keep-going", action="store_true", help="train to the budget (no stop at the threshold)"
    )
    c.add_argument("--output", "-o", required=True, help="output folder")
    c.add_argument("--quiet", action="store_true", help="no per-run lines")
    c.set_defaults(func=cli_errors(_cmd_compare))
    return subparsers


def _cmd_compare(args) -> int:
    from sim.baselines import BASELINES
    from sim.comparison import compare

    circuit = _load_circuit(args)
    try:
        levels = [float(x) for x in args.noise.split(",") if x.strip()]
    except ValueError as err:
        raise SimulationError(f"--noise {args.noise!r}: give numbers like 0,0.1,0.3") from err
    names = [x.strip() for x in args.baselines.split(",") if x.strip()]
    names = list(BASELINES) if names == ["all"] else names

    def show(name, seed, result):
        if not args.quiet:
            print(
                f"{name:9s} seed {seed}: held-out {result.heldout:9.2f}  validation "
                f"{result.score:9.2f}  {result.reason} after {result.generations} generations",
                file=sys.stderr,
            )

    res = compare(
        circuit, args.env, seeds=args.seeds, baselines=names, generations=args.generations,
        max_seconds=args.seconds, test_episodes=args.test_episodes, noise_levels=levels,
        lesions=not args.no_lesions, keep_going=args.keep_going, output=args.output,
        progress=show, popsize=args.popsize, episodes=args.episodes, obs_noise=args.train_noise,
        randomise=args.randomise,
        controller_options={"input_map": args.input_map, **_prior_options(args)},
    )  # fmt: skip
    cols = ["baseline", "params", "heldout_mean", "heldout_std", "heldout_median", "success"]
    cols += [x for x in res.summary.columns if x.startswith("noise_")]
    print(res.summary[cols].to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(f"written to {args.output}: {', '.join(os.path.basename(f) for f in res.files.values())}")
    return 0

"""Does the wiring matter? Train a circuit and its baselines over seeds; score them held out.

:func:`compare` trains the circuit and each baseline of :mod:`sim.baselines` with the same
trainer (:func:`sim.trainer.train`) and the same budget for every seed, and scores every
trained controller on fresh episodes that neither training nor selection saw (the
evaluation stream of its run seed, :func:`sim.evaluation.episode_seeds`):

- the return (mean over episodes), its spread over seeds, and the success rate (the fraction
  of held-out episodes whose return reaches :func:`solved_threshold`);
- the number of trained parameters;
- the return under a ladder of Gaussian observation noise levels
  (:func:`sim.evaluation.observation_noise`, in units of the input map's observation scale);
- for LTC controllers built on the circuit's own neurons, the return with each neuron
  lesioned (every chemical synapse and gap junction it makes or receives set to 0).

Everything is returned as pandas tables and, with ``output``, written to a folder:
``summary.csv`` (one row per baseline), ``runs.csv`` (one row per baseline and seed),
``lesions.csv``, ``controllers/*.json`` (every trained controller, the usual file format)
and ``comparison.html`` (a plotly figure; ``comparison.png`` too when kaleido is
installed).
"""

import math
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from connectome.errors import ControllerError
from sim.baselines import BASELINES, baseline
from sim.control import Controller
from sim.envs import EnvSpec, env_info
from sim.evaluation import STREAM_EVALUATION, episode_seeds, rollout
from sim.kernels import BLOCK_GAP, BLOCK_W
from sim.trainer import train

__all__ = [
    "NOISE_LEVELS",
    "MAX_SEEDS",
    "CompareResult",
    "compare",
    "lesion_returns",
    "solved_threshold",
    "comparison_figure",
]

#: Default observation-noise ladder (units of the input map's observation scale).
NOISE_LEVELS = (0.0, 0.1, 0.3, 1.0)
#: Cost bound on the seeds of one comparison (local: connectome.limits does not exist yet).
MAX_SEEDS = 50
_NOISE_SEED = 7_000_001  # the noise draws of the ladder (the same for every controller)


def solved_threshold(env) -> float | None:
    """The per-episode return that counts as success: the env's target
    (:attr:`sim.envs.EnvSpec.target`), or -200 for Pendulum-v1 (gymnasium gives it no
    threshold; -200 is the goal wormlab's issue 13 set for a swing-up and balance)."""
    env = env if isinstance(env, EnvSpec) else env_info(env)
    if env.target is not None:
        return float(env.target)
    return -200.0 if env.env_id == "Pendulum-v1" else None


@dataclass(frozen=True)
class CompareResult:
    """The outcome of :func:`compare`.

    Attributes
    ----------
    summary : DataFrame
        One row per baseline: params, heldout_mean (mean over seeds of each seed's held-out
        mean), heldout_std (spread over seeds), heldout_median, heldout_min, heldout_max,
        success (fraction of held-out episodes solved), validation_mean, noise_<level>
        (mean return under that noise level).
    runs : DataFrame
        One row per baseline and seed (the same columns per run, plus reason, generations,
        seconds, file).
    lesions : DataFrame
        baseline, seed, neuron, heldout (intact), lesioned, drop.
    files : dict
        What was written (name -> path).
    """

    summary: pd.DataFrame
    runs: pd.DataFrame
    lesions: pd.DataFrame
    files: dict


def lesion_returns(controller, seeds) -> dict:
    """Mean return over ``seeds`` with each neuron of an LTC ``controller`` lesioned.

    A lesion sets the strength of every chemical synapse and gap junction the neuron makes
    or receives to 0 (its input current, if sensory, then reaches nothing; a lesioned motor
    neuron rests). Returns ``{neuron: mean return}``.
    """
    if controller.core != "ltc":
        raise ControllerError("lesions apply to LTC circuits, not to the linear or MLP cores")
    thetas = np.repeat(controller.theta[None, :], len(controller.neurons), axis=0)
    w0, g0 = controller.offsets[BLOCK_W], controller.offsets[BLOCK_GAP]
    for i, x in enumerate(controller.neurons):
        for k, s in enumerate(controller.synapses):
            if x in (s["pre"], s["post"]):
                thetas[i, w0 + k] = 0.0
        for k, g in enumerate(controller.gaps):
            if x in (g["a"], g["b"]):
                thetas[i, g0 + k] = 0.0
    means = rollout(controller, seeds, thetas)[0].mean(axis=1)
    return {x: float(m) for x, m in zip(controller.neurons, means, strict=True)}


def _score(ctrl, seeds, threshold, noise_levels):
    returns = rollout(ctrl, seeds)[0][0]
    row = {
        "heldout": float(returns.mean()),
        "success": float(np.mean(returns >= threshold)) if threshold is not None else math.nan,
    }
    for level in noise_levels:
        if level == 0:
            row[f"noise_{level:g}"] = row["heldout"]
        else:
            noisy = rollout(ctrl, seeds, None, level, _NOISE_SEED)[0][0]
            row[f"noise_{level:g}"] = float(noisy.mean())
    return row


def compare(
    circuit, env_id, *, seeds=5, baselines=BASELINES, generations=None, max_seconds=None,
    test_episodes=100, lesion_episodes=50, noise_levels=NOISE_LEVELS, lesions=True,
    keep_going=False, output=None, progress=None, controller_options=None, **train_options,
):  # fmt: skip
    """Train ``circuit`` and its baselines over seeds and score them on held-out episodes.

    Parameters
    ----------
    circuit : connectome.Circuit
        The circuit under test (its sensory and motor roles set).
    env_id : str
        Gymnasium id.
    seeds : int or sequence of int
        Run seeds (an int n means 0 .. n-1); each baseline is trained once per seed (the
        seed also draws the shuffle and the fully connected signs).
    baselines : sequence of str
        Names from :data:`sim.baselines.BASELINES` (``circuit`` is the circuit itself).
    generations, max_seconds : int, float
        The budget of every training run (the same for all; default generations: the env's,
        :func:`sim.trainer.default_generations`).
    test_episodes : int
        Fresh episodes per trained controller (held out: the evaluation stream).
    lesion_episodes : int
        Held-out episodes per lesion (the first ``lesion_episodes`` test episodes).
    noise_levels : sequence of float
        The observation-noise ladder.
    lesions : bool
        Lesion every neuron of the LTC controllers built on the circuit's neurons.
    keep_going : bool
        Train to the budget; by default a run stops once its validation score reaches the
        env's solved threshold (:func:`solved_threshold`).
    output : path, optional
        Folder for the tables, the controllers and the figure (created).
    progress : callable, optional
        ``progress(baseline, seed, TrainResult)`` after every run.
    controller_options : dict, optional
        :meth:`Controller.from_circuit` options for the circuit-based controllers (signs,
        count_prior ``'init'`` or ``'tie'``, input_map, ...).
    **train_options
        More :func:`sim.trainer.train` options (popsize, episodes, obs_noise, randomise,
        ...); the held-out scores are always on the nominal env without noise (the noise
        ladder aside).

    Returns
    -------
    CompareResult
    """
    env = env_info(env_id)
    seeds = list(range(int(seeds))) if isinstance(seeds, int | np.integer) else list(seeds)
    if not 1 <= len(seeds) <= MAX_SEEDS:
        raise ControllerError(f"compare needs 1 to {MAX_SEEDS} seeds, got {len(seeds)}")
    unknown = [b for b in baselines if b not in BASELINES]
    if unknown or not baselines:
        raise ControllerError(f"unknown baselines {unknown}; known: {', '.join(BASELINES)}")
    levels = tuple(float(x) for x in noise_levels)
    options = dict(controller_options or {})
    threshold = solved_threshold(env)
    target = None if keep_going else env.target
    circuit_neurons = set(Controller.from_circuit(circuit, env, **options).neurons)
    runs, lesion_rows, files = [], [], {}
    ctrl_dir = None
    if output is not None:
        ctrl_dir = os.path.join(output, "controllers")
        os.makedirs(ctrl_dir, exist_ok=True)
    for name in baselines:
        for seed in seeds:
            start = baseline(name, circuit, env, seed=seed, **options)
            path = None if ctrl_dir is None else os.path.join(ctrl_dir, f"{name}_seed{seed}.json")
            result = train(
                start, seed=seed, generations=generations, max_seconds=max_seconds,
                target=target, test_episodes=test_episodes, output=path, **train_options,
            )  # fmt: skip
            ctrl = result.controller
            test_seeds = episode_seeds(seed, STREAM_EVALUATION, test_episodes)
            row = {
                "baseline": name,
                "seed": seed,
                "params": ctrl.n_free,
                "validation": result.score,
                **_score(ctrl, test_seeds, threshold, levels),
                "reason": result.reason,
                "generations": result.generations,
                "seconds": result.elapsed,
                "file": path or "",
            }
            runs.append(row)
            if lesions and ctrl.core == "ltc" and set(ctrl.neurons) <= circuit_neurons:
                few = test_seeds[:lesion_episodes]
                intact = float(rollout(ctrl, few)[0].mean())
                for neuron, value in lesion_returns(ctrl, few).items():
                    lesion_rows.append(
                        {"baseline": name, "seed": seed, "neuron": neuron, "heldout": intact,
                         "lesioned": value, "drop": intact - value}
                    )  # fmt: skip
            if progress is not None:
                progress(name, seed, result)
    runs = pd.DataFrame(runs)
    lesion_table = pd.DataFrame(
        lesion_rows, columns=["baseline", "seed", "neuron", "heldout", "lesioned", "drop"]
    )
    summary = _summarise(runs, levels, list(baselines))
    if output is not None:
        files = _write(output, summary, runs, lesion_table, env)
    return CompareResult(summary, runs, lesion_table, files)


def _summarise(runs, levels, order):
    rows = []
    for name in order:
        sub = runs[runs["baseline"] == name]
        h = sub["heldout"]
        row = {
            "baseline": name,
            "params": int(sub["params"].iloc[0]),
            "seeds": len(sub),
            "heldout_mean": float(h.mean()),
            "heldout_std": float(h.std(ddof=0)),
            "heldout_median": float(h.median()),
            "heldout_min": float(h.min()),
            "heldout_max": float(h.max()),
            "success": float(sub["success"].mean()),
            "validation_mean": float(sub["validation"].mean()),
        }
        for level in levels:
            row[f"noise_{level:g}"] = float(sub[f"noise_{level:g}"].mean())
        rows.append(row)
    return pd.DataFrame(rows)


def comparison_figure(summary, lesions, env_id):
    """A plotly figure: held-out return per baseline (mean, spread over seeds), return along
    the noise ladder, and the mean drop per lesioned neuron of the circuit."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(
        rows=1, cols=3,
        subplot_titles=("held-out return", "observation noise", "lesion: drop in return"),
    )  # fmt: skip
    fig.add_trace(
        go.Bar(x=summary["baseline"], y=summary["heldout_mean"],
               error_y={"type": "data", "array": summary["heldout_std"]}, name="held-out"),
        row=1, col=1,
    )  # fmt: skip
    noise_cols = [c for c in summary.columns if c.startswith("noise_")]
    levels = [float(c[len("noise_") :]) for c in noise_cols]
    for _, r in summary.iterrows():
        fig.add_trace(
            go.Scatter(x=levels, y=[r[c] for c in noise_cols], mode="lines+markers",
                       name=r["baseline"]),
            row=1, col=2,
        )  # fmt: skip
    circ = lesions[lesions["baseline"] == "circuit"]
    if len(circ):
        drop = circ.groupby("neuron", sort=False)["drop"].mean()
        fig.add_trace(go.Bar(x=list(drop.index), y=list(drop.values), name="lesion"), row=1, col=3)
    fig.update_layout(title=f"{env_id}: the circuit and its baselines (held-out episodes)")
    fig.update_xaxes(title_text="noise level", row=1, col=2)
    return fig


def _write(output, summary, runs, lesions, env):
    files = {
        "summary": os.path.join(output, "summary.csv"),
        "runs": os.path.join(output, "runs.csv"),
        "lesions": os.path.join(output, "lesions.csv"),
        "figure": os.path.join(output, "comparison.html"),
    }
    summary.to_csv(files["summary"], index=False)
    runs.to_csv(files["runs"], index=False)
    lesions.to_csv(files["lesions"], index=False)
    fig = comparison_figure(summary, lesions, env.env_id)
    fig.write_html(files["figure"], include_plotlyjs="cdn")
    try:
        import kaleido  # noqa: F401

        files["png"] = os.path.join(output, "comparison.png")
        fig.write_image(files["png"])
    except ImportError:
        pass
    return files

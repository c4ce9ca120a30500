"""Training controllers with CMA-ES, evaluating them in gymnasium, and the command line.

The trainer searches the controller's unit cube (:mod:`sim.control`) with CMA-ES (Hansen &
Ostermeier 2001, doi:10.1162/106365601750190398; the ``cma`` package). Each generation:

1. ``cma`` proposes ``popsize`` candidates (bounds [0, 1], its BoundTransform);
2. every candidate runs the same ``episodes`` start states (gymnasium's ``reset(seed)`` for
   seeds drawn from the run seed and the generation number), all of them in one batched numba
   kernel, :func:`sim.control.rollout_batch` (``prange`` over candidate x episode, the circuit
   and the environment in the same loop); envs without a numba port run through a Python loop
   over gymnasium itself;
3. fitness = mean return; a non-finite return is an error (``cma`` would silently replace it);
4. the generation's best candidate, when its training mean is at least the best validation
   score so far, is scored on a fixed validation set of start states; the best validated
   controller is the run's result (and its score);
5. a run that stagnates (no better validation score for ``patience`` generations) restarts
   ``cma`` from a random point with its own sampler stream, up to ``restarts`` times
   (per-env defaults, :data:`ENV_DEFAULTS`);
6. a checkpoint is written atomically.

Reproducibility and resume
--------------------------
``cma`` draws its samples from a ``numpy.random.Generator`` seeded by the run seed (its
``randn`` option), never from numpy's global generator, and episode seeds come from
``numpy.random.SeedSequence(seed, spawn_key=...)``; a run is therefore a deterministic function
of its configuration. The checkpoint (JSON, never pickle) stores that configuration and the
fitness values told to ``cma`` in every generation, and the generations at which restarts began.
Resuming rebuilds ``cma`` from the seed (a new strategy at each stored restart) and replays
``ask``/``tell`` with the stored fitness values (no rollouts): the sampler's state and
the strategy's state (mean, step size, covariance, paths) are reconstructed exactly, which is
then checked bit for bit against the mean stored in the checkpoint. A run interrupted at any
point (Ctrl-C, kill) and resumed gives the same result as an uninterrupted run with the same
seed. Storing ``cma``'s internal state instead would need its private attributes, which change
between ``cma`` versions; the replay uses only its public interface. The replay requires the
same ``cma`` and numpy (their versions are stored and compared). A ``max_seconds`` budget
makes where a run stops depend on the machine; everything else does not.
"""

import argparse
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from connectome.errors import ControllerError, SimulationError, WiringFormatError, WormlabError
from sim.control import (
    Controller,
    _make_gym_env,
    load_controller,
    rollout_batch,
    write_json_atomic,
)

__all__ = [
    "CHECKPOINT_FORMAT",
    "ENV_DEFAULTS",
    "TrainResult",
    "EvalResult",
    "episode_seeds",
    "start_states",
    "rollout",
    "evaluate",
    "train",
    "load_checkpoint",
    "add_cli",
]

CHECKPOINT_FORMAT = "wormlab-train-checkpoint"
_CHECKPOINT_VERSION = 1
# Configuration keys added after version 1 was written, with the value older runs had.
_CONFIG_DEFAULTS = {"restarts": 0, "patience": 0}

# Training defaults per environment (train()'s sigma0, restarts and patience given as None).
# Pendulum-v1 needs exploration: its runs settle in a basin that only balances near the top
# unless the step size is large and stagnating runs restart elsewhere (measured with
# benchmarks/bench_train.py, 5 seeds, 60 s: median 100-episode mean -847 with 0.25 and no
# restarts, -219 with these).
_GENERIC_DEFAULTS = MappingProxyType({"sigma0": 0.25, "restarts": 0, "patience": 100})
ENV_DEFAULTS = MappingProxyType(
    {"Pendulum-v1": MappingProxyType({"sigma0": 0.5, "restarts": 100, "patience": 100})}
)

# SeedSequence spawn keys of the random streams of one run.
_STREAM_VALIDATION = 0
_STREAM_EVALUATION = 1
_STREAM_CMA = 2
_STREAM_GENERATION = 3  # generation g uses _STREAM_GENERATION + g


def episode_seeds(seed, stream, n) -> np.ndarray:
    """``n`` episode seeds (int64 in [0, 2**31 - 1)) of one random stream of a run.

    Parameters
    ----------
    seed : int
        The run seed.
    stream : int
        0 validation, 1 evaluation, 2 ``cma``'s sampler, 3 + g training generation g.
    n : int
        How many.
    """
    ss = np.random.SeedSequence(int(seed), spawn_key=(int(stream),))
    return np.random.default_rng(ss).integers(0, 2**31 - 1, size=int(n), dtype=np.int64)


def start_states(env_id, seeds) -> np.ndarray:
    """Start states ``(len(seeds), state_dim)`` of a numba environment: gymnasium's own
    ``reset(seed=s)`` (:func:`sim.envs.reset_states`)."""
    from sim import envs

    return np.ascontiguousarray(envs.reset_states(env_id, [int(s) for s in seeds]), np.float64)


# ----------------------------------------------------------------------------- rollouts


def _gym_episode(env, controller, seed):
    """One episode of ``controller`` (its :meth:`~Controller.act`) in a gymnasium env."""
    obs, _ = env.reset(seed=int(seed))
    controller.reset()
    total, steps = 0.0, 0
    while True:
        obs, reward, terminated, truncated, _ = env.step(controller.act(obs))
        total += float(reward)
        steps += 1
        if terminated or truncated:
            return total, steps


def rollout(controller, seeds, thetas=None):
    """Returns of ``controller`` (or of parameter rows ``thetas``) from the given start seeds.

    Numba environments run in :func:`sim.control.rollout_batch`; other gymnasium envs in a
    Python loop over ``gymnasium.make(env_id)`` (the adapter).

    Parameters
    ----------
    controller : Controller
    seeds : sequence of int
        Gymnasium reset seeds, one per episode.
    thetas : ndarray (P, controller.size), optional
        Physical parameters of P candidates (default: the controller's own).

    Returns
    -------
    returns : ndarray (P, E)
    lengths : ndarray (P, E) int64
    """
    thetas = controller.theta[None, :] if thetas is None else thetas
    thetas = np.ascontiguousarray(thetas, dtype=np.float64)
    if thetas.ndim != 2 or thetas.shape[1] != controller.size:
        raise ControllerError(f"thetas has shape {thetas.shape}, expected (P, {controller.size})")
    seeds = [int(s) for s in seeds]
    P, E = thetas.shape[0], len(seeds)
    returns = np.zeros((P, E))
    lengths = np.zeros((P, E), np.int64)
    if E == 0 or P == 0:
        return returns, lengths
    env = controller.env
    if env.code >= 0:
        rollout_batch(
            env.code, thetas, controller.gap_weights(thetas), start_states(env.env_id, seeds),
            env.max_steps, returns, lengths, *controller.program,
        )  # fmt: skip
        return returns, lengths
    genv = _make_gym_env(env.env_id)
    try:
        for p in range(P):
            ctrl = controller.with_theta(thetas[p])
            for e, s in enumerate(seeds):
                returns[p, e], lengths[p, e] = _gym_episode(genv, ctrl, s)
    finally:
        genv.close()
    return returns, lengths


@dataclass(frozen=True)
class EvalResult:
    """Returns of a controller over episodes in gymnasium's own env.

    Attributes
    ----------
    mean, min, max : float
        Statistics of the episode returns.
    returns : tuple of float
    lengths : tuple of int
    seeds : tuple of int
        The gymnasium reset seeds.
    env_id : str
    """

    mean: float
    min: float
    max: float
    returns: tuple
    lengths: tuple
    seeds: tuple
    env_id: str


def evaluate(controller, env_id=None, *, episodes=100, seed=0, seeds=None, render_mode=None):
    """Replay ``controller`` in gymnasium's own environment.

    Parameters
    ----------
    controller : Controller
    env_id : str, optional
        Default: the env the controller was built for (another id must have the same
        observation and action spaces).
    episodes : int
        Number of episodes (ignored when ``seeds`` is given).
    seed : int
        Seeds the episode seeds (:func:`episode_seeds`, evaluation stream).
    seeds : sequence of int, optional
        Explicit gymnasium reset seeds.
    render_mode : str, optional
        Passed to ``gymnasium.make`` (``'human'`` to watch).

    Returns
    -------
    EvalResult
    """
    if env_id is not None and env_id != controller.env.env_id:
        from sim.control import env_info

        other = env_info(env_id)
        mine = controller.env
        if (other.obs_dim, other.discrete, other.n_actions, other.act_dim) != (
            mine.obs_dim,
            mine.discrete,
            mine.n_actions,
            mine.act_dim,
        ):
            raise ControllerError(
                f"controller was built for {mine.env_id} ({mine.obs_dim} observations); "
                f"{env_id} has {other.obs_dim} observations and other actions"
            )
    env_id = env_id or controller.env.env_id
    if seeds is None:
        if int(episodes) < 1:
            raise ControllerError(f"episodes must be >= 1, got {episodes}")
        seeds = episode_seeds(seed, _STREAM_EVALUATION, episodes)
    seeds = tuple(int(s) for s in seeds)
    genv = _make_gym_env(env_id, render_mode=render_mode)
    ctrl = controller.with_theta(controller.theta)  # own potentials: leave the caller's alone
    try:
        out = [_gym_episode(genv, ctrl, s) for s in seeds]
    finally:
        genv.close()
    rets = tuple(r for r, _ in out)
    return EvalResult(
        mean=float(np.mean(rets)),
        min=float(np.min(rets)),
        max=float(np.max(rets)),
        returns=rets,
        lengths=tuple(int(n) for _, n in out),
        seeds=seeds,
        env_id=env_id,
    )


# ----------------------------------------------------------------------------- training


@dataclass(frozen=True)
class TrainResult:
    """The outcome of :func:`train`.

    Attributes
    ----------
    controller : Controller
        The best validated controller (provenance filled in).
    score : float
        Its mean return on the validation episodes.
    generations : int
        Generations run (including those of a resumed checkpoint).
    elapsed : float
        Training wall time in s (summed over resumed sessions; replay excluded).
    reason : str
        Why it stopped: 'target', 'generations', 'time', 'stopped'.
    restarts : tuple of int
        Generations after which a stagnating ``cma`` run was restarted.
    history : tuple of dict
        Per generation: generation, best (validated, so far), gen_best and mean (training
        returns of this generation), sigma, elapsed.
    """

    controller: Controller
    score: float
    generations: int
    elapsed: float
    reason: str
    history: tuple = field(repr=False)
    restarts: tuple = ()


def _limit_blas_threads():
    """A context limiting BLAS to one thread (``cma``'s linear algebra is otherwise slower
    than the rollouts on a busy machine)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _versions():
    import cma

    return {"cma": cma.__version__, "numpy": np.__version__}


def _make_es(x0, sigma0, popsize, seed, extra, restart=0):
    """A ``cma`` strategy whose sampler is seeded by the run seed (and the restart number:
    restart 0 keeps the stream of runs without restarts)."""
    import cma

    key = (_STREAM_CMA,) if restart == 0 else (_STREAM_CMA, int(restart))
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=key))

    def randn(*shape):
        return rng.standard_normal(shape)

    opts = dict(extra)
    opts.update(
        {
            "bounds": [0.0, 1.0],
            "popsize": int(popsize),
            "randn": randn,
            "seed": float("nan"),  # never touch numpy's global generator
            "verbose": -9,
            "verb_log": 0,
            "verb_disp": 0,
        }
    )
    return cma.CMAEvolutionStrategy(np.asarray(x0, np.float64), float(sigma0), opts)


def load_checkpoint(path) -> dict:
    """Read a training checkpoint (JSON) and check its format."""

    try:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
    except json.JSONDecodeError as err:
        raise WiringFormatError(f"{path}: not valid JSON ({err})") from err
    if not isinstance(d, dict) or d.get("format") != CHECKPOINT_FORMAT:
        raise WiringFormatError(f"{path}: not a wormlab training checkpoint")
    if d.get("version") != _CHECKPOINT_VERSION:
        raise WiringFormatError(f"{path}: checkpoint version {d.get('version')!r} unsupported")
    return d


def _check_int(name, value, lo):
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < lo:
        raise ControllerError(f"{name} must be an integer >= {lo}, got {value!r}")
    return int(value)


def train(
    controller, env_id=None, *, seed=0, generations=100, popsize=None, episodes=8,
    sigma0=None, target=None, validation_episodes=32, max_seconds=None, checkpoint=None,
    resume=False, output=None, progress=None, should_stop=None, threads=None, cma_options=None,
    restarts=None, patience=None, **controller_options,
):  # fmt: skip
    """Train a controller with CMA-ES.

    Parameters
    ----------
    controller : Controller or connectome.Circuit
        The starting controller (its parameters are the initial mean, its ranges the search
        box), or a circuit, turned into one by :meth:`Controller.from_circuit` with ``env_id``
        and ``controller_options`` (input_map, pairs, output_map, output_neurons, ranges, dt,
        unfolds).
    env_id : str, optional
        Gymnasium id (required with a circuit; must match a controller's).
    seed : int
        Run seed: ``cma``'s sampler and every episode seed derive from it.
    generations : int
        Generation budget (total, including generations of a resumed checkpoint).
    popsize : int, optional
        Candidates per generation (default ``cma``'s ``4 + 3 ln(n)``).
    episodes : int
        Episodes per candidate per generation (the same start states for every candidate).
    sigma0 : float, optional
        Initial step size in the unit cube (default: :data:`ENV_DEFAULTS` for the env, else
        0.25).
    target : float, optional
        Stop once the best validation score reaches it.
    validation_episodes : int
        Size of the fixed validation set that scores the best controller.
    max_seconds : float, optional
        Wall-time budget (makes the stopping point machine-dependent).
    checkpoint : path, optional
        Checkpoint file, written atomically after every generation.
    resume : bool
        Continue the run stored in ``checkpoint`` (its configuration must match).
    output : path, optional
        Where the best controller is saved (atomically) whenever it improves.
    progress : callable, optional
        ``progress(generation, best, mean, elapsed)`` after every generation: generations
        done, best validation score, the generation's mean training return, seconds.
    should_stop : callable, optional
        ``should_stop() -> bool``, checked after every generation; True stops the run, which
        returns the best controller so far.
    threads : int, optional
        Numba threads for the rollouts (default: numba's).
    cma_options : dict, optional
        Extra ``cma`` options (JSON values, e.g. ``{"CMA_diagonal": True}``); bounds, popsize,
        the sampler and verbosity are the trainer's.
    restarts : int, optional
        How many times a stagnating run may restart (default: :data:`ENV_DEFAULTS` for the
        env, else 0). A restart begins a new ``cma`` run with the same population and
        ``sigma0`` from a random point of the cube's middle ``[0.25, 0.75]`` (its own random
        stream); the best validated controller is kept across restarts.
    patience : int, optional
        Stagnation: the current ``cma`` run has lasted at least ``patience`` generations and
        the best validation score has not improved in the last ``patience`` (default:
        :data:`ENV_DEFAULTS` for the env, else 100).

    Returns
    -------
    TrainResult

    Raises
    ------
    ControllerError
        Bad arguments or a checkpoint that does not match.
    SimulationError
        A non-finite return.

    Examples
    --------
    >>> import connectome
    >>> tw = connectome.presets.tap_withdrawal(connectome.load("cook2019"))
    >>> result = train(tw, "CartPole-v1", seed=0, generations=50, target=500.0)
    >>> result.reason, result.score
    ('target', 500.0)
    >>> evaluate(result.controller, episodes=20).mean
    500.0
    """
    import numba

    template = _template(controller, env_id, controller_options)
    seed = _check_int("seed", seed, 0)
    generations = _check_int("generations", generations, 1)
    episodes = _check_int("episodes", episodes, 1)
    validation_episodes = _check_int("validation_episodes", validation_episodes, 1)
    defaults = ENV_DEFAULTS.get(template.env.env_id, _GENERIC_DEFAULTS)
    sigma0 = defaults["sigma0"] if sigma0 is None else sigma0
    restarts = _check_int("restarts", defaults["restarts"] if restarts is None else restarts, 0)
    patience = defaults["patience"] if patience is None else patience
    patience = _check_int("patience", patience, 1) if restarts else 0
    if popsize is None:
        popsize = 4 + int(3 * math.log(template.n_free))
    popsize = _check_int("popsize", popsize, 2)
    if not (isinstance(sigma0, int | float) and 0 < sigma0 and math.isfinite(sigma0)):
        raise ControllerError(f"sigma0 must be a positive number, got {sigma0!r}")
    if resume and checkpoint is None:
        raise ControllerError("resume=True needs a checkpoint path")
    base = template.with_theta(template.theta, provenance={})
    config = {
        "env_id": base.env.env_id,
        "seed": seed,
        "popsize": popsize,
        "episodes": episodes,
        "sigma0": float(sigma0),
        "validation_episodes": validation_episodes,
        "cma_options": dict(cma_options or {}),
        "restarts": restarts,
        "patience": patience,
        "template": base.to_dict(),
    }
    state = None
    if resume and os.path.exists(checkpoint):
        state = _resume_state(checkpoint, config)
    threads_before = numba.get_num_threads()
    if threads is not None:
        numba.set_num_threads(_check_int("threads", threads, 1))
    try:
        with _limit_blas_threads():
            return _run(
                base, config, state, generations, target, max_seconds, checkpoint, output,
                progress, should_stop,
            )  # fmt: skip
    finally:
        numba.set_num_threads(threads_before)


def _template(controller, env_id, options) -> Controller:
    """The controller to start from: the one given, or one built from a circuit."""
    if isinstance(controller, Controller):
        if env_id is not None and env_id != controller.env.env_id:
            raise ControllerError(
                f"the controller was built for {controller.env.env_id}, not {env_id}; build "
                "one for that env with Controller.from_circuit"
            )
        if options:
            raise ControllerError(f"options {sorted(options)} apply only when training a circuit")
        template = controller
    else:
        if env_id is None:
            raise ControllerError("give env_id to train a circuit")
        template = Controller.from_circuit(controller, env_id, **options)
    if template.n_free == 0:
        raise ControllerError("every parameter range is fixed (lo == hi): nothing to train")
    return template


def _run(base, config, state, generations, target, max_seconds, checkpoint, output, progress,
         should_stop):  # fmt: skip
    """The generation loop of :func:`train` (arguments checked)."""
    seed, episodes = config["seed"], config["episodes"]
    segments = [[0, config["popsize"]]]  # [first generation, popsize] of every cma run
    fitness, history, best, best_ctrl, elapsed0 = [], [], None, None, 0.0
    if state is not None:  # replay the stored generations: no rollouts, the same cma state
        segments = state["segments"]
        starts = {start: k for k, (start, _) in enumerate(segments)}
        for g_old, fit in enumerate(state["fitness"]):
            if g_old in starts:
                es = _segment_es(base, config, starts[g_old], segments[starts[g_old]][1])
            es.tell(es.ask(), fit)
        if segments[-1][0] == len(state["fitness"]):  # a restart after the last generation
            es = _segment_es(base, config, len(segments) - 1, segments[-1][1])
        if not np.array_equal(es.mean, np.asarray(state["mean"])):
            raise ControllerError(
                "the checkpoint cannot be resumed exactly: replaying cma from the seed gave "
                "another state"
            )
        fitness, history, best = state["fitness"], state["history"], state["best"]
        best_ctrl = Controller.from_dict(best["controller"]) if best else None
        elapsed0 = state["elapsed"]
    else:
        es = _segment_es(base, config, 0, config["popsize"])
    val_seeds = episode_seeds(seed, _STREAM_VALIDATION, config["validation_episodes"])
    t0 = time.perf_counter()
    g = len(fitness)
    reason = "generations"
    if best is not None and target is not None and best["score"] >= target:
        reason = "target"
    while reason == "generations" and g < generations:
        if max_seconds is not None and elapsed0 + time.perf_counter() - t0 >= max_seconds:
            reason = "time"
            break
        X = es.ask()
        thetas = base.decode(np.asarray(X))
        seeds = episode_seeds(seed, _STREAM_GENERATION + g, episodes)
        returns, _ = rollout(base, seeds, thetas)
        if not np.all(np.isfinite(returns)):
            p, e = np.argwhere(~np.isfinite(returns))[0]
            raise SimulationError(
                f"generation {g}: candidate {p} returned {returns[p, e]} on the episode with "
                f"reset seed {seeds[e]}; cma must not see non-finite fitness"
            )
        scores = returns.mean(axis=1)
        fit = [float(-s) for s in scores]
        es.tell(X, fit)
        fitness.append(fit)
        # Validate the generation's best when it might beat the best so far.
        i = int(np.argmax(scores))
        improved = False
        if best is None or scores[i] >= best["score"]:
            vscore = float(rollout(base, val_seeds, thetas[i : i + 1])[0].mean())
            if best is None or vscore > best["score"]:
                best_ctrl = base.with_theta(thetas[i])
                best = {"score": vscore, "generation": g + 1, "train": float(scores[i])}
                improved = True
        g += 1
        elapsed = elapsed0 + time.perf_counter() - t0
        history.append(
            {
                "generation": g,
                "best": best["score"],
                "gen_best": float(scores[i]),
                "mean": float(scores.mean()),
                "sigma": float(es.sigma),
                "elapsed": elapsed,
            }
        )
        if target is not None and best["score"] >= target:
            reason = "target"
        elif len(segments) <= config["restarts"] and _stagnant(
            history, segments[-1][0], config["patience"]
        ):
            segments.append([g, segments[-1][1]])
            es = _segment_es(base, config, len(segments) - 1, segments[-1][1])
        best_ctrl = best_ctrl.with_theta(best_ctrl.theta, provenance=_provenance(config, best, g))
        best["controller"] = best_ctrl.to_dict()
        if checkpoint is not None:
            write_json_atomic(
                checkpoint,
                {
                    "format": CHECKPOINT_FORMAT,
                    "version": _CHECKPOINT_VERSION,
                    "versions": _versions(),
                    "config": config,
                    "generation": g,
                    "fitness": fitness,
                    "segments": segments,
                    "mean": es.mean.tolist(),
                    "history": history,
                    "best": best["controller"],
                    "best_info": {k: v for k, v in best.items() if k != "controller"},
                    "elapsed": elapsed,
                },
            )
        if output is not None and improved:
            best_ctrl.save(output)
        if progress is not None:
            progress(g, best["score"], float(scores.mean()), elapsed)
        if reason == "generations" and should_stop is not None and should_stop():
            reason = "stopped"
    if best_ctrl is None:
        raise ControllerError("training ran no generation (budget already used up)")
    if output is not None:
        best_ctrl.save(output)
    return TrainResult(
        controller=best_ctrl,
        score=best["score"],
        generations=g,
        elapsed=history[-1]["elapsed"] if history else 0.0,
        reason=reason,
        history=tuple(history),
        restarts=tuple(start for start, _ in segments[1:]),
    )


def _segment_es(base, config, k, popsize):
    """The ``cma`` strategy of restart ``k`` (0: the first run) with ``popsize`` candidates.

    Run 0 starts at the template's parameters; restart ``k`` at a point drawn uniformly from
    the middle of the unit cube, ``[0.25, 0.75]``, by its own random stream (restarts from
    random points as in Auger & Hansen 2005, doi:10.1109/CEC.2005.1554902, without their
    growing population: doubling it left too few generations in a 60 s budget).
    """
    x0 = base.to_unit()
    if k > 0:
        ss = np.random.SeedSequence(config["seed"], spawn_key=(_STREAM_CMA, int(k), 1))
        x0 = np.random.default_rng(ss).uniform(0.25, 0.75, size=x0.shape[0])
    return _make_es(x0, config["sigma0"], popsize, config["seed"], config["cma_options"], k)


def _stagnant(history, start, patience) -> bool:
    """True when the run that began at generation ``start`` has run ``patience`` generations
    and the best validation score has not improved in the last ``patience`` of them."""
    if len(history) - start < patience:
        return False
    return history[-patience]["best"] == history[-1]["best"]


def _provenance(config, best, generations) -> dict:
    """The training record saved with the best controller."""
    return {
        "env": config["env_id"],
        "seed": config["seed"],
        "generations": generations,
        "best_generation": best["generation"],
        "score": best["score"],
        "validation_episodes": config["validation_episodes"],
        "episodes": config["episodes"],
        "popsize": config["popsize"],
        "sigma0": config["sigma0"],
        "trainer": f"CMA-ES (cma {_versions()['cma']})",
    }


def _resume_state(path, config) -> dict:
    d = load_checkpoint(path)
    old = {**_CONFIG_DEFAULTS, **d["config"]}  # checkpoints from before restarts existed
    diff = [k for k in config if old.get(k) != config[k]]
    if diff:
        raise ControllerError(
            f"checkpoint {path} is a different run (differs in {', '.join(diff)}); use another "
            "checkpoint path or the same settings"
        )
    if d["versions"] != _versions():
        raise ControllerError(
            f"checkpoint {path} was written with {d['versions']}, now {_versions()}: the cma "
            "replay would not be exact"
        )
    best = None
    if d.get("best") is not None:
        best = dict(d["best_info"], controller=d["best"])
    return {
        "generation": int(d["generation"]),
        "fitness": [list(map(float, f)) for f in d["fitness"]],
        "segments": [[int(a), int(b)] for a, b in d.get("segments", [[0, old["popsize"]]])],
        "mean": d["mean"],
        "history": d["history"],
        "best": best,
        "elapsed": float(d["elapsed"]),
        "versions": d["versions"],
    }


# ----------------------------------------------------------------------------- command line


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
        with open(args.circuit, "rb") as f:
            return connectome.io.from_json(f.read())
    return connectome.presets.preset(args.preset, connectome.load(args.dataset))


def _cmd_train(args) -> int:
    if args.seeds or args.envs or args.workers or args.scheduler or args.summary:
        return _cmd_train_runs(args)
    ckpt = args.checkpoint or (args.output + ".ckpt.json")
    if args.resume and not os.path.exists(ckpt):
        print(f"no checkpoint at {ckpt}; starting a new run", file=sys.stderr)
    if args.controller:
        base = load_controller(args.controller)
        options = {}
    else:
        base = _load_circuit(args)
        options = {"input_map": args.input_map, "output_map": args.output_map}
    try:
        result = train(
            base,
            args.env or (None if args.controller else "CartPole-v1"),
            seed=args.seed,
            generations=args.generations,
            popsize=args.popsize,
            episodes=args.episodes,
            sigma0=args.sigma0,
            restarts=args.restarts,
            patience=args.patience,
            target=args.target,
            validation_episodes=args.validation_episodes,
            max_seconds=args.seconds,
            checkpoint=ckpt,
            resume=args.resume,
            output=args.output,
            progress=None if args.quiet else _progress_bar(args.generations),
            **options,
        )
    except KeyboardInterrupt:
        print(f"\ninterrupted; resume with the same command and --resume ({ckpt})", file=sys.stderr)
        return 130
    if not args.quiet:
        print(file=sys.stderr)
    print(
        f"{result.reason}: {result.generations} generations, {result.elapsed:.1f} s, "
        f"validation score {result.score:.2f}; saved {args.output}"
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
    for x in (x for v in (args.seeds or [str(args.seed)]) for x in v.split(",") if x.strip()):
        if not x.strip().isdigit():
            raise ControllerError(f"--seeds: {x!r} is not an integer >= 0")
        seeds.append(int(x))
    envs = [x.strip() for v in (args.envs or [args.env or "CartPole-v1"]) for x in v.split(",")]
    options = dict(
        generations=args.generations, popsize=args.popsize, episodes=args.episodes,
        sigma0=args.sigma0, restarts=args.restarts, patience=args.patience, target=args.target,
        validation_episodes=args.validation_episodes, max_seconds=args.seconds,
        input_map=args.input_map, output_map=args.output_map,
    )  # fmt: skip

    def show(row):
        if not args.quiet:
            print(f"{row['env']} seed {row['seed']}: " + (row["error"] or (
                f"{row['reason']}, {row['generations']} generations, score {row['score']:.2f}"
            )), file=sys.stderr)  # fmt: skip

    table = train_runs(
        _load_circuit(args), [e for e in envs if e], seeds, args.output, workers=args.workers,
        scheduler=args.scheduler, summary=args.summary, progress=show, **options,
    )  # fmt: skip
    print(table.drop(columns=["checkpoint"]).to_string(index=False))
    return 0 if (table["error"] == "").all() else 2


def _cmd_evaluate(args) -> int:

    ctrl = load_controller(args.controller)
    ev = evaluate(ctrl, args.env, episodes=args.episodes, seed=args.seed)
    if args.json:
        print(json.dumps({"env": ev.env_id, "mean": ev.mean, "min": ev.min, "max": ev.max,
                          "episodes": len(ev.returns)}))  # fmt: skip
    else:
        print(
            f"{ev.env_id}: mean {ev.mean:.2f}  min {ev.min:.2f}  max {ev.max:.2f}  "
            f"over {len(ev.returns)} episodes"
        )
    return 0


def _cli_errors(func):
    """Run a subcommand; a WormlabError or OSError becomes a one-line message and exit code 2."""

    def wrapped(args):
        try:
            return func(args)
        except (WormlabError, OSError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2

    return wrapped


def add_cli(subparsers):
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
    src = p.add_mutually_exclusive_group()
    src.add_argument("--circuit", help="wiring JSON file (python -m connectome export)")
    src.add_argument(
        "--preset", default="tap_withdrawal", help="circuit preset (default: %(default)s)"
    )
    src.add_argument("--controller", help="continue training a controller JSON file")
    p.add_argument(
        "--dataset", default="cook2019", help="dataset of the preset (default: %(default)s)"
    )
    p.add_argument("--env", help="gymnasium id (default: CartPole-v1, or the controller's env)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--generations", type=int, default=100, help="generation budget")
    p.add_argument("--seconds", type=float, default=None, help="wall-time budget in s")
    p.add_argument("--target", type=float, default=None, help="stop at this validation score")
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
    p.set_defaults(func=_cli_errors(_cmd_train))

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
    q.add_argument("--json", action="store_true", help="print JSON")
    q.set_defaults(func=_cli_errors(_cmd_evaluate))
    return subparsers


def _main(argv=None) -> int:  # pragma: no cover - the lead wires add_cli into sim/__main__
    parser = argparse.ArgumentParser(prog="python -m sim.train")
    add_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_main())

"""The trainer: CMA-ES over a controller's unit cube, resumable from its checkpoints.

The trainer searches the controller's unit cube (:mod:`sim.ranges`) with CMA-ES (Hansen &
Ostermeier 2001, doi:10.1162/106365601750190398; the ``cma`` package). Each generation:

1. ``cma`` proposes ``popsize`` candidates (bounds [0, 1], its BoundTransform);
2. every candidate runs the same ``episodes`` start states (gymnasium's ``reset(seed)`` for
   seeds drawn from the run seed and the generation number), all of them in one batched numba
   kernel, :func:`sim.kernels.rollout_batch` (``prange`` over candidate x episode, the circuit
   and the environment in the same loop); envs without a numba port run through a Python loop
   over gymnasium itself;
3. fitness = mean return; a non-finite return is an error (``cma`` would silently replace it);
4. the generation's best candidate, when its training mean is at least the best validation
   score so far, is scored on a fixed validation set of start states; the best validated
   controller is the run's result (and its score);
5. a run that stagnates (no better validation score for ``patience`` generations) restarts
   ``cma`` from a random point with its own sampler stream, up to ``restarts`` times
   (per-env defaults, :data:`ENV_DEFAULTS`);
6. a checkpoint is written atomically (:mod:`sim.checkpoint`).

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
then checked bit for bit against the optimiser state stored in the checkpoint (mean, step
size, covariance, evolution paths, generation count and the fitness history's digest,
:func:`sim.checkpoint.optimiser_state`), and the stored best controller is re-scored on the
validation episodes and must give the stored best score exactly. A run interrupted at any
point (Ctrl-C, kill) and resumed gives the same result as an uninterrupted run with the same
seed. Storing ``cma``'s internal state instead would need its private attributes, which change
between ``cma`` versions; the replay uses only its public interface. The replay requires the
same ``cma`` and numpy (their versions are stored and compared). A ``max_seconds`` budget
makes where a run stops depend on the machine; everything else does not.
"""

import math
import os
import time
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import numpy as np

from connectome import limits
from connectome.errors import ControllerError, SimulationError
from sim.checkpoint import (
    CHECKPOINT_FORMAT,
    library_versions,
    optimiser_state,
    resume_state,
    write_checkpoint,
)
from sim.control import FORMAT as CONTROLLER_FORMAT
from sim.control import Controller
from sim.envs import check_randomise
from sim.evaluation import (
    STREAM_CMA,
    STREAM_EVALUATION,
    STREAM_GENERATION,
    STREAM_NOISE,
    STREAM_VALIDATION,
    episode_seeds,
    rollout,
)
from sim.jsonfile import check_replaceable, check_writable
from sim.threads import check_threads, one_blas_thread

__all__ = ["ENV_DEFAULTS", "TrainResult", "default_generations", "train"]

# Training defaults per environment (train()'s generations, sigma0, restarts and patience
# given as None). Pendulum-v1 needs exploration: its runs settle in a basin that only
# balances near the top unless the step size is large and stagnating runs restart elsewhere
# (measured with benchmarks/bench_train.py, 5 seeds, 60 s: median 100-episode mean -847 with
# 0.25 and no restarts, -219 with these), and a budget in which the restarts (after 100
# stagnant generations) can happen at all: held-out median over seeds 0-4 of -852 with 100
# generations (issue 13), -718 with 300 (session 3, the tap-withdrawal preset).
_GENERIC_DEFAULTS = MappingProxyType(
    {"generations": 100, "sigma0": 0.25, "restarts": 0, "patience": 100}
)
ENV_DEFAULTS = MappingProxyType(
    {
        "Pendulum-v1": MappingProxyType(
            {"generations": 300, "sigma0": 0.5, "restarts": 100, "patience": 100}
        )
    }
)


def default_generations(env_id) -> int:
    """The default generation budget of a training run on ``env_id`` (:data:`ENV_DEFAULTS`)."""
    return int(ENV_DEFAULTS.get(env_id, _GENERIC_DEFAULTS)["generations"])


@dataclass(frozen=True)
class TrainResult:
    """The outcome of :func:`train`.

    Attributes
    ----------
    controller : Controller
        The best validated controller (provenance filled in).
    score : float
        Its mean return on the validation episodes (which chose it: optimistic).
    heldout : float or None
        Its mean return on ``test_episodes`` fresh episodes (the evaluation stream, which
        neither training nor selection saw): the score to report. None with
        ``test_episodes=0``.
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
    heldout: float | None = None


def _make_es(x0, sigma0, popsize, seed, extra, restart=0):
    """A ``cma`` strategy whose sampler is seeded by the run seed (and the restart number:
    restart 0 keeps the stream of runs without restarts)."""
    import cma

    key = (STREAM_CMA,) if restart == 0 else (STREAM_CMA, int(restart))
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


def _check_noise(level) -> float:
    if isinstance(level, bool) or not isinstance(level, int | float):
        raise ControllerError(f"obs_noise must be a number >= 0, got {level!r}")
    if not (math.isfinite(level) and level >= 0):
        raise ControllerError(f"obs_noise must be a finite number >= 0, got {level!r}")
    return float(level)


def _check_randomise(fraction, env) -> float:
    fraction = check_randomise(fraction)
    if fraction and not env.physics:
        raise ControllerError(
            f"randomise={fraction:g}: {env.env_id} has no physical parameters wormlab can "
            "randomise (the classic-control envs have); use randomise=0"
        )
    return fraction


def _check_int(name, value, lo, hi):
    return limits.check_int(value, name, lo, hi, ControllerError)


def train(
    controller, env_id=None, *, seed=0, generations=None, popsize=None, episodes=8,
    sigma0=None, target=None, validation_episodes=32, max_seconds=None, checkpoint=None,
    resume=False, output=None, progress=None, should_stop=None, threads=None, cma_options=None,
    restarts=None, patience=None, test_episodes=100, obs_noise=0.0, randomise=0.0,
    **controller_options,
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
    generations : int, optional
        Generation budget (total, including generations of a resumed checkpoint); default
        :func:`default_generations` of the env (100; 300 for Pendulum-v1).
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
    obs_noise : float
        Train (and select) under Gaussian observation noise of this level
        (:func:`sim.evaluation.observation_noise`: in units of the input map's observation
        scale); each generation draws its own noise (seeded by the run seed), validation uses
        one fixed draw; the held-out score is noise-free. 0: none.
    randomise : float
        Train (and select) with randomised physics: every episode's physical parameters
        (:attr:`sim.envs.EnvSpec.physics`: CartPole's pole mass and length, MountainCar's
        engine power, Pendulum's mass, length and gravity, Acrobot's link masses) drawn
        uniformly within ``+-randomise`` of nominal from the episode's seed
        (:func:`sim.envs.physics_values`, deterministic); the held-out score is on the
        nominal env. 0: nominal throughout (bit for bit the runs of before the option).
    test_episodes : int
        Fresh episodes (the evaluation stream of ``seed``, the episodes ``sim evaluate
        --seed SEED`` replays) that score the final controller: :attr:`TrainResult.heldout`,
        saved in its provenance as ``heldout``. 0 skips it.
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
    >>> from sim.evaluation import evaluate
    >>> tw = connectome.presets.tap_withdrawal(connectome.load("cook2019"))
    >>> result = train(tw, "CartPole-v1", seed=0, generations=50, target=500.0)
    >>> result.reason, result.score
    ('target', 500.0)
    >>> evaluate(result.controller, episodes=20).mean
    500.0
    """
    import numba

    template = _template(controller, env_id, controller_options)
    seed = _check_int("seed", seed, 0, limits.MAX_SEED)
    episodes = _check_int("episodes", episodes, 1, limits.MAX_EPISODES)
    validation_episodes = _check_int(
        "validation_episodes", validation_episodes, 1, limits.MAX_EVAL_EPISODES
    )
    test_episodes = _check_int("test_episodes", test_episodes, 0, limits.MAX_EVAL_EPISODES)
    defaults = ENV_DEFAULTS.get(template.env.env_id, _GENERIC_DEFAULTS)
    generations = default_generations(template.env.env_id) if generations is None else generations
    generations = _check_int("generations", generations, 1, limits.MAX_GENERATIONS)
    sigma0 = defaults["sigma0"] if sigma0 is None else sigma0
    restarts = defaults["restarts"] if restarts is None else restarts
    restarts = _check_int("restarts", restarts, 0, limits.MAX_GENERATIONS)
    patience = defaults["patience"] if patience is None else patience
    patience = _check_int("patience", patience, 1, limits.MAX_GENERATIONS) if restarts else 0
    if popsize is None:
        popsize = 4 + int(3 * math.log(template.n_free))
    popsize = _check_int("popsize", popsize, 2, limits.MAX_POPULATION)
    if max_seconds is not None:
        max_seconds = limits.check_float(
            max_seconds, "max_seconds", 0.0, limits.MAX_TRAIN_SECONDS, ControllerError
        )
    if target is not None:
        big = limits.MAX_ABS_PARAMETER
        target = limits.check_float(target, "target (score)", -big, big, ControllerError)
    if not (isinstance(sigma0, int | float) and 0 < sigma0 and math.isfinite(sigma0)):
        raise ControllerError(f"sigma0 must be a positive number, got {sigma0!r}")
    if resume and checkpoint is None:
        raise ControllerError("resume=True needs a checkpoint path")
    if checkpoint is not None:
        check_writable(checkpoint, "checkpoint")
        if not resume:
            check_replaceable(checkpoint, CHECKPOINT_FORMAT, "checkpoint")
    if output is not None:
        check_writable(output, "output file")
        check_replaceable(output, CONTROLLER_FORMAT, "output file")
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
        "obs_noise": _check_noise(obs_noise),
        "randomise": _check_randomise(randomise, base.env),
        "template": base.to_dict(),
    }
    state = None
    if resume and os.path.exists(checkpoint):
        state = resume_state(checkpoint, config)
    threads_before = numba.get_num_threads()
    if threads is not None:
        numba.set_num_threads(check_threads(threads))
    try:
        with one_blas_thread():
            result = _run(
                base, config, state, generations, target, max_seconds, checkpoint, output,
                progress, should_stop,
            )  # fmt: skip
            return _with_heldout(result, test_episodes, output)
    finally:
        numba.set_num_threads(threads_before)


def _with_heldout(result, episodes, output) -> TrainResult:
    """The result with its held-out score (``episodes`` fresh episodes), also in the
    controller's provenance (and the output file)."""
    if episodes == 0:
        return result
    ctrl = result.controller
    seeds = episode_seeds(ctrl.provenance["seed"], STREAM_EVALUATION, episodes)
    returns = rollout(ctrl, seeds)[0][0]
    heldout = {
        "mean": float(returns.mean()),
        "std": float(returns.std()),
        "episodes": int(episodes),
        "episodes_from": "evaluation stream of the run seed (unseen by training and selection)",
    }
    ctrl = ctrl.with_theta(ctrl.theta, provenance={**ctrl.provenance, "heldout": heldout})
    if output is not None:
        ctrl.save(output)
    return replace(result, controller=ctrl, heldout=heldout["mean"])


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
        replayed = optimiser_state(es, state["fitness"])
        differ = [k for k, v in replayed.items() if state["optimiser"].get(k) != v]
        if differ or not np.array_equal(es.mean, np.asarray(state["mean"])):
            raise ControllerError(
                "the checkpoint cannot be resumed exactly: replaying cma from the seed with the "
                f"stored fitness gave another optimiser state (differs in "
                f"{', '.join(differ) or 'mean'}); the file was changed or is another run"
            )
        fitness, history, best = state["fitness"], state["history"], state["best"]
        best_ctrl = Controller.from_dict(best["controller"]) if best else None
        elapsed0 = state["elapsed"]
    else:
        es = _segment_es(base, config, 0, config["popsize"])
    val_seeds = episode_seeds(seed, STREAM_VALIDATION, config["validation_episodes"])
    noise, randomise = config["obs_noise"], config["randomise"]

    def validate(theta):
        vseed = int(episode_seeds(seed, STREAM_NOISE - 1, 1)[0])
        returns = rollout(base, val_seeds, theta[None, :], noise, vseed, randomise)[0]
        return float(returns.mean())

    if best_ctrl is not None:  # the stored best score must be what its controller scores
        vscore = validate(best_ctrl.theta)
        if vscore != best["score"]:
            raise ControllerError(
                f"the checkpoint's best score {best['score']!r} is not what its controller "
                f"scores on the validation episodes ({vscore!r}); the file was changed"
            )
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
        seeds = episode_seeds(seed, STREAM_GENERATION + g, episodes)
        nseed = int(episode_seeds(seed, STREAM_NOISE + g, 1)[0])
        returns, _ = rollout(base, seeds, thetas, noise, nseed, randomise)
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
            vscore = validate(thetas[i])
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
            write_checkpoint(
                checkpoint, config, g, fitness, segments, optimiser_state(es, fitness), history,
                best, elapsed,
            )  # fmt: skip
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
        ss = np.random.SeedSequence(config["seed"], spawn_key=(STREAM_CMA, int(k), 1))
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
        "obs_noise": config["obs_noise"],
        "randomise": config["randomise"],
        "trainer": f"CMA-ES (cma {library_versions()['cma']})",
    }

"""Rollouts and evaluation: a controller's returns in numba and in gymnasium's own env.

:func:`rollout` scores many parameter rows of one controller on the same start states (the
numba envs in one batched kernel, :func:`sim.kernels.rollout_batch`; other gymnasium envs
through a Python loop over ``gymnasium.make``); :func:`evaluate` replays a controller in
gymnasium itself, which confirms every result (its returns equal the numba rollout's exactly).
Episode seeds come from the run seed and a stream number (:func:`episode_seeds`), so a
trainer and an evaluation never share episodes.
"""

from dataclasses import dataclass

import numpy as np

from connectome import limits
from connectome.errors import ControllerError
from sim import kernels
from sim.envs import (
    LANE_KEEPING,
    apply_physics,
    check_randomise,
    env_info,
    make_gym_env,
    physics_values,
    reset_states,
)
from sim.lanekeeping import road_variant

__all__ = [
    "STREAM_VALIDATION",
    "STREAM_EVALUATION",
    "STREAM_CMA",
    "STREAM_GENERATION",
    "STREAM_NOISE",
    "episode_seeds",
    "start_states",
    "observation_noise",
    "play_episode",
    "rollout",
    "EvalResult",
    "evaluate",
]

# SeedSequence spawn keys of the random streams of one run.
STREAM_VALIDATION = 0
STREAM_EVALUATION = 1
STREAM_CMA = 2
STREAM_NOISE = 1 << 20  # observation noise of generation g: (STREAM_NOISE, g); validation -1
STREAM_GENERATION = 3  # generation g uses STREAM_GENERATION + g


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


def start_states(env_id, seeds, randomise=0.0, variant=None) -> np.ndarray:
    """Start states ``(len(seeds), state_dim)`` of a numba environment: gymnasium's own
    ``reset(seed=s)`` and each episode's physics (nominal, or drawn within ``+-randomise``
    of nominal from the episode seed: :func:`sim.envs.reset_states`; ``variant``: a
    lane-keeping road)."""
    states = reset_states(env_id, [int(s) for s in seeds], randomise, variant)
    return np.ascontiguousarray(states, np.float64)


def observation_noise(controller, n_episodes, level, noise_seed) -> np.ndarray:
    """Observation noise for :func:`rollout`: ``(E, max_steps, obs_dim)`` standard normal
    draws times ``level`` (the kernel scales them by the env's observation scale, so ``level``
    is in units of the input map's normalisation: a bounded component's half-width, 1 for an
    unbounded one), from ``numpy.random.default_rng(SeedSequence(noise_seed))``; an empty
    array for ``level == 0``."""
    level = float(level)
    if not (level >= 0 and np.isfinite(level)):
        raise ControllerError(f"observation noise must be a finite number >= 0, got {level!r}")
    if level == 0 or n_episodes == 0:
        return np.zeros((0, 0, 0))
    env = controller.env
    rng = np.random.default_rng(np.random.SeedSequence(int(noise_seed)))
    return level * rng.standard_normal((int(n_episodes), env.max_steps, env.obs_dim))


def play_episode(env, controller, seed, noise=None):
    """Return and length of one episode of ``controller`` (its
    :meth:`~sim.control.Controller.act`) in the gymnasium env ``env`` from ``reset(seed)``;
    ``noise`` ``(max_steps, obs_dim)`` is added to what the controller sees, times the env's
    observation scale (as :func:`sim.kernels.rollout_batch` does)."""
    obs, _ = env.reset(seed=int(seed))
    controller.reset()
    scale = np.asarray(controller.env.obs_scale, np.float64)
    total, steps = 0.0, 0
    while True:
        seen = obs if noise is None else np.asarray(obs, np.float64) + noise[steps] * scale
        obs, reward, terminated, truncated, _ = env.step(controller.act(seen))
        total += float(reward)
        steps += 1
        if terminated or truncated:
            return total, steps


def rollout(controller, seeds, thetas=None, obs_noise=0.0, noise_seed=0, randomise=0.0,
            variant=None):  # fmt: skip
    """Returns of ``controller`` (or of parameter rows ``thetas``) from the given start seeds.

    Numba environments run in :func:`sim.kernels.rollout_batch`; other gymnasium envs in a
    Python loop over ``gymnasium.make(env_id)`` (the adapter).

    Parameters
    ----------
    controller : sim.control.Controller
    seeds : sequence of int
        Gymnasium reset seeds, one per episode.
    thetas : ndarray (P, controller.size), optional
        Physical parameters of P candidates (default: the controller's own).
    obs_noise : float
        Gaussian observation noise level (:func:`observation_noise`; 0: none), the same
        draws for every candidate.
    noise_seed : int
        Seeds the noise.
    randomise : float
        Physics randomisation: each episode's physical parameters uniform within
        ``+-randomise`` of nominal, drawn from its seed (:func:`sim.envs.physics_values`);
        0 (default): nominal. Numba environments only.
    variant : str or sim.lanekeeping.RoadVariant, optional
        lane-keeping-v0 only: the road (:func:`sim.lanekeeping.road_variant`; default
        highway-env's own).

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
    noise = observation_noise(controller, E, obs_noise, noise_seed)
    if E == 0 or P == 0:
        return returns, lengths
    env = controller.env
    randomise = check_randomise(randomise)
    if randomise and not env.physics:
        raise ControllerError(
            f"randomise={randomise:g}: {env.env_id} has no physical parameters wormlab can "
            "randomise (the classic-control numba ports have); use randomise=0"
        )
    if env.code >= 0:
        starts = start_states(env.env_id, seeds, randomise, variant)
        kernels.rollout_batch(
            env.code, thetas, controller.gap_weights(thetas), starts,
            noise, env.max_steps, returns, lengths, *controller.program,
        )  # fmt: skip
        return returns, lengths
    if variant is not None:
        raise ControllerError(f"road variants are lane-keeping-v0's, not {env.env_id}'s")
    genv = make_gym_env(env.env_id)
    try:
        for p in range(P):
            ctrl = controller.with_theta(thetas[p])
            for e, s in enumerate(seeds):
                returns[p, e], lengths[p, e] = play_episode(
                    genv, ctrl, s, noise[e] if noise.shape[0] else None
                )
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
    variant : str
        lane-keeping-v0: the road's name (:attr:`sim.lanekeeping.RoadVariant.name`); else "".
    """

    mean: float
    min: float
    max: float
    returns: tuple
    lengths: tuple
    seeds: tuple
    env_id: str
    variant: str = ""


def evaluate(controller, env_id=None, *, episodes=100, seed=0, seeds=None, render_mode=None,
             randomise=0.0, variant=None):  # fmt: skip
    """Replay ``controller`` in gymnasium's own environment.

    Parameters
    ----------
    controller : sim.control.Controller
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
    randomise : float
        0 (default): gymnasium's nominal env. Else each episode's physical parameters are
        drawn from its seed as the trainer's :func:`rollout` draws them
        (:func:`sim.envs.physics_values`) and set on gymnasium's env
        (:func:`sim.envs.apply_physics`).
    variant : str or sim.lanekeeping.RoadVariant, optional
        lane-keeping-v0 only: replay on this road (:func:`sim.lanekeeping.road_variant`),
        highway-env configured or subclassed to match (:func:`sim.lanekeeping.make_env`).

    Returns
    -------
    EvalResult
    """
    if env_id is not None and env_id != controller.env.env_id:
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
        episodes = limits.check_int(
            episodes, "episodes", 1, limits.MAX_EVAL_EPISODES, ControllerError
        )
        seed = limits.check_int(seed, "seed", 0, limits.MAX_SEED, ControllerError)
        seeds = episode_seeds(seed, STREAM_EVALUATION, episodes)
    seeds = tuple(
        limits.check_int(s, "episode seed", 0, limits.MAX_SEED, ControllerError) for s in seeds
    )
    if not 1 <= len(seeds) <= limits.MAX_EVAL_EPISODES:
        raise ControllerError(f"{len(seeds)} episode seeds; give 1 .. {limits.MAX_EVAL_EPISODES}")
    randomise = check_randomise(randomise)
    options, road = {"render_mode": render_mode}, ""
    if env_info(env_id).code == LANE_KEEPING:
        road = road_variant(variant).name
        options["variant"] = variant
    elif variant is not None:
        raise ControllerError(f"road variants are lane-keeping-v0's, not {env_id}'s")
    genv = make_gym_env(env_id, **options)
    ctrl = controller.with_theta(controller.theta)  # own potentials: leave the caller's alone
    out = []
    try:
        for s in seeds:
            if randomise:
                apply_physics(genv, env_id, physics_values(env_id, s, randomise))
            out.append(play_episode(genv, ctrl, s))
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
        variant=road,
    )

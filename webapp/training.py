"""The Train page's logic, without Dash: io maps, configuration, controllers and their jobs.

Io maps, the training configuration, controllers, their evaluation, and the two job kinds
(training, evaluating an upload).

The page (:mod:`webapp.pages.train`) builds a configuration from its fields with
:func:`training_config` and runs it with :func:`run_training` from a Dash background
callback; an upload is checked with :func:`controller_from_upload` and evaluated with
:func:`run_evaluation`, also from a background callback. Both run as background jobs in a
fresh Python process (:mod:`webapp.jobs`, whose notes say how a job is wired and how Cancel
works): :func:`training_job` and :func:`evaluation_job` are what those processes run.
"""

import contextlib
import json
import os
import shutil
from types import MappingProxyType

import numpy as np

import connectome
from connectome import io as wiring_io
from connectome.errors import ControllerError, WiringFormatError, WormlabError
from connectome.limits import MAX_EPISODES, MAX_EVAL_EPISODES, MAX_GENERATIONS, MAX_SEED
from sim.envs import CLASSIC_CONTROL, ENV_IDS, LANE_KEEPING, env_spec
from webapp import runs, tempdirs
from webapp.forms import parse_number
from webapp.jobs import request_stop, run_job
from webapp.uploads import decode_upload

__all__ = [
    "ENVS",
    "LANE_ENV",
    "DEFAULT_CIRCUITS",
    "OBS_LABELS",
    "ACTION_LABELS",
    "DEFAULT_TARGETS",
    "CIRCUIT_PRESETS",
    "MAX_EVAL_EPISODES",
    "warm_up",
    "default_io",
    "io_options",
    "describe_io",
    "circuit_choice",
    "make_controller",
    "record_episode",
    "highway_env_installed",
    "evaluate_controller",
    "lane_run_summary",
    "controller_from_upload",
    "check_result",
    "MAX_SEED",
    "BUDGET_FIELDS",
    "MAX_PAGE_SECONDS",
    "REASONS",
    "budget_field",
    "budget_values",
    "page_result",
    "progress_view",
    "eval_episodes_field",
    "seed_field",
    "training_config",
    "progress_state",
    "training_job",
    "evaluation_job",
    "run_training",
    "run_evaluation",
]

#: highway-env's lane keeping (sim.lanekeeping): trained in the numba port, replayed in
#: highway-env where it is installed (the ``lane`` extra), else scored in the port.
LANE_ENV = ENV_IDS[LANE_KEEPING]
#: The environments the page trains on, and their labels and stop-at scores (sim.envs).
ENVS = (*CLASSIC_CONTROL, LANE_ENV)
OBS_LABELS = MappingProxyType({e: env_spec(e).obs_labels for e in ENVS})
ACTION_LABELS = MappingProxyType({e: env_spec(e).action_label for e in ENVS})
#: The page's stop-at scores: the envs' own (sim.envs); lane keeping has none (highway-env
#: registers no reward threshold; the most a 200-step episode pays is 200), so the page stops
#: at 190, a mean reward of 0.95 per step: a root-mean-square lateral offset of about
#: 10 sqrt(0.05) = 2.2 m on a 10 m lane (clear the field to train to the budget).
DEFAULT_TARGETS = MappingProxyType(
    {e: (190.0 if e == LANE_ENV else env_spec(e).target) for e in ENVS}
)
#: The preset circuits the page offers (connectome.presets names) and their labels.
CIRCUIT_PRESETS = MappingProxyType(
    {
        "tap_withdrawal": "Preset: tap withdrawal",
        "chemotaxis": "Preset: chemotaxis",
        "locomotion": "Preset: locomotion",
        "klinotaxis": "Preset: klinotaxis (head steering)",
    }
)
#: The preset the page picks when an env is chosen, where one suits it better than the
#: page's default (tap withdrawal): the worm's head-steering circuit steers the car
#: (:func:`connectome.presets.klinotaxis`).
DEFAULT_CIRCUITS = MappingProxyType({LANE_ENV: "klinotaxis"})


def warm_up() -> None:
    """Get the training and evaluation kernels ready before the first request.

    Evaluation kernels are compiled (or loaded from numba's cache) here, which also writes
    numba's on-disk cache for the evaluation jobs of uploads. Training runs in fresh
    processes: one tiny run in such a process (one generation of CartPole) writes numba's
    on-disk cache of the batched rollout kernel, so that no user's first run waits for the
    compiler. The server itself never starts numba's threading layer (see
    :mod:`webapp.jobs`).
    """
    from sim.envs import warmup
    from sim.evaluation import evaluate

    warmup()
    circuit = connectome.presets.tap_withdrawal()
    for env_id in CLASSIC_CONTROL:  # lane keeping's replay is highway-env's Python loop
        ctrl = make_controller(circuit, env_id, default_io(circuit, env_id))
        evaluate(ctrl, seeds=[0])
    ctrl = make_controller(circuit, LANE_ENV, default_io(circuit, LANE_ENV))
    _lane_episode(ctrl, 0)  # the port's kernels, as a lane-keeping result records them
    folder = tempdirs.make(tempdirs.WARMUP_PREFIX)
    stop = os.path.join(folder, "stop")
    try:
        request_stop(stop)
        config = {
            "wiring": wiring_io.to_dict(circuit), "env_id": "CartPole-v1",
            "io": default_io(circuit, "CartPole-v1"), "seed": 0, "generations": 1,
            "seconds": 60.0, "target": None, "episodes": 1, "eval_episodes": 1,
        }  # fmt: skip
        run_training(config, lambda _msg: None, stop)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------------ io mapping
def default_io(circuit, env_id: str) -> dict:
    """The io mapping a newcomer gets for ``circuit`` on ``env_id``.

    Input: one-to-one positive/negative pairs of sensory neurons (Lechner et al. 2018) when
    there are two per observation component, else a dense affine map. Output: the difference
    of two motor neurons (AVB - AVA, forward minus reverse, when those are the motor
    neurons) for a one-number action, else a dense readout of every motor neuron.

    Returns
    -------
    dict
        ``{"input_map": "dense"|"pairs", "pairs": [[j, pos, neg], ...],
        "output_map": "difference"|"dense", "output_neurons": [a, b]}``
    """
    from sim.control import default_output_neurons
    from sim.envs import env_info

    info = env_info(env_id)
    sensory, motor = list(circuit.sensory), list(circuit.motor)
    n_pairs = min(info.obs_dim, len(sensory) // 2)
    pairs = [[j, sensory[2 * j], sensory[2 * j + 1]] for j in range(n_pairs)]
    input_map = "pairs" if 2 * info.obs_dim <= len(sensory) else "dense"
    one_number = info.discrete or info.act_dim == 1
    if len(motor) == 2 and one_number:
        out = list(default_output_neurons(motor))
        output_map = "difference"
    else:
        out = motor[:2]
        output_map = "dense"
    return {"input_map": input_map, "pairs": pairs, "output_map": output_map,
            "output_neurons": out}  # fmt: skip


def io_options(io: dict) -> dict:
    """Keyword arguments of :meth:`sim.control.Controller.from_circuit` for an io mapping
    (:func:`default_io`'s format); raises ControllerError for an incomplete mapping."""
    opts = {"input_map": io.get("input_map", "dense"), "output_map": io.get("output_map", "auto")}
    if opts["input_map"] == "pairs":
        pairs = {}
        for item in io.get("pairs") or []:
            j, pos, neg = item
            if not pos and not neg:
                continue
            if not pos or not neg:
                raise ControllerError(
                    f"Input pairs: observation component {j} needs both a positive and a "
                    "negative neuron (or neither)"
                )
            pairs[int(j)] = (pos, neg)
        if not pairs:
            raise ControllerError("Input pairs: give at least one observation component a pair")
        opts["pairs"] = pairs
    if opts["output_map"] == "difference":
        neurons = [n for n in io.get("output_neurons") or [] if n]
        if len(neurons) != 2:
            raise ControllerError("Output: the difference map needs two motor neurons (a - b)")
        opts["output_neurons"] = tuple(neurons)
    return opts


def describe_io(circuit, env_id: str, io: dict) -> str:
    """One sentence saying how observations reach the circuit and actions leave it."""
    labels = OBS_LABELS.get(env_id, ())
    sensory = ", ".join(circuit.sensory) or "none"
    if io.get("input_map") == "pairs":
        parts = [
            f"{labels[j] if j < len(labels) else j} \u2192 {p} (+) / {q} (\u2212)"
            for j, p, q in io.get("pairs") or []
            if p and q
        ]
        inputs = "one-to-one: " + "; ".join(parts)
    else:
        inputs = (
            f"dense: every observation component ({', '.join(labels)}) drives every sensory "
            f"neuron ({sensory}) with a trained weight"
        )
    if io.get("output_map") == "difference":
        a, b = (list(io.get("output_neurons") or []) + ["?", "?"])[:2]
        outputs = f"action from g\u00b7(v[{a}] \u2212 v[{b}]) + b"
    else:
        motor = ", ".join(circuit.motor)
        outputs = f"action from a trained readout of every motor neuron ({motor})"
    return f"Inputs, {inputs}. Output: {outputs}; {ACTION_LABELS.get(env_id, '')}."


def circuit_choice(choice: str, store_circuit, dataset: str | None = None):
    """The circuit picked in the Circuit dropdown: ``"current"`` (the Circuit page's, from
    ``store-circuit``) or a preset name."""
    if choice == "current":
        if not store_circuit:
            raise WiringFormatError(
                "Circuit: there is no circuit from the Circuit page yet; build one there or "
                "pick a preset"
            )
        return wiring_io.from_dict(store_circuit)
    if choice in CIRCUIT_PRESETS:
        return connectome.presets.preset(choice, connectome.load(dataset or "cook2019"))
    raise ControllerError(f"Circuit: unknown choice {choice!r}")


def make_controller(circuit, env_id, io):
    """The untrained :class:`sim.control.Controller` of ``circuit`` on ``env_id`` with the io
    mapping ``io`` (:func:`default_io`'s format); raises ControllerError for a bad mapping."""
    from sim.control import Controller

    return Controller.from_circuit(circuit, env_id, **io_options(io))


# ------------------------------------------------------------------------ evaluation
def record_episode(controller, seed: int) -> dict:
    """One episode of ``controller`` in gymnasium's own env, with the env's state at reset
    and after every step (for :func:`webapp.figures.control.episode_figure`); lane keeping
    in the numba port (for :mod:`webapp.figures.road`: see :func:`_lane_episode`).

    Returns
    -------
    dict
        ``{"env_id", "seed", "states": (T + 1) x state_dim list, "rewards": T list,
        "return": float}`` (lane keeping: also ``lateral``, (T + 1) list).
    """
    if controller.env.env_id == LANE_ENV:
        return _lane_episode(controller, seed)
    import gymnasium

    env = gymnasium.make(controller.env.env_id)
    ctrl = controller.with_theta(controller.theta)
    try:
        obs, _ = env.reset(seed=int(seed))
        ctrl.reset()
        states = [np.asarray(env.unwrapped.state, np.float64).tolist()]
        rewards = []
        while True:
            obs, reward, terminated, truncated, _ = env.step(ctrl.act(obs))
            rewards.append(float(reward))
            states.append(np.asarray(env.unwrapped.state, np.float64).tolist())
            if terminated or truncated:
                break
    finally:
        env.close()
    return {
        "env_id": controller.env.env_id,
        "seed": int(seed),
        "states": states,
        "rewards": rewards,
        "return": float(np.sum(rewards)),
    }


def _lane_episode(controller, seed: int) -> dict:
    """One lane-keeping episode of ``controller`` in the numba port (:mod:`sim.lanekeeping`)
    from ``reset(seed)``: the vehicle state (x, y, heading, speed, lateral speed, yaw rate)
    and the lateral offset (m, :func:`sim.lanekeeping.lateral_offset`) at reset and after
    every step, and the rewards; :func:`record_episode`'s format plus ``lateral``."""
    from sim import lanekeeping

    state = lanekeeping.reset_states([int(seed)])[0]
    obs = np.zeros(lanekeeping.OBS_DIM)
    lanekeeping.observe(state, obs)
    ctrl = controller.with_theta(controller.theta)
    ctrl.reset()
    states = [state[:6].tolist()]
    lateral = [float(lanekeeping.lateral_offset(state))]
    rewards = []
    for _ in range(lanekeeping.MAX_STEPS):
        action = np.float64(ctrl.act(obs)[0])
        rewards.append(float(lanekeeping.step(state, action, obs)))
        states.append(state[:6].tolist())
        lateral.append(float(lanekeeping.lateral_offset(state)))
    return {"env_id": LANE_ENV, "seed": int(seed), "states": states, "rewards": rewards,
            "lateral": lateral, "return": float(sum(rewards))}  # fmt: skip


def highway_env_installed() -> bool:
    """Whether highway-env (the ``lane`` extra), in which lane keeping is replayed, imports."""
    try:
        import highway_env  # noqa: F401
    except ImportError:
        return False
    return True


def evaluate_controller(controller, episodes: int = 20, seed: int = 0) -> dict:
    """Evaluation in gymnasium's own env (:func:`sim.evaluation.evaluate`) and one recorded
    episode (the first evaluation seed), as JSON-ready data.

    ``evaluation["replay"]`` names where the score comes from: ``"gymnasium"``;
    ``"highway-env"`` for lane keeping, or, where highway-env is not installed,
    ``"numba port"`` (:func:`sim.evaluation.rollout` over the same episode seeds: the port
    equals highway-env bit for bit, tests/test_lanekeeping.py). Lane keeping also gives
    ``lateral_errors`` (per episode, the mean absolute lateral offset in m, in the port) and
    their mean ``lateral_error``.
    """
    from sim.evaluation import STREAM_EVALUATION, episode_seeds, evaluate, rollout

    env_id = controller.env.env_id
    if env_id != LANE_ENV:
        ev = evaluate(controller, episodes=int(episodes), seed=int(seed))
        returns, seeds, replay, extra = ev.returns, ev.seeds, "gymnasium", {}
    else:
        seeds = [int(s) for s in episode_seeds(int(seed), STREAM_EVALUATION, int(episodes))]
        if highway_env_installed():
            returns, replay = evaluate(controller, seeds=seeds).returns, "highway-env"
        else:
            returns, replay = rollout(controller, seeds)[0][0], "numba port"
        traces = [_lane_episode(controller, s) for s in seeds]
        errors = [float(np.mean(np.abs(t["lateral"][1:]))) for t in traces]
        extra = {"lateral_errors": errors, "lateral_error": float(np.mean(errors))}
    returns = [float(r) for r in returns]
    return {
        "evaluation": {
            "env_id": env_id,
            "replay": replay,
            "mean": float(np.mean(returns)),
            "min": float(np.min(returns)),
            "max": float(np.max(returns)),
            "episodes": len(returns),
            "returns": returns,
            "seeds": [int(s) for s in seeds],
            **extra,
        },
        "episode": traces[0] if env_id == LANE_ENV else record_episode(controller, seeds[0]),
    }


def lane_run_summary(result: dict) -> dict | None:
    """One row of the Train page's comparison of circuits (:mod:`webapp.figures.road`) for a
    lane-keeping result (``train-result``, checked by :func:`check_result`); None for a result
    of another env, an uploaded one, or one without lateral errors (an older version's).

    Returns
    -------
    dict
        ``{"key": the controller's content hash (one row per run), "label", "return" (the
        evaluation's mean), "lateral_error" (m), "replay"}``; ``label`` names the preset whose
        neurons the controller has (else "Circuit page circuit"), its size, io maps and
        seed.
    """
    import hashlib

    ev = result["evaluation"]
    if result.get("source") != "trained" or ev["env_id"] != LANE_ENV or (
        "lateral_error" not in ev
    ):  # fmt: skip
        return None
    ctrl = result["controller"]
    names = {n["name"] for n in ctrl["neurons"]}
    net = connectome.load(ctrl.get("dataset") or "cook2019")
    circuit = "Circuit page circuit"
    for key in CIRCUIT_PRESETS:
        if set(connectome.presets.preset(key, net).roles) == names:
            circuit = key.replace("_", " ")
            break
    seed = (ctrl.get("provenance") or {}).get("seed", "?")
    maps = "/".join(str((ctrl.get(k) or {}).get("kind", "?")) for k in ("input_map", "output_map"))
    text = json.dumps(ctrl, sort_keys=True).encode()
    return {
        "key": hashlib.sha256(text).hexdigest()[:16],
        "label": f"{circuit} ({len(names)} neurons, {maps}, seed {seed})",
        "return": float(ev["mean"]),
        "lateral_error": float(ev["lateral_error"]),
        "replay": ev.get("replay", "gymnasium"),
    }


def controller_from_upload(contents: str):
    """A controller from an uploaded JSON (data URL), validated; nothing is unpickled or
    evaluated, and only the page's envs (:data:`ENVS`) are accepted.

    Raises
    ------
    WiringFormatError, ControllerError
        With a message naming the problem.
    """
    from sim.control import Controller
    from sim.envs import env_info

    raw = decode_upload(contents, text=True)
    try:
        data = json.loads(raw)
    except ValueError as err:
        raise WiringFormatError(f"not a JSON file ({err})") from err
    if isinstance(data, dict) and data.get("format") == "wormlab-wiring":
        raise WiringFormatError(
            "this is a circuit wiring file, not a trained controller: load it on the Circuit "
            "page and train it here"
        )
    env = data.get("env") if isinstance(data, dict) else None
    env_id = env.get("env_id") if isinstance(env, dict) else None
    if env_id not in ENVS:
        raise WiringFormatError(f"env.env_id is {env_id!r}; this page evaluates {', '.join(ENVS)}")
    ctrl = Controller.from_dict(data)
    real = env_info(env_id)
    mine = ctrl.env
    if (mine.obs_dim, mine.discrete, mine.n_actions, mine.act_dim) != (
        real.obs_dim, real.discrete, real.n_actions, real.act_dim,
    ):  # fmt: skip
        raise WiringFormatError(
            f"env: the file describes {env_id} with {mine.obs_dim} observations, gymnasium's "
            f"has {real.obs_dim}"
        )
    return ctrl


#: What the Train page's stored result must hold: key -> (type, keys it must hold).
_RESULT_PARTS = MappingProxyType(
    {
        "evaluation": (dict, ("env_id", "mean", "min", "max", "episodes")),
        "episode": (dict, ("env_id", "seed", "states", "rewards", "return")),
        "controller": (dict, ("neurons", "synapses", "env")),
    }
)


def check_result(result):
    """The Train page's stored result (``train-result``, kept by the browser), checked to
    hold what the page shows; None stays None.

    Raises
    ------
    WiringFormatError
        Naming the missing or malformed part (e.g. a result stored by an older version).
    """
    if result is None:
        return None
    if not isinstance(result, dict):
        raise WiringFormatError(f"the stored result is a {type(result).__name__}, not a dict")
    for part, (kind, keys) in _RESULT_PARTS.items():
        value = result.get(part)
        if not isinstance(value, kind):
            raise WiringFormatError(f"the stored result has no {part}")
        missing = [k for k in keys if k not in value]
        if missing:
            raise WiringFormatError(f"the stored result's {part} lacks {', '.join(missing)}")
    run = [k for k in ("generations", "elapsed", "score") if k not in result]
    if result.get("source") == "trained" and run:
        raise WiringFormatError(f"the stored result lacks {', '.join(run)}")
    if not all(isinstance(n, dict) and "name" in n for n in result["controller"]["neurons"]):
        raise WiringFormatError("the stored result's controller has malformed neurons")
    return result


# ------------------------------------------------------------------------ configuration
def eval_episodes_field(value) -> int:
    """The Evaluation episodes field: a whole number from 1 to :data:`MAX_EVAL_EPISODES`
    (raises FieldError naming the field)."""
    return budget_field("eval_episodes", value)


def seed_field(value) -> int:
    """The Seed field: a whole number from 0 to :data:`MAX_SEED` (raises FieldError)."""
    return budget_field("seed", value)


def training_config(values) -> dict:
    """The training configuration from the page's fields (raises a WormlabError naming the
    field: FieldError, ControllerError, WiringFormatError)."""
    circuit = circuit_choice(values["circuit"], values["store_circuit"], values["dataset"])
    problems = [p for p in circuit.problems() if "disconnected" not in p]
    if problems:
        raise ControllerError("Circuit: " + "; ".join(problems))
    env_id = values["env"]
    if env_id not in ENVS:
        raise ControllerError(f"Environment: pick one of {', '.join(ENVS)}")
    io = values["io"]
    make_controller(circuit, env_id, io)  # validates the io mapping
    budget = budget_values(values)
    return {"wiring": wiring_io.to_dict(circuit), "env_id": env_id, "io": io, **budget}


#: The page's wall-time budget of one run, s: an hour (a web user's run holds a worker; the
#: command line allows connectome.limits.MAX_TRAIN_SECONDS).
MAX_PAGE_SECONDS = 3600
#: The budget fields of the page: config key -> (field label, parse_number options); the
#: bounds are connectome.limits's.
BUDGET_FIELDS = MappingProxyType(
    {
        "seconds": ("Seconds", {"lo": 1, "hi": MAX_PAGE_SECONDS}),
        "generations": ("Generations", {"lo": 1, "hi": MAX_GENERATIONS, "integer": True}),
        "target": ("Stop at return", {"blank": None}),
        "episodes": ("Episodes / candidate", {"lo": 1, "hi": MAX_EPISODES, "integer": True}),
        "seed": ("Seed", {"lo": 0, "hi": MAX_SEED, "integer": True}),
        "eval_episodes": (
            "Evaluation episodes",
            {"lo": 1, "hi": MAX_EVAL_EPISODES, "integer": True},
        ),
    }
)


def budget_field(key: str, value):
    """One budget field's value (:data:`BUDGET_FIELDS`), parsed; raises FieldError whose
    message names the field, the bad value and the allowed range."""
    label, options = BUDGET_FIELDS[key]
    x = parse_number(value, label, **options)
    return None if x is None else (float(x) if key in ("seconds", "target") else x)


def budget_values(values) -> dict:
    """The budget part of the configuration (every :data:`BUDGET_FIELDS` key) from the
    page's fields; raises FieldError for the first bad one."""
    return {key: budget_field(key, values[key]) for key in BUDGET_FIELDS}


# ------------------------------------------------------------------------ training job
def progress_state(env_id, seed, generation, budget_generations, budget_seconds, best, mean,
                   elapsed, note=""):  # fmt: skip
    """(value, max, text) of the progress bar: the larger of the generation and the time
    fractions of the budget, in percent."""
    frac = generation / max(budget_generations, 1)
    if budget_seconds:
        frac = max(frac, elapsed / budget_seconds)
    value = int(round(100 * min(frac, 1.0)))
    text = (
        f"{env_id}, seed {seed}: generation {generation} of at most {budget_generations}"
        f" \u00b7 best {best:.1f} \u00b7 mean {mean:.1f} \u00b7 {elapsed:.1f} s"
    )
    if budget_seconds:
        text += f" of {budget_seconds:g} s"
    if note:
        text += f" \u2014 {note}"
    return value, 100, text


def training_job(config: dict, emit, should_stop) -> dict:
    """The training job (:mod:`webapp.jobs`, kind ``train``): train, evaluate in gymnasium,
    and return the result; progress goes to ``emit`` after every generation.

    With ``config["folder"]`` (a run folder, :mod:`webapp.runs`) the job records itself
    there as the run's process, writes the trainer's checkpoint there after every
    generation, stops also at a stop mark there, and writes its result (or error) there
    last; ``config["resume"]`` continues the run from that checkpoint (the same result as an
    uninterrupted run: :mod:`sim.trainer`).
    """
    folder = config.get("folder")
    if not folder:
        return _train(config, emit, should_stop, None)
    runs.record_owner(folder)
    mark = os.path.join(folder, "stop")

    def phase_or_progress(msg):
        if msg["kind"] == "phase":
            runs.record_phase(folder, msg["text"])
        emit(msg)

    try:
        out = _train(config, phase_or_progress, lambda: should_stop() or os.path.exists(mark),
                     os.path.join(folder, runs.CHECKPOINT))  # fmt: skip
    except Exception as err:
        with contextlib.suppress(OSError):  # e.g. a full disk: the checkpoint stays resumable
            text = str(err) if isinstance(err, WormlabError) else f"{type(err).__name__}: {err}"
            runs.record_result(folder, {"kind": "error", "text": text})
        raise
    runs.record_result(folder, {"kind": "result", **out})
    return out


def _train(config, emit, should_stop, checkpoint):
    from sim.trainer import train

    circuit = wiring_io.from_dict(config["wiring"])
    ctrl = make_controller(circuit, config["env_id"], config["io"])
    emit({"kind": "phase", "text": "training: first generation"})

    def progress(generation, best, mean, elapsed):
        emit(
            {
                "kind": "progress",
                "generation": int(generation),
                "best": float(best),
                "mean": float(mean),
                "elapsed": float(elapsed),
            }
        )

    result = train(
        ctrl,
        seed=config["seed"],
        generations=config["generations"],
        episodes=config["episodes"],
        target=config["target"],
        max_seconds=config["seconds"],
        progress=progress,
        should_stop=should_stop,
        checkpoint=checkpoint,
        resume=bool(config.get("resume")) and checkpoint is not None,
        # the held-out score (sim.trainer): the episodes the gymnasium evaluation replays
        test_episodes=config["eval_episodes"],
    )
    emit({"kind": "phase", "text": "evaluating in gymnasium"})
    done = evaluate_controller(result.controller, config["eval_episodes"], config["seed"])
    return {
        "controller": result.controller.to_dict(),
        "score": result.score,
        "generations": result.generations,
        "elapsed": result.elapsed,
        "reason": result.reason,
        "heldout": result.heldout,
        "history": [dict(h) for h in result.history],
        **done,
    }


#: Words for why a run stopped (the trainer's ``reason``).
REASONS = MappingProxyType(
    {
        "target": "target reached",
        "stopped": "cancelled",
        "time": "time budget used",
        "generations": "generation budget used",
    }
)


def page_result(out: dict) -> dict:
    """What the Train page keeps of a finished training job's result (``train-result``)."""
    keys = ("controller", "score", "generations", "elapsed", "reason", "history",
            "evaluation", "episode")  # fmt: skip
    return {"source": "trained", **{k: out[k] for k in keys}}


def progress_view(config: dict, history, note="", done=False):
    """(value, max, text) of the progress bar for a run of ``config`` after ``history``
    (per-generation dicts with generation, best, mean, elapsed); ``done`` fills the bar."""
    last = history[-1] if history else {"generation": 0, "best": 0.0, "mean": 0.0,
                                        "elapsed": 0.0}  # fmt: skip
    value, vmax, text = progress_state(
        config["env_id"], config["seed"], last["generation"], config["generations"],
        config["seconds"], last["best"], last["mean"], last["elapsed"], note,
    )  # fmt: skip
    return (vmax if done else value), vmax, text


def evaluation_job(config: dict, emit, should_stop) -> dict:
    """The evaluation job (:mod:`webapp.jobs`, kind ``evaluate``): an uploaded controller
    (``config["controller"]``, :meth:`sim.control.Controller.to_dict` data, already
    checked by :func:`controller_from_upload`) evaluated over ``config["episodes"]``
    episodes from ``config["seed"]`` (:func:`evaluate_controller`)."""
    from sim.control import Controller

    ctrl = Controller.from_dict(config["controller"])
    n = int(config["episodes"])
    emit({"kind": "phase", "text": f"evaluating {n} episode{'s' if n != 1 else ''} in gymnasium"})
    return evaluate_controller(ctrl, n, int(config["seed"]))


def run_training(config: dict, on_progress, stop_file: str, folder: str | None = None,
                 resume: bool = False) -> dict:  # fmt: skip
    """Run one training job in a fresh Python process (:func:`webapp.jobs.run_job`) and
    relay its progress.

    Parameters
    ----------
    config : dict
        wiring, env_id, io, seed, generations, seconds, target, episodes, eval_episodes.
    on_progress : callable
        Called with each message ``{"kind": "progress", generation, best, mean, elapsed}``
        or ``{"kind": "phase", "text"}``.
    stop_file : str
        Once this file exists the trainer stops after its current generation; the best
        controller so far is then evaluated and returned. Its folder is made here (the run
        exists from now on: :func:`request_stop` can mark it); :func:`clear_stop` removes
        both once the run has ended.
    folder : str, optional
        The run's folder (:mod:`webapp.runs`): the job keeps its checkpoint, state and
        result there (:func:`training_job`).
    resume : bool
        Continue the run from the checkpoint in ``folder``.

    Returns
    -------
    dict
        The job's result (``kind`` 'result', with controller, score, generations, elapsed,
        reason, history, evaluation, episode) or ``{"kind": "error", "text"}``.
    """
    if folder is not None:
        config = {**config, "folder": folder, "resume": bool(resume)}
    return run_job("train", config, on_progress, stop_file)


def run_evaluation(controller: dict, episodes: int, seed: int, on_progress) -> dict:
    """Evaluate a controller (:meth:`sim.control.Controller.to_dict` data) in a fresh
    Python process (:func:`webapp.jobs.run_job`, kind ``evaluate``).

    Returns
    -------
    dict
        ``{"kind": "result", "evaluation", "episode"}`` as :func:`evaluate_controller`
        gives them, or ``{"kind": "error", "text"}``.
    """
    config = {"controller": controller, "episodes": int(episodes), "seed": int(seed)}
    return run_job("evaluate", config, on_progress)

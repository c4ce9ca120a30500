"""The Train page: train a circuit as a controller for a gymnasium task, watch it, keep it.

Pick the circuit (the Circuit page's, or a preset), an environment, the io mapping
(observation -> sensory neurons, motor neurons -> action), a budget and a seed. Training
(:func:`sim.train.train`, CMA-ES) runs as a Dash background callback with a progress bar, a
live learning curve and a Cancel button; the result is replayed in gymnasium's own env
(mean, min and max return over N episodes), one episode is animated, the trained weights are
drawn on the circuit and the controller JSON can be downloaded. An uploaded controller JSON
is evaluated and animated the same way.

How a run is wired
------------------
The background callback runs in a process that Dash forks from the server. The training
itself runs in a fresh Python process started from there (:func:`run_training`): a process
forked from a server whose numba threading layer is already running (GNU OpenMP, e.g. after
a parallel simulation) aborts when it starts its own parallel kernels, and a fresh process
does not inherit that state. The worker reads its configuration on stdin and writes
progress and the result as JSON lines on stdout; it loads the compiled kernels from numba's
on-disk cache. Nothing but JSON crosses between the processes.

Cancel does not kill the job: it leaves a stop mark (a file named after the run in the
system temp folder) that the trainer's ``should_stop`` hook looks for after every
generation, so the trainer returns the best controller found so far, which is evaluated
and kept like a finished run. Each page load has its own session id, part of the run id
and of the callback's arguments, so two browsers training at once never share a job or its
progress.
"""

import base64
import binascii
import json
import math
import os
import re
import shutil
import tempfile
import uuid
from types import MappingProxyType

import dash_cytoscape as cyto
import numpy as np
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

import connectome
from connectome import io as wiring_io
from connectome.errors import ControllerError, WiringFormatError, WormlabError
from webapp.figures.control import (
    ANIMATED_ENVS,
    circuit_elements,
    circuit_stylesheet,
    empty_figure,
    episode_figure,
    learning_curve_figure,
)

__all__ = [
    "PATH",
    "NAME",
    "ORDER",
    "ENVS",
    "OBS_LABELS",
    "DEFAULT_TARGETS",
    "layout",
    "register_callbacks",
    "warm_up",
    "default_io",
    "io_options",
    "describe_io",
    "circuit_choice",
    "record_episode",
    "evaluate_controller",
    "controller_from_upload",
    "run_training",
    "progress_state",
]

PATH = "/train"
NAME = "Train"
ORDER = 3

ENVS = ("CartPole-v1", "MountainCarContinuous-v0", "Pendulum-v1", "Acrobot-v1")
OBS_LABELS = MappingProxyType(
    {
        "CartPole-v1": ("cart position", "cart velocity", "pole angle", "pole angular velocity"),
        "MountainCarContinuous-v0": ("car position", "car velocity"),
        "Pendulum-v1": ("cos \u03b8", "sin \u03b8", "angular velocity"),
        "Acrobot-v1": (
            "cos \u03b81",
            "sin \u03b81",
            "cos \u03b82",
            "sin \u03b82",
            "\u03b81 velocity",
            "\u03b82 velocity",
        ),
    }
)
ACTION_LABELS = MappingProxyType(
    {
        "CartPole-v1": "push left / right (Discrete 2)",
        "MountainCarContinuous-v0": "engine force in [-1, 1]",
        "Pendulum-v1": "torque in [-2, 2]",
        "Acrobot-v1": "torque -1 / 0 / +1 (Discrete 3)",
    }
)
#: Stop-at scores: CartPole's maximum, gymnasium's reward thresholds for MountainCar and
#: Acrobot; Pendulum has none (train until the budget is spent).
DEFAULT_TARGETS = MappingProxyType(
    {
        "CartPole-v1": 500.0,
        "MountainCarContinuous-v0": 90.0,
        "Pendulum-v1": None,
        "Acrobot-v1": -100.0,
    }
)
_PRESETS = MappingProxyType(
    {
        "tap_withdrawal": "Preset: tap withdrawal",
        "chemotaxis": "Preset: chemotaxis",
        "locomotion": "Preset: locomotion",
    }
)
_SESSION = re.compile(r"^[0-9a-f]{32}$")
_MAX_EVAL_EPISODES = 200


def _stop_path(run_id: str) -> str:
    """The stop mark of one run (a file in the system temp folder)."""
    return os.path.join(tempfile.gettempdir(), "wormlab-train-stop", run_id)


def _run_id(session, n_clicks) -> str:
    if not isinstance(session, str) or not _SESSION.match(session):
        raise ControllerError("this page has no valid session id: reload the page")
    return f"{session}-{int(n_clicks or 0)}"


def warm_up() -> None:
    """Get the training and evaluation kernels ready before the first request.

    Evaluation (uploads) runs in the server: its kernels are compiled (or loaded from numba's
    cache) here. Training runs in fresh processes: one tiny run in such a process (one
    generation of CartPole) writes numba's on-disk cache of the batched rollout kernel, so
    that no user's first run waits for the compiler. The server itself never starts numba's
    threading layer (see the module notes).
    """
    from sim.envs import warmup
    from sim.train import evaluate

    warmup()
    circuit = connectome.presets.tap_withdrawal()
    for env_id in ENVS:
        ctrl = _controller(circuit, env_id, default_io(circuit, env_id))
        evaluate(ctrl, seeds=[0])
    folder = tempfile.mkdtemp(prefix="wormlab-warmup-")
    stop = os.path.join(folder, "stop")
    try:
        with open(stop, "w", encoding="utf-8") as f:
            f.write("stop\n")
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
    from sim.control import env_info

    info = env_info(env_id)
    sensory, motor = list(circuit.sensory), list(circuit.motor)
    n_pairs = min(info.obs_dim, len(sensory) // 2)
    pairs = [[j, sensory[2 * j], sensory[2 * j + 1]] for j in range(n_pairs)]
    input_map = "pairs" if 2 * info.obs_dim <= len(sensory) else "dense"
    one_number = info.discrete or info.act_dim == 1
    if len(motor) == 2 and one_number:
        out = ["AVB", "AVA"] if set(motor) == {"AVA", "AVB"} else motor
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
    if choice in _PRESETS:
        return connectome.presets.preset(choice, connectome.load(dataset or "cook2019"))
    raise ControllerError(f"Circuit: unknown choice {choice!r}")


def _controller(circuit, env_id, io):
    from sim.control import Controller

    return Controller.from_circuit(circuit, env_id, **io_options(io))


# ------------------------------------------------------------------------ evaluation
def record_episode(controller, seed: int) -> dict:
    """One episode of ``controller`` in gymnasium's own env, with the env's state at reset
    and after every step (for :func:`webapp.figures.control.episode_figure`).

    Returns
    -------
    dict
        ``{"env_id", "seed", "states": (T + 1) x state_dim list, "rewards": T list,
        "return": float}``
    """
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


def evaluate_controller(controller, episodes: int = 20, seed: int = 0) -> dict:
    """Evaluation in gymnasium's own env (:func:`sim.train.evaluate`) and one recorded
    episode (the first evaluation seed), as JSON-ready data."""
    from sim.train import evaluate

    ev = evaluate(controller, episodes=int(episodes), seed=int(seed))
    return {
        "evaluation": {
            "env_id": ev.env_id,
            "mean": ev.mean,
            "min": ev.min,
            "max": ev.max,
            "episodes": len(ev.returns),
            "returns": list(ev.returns),
            "seeds": list(ev.seeds),
        },
        "episode": record_episode(controller, ev.seeds[0]),
    }


def controller_from_upload(contents: str):
    """A controller from an uploaded JSON (data URL), validated; nothing is unpickled or
    evaluated, and only the four classic-control envs are accepted.

    Raises
    ------
    WiringFormatError, ControllerError
        With a message naming the problem.
    """
    from sim.control import Controller, env_info

    if not isinstance(contents, str) or "," not in contents:
        raise WiringFormatError("the upload is empty or not a file")
    payload = contents.partition(",")[2]
    if len(payload) * 3 // 4 > wiring_io.MAX_BYTES + 3:
        raise WiringFormatError(
            f"file too large: about {len(payload) * 3 // 4:,} bytes; the limit is "
            f"{wiring_io.MAX_BYTES:,} bytes"
        )
    try:
        data = json.loads(base64.b64decode(payload, validate=True).decode("utf-8"))
    except (binascii.Error, ValueError) as err:
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


_MARK = "@wormlab-train "  # prefix of the worker's message lines on its stdout


def _worker_main() -> None:
    """Entry point of the training process: reads the configuration (JSON) on stdin,
    trains, evaluates, and writes progress and the result as marked JSON lines on stdout."""
    import sys

    def emit(msg):
        sys.stdout.write(_MARK + json.dumps(msg) + "\n")
        sys.stdout.flush()

    try:
        from sim.train import train

        config = json.loads(sys.stdin.read())
        stop_file = config["stop_file"]
        circuit = wiring_io.from_dict(config["wiring"])
        ctrl = _controller(circuit, config["env_id"], config["io"])
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
            should_stop=lambda: os.path.exists(stop_file),
        )
        emit({"kind": "phase", "text": "evaluating in gymnasium"})
        done = evaluate_controller(result.controller, config["eval_episodes"], config["seed"])
        emit(
            {
                "kind": "result",
                "controller": result.controller.to_dict(),
                "score": result.score,
                "generations": result.generations,
                "elapsed": result.elapsed,
                "reason": result.reason,
                "history": [dict(h) for h in result.history],
                **done,
            }
        )
    except WormlabError as err:
        emit({"kind": "error", "text": str(err)})
    except Exception as err:  # noqa: BLE001 - reported to the page, never as a traceback
        emit({"kind": "error", "text": f"training failed: {type(err).__name__}: {err}"})


def run_training(config: dict, on_progress, stop_file: str) -> dict:
    """Run one training job in a fresh Python process and relay its progress.

    Parameters
    ----------
    config : dict
        wiring, env_id, io, seed, generations, seconds, target, episodes, eval_episodes.
    on_progress : callable
        Called with each message ``{"kind": "progress", generation, best, mean, elapsed}``
        or ``{"kind": "phase", "text"}``.
    stop_file : str
        Once this file exists the trainer stops after its current generation; the best
        controller so far is then evaluated and returned.

    Returns
    -------
    dict
        The worker's result message (``kind`` 'result', with controller, score,
        generations, elapsed, reason, history, evaluation, episode) or
        ``{"kind": "error", "text"}``.
    """
    import pathlib
    import subprocess
    import sys

    root = str(pathlib.Path(__file__).resolve().parents[2])
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    errors = tempfile.TemporaryFile(mode="w+", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from webapp.pages.train import _worker_main; _worker_main()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=errors,
        cwd=root,
        env=env,
        text=True,
    )
    final = None
    try:
        proc.stdin.write(json.dumps(dict(config, stop_file=stop_file)))
        proc.stdin.close()
        for line in proc.stdout:
            if not line.startswith(_MARK):
                continue
            msg = json.loads(line[len(_MARK) :])
            if msg["kind"] in ("result", "error"):
                final = msg
            else:
                on_progress(msg)
    finally:
        if proc.poll() is None:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        errors.seek(0)
        log = errors.read()
        errors.close()
    if log.strip():
        sys.stderr.write(log)  # the server's log keeps the details
    if final is None:
        last = log.strip().splitlines()[-1:] or [""]
        return {
            "kind": "error",
            "text": f"the training process ended without a result (exit code "
            f"{proc.returncode}) {last[0][:200]}".strip(),
        }
    return final


# ------------------------------------------------------------------------ layout
def _card(title, *children, **style):
    return html.Div(
        [html.H4(title, style={"margin": "0 0 8px 0", "fontSize": "15px"}), *children],
        style={
            "border": "1px solid #dee2e6",
            "borderRadius": "6px",
            "padding": "10px 12px",
            "marginBottom": "10px",
            "background": "#fff",
            **style,
        },
    )


def _label(text, child, width=None):
    style = {"display": "inline-block", "marginRight": "10px", "verticalAlign": "top"}
    if width:
        style["width"] = width
    return html.Label(
        [html.Span(text, style={"display": "block", "fontSize": "12px", "color": "#495057"}),
         child],
        style=style,
    )  # fmt: skip


def _num(id_, value, min_, max_=None, step=1, width=90):
    return dcc.Input(
        id=id_, type="number", value=value, min=min_, max=max_, step=step,
        style={"width": f"{width}px"},
    )  # fmt: skip


def _button(text, id_, primary=False, disabled=False):
    return html.Button(
        text,
        id=id_,
        n_clicks=0,
        disabled=disabled,
        className="wl-button wl-primary" if primary else "wl-button",
        style={"marginRight": "6px", "marginTop": "6px"},
    )


def _msg(id_):
    return html.Div(id=id_, role="status", style={"fontSize": "13px", "marginTop": "4px"})


def layout(**_query):
    """The Train page (query parameters are ignored)."""
    envs = [{"label": e, "value": e} for e in ENVS]
    settings = _card(
        "1. What to train",
        html.Div(
            [
                _label(
                    "Circuit",
                    dcc.Dropdown(
                        id="train-circuit",
                        clearable=False,
                        value="tap_withdrawal",
                        options=[{"label": v, "value": k} for k, v in _PRESETS.items()],
                        style={"width": "330px"},
                    ),
                ),
                _label(
                    "Environment",
                    dcc.Dropdown(
                        id="train-env",
                        options=envs,
                        value="CartPole-v1",
                        clearable=False,
                        style={"width": "250px"},
                    ),
                ),
            ]
        ),  # fmt: skip
        html.Div(
            id="train-circuit-info",
            style={"fontSize": "12px", "color": "#495057", "margin": "4px 0"},
        ),  # fmt: skip
        html.Div(
            [
                _label(
                    "Input map",
                    dcc.RadioItems(
                        id="train-input-map",
                        value="dense",
                        inline=True,
                        options=[
                            {"label": " dense ", "value": "dense"},
                            {"label": " one-to-one pairs", "value": "pairs"},
                        ],
                    ),
                ),
                _label(
                    "Output map",
                    dcc.RadioItems(
                        id="train-output-map",
                        value="difference",
                        inline=True,
                        options=[
                            {"label": " difference of two motor neurons ", "value": "difference"},
                            {"label": " dense readout", "value": "dense"},
                        ],
                    ),
                ),
            ]
        ),  # fmt: skip
        html.Div(id="train-pairs", style={"marginTop": "4px"}),
        html.Div(
            [
                _label(
                    "Output a",
                    dcc.Dropdown(id="train-out-a", clearable=False, style={"width": "140px"}),
                ),
                _label(
                    "minus b",
                    dcc.Dropdown(id="train-out-b", clearable=False, style={"width": "140px"}),
                ),
            ],
            id="train-out-neurons",
        ),
        html.Div(
            id="train-io-text", style={"fontSize": "12px", "color": "#495057", "marginTop": "6px"}
        ),  # fmt: skip
        _msg("train-io-msg"),
    )
    budget = _card(
        "2. Budget",
        _label("Seconds", _num("train-seconds", 60, 1, 3600)),
        _label("Generations", _num("train-generations", 300, 1, 100000)),
        _label("Stop at return", _num("train-target", 500, None, None, "any", 110)),
        _label("Episodes / candidate", _num("train-episodes", 8, 1, 100)),
        _label("Seed", _num("train-seed", 0, 0, 2**31 - 1)),
        _label("Evaluation episodes", _num("train-eval-episodes", 20, 1, _MAX_EVAL_EPISODES)),
        html.Div(
            [
                _button("Train", "train-run", primary=True),
                _button("Cancel", "train-cancel", disabled=True),
            ]
        ),
        _msg("train-msg"),
    )
    progress = _card(
        "3. Progress",
        html.Progress(id="train-progress", value="0", max="100",
                      style={"width": "100%", "height": "18px"}),
        html.Div(id="train-progress-text", children="Not started.",
                 style={"fontSize": "13px", "margin": "4px 0"}),
        dcc.Graph(id="train-curve", figure=learning_curve_figure([]),
                  config={"displayModeBar": False}, style={"height": "260px"}),
    )  # fmt: skip
    results = _card(
        "4. Result",
        html.Div(id="train-result-text", children="Train a controller or upload one.",
                 style={"fontSize": "14px"}),
        html.Div(
            [
                _button("Download controller JSON", "train-download-btn", disabled=True),
                dcc.Download(id="train-download"),
            ]
        ),
        dcc.Upload(
            id="train-upload",
            children=html.Div(["Evaluate a controller JSON: drop it here or ",
                               html.A("choose a file")]),
            accept=".json,application/json",
            multiple=False,
            style={"border": "1px dashed #adb5bd", "borderRadius": "6px", "padding": "8px",
                   "textAlign": "center", "marginTop": "8px", "fontSize": "13px",
                   "cursor": "pointer"},
        ),  # fmt: skip
        _msg("train-upload-msg"),
        dcc.Graph(id="train-animation", figure=empty_figure("The episode appears here.", 360),
                  config={"displayModeBar": False}, style={"height": "360px"}),
        html.Div("Trained weights: line width grows with the synapse's maximum conductance w "
                 "(gap junctions: their conductance g); click a synapse or a neuron for its "
                 "trained parameters.",
                 style={"fontSize": "12px", "color": "#495057"}),
        cyto.Cytoscape(
            id="train-weights",
            elements=[],
            layout={"name": "preset", "fit": True, "padding": 20},
            stylesheet=circuit_stylesheet(),
            style={"width": "100%", "height": "380px", "background": "#fcfcfd"},
            minZoom=0.2,
            maxZoom=2,
        ),
        html.Div(id="train-tap-info", style={"fontSize": "12px", "minHeight": "16px"}),
    )  # fmt: skip
    return html.Div(
        [
            dcc.Store(id="train-session", data=uuid.uuid4().hex),
            dcc.Store(id="train-result", storage_type="session"),
            html.H2("Train", style={"margin": "4px 0 2px 0"}),
            html.P(
                "Train the circuit as a controller (liquid time-constant neurons wired as in "
                "the connectome; CMA-ES tunes weights, time constants and the io maps), then "
                "check it in gymnasium's own environment and download it.",
                style={"fontSize": "13px", "color": "#495057", "marginTop": 0},
            ),
            html.Div(
                [
                    html.Div(
                        [settings, budget, progress], style={"flex": "1 1 520px", "minWidth": "0"}
                    ),
                    html.Div([results], style={"flex": "1 1 520px", "minWidth": "0"}),
                ],
                style={"display": "flex", "gap": "14px", "flexWrap": "wrap"},
            ),  # fmt: skip
        ],
        id="train-page",
        style={"padding": "6px 12px"},
    )


# ------------------------------------------------------------------------ callbacks
def _error(text):
    return html.Div(text, className="wl-message wl-error")


def _ok(text):
    return html.Div(text, className="wl-message wl-info")


def _int_field(value, field, lo, hi):
    if value is None or value == "":
        raise ControllerError(f"{field}: enter a number")
    try:
        number = float(value)
    except (TypeError, ValueError) as err:
        raise ControllerError(f"{field}: {value!r} is not a number") from err
    if not math.isfinite(number) or number != int(number) or not lo <= number <= hi:
        raise ControllerError(f"{field}: must be a whole number from {lo} to {hi}, got {value}")
    return int(number)


def _io_from_fields(input_map, pair_values, pair_ids, output_map, out_a, out_b):
    pairs = {}
    for value, id_ in zip(pair_values or [], pair_ids or [], strict=False):
        pairs.setdefault(id_["index"], {})[id_["end"]] = value
    return {
        "input_map": input_map,
        "pairs": [[j, p.get("pos"), p.get("neg")] for j, p in sorted(pairs.items())],
        "output_map": output_map,
        "output_neurons": [out_a, out_b],
    }


def _config(values) -> dict:
    """The training configuration from the page's fields (raises ControllerError/
    WormlabError with the field's name)."""
    circuit = circuit_choice(values["circuit"], values["store_circuit"], values["dataset"])
    problems = [p for p in circuit.problems() if "disconnected" not in p]
    if problems:
        raise ControllerError("Circuit: " + "; ".join(problems))
    env_id = values["env"]
    if env_id not in ENVS:
        raise ControllerError(f"Environment: pick one of {', '.join(ENVS)}")
    io = values["io"]
    _controller(circuit, env_id, io)  # validates the io mapping
    target = values["target"]
    if target in (None, ""):
        target = None
    else:
        try:
            target = float(target)
        except (TypeError, ValueError) as err:
            raise ControllerError(f"Stop at return: {target!r} is not a number") from err
    seconds = values["seconds"]
    try:
        seconds = float(seconds)
    except (TypeError, ValueError) as err:
        raise ControllerError(f"Seconds: {seconds!r} is not a number") from err
    if not 0 < seconds <= 3600:
        raise ControllerError(f"Seconds: must be between 0 and 3600, got {seconds:g}")
    return {
        "wiring": wiring_io.to_dict(circuit),
        "env_id": env_id,
        "io": io,
        "seed": _int_field(values["seed"], "Seed", 0, 2**31 - 1),
        "generations": _int_field(values["generations"], "Generations", 1, 100000),
        "episodes": _int_field(values["episodes"], "Episodes / candidate", 1, 100),
        "eval_episodes": _int_field(
            values["eval_episodes"], "Evaluation episodes", 1, _MAX_EVAL_EPISODES
        ),
        "seconds": seconds,
        "target": target,
    }


def _result_view(result):
    """Children of the result text, the animation figure and the weight graph elements."""
    if not result:
        return ("Train a controller or upload one.",
                empty_figure("The episode appears here.", 360), [], circuit_stylesheet(),
                True)  # fmt: skip
    ev = result["evaluation"]
    ctrl = result["controller"]
    prov = ctrl.get("provenance") or {}
    lines = []
    if result.get("source") == "trained":
        reason = {
            "target": "reached the target",
            "generations": "used the generation budget",
            "time": "used the time budget",
            "stopped": "cancelled: kept the best controller found so far",
        }.get(result.get("reason"), result.get("reason", ""))
        lines.append(
            html.Div(
                f"Training {reason} after {result['generations']} generations "
                f"({result['elapsed']:.1f} s); best validation score {result['score']:.1f}.",
                id="train-result-reason",
            )
        )
    else:
        lines.append(
            html.Div(
                f"Uploaded controller {result.get('filename', '')} for {ev['env_id']}"
                + (f", trained with seed {prov['seed']} to {prov['score']:.1f}"
                   if "seed" in prov and "score" in prov else "")
                + ".",
                id="train-result-reason",
            )
        )  # fmt: skip
    lines.append(
        html.Div(
            [
                html.B(f"In gymnasium's {ev['env_id']}: "),
                f"mean {ev['mean']:.1f}, min {ev['min']:.1f}, max {ev['max']:.1f} "
                f"over {ev['episodes']} episodes.",
            ],
            id="train-evaluation",
        )
    )
    ep = result["episode"]
    if ep["env_id"] in ANIMATED_ENVS:
        fig = episode_figure(
            ep["env_id"], ep["states"], ep["rewards"],
            title=f"{ep['env_id']}, episode seed {ep['seed']}: return {ep['return']:.1f} "
            f"in {len(ep['rewards'])} steps (press Play)",
        )  # fmt: skip
    else:
        fig = empty_figure(f"No animation for {ep['env_id']}.", 360)
    names = [n["name"] for n in ctrl["neurons"]]
    return lines, fig, circuit_elements(ctrl, trained=ctrl), circuit_stylesheet(names), False


def register_callbacks(app) -> None:
    """Attach the Train page's callbacks to ``app`` (training as a background callback with
    the app's background callback manager)."""

    @app.callback(
        Output("train-circuit", "options"),
        Output("train-circuit", "value"),
        Input("store-circuit", "data"),
        State("train-circuit", "value"),
    )
    def circuit_options(store_circuit, value):
        options = [{"label": v, "value": k} for k, v in _PRESETS.items()]
        if store_circuit:
            try:
                c = wiring_io.from_dict(store_circuit)
                label = (
                    f"Circuit page: {len(c)} neurons ({len(c.sensory)} sensory, "
                    f"{len(c.motor)} motor) of {c.dataset}"
                )
            except WormlabError:
                label = "Circuit page: (cannot be read)"
            options.insert(0, {"label": label, "value": "current"})
            if ctx.triggered_id == "store-circuit" or value in (None, "tap_withdrawal"):
                value = "current"
        return options, value or "tap_withdrawal"

    @app.callback(
        Output("train-pairs", "children"),
        Output("train-out-a", "options"),
        Output("train-out-a", "value"),
        Output("train-out-b", "options"),
        Output("train-out-b", "value"),
        Output("train-input-map", "value"),
        Output("train-output-map", "value"),
        Output("train-target", "value"),
        Output("train-circuit-info", "children"),
        Output("train-io-msg", "children", allow_duplicate=True),
        Input("train-circuit", "value"),
        Input("train-env", "value"),
        State("store-circuit", "data"),
        State("store-dataset", "data"),
        prevent_initial_call="initial_duplicate",
    )
    def io_defaults(choice, env_id, store_circuit, dataset):
        blank = ([], [], None, [], None, "dense", "dense", no_update)
        try:
            circuit = circuit_choice(choice, store_circuit, dataset)
            io = default_io(circuit, env_id)
        except (WormlabError, ValueError) as err:
            return (*blank, "", _error(str(err)))
        sens = [{"label": n, "value": n} for n in circuit.sensory]
        mot = [{"label": n, "value": n} for n in circuit.motor]
        labels = OBS_LABELS[env_id]
        given = {j: (p, q) for j, p, q in io["pairs"]}
        rows = []
        for j, name in enumerate(labels):
            p, q = given.get(j, (None, None))
            rows.append(
                html.Div(
                    [
                        html.Span(f"{name}", style={"display": "inline-block", "width": "160px",
                                                    "fontSize": "12px"}),
                        dcc.Dropdown(id={"type": "train-pair", "index": j, "end": "pos"},
                                     options=sens, value=p, placeholder="+ neuron",
                                     style={"width": "130px", "display": "inline-block"}),
                        dcc.Dropdown(id={"type": "train-pair", "index": j, "end": "neg"},
                                     options=sens, value=q, placeholder="\u2212 neuron",
                                     style={"width": "130px", "display": "inline-block",
                                            "marginLeft": "6px"}),
                    ],
                    style={"marginBottom": "2px"},
                )
            )  # fmt: skip
        pairs = html.Div(
            [html.Div("One-to-one pairs: each observation component drives a positive and "
                      "a negative sensory neuron.", style={"fontSize": "12px"}), *rows],
            id="train-pairs-box",
        )  # fmt: skip
        a, b = (list(io["output_neurons"]) + [None, None])[:2]
        problems = circuit.problems()
        info = (
            f"{len(circuit)} neurons: sensory {', '.join(circuit.sensory) or 'none'}; motor "
            f"{', '.join(circuit.motor) or 'none'}."
        )
        if problems:
            info += " Warning: " + "; ".join(problems) + "."
        target = DEFAULT_TARGETS.get(env_id)
        return (pairs, mot, a, mot, b, io["input_map"], io["output_map"], target, info, "")

    @app.callback(
        Output("train-pairs", "style"),
        Output("train-out-neurons", "style"),
        Output("train-io-text", "children"),
        Output("train-io-msg", "children"),
        Input("train-input-map", "value"),
        Input("train-output-map", "value"),
        Input({"type": "train-pair", "index": ALL, "end": ALL}, "value"),
        Input("train-out-a", "value"),
        Input("train-out-b", "value"),
        State({"type": "train-pair", "index": ALL, "end": ALL}, "id"),
        State("train-circuit", "value"),
        State("train-env", "value"),
        State("store-circuit", "data"),
        State("store-dataset", "data"),
    )
    def io_text(input_map, output_map, pair_values, out_a, out_b, pair_ids, choice, env_id,
                store_circuit, dataset):  # fmt: skip
        show_pairs = {"display": "block" if input_map == "pairs" else "none", "marginTop": "4px"}
        show_out = {"display": "block" if output_map == "difference" else "none"}
        io = _io_from_fields(input_map, pair_values, pair_ids, output_map, out_a, out_b)
        try:
            circuit = circuit_choice(choice, store_circuit, dataset)
            text = describe_io(circuit, env_id, io)
            _controller(circuit, env_id, io)
        except (WormlabError, ValueError, TypeError) as err:
            return show_pairs, show_out, "", _error(str(err))
        return show_pairs, show_out, text, ""

    progress_outputs = [
        Output("train-progress", "value"),
        Output("train-progress", "max"),
        Output("train-progress-text", "children"),
        Output("train-curve", "figure"),
    ]

    @app.callback(
        Output("train-result", "data"),
        Output("train-msg", "children"),
        Output("train-progress", "value", allow_duplicate=True),
        Output("train-progress", "max", allow_duplicate=True),
        Output("train-progress-text", "children", allow_duplicate=True),
        Output("train-curve", "figure", allow_duplicate=True),
        Input("train-run", "n_clicks"),
        State("train-session", "data"),
        State("train-circuit", "value"),
        State("store-circuit", "data"),
        State("store-dataset", "data"),
        State("train-env", "value"),
        State("train-input-map", "value"),
        State({"type": "train-pair", "index": ALL, "end": ALL}, "value"),
        State({"type": "train-pair", "index": ALL, "end": ALL}, "id"),
        State("train-output-map", "value"),
        State("train-out-a", "value"),
        State("train-out-b", "value"),
        State("train-seconds", "value"),
        State("train-generations", "value"),
        State("train-target", "value"),
        State("train-episodes", "value"),
        State("train-seed", "value"),
        State("train-eval-episodes", "value"),
        background=True,
        progress=progress_outputs,
        running=[
            (Output("train-run", "disabled"), True, False),
            (Output("train-cancel", "disabled"), False, True),
            (Output("train-upload", "disabled"), True, False),
        ],
        interval=300,
        prevent_initial_call=True,
    )
    def train_job(set_progress, n_clicks, session, choice, store_circuit, dataset, env_id,
                  input_map, pair_values, pair_ids, output_map, out_a, out_b, seconds,
                  generations, target, episodes, seed, eval_episodes):  # fmt: skip
        nothing = (no_update,) * 4
        try:
            run_id = _run_id(session, n_clicks)
            config = _config(
                {
                    "circuit": choice, "store_circuit": store_circuit, "dataset": dataset,
                    "env": env_id, "seconds": seconds, "generations": generations,
                    "target": target, "episodes": episodes, "seed": seed,
                    "eval_episodes": eval_episodes,
                    "io": _io_from_fields(input_map, pair_values, pair_ids, output_map,
                                          out_a, out_b),
                }
            )  # fmt: skip
        except (WormlabError, ValueError, TypeError) as err:
            return (no_update, _error(str(err)), *nothing)
        stop_file = _stop_path(run_id)
        history = []
        state = {"note": "starting the trainer"}

        def show(note="", done=False):
            last = history[-1] if history else {"generation": 0, "best": 0.0, "mean": 0.0,
                                                "elapsed": 0.0}  # fmt: skip
            value, vmax, text = progress_state(
                config["env_id"], config["seed"], last["generation"], config["generations"],
                config["seconds"], last["best"], last["mean"], last["elapsed"], note,
            )  # fmt: skip
            return (
                (vmax if done else value),
                vmax,
                text,
                learning_curve_figure(history, config["target"]),
            )

        def on_progress(msg):
            if msg["kind"] == "progress":
                history.append(msg)
                state["note"] = ""
            else:
                state["note"] = msg["text"]
            set_progress(show(state["note"]))

        set_progress(show(state["note"]))
        try:
            out = run_training(config, on_progress, stop_file)
        except Exception as err:  # noqa: BLE001 - shown by the field, never as a traceback
            out = {"kind": "error", "text": f"training could not run: {err}"}
        finally:
            if os.path.exists(stop_file):
                os.remove(stop_file)
        if out["kind"] == "error":
            final = show("stopped by an error")
            return (no_update, _error(out["text"]), *final)
        history = out["history"]
        reason = {
            "target": "target reached",
            "stopped": "cancelled",
            "time": "time budget used",
            "generations": "generation budget used",
        }.get(out["reason"], out["reason"])
        # a finished run fills the bar; a cancelled one shows how far it got
        final = show(f"done: {reason}", done=out["reason"] != "stopped")
        result = {
            "source": "trained",
            "controller": out["controller"],
            "score": out["score"],
            "generations": out["generations"],
            "elapsed": out["elapsed"],
            "reason": out["reason"],
            "history": history,
            "evaluation": out["evaluation"],
            "episode": out["episode"],
        }
        return (result, _ok(f"Done: {reason}."), *final)

    @app.callback(
        Output("train-msg", "children", allow_duplicate=True),
        Input("train-cancel", "n_clicks"),
        State("train-session", "data"),
        State("train-run", "n_clicks"),
        prevent_initial_call=True,
    )
    def cancel(n_cancel, session, n_run):
        if not n_cancel:
            return no_update
        try:
            path = _stop_path(_run_id(session, n_run))
        except ControllerError as err:
            return _error(str(err))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write("stop\n")
        return "Cancelling: the trainer stops after this generation and keeps its best."

    @app.callback(
        Output("train-result", "data", allow_duplicate=True),
        Output("train-upload-msg", "children"),
        Output("train-upload", "contents"),
        Input("train-upload", "contents"),
        State("train-upload", "filename"),
        State("train-eval-episodes", "value"),
        State("train-seed", "value"),
        prevent_initial_call=True,
    )
    def upload_controller(contents, filename, eval_episodes, seed):
        if not contents:  # cleared below, so that the same file can be dropped again
            return no_update, no_update, no_update
        try:
            episodes = _int_field(eval_episodes, "Evaluation episodes", 1, _MAX_EVAL_EPISODES)
            seed = _int_field(seed, "Seed", 0, 2**31 - 1)
            ctrl = controller_from_upload(contents)
            done = evaluate_controller(ctrl, episodes, seed)
        except (WormlabError, ValueError, TypeError) as err:
            return no_update, _error(f"Upload {filename or ''}: {err}"), None
        result = {"source": "uploaded", "filename": filename, "controller": ctrl.to_dict(),
                  **done}  # fmt: skip
        return result, _ok(f"Loaded {filename}."), None

    @app.callback(
        Output("train-result-text", "children"),
        Output("train-animation", "figure"),
        Output("train-weights", "elements"),
        Output("train-weights", "stylesheet"),
        Output("train-download-btn", "disabled"),
        Input("train-result", "data"),
    )
    def show_result(result):
        try:
            return _result_view(result)
        except (KeyError, TypeError, ValueError) as err:
            return (_error(f"The stored result cannot be shown ({err}); train again."),
                    empty_figure("", 360), [], circuit_stylesheet(), True)  # fmt: skip

    @app.callback(
        Output("train-download", "data"),
        Input("train-download-btn", "n_clicks"),
        State("train-result", "data"),
        prevent_initial_call=True,
    )
    def download(n_clicks, result):
        if not n_clicks or not result:
            return no_update
        ctrl = result["controller"]
        env = ctrl["env"]["env_id"]
        seed = (ctrl.get("provenance") or {}).get("seed", "x")
        return {
            "content": json.dumps(ctrl, indent=1) + "\n",
            "filename": f"controller-{env}-seed{seed}.json".lower(),
            "type": "application/json",
            "base64": False,
        }

    @app.callback(
        Output("train-tap-info", "children"),
        Input("train-weights", "tapNodeData"),
        Input("train-weights", "tapEdgeData"),
        prevent_initial_call=True,
    )
    def tap_info(node, edge):
        trigger = ctx.triggered[0]["prop_id"] if ctx.triggered else ""
        if trigger.endswith("tapEdgeData") and edge:
            if edge.get("kind") == "electrical":
                return (
                    f"{edge['source']} \u2014 {edge['target']}: gap junction, trained "
                    f"conductance g = {edge.get('tg', 0):.3g} (dataset weight {edge['w']:g})"
                )
            return (
                f"{edge['source']} \u2192 {edge['target']}: "
                f"{'excitatory' if edge.get('sign', 1) > 0 else 'inhibitory'}, trained "
                f"w = {edge.get('tw', 0):.3g}, mu = {edge.get('mu', 0):.3g}, "
                f"sigma = {edge.get('sigma', 0):.3g} (dataset weight {edge['w']:g})"
            )
        if node:
            return (
                f"{node['id']} ({node.get('role')}): cm = {node.get('cm', 0):.3g}, "
                f"gleak = {node.get('gleak', 0):.3g}, vleak = {node.get('vleak', 0):.3g}"
            )
        return ""

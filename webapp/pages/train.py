"""The Train page: train a circuit as a controller for a gymnasium task, watch it, keep it.

Pick the circuit (the Circuit page's, or a preset), an environment, the io mapping
(observation -> sensory neurons, motor neurons -> action), a budget and a seed. Training
(:func:`sim.trainer.train`, CMA-ES) runs as a Dash background callback with a progress bar, a
live learning curve and a Cancel button; the result is replayed in gymnasium's own env
(mean, min and max return over N episodes), one episode is animated, the trained weights are
drawn on the circuit and the controller JSON can be downloaded. An uploaded controller JSON
is evaluated and animated the same way.

Lane keeping (highway-env's ``lane-keeping-v0``, trained in its numba port) starts from the
klinotaxis preset; its result is replayed in highway-env where it is installed (else the page
says so and shows the port's score), the car is animated on its road from the port's rollout
(:mod:`webapp.figures.road`) with its lateral error, and the runs trained in the tab are
compared (``train-lane-runs``, session storage). Its callbacks are apart from the others
(``_register_lane_callbacks``).

A run belongs to the browser tab, not to the page load: it is recorded on disk
(:mod:`webapp.runs`: its configuration, checkpoint after every generation, state and
result) and the tab keeps its run id (``train-job``, session storage). After a reload, a
visit to another page or a server restart, a poll (``train-poll``) shows the run from its
record: its progress with Cancel while it runs, its result once done, "Resume" when its
process stopped without finishing (the trainer continues from the checkpoint to the same
result as an uninterrupted run), or why it cannot go on, with the buttons reset.

This module holds the layout and the callbacks. The training job (the fresh worker process,
the stop-file protocol behind Cancel, the configuration, the io maps and the controller
helpers) is in :mod:`webapp.training`, whose notes say how a run is wired.
"""

import json
import os
import uuid

import dash_cytoscape as cyto
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from connectome import io as wiring_io
from connectome.errors import ControllerError, WormlabError
from webapp import components as ui
from webapp import runs, tempdirs, training
from webapp.figures.control import (
    ANIMATED_ENVS,
    circuit_elements,
    circuit_stylesheet,
    empty_figure,
    episode_figure,
    learning_curve_figure,
)
from webapp.figures.road import circuit_comparison_figure, lateral_error_figure, road_figure
from webapp.jobs import clear_stop, job_id, request_stop, stop_path
from webapp.pages import train_insight
from webapp.tempdirs import app_folder
from webapp.training import (
    CIRCUIT_PRESETS,
    DEFAULT_CIRCUITS,
    DEFAULT_TARGETS,
    ENVS,
    LANE_ENV,
    OBS_LABELS,
    REASONS,
    check_result,
    circuit_choice,
    controller_from_upload,
    default_io,
    describe_io,
    eval_episodes_field,
    highway_env_installed,
    lane_run_summary,
    make_controller,
    page_result,
    progress_view,
    run_evaluation,
    run_training,
    seed_field,
    training_config,
)

__all__ = ["PATH", "NAME", "ORDER", "layout", "register_callbacks", "warm_up"]

PATH = "/train"
NAME = "Train"
ORDER = 3


# ------------------------------------------------------------------------ layout
#: The budget fields' ids (``train-<key>``, webapp.training.BUDGET_FIELDS keys) and defaults.
_BUDGET_DEFAULTS = {"seconds": 60, "generations": 300, "target": 500, "episodes": 8, "seed": 0,
                    "eval_episodes": 20}  # fmt: skip


def _budget_id(key: str) -> str:
    return "train-" + key.replace("_", "-")


def _budget_field(key, value):
    """A budget field: a text input (parsed on the server: a number input reports None for
    a value outside its range, so its message could not name the value) with its error line
    under it."""
    label = training.BUDGET_FIELDS[key][0]
    box = dcc.Input(id=_budget_id(key), type="text", inputMode="decimal", value=value,
                    style={"width": "110px" if key == "target" else "90px"})  # fmt: skip
    return html.Div(
        [ui.label(label, box), ui.field_error(_budget_id(key) + "-error")],
        style={"display": "inline-block", "verticalAlign": "top", "maxWidth": "230px"},
    )


def _lane_panel():
    """Lane keeping's part of the result (shown for a lane-keeping result only): where its
    score comes from, the lateral error of the animated episode and, once a tab has trained
    more than one run, the comparison of their circuits."""
    return html.Div(
        [
            html.Div(id="train-lane-note", style={"fontSize": "12px", "margin": "4px 0"}),
            dcc.Graph(id="train-lateral", figure=empty_figure("", 220),
                      config={"displayModeBar": False}, style={"height": "220px"}),
            html.Div(
                [
                    html.Div("Circuits trained on lane keeping in this tab (evaluation "
                             "episodes: mean return; mean |lateral offset| in the port):",
                             style={"fontSize": "12px", "color": "#495057"}),
                    dcc.Graph(id="train-lane-compare", figure=empty_figure("", 160),
                              config={"displayModeBar": False}),
                    ui.button("Clear the comparison", "train-lane-clear"),
                ],
                id="train-lane-compare-box",
                style={"display": "none"},
            ),
        ],
        id="train-lane",
        style={"display": "none"},
    )  # fmt: skip


def _scores_text(ev):
    """The evaluation line: the replay in gymnasium (highway-env for lane keeping), or, for
    lane keeping where highway-env is not installed, the numba port's score, said plainly."""
    stats = (f"mean {ev['mean']:.1f}, min {ev['min']:.1f}, max {ev['max']:.1f} "
             f"over {ev['episodes']} episodes")  # fmt: skip
    if ev.get("replay") == "numba port":
        return [html.B("highway-env is not installed"),
                " (pip install 'wormlab[lane]' to replay lane keeping in it), so this is the "
                f"numba port's score: {stats}"]  # fmt: skip
    where = "highway-env" if ev["env_id"] == LANE_ENV else "gymnasium"
    return [html.B(f"In {where}'s {ev['env_id']}: "), stats]


def layout(**_query):
    """The Train page (query parameters are ignored)."""
    envs = [{"label": f"{e} (highway-env)" if e == LANE_ENV else e, "value": e} for e in ENVS]
    settings = ui.card(
        "1. What to train",
        html.Div(
            [
                ui.label(
                    "Circuit",
                    dcc.Dropdown(
                        id="train-circuit",
                        clearable=False,
                        value="tap_withdrawal",
                        options=[{"label": v, "value": k} for k, v in CIRCUIT_PRESETS.items()],
                        style={"width": "330px"},
                    ),
                ),
                ui.label(
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
        html.Div(id="train-env-note", style={"fontSize": "12px", "margin": "4px 0"}),
        html.Div(
            id="train-circuit-info",
            style={"fontSize": "12px", "color": "#495057", "margin": "4px 0"},
        ),  # fmt: skip
        html.Div(
            [
                ui.label(
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
                ui.label(
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
                ui.label(
                    "Output a",
                    dcc.Dropdown(id="train-out-a", clearable=False, style={"width": "140px"}),
                ),
                ui.label(
                    "minus b",
                    dcc.Dropdown(id="train-out-b", clearable=False, style={"width": "140px"}),
                ),
            ],
            id="train-out-neurons",
        ),
        html.Div(
            id="train-io-text", style={"fontSize": "12px", "color": "#495057", "marginTop": "6px"}
        ),  # fmt: skip
        ui.status("train-io-msg"),
    )
    budget = ui.card(
        "2. Budget",
        *[_budget_field(key, value) for key, value in _BUDGET_DEFAULTS.items()],
        html.Div(
            [
                ui.button("Train", "train-run", primary=True),
                ui.button("Cancel", "train-cancel", disabled=True),
                html.Span(
                    ui.button("Resume the interrupted run", "train-resume"),
                    id="train-resume-box",
                    style={"display": "none"},
                ),
            ]
        ),
        ui.status("train-msg"),
    )
    progress = ui.card(
        "3. Progress",
        html.Progress(id="train-progress", value="0", max="100",
                      style={"width": "100%", "height": "18px"}),
        html.Div(id="train-progress-text", children="Not started.",
                 style={"fontSize": "13px", "margin": "4px 0"}),
        dcc.Graph(id="train-curve", figure=learning_curve_figure([]),
                  config={"displayModeBar": False}, style={"height": "260px"}),
    )  # fmt: skip
    results = ui.card(
        "4. Result",
        html.Div(id="train-result-text", children="Train a controller or upload one.",
                 style={"fontSize": "14px"}),
        html.Div(
            [
                ui.button("Download controller JSON", "train-download-btn", disabled=True),
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
        ui.status("train-upload-progress"),
        ui.status("train-upload-msg"),
        dcc.Graph(id="train-animation", figure=empty_figure("The episode appears here.", 360),
                  config={"displayModeBar": False}, style={"height": "360px"}),
        _lane_panel(),
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
            # the tab's training run: {"run": run id, "page": the session that started it}
            dcc.Store(id="train-job", storage_type="session"),
            # lane keeping: one summary row per run trained in this tab (the comparison)
            dcc.Store(id="train-lane-runs", storage_type="session", data=[]),
            dcc.Interval(id="train-poll", interval=1000),
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
            train_insight.panels(),  # what matters, baselines (webapp.pages.train_insight)
        ],
        id="train-page",
        style={"padding": "6px 12px"},
    )


# ------------------------------------------------------------------------ callbacks


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
                f"({result['elapsed']:.1f} s); best validation score {result['score']:.1f}, "
                f"held-out score {ev['mean']:.1f}.",
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
    lane = ev["env_id"] == LANE_ENV
    lines.append(
        html.Div(
            [
                *_scores_text(ev),
                html.Span(
                    " (held out: fresh start states that neither training nor the validation "
                    "that picked the controller saw)."
                    if result.get("source") == "trained"
                    else ".",
                    style={"color": "#495057"},
                ),
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
    elif lane and "lateral" in ep:
        fig = road_figure(
            ep, title=f"{ep['env_id']} (numba port), episode seed {ep['seed']}: return "
            f"{ep['return']:.1f} in {len(ep['rewards'])} steps (press Play)",
        )  # fmt: skip
    else:
        fig = empty_figure(f"No animation for {ep['env_id']}.", 360)
    names = [n["name"] for n in ctrl["neurons"]]
    return lines, fig, circuit_elements(ctrl, trained=ctrl), circuit_stylesheet(names), False


_HIDDEN, _SHOWN = {"display": "none"}, {"display": "inline"}


def _run_view(app, job, session):
    """The reattach callback's outputs for the tab's run record ``job`` (from the browser:
    checked here)."""
    keep = (no_update,) * 9
    if not job:
        return (*keep, True)
    try:
        folder = runs.run_folder(job.get("run") if isinstance(job, dict) else None)
    except ControllerError as err:
        return (*keep[:7], ui.error(str(err)), no_update, True)
    if job.get("page") == session and runs.relay_of(folder) == app_folder(app):
        # this page's own run, shown by its background callback; polled for a restart
        return (*keep, runs.run_status(folder)["state"] in ("done", "error"))
    status = runs.run_status(folder)
    try:
        config = runs.run_config(folder)
    except ControllerError as err:
        lost = (0, 100, "Not resumable.", learning_curve_figure([]), False, True, _HIDDEN)
        return (*lost, ui.error(f"The tab's last run cannot be shown: {err}"), no_update, True)
    history, state = status["history"], status["state"]
    curve = learning_curve_figure(history, config["target"])
    if state == "running":
        note = "" if history and not status["phase"].startswith("evaluating") else status["phase"]
        bar = progress_view(config, history, note)
        return (*bar, curve, True, False, _HIDDEN, no_update, no_update, False)
    if state == "done":
        out = status["result"]
        reason = REASONS.get(out["reason"], out["reason"])
        bar = progress_view(config, out["history"], f"done: {reason}",
                            done=out["reason"] != "stopped")  # fmt: skip
        curve = learning_curve_figure(out["history"], config["target"])
        return (*bar, curve, False, True, _HIDDEN, ui.info(f"Done: {reason}."),
                page_result(out), True)  # fmt: skip
    if state == "interrupted":
        bar = progress_view(config, history, "interrupted")
        text = (
            f"The run stopped at generation {status['generation']} of at most "
            f"{config['generations']} without finishing (its server or its process stopped). "
            "Its checkpoint is saved: Resume continues it to the same result as an "
            "uninterrupted run."
        )
        return (*bar, curve, False, True, _SHOWN, ui.info(text), no_update, True)
    bar = progress_view(config, history, "stopped by an error" if state == "error" else "lost")
    why = status["text"] if state == "error" else f"it cannot be resumed: {status['text']}"
    return (*bar, curve, False, True, _HIDDEN, ui.error(f"The run failed: {why}."), no_update,
            True)  # fmt: skip


def _register_lane_callbacks(app) -> None:
    """Lane keeping's callbacks: its default circuit, its result panel, the session's
    comparison of circuits."""

    @app.callback(
        Output("train-circuit", "value", allow_duplicate=True),
        Output("train-env-note", "children"),
        Input("train-env", "value"),
        State("train-circuit", "value"),
        prevent_initial_call=True,
    )
    def lane_defaults(env_id, choice):
        """Lane keeping: its preset (klinotaxis) unless the Circuit page's circuit is picked,
        and a word on where it is scored."""
        env_id = env_id if isinstance(env_id, str) else None  # from the browser: checked
        value = DEFAULT_CIRCUITS.get(env_id)
        preset = isinstance(choice, str) and choice in CIRCUIT_PRESETS
        value = value if value and preset and choice != value else no_update
        if env_id != LANE_ENV:
            return value, ""
        where = (
            "replayed in highway-env after training"
            if highway_env_installed()
            else ui.error(
                "highway-env is not installed (pip install 'wormlab[lane]'): lane keeping "
                "trains in the numba port and is scored there, not replayed in highway-env"
            )
        )
        return value, [
            "lane-keeping-v0: trained in wormlab's numba port of highway-env 1.12.1 (equal "
            "to it bit for bit); ",
            where,
            ".",
        ]

    @app.callback(
        Output("train-lane-runs", "data"),
        Input("train-result", "data"),
        Input("train-lane-clear", "n_clicks"),
        State("train-lane-runs", "data"),
        prevent_initial_call=True,
    )
    def remember_lane_run(result, _clear, rows):
        """A finished lane-keeping run joins the tab's comparison (once: a reload shows the
        same result again)."""
        if ctx.triggered_id == "train-lane-clear":
            return []
        try:
            row = lane_run_summary(check_result(result)) if result else None
        except (WormlabError, KeyError, TypeError, ValueError, AttributeError):
            return no_update  # a store changed in the browser: nothing to remember
        rows = [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []
        if row is None or any(r.get("key") == row["key"] for r in rows):
            return no_update
        return [*rows, row]

    @app.callback(
        Output("train-lane", "style"),
        Output("train-lane-note", "children"),
        Output("train-lateral", "figure"),
        Output("train-lane-compare-box", "style"),
        Output("train-lane-compare", "figure"),
        Input("train-result", "data"),
        Input("train-lane-runs", "data"),
    )
    def show_lane(result, rows):
        """A lane-keeping result's note and lateral error; the comparison once the tab has
        trained more than one run. Hidden for other results."""
        hidden = ({"display": "none"}, "", no_update, {"display": "none"}, no_update)
        try:
            result = check_result(result)
            ev = result["evaluation"] if result else {}
            ep = result["episode"] if result else {}
            if ev.get("env_id") != LANE_ENV or "lateral" not in ep or "lateral_error" not in ev:
                return hidden
            note = (
                f"The animation and the lateral error are the numba port's (sim.lanekeeping), "
                f"episode seed {ep['seed']}; mean |lateral offset| over the {ev['episodes']} "
                f"evaluation episodes: {ev['lateral_error']:.2f} m."
            )
            lateral = lateral_error_figure(
                ep, title=f"Lateral offset from the lane centre, episode seed {ep['seed']}"
            )
        except (WormlabError, KeyError, TypeError, ValueError):  # a store changed in the browser
            return hidden
        rows = [r for r in rows or [] if isinstance(r, dict)] if isinstance(rows, list) else []
        try:
            compare = circuit_comparison_figure(rows) if len(rows) > 1 else no_update
        except (KeyError, TypeError, ValueError):
            rows, compare = [], no_update
        box = {"display": "block"} if len(rows) > 1 else {"display": "none"}
        return {"display": "block"}, note, lateral, box, compare


def register_callbacks(app) -> None:
    """Attach the Train page's callbacks to ``app`` (training as a background callback with
    the app's background callback manager)."""
    _register_lane_callbacks(app)
    train_insight.register_callbacks(app)

    @app.callback(
        Output("train-circuit", "options"),
        Output("train-circuit", "value"),
        Input("store-circuit", "data"),
        State("train-circuit", "value"),
    )
    def circuit_options(store_circuit, value):
        options = [{"label": v, "value": k} for k, v in CIRCUIT_PRESETS.items()]
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
        except WormlabError as err:
            return (*blank, "", ui.error(str(err)))
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
            make_controller(circuit, env_id, io)
        except WormlabError as err:
            return show_pairs, show_out, "", ui.error(str(err))
        return show_pairs, show_out, text, ""

    budget_keys = list(training.BUDGET_FIELDS)

    @app.callback(
        [Output(_budget_id(k) + "-error", "children") for k in budget_keys],
        [Input(_budget_id(k), "value") for k in budget_keys],
    )
    def budget_messages(*values):
        """Each budget field's problem under it, as it is typed."""
        out = []
        for key, value in zip(budget_keys, values, strict=True):
            try:
                training.budget_field(key, value)
                out.append("")
            except WormlabError as err:
                out.append(str(err))
        return out

    progress_outputs = [
        Output("train-progress", "value"),
        Output("train-progress", "max"),
        Output("train-progress-text", "children"),
        Output("train-curve", "figure"),
        Output("train-job", "data"),
    ]
    # the same four outputs, written again by the end of a job and by the reattach poll
    progress_again = [
        Output(o.component_id, o.component_property, allow_duplicate=True)
        for o in progress_outputs[:4]
    ]

    @app.callback(
        Output("train-result", "data"),
        Output("train-msg", "children"),
        *progress_again,
        Output("store-controller", "data", allow_duplicate=True),
        Input("train-run", "n_clicks"),
        Input("train-resume", "n_clicks"),
        State("train-session", "data"),
        State("train-job", "data"),
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
        *[State(_budget_id(k), "value") for k in budget_keys],
        background=True,
        progress=progress_outputs,
        running=[
            (Output("train-run", "disabled"), True, False),
            (Output("train-cancel", "disabled"), False, True),
            (Output("train-upload", "disabled"), True, False),
            (Output("train-resume-box", "style"), {"display": "none"}, {"display": "none"}),
        ],
        interval=300,
        prevent_initial_call=True,
    )
    def train_job(set_progress, n_clicks, n_resume, session, job, choice, store_circuit,
                  dataset, env_id, input_map, pair_values, pair_ids, output_map, out_a, out_b,
                  *budget):  # fmt: skip
        nothing = (no_update,) * 5  # progress outputs and store-controller
        resume = ctx.triggered_id == "train-resume"
        try:
            if resume:  # the interrupted run of this tab, as recorded on disk
                run_id = (job or {}).get("run") if isinstance(job, dict) else None
                folder = runs.run_folder(run_id)
                state = runs.run_status(folder)
                if state["state"] != "interrupted":
                    raise ControllerError(
                        f"Resume: the run is {state['state']}, not interrupted"
                        + (f" ({state['text']})" if state["text"] else "")
                    )
                config = runs.run_config(folder)
                job_id(session, 0)  # this page has a valid session
            else:
                run_id = job_id(session, n_clicks)
                config = training_config(
                    {
                        "circuit": choice, "store_circuit": store_circuit, "dataset": dataset,
                        "env": env_id, "io": _io_from_fields(input_map, pair_values, pair_ids,
                                                             output_map, out_a, out_b),
                        **dict(zip(budget_keys, budget, strict=True)),
                    }
                )  # fmt: skip
                folder = runs.run_folder(run_id)
            runs.record_start(folder, config)
            runs.record_owner(folder)
            runs.record_relay(folder, app_folder(app))
        except WormlabError as err:
            return (no_update, ui.error(str(err)), *nothing)
        stop_file = stop_path(app_folder(app), run_id)
        record = {"run": run_id, "page": session}
        history = list(runs.run_status(folder)["history"]) if resume else []
        state = {"note": "resuming from the checkpoint" if resume else "starting the trainer"}

        def show(note="", done=False):
            return (*progress_view(config, history, note, done),
                    learning_curve_figure(history, config["target"]))  # fmt: skip

        def on_progress(msg):
            if msg["kind"] == "progress":
                history.append(msg)
                state["note"] = ""
            else:
                state["note"] = msg["text"]
            set_progress((*show(state["note"]), record))

        set_progress((*show(state["note"]), record))
        try:
            out = run_training(config, on_progress, stop_file, folder, resume=resume)
        except Exception as err:  # noqa: BLE001 - shown by the field, never as a traceback
            out = {"kind": "error", "text": f"training could not run: {err}"}
        finally:
            clear_stop(stop_file)
        if out["kind"] == "error":
            final = show("stopped by an error")
            return (no_update, ui.error(out["text"]), *final, no_update)
        history = out["history"]
        reason = REASONS.get(out["reason"], out["reason"])
        # a finished run fills the bar; a cancelled one shows how far it got
        final = show(f"done: {reason}", done=out["reason"] != "stopped")
        return (page_result(out), ui.info(f"Done: {reason}."), *final, out["controller"])

    @app.callback(
        Output("train-msg", "children", allow_duplicate=True),
        Input("train-run", "n_clicks_timestamp"),
        Input("train-resume", "n_clicks_timestamp"),
        prevent_initial_call=True,
    )
    def check_space(_run_at, _resume_at):
        """A Train or Resume click with no room for the run says so at once (a job whose
        Dash cache, in the server's temporary folder, is full cannot even report that)."""
        places = [("the server's temporary folder", lambda: app_folder(app)),
                  ("the training runs' folder", runs.runs_root)]  # fmt: skip
        for what, where in places:
            try:
                folder = where()
                problem = tempdirs.space_problem(folder)
            except OSError as err:
                folder, problem = "", f"cannot be made ({err.strerror or err})"
            if problem:
                return ui.error(
                    f"Train cannot run: {what} {folder} {problem}; free some space (or set "
                    f"TMPDIR or {runs.RUNS_ENV} to another folder) and train again."
                )
        return no_update

    @app.callback(
        Output("train-msg", "children", allow_duplicate=True),
        Input("train-cancel", "n_clicks"),
        State("train-session", "data"),
        State("train-run", "n_clicks"),
        State("train-job", "data"),
        prevent_initial_call=True,
    )
    def cancel(n_cancel, session, n_run, job):
        if not n_cancel:
            return no_update
        try:
            run_id = job.get("run") if isinstance(job, dict) else job_id(session, n_run)
            try:
                request_stop(stop_path(app_folder(app), run_id))
            except ControllerError:
                # not relayed by this server: a run started before it restarted still runs?
                folder = runs.run_folder(run_id)
                if runs.run_status(folder)["state"] != "running":
                    raise
                request_stop(os.path.join(folder, "stop"))
        except ControllerError as err:
            return ui.error(str(err))
        return "Cancelling: the trainer stops after this generation and keeps its best."

    @app.callback(
        *progress_again,
        Output("train-run", "disabled", allow_duplicate=True),
        Output("train-cancel", "disabled", allow_duplicate=True),
        Output("train-resume-box", "style", allow_duplicate=True),
        Output("train-msg", "children", allow_duplicate=True),
        Output("train-result", "data", allow_duplicate=True),
        Output("train-poll", "disabled"),
        Input("train-poll", "n_intervals"),
        Input("train-job", "data"),
        State("train-session", "data"),
        prevent_initial_call="initial_duplicate",
    )
    def reattach(_n, job, session):
        """The tab's run as recorded on disk: shown (progress, Cancel, result, Resume) when
        this page did not start it here (a reload, another page and back, a server
        restart); this server's own background callback shows its own page's runs."""
        return _run_view(app, job, session)

    @app.callback(
        Output("train-result", "data", allow_duplicate=True),
        Output("train-upload-msg", "children"),
        Output("train-upload", "contents"),
        Input("train-upload", "contents"),
        State("train-upload", "filename"),
        State("train-eval-episodes", "value"),
        State("train-seed", "value"),
        background=True,
        progress=[Output("train-upload-progress", "children")],
        interval=300,
        prevent_initial_call=True,
    )
    def upload_controller(set_progress, contents, filename, eval_episodes, seed):
        """Check an uploaded controller here, evaluate it as a background job."""
        if not contents:  # cleared below, so that the same file can be dropped again
            return no_update, no_update, no_update
        try:
            episodes = eval_episodes_field(eval_episodes)
            seed = seed_field(seed)
            ctrl = controller_from_upload(contents)
        except WormlabError as err:
            return no_update, ui.error(f"Upload {filename or ''}: {err}"), None
        set_progress(ui.info(f"{filename}: starting the evaluation"))
        data = ctrl.to_dict()
        try:
            out = run_evaluation(
                data,
                episodes,
                seed,
                lambda msg: set_progress(ui.info(f"{filename}: {msg['text']}")),
            )
        finally:
            set_progress("")
        if out["kind"] == "error":
            return no_update, ui.error(f"Upload {filename or ''}: {out['text']}"), None
        result = {"source": "uploaded", "filename": filename, "controller": data,
                  "evaluation": out["evaluation"], "episode": out["episode"]}  # fmt: skip
        return result, ui.info(f"Loaded {filename}."), None

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
            return _result_view(check_result(result))
        except WormlabError as err:
            return (ui.error(f"The stored result cannot be shown ({err}); train again."),
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


def warm_up() -> None:
    """Get the training and evaluation kernels ready before the first request
    (:func:`webapp.training.warm_up`)."""
    training.warm_up()

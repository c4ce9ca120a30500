"""The Train page: train a circuit as a controller for a gymnasium task, watch it, keep it.

Pick the circuit (the Circuit page's, or a preset), an environment, the io mapping
(observation -> sensory neurons, motor neurons -> action), a budget and a seed. Training
(:func:`sim.trainer.train`, CMA-ES) runs as a Dash background callback with a progress bar, a
live learning curve and a Cancel button; the result is replayed in gymnasium's own env
(mean, min and max return over N episodes), one episode is animated, the trained weights are
drawn on the circuit and the controller JSON can be downloaded. An uploaded controller JSON
is evaluated and animated the same way.

This module holds the layout and the callbacks. The training job (the fresh worker process,
the stop-file protocol behind Cancel, the configuration, the io maps and the controller
helpers) is in :mod:`webapp.training`, whose notes say how a run is wired.
"""

import json
import uuid

import dash_cytoscape as cyto
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from connectome import io as wiring_io
from connectome.errors import ControllerError, WormlabError
from webapp import components as ui
from webapp import training
from webapp.figures.control import (
    ANIMATED_ENVS,
    circuit_elements,
    circuit_stylesheet,
    empty_figure,
    episode_figure,
    learning_curve_figure,
)
from webapp.jobs import clear_stop, job_id, request_stop, stop_path
from webapp.tempdirs import app_folder
from webapp.training import (
    CIRCUIT_PRESETS,
    DEFAULT_TARGETS,
    ENVS,
    MAX_EVAL_EPISODES,
    OBS_LABELS,
    check_result,
    circuit_choice,
    controller_from_upload,
    default_io,
    describe_io,
    eval_episodes_field,
    make_controller,
    progress_state,
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


def layout(**_query):
    """The Train page (query parameters are ignored)."""
    envs = [{"label": e, "value": e} for e in ENVS]
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
        ui.label("Seconds", ui.number("train-seconds", 60, 1, 3600)),
        ui.label("Generations", ui.number("train-generations", 300, 1, 100000)),
        ui.label("Stop at return", ui.number("train-target", 500, None, None, "any", 110)),
        ui.label("Episodes / candidate", ui.number("train-episodes", 8, 1, 100)),
        ui.label("Seed", ui.number("train-seed", 0, 0, 2**31 - 1)),
        ui.label("Evaluation episodes", ui.number("train-eval-episodes", 20, 1, MAX_EVAL_EPISODES)),
        html.Div(
            [
                ui.button("Train", "train-run", primary=True),
                ui.button("Cancel", "train-cancel", disabled=True),
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
        Output("store-controller", "data", allow_duplicate=True),
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
        nothing = (no_update,) * 5  # progress outputs and store-controller
        try:
            run_id = job_id(session, n_clicks)
            config = training_config(
                {
                    "circuit": choice, "store_circuit": store_circuit, "dataset": dataset,
                    "env": env_id, "seconds": seconds, "generations": generations,
                    "target": target, "episodes": episodes, "seed": seed,
                    "eval_episodes": eval_episodes,
                    "io": _io_from_fields(input_map, pair_values, pair_ids, output_map,
                                          out_a, out_b),
                }
            )  # fmt: skip
        except WormlabError as err:
            return (no_update, ui.error(str(err)), *nothing)
        stop_file = stop_path(app_folder(app), run_id)
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
            clear_stop(stop_file)
        if out["kind"] == "error":
            final = show("stopped by an error")
            return (no_update, ui.error(out["text"]), *final, no_update)
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
        return (result, ui.info(f"Done: {reason}."), *final, out["controller"])

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
            request_stop(stop_path(app_folder(app), job_id(session, n_run)))
        except ControllerError as err:
            return ui.error(str(err))
        return "Cancelling: the trainer stops after this generation and keeps its best."

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

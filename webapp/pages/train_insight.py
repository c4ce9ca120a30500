"""The Train page's What matters and Compare with baselines panels: layout and callbacks.

Part of the Train page (:mod:`webapp.pages.train` puts :func:`panels` in its layout and
calls :func:`register_callbacks`), in a module of its own so the page's training parts and
these stay apart. The work is in :mod:`webapp.insight` (jobs, configurations, records), the
figures in :mod:`webapp.figures.insight` and :func:`sim.comparison.comparison_figure`.

- What matters: once the page has a result (a finished training run, or an evaluated
  upload), a background callback lesions each neuron and the strongest synapses on the
  result's held-out episodes (job kind ``lesions``) with progress and Cancel; "Lesion
  again" reruns it.
- Compare with baselines: trains the circuit and its baselines with the training run's
  budget over a few seeds (job kind ``compare``), with progress and Cancel, then shows the
  comparison's table and figure.

Each job is recorded in a run folder (:mod:`webapp.runs`) and the tab keeps its record
(``train-lesion-job``, ``train-compare-job``: ``{"run", "page", ...}``, session storage): a
poll shows a job this page did not start here (after a reload, a visit to another page, a
server restart) from its record: its progress with Cancel, its result, or why it stopped.
"""

import hashlib
import json
import os
import uuid

from dash import Input, Output, State, ctx, dcc, html, no_update

from connectome.errors import ControllerError, WormlabError
from webapp import components as ui
from webapp import insight, runs
from webapp.figures.control import empty_figure
from webapp.figures.insight import comparison_table, lesion_figure, synapse_label
from webapp.jobs import clear_stop, job_id, request_stop, run_job, stop_path
from webapp.tempdirs import app_folder

__all__ = ["panels", "register_callbacks"]

_GRAPH = {"config": {"displayModeBar": False}}
_NOTE = {"fontSize": "12px", "color": "#495057"}


def _progress_row(name):
    return html.Div(
        [
            html.Progress(id=f"train-{name}-progress", value="0", max="100",
                          style={"width": "100%", "height": "14px"}),
            html.Div("Not started.", id=f"train-{name}-progress-text",
                     style={"fontSize": "12px", "margin": "2px 0"}),
        ]
    )  # fmt: skip


def panels():
    """The two cards and their stores (placed under the Train page's result)."""
    lesions = ui.card(
        "5. What matters",
        html.Div(
            "The drop in held-out return when each neuron is lesioned (every synapse and gap "
            "junction it makes or receives removed), and when each of the strongest synapses "
            "is, alone; measured on the result's held-out episodes. Each bar runs from the "
            "lesioned return to the intact one (dashed): red, the lesion costs return; green, "
            "the circuit does better without it.",
            style=_NOTE,
        ),
        html.Div(
            [
                ui.button("Lesion again", "train-lesion-run"),
                ui.button("Cancel", "train-lesion-cancel", disabled=True),
            ]
        ),
        _progress_row("lesion"),
        ui.status("train-lesion-msg"),
        dcc.Graph(id="train-lesion-neurons", style={"height": "300px"},
                  figure=empty_figure("Lesions appear after training.", 300), **_GRAPH),
        dcc.Graph(id="train-lesion-synapses", style={"height": "300px"},
                  figure=empty_figure("", 300), **_GRAPH),
    )  # fmt: skip
    compare = ui.card(
        "6. Compare with baselines",
        html.Div(
            "Trains the circuit and its baselines (linear, MLP, shuffled wiring, no "
            "interneurons, fully connected LTC) with the training run's budget for each seed "
            "and scores them on held-out episodes (python -m sim compare does the same).",
            style=_NOTE,
        ),
        html.Div(
            ui.field("Seeds", ui.text_input("train-compare-seeds",
                                            str(insight.DEFAULT_COMPARE_SEEDS)),
                     "train-compare-seeds-error"),
            style={"maxWidth": "260px"},
        ),
        html.Div(
            [
                ui.button("Compare with baselines", "train-compare-run"),
                ui.button("Cancel", "train-compare-cancel", disabled=True),
            ]
        ),
        _progress_row("compare"),
        ui.status("train-compare-msg"),
        html.Div(id="train-compare-table", style={"overflowX": "auto"}),
        dcc.Graph(id="train-compare-figure", style={"display": "none"}, **_GRAPH),
    )  # fmt: skip
    return html.Div(
        [
            dcc.Store(id="train-insight-session", data=uuid.uuid4().hex),
            dcc.Store(id="train-lesion-job", storage_type="session"),
            dcc.Store(id="train-lesion-result", storage_type="session"),
            dcc.Interval(id="train-lesion-poll", interval=1000, disabled=True),
            dcc.Store(id="train-compare-job", storage_type="session"),
            dcc.Store(id="train-compare-result", storage_type="session"),
            dcc.Interval(id="train-compare-poll", interval=1000, disabled=True),
            lesions,
            compare,
        ],
        id="train-insight",
    )


# ------------------------------------------------------------------------ shared job plumbing
def _key(config) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:20]


def _start(app, kind, config, session, job, set_progress, extra=None):
    """Record and run one job of ``kind``; returns its result message (or an error)."""
    n = int(job.get("n", 0)) + 1 if isinstance(job, dict) and isinstance(job.get("n"), int) else 1
    run_id = job_id(session, n)
    folder = runs.run_folder(run_id)
    runs.record_start(folder, config)
    runs.record_owner(folder)
    runs.record_relay(folder, app_folder(app))
    record = {"run": run_id, "page": session, "n": n, **(extra or {})}
    stop_file = stop_path(app_folder(app), run_id)
    set_progress((0, 100, "starting", record))

    def on_progress(msg):
        if msg["kind"] == "progress":
            set_progress((int(round(100 * msg["fraction"])), 100, msg["text"], record))

    try:
        return run_job(kind, {**config, "folder": folder}, on_progress, stop_file)
    except Exception as err:  # noqa: BLE001 - shown by the panel, never as a traceback
        return {"kind": "error", "text": f"the job could not run: {err}"}
    finally:
        clear_stop(stop_file)


def _cancel(app, job, what):
    run_id = job.get("run") if isinstance(job, dict) else None
    try:
        folder = runs.run_folder(run_id)
        try:
            request_stop(stop_path(app_folder(app), run_id))
        except ControllerError:  # a job started before this server restarted
            if runs.run_status(folder)["state"] != "running":
                raise
            request_stop(os.path.join(folder, "stop"))
    except ControllerError as err:
        return ui.error(str(err))
    return ui.info(f"Cancelling: the {what} stops at its next check.")


def _reattach(app, job, session):
    """The poll's outputs (bar value, max, text, result, message, run disabled, cancel
    disabled, poll disabled) for the tab's job record ``job``."""
    keep = (no_update,) * 7
    if not isinstance(job, dict) or not job.get("run"):
        return (*keep, True)
    try:
        folder = runs.run_folder(job.get("run"))
    except ControllerError as err:
        return (*keep[:4], ui.error(str(err)), False, True, True)
    view = insight.recorded_view(folder)
    if job.get("page") == session and runs.relay_of(folder) == app_folder(app):
        return (*keep, view["state"] != "running")  # shown by this page's own callback
    bar = int(round(100 * view["fraction"]))
    if view["state"] == "running":
        return (bar, 100, view["text"], no_update, no_update, True, False, False)
    if view["state"] == "done":
        return (100, 100, view["text"], view["result"], ui.info("Done."), False, True, True)
    return (bar, 100, "stopped", no_update, ui.error(f"The job stopped: {view['text']}."),
            False, True, True)  # fmt: skip


def _job_callbacks(app, name, what):
    """Cancel and the reattach poll of panel ``name`` (``train-<name>-...`` ids)."""

    @app.callback(
        Output(f"train-{name}-msg", "children", allow_duplicate=True),
        Input(f"train-{name}-cancel", "n_clicks"),
        State(f"train-{name}-job", "data"),
        prevent_initial_call=True,
    )
    def cancel(n_clicks, job):
        return _cancel(app, job, what) if n_clicks else no_update

    @app.callback(
        Output(f"train-{name}-progress", "value", allow_duplicate=True),
        Output(f"train-{name}-progress", "max", allow_duplicate=True),
        Output(f"train-{name}-progress-text", "children", allow_duplicate=True),
        Output(f"train-{name}-result", "data", allow_duplicate=True),
        Output(f"train-{name}-msg", "children", allow_duplicate=True),
        Output(f"train-{name}-run", "disabled", allow_duplicate=True),
        Output(f"train-{name}-cancel", "disabled", allow_duplicate=True),
        Output(f"train-{name}-poll", "disabled"),
        Input(f"train-{name}-poll", "n_intervals"),
        Input(f"train-{name}-job", "data"),
        State("train-insight-session", "data"),
        prevent_initial_call="initial_duplicate",
    )
    def reattach(_n, job, session):
        return _reattach(app, job, session)


def _job_start(app, name, *dependencies):
    """The background callback that starts panel ``name``'s job: outputs its result and
    message, takes ``dependencies`` and then the page session and the tab's job record;
    progress goes to the panel's bar and its job record."""
    return app.callback(
        Output(f"train-{name}-result", "data"),
        Output(f"train-{name}-msg", "children"),
        *dependencies,
        State("train-insight-session", "data"),
        State(f"train-{name}-job", "data"),
        background=True,
        progress=[
            Output(f"train-{name}-progress", "value"),
            Output(f"train-{name}-progress", "max"),
            Output(f"train-{name}-progress-text", "children"),
            Output(f"train-{name}-job", "data"),
        ],
        running=[
            (Output(f"train-{name}-run", "disabled"), True, False),
            (Output(f"train-{name}-cancel", "disabled"), False, True),
        ],
        interval=300,
        prevent_initial_call=True,
    )


def _finish(out, what):
    """(result, message) of a finished job's output."""
    if out["kind"] == "error":
        return no_update, ui.error(f"The {what} failed: {out['text']}")
    result = {k: v for k, v in out.items() if k != "kind"}
    note = "Done." if result.get("complete") else "Cancelled."
    return result, ui.info(note)


# ------------------------------------------------------------------------ callbacks
def register_callbacks(app) -> None:
    """Attach the panels' callbacks to ``app``."""
    _job_callbacks(app, "lesion", "lesioning")
    _job_callbacks(app, "compare", "comparison")

    @_job_start(app, "lesion", Input("train-result", "data"), Input("train-lesion-run", "n_clicks"))
    def lesion_job(set_progress, result, n_clicks, session, job):
        """Lesion the page's result once it is there (a finished run, an upload), or again."""
        again = ctx.triggered_id == "train-lesion-run"
        if not result and not again:
            return no_update, no_update
        try:
            config = insight.lesion_config(result)
            key = _key(config)
            if not again and isinstance(job, dict) and job.get("key") == key:
                return no_update, no_update  # this result's job: the poll shows it
            out = _start(app, "lesions", config, session, job, set_progress, {"key": key})
        except WormlabError as err:
            return no_update, ui.error(f"What matters: {err}")
        return _finish(out, "lesioning")

    @app.callback(
        Output("train-lesion-neurons", "figure"),
        Output("train-lesion-synapses", "figure"),
        Input("train-lesion-result", "data"),
    )
    def lesion_figures(result):
        if not result:
            return empty_figure("Lesions appear after training.", 300), empty_figure("", 300)
        try:
            intact = float(result["intact"])
            neurons, synapses = result["neurons"], result["synapses"]
            by_neuron = lesion_figure(
                [n["name"] for n in neurons], [float(n["drop"]) for n in neurons], intact,
                f"Each neuron lesioned ({result['env_id']}, {result['episodes']} held-out "
                "episodes)",
            )  # fmt: skip
            total = result["synapses_total"]
            few = f"the {len(synapses)} strongest of {total}"
            shown = f"all {total}" if len(synapses) == total else few
            by_synapse = lesion_figure(
                [synapse_label(s) for s in synapses], [float(s["drop"]) for s in synapses],
                intact, f"Each synapse lesioned alone ({shown} synapses)",
            )  # fmt: skip
        except (KeyError, TypeError, ValueError) as err:
            text = f"The stored lesion result cannot be shown ({err!r}); lesion again."
            return empty_figure(text, 300), empty_figure("", 300)
        return by_neuron, by_synapse

    @app.callback(
        Output("train-compare-seeds-error", "children"),
        Input("train-compare-seeds", "value"),
    )
    def seeds_message(value):
        try:
            insight.compare_seeds_field(value)
        except WormlabError as err:
            return str(err)
        return ""

    @_job_start(app, "compare", Input("train-compare-run", "n_clicks"),
                State("train-job", "data"), State("train-compare-seeds", "value"))  # fmt: skip
    def compare_job(set_progress, n_clicks, train_job, seeds, session, job):
        """Train the last training run's circuit and its baselines with its budget."""
        if not n_clicks:
            return no_update, no_update
        try:
            run = train_job.get("run") if isinstance(train_job, dict) else None
            if not run:
                raise ControllerError("Compare: train the circuit first (the comparison uses "
                                      "its circuit, io maps and budget)")  # fmt: skip
            config = insight.compare_config(runs.run_config(runs.run_folder(run)), seeds)
            out = _start(app, "compare", config, session, job, set_progress)
        except WormlabError as err:
            return no_update, ui.error(str(err))
        return _finish(out, "comparison")

    @app.callback(
        Output("train-compare-table", "children"),
        Output("train-compare-figure", "figure"),
        Output("train-compare-figure", "style"),
        Input("train-compare-result", "data"),
    )
    def compare_view(result):
        hidden = {"display": "none"}
        if not result or not result.get("complete"):
            return "", no_update, hidden
        from sim.comparison import comparison_figure

        try:
            summary = insight.table_from_json(result["summary"])
            lesions = insight.table_from_json(result["lesions"])
            fig = comparison_figure(summary, lesions, result["env_id"])
            table = comparison_table(summary)
        except (WormlabError, KeyError, TypeError, ValueError) as err:
            return ui.error(f"The stored comparison cannot be shown ({err}); run it again."), \
                no_update, hidden  # fmt: skip
        fig.update_layout(height=360, margin={"l": 40, "r": 10, "t": 60, "b": 40})
        seeds = result.get("seeds") or []
        budget = html.Div(
            f"{result['env_id']}, seeds {', '.join(str(x) for x in seeds)}: every controller "
            f"trained for at most {result.get('generations')} generations or "
            f"{result.get('seconds')} s, scored on held-out episodes.",
            id="train-compare-budget", style=_NOTE,
        )  # fmt: skip
        return [budget, table], fig, {"height": "360px"}

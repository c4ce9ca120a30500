"""The Simulate page's Screen panel, without Dash: a lesion screen or an amplitude sweep of the
page's current run, as a background job with progress and cancel.

The page (once it has the panel) reads its form into a :class:`webapp.simulation.Request` as
for a single run, then

1. :func:`screen_spec_of` turns the request into a :class:`sim.sweeps.SweepSpec` (checked
   against :data:`MAX_SCREEN_POINTS` and :data:`MAX_SCREEN_NEURON_STEPS` before any work);
2. a Dash background callback starts the job with :func:`start_screen` (the ``screen`` kind
   of :mod:`webapp.jobs`, run in a fresh process: :func:`screen_job`), relaying its progress
   messages (:func:`progress_text`) to a progress bar; the cancel button leaves the job's stop
   mark (:func:`webapp.jobs.request_stop`), and a cancelled job returns the points done; the
   result holds :func:`table_to_store` data for a ``dcc.Store``;
3. the figures come from :mod:`webapp.figures.screen` (a ranking bar chart for a screen, a
   metric-vs-amplitude line plot for a sweep) and the download from :func:`screen_csv`.

Everything here is plain Python, testable without a browser.
"""

import pandas as pd

from connectome.errors import SimulationError
from sim.screens import rank, screen_spec
from sim.stimulus import Stimulus
from sim.sweeps import sweep, sweep_spec
from webapp.simulation import VENTRAL_CORD, Request, load_source, source_tag

__all__ = [
    "MAX_SCREEN_POINTS",
    "MAX_SCREEN_NEURON_STEPS",
    "KINDS",
    "screen_spec_of",
    "run_screen",
    "screen_job",
    "start_screen",
    "progress_text",
    "table_to_store",
    "table_from_store",
    "screen_csv",
]

#: Largest number of points one screen may run from the app.
MAX_SCREEN_POINTS = 400
#: Largest total work of one screen from the app: points x neurons x steps.
MAX_SCREEN_NEURON_STEPS = 4e10
#: What the panel runs.
KINDS = ("screen", "amplitude")
_METRICS = ("period", "strength", "amplitude")


def screen_spec_of(request, kind="screen", *, amplitudes=None, stimulus=0, level="neuron"):
    """The sweep of the panel for the page's current ``request``.

    Parameters
    ----------
    request : webapp.simulation.Request
        The page's run (source, model, parameters, stimuli, ablation, timing).
    kind : {"screen", "amplitude"}
        Every single ablation (of a neuron or a class, ``level``) against the baseline, or
        the amplitudes ``amplitudes`` of stimulus row ``stimulus``.
    amplitudes : sequence of float
        For ``"amplitude"``.

    Returns
    -------
    SweepSpec
        Metrics: period, strength and amplitude of the ventral cord motor neurons (the
        network's motor neurons when it has no ventral cord), over the last two thirds.

    Raises
    ------
    SimulationError
        For an unknown kind, no stimulus to sweep, or a screen beyond the limits.
    """
    if kind not in KINDS:
        raise SimulationError(f"screen kind {kind!r}; use one of {KINDS}")
    tag = source_tag(request.source)  # a dataset key, or circuit:<hash> for a circuit
    source = request.source if tag.startswith("circuit:") else tag
    stimuli = [Stimulus(t, k, dict(ps)).spec() for t, k, ps in request.stimuli]
    net = load_source(request.source)
    classes = set(net.neurons["class"]) if "class" in net.neurons else set()
    neurons = [c for c in VENTRAL_CORD if c in classes]
    if len(neurons) < 1:
        kind_col = "role" if "role" in net.neurons else "type"
        neurons = list(net.neurons.index[net.neurons[kind_col] == "motor"])
    common = dict(
        model=request.model,
        params=dict(request.params),
        ablate=tuple(request.ablate),
        duration=request.duration,
        dt=request.dt,
        record_every=request.record_every,
        metrics=_METRICS,
        neurons=neurons,
        chunk_size=4,
    )
    if kind == "screen":
        spec = screen_spec(source, stimuli, level=level, **common)
    else:
        if not stimuli:
            raise SimulationError("an amplitude sweep needs a stimulus: add one first")
        if not 0 <= stimulus < len(stimuli):
            raise SimulationError(f"stimulus row {stimulus + 1} does not exist")
        if amplitudes is None or len(amplitudes) == 0:
            raise SimulationError("give the amplitudes to sweep")
        axis = f"stim.{stimulus}.amp"
        spec = sweep_spec(source, stimuli, grid={axis: [float(a) for a in amplitudes]}, **common)
    n_steps = int(round(request.duration / request.dt))
    work = len(spec.points) * len(net.neurons) * n_steps
    if len(spec.points) > MAX_SCREEN_POINTS:
        raise SimulationError(
            f"{len(spec.points)} points is more than the app runs ({MAX_SCREEN_POINTS}); "
            "use python -m sim screen for big screens"
        )
    if work > MAX_SCREEN_NEURON_STEPS:
        raise SimulationError(
            f"the screen would take {work:.3g} neuron-steps, more than the app's limit "
            f"{MAX_SCREEN_NEURON_STEPS:.3g}; shorten the run or use python -m sim screen"
        )
    return spec


def progress_text(fraction, spec):
    """``(value, max, text)`` of the panel's progress bar."""
    done = int(round(fraction * len(spec.points)))
    return int(round(100 * fraction)), 100, f"{done} of {len(spec.points)} points"


def run_screen(spec, set_progress=None, should_stop=None):
    """The background job: run ``spec`` in the server process and rank it if it is a screen.

    Parameters
    ----------
    spec : SweepSpec
        From :func:`screen_spec_of`.
    set_progress : callable, optional
        Called with :func:`progress_text` of each step.
    should_stop : callable, optional
        The cancel button's check: a cancelled screen returns the points done so far.

    Returns
    -------
    pandas.DataFrame
        A ranked screen (:func:`sim.screens.rank`) or the sweep's table.
    """

    def progress(fraction):
        if set_progress is not None:
            set_progress(progress_text(fraction, spec))

    table = sweep(spec=spec, progress=progress, should_stop=should_stop)
    if spec.axes == ("ablate",):
        return rank(table)
    return table


def _job_spec(config):
    request = Request.from_json({**config["request"], "source": config["source"]})
    return screen_spec_of(
        request, config.get("kind", "screen"), amplitudes=config.get("amplitudes"),
        stimulus=int(config.get("stimulus", 0)), level=config.get("level", "neuron"),
    )  # fmt: skip


def screen_job(config, emit, should_stop):
    """The screen job (:mod:`webapp.jobs`, kind ``screen``): :func:`run_screen` of
    :func:`screen_spec_of` the request in ``config`` (``request``: :meth:`Request.to_json`
    data, ``source``: the full source text, and ``kind``, ``amplitudes``, ``stimulus``,
    ``level``), emitting ``{"kind": "progress", "fraction", "text"}``.

    Returns
    -------
    dict
        ``{"table": table_to_store(...), "axis": the swept axis, "complete": bool}``.
    """
    spec = _job_spec(config)

    def relay(state):
        value, top, text = state
        emit({"kind": "progress", "fraction": value / top, "text": text})

    table = run_screen(spec, relay, should_stop)
    return {
        "table": table_to_store(table),
        "axis": spec.axes[0],
        "complete": len(table) + (spec.axes == ("ablate",)) == len(spec.points),
    }


def start_screen(request, on_progress, stop_file=None, **choices):
    """Run :func:`screen_job` for ``request`` in a fresh process (:func:`webapp.jobs.run_job`).

    ``choices``: ``kind``, ``amplitudes``, ``stimulus``, ``level`` (see
    :func:`screen_spec_of`, which is checked here first so a bad choice fails at once).
    """
    from webapp.jobs import run_job

    config = {"request": request.to_json(), "source": request.source, **choices}
    _job_spec(config)  # every limit and name checked before a process starts
    return run_job("screen", config, on_progress, stop_file)


def table_to_store(table):
    """A table as ``dcc.Store`` data (columns and rows; NaN as None), with its baseline."""
    clean = table.astype(object).where(pd.notna(table), None)
    return {
        "columns": [str(c) for c in table.columns],
        "rows": clean.values.tolist(),
        "baseline": dict(table.attrs.get("baseline", {})),
    }


def table_from_store(data):
    """The table of :func:`table_to_store` data."""
    table = pd.DataFrame(data["rows"], columns=data["columns"])
    for c in table.columns:
        if c not in ("ablate", "verdict", "error"):
            table[c] = pd.to_numeric(table[c])
    table.attrs["baseline"] = dict(data.get("baseline") or {})
    return table


def screen_csv(table):
    """The CSV download of a screen or sweep table."""
    return table.to_csv(index=False)

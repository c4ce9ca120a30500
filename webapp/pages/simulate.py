"""The Simulate page: stimulate neurons and watch the whole network respond.

The user picks a source (the whole connectome of a dataset, or the circuit made on the Circuit
page), a neuron model (``graded``, Kunert et al. 2014, in mV, pA and s; or ``ltc``, liquid
time-constant neurons, unitless) with its main parameters, a list of stimuli (a neuron or a
class, a protocol: step, pulse train, sine, ramp or noise, and its parameters), ablations, the
duration and the step. Presets set up known experiments in one click and run them.

Results: traces of the stimulated neurons and of the strongest responders (any neuron can be
added), a heatmap of every neuron ordered by type, a phase portrait of the motor neurons on
their first two principal components, the network coloured by activity with a time slider and
a play button, a table of each neuron's peak and latency, and CSV downloads.

How a run is served
-------------------
Runs are short (5 s of the graded model on the whole Cook 2019 connectome is 50 000 steps,
well under a second), so they run in the request, in the server process, never in a forked
worker. Numba compiles nothing in a request: the kernels are compiled (or loaded from numba's
on-disk cache, ``cache=True``) by :func:`warm_up` at start-up. Everything a run needs is in
its :class:`Request` (hashable, content only), and two bounded caches keyed by content make
repeated work free: :func:`compiled` (the source's arrays for a model, parameters and
ablation) and :func:`simulated` (the result of a request). Nothing about a user lives in the
server: the browser keeps the request (a ``dcc.Store``) and the server recomputes a result
that has left the cache, identically, so two users (or two server workers) never see each
other's runs.

Limits (:data:`MAX_NEURON_STEPS`, :data:`MAX_RECORDED_VALUES`) bound the work and memory of one
request; the message names the limit. Every field is checked before anything runs and each
problem is shown next to its field; the page never shows a traceback.
"""

import contextlib
import functools
import hashlib
import json
import logging
import math
import time
import uuid
from dataclasses import dataclass

import dash_cytoscape as cyto
import numpy as np
from dash import ALL, MATCH, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

import connectome
from connectome import io as wiring_io
from connectome.errors import (
    DivergenceError,
    SimulationError,
    UnknownNeuronError,
    WiringFormatError,
    WormlabError,
)
from sim.analysis import dominant_period, pca, response_summary
from sim.compile import compile as compile_circuit
from sim.models import WEIGHT_MAPS, default_params
from sim.simulate import simulate
from sim.stimulus import KINDS, Stimulus
from webapp import network
from webapp.figures.control import empty_figure
from webapp.figures.dynamics import (
    CODE_CHARS,
    activity_frames,
    heatmap_figure,
    phase_portrait_figure,
    traces_figure,
)

__all__ = [
    "PATH",
    "NAME",
    "ORDER",
    "MAX_NEURON_STEPS",
    "MAX_RECORDED_VALUES",
    "PROTOCOLS",
    "PRESETS",
    "VENTRAL_CORD",
    "Request",
    "FormError",
    "layout",
    "register_callbacks",
    "warm_up",
    "dataset_source",
    "circuit_source",
    "load_source",
    "read_form",
    "resolve_ablation",
    "check_names",
    "check_request",
    "compiled",
    "simulated",
    "motor_neurons",
    "default_traces",
    "preset_form",
    "default_form",
    "analyse",
    "traces_csv",
    "summary_csv",
    "stimulated_neurons",
    "onset_of",
    "response_size",
]

log = logging.getLogger(__name__)

PATH = "/simulate"
NAME = "Simulate"
ORDER = 1

#: Largest (neurons x integration steps) of one run: 20 s of 300 neurons at dt = 0.1 ms,
#: a few seconds of computing.
MAX_NEURON_STEPS = 60_000_000
#: Largest (neurons x recorded samples) of one run: 40 MB of float32 kept on the server.
MAX_RECORDED_VALUES = 10_000_000
N_TRACES = 8  # traces shown by default: the stimulated neurons, then the strongest responders
SUMMARY_ROWS = 60  # rows of the response table (all neurons are in its CSV)
MAX_EDGES = 1000  # synapses drawn in the activity view (the strongest)
#: Ventral cord motor neuron classes (the phase portrait's neurons when present).
VENTRAL_CORD = ("VA", "VB", "DA", "DB", "VD", "DD", "AS", "VC")

PROTOCOLS = {
    "step": "step",
    "pulse": "pulse train",
    "sine": "sine",
    "ramp": "ramp",
    "noise": "noise",
}
#: Fields of each protocol: (key, label, unit kind); unit kinds: I current, t time, f frequency.
_FIELDS = {
    "step": (("amp", "amplitude", "I"), ("start", "start", "t"), ("stop", "stop", "t")),
    "pulse": (
        ("amp", "amplitude", "I"),
        ("period", "period", "t"),
        ("width", "width", "t"),
        ("start", "start", "t"),
        ("stop", "stop", "t"),
    ),
    "sine": (
        ("amp", "amplitude", "I"),
        ("freq", "frequency", "f"),
        ("phase", "phase", "rad"),
        ("offset", "offset", "I"),
        ("start", "start", "t"),
        ("stop", "stop", "t"),
    ),
    "ramp": (
        ("amp0", "from", "I"),
        ("amp1", "to", "I"),
        ("start", "start", "t"),
        ("stop", "stop", "t"),
    ),
    "noise": (
        ("mean", "mean", "I"),
        ("std", "std", "I"),
        ("sample_dt", "held for", "t"),
        ("seed", "seed", ""),
        ("start", "start", "t"),
        ("stop", "stop", "t"),
    ),
}
#: The protocols' optional parameters and their defaults (sim.stimulus).
_OPTIONAL = {kind: dict(KINDS[kind][1]) for kind in _FIELDS}
#: Fields that may be left blank, and what blank means.
_BLANK = {"stop": math.inf, "start": 0.0, "phase": 0.0, "offset": 0.0, "mean": 0.0, "seed": 0,
          "sample_dt": None, "amp0": 0.0}  # fmt: skip
_UNITS = {
    "graded": {"I": "pA", "t": "s", "f": "Hz", "rad": "rad", "": "", "V": "mV"},
    "ltc": {"I": "", "t": "τ", "f": "1/τ", "rad": "rad", "": "", "V": ""},
}
#: Default stimulus values per model (strings, as the fields hold them).
_STIM_DEFAULTS = {
    "graded": {"amp": "1000", "start": "0", "stop": "", "period": "0.5", "width": "0.1",
               "freq": "1", "phase": "0", "offset": "0", "amp0": "0", "amp1": "1000",
               "mean": "0", "std": "500", "sample_dt": "0.01", "seed": "0"},
    "ltc": {"amp": "1", "start": "0", "stop": "", "period": "20", "width": "5", "freq": "0.05",
            "phase": "0", "offset": "0", "amp0": "0", "amp1": "1", "mean": "0", "std": "0.5",
            "sample_dt": "", "seed": "0"},
}  # fmt: skip
#: Model parameters shown: (field, unit, help). Defaults from sim.models (papers cited there).
_PARAMS = {
    "graded": (
        ("C", "pF", "membrane capacitance"),
        ("Gc", "pS", "leak conductance"),
        ("Ec", "mV", "leak reversal potential"),
        ("ggap", "pS/junction", "conductance per gap-junction count"),
        ("gsyn", "pS/synapse", "conductance per synapse count"),
        ("ar", "1/s", "synaptic activation rate"),
        ("ad", "1/s", "synaptic deactivation rate"),
        ("beta", "1/mV", "slope of the presynaptic sigmoid"),
        ("E_exc", "mV", "excitatory reversal potential"),
        ("E_inh", "mV", "inhibitory (GABAergic) reversal potential"),
    ),
    "ltc": (
        ("cm", "", "membrane capacitance"),
        ("gleak", "", "leak conductance"),
        ("vleak", "", "leak potential"),
        ("w_scale", "/synapse", "synaptic weight per synapse count"),
        ("gap_scale", "/junction", "gap-junction conductance per count"),
        ("mu", "", "half-activation presynaptic potential"),
        ("sigma", "", "slope of the synaptic sigmoid"),
        ("erev_exc", "", "excitatory reversal potential"),
        ("erev_inh", "", "inhibitory reversal potential"),
        ("unfolds", "sub-steps", "semi-implicit sub-steps per step"),
    ),
}
_CHOICES = {
    "graded": (
        ("threshold", ("input", "rest"), "Vth: recomputed for the constant input (Neural "
         "Interactome) or the network's at rest"),
        ("weight_map", WEIGHT_MAPS, "how synapse counts become conductances"),
    ),
    "ltc": (("weight_map", WEIGHT_MAPS, "how synapse counts become weights"),),
}  # fmt: skip
_TIMING = {
    "graded": {"duration": "5", "dt": "0.0001", "record": "10"},
    "ltc": {"duration": "100", "dt": "1", "record": "1"},
}

#: One-click experiments. Amplitudes in pA (graded model).
PRESETS = {
    "plm": {
        "label": "PLM touch",
        "dataset": "varshney2011",
        "model": "graded",
        "stimuli": [("PLM", "step", {"amp": "2000", "start": "0", "stop": ""})],
        "duration": "8",
        "note": "Kunert, Shlizerman & Kutz 2014 (Phys Rev E 89:052805, "
        "doi:10.1103/PhysRevE.89.052805): a constant 2000 pA into PLML and PLMR (the Neural "
        "Interactome's 0.2) drives the ventral cord motor neurons of the Varshney 2011 wiring "
        "into a two-mode oscillation (period about 1.2 s). On Cook 2019 the same input settles "
        "to a fixed point.",
    },
    "ava": {
        "label": "AVA activation",
        "dataset": None,
        "model": "graded",
        "stimuli": [("AVA", "step", {"amp": "1000", "start": "0.5", "stop": ""})],
        "duration": "3",
        "note": "AVA commands reversals (Chalfie et al. 1985, J Neurosci 5:956, "
        "doi:10.1523/JNEUROSCI.05-04-00956.1985): 1000 pA into AVAL and AVAR from 0.5 s; "
        "the A-type motor neurons (VA, DA) depolarise more than the B-type (VB, DB).",
    },
    "ase": {
        "label": "ASE salt step",
        "dataset": None,
        "model": "graded",
        "stimuli": [
            ("ASEL", "step", {"amp": "100", "start": "1", "stop": ""}),
            ("ASER", "step", {"amp": "-100", "start": "1", "stop": ""}),
        ],
        "duration": "4",
        "note": "A salt up-step excites ASEL (an ON cell) and inhibits ASER (an OFF cell) "
        "(Suzuki et al. 2008, Nature 454:114, doi:10.1038/nature06927): +100 pA into ASEL "
        "and -100 pA into ASER from 1 s; watch AIY, AIZ, AIB.",
    },
}

_ERR_STYLE = {"color": "#b3261e", "fontSize": "12px", "minHeight": "0", "marginTop": "1px"}
_LABEL = {"fontWeight": 600, "fontSize": "12.5px", "display": "block", "marginBottom": "2px"}
_INPUT = {"width": "100%", "padding": "4px 6px", "border": "1px solid #dde2e7",
          "borderRadius": "5px", "fontSize": "13px"}  # fmt: skip


# ===================================================================== requests
@dataclass(frozen=True)
class Request:
    """Everything one run depends on (hashable: the key of :func:`simulated`).

    Attributes
    ----------
    source : str
        :func:`dataset_source` or :func:`circuit_source` text.
    model : str
    params : tuple of (str, value)
        The model parameters that differ from the model's defaults, sorted by name.
    stimuli : tuple of (str, str, tuple of (str, value))
        (target, kind, parameters) per stimulus row.
    ablate : tuple of str
        Neurons to remove (resolved names, sorted).
    duration, dt : float
        Model time unit (s for graded).
    record_every : int
        Integration steps between recorded samples.
    """

    source: str
    model: str
    params: tuple
    stimuli: tuple
    ablate: tuple
    duration: float
    dt: float
    record_every: int

    @property
    def n_steps(self):
        """Integration steps."""
        return int(round(self.duration / self.dt))

    def to_json(self):
        """The request for the browser (a circuit source is replaced by its sha256)."""
        data = {
            "source": self.source if _dataset_of(self.source) else {"sha": _sha(self.source)},
            "model": self.model,
            "params": [list(p) for p in self.params],
            "stimuli": [[t, k, [list(p) for p in ps]] for t, k, ps in self.stimuli],
            "ablate": list(self.ablate),
            "duration": self.duration,
            "dt": self.dt,
            "record_every": self.record_every,
        }
        return data

    @classmethod
    def from_json(cls, data, circuit=None):
        """Rebuild from :meth:`to_json` data (``circuit``: the store-circuit data when the
        source was a circuit; its hash must match).

        Raises
        ------
        SimulationError
            When the circuit changed since the run.
        """
        source = data["source"]
        if isinstance(source, dict):
            text = circuit_source(circuit) if circuit else ""
            if _sha(text) != source["sha"]:
                raise SimulationError("the circuit changed since this run; run it again")
            source = text

        def pairs(items):
            return tuple((str(k), v) for k, v in items)

        return cls(
            source=source,
            model=data["model"],
            params=pairs(data["params"]),
            stimuli=tuple((t, k, pairs(ps)) for t, k, ps in data["stimuli"]),
            ablate=tuple(data["ablate"]),
            duration=float(data["duration"]),
            dt=float(data["dt"]),
            record_every=int(data["record_every"]),
        )


class FormError(WormlabError):
    """Problems with the form: ``errors`` maps a field key to its message (see
    :func:`read_form` for the keys)."""

    def __init__(self, errors):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


def _sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


_DATASET_PREFIX = "dataset:"


def dataset_source(dataset):
    """Source text of a shipped dataset's whole connectome: ``"dataset:<key>"``."""
    return _DATASET_PREFIX + str(dataset)


def circuit_source(wiring):
    """Source text of a circuit (``connectome.io.to_dict`` data): its canonical JSON."""
    return json.dumps(wiring, sort_keys=True, separators=(",", ":"))


def _dataset_of(source):
    """The dataset key of a dataset source, else None (a circuit's JSON starts with "{")."""
    return source[len(_DATASET_PREFIX) :] if source.startswith(_DATASET_PREFIX) else None


@functools.lru_cache(maxsize=8)
def load_source(source):
    """The Connectome or Circuit a source text names (circuits cached by content).

    Raises
    ------
    UnknownDatasetError, WiringFormatError
        For an unknown dataset or a circuit that does not read.
    """
    dataset = _dataset_of(source)
    if dataset is not None:
        return connectome.load(dataset)
    try:
        data = json.loads(source)
    except ValueError as err:
        raise WiringFormatError(f"the circuit is not valid JSON ({err})") from err
    return wiring_io.from_dict(data)


def _source_tag(source):
    """A short name of a source: the dataset key, or ``circuit:<hash>``."""
    return _dataset_of(source) or "circuit:" + _sha(source)[:16]


def _number(text, key, errors, *, blank="required", integer=False, positive=False,
            non_negative=False):  # fmt: skip
    """Parse one field; on a problem, record it in ``errors[key]`` and return None."""
    s = "" if text is None else str(text).strip()
    if s == "":
        if blank == "required":
            errors[key] = "required"
            return None
        return blank
    try:
        x = float(s)
    except ValueError:
        errors[key] = f"{s!r} is not a number"
        return None
    if not math.isfinite(x):
        errors[key] = f"must be a finite number, not {s}"
        return None
    if integer:
        if x != round(x):
            errors[key] = f"must be a whole number, not {s}"
            return None
        x = int(round(x))
    if positive and x <= 0:
        errors[key] = f"must be > 0 (got {s})"
        return None
    if non_negative and x < 0:
        errors[key] = f"must be >= 0 (got {s})"
        return None
    return x


def read_form(model, params, rows, ablate, duration, dt, record):
    """Parse the form into the parts of a :class:`Request` (without the source).

    Parameters
    ----------
    model : str
    params : dict of str to str
        Parameter field -> text (and the choice fields).
    rows : list of dict
        ``{"index": int, "target": str or None, "kind": str, "values": {key: text}}``.
    ablate : str
        Comma- or space-separated neuron or class names.
    duration, dt, record : str
        Duration and step (model time unit), steps between recorded samples.

    Returns
    -------
    dict
        ``model``, ``params`` (the fields that differ from the model's defaults), ``stimuli``,
        ``rows`` (the row index of each stimulus), ``ablate`` (names as typed), ``duration``,
        ``dt``, ``record_every``.

    Raises
    ------
    FormError
        With one message per bad field. Keys: ``param:<name>``, ``stim:<index>:<key>``
        (key ``target``, a parameter, or ``row`` for a problem between fields), ``stimulus``
        (no stimulus at all), ``ablate``, ``duration``, ``dt``, ``record``, ``model``.
    """
    errors = {}
    if model not in _PARAMS:
        raise FormError({"model": f"unknown model {model!r}; use graded or ltc"})
    values = {}
    for key, _, _ in _PARAMS[model]:
        x = _number(params.get(key), f"param:{key}", errors, integer=key == "unfolds")
        if x is not None:
            try:
                default_params(model, **{key: x})
            except WormlabError as err:
                errors[f"param:{key}"] = _plain(err, key)
                continue
            values[key] = x
    for key, choices, _ in _CHOICES[model]:
        v = params.get(key)
        if v not in choices:
            errors[f"param:{key}"] = f"choose one of {', '.join(choices)}"
        else:
            values[key] = v
    stimuli, indices = [], []
    if not rows:
        errors["stimulus"] = "add at least one stimulus (the network without input stays at rest)"
    for row in rows:
        i, kind = row["index"], row.get("kind")
        target = (row.get("target") or "").strip()
        if not target:
            errors[f"stim:{i}:target"] = "pick a neuron or class (or click one in the network)"
        if kind not in _FIELDS:
            errors[f"stim:{i}:kind"] = f"choose a protocol: {', '.join(PROTOCOLS)}"
            continue
        vals, ok = {}, True
        for key, _, _ in _FIELDS[kind]:
            blank = _BLANK.get(key, "required")
            if kind == "ramp" and key == "stop":
                blank = "required"
            x = _number(
                row["values"].get(key),
                f"stim:{i}:{key}",
                errors,
                blank=blank,
                integer=key == "seed",
                positive=key in ("period", "width", "freq", "sample_dt"),
                non_negative=key == "std",
            )
            if x is None and blank == "required":
                ok = False
            elif x is not None and x != _OPTIONAL[kind].get(key, "required"):
                vals[key] = x  # the protocol's defaults are left out: one request, one key
        if ok and target:
            try:
                Stimulus(target, kind, vals)
            except WormlabError as err:
                errors[f"stim:{i}:row"] = str(err)
                continue
            stimuli.append((target, kind, tuple(sorted(vals.items()))))
            indices.append(i)
    names = _split_names(ablate)
    d = _number(duration, "duration", errors, positive=True)
    h = _number(dt, "dt", errors, positive=True)
    k = _number(record, "record", errors, integer=True, positive=True)
    if d is not None and h is not None:
        x = d / h
        if abs(x - round(x)) > 1e-6 * max(1.0, x) or round(x) < 1:
            lo, hi = max(1, math.floor(x)) * h, max(1, math.ceil(x)) * h
            errors["duration"] = (
                f"must be a whole number of steps of dt = {h:g}; use {lo:.10g} or {hi:.10g}"
            )
    if errors:
        raise FormError(errors)
    defaults = default_params(model).as_dict()
    return {
        "model": model,
        "params": tuple(sorted((k_, v) for k_, v in values.items() if v != defaults[k_])),
        "stimuli": tuple(stimuli),
        "rows": tuple(indices),
        "ablate": tuple(names),
        "duration": float(d),
        "dt": float(h),
        "record_every": int(k),
    }


def _plain(err, key=None):
    msg = str(err)
    if key and msg.startswith(f"parameter {key} = "):
        msg = msg[len(f"parameter {key} = ") :]
        msg = msg.split(" ", 1)[1] if " " in msg else msg
    return msg


@functools.lru_cache(maxsize=8)
def compiled(source, model, params, ablate):
    """The source compiled for ``model`` (a bounded cache keyed by content).

    Parameters
    ----------
    source : str
        :func:`dataset_source` / :func:`circuit_source` text.
    model : str
    params : tuple of (str, value)
        Parameter overrides.
    ablate : tuple of str
        Resolved neuron names to remove.
    """
    p = default_params(model, **dict(params))
    return compile_circuit(load_source(source), model, p, ablate=list(ablate))


def resolve_ablation(net, names):
    """``(sorted resolved names, errors)`` of the ablation field's names (key ``ablate``)."""
    gone, errors = set(), {}
    for name in names:
        try:
            gone.update(net.resolve([name]))
        except UnknownNeuronError as err:
            errors["ablate"] = str(err)
    if len(gone) >= len(net.neurons):
        errors["ablate"] = "nothing left to simulate: every neuron is ablated"
    return tuple(sorted(gone)), errors


def check_names(source, rows, ablate):
    """Unknown names in the form, found without parsing the rest: errors keyed as in
    :func:`read_form` (``stim:<index>:target``, ``ablate``; ``source`` if unreadable)."""
    try:
        net = load_source(source)
    except WormlabError as err:
        return {"source": str(err)}
    errors = resolve_ablation(net, _split_names(ablate))[1]
    for row in rows:
        target = (row.get("target") or "").strip()
        if target:
            try:
                net.resolve([target])
            except UnknownNeuronError as err:
                errors[f"stim:{row['index']}:target"] = str(err)
    return errors


def _split_names(text):
    return [s for s in str(text or "").replace(",", " ").split() if s]


def check_request(source, form):
    """Resolve names and apply the limits: the :class:`Request` of a parsed form.

    Raises
    ------
    FormError
        Unknown or ablated neurons (keys ``ablate``, ``stim:<index>:target``), a run over
        :data:`MAX_NEURON_STEPS` (``duration``) or :data:`MAX_RECORDED_VALUES` (``record``),
        a source that cannot be read (``source``).
    """
    try:
        net = load_source(source)
    except WormlabError as err:
        raise FormError({"source": str(err)}) from err
    gone, errors = resolve_ablation(net, form["ablate"])
    if errors:
        raise FormError(errors)
    cc = compiled(source, form["model"], form["params"], gone)
    for (target, _, _), row in zip(form["stimuli"], form["rows"], strict=True):
        try:
            cc.resolve([target])
        except UnknownNeuronError as err:
            errors[f"stim:{row}:target"] = str(err)
    request = Request(
        source=source,
        model=form["model"],
        params=form["params"],
        stimuli=form["stimuli"],
        ablate=gone,
        duration=form["duration"],
        dt=form["dt"],
        record_every=form["record_every"],
    )
    steps, records = request.n_steps, request.n_steps // request.record_every + 1
    if cc.n * steps > MAX_NEURON_STEPS:
        errors["duration"] = (
            f"too long: {cc.n} neurons x {steps:,} steps = {cc.n * steps:.3g} neuron-steps; the "
            f"limit (duration x neurons / dt) is {MAX_NEURON_STEPS:.3g}, about "
            f"{MAX_NEURON_STEPS / 300 * 1e-4:g} s of 300 neurons at dt = 0.1 ms. Shorten the "
            "run, raise dt or simulate a smaller circuit."
        )
    elif cc.n * records > MAX_RECORDED_VALUES:
        errors["record"] = (
            f"too many samples: {cc.n} neurons x {records:,} recorded steps = "
            f"{cc.n * records:.3g} values; the limit is {MAX_RECORDED_VALUES:.3g}. Record "
            "less often or shorten the run."
        )
    if errors:
        raise FormError(errors)
    return request


@functools.lru_cache(maxsize=4)
def simulated(request):
    """The :class:`sim.simulate.SimResult` of a request (a bounded cache keyed by content).

    Raises
    ------
    DivergenceError, SimulationError
        From :func:`sim.simulate.simulate`.
    """
    cc = compiled(request.source, request.model, request.params, request.ablate)
    stims = [Stimulus(t, k, dict(ps)) for t, k, ps in request.stimuli]
    return simulate(
        cc,
        stims,
        duration=request.duration,
        dt=request.dt,
        record_every=request.record_every,
        max_bytes=MAX_RECORDED_VALUES * 4 + 1,
    )


def motor_neurons(cc):
    """The neurons of a phase portrait: the ventral cord motor classes when at least three
    of their neurons are present, else every motor neuron (type, or role in a circuit)."""
    table = cc.neurons
    vc = [n for n, c in zip(cc.names, table["class"], strict=True) if c in VENTRAL_CORD]
    if len(vc) >= 3:
        return vc
    kind = table["role"] if "role" in table.columns else table["type"]
    return [n for n, k in zip(cc.names, kind, strict=True) if k == "motor"]


def stimulated_neurons(result, request):
    """Names of the stimulated neurons of a run, in stimulus order."""
    cc = result.circuit
    return list(dict.fromkeys(n for t, _, _ in request.stimuli for n in cc.resolve([t])))


def onset_of(result, request):
    """The earliest stimulus start (at most the last-but-one record time)."""
    starts = [dict(ps).get("start", 0.0) or 0.0 for _, _, ps in request.stimuli]
    onset = min(starts) if starts else 0.0
    return min(onset, float(result.t[-2])) if len(result.t) > 1 else 0.0


def response_size(result, onset):
    """Each neuron's largest ``|V(t) - V(onset)|`` after ``onset`` (the size of the ``peak``
    of :func:`sim.analysis.response_summary`, in one vectorised pass), shape (N,)."""
    t = result.t
    base = result.V[np.flatnonzero(t <= onset)[-1]]
    after = result.V[t > onset]
    return np.abs(after - base).max(axis=0) if len(after) else np.zeros(len(result.names))


def default_traces(names, size, stimulated, n=N_TRACES):
    """The stimulated neurons (at most half of ``n``), then the largest ``size`` (ties in
    name order) up to ``n`` in all.

    >>> default_traces(["A", "B", "C", "D"], [0.0, 3.0, 1.0, 2.0], ["A"], 3)
    ['A', 'B', 'D']
    """
    first = list(dict.fromkeys(stimulated))[: max(1, n // 2)]
    order = np.argsort(-np.asarray(size, dtype=np.float64), kind="stable")
    rest = [names[i] for i in order if names[i] not in set(first)]
    return first + rest[: n - len(first)]


def _one_blas_thread():
    """Limit BLAS to one thread: its threads fight for the cores on a busy server (an SVD of
    3000 x 80 takes about 1 s with them instead of 20 ms). A no-op without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl ships with numpy's usual stacks
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def analyse(result, request):
    """What the results panel shows: stimulated neurons, onset, response summary, the
    motor neurons' principal components and the dominant period of the first one.

    Returns
    -------
    dict
        ``stimulated`` (names), ``onset`` (earliest stimulus start), ``summary``
        (:func:`sim.analysis.response_summary` from the onset), ``motor`` (names),
        ``window`` (start of the PCA window: the first third of the run is left out as
        transient), ``pca`` (:func:`sim.analysis.pca` of the motor neurons over the window,
        two modes, or None), ``period`` (:func:`sim.analysis.dominant_period` of mode 1, as
        :func:`sim.analysis.oscillation_summary` computes it, or None).
    """
    cc = result.circuit
    stimulated = stimulated_neurons(result, request)
    onset = onset_of(result, request)
    motor = motor_neurons(cc)
    window = float(result.t[-1]) / 3.0
    p = period = None
    with _one_blas_thread():
        summary = response_summary(result, onset=onset)
        if len(motor) >= 2 and np.count_nonzero(result.t >= window) >= 8:
            p = pca(result, motor, start=window, n_components=2)
            if p.projections.shape[1] < 2:
                p = None
            else:
                dt = float(np.median(np.diff(p.t)))
                period = dominant_period(p.projections[:, 0], dt)
    return {
        "stimulated": stimulated,
        "onset": onset,
        "summary": summary,
        "motor": motor,
        "pca": p,
        "period": period,
        "window": window,
    }


# ===================================================================== forms
def _fmt(x):
    if x is None or (isinstance(x, float) and math.isinf(x)):
        return ""
    return f"{x:g}" if isinstance(x, float) else str(x)


def _row(index, target=None, kind="step", values=None, model="graded"):
    base = dict(_STIM_DEFAULTS[model])
    base.update(values or {})
    return {"index": index, "target": target, "kind": kind, "values": base}


def default_form(model="graded", dataset="cook2019"):
    """The page's form before any change (PLM, a step of 2000 pA, 5 s)."""
    return {
        "source": "dataset",
        "dataset": dataset,
        "model": model,
        "params": {k: _fmt(v) for k, v in default_params(model).as_dict().items()},
        "rows": [_row(0, "PLM", "step", {"amp": "2000"} if model == "graded" else {}, model)],
        "ablate": "",
        **_TIMING[model],
        "note": "",
    }


def preset_form(name, dataset="cook2019"):
    """The form of a preset (:data:`PRESETS`), on ``dataset`` unless the preset names one."""
    p = PRESETS[name]
    form = default_form(p["model"], p["dataset"] or dataset)
    form["rows"] = [
        _row(i, target, kind, values, p["model"])
        for i, (target, kind, values) in enumerate(p["stimuli"])
    ]
    form["duration"] = p["duration"]
    form["note"] = p["note"]
    return form


def _units(model):
    return _UNITS[model]


def _field(label, control, err_id, unit="", title=None, width=None):
    head = label + (f" ({unit})" if unit else "")
    return html.Div(
        [
            html.Label(head, style=_LABEL, title=title),
            control,
            html.Div(id=err_id, style=_ERR_STYLE, role="alert"),
        ],
        style={"flex": f"0 0 {width}" if width else "1 1 90px", "minWidth": "70px"},
    )


def _param_fields(model, values):
    fields = []
    for key, unit, help_ in _PARAMS[model]:
        fields.append(
            _field(
                key,
                dcc.Input(
                    id={"type": "simulate-param", "key": key},
                    value=values.get(key, ""),
                    type="text",
                    debounce=True,
                    style=_INPUT,
                ),
                {"type": "simulate-param-err", "key": key},
                unit,
                title=help_,
                width="31%",
            )
        )
    for key, choices, help_ in _CHOICES[model]:
        fields.append(
            _field(
                key,
                dcc.Dropdown(
                    id={"type": "simulate-param", "key": key},
                    options=[{"label": c, "value": c} for c in choices],
                    value=values.get(key, choices[0]),
                    clearable=False,
                    searchable=False,
                ),
                {"type": "simulate-param-err", "key": key},
                title=help_,
                width="48%",
            )
        )
    return html.Div(fields, style={"display": "flex", "flexWrap": "wrap", "gap": "4px 8px"})


def _stim_params(index, kind, values, model):
    units = _units(model)
    out = []
    for key, label, unit in _FIELDS[kind]:
        hint = "blank: never" if key == "stop" and kind != "ramp" else None
        hint = "blank: every step" if key == "sample_dt" else hint
        out.append(
            _field(
                label,
                dcc.Input(
                    id={"type": "simulate-stim-par", "index": index, "key": key},
                    value=values.get(key, ""),
                    type="text",
                    debounce=True,
                    placeholder=hint,
                    style=_INPUT,
                ),
                {"type": "simulate-stim-err", "index": index, "key": key},
                units[unit],
                width="31%",
            )
        )
    return out


def _stim_row(row, model, options):
    i = row["index"]
    return html.Div(
        [
            html.Div(
                [
                    html.Div(
                        [
                            dcc.Dropdown(
                                id={"type": "simulate-stim-target", "index": i},
                                options=options,
                                value=row["target"],
                                placeholder="neuron or class",
                                clearable=True,
                            ),
                            html.Div(
                                id={"type": "simulate-stim-err", "index": i, "key": "target"},
                                style=_ERR_STYLE,
                                role="alert",
                            ),
                        ],
                        style={"flex": "1 1 130px", "minWidth": "0"},
                    ),
                    html.Div(
                        dcc.Dropdown(
                            id={"type": "simulate-stim-kind", "index": i},
                            options=[{"label": v, "value": k} for k, v in PROTOCOLS.items()],
                            value=row["kind"],
                            clearable=False,
                            searchable=False,
                        ),
                        style={"flex": "0 0 120px"},
                    ),
                    html.Button(
                        "✕",
                        id={"type": "simulate-stim-remove", "index": i},
                        className="wl-button",
                        title="remove this stimulus",
                        n_clicks=0,
                    ),
                ],
                style={"display": "flex", "gap": "6px", "alignItems": "flex-start"},
            ),
            html.Div(
                _stim_params(i, row["kind"], row["values"], model),
                id={"type": "simulate-stim-params", "index": i},
                style={"display": "flex", "flexWrap": "wrap", "gap": "2px 8px", "marginTop": "3px"},
            ),
            html.Div(
                id={"type": "simulate-stim-err", "index": i, "key": "row"},
                style=_ERR_STYLE,
                role="alert",
            ),
        ],
        className="simulate-stim-row",
        style={
            "border": "1px solid #dde2e7",
            "borderRadius": "6px",
            "padding": "6px",
            "margin": "5px 0",
            "background": "#fbfcfd",
        },  # fmt: skip
    )


@functools.lru_cache(maxsize=16)
def _target_options(source):
    """Dropdown options: classes with several members first, then every neuron."""
    net = load_source(source)
    table = net.neurons
    classes = table.groupby("class", sort=False).size()
    out = [
        {"label": f"{c} (class: {n} neurons)", "value": str(c)}
        for c, n in classes.items()
        if n > 1 and c not in table.index
    ]
    out += [
        {"label": f"{name} · {t}", "value": name}
        for name, t in zip(table.index, table["type"], strict=True)
    ]
    return tuple(out)


def _options_for(source_kind, dataset, circuit):
    try:
        src = _source_text(source_kind, dataset, circuit)
        return list(_target_options(src))
    except (WormlabError, ValueError, KeyError):
        return []


def _source_text(source_kind, dataset, circuit):
    if source_kind == "circuit":
        if not circuit:
            raise SimulationError(
                "no circuit yet: make one on the Circuit page, or simulate a dataset"
            )
        return circuit_source(circuit)
    return dataset_source(dataset or "cook2019")


def _rows_to_form(ids, targets, kinds, par_ids, par_values):
    """Rebuild the stimulus rows from the pattern-matching states."""
    rows = {}
    for id_, target, kind in zip(ids, targets, kinds, strict=True):
        rows[id_["index"]] = {"index": id_["index"], "target": target, "kind": kind, "values": {}}
    for id_, value in zip(par_ids, par_values, strict=True):
        if id_["index"] in rows:
            rows[id_["index"]]["values"][id_["key"]] = value
    return [rows[i] for i in sorted(rows)]


def _dataset_options():
    table = connectome.datasets()
    return [{"label": f"{key} · {row.title}", "value": key} for key, row in table.iterrows()]


# ===================================================================== layout
def _section(title, children, **style):
    return html.Div([html.H2(title), *children], className="wl-section", style=style or None)


def _form_from_query(query):
    dataset = query.get("dataset") or "cook2019"
    preset = query.get("preset")
    if preset in PRESETS:
        return preset_form(preset, dataset)
    form = default_form(query.get("model") if query.get("model") in _PARAMS else "graded", dataset)
    if query.get("stim"):
        rows = []
        for i, spec in enumerate(str(query["stim"]).split(";")):
            parts = spec.split(":")
            if len(parts) < 2:
                continue
            values = dict(
                item.split("=", 1)
                for item in (parts[2].split(",") if len(parts) > 2 else [])
                if "=" in item
            )
            kind = parts[1].strip().lower()
            rows.append(
                _row(
                    i, parts[0].strip(), kind if kind in _FIELDS else "step", values, form["model"]
                )
            )
        form["rows"] = rows
    for key in ("ablate", "duration", "dt"):
        if query.get(key):
            form[key] = str(query[key])
    return form


def layout(**query):
    """The page. Query keys: ``preset`` (plm, ava, ase), ``dataset``, ``model``, ``stim``
    (``TARGET:kind:key=value,...`` separated by ``;``), ``ablate``, ``duration``, ``dt``."""
    form = _form_from_query(query)
    model = form["model"]
    units = _units(model)
    src = dataset_source(form["dataset"])
    options = list(_target_options(src)) if form["dataset"] in _dataset_keys() else []
    presets = html.Div(
        [
            html.Button(
                p["label"],
                id={"type": "simulate-preset", "name": key},
                className="wl-button",
                n_clicks=0,
                title=p["note"],
            )
            for key, p in PRESETS.items()
        ],
        className="wl-buttons",
    )
    sidebar = html.Div(
        [
            _section(
                "Experiments",
                [
                    presets,
                    html.Div(form["note"], id="simulate-preset-note", className="wl-note"),
                ],
            ),
            _section(
                "Source",
                [
                    dcc.RadioItems(
                        id="simulate-source",
                        options=[
                            {"label": "whole connectome", "value": "dataset"},
                            {"label": "circuit from the Circuit page", "value": "circuit"},
                        ],
                        value=form["source"],
                        inline=True,
                    ),
                    dcc.Dropdown(
                        id="simulate-dataset",
                        options=_dataset_options(),
                        value=form["dataset"],
                        clearable=False,
                    ),
                    html.Div(id="simulate-circuit-info", className="wl-note"),
                    html.Div(id="simulate-source-msg", style=_ERR_STYLE, role="alert"),
                ],
            ),
            _section(
                "Model",
                [
                    dcc.RadioItems(
                        id="simulate-model",
                        options=[
                            {"label": "graded (Kunert 2014; mV, pA, s)", "value": "graded"},
                            {"label": "ltc (liquid time-constant; unitless)", "value": "ltc"},
                        ],
                        value=model,
                    ),
                ],
            ),
            _section(
                "Stimulus",
                [
                    html.Div(
                        [_stim_row(r, model, options) for r in form["rows"]],
                        id="simulate-stim-rows",
                    ),
                    html.Div(id="simulate-stim-msg", style=_ERR_STYLE, role="alert"),
                    html.Div(
                        [
                            html.Button(
                                "+ stimulus",
                                id="simulate-stim-add",
                                className="wl-button",
                                n_clicks=0,
                            ),
                            html.Span("Clicking a neuron in the network:", className="wl-note"),
                            dcc.RadioItems(
                                id="simulate-tap-mode",
                                options=[
                                    {"label": "stimulates it", "value": "stim"},
                                    {"label": "ablates it", "value": "ablate"},
                                ],
                                value="stim",
                                inline=True,
                            ),
                        ],
                        style={
                            "display": "flex",
                            "flexWrap": "wrap",
                            "gap": "6px",
                            "alignItems": "center",
                        },  # fmt: skip
                    ),
                ],
            ),
            _section(
                "Ablation",
                [
                    _field(
                        "remove neurons or classes",
                        dcc.Input(
                            id="simulate-ablate",
                            value=form["ablate"],
                            type="text",
                            debounce=True,
                            placeholder="e.g. AVA, PVCL",
                            style=_INPUT,
                        ),
                        "simulate-ablate-msg",
                    )
                ],
            ),
            _section(
                "Run",
                [
                    html.Div(
                        [
                            _field(
                                "duration",
                                dcc.Input(
                                    id="simulate-duration",
                                    value=form["duration"],
                                    type="text",
                                    debounce=True,
                                    style=_INPUT,
                                ),
                                "simulate-duration-msg",
                            ),
                            _field(
                                "dt",
                                dcc.Input(
                                    id="simulate-dt",
                                    value=form["dt"],
                                    type="text",
                                    debounce=True,
                                    style=_INPUT,
                                ),
                                "simulate-dt-msg",
                            ),
                            _field(
                                "record every",
                                dcc.Input(
                                    id="simulate-record",
                                    value=form["record"],
                                    type="text",
                                    debounce=True,
                                    style=_INPUT,
                                ),
                                "simulate-record-msg",
                                "steps",
                            ),
                        ],
                        style={"display": "flex", "gap": "8px"},
                    ),
                    html.Div(
                        f"duration and dt in {units['t']}",
                        id="simulate-time-unit",
                        className="wl-note",
                    ),
                    html.Button(
                        "Run",
                        id="simulate-run",
                        className="wl-button wl-primary",
                        n_clicks=0,
                        style={"marginTop": "6px", "fontSize": "15px", "padding": "6px 22px"},
                    ),
                    dcc.Loading(
                        html.Div(
                            id="simulate-status",
                            role="status",
                            style={"fontSize": "12.5px", "marginTop": "6px"},
                        ),
                        type="dot",
                    ),
                ],
            ),
            _section(
                "Model parameters",
                [
                    html.Div(
                        "Defaults from the papers (sim.models); hover a name for its meaning.",
                        className="wl-note",
                    ),
                    html.Div(_param_fields(model, form["params"]), id="simulate-params"),
                ],
            ),
        ],
        className="wl-sidebar",
    )
    net_panel = html.Div(
        [
            html.Div(
                [
                    html.Strong("Network activity"),
                    dcc.RadioItems(
                        id="simulate-view",
                        options=[{"label": v, "value": v} for v in network.VIEWS],
                        value="anatomical",
                        inline=True,
                    ),
                    html.Span(id="simulate-net-caption", className="wl-note"),
                ],
                style={
                    "display": "flex",
                    "gap": "12px",
                    "alignItems": "center",
                    "flexWrap": "wrap",
                },  # fmt: skip
            ),
            cyto.Cytoscape(
                id="simulate-network",
                elements=[],
                layout={"name": "preset", "fit": True, "padding": 10},
                stylesheet=network.stylesheet("type"),
                style={
                    "width": "100%",
                    "height": "330px",
                    "background": "#fff",
                    "border": "1px solid #dde2e7",
                    "borderRadius": "8px",
                },  # fmt: skip
                minZoom=0.05,
                maxZoom=4,
                wheelSensitivity=0.2,
                boxSelectionEnabled=False,
                autoungrabify=True,
            ),
            html.Div(
                [
                    html.Button("▶ Play", id="simulate-play", className="wl-button", n_clicks=0),
                    html.Div(
                        dcc.Slider(
                            id="simulate-slider",
                            min=0,
                            max=1,
                            step=1,
                            value=0,
                            marks=None,
                            updatemode="drag",
                            allow_direct_input=False,
                        ),
                        style={"flex": "1"},
                    ),
                    html.Span(
                        "t = –",
                        id="simulate-time-label",
                        style={"minWidth": "110px", "fontVariantNumeric": "tabular-nums"},
                    ),
                ],
                style={
                    "display": "flex",
                    "alignItems": "center",
                    "gap": "8px",
                    "marginTop": "4px",
                },  # fmt: skip
            ),
            html.Div(id="simulate-colour-key", className="wl-note"),
            dcc.Interval(id="simulate-interval", interval=150, disabled=True),
        ],
        style={"marginBottom": "10px"},
    )
    traces = html.Div(
        [
            html.Div(
                [
                    html.Strong("Traces"),
                    dcc.RadioItems(
                        id="simulate-trace-layout",
                        options=[
                            {"label": "stacked", "value": "stacked"},
                            {"label": "overlaid", "value": "overlaid"},
                        ],
                        value="stacked",
                        inline=True,
                    ),
                    dcc.Dropdown(
                        id="simulate-trace-pick",
                        options=[],
                        value=[],
                        multi=True,
                        placeholder="neurons to plot",
                        style={"flex": "1", "minWidth": "0"},
                    ),
                ],
                style={"display": "flex", "gap": "10px", "alignItems": "center"},
            ),
            dcc.Graph(
                id="simulate-traces",
                figure=empty_figure("Press Run (or pick an experiment) to simulate", 340),
                config={"displaylogo": False},
            ),
        ]
    )
    plots = html.Div(
        [
            html.Div(
                dcc.Graph(
                    id="simulate-heatmap",
                    figure=empty_figure("", 520),
                    config={"displaylogo": False},
                ),
                style={"flex": "3 1 520px", "minWidth": "0"},
            ),
            html.Div(
                dcc.Graph(
                    id="simulate-pca", figure=empty_figure("", 400), config={"displaylogo": False}
                ),
                style={"flex": "2 1 360px", "minWidth": "0"},
            ),
        ],
        style={"display": "flex", "flexWrap": "wrap", "gap": "10px"},
    )
    table = html.Div(
        [
            html.Div(
                [
                    html.Strong("Responses"),
                    html.Button("Traces CSV", id="simulate-csv", className="wl-button", n_clicks=0),
                    html.Button(
                        "Summary CSV", id="simulate-csv-summary", className="wl-button", n_clicks=0
                    ),
                    html.Span(id="simulate-csv-msg", style=_ERR_STYLE),
                ],
                style={"display": "flex", "gap": "8px", "alignItems": "center"},
            ),
            html.Div(id="simulate-summary", style={"maxHeight": "320px", "overflowY": "auto"}),
            dcc.Download(id="simulate-download"),
        ]
    )
    main = html.Div(
        [net_panel, traces, plots, table],
        className="wl-main",
        style={"overflowY": "auto", "gap": "6px"},
    )
    stores = [
        dcc.Store(id="simulate-result"),
        dcc.Store(id="simulate-frames"),
        dcc.Store(id="simulate-net-base"),
        dcc.Store(id="simulate-traces-drawn"),
        dcc.Store(id="simulate-autorun", data=0),
        dcc.Store(
            id="simulate-query-dataset",
            data=bool(query.get("dataset") or query.get("preset") in PRESETS),
        ),
    ]
    return html.Div(
        [sidebar, main, *stores],
        id="simulate-page",
        style={
            "display": "grid",
            "gridTemplateColumns": "400px minmax(0, 1fr)",
            "height": "calc(100vh - var(--wl-nav-h))",
        },  # fmt: skip
    )


@functools.cache
def _dataset_keys():
    return tuple(connectome.datasets().index)


# ===================================================================== results
def traces_csv(result):
    """Every recorded potential as CSV: one row per recorded time, one column per neuron
    (6 significant digits; the header names the units)."""
    units = _units(result.model)
    df = result.to_dataframe()
    df.index.name = f"t ({units['t']})"
    df.columns = [f"{c} ({units['V']})" if units["V"] else c for c in df.columns]
    return df.to_csv(float_format="%.6g")


def summary_csv(result, request):
    """Every neuron's response (:func:`sim.analysis.response_summary` from the stimulus
    onset) as CSV, with a column marking the stimulated neurons."""
    with _one_blas_thread():
        summary = response_summary(result, onset=onset_of(result, request))
    summary = summary.assign(stimulated=summary.index.isin(stimulated_neurons(result, request)))
    return summary.to_csv(float_format="%.6g")


def _summary_table(summary, stimulated, unit, time_unit, rows=SUMMARY_ROWS):
    """The neurons with the largest responses (stimulated ones marked), as an html table."""
    df = summary.assign(mag=summary["peak"].abs()).sort_values("mag", ascending=False)
    stim = set(stimulated)
    u, tu = (f" ({x})" if x else "" for x in (unit, time_unit))
    heads = ("neuron", f"baseline{u}", f"peak ΔV{u}", f"peak at{tu}", f"latency{tu}")

    def num(x):
        return "–" if not np.isfinite(x) else f"{x:.4g}"

    body = [
        html.Tr(
            [html.Td(name + (" (stimulated)" if name in stim else ""))]
            + [html.Td(num(x), className="wl-num") for x in (base, peak, when, lat)]
        )
        for name, base, peak, when, lat in df.head(rows)[
            ["baseline", "peak", "peak_time", "latency"]
        ].itertuples()
    ]
    note = f"The {min(rows, len(df))} largest responses of {len(df)} neurons"
    note += "; all of them in the Summary CSV." if len(df) > rows else "."
    return [
        html.Div(note, className="wl-note"),
        html.Table(
            [html.Thead(html.Tr([html.Th(h) for h in heads])), html.Tbody(body)],
            className="wl-partners",
            id="simulate-summary-table",
            style={"width": "100%"},
        ),
    ]


def _traces(result, names, highlight, run_id, stacked=True):
    idx = result.indices(names) if names else np.zeros(0, dtype=np.int64)
    units = _units(result.model)
    return traces_figure(
        result.t,
        result.V[:, idx],
        [result.names[i] for i in idx],
        unit=units["V"],
        time_unit=units["t"],
        highlight=highlight,
        title="Potentials (dashed: stimulated)",
        stacked=stacked,
        meta={"run": run_id},
    )


def _figures(result, request, info, run_id, base_source):
    """Heatmap, phase portrait and network frames of a run."""
    cc = result.circuit
    units = _units(result.model)
    vunit, tunit = units["V"], units["t"]
    net = load_source(request.source)
    order = network.ordered_nodes(net, cc.names)
    table = network.node_table(net)
    idx = result.indices(order)
    dV = result.V[:, idx] - result.V[0, idx]
    heat = heatmap_figure(
        result.t, dV, order, list(table.loc[order, "type"]), unit=vunit, time_unit=tunit,
        meta={"run": run_id},
    )  # fmt: skip
    if info["pca"] is not None:
        p = info["pca"]
        classes = set(cc.neurons.loc[info["motor"], "class"])
        label = "ventral cord motor neurons" if classes <= set(VENTRAL_CORD) else "motor neurons"
        period = _period(info)
        swing = float(np.ptp(p.projections[:, 0]))
        note = "" if period is not None else f"no oscillation; mode 1 swings {swing:.2g} {vunit}"
        portrait = phase_portrait_figure(
            p.t,
            p.projections,
            explained=p.explained,
            unit=vunit,
            time_unit=tunit,
            label=f"{len(info['motor'])} {label}<br>t ≥ {info['window']:.3g} {tunit}",
            period=period,
            note=note,
            meta={"run": run_id, "motor": list(info["motor"])},
        )
    else:
        portrait = empty_figure("fewer than two motor neurons: no phase portrait", 400)
    frames = activity_frames(result.t, result.V, cc.names, unit=vunit)
    frames.update(
        source=base_source,
        stimulated=info["stimulated"],
        ablated=list(cc.ablated),
        time_unit=tunit,
        run=run_id,
    )
    return heat, portrait, frames


def _period(info, min_swing=1e-3):
    """Dominant period of the motor neurons' first mode when they oscillate (a clear
    autocorrelation peak and a swing above ``min_swing``, mV for graded), else None."""
    est, p = info["period"], info["pca"]
    if est is None or p is None or not np.isfinite(est.period) or est.strength < 0.5:
        return None
    if np.ptp(p.projections[:, 0]) < min_swing:
        return None
    return float(est.period)


def _colour_key(frames):
    colors = frames["colors"]
    gradient = f"linear-gradient(90deg, {colors[0]}, {colors[len(colors) // 2]}, {colors[-1]})"
    unit = frames["unit"]
    return [
        html.Span(f"−{frames['scale']:.3g} {unit}".strip()),
        html.Span(style={"display": "inline-block", "width": "140px", "height": "10px",
                         "background": gradient, "margin": "0 6px", "border": "1px solid #999"}),
        html.Span(f"+{frames['scale']:.3g} {unit}".strip()),
        html.Span(" colour: V − V(0) (blue below, red above the initial state); "
                  "thick outline: stimulated; faded: ablated."),
    ]  # fmt: skip


# ===================================================================== network
def _activity_network(net):
    """Nodes and the strongest synapses (at most :data:`MAX_EDGES`) of a source."""
    for m in (1, 2, 3, 5, 8, 13, 21, 34, 55):
        nodes, edges = network.visible_network(net, min_chemical=m, min_electrical=m)
        if len(edges) <= MAX_EDGES:
            return nodes, edges, m
    return nodes, edges.nlargest(MAX_EDGES, "weight"), m


# ===================================================================== callbacks
_STYLE_JS = """
function(frames, k, base) {
    if (!base) { return window.dash_clientside.no_update; }
    var sheet = base.sheet.slice();
    var label = "t = –";
    function ids(names) {
        return names.map(function (n) { return 'node[id = "' + n + '"]'; }).join(", ");
    }
    if (frames && frames.source === base.source && frames.codes.length) {
        k = Math.max(0, Math.min(k || 0, frames.codes.length - 1));
        var code = frames.codes[k], chars = "%s", groups = {};
        for (var i = 0; i < frames.names.length; i++) {
            var c = code.charAt(i);
            (groups[c] = groups[c] || []).push(frames.names[i]);
        }
        Object.keys(groups).forEach(function (c) {
            sheet.push({selector: ids(groups[c]),
                        style: {"background-color": frames.colors[chars.indexOf(c)]}});
        });
        if (frames.stimulated.length) {
            sheet.push({selector: ids(frames.stimulated),
                        style: {"border-width": 3, "border-color": "#111",
                                "min-zoomed-font-size": 0, "font-weight": "bold"}});
        }
        if (frames.ablated.length) {
            sheet.push({selector: ids(frames.ablated),
                        style: {"opacity": 0.25, "border-style": "dashed",
                                "background-color": "#ffffff"}});
        }
        label = "t = " + frames.t[k].toPrecision(4) + " " + frames.time_unit;
    }
    return [sheet, label];
}
"""

_PLAY_JS = """
function(clicks, ticks, disabled, value, max) {
    var trig = (window.dash_clientside.callback_context.triggered[0] || {}).prop_id || "";
    value = value || 0;
    if (trig.indexOf("simulate-play") === 0) {
        if (disabled) {
            return [value >= max ? 0 : value, false, "❚❚ Pause"];
        }
        return [window.dash_clientside.no_update, true, "▶ Play"];
    }
    if (disabled) { return window.dash_clientside.no_update; }
    if (value + 1 >= max) { return [max, true, "▶ Play"]; }
    return [value + 1, false, window.dash_clientside.no_update];
}
"""


def register_callbacks(app):
    """Attach the page's callbacks to ``app``."""

    # ------------------------------------------------------------ dataset from the shell
    @app.callback(
        Output("simulate-dataset", "value", allow_duplicate=True),
        Input("store-dataset", "data"),
        State("simulate-query-dataset", "data"),
        State("simulate-dataset", "value"),
        prevent_initial_call="initial_duplicate",
    )
    def _dataset_from_store(store, fixed, current):
        if fixed or not store or store == current or store not in _dataset_keys():
            raise PreventUpdate
        return store

    @app.callback(
        Output("simulate-dataset", "disabled"),
        Input("simulate-source", "value"),
    )
    def _dataset_enabled(source_kind):
        return source_kind == "circuit"

    @app.callback(
        Output("simulate-source", "options"),
        Output("simulate-circuit-info", "children"),
        Input("store-circuit", "data"),
    )
    def _circuit_info(circuit):
        options = [
            {"label": "whole connectome", "value": "dataset"},
            {"label": "circuit from the Circuit page", "value": "circuit",
             "disabled": not circuit},
        ]  # fmt: skip
        if not circuit:
            return options, "No circuit yet: make one on the Circuit page."
        try:
            c = wiring_io.from_dict(circuit)
        except WormlabError as err:
            return options, f"The stored circuit cannot be read: {err}"
        return options, (
            f"Circuit: {len(c.neurons)} {'classes' if c.level == 'class' else 'neurons'} "
            f"from {c.dataset}, {len(c.edges)} synapses."
        )

    # ------------------------------------------------------------ network drawing
    @app.callback(
        Output("simulate-network", "elements"),
        Output("simulate-net-base", "data"),
        Output("simulate-net-caption", "children"),
        Output("simulate-source-msg", "children"),
        Output({"type": "simulate-stim-target", "index": ALL}, "options"),
        Input("simulate-source", "value"),
        Input("simulate-dataset", "value"),
        Input("store-circuit", "data"),
        Input("simulate-view", "value"),
        State({"type": "simulate-stim-target", "index": ALL}, "id"),
    )
    def _draw_network(source_kind, dataset, circuit, view, target_ids):
        try:
            src = _source_text(source_kind, dataset, circuit)
            net = load_source(src)
            nodes, edges, m = _activity_network(net)
            els = network.elements(net, nodes, edges, view or "anatomical")
        except (WormlabError, ValueError, KeyError) as err:
            return [], None, "", str(err), [[] for _ in target_ids]
        base = {"source": _source_tag(src), "sheet": network.stylesheet("type")}
        caption = f"{len(nodes)} neurons; synapses with weight ≥ {m} drawn ({len(edges)})"
        options = list(_target_options(src))
        return els, base, caption, "", [options for _ in target_ids]

    app.clientside_callback(
        _STYLE_JS % CODE_CHARS,
        Output("simulate-network", "stylesheet"),
        Output("simulate-time-label", "children"),
        Input("simulate-frames", "data"),
        Input("simulate-slider", "value"),
        Input("simulate-net-base", "data"),
    )
    app.clientside_callback(
        _PLAY_JS,
        Output("simulate-slider", "value", allow_duplicate=True),
        Output("simulate-interval", "disabled"),
        Output("simulate-play", "children"),
        Input("simulate-play", "n_clicks"),
        Input("simulate-interval", "n_intervals"),
        State("simulate-interval", "disabled"),
        State("simulate-slider", "value"),
        State("simulate-slider", "max"),
        prevent_initial_call=True,
    )

    # ------------------------------------------------------------ the form
    @app.callback(
        output={
            "rows": Output("simulate-stim-rows", "children"),
            "params": Output("simulate-params", "children"),
            "model": Output("simulate-model", "value"),
            "source": Output("simulate-source", "value"),
            "dataset": Output("simulate-dataset", "value", allow_duplicate=True),
            "duration": Output("simulate-duration", "value"),
            "dt": Output("simulate-dt", "value"),
            "record": Output("simulate-record", "value"),
            "ablate": Output("simulate-ablate", "value"),
            "note": Output("simulate-preset-note", "children"),
            "unit": Output("simulate-time-unit", "children"),
            "autorun": Output("simulate-autorun", "data"),
        },
        inputs={
            "presets": Input({"type": "simulate-preset", "name": ALL}, "n_clicks"),
            "add": Input("simulate-stim-add", "n_clicks"),
            "removes": Input({"type": "simulate-stim-remove", "index": ALL}, "n_clicks"),
            "tap": Input("simulate-network", "tapNodeData"),
            "model": Input("simulate-model", "value"),
        },
        state={
            "target_ids": State({"type": "simulate-stim-target", "index": ALL}, "id"),
            "targets": State({"type": "simulate-stim-target", "index": ALL}, "value"),
            "kinds": State({"type": "simulate-stim-kind", "index": ALL}, "value"),
            "par_ids": State({"type": "simulate-stim-par", "index": ALL, "key": ALL}, "id"),
            "pars": State({"type": "simulate-stim-par", "index": ALL, "key": ALL}, "value"),
            "param_ids": State({"type": "simulate-param", "key": ALL}, "id"),
            "params": State({"type": "simulate-param", "key": ALL}, "value"),
            "source": State("simulate-source", "value"),
            "dataset": State("simulate-dataset", "value"),
            "circuit": State("store-circuit", "data"),
            "ablate": State("simulate-ablate", "value"),
            "tap_mode": State("simulate-tap-mode", "value"),
            "autorun": State("simulate-autorun", "data"),
        },
        prevent_initial_call=True,
    )
    def _edit_form(presets, add, removes, tap, model, **s):
        trig = ctx.triggered_id
        rows = _rows_to_form(s["target_ids"], s["targets"], s["kinds"], s["par_ids"], s["pars"])
        out = {k: no_update for k in ("rows", "params", "model", "source", "dataset",
                                      "duration", "dt", "record", "ablate", "note", "unit",
                                      "autorun")}  # fmt: skip
        next_index = max((r["index"] for r in rows), default=-1) + 1
        form_model = model
        if isinstance(trig, dict) and trig.get("type") == "simulate-preset":
            if not ctx.triggered[0]["value"]:
                raise PreventUpdate
            form = preset_form(trig["name"], s["dataset"] or "cook2019")
            rows = [dict(r, index=next_index + r["index"]) for r in form["rows"]]
            form_model = form["model"]
            out.update(
                params=_param_fields(form_model, form["params"]),
                model=form_model,
                source="dataset",
                dataset=form["dataset"],
                duration=form["duration"],
                dt=form["dt"],
                record=form["record"],
                ablate="",
                note=form["note"],
                autorun=(s["autorun"] or 0) + 1,
            )
        elif isinstance(trig, dict) and trig.get("type") == "simulate-stim-remove":
            if not ctx.triggered[0]["value"]:
                raise PreventUpdate
            rows = [r for r in rows if r["index"] != trig["index"]]
        elif trig == "simulate-stim-add":
            rows.append(_row(next_index, None, "step", None, model))
        elif trig == "simulate-network":
            name = (tap or {}).get("id")
            if not name:
                raise PreventUpdate
            if s["tap_mode"] == "ablate":
                have = [x for x in str(s["ablate"] or "").replace(",", " ").split() if x]
                if name not in have:
                    out["ablate"] = ", ".join([*have, name])
                return out
            empty = [r for r in rows if not r["target"]]
            if empty:
                empty[0]["target"] = name
            else:
                rows.append(_row(next_index, name, "step", None, model))
        elif trig == "simulate-model":
            rows = [_row(r["index"], r["target"], r["kind"], None, model) for r in rows]
            out.update(
                params=_param_fields(model, {k: _fmt(v) for k, v in
                                             default_params(model).as_dict().items()}),
                note=f"Model {model}: parameters, timing and stimulus sizes set to its defaults.",
                **_TIMING[model],
            )  # fmt: skip
        else:
            raise PreventUpdate
        source = out["source"] if out["source"] is not no_update else s["source"]
        dataset = out["dataset"] if out["dataset"] is not no_update else s["dataset"]
        options = _options_for(source, dataset, s["circuit"])
        out["rows"] = [_stim_row(r, form_model, options) for r in rows]
        out["unit"] = f"duration and dt in {_units(form_model)['t']}"
        return out

    @app.callback(
        Output({"type": "simulate-stim-params", "index": MATCH}, "children"),
        Input({"type": "simulate-stim-kind", "index": MATCH}, "value"),
        State({"type": "simulate-stim-par", "index": MATCH, "key": ALL}, "id"),
        State({"type": "simulate-stim-par", "index": MATCH, "key": ALL}, "value"),
        State("simulate-model", "value"),
        prevent_initial_call=True,
    )
    def _change_kind(kind, ids, values, model):
        index = ctx.triggered_id["index"]
        keep = dict(_STIM_DEFAULTS.get(model, _STIM_DEFAULTS["graded"]))
        keep.update({i["key"]: v for i, v in zip(ids, values, strict=True)})
        return _stim_params(index, kind if kind in _FIELDS else "step", keep, model)

    # ------------------------------------------------------------ running
    err_ids = {
        "duration": "simulate-duration-msg",
        "dt": "simulate-dt-msg",
        "record": "simulate-record-msg",
        "ablate": "simulate-ablate-msg",
        "stimulus": "simulate-stim-msg",
        "source": "simulate-source-msg",
    }

    @app.callback(
        output={
            "result": Output("simulate-result", "data"),
            "status": Output("simulate-status", "children"),
            "traces": Output("simulate-traces", "figure"),
            "pick_options": Output("simulate-trace-pick", "options"),
            "pick": Output("simulate-trace-pick", "value"),
            "drawn": Output("simulate-traces-drawn", "data"),
            "stim_errs": Output(
                {"type": "simulate-stim-err", "index": ALL, "key": ALL}, "children"
            ),
            "param_errs": Output({"type": "simulate-param-err", "key": ALL}, "children"),
            **{
                f"msg_{k}": Output(v, "children", allow_duplicate=k == "source")
                for k, v in err_ids.items()
            },
        },
        inputs={
            "run": Input("simulate-run", "n_clicks"),
            "autorun": Input("simulate-autorun", "data"),
        },
        state={
            "source": State("simulate-source", "value"),
            "dataset": State("simulate-dataset", "value"),
            "circuit": State("store-circuit", "data"),
            "model": State("simulate-model", "value"),
            "param_ids": State({"type": "simulate-param", "key": ALL}, "id"),
            "params": State({"type": "simulate-param", "key": ALL}, "value"),
            "target_ids": State({"type": "simulate-stim-target", "index": ALL}, "id"),
            "targets": State({"type": "simulate-stim-target", "index": ALL}, "value"),
            "kinds": State({"type": "simulate-stim-kind", "index": ALL}, "value"),
            "par_ids": State({"type": "simulate-stim-par", "index": ALL, "key": ALL}, "id"),
            "pars": State({"type": "simulate-stim-par", "index": ALL, "key": ALL}, "value"),
            "err_ids": State({"type": "simulate-stim-err", "index": ALL, "key": ALL}, "id"),
            "param_err_ids": State({"type": "simulate-param-err", "key": ALL}, "id"),
            "ablate": State("simulate-ablate", "value"),
            "duration": State("simulate-duration", "value"),
            "dt": State("simulate-dt", "value"),
            "record": State("simulate-record", "value"),
            "layout": State("simulate-trace-layout", "value"),
        },
        prevent_initial_call=True,
    )
    def _run(run, autorun, **s):
        if not (run or autorun):
            raise PreventUpdate
        out = {k: no_update for k in ("result", "traces", "pick_options", "pick", "drawn")}
        errors = {}
        tic = time.perf_counter()
        try:
            out.update(_run_request(s, errors))
            status = out.pop("_status")
            status = html.Span(f"{status} ({time.perf_counter() - tic:.2f} s).",
                               className="wl-muted")  # fmt: skip
        except FormError as err:
            errors.update(err.errors)
            n = len(errors)
            status = html.Div(
                f"Nothing was run: {n} field{'s' if n > 1 else ''} to fix (see the messages "
                "in red).",
                className="wl-message wl-error",
            )
        except WormlabError as err:
            status = html.Div(f"The simulation failed: {err}", className="wl-message wl-error")
        except Exception:  # the page must never show a traceback
            log.exception("simulate: unexpected error")
            status = html.Div(
                "An unexpected error stopped the simulation (logged on the server).",
                className="wl-message wl-error",
            )
        out["status"] = status
        out["stim_errs"] = [errors.get(f"stim:{i['index']}:{i['key']}", "") for i in s["err_ids"]]
        out["param_errs"] = [errors.get(f"param:{i['key']}", "") for i in s["param_err_ids"]]
        for k in err_ids:
            out[f"msg_{k}"] = errors.get(k, errors.get("model", "") if k == "source" else "")
        return out

    @app.callback(
        output={
            "heatmap": Output("simulate-heatmap", "figure"),
            "pca": Output("simulate-pca", "figure"),
            "frames": Output("simulate-frames", "data"),
            "slider_max": Output("simulate-slider", "max"),
            "slider": Output("simulate-slider", "value"),
            "key": Output("simulate-colour-key", "children"),
            "summary": Output("simulate-summary", "children"),
        },
        inputs={"result": Input("simulate-result", "data")},
        state={"circuit": State("store-circuit", "data")},
        prevent_initial_call=True,
    )
    def _results(result, circuit):
        if not result:
            raise PreventUpdate
        try:
            return _result_panels(result, circuit)
        except WormlabError as err:
            message = f"These results cannot be shown: {err}"
        except Exception:  # the page must never show a traceback
            log.exception("simulate: unexpected error while drawing results")
            message = "An unexpected error stopped the drawing (logged on the server)."
        blank = empty_figure(message, 300)
        return {
            "heatmap": blank,
            "pca": blank,
            "frames": None,
            "slider_max": 1,
            "slider": 0,
            "key": "",
            "summary": html.Div(message, className="wl-message wl-error"),
        }

    @app.callback(
        Output("simulate-traces", "figure", allow_duplicate=True),
        Output("simulate-traces-drawn", "data", allow_duplicate=True),
        Input("simulate-trace-pick", "value"),
        Input("simulate-trace-layout", "value"),
        State("simulate-traces-drawn", "data"),
        State("simulate-result", "data"),
        State("store-circuit", "data"),
        prevent_initial_call=True,
    )
    def _pick_traces(names, how, drawn, result, circuit):
        if not result or names is None:
            raise PreventUpdate
        want = {"run": result["run"], "names": names, "layout": how}
        if drawn == want:
            raise PreventUpdate
        try:
            request = Request.from_json(result["request"], circuit)
            res = simulated(request)
            fig = _traces(res, names, result["stimulated"], result["run"], how != "overlaid")
        except WormlabError as err:
            return empty_figure(str(err), 340), None
        return fig, want

    @app.callback(
        Output("simulate-download", "data"),
        Output("simulate-csv-msg", "children"),
        Input("simulate-csv", "n_clicks"),
        Input("simulate-csv-summary", "n_clicks"),
        State("simulate-result", "data"),
        State("store-circuit", "data"),
        prevent_initial_call=True,
    )
    def _download(_a, _b, result, circuit):
        if not result:
            return no_update, "Run a simulation first."
        try:
            request = Request.from_json(result["request"], circuit)
            res = simulated(request)
        except WormlabError as err:
            return no_update, str(err)
        if ctx.triggered_id == "simulate-csv-summary":
            return {"content": summary_csv(res, request), "filename": "wormlab-responses.csv"}, ""
        return {"content": traces_csv(res), "filename": "wormlab-traces.csv"}, ""


def _run_request(s, errors):
    """The run callback's work: parse, check, simulate, draw the traces."""
    param_values = {i["key"]: v for i, v in zip(s["param_ids"], s["params"], strict=True)}
    rows = _rows_to_form(s["target_ids"], s["targets"], s["kinds"], s["par_ids"], s["pars"])
    try:
        source = _source_text(s["source"], s["dataset"], s["circuit"])
    except WormlabError as err:
        source, errors["source"] = None, str(err)
    try:
        form = read_form(
            s["model"], param_values, rows, s["ablate"], s["duration"], s["dt"], s["record"]
        )
    except FormError as err:
        # report unknown names together with the other problems
        names = check_names(source, rows, s["ablate"]) if source else {}
        raise FormError({**names, **errors, **err.errors}) from err
    if source is None:
        raise FormError(errors)
    request = check_request(source, form)
    try:
        result = simulated(request)
    except DivergenceError as err:
        raise FormError({"dt": str(err)}) from err
    stimulated = stimulated_neurons(result, request)
    size = response_size(result, onset_of(result, request))
    picks = default_traces(result.names, size, stimulated)
    run_id = uuid.uuid4().hex
    units = _units(result.model)
    status = (
        f"Simulated {request.duration:g} {units['t']} of {result.circuit.n} neurons "
        f"({request.model}, dt {request.dt:g}, {request.n_steps:,} steps)"
    )
    return {
        "_status": status,
        "result": {
            "run": run_id,
            "request": request.to_json(),
            "stimulated": stimulated,
            "source": _source_tag(source),
        },
        "traces": _traces(result, picks, stimulated, run_id, s["layout"] != "overlaid"),
        "pick_options": list(result.names),
        "pick": picks,
        "drawn": {"run": run_id, "names": picks, "layout": s["layout"]},
    }


def _result_panels(result, circuit):
    """The results callback's work: analyse a run (from the cache) and draw the rest."""
    request = Request.from_json(result["request"], circuit)
    res = simulated(request)
    info = analyse(res, request)
    heat, portrait, frames = _figures(res, request, info, result["run"], result["source"])
    units = _units(res.model)
    period = _period(info)
    note = (
        f"The motor neurons oscillate with period {period:.3g} {units['t']}."
        if period is not None
        else "The motor neurons do not oscillate."
    )
    n_frames = len(frames["codes"])
    return {
        "heatmap": heat,
        "pca": portrait,
        "frames": frames,
        "slider_max": n_frames - 1,
        "slider": n_frames - 1,
        "key": _colour_key(frames),
        "summary": [
            html.Div(note, id="simulate-oscillation", className="wl-note"),
            *_summary_table(info["summary"], info["stimulated"], units["V"], units["t"]),
        ],
    }


def warm_up():
    """Compile (or load from numba's on-disk cache) every simulation kernel, and compile the
    default dataset for the graded model, so that no request waits for numba."""
    from sim.simulate import warmup

    warmup()
    form = default_form()
    compiled(dataset_source(form["dataset"]), "graded", (), ())
    network.positions(load_source(dataset_source(form["dataset"])), "anatomical")

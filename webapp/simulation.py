"""The Simulate page's logic, without Dash: requests, sources, caches, analysis and CSV.

The page (:mod:`webapp.pages.simulate`) reads its form into a :class:`Request` with
:func:`read_form` and :func:`check_request`, runs it with :func:`simulated`, summarises it with
:func:`analyse` and serves :func:`traces_csv` / :func:`summary_csv`; everything here is plain
Python and NumPy, testable without a browser.

How a run is served
-------------------
Most runs are short (5 s of the graded model on the whole Cook 2019 connectome is 50 000
steps, well under a second), so they run in the request, in the server process. A run over
:data:`LONG_RUN` neuron-steps runs as a background job instead (:func:`run_simulation`, in
a fresh process, see :mod:`webapp.jobs`), which leaves its result in a file named after the
request and the simulator's code (:func:`result_file`, :func:`code_digest`) where any
server process of the same code finds it. Numba compiles nothing in
a request: the kernels are compiled (or loaded from numba's on-disk cache, ``cache=True``)
by :func:`warm_up` at start-up. Everything a run needs is in its :class:`Request` (hashable,
content only), and two bounded caches keyed by content make repeated work free:
:func:`compiled` (the source's arrays for a model, parameters and ablation) and
:func:`simulated` (the result of a request). Nothing about a user lives in the server: the
browser keeps the request (a ``dcc.Store``) and the server recomputes a result that has left
the cache, identically, so two users (or two server workers) never see each other's runs.

Limits (:data:`MAX_NEURON_STEPS`, :data:`MAX_RECORDED_VALUES`) bound the work and memory of one
request; the message names the limit. Every field is checked before anything runs and each
problem is reported by field (:class:`FormError`), so the page never shows a traceback.
"""

import contextlib
import functools
import hashlib
import json
import math
import os
import tempfile
from dataclasses import dataclass

import numpy as np

import connectome
from connectome import io as wiring_io
from connectome.errors import (
    DivergenceError,
    FieldError,
    SimulationError,
    UnknownNeuronError,
    WiringFormatError,
    WormlabError,
)
from connectome.limits import (
    MAX_BODY_STEPS,
    MAX_NEURON_STEPS,
    MAX_RECORDED_VALUES,
    MAX_STIMULI,
    MAX_URL_QUERY_CHARS,
    shorten,
)
from connectome.neurons import as_name_list
from sim.analysis import dominant_period, pca, response_summary
from sim.body import FRICTION, BodyParams, BodyResult, drive_body
from sim.body import PRESETS as BODY_PRESETS
from sim.compiler import compile_circuit, graded_thresholds
from sim.models import SIGN_SETS, WEIGHT_MAPS, default_params
from sim.runner import SimResult, count_steps, simulate
from sim.stimulus import KINDS, Stimulus, constant_epochs, parse_stimulus
from sim.threads import one_blas_thread
from webapp import network
from webapp.forms import REQUIRED, parse_number

__all__ = [
    "MAX_NEURON_STEPS",
    "MAX_RECORDED_VALUES",
    "MAX_CURRENT",
    "MAX_GRADED_DT",
    "MIN_SAMPLES",
    "LONG_RUN",
    "KEEP_RESULTS",
    "RESULT_CODE",
    "source_digest",
    "code_digest",
    "N_TRACES",
    "VENTRAL_CORD",
    "CORD_AB",
    "VOLTS_NOTE",
    "PROTOCOLS",
    "FIELDS",
    "PARAMS",
    "CHOICES",
    "STIM_DEFAULTS",
    "TIMING",
    "PRESETS",
    "Request",
    "FormError",
    "dataset_source",
    "circuit_source",
    "source_text",
    "source_tag",
    "load_source",
    "read_form",
    "resolve_ablation",
    "check_names",
    "check_request",
    "compiled",
    "simulated",
    "neuron_steps",
    "is_long",
    "result_file",
    "job_result",
    "simulation_job",
    "run_simulation",
    "motor_neurons",
    "stimulated_neurons",
    "fixed_point",
    "trace_reference",
    "cord_traces",
    "onset_of",
    "response_size",
    "default_traces",
    "analyse",
    "oscillation_period",
    "field_text",
    "form_row",
    "default_form",
    "form_params",
    "WHOLE_CONNECTOME_PARAMS",
    "rest_state",
    "REST_SETTLE",
    "preset_form",
    "form_from_query",
    "units_of",
    "traces_csv",
    "summary_csv",
    "warm_up",
    "LONG_BODY",
    "BODY_DATASET",
    "BODY_DURATION",
    "BODY_MISSING",
    "body_available",
    "body_steps",
    "check_body",
    "is_long_body",
    "body_file",
    "save_body",
    "load_body",
    "body_result",
    "body_verdict",
]

#: Runs of more neuron-steps than this (half the limit; about 2 s of computing and more)
#: run as background jobs (:func:`run_simulation`); shorter ones run in the request.
LONG_RUN = 30_000_000
#: Largest |current| of a stimulus field, per model (pA for graded: 50x the PLM preset's
#: 2000 pA; the LTC model's unit: 1000x its default 1). connectome/limits.py holds no bound on
#: a stimulus current (its MAX_ABS_PARAMETER, 1e6, is for model parameters), so the Simulate
#: form's bounds on what it shows live here; they could move there.
MAX_CURRENT = {"graded": 1e5, "ltc": 1e3}
#: Largest step of the graded model, s: a tenth of its membrane time constant C/Gc = 0.1 s.
MAX_GRADED_DT = 0.01
#: Fewest recorded samples a run must give (below it the plots are empty).
MIN_SAMPLES = 10
#: Results of background jobs kept on disk (the newest; at most 40 MB each).
KEEP_RESULTS = 8
N_TRACES = 8  # traces shown by default: the stimulated neurons, then the strongest responders
#: Ventral cord motor neuron classes (the phase portrait's neurons when present).
VENTRAL_CORD = ("VA", "VB", "DA", "DB", "VD", "DD", "AS", "VC")
#: The cord's A- and B-type motor classes (the PLM preset's default traces).
CORD_AB = ("VA", "VB", "DA", "DB")
#: Why stimulated neurons sit at volts in the graded model (shown under its traces).
VOLTS_NOTE = (
    "Stimulated neurons sit at volts: the Kunert model's V has no saturation (no spikes, no "
    "ceiling), and 2000 pA into a 10 pS leak is 200 V of drive, so only the network's "
    "conductances hold them back; the motor neurons move by millivolts."
)
PROTOCOLS = {
    "step": "step",
    "pulse": "pulse train",
    "sine": "sine",
    "ramp": "ramp",
    "noise": "noise",
}
#: Fields of each protocol: (key, label, unit kind); unit kinds: I current, t time, f frequency.
FIELDS = {
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
_OPTIONAL = {kind: dict(KINDS[kind][1]) for kind in FIELDS}
#: Fields that may be left blank, and what blank means.
_BLANK = {"stop": math.inf, "start": 0.0, "phase": 0.0, "offset": 0.0, "mean": 0.0, "seed": 0,
          "sample_dt": None, "amp0": 0.0}  # fmt: skip
#: Stimulus fields that hold a current (bounded by :data:`MAX_CURRENT`).
_CURRENTS = ("amp", "amp0", "amp1", "offset", "mean", "std")
_UNITS = {
    "graded": {"I": "pA", "t": "s", "f": "Hz", "rad": "rad", "": "", "V": "mV"},
    "ltc": {"I": "", "t": "τ", "f": "1/τ", "rad": "rad", "": "", "V": ""},
}
#: Default stimulus values per model (strings, as the fields hold them).
STIM_DEFAULTS = {
    "graded": {"amp": "1000", "start": "0", "stop": "", "period": "0.5", "width": "0.1",
               "freq": "1", "phase": "0", "offset": "0", "amp0": "0", "amp1": "1000",
               "mean": "0", "std": "500", "sample_dt": "0.01", "seed": "0"},
    "ltc": {"amp": "1", "start": "0", "stop": "", "period": "20", "width": "5", "freq": "0.05",
            "phase": "0", "offset": "0", "amp0": "0", "amp1": "1", "mean": "0", "std": "0.5",
            "sample_dt": "", "seed": "0"},
}  # fmt: skip
#: Model parameters shown: (field, unit, help). Defaults from sim.models (papers cited there).
PARAMS = {
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
CHOICES = {
    "graded": (
        ("threshold", ("input", "rest"), "Vth: recomputed for the constant input (Neural "
         "Interactome) or the network's at rest"),
        ("weight_map", WEIGHT_MAPS, "how synapse counts become conductances"),
        ("signs", SIGN_SETS, "inhibitory synapses: transmitter (wormlab's default, Wang et al. "
         "2024 GABA rule: 31 neurons) or kunert2014 (the paper's 26 GABAergic neurons)"),
    ),
    "ltc": (("weight_map", WEIGHT_MAPS, "how synapse counts become weights"),),
}  # fmt: skip
#: The form's parameter defaults that differ from sim.models' on a whole connectome. LTC:
#: ncps's w_scale 0.1 per synapse saturates the 302 neurons with no input at all (max |v|
#: 0.969 on Cook 2019: the excitatory feedback of hundreds of synapses); 0.005 rests near vleak
#: (max |v| 0.13) and PLM at amplitude 1 still moves 144 neurons by more than 0.01.
WHOLE_CONNECTOME_PARAMS = {"graded": {}, "ltc": {"w_scale": 0.005}}
#: Settling time of :func:`rest_state`, in membrane time constants (one step each).
REST_SETTLE = 500
TIMING = {
    "graded": {"duration": "5", "dt": "0.0001", "record": "10"},
    "ltc": {"duration": "100", "dt": "1", "record": "1"},
}

#: The Body view's experiments run on this dataset for this long (s), as
#: examples/body_presets.py does by default (the graded model with its default parameters).
BODY_DATASET, BODY_DURATION = "varshney2011", "5"


def field_text(x):
    """A number as a form field holds it (``""`` for None and infinity)."""
    if x is None or (isinstance(x, float) and math.isinf(x)):
        return ""
    return f"{x:g}" if isinstance(x, float) else str(x)


def _body_preset(key):
    """The page preset of :data:`sim.body.PRESETS` ``key`` (its stimuli as form rows)."""
    p = BODY_PRESETS[key]
    stims = [parse_stimulus(spec) for spec in p["stimuli"]]
    return {
        "label": p["label"],
        "dataset": BODY_DATASET,
        "model": "graded",
        "stimuli": [
            ("+".join(s.target), s.kind, {k: field_text(v) for k, v in s.params.items()})
            for s in stims
        ],
        "duration": BODY_DURATION,
        "note": p["note"] + " The motor neurons drive ElegansBot's body (Chung, Chang & Kim "
        "2024, eLife 12:RP92562, doi:10.7554/eLife.92562) through Cook 2019's neuromuscular "
        "junctions (sim.body).",
        "body": True,
    }


#: One-click experiments. Amplitudes in pA (graded model). Those marked ``body`` are the
#: Body view's (:data:`sim.body.PRESETS`): they also drive the body.
PRESETS = {
    "plm": {
        "label": "PLM touch",
        "dataset": "varshney2011",
        "model": "graded",
        "stimuli": [("PLM", "step", {"amp": "2000", "start": "0", "stop": ""})],
        "duration": "8",
        "params": {"signs": "kunert2014"},
        "traces": "cord",
        "reference": "fixed",
        "note": "Kunert, Shlizerman & Kutz 2014 (Phys Rev E 89:052805, "
        "doi:10.1103/PhysRevE.89.052805): a constant 2000 pA into PLML and PLMR (the Neural "
        "Interactome's 0.2) drives the ventral cord motor neurons of the Varshney 2011 wiring "
        "into a two-mode oscillation (period about 1.2 s), with the paper's inhibitory set "
        "(signs kunert2014: the 26 classical GABAergic neurons). The traces show VA, VB, DA "
        "and DB motor neurons as deviations from the network's fixed point under this input. "
        "On Cook 2019 the same input settles to a fixed point.",
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
    **{f"body_{key}": _body_preset(key) for key in BODY_PRESETS},
}


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
        return count_steps(self.duration, self.dt)[0]

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
        source was a circuit; its hash must match). The data may come back from the browser
        changed, so they pass the form's own checks again (:func:`read_form` and
        :func:`check_request`: types, ranges, names and the run limits) before anything runs.

        Raises
        ------
        SimulationError
            When the circuit changed since the run, or the data are not a request the form
            makes (the message names the field).
        """
        try:
            source = data["source"]
            if isinstance(source, dict):
                text = circuit_source(circuit) if circuit else ""
                if _sha(text) != source["sha"]:
                    raise SimulationError("the circuit changed since this run; run it again")
                source = text
            model = data["model"]
            params = {k: field_text(v) for k, v in default_params(model).as_dict().items()}
            params.update((str(k), v) for k, v in data["params"])
            rows = [
                {"index": i, "target": t, "kind": k,
                 "values": {**{key: field_text(v) for key, v in _OPTIONAL.get(k, {}).items()},
                            **dict(ps)}}
                for i, (t, k, ps) in enumerate(data["stimuli"])
            ]  # fmt: skip
            if not isinstance(source, str) or not all(isinstance(n, str) for n in data["ablate"]):
                raise TypeError("source and ablated names are text")
            form = read_form(model, params, rows, " ".join(data["ablate"]), data["duration"],
                             data["dt"], data["record_every"])  # fmt: skip
            return check_request(source, form)
        except FormError as err:
            raise SimulationError(
                f"these results' settings are not ones the form accepts ({err}); run again"
            ) from err
        except (KeyError, IndexError, TypeError, ValueError, AttributeError, WormlabError) as err:
            if isinstance(err, SimulationError):
                raise
            raise SimulationError("these results' settings are damaged; run again") from err


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


def source_text(source_kind, dataset, circuit):
    """The source text the form's Source fields name: ``source_kind`` "circuit" (the
    ``store-circuit`` data ``circuit``) or "dataset" (``dataset``, default cook2019).

    Raises
    ------
    SimulationError
        For "circuit" when there is no circuit yet.
    """
    if source_kind == "circuit":
        if not circuit:
            raise SimulationError(
                "no circuit yet: make one on the Circuit page, or simulate a dataset"
            )
        return circuit_source(circuit)
    return dataset_source(dataset or "cook2019")


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


def source_tag(source):
    """A short name of a source: the dataset key, or ``circuit:<hash>``."""
    return _dataset_of(source) or "circuit:" + _sha(source)[:16]


def _number(text, key, errors, *, blank=REQUIRED, integer=False, positive=False,
            non_negative=False):  # fmt: skip
    """Parse one field (:func:`webapp.forms.parse_number`); on a problem, record it in
    ``errors[key]`` and return None."""
    try:
        return parse_number(
            text,
            key,
            lo=0 if positive or non_negative else None,
            open_lo=positive,
            integer=integer,
            blank=blank,
        )
    except FieldError as err:
        errors[key] = err.detail
        return None


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
    if model not in PARAMS:
        raise FormError({"model": f"unknown model {shorten(model)}; use graded or ltc"})
    values = {}
    for key, _, _ in PARAMS[model]:
        x = _number(params.get(key), f"param:{key}", errors, integer=key == "unfolds")
        if x is not None:
            try:
                default_params(model, **{key: x})
            except WormlabError as err:
                errors[f"param:{key}"] = _plain(err, key)
                continue
            values[key] = x
    for key, choices, _ in CHOICES[model]:
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
        if kind not in FIELDS:
            errors[f"stim:{i}:kind"] = f"choose a protocol: {', '.join(PROTOCOLS)}"
            continue
        vals, ok = {}, True
        for key, _, _ in FIELDS[kind]:
            blank = _BLANK.get(key, REQUIRED)
            if kind == "ramp" and key == "stop":
                blank = REQUIRED
            x = _number(
                row["values"].get(key),
                f"stim:{i}:{key}",
                errors,
                blank=blank,
                integer=key == "seed",
                positive=key in ("period", "width", "freq", "sample_dt"),
                non_negative=key == "std",
            )
            if x is not None and key in _CURRENTS and abs(x) > MAX_CURRENT[model]:
                unit = _UNITS[model]["I"]
                limit = f"{x:g} {unit} is beyond the limit of ±{MAX_CURRENT[model]:g} {unit}"
                errors[f"stim:{i}:{key}"] = limit.replace("  ", " ").strip()
                x, ok = None, False
            if x is None and blank is REQUIRED:
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
    names = as_name_list(str(ablate or ""))
    d = _number(duration, "duration", errors, positive=True)
    h = _number(dt, "dt", errors, positive=True)
    k = _number(record, "record", errors, integer=True, positive=True)
    if d is not None and h is not None:
        _, nearest = count_steps(d, h)
        if nearest is not None:
            lo, hi = nearest
            errors["duration"] = (
                f"must be a whole number of steps of dt = {h:g}; use {lo:.10g} or {hi:.10g}"
            )
    if h is not None and model == "graded" and h > MAX_GRADED_DT:
        errors["dt"] = (
            f"{h:g} s is too coarse: at most {MAX_GRADED_DT:g} s (a tenth of the membrane time "
            "constant C/Gc = 0.1 s); the default is 0.0001 s"
        )
    if d is not None and h is not None and k is not None and not {"duration", "dt"} & set(errors):
        n_steps = count_steps(d, h)[0]
        if n_steps // k + 1 < MIN_SAMPLES:
            key = "record" if n_steps + 1 >= MIN_SAMPLES else "dt"
            errors[key] = (
                f"record every {k:,} steps of {n_steps:,} gives {n_steps // k + 1} samples; "
                f"at least {MIN_SAMPLES} are needed to plot: record every "
                f"{max(1, n_steps // (MIN_SAMPLES - 1)):,} steps or fewer"
                if key == "record"
                else f"{d:g} / {h:g} is only {n_steps} steps; at least {MIN_SAMPLES - 1} are "
                "needed to plot: use a smaller dt"
            )
    if d is not None:
        for target, _, vals in stimuli:
            start = dict(vals).get("start", 0.0)
            if start >= d:
                i = indices[stimuli.index((target, _, vals))]
                errors[f"stim:{i}:start"] = (
                    f"starts at {start:g}, after the run ends at {d:g}: start earlier or "
                    "lengthen the run"
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
    errors = resolve_ablation(net, as_name_list(str(ablate or "")))[1]
    for row in rows:
        target = (row.get("target") or "").strip()
        if target:
            try:
                net.resolve([target])
            except UnknownNeuronError as err:
                errors[f"stim:{row['index']}:target"] = str(err)
    return errors


def check_request(source, form):
    """Resolve names and apply the limits: the :class:`Request` of a parsed form.

    Raises
    ------
    FormError
        Unknown or ablated neurons (keys ``ablate``, ``stim:<index>:target``), more than
        ``MAX_STIMULI`` stimuli (``stimulus``), a run over
        :data:`MAX_NEURON_STEPS` (``duration``) or :data:`MAX_RECORDED_VALUES` (``record``),
        a source that cannot be read (``source``).
    """
    if len(form["stimuli"]) > MAX_STIMULI:
        raise FormError({"stimulus": f"{len(form['stimuli']):,} stimuli; at most {MAX_STIMULI}"})
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


def neuron_steps(request):
    """The size of a run: neurons x integration steps (what :data:`MAX_NEURON_STEPS` and
    :data:`LONG_RUN` bound)."""
    return compiled(request.source, request.model, request.params, request.ablate).n * (
        request.n_steps
    )


def is_long(request):
    """Whether a run is long enough (over :data:`LONG_RUN` neuron-steps) to run as a
    background job (:func:`simulation_job`) rather than in the request."""
    return neuron_steps(request) > LONG_RUN


#: The packages whose code a stored result depends on (:func:`code_digest`).
RESULT_CODE = ("connectome", "sim")


def source_digest(root) -> str:
    """SHA-256 of the wormlab version and of the source of the code a simulation result
    depends on (:data:`RESULT_CODE` and ``webapp/simulation.py``) in the source tree
    ``root``."""
    from importlib.metadata import PackageNotFoundError, version
    from pathlib import Path

    try:
        digest = hashlib.sha256(version("wormlab").encode())
    except PackageNotFoundError:  # run from a source tree that is not installed
        digest = hashlib.sha256(b"wormlab (not installed)")
    top = Path(root)
    files = [top / "webapp" / "simulation.py"]
    files += sorted(p for name in RESULT_CODE for p in (top / name).rglob("*.py"))
    for path in files:
        digest.update(path.relative_to(top).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@functools.cache
def code_digest() -> str:
    """:func:`source_digest` of this source tree, read once per process: a changed
    simulator gives a new digest, so no stored result of older code is ever served."""
    from pathlib import Path

    return source_digest(Path(__file__).resolve().parents[1])


def result_file(request):
    """Where a background job leaves the result of ``request`` (a file in the system temp
    folder named after the request's content and the simulator's code,
    :func:`code_digest`, so any server process of the same code finds it, and none of
    other code does)."""
    key = json.dumps(
        {**request.to_json(), "source": _sha(request.source), "code": code_digest()},
        sort_keys=True,
    )
    return os.path.join(tempfile.gettempdir(), "wormlab-sim-results", _sha(key) + ".npz")


@functools.lru_cache(maxsize=8)
def rest_state(source, model, params, ablate):
    """The state a run starts from: the network's rest without input.

    Graded: ``"rest"`` (the exact fixed point, :func:`sim.compiler.graded_thresholds`). LTC:
    the state after :data:`REST_SETTLE` membrane time constants without input from
    ``v = vleak`` (the fused step's fixed points do not depend on dt, so one step per time
    constant), so that a stimulus of zero gives no response at all; starting at ``vleak``
    instead, the whole connectome drifts to its rest and every neuron seems to respond.
    """
    if model != "ltc":
        return "rest"
    cc = compiled(source, model, params, ablate)
    tau = cc.params.tau_m if np.isfinite(cc.params.tau_m) else 1.0
    settle = simulate(cc, [], duration=REST_SETTLE * tau, dt=tau, record_every=REST_SETTLE)
    return np.array(settle.final_state[0])


def _run(request, progress=None):
    cc = compiled(request.source, request.model, request.params, request.ablate)
    stims = [Stimulus(t, k, dict(ps)) for t, k, ps in request.stimuli]
    return simulate(
        cc,
        stims,
        duration=request.duration,
        dt=request.dt,
        record_every=request.record_every,
        max_bytes=MAX_RECORDED_VALUES * 4 + 1,
        progress=progress,
        initial=rest_state(request.source, request.model, request.params, request.ablate),
    )


def _load(request, path):
    """The SimResult a job stored in ``path`` for ``request``, rebuilt around the server's
    own compiled circuit."""
    cc = compiled(request.source, request.model, request.params, request.ablate)
    with np.load(path) as f:
        t, V, final = f["t"], f["V"], f["final_state"]
    if V.shape != (len(t), cc.n):
        raise SimulationError(f"the stored result {path} does not match its request")
    return SimResult(
        t=t,
        V=V,
        names=cc.names,
        model=cc.model,
        params=cc.params,
        stimulus=tuple(Stimulus(t_, k, dict(ps)) for t_, k, ps in request.stimuli),
        dt=float(request.dt),
        record_every=int(request.record_every),
        final_state=final,
        circuit=cc,
    )


@functools.lru_cache(maxsize=4)
def simulated(request):
    """The :class:`sim.runner.SimResult` of a request (a bounded cache keyed by content):
    the result a background job left (:func:`result_file`), else a run here.

    Raises
    ------
    DivergenceError, SimulationError
        From :func:`sim.runner.simulate`.
    """
    path = result_file(request)
    if os.path.exists(path):
        try:
            return _load(request, path)
        except (OSError, ValueError, KeyError):  # a damaged or foreign file: run again
            pass
    return _run(request)


def job_result(request):
    """The result a background job left for ``request`` (never a run here: this is called
    in processes that must not start numba's threading layer, see :mod:`webapp.jobs`).

    Raises
    ------
    SimulationError
        When there is no such result (it was cleared away: run again).
    """
    path = result_file(request)
    try:
        return _load(request, path)
    except (OSError, ValueError, KeyError) as err:
        raise SimulationError(f"the background run's result is gone ({err}); run it again") from err


def simulation_job(config, emit, should_stop):
    """The simulation job (:mod:`webapp.jobs`, kind ``simulate``): run
    ``config["request"]`` (:meth:`Request.to_json` data, with the full source text in
    ``config["source"]``), reporting the fraction done, and leave the result in
    :func:`result_file` (the newest :data:`KEEP_RESULTS` files are kept).

    Returns
    -------
    dict
        ``{"file": path}``, or ``{"diverged": message}`` when the run diverged.
    """
    request = Request.from_json({**config["request"], "source": config["source"]})
    friction = config.get("body")
    if friction is not None:
        check_body(request, friction)
    emit({"kind": "progress", "fraction": 0.0})
    try:
        result = _run(request, lambda f: emit({"kind": "progress", "fraction": float(f)}))
    except DivergenceError as err:
        return {"diverged": str(err)}
    path = result_file(request)
    _write_npz(path, t=result.t, V=result.V, final_state=result.final_state)
    out = {"file": path}
    if friction is not None:
        emit({"kind": "phase", "text": f"driving the body on {friction}"})
        out["body"] = body_file(request, friction)
        save_body(drive_body(result, body=BodyParams(friction=friction)), out["body"])
    return out


def _write_npz(path, **arrays):
    """Write ``arrays`` to ``path`` whole (a reader never sees half a file) and keep the
    newest :data:`KEEP_RESULTS` result files of its folder."""
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    part = f"{path}.{os.getpid()}.part"
    with open(part, "wb") as f:
        np.savez(f, **arrays)
    os.replace(part, path)
    kept = sorted(
        (e for e in os.scandir(folder) if e.name.endswith(".npz")),
        key=lambda e: e.stat().st_mtime,
        reverse=True,
    )
    for old in kept[KEEP_RESULTS:]:
        with contextlib.suppress(OSError):
            os.remove(old.path)


def run_simulation(request, on_progress, body=None):
    """Run ``request`` as a background job in a fresh Python process
    (:func:`webapp.jobs.run_job`); afterwards :func:`simulated` reads its result. With
    ``body`` (a friction, :func:`check_body`) the job also drives the body with the run, and
    :func:`body_result` reads that.

    Returns
    -------
    dict
        ``{"kind": "result", "file"}`` (and ``"body"``: the body's file),
        ``{"kind": "result", "diverged"}`` or ``{"kind": "error", "text"}``.
    """
    from webapp.jobs import run_job

    config = {"request": request.to_json(), "source": request.source}
    if body is not None:
        config["body"] = body
    return run_job("simulate", config, on_progress)


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


def fixed_point(result, request):
    """The fixed point the traces are measured from, shape (N,), and what it is.

    Graded model with ``threshold="input"`` and only step stimuli: the network's exact fixed
    point under the constant input at the end of the run, ``Vth`` of
    :func:`sim.compiler.graded_thresholds` (at ``V = Vth``, ``s = s_eq`` every derivative is
    zero). Otherwise, the recorded state at the stimulus onset.

    Returns
    -------
    (ndarray, str)
        The reference potentials and ``"fixed point"`` or ``"V at onset"``.
    """
    cc = result.circuit
    steps_only = all(k == "step" for _, k, _ in request.stimuli)
    if cc.model == "graded" and cc.params.threshold == "input" and steps_only:
        stims = [Stimulus(t, k, dict(ps)) for t, k, ps in request.stimuli]
        _, current = constant_epochs(stims, cc, request.duration)
        return graded_thresholds(cc, current[-1]), "fixed point"
    onset = onset_of(result, request)
    return np.asarray(result.V[np.flatnonzero(result.t <= onset)[-1]], np.float64), "V at onset"


def trace_reference(result, request, how):
    """What the traces subtract: ``how`` "fixed" gives :func:`fixed_point`, "raw" nothing.

    Returns
    -------
    (ndarray or None, str)
        The reference (N,) or None, and the traces' y label ("V" or "V − fixed point").
    """
    if how != "fixed":
        return None, "V"
    ref, what = fixed_point(result, request)
    return ref, f"V − {what}"


def cord_traces(result, n=N_TRACES):
    """Ventral cord A/B-type motor neurons (:data:`CORD_AB`) for the traces: the largest
    swings (range over the last two thirds of the run) class by class in turn (VA, VB, DA,
    DB, VA, ...), so both the A and the B pools, dorsal and ventral, are shown."""
    cc = result.circuit
    late = result.V[result.t >= float(result.t[-1]) / 3.0]
    swing = np.ptp(late, axis=0) if len(late) else np.zeros(cc.n)
    pools = []
    for cls in CORD_AB:
        idx = [i for i, c in enumerate(cc.neurons["class"]) if c == cls]
        pools.append([cc.names[i] for i in sorted(idx, key=lambda i: -swing[i])])
    out = []
    while len(out) < n and any(pools):
        for pool in pools:
            if pool and len(out) < n:
                out.append(pool.pop(0))
    return out


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
    with one_blas_thread():
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


def oscillation_period(info, min_swing=1e-3):
    """Dominant period of the motor neurons' first mode when they oscillate (a clear
    autocorrelation peak and a swing above ``min_swing``, mV for graded), else None."""
    est, p = info["period"], info["pca"]
    if est is None or p is None or not np.isfinite(est.period) or est.strength < 0.5:
        return None
    if np.ptp(p.projections[:, 0]) < min_swing:
        return None
    return float(est.period)


# ===================================================================== forms
def form_row(index, target=None, kind="step", values=None, model="graded"):
    """One stimulus row of a form: ``model``'s default field texts updated with
    ``values``."""
    base = dict(STIM_DEFAULTS[model])
    base.update(values or {})
    return {"index": index, "target": target, "kind": kind, "values": base}


def form_params(model, whole=True):
    """The parameter fields' default texts: sim.models' defaults, with
    :data:`WHOLE_CONNECTOME_PARAMS` on a whole connectome (``whole``)."""
    values = default_params(model).as_dict()
    if whole:
        values.update(WHOLE_CONNECTOME_PARAMS[model])
    return {k: field_text(v) for k, v in values.items()}


def default_form(model="graded", dataset="cook2019"):
    """The page's form before any change (PLM, a step of 2000 pA, 5 s)."""
    return {
        "source": "dataset",
        "dataset": dataset,
        "model": model,
        "params": form_params(model),
        "rows": [form_row(0, "PLM", "step", {"amp": "2000"} if model == "graded" else {}, model)],
        "ablate": "",
        **TIMING[model],
        "note": "",
        "traces": "strongest",
        "reference": "raw",
        "body": False,
    }


def preset_form(name, dataset="cook2019"):
    """The form of a preset (:data:`PRESETS`), on ``dataset`` unless the preset names one."""
    p = PRESETS[name]
    form = default_form(p["model"], p["dataset"] or dataset)
    form["rows"] = [
        form_row(i, target, kind, values, p["model"])
        for i, (target, kind, values) in enumerate(p["stimuli"])
    ]
    form["params"].update(p.get("params", {}))
    form["duration"] = p["duration"]
    form["note"] = p["note"]
    form["traces"] = p.get("traces", "strongest")
    form["reference"] = p.get("reference", "raw")
    form["body"] = bool(p.get("body"))
    return form


def units_of(model):
    """Unit names of ``model`` by kind (I, t, f, rad, V; empty for unitless ltc).

    Raises
    ------
    SimulationError
        For a model that is not graded or ltc (the value may come from the browser).
    """
    if not isinstance(model, str) or model not in _UNITS:
        raise SimulationError(f"unknown model {shorten(model)}; use graded or ltc")
    return _UNITS[model]


def form_from_query(query):
    """The form a page URL asks for. Query keys: ``preset`` (plm, ava, ase),
    ``dataset``, ``model``, ``stim`` (``TARGET:kind:key=value,...`` separated by ``;``),
    ``ablate``, ``duration``, ``dt``. A query over ``MAX_URL_QUERY_CHARS`` characters or
    ``MAX_STIMULI`` stimuli (:mod:`connectome.limits`) is left out, and the form's note
    says so."""
    size = sum(len(str(k)) + len(str(v)) for k, v in query.items())
    if size > MAX_URL_QUERY_CHARS or str(query.get("stim") or "").count(";") >= MAX_STIMULI:
        form = default_form()
        form["note"] = (
            f"This link was left out: it is {size:,} characters long (at most "
            f"{MAX_URL_QUERY_CHARS:,}, with at most {MAX_STIMULI} stimuli); the form below is "
            "the default one."
        )
        return form
    dataset = query.get("dataset") or "cook2019"
    preset = query.get("preset")
    if preset in PRESETS:
        return preset_form(preset, dataset)
    form = default_form(query.get("model") if query.get("model") in PARAMS else "graded", dataset)
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
                form_row(
                    i, parts[0].strip(), kind if kind in FIELDS else "step", values, form["model"]
                )
            )
        form["rows"] = rows
    for key in ("ablate", "duration", "dt"):
        if query.get(key):
            form[key] = str(query[key])
    return form


# ===================================================================== results
def traces_csv(result):
    """Every recorded potential as CSV: one row per recorded time, one column per neuron
    (6 significant digits; the header names the units)."""
    units = units_of(result.model)
    df = result.to_dataframe()
    df.index.name = f"t ({units['t']})"
    df.columns = [f"{c} ({units['V']})" if units["V"] else c for c in df.columns]
    return df.to_csv(float_format="%.6g")


def summary_csv(result, request):
    """Every neuron's response (:func:`sim.analysis.response_summary` from the stimulus
    onset) as CSV, with a column marking the stimulated neurons."""
    with one_blas_thread():
        summary = response_summary(result, onset=onset_of(result, request))
    summary = summary.assign(stimulated=summary.index.isin(stimulated_neurons(result, request)))
    return summary.to_csv(float_format="%.6g")


# ===================================================================== the body
#: Body runs of more body steps than this (1 s of body at ElegansBot's 50 µs step, about 1-2
#: s of computing on a loaded 2-core machine) run with their network as a background job
#: (:func:`run_simulation` with ``body``); shorter ones run in the request.
LONG_BODY = 20_000
#: What the Body view says, and the server answers, when ElegansBot is not installed.
BODY_MISSING = "The body needs ElegansBot: pip install 'wormlab[body]'"


def body_available():
    """Whether ElegansBot (the ``body`` extra) is installed (found without importing it)."""
    import importlib.util

    return importlib.util.find_spec("elegansbot") is not None


def body_steps(request):
    """ElegansBot steps of driving the body with ``request``'s run (what
    :data:`connectome.limits.MAX_BODY_STEPS` and :data:`LONG_BODY` bound)."""
    return round(request.duration / BodyParams().dt)


def check_body(request, friction):
    """Check that ``request``'s run can drive the body on ``friction`` (which may come from
    the browser) within the bounds, before anything runs.

    Raises
    ------
    FormError
        Keys ``body`` (an unknown friction; ElegansBot not installed: :data:`BODY_MISSING`),
        ``model`` (not graded: the body reads the network's time in seconds), ``record`` (a
        record interval over 10 ms or not a whole number of body steps), ``duration`` (over
        :data:`connectome.limits.MAX_BODY_STEPS` body steps).
    """
    if not isinstance(friction, str) or friction not in FRICTION:
        raise FormError({"body": f"friction {str(friction)[:40]!r}; use {' or '.join(FRICTION)}"})
    if not body_available():
        raise FormError({"body": BODY_MISSING})
    if request.model != "graded":
        raise FormError({"body": "the body needs the graded model (ltc time has no unit)"})
    body_dt = BodyParams().dt
    control = request.dt * request.record_every
    sub = control / body_dt
    if control > 0.01 + 1e-12 or abs(sub - round(sub)) > 1e-6 * sub or round(sub) < 1:
        raise FormError({"record": (
            f"the body is driven every recorded step: dt x record every = {control:g} s must "
            f"be a whole number of body steps of {body_dt:g} s and at most 0.01 s (e.g. dt "
            "0.0001 and record every 10)"
        )})  # fmt: skip
    steps = body_steps(request)
    if steps > MAX_BODY_STEPS:
        raise FormError({"duration": (
            f"too long for the body: {request.duration:g} s is {steps:,} body steps of "
            f"{body_dt:g} s; the limit is {MAX_BODY_STEPS:,} ({MAX_BODY_STEPS * body_dt:g} s). "
            "Shorten the run or untick the body."
        )})  # fmt: skip


def is_long_body(request):
    """Whether driving the body with ``request``'s run is long enough (over
    :data:`LONG_BODY` body steps) to run as a background job."""
    return body_steps(request) > LONG_BODY


def body_file(request, friction):
    """Where a background job leaves the body driven by ``request``'s run on ``friction``
    (next to :func:`result_file`, named after both)."""
    base = os.path.basename(result_file(request))[: -len(".npz")]
    name = _sha(f"{base}:{friction}") + ".body.npz"
    return os.path.join(os.path.dirname(result_file(request)), name)


def save_body(worm, path):
    """Write a :class:`sim.body.BodyResult` to ``path`` (npz, whole files only)."""
    _write_npz(
        path, t=worm.t, xy=worm.xy, centroid=worm.centroid, velocity=worm.velocity,
        angles=worm.angles, target=worm.target,
        activation=np.zeros((0, 0)) if worm.activation is None else worm.activation,
        control_dt=np.float64(worm.control_dt), missing=np.array(worm.missing, dtype=str),
    )  # fmt: skip


def load_body(path, friction):
    """The :class:`sim.body.BodyResult` :func:`save_body` wrote (driven on ``friction``)."""
    with np.load(path) as f:
        arrays = {k: f[k] for k in ("t", "xy", "centroid", "velocity", "angles", "target")}
        activation = f["activation"] if f["activation"].size else None
        control_dt, missing = float(f["control_dt"]), tuple(str(m) for m in f["missing"])
    return BodyResult(**arrays, activation=activation, params=BodyParams(friction=friction),
                      control_dt=control_dt, missing=missing)  # fmt: skip


@functools.lru_cache(maxsize=4)
def body_result(request, friction, here=True):
    """The body driven by ``request``'s run on ``friction`` (a bounded cache keyed by
    content): the one a background job left (:func:`body_file`), else, with ``here``, driven
    here (from :func:`simulated`).

    Raises
    ------
    FormError
        From :func:`check_body`.
    SimulationError
        When there is no stored body and not ``here`` (run again), or from the body.
    """
    check_body(request, friction)
    path = body_file(request, friction)
    if os.path.exists(path):
        try:
            return load_body(path, friction)
        except (OSError, ValueError, KeyError):  # a damaged or foreign file: drive it again
            pass
    if not here:
        raise SimulationError(
            f"the body on {friction} for this run is not there (it runs in the background "
            "with the network): press Run"
        )
    return drive_body(simulated(request), body=BodyParams(friction=friction))


def body_verdict(worm):
    """The Body view's one line: direction of travel and speed along the body (mm/s, over
    the second half of the run, :attr:`sim.body.BodyResult.steady_forward_speed`).

    >>> import numpy as np
    >>> from sim.body import BodyParams, BodyResult
    >>> t = np.array([0.0, 1.0, 2.0])
    >>> xy = np.zeros((3, 26, 2)); xy[:, :, 0] = np.linspace(1, 0, 26)
    >>> v = np.tile([0.05, 0.0], (3, 1))
    >>> worm = BodyResult(t, xy, xy.mean(axis=1), v, np.zeros((3, 24)), np.zeros((3, 24)),
    ...                   None, BodyParams(), 0.01)
    >>> body_verdict(worm)
    'On agar the worm went forward: +0.050 mm/s along the body (second half of the run).'
    >>> worm = BodyResult(t, xy, xy.mean(axis=1), -v / 1e4, np.zeros((3, 24)),
    ...                   np.zeros((3, 24)), None, BodyParams(friction="water"), 0.01)
    >>> body_verdict(worm)[:56]
    'On water the worm went nowhere: +0.000 mm/s along the bo'
    """
    s = worm.summary()
    went = {"forward": "went forward", "backward": "went backward", "none": "went nowhere"}
    still = (
        f", below the {worm.params.still_speed:g} mm/s of a moving worm"
        if s["direction"] == "none"
        else ""
    )
    speed = round(s["steady_forward_speed"], 3) + 0.0  # no "-0.000"
    return (
        f"On {worm.params.friction} the worm {went[s['direction']]}: "
        f"{speed:+.3f} mm/s along the body (second half of the run{still})."
    )


def warm_up():
    """Compile (or load from numba's on-disk cache) every simulation kernel, and compile the
    default dataset for the graded model, so that no request waits for numba."""
    from sim.runner import warmup

    warmup()
    form = default_form()
    compiled(dataset_source(form["dataset"]), "graded", (), ())
    network.positions(load_source(dataset_source(form["dataset"])), "anatomical")

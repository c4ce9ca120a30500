"""The Simulate page's figures and helpers, without a browser: what is plotted is the
simulator's data (decimated exactly as documented), every bad field gets its own message,
the caches are keyed by content, and the page's analysis is sim.analysis's."""

import hashlib
import json
import os

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from dash import html
from plotly.io.json import to_json_plotly

import connectome
from connectome import io as wiring_io
from connectome.errors import SimulationError
from sim.analysis import oscillation_summary, response_summary
from sim.compiler import compile_circuit
from sim.runner import simulate
from sim.stimulus import step
from webapp import simulation as sp
from webapp.figures.dynamics import (
    CODE_CHARS,
    activity_colors,
    activity_frames,
    bin_mean,
    decimate,
    heatmap_figure,
    phase_portrait_figure,
    robust_scale,
    traces_figure,
)

COOK = sp.dataset_source("cook2019")
VARSHNEY = sp.dataset_source("varshney2011")


def parse(model="graded", *, params=None, rows=None, ablate="", **timing):
    """read_form on the default form with some fields changed."""
    form = sp.default_form(model)
    p = dict(form["params"], **(params or {}))
    rows = form["rows"] if rows is None else rows
    t = {k: timing.get(k, form[k]) for k in ("duration", "dt", "record")}
    return sp.read_form(model, p, rows, ablate, t["duration"], t["dt"], t["record"])


def row(index=0, target="PLM", kind="step", **values):
    return {"index": index, "target": target, "kind": kind,
            "values": dict(sp.default_form()["rows"][0]["values"], **values)}  # fmt: skip


def form_errors(**kwargs):
    with pytest.raises(sp.FormError) as info:
        parse(**kwargs)
    return info.value.errors


# ===================================================================== figures
def test_decimate_keeps_every_kth_record():
    t = np.arange(2501) * 1e-3
    V = np.random.default_rng(0).standard_normal((2501, 3))
    td, vd = decimate(t, V, 1000)
    assert len(td) <= 1000 and vd.dtype == np.float32
    np.testing.assert_array_equal(td, t[::3])
    np.testing.assert_array_equal(vd, V[::3].astype(np.float32))
    td, vd = decimate(t[:10], V[:10], 1000)  # nothing to drop
    np.testing.assert_array_equal(td, t[:10])


def test_bin_mean_averages_blocks_with_a_short_last_one():
    t = np.arange(7.0)
    V = np.stack([t, 10 * t], axis=1)
    tb, vb = bin_mean(t, V, 3)  # blocks of 3: [0 1 2] [3 4 5] [6]
    np.testing.assert_allclose(tb, [1.0, 4.0, 6.0])
    np.testing.assert_allclose(vb, [[1, 10], [4, 40], [6, 60]])


def test_traces_figure_stacked_and_overlaid():
    t = np.arange(3001) * 1e-3
    V = np.stack([np.sin(t), 100 * np.cos(t)], axis=1)
    fig = traces_figure(t, V, ["A", "B"], highlight=["B"], meta={"run": "x"})
    assert isinstance(fig, go.Figure) and fig.layout.meta == {"run": "x"}
    k = 4  # ceil(3001 / 1000)
    for j, tr in enumerate(fig.data):
        assert tr.x is None and tr.yaxis == ("y" if j == 0 else "y2")
        times = tr.x0 + tr.dx * np.arange(len(tr.y))
        np.testing.assert_allclose(times, t[::k], atol=1e-12)
        np.testing.assert_array_equal(tr.y, V[::k, j].astype(np.float32))
    assert [tr.line.dash for tr in fig.data] == ["solid", "dash"]
    assert fig.layout.yaxis.domain[0] > fig.layout.yaxis2.domain[1]  # A above B
    assert fig.layout.yaxis2.title.text == "B"
    over = traces_figure(t, V, ["A", "B"], stacked=False)
    assert {tr.yaxis for tr in over.data} == {"y"} and "yaxis2" not in over.layout
    with pytest.raises(ValueError):
        traces_figure(t, V, ["A"])


def test_heatmap_figure_rows_groups_and_colour_range():
    t = np.arange(1000) * 1e-3
    dV = np.zeros((1000, 5))
    dV[:, 0] = 500.0  # a stimulated neuron: far beyond the rest
    dV[:, 1:] = np.linspace(1, 4, 4)[None, :] * np.sin(2 * np.pi * t)[:, None]
    names = ["S1", "S2", "I1", "M1", "M2"]
    groups = ["sensory", "sensory", "interneuron", "motor", "motor"]
    fig = heatmap_figure(t, dV, names, groups)
    heat = fig.data[0]
    z = np.asarray(heat.z)
    tb, vb = bin_mean(t, dV)
    assert z.shape == (5, len(tb)) and z.dtype == np.float32
    peaks = np.abs(vb).max(axis=0)
    # each row scaled to its own largest |dV|: the colour range [-1, 1] covers the data exactly
    np.testing.assert_allclose(z, (vb / peaks).T, rtol=1e-6)
    np.testing.assert_allclose(np.abs(z).max(axis=1), 1.0, rtol=1e-6)
    assert (heat.zmin, heat.zmax) == (-1.0, 1.0)
    np.testing.assert_allclose(np.asarray(heat.customdata), vb.T, rtol=1e-6)  # hover: mV
    assert list(heat.y) == names and fig.layout.yaxis.autorange == "reversed"
    assert [a.text for a in fig.layout.annotations] == ["sensory (2)", "interneuron (1)",
                                                        "motor (2)"]  # fmt: skip
    assert [s.y0 for s in fig.layout.shapes] == [1.5, 2.5]


def test_heatmap_figure_leaves_a_still_row_at_zero():
    t = np.arange(100) * 1e-2
    dV = np.zeros((100, 2))
    dV[:, 0] = 8000.0 * t  # volts, as a stimulated graded neuron
    fig = heatmap_figure(t, dV, ["A", "B"], ["sensory", "motor"])
    z = np.asarray(fig.data[0].z)
    assert np.all(z[1] == 0.0) and z[0].max() == pytest.approx(1.0)


def test_phase_portrait_plots_the_projections():
    t = np.arange(2000) * 1e-3
    proj = np.stack([np.cos(t), np.sin(t), t], axis=1)
    fig = phase_portrait_figure(t, proj, explained=[0.7, 0.2], period=1.25, note="x")
    path = fig.data[0]
    np.testing.assert_array_equal(path.x, proj[::2, 0].astype(np.float32))
    np.testing.assert_array_equal(path.y, proj[::2, 1].astype(np.float32))
    np.testing.assert_allclose(path.marker.color, t[::2], rtol=1e-6)
    assert "period 1.25 s" in fig.layout.title.text and fig.layout.title.text.endswith("x")
    assert fig.layout.xaxis.title.text == "mode 1 (70.0%) (mV)"
    no_period = phase_portrait_figure(t, proj, explained=[1.0], period=float("nan"))
    assert "period" not in no_period.layout.title.text
    with pytest.raises(ValueError):
        phase_portrait_figure(t, proj[:, :1], explained=[1.0])


def test_activity_colors_and_frames():
    assert activity_colors(3) == ["#2166ac", "#f7f7f7", "#b2182b"]
    assert len(activity_colors(21)) == 21
    with pytest.raises(ValueError):
        activity_colors(4)
    t = np.arange(11) * 0.1
    V = np.zeros((11, 3))
    V[:, 0] = -70 + 10 * t  # rises by 10 at the end
    V[:, 1] = 5 - 20 * t  # falls by 20
    frames = activity_frames(t, V, ["a", "b", "c"], n_frames=6, levels=5, scale=10.0)
    json.dumps(frames)  # JSON-ready
    assert frames["t"] == pytest.approx(list(t[::2]))
    assert frames["codes"][0] == "222"  # everything at rest at t = 0
    # dV / scale = (1, -2 -> -1, 0) at the end -> levels (4, 0, 2)
    assert frames["codes"][-1] == CODE_CHARS[4] + CODE_CHARS[0] + CODE_CHARS[2]
    # level of a in the middle frame: dV = 4, (0.4 + 1) / 2 * 4 = 2.8 -> 3
    assert frames["codes"][2][0] == "3"
    default = activity_frames(t, V, ["a", "b", "c"])
    assert default["scale"] == pytest.approx(robust_scale([10.0, 20.0, 0.0], q=90.0))


# ===================================================================== the form
def test_default_form_parses():
    form = parse()
    assert form["model"] == "graded" and form["params"] == ()  # defaults are not repeated
    # the protocol's defaults (start 0, stop never) are left out: one experiment, one key
    assert form["stimuli"] == (("PLM", "step", (("amp", 2000.0),)),)
    timed = parse(rows=[row(0, start="0.5", stop="2")])["stimuli"][0][2]
    assert timed == (("amp", 2000.0), ("start", 0.5), ("stop", 2.0))
    assert (form["duration"], form["dt"], form["record_every"]) == (5.0, 1e-4, 10)
    ltc = parse("ltc")
    assert ltc["dt"] == 1.0 and ltc["stimuli"][0][2][0] == ("amp", 1.0)


def test_every_bad_field_gets_its_own_message():
    errors = form_errors(
        params={"Gc": "abc", "C": "-1", "beta": "inf"},
        rows=[row(0, amp="nan"), row(1, target=None), row(2, "AVA", "pulse", width="2",
                                                            period="1")],
        duration="-1",
        record="2.5",
    )  # fmt: skip
    assert errors == {
        "param:Gc": "'abc' is not a number",
        "param:C": "must be > 0",
        "param:beta": "must be a finite number, not inf",
        "stim:0:amp": "must be a finite number, not nan",
        "stim:1:target": "pick a neuron or class (or click one in the network)",
        "stim:2:row": "pulse width must not exceed the period",
        "duration": "must be > 0 (got -1)",
        "record": "must be a whole number, not 2.5",
    }
    assert form_errors(rows=[]) == {
        "stimulus": "add at least one stimulus (the network without input stays at rest)"
    }
    assert form_errors(duration="1.00005") == {
        "duration": "must be a whole number of steps of dt = 0.0001; use 1 or 1.0001"
    }
    ramp = form_errors(rows=[row(0, kind="ramp", stop="")])
    assert ramp == {"stim:0:stop": "enter a number"}
    assert form_errors(rows=[row(0, kind="noise", std="-1", seed="0.5")]) == {
        "stim:0:std": "must be >= 0 (got -1)",
        "stim:0:seed": "must be a whole number, not 0.5",
    }
    assert form_errors(params={"threshold": "sometimes"}) == {
        "param:threshold": "choose one of input, rest"
    }


def test_runs_that_would_show_nothing_are_told():
    """Issue 12: graded dt = 1, record every 1e9, a start after the end, amplitude 1e12."""
    assert form_errors(dt="1", duration="5") == {
        "dt": "1 s is too coarse: at most 0.01 s (a tenth of the membrane time constant C/Gc "
        "= 0.1 s); the default is 0.0001 s"
    }
    assert form_errors(record="1e9") == {
        "record": "record every 1,000,000,000 steps of 50,000 gives 1 samples; at least 10 are "
        "needed to plot: record every 5,555 steps or fewer"
    }
    assert form_errors(dt="0.01", duration="0.05") == {
        "dt": "0.05 / 0.01 is only 5 steps; at least 9 are needed to plot: use a smaller dt"
    }
    assert form_errors(rows=[row(0, start="6")]) == {
        "stim:0:start": "starts at 6, after the run ends at 5: start earlier or lengthen the run"
    }
    assert form_errors(rows=[row(0, amp="1e12")]) == {
        "stim:0:amp": "1e+12 pA is beyond the limit of ±100000 pA"
    }
    assert form_errors(model="ltc", rows=[row(0, amp="-5000")]) == {
        "stim:0:amp": "-5000 is beyond the limit of ±1000"
    }
    parse(rows=[row(0, amp="-100000", start="4.9")], dt="0.01", duration="5")  # the bounds


def test_names_limits_and_ablation_are_checked_against_the_source():
    with pytest.raises(sp.FormError) as info:
        sp.check_request(COOK, parse(ablate="AVX, PVC"))
    assert info.value.errors == {
        "ablate": "unknown neuron 'AVX' in cook2019; did you mean AVA, AVB, AVD?"
    }
    with pytest.raises(sp.FormError) as info:
        sp.check_request(COOK, parse(ablate="plm"))
    assert info.value.errors == {
        "stim:0:target": "unknown neuron 'PLM' in cook2019 (it was ablated before compiling)"
    }
    rows = [row(0, "AVLA"), row(3, target=None), row(4, "pln")]
    assert sp.check_names(COOK, rows, "AVA") == {
        "stim:0:target": "unknown neuron 'AVLA' in cook2019; did you mean AVAL, ALA, AVA?"
    }
    with pytest.raises(sp.FormError) as info:
        sp.check_request(COOK, parse(duration="1000"))
    (msg,) = info.value.errors.values()
    assert list(info.value.errors) == ["duration"]
    assert "302 neurons x 10,000,000 steps" in msg and f"{sp.MAX_NEURON_STEPS:.3g}" in msg
    with pytest.raises(sp.FormError) as info:
        sp.check_request(COOK, parse(duration="10", record="1"))
    assert list(info.value.errors) == ["record"]
    assert f"the limit is {sp.MAX_RECORDED_VALUES:.3g}" in info.value.errors["record"]
    everything = " ".join(connectome.load("varshney2011").neurons.index)
    with pytest.raises(sp.FormError) as info:
        sp.check_request(VARSHNEY, parse(ablate=everything))
    assert info.value.errors == {"ablate": "nothing left to simulate: every neuron is ablated"}


def test_runs_are_the_simulators_and_cached_by_content():
    form = parse(duration="0.5", ablate="AVA")
    request = sp.check_request(COOK, form)
    assert request.ablate == ("AVAL", "AVAR") and request.n_steps == 5000
    hits = sp.compiled.cache_info().hits
    again = sp.check_request(COOK, parse(duration="0.5", ablate="AVAR, avaL"))
    assert again == request and hash(again) == hash(request)
    assert sp.compiled.cache_info().hits > hits
    assert sp.compiled(COOK, "graded", (), request.ablate) is sp.compiled(
        COOK, "graded", (), ("AVAL", "AVAR")
    )
    result = sp.simulated(request)
    assert sp.simulated(again) is result
    ref = simulate(
        compile_circuit(connectome.load("cook2019"), "graded", ablate=["AVA"]),
        step("PLM", 2000.0),
        duration=0.5,
        record_every=10,
    )
    assert result.names == ref.names
    np.testing.assert_array_equal(result.V, ref.V)
    # a changed parameter is another compiled circuit, with that parameter
    other = sp.check_request(COOK, parse(duration="0.5", params={"gsyn": "50"}))
    assert other.params == (("gsyn", 50.0),)
    assert sp.compiled(COOK, "graded", other.params, ()).params.gsyn == 50.0


def browser_json(data):
    """``data`` after a trip to the browser and back (Dash's encoder: inf becomes null)."""
    return json.loads(to_json_plotly(data))


def test_request_round_trip_and_changed_circuit():
    request = sp.check_request(
        COOK, parse(duration="0.5", rows=[row(0, kind="sine", amp="3", stop="", phase="0.1")])
    )
    data = browser_json(request.to_json())
    assert sp.Request.from_json(data) == request
    circuit = connectome.presets.tap_withdrawal(connectome.load("cook2019"))
    wiring = wiring_io.to_dict(circuit)
    source = sp.circuit_source(wiring)
    request = sp.check_request(source, parse(duration="0.5"))
    data = browser_json(request.to_json())
    assert len(json.dumps(data)) < 1000  # the wiring stays out of the browser's store
    assert sp.Request.from_json(data, wiring) == request
    changed = dict(wiring, synapses=wiring["synapses"][:-1])
    with pytest.raises(SimulationError, match="circuit changed"):
        sp.Request.from_json(data, changed)
    # a class-level circuit: its PLM is one node, and its motor neurons are its roles
    result = sp.simulated(request)
    assert sp.stimulated_neurons(result, request) == ["PLM"]
    assert sp.motor_neurons(result.circuit) == circuit.motor


def test_ltc_on_the_whole_connectome_rests_and_a_zero_stimulus_gives_no_response():
    form = sp.default_form("ltc")
    assert form["params"]["w_scale"] == "0.005"  # not ncps's 0.1, which saturates 302 neurons
    zero = sp.check_request(COOK, parse("ltc", rows=[row(0, amp="0")]))
    result = sp.simulated(zero)
    assert np.abs(result.V).max() < 0.2  # rests near vleak = 0, far from the +-1 reversals
    assert np.abs(result.V - result.V[0]).max() < 1e-9  # starts at its rest: nothing moves
    summary = response_summary(result, onset=0.0)
    assert summary["latency"].isna().all() and np.abs(summary["peak"]).max() < 1e-9
    one = sp.simulated(sp.check_request(COOK, parse("ltc", rows=[row(0, amp="1", start="10")])))
    np.testing.assert_array_equal(one.V[0], result.V[0])
    size = sp.response_size(one, 10.0)
    assert size[one.indices(["PLML"])[0]] > 0.1 and (size > 0.01).sum() > 50  # attributable


def test_default_traces_and_response_size():
    request = sp.check_request(COOK, parse(duration="0.5", rows=[row(0, start="0.1")]))
    result = sp.simulated(request)
    assert sp.onset_of(result, request) == 0.1
    size = sp.response_size(result, 0.1)
    summary = response_summary(result, onset=0.1)
    np.testing.assert_allclose(size, summary["peak"].abs().to_numpy(), rtol=1e-6)
    picks = sp.default_traces(result.names, size, ["PLML", "PLMR"])
    assert picks[:2] == ["PLML", "PLMR"] and len(picks) == sp.N_TRACES
    rest = summary.drop(index=["PLML", "PLMR"])["peak"].abs()
    assert set(picks[2:]) == set(rest.nlargest(sp.N_TRACES - 2).index)


def test_plm_preset_analysis_is_sim_analysis():
    form = sp.preset_form("plm")
    assert form["dataset"] == "varshney2011"
    fields = {k: form[k] for k in ("duration", "dt", "record")}
    parsed = sp.read_form("graded", form["params"], form["rows"], "", **fields)
    assert dict(parsed["params"]) == {"signs": "kunert2014"}  # the paper's inhibitory set
    request = sp.check_request(VARSHNEY, parsed)
    result = sp.simulated(request)
    assert result.circuit.params.signs == "kunert2014"
    info = sp.analyse(result, request)
    motor = info["motor"]
    assert {result.circuit.neurons.loc[n, "class"] for n in motor} <= set(sp.VENTRAL_CORD)
    osc = oscillation_summary(result, motor, start=info["window"])
    assert info["period"].period == osc.period and 0.5 < osc.period < 3.0
    assert info["pca"].explained[0] == osc.explained[0]
    assert info["stimulated"] == ["PLML", "PLMR"] and info["onset"] == 0.0
    pd.testing.assert_frame_equal(info["summary"], response_summary(result, onset=0.0))
    text = sp.summary_csv(result, request)
    table = pd.read_csv(pd.io.common.StringIO(text), index_col=0)
    assert table.loc["PLML", "stimulated"] and not table.loc["AVAL", "stimulated"]
    np.testing.assert_allclose(table["peak"], info["summary"]["peak"], rtol=1e-5)
    csv = sp.traces_csv(result)
    head = csv.splitlines()[0].split(",")
    assert head[0] == "t (s)" and head[1] == f"{result.names[0]} (mV)"
    assert len(csv.splitlines()) == len(result.t) + 1


def test_plm_preset_traces_are_cord_motor_neurons_from_the_fixed_point():
    form = sp.preset_form("plm")
    assert (form["traces"], form["reference"]) == ("cord", "fixed")
    fields = {k: form[k] for k in ("duration", "dt", "record")}
    request = sp.check_request(
        VARSHNEY, sp.read_form("graded", form["params"], form["rows"], "", **fields)
    )
    result = sp.simulated(request)
    picks = sp.cord_traces(result)
    classes = result.circuit.neurons.loc[picks, "class"]
    assert len(picks) == sp.N_TRACES and list(classes[:4]) == list(sp.CORD_AB)
    ref, label = sp.trace_reference(result, request, "fixed")
    assert label == "V − fixed point"
    # the reference is the network's fixed point under the input: started there, it stays
    still = simulate(
        result.circuit, step("PLM", 2000.0), duration=0.5, record_every=50, initial=ref
    )
    assert np.abs(still.V - ref).max() < 1e-6 * np.abs(ref).max()
    # the motor neurons swing about it by millivolts; PLM sits volts above rest
    late = result.V[result.t > 3.0][:, result.indices(picks)] - ref[result.indices(picks)]
    assert 1.0 < np.ptp(late, axis=0).min() and np.abs(late.mean(axis=0)).max() < 50.0
    assert result.V[-1, result.indices(["PLML"])[0]] > 1000.0
    fig = sp_results().traces(result, picks, ["PLML"], "r", True, ref, label)
    idx = result.indices(picks)
    _, want = decimate(result.t, result.V[:, idx] - ref[idx].astype(np.float32))
    np.testing.assert_allclose(fig.data[0].y, want[:, 0], rtol=1e-5, atol=1e-4)
    assert fig.layout.title.text.startswith("V − fixed point")


def sp_results():
    from webapp.figures import results

    return results


@pytest.mark.parametrize("name", sorted(sp.PRESETS))
def test_presets_are_valid_experiments(name):
    form = sp.preset_form(name, "cook2019")
    fields = {k: form[k] for k in ("duration", "dt", "record")}
    parsed = sp.read_form(form["model"], form["params"], form["rows"], "", **fields)
    request = sp.check_request(sp.dataset_source(form["dataset"]), parsed)
    assert request.stimuli and "doi:" in form["note"]


def test_ava_and_ase_presets_show_what_their_notes_say():
    def peaks(name):
        form = sp.preset_form(name, "cook2019")
        fields = {k: form[k] for k in ("duration", "dt", "record")}
        parsed = sp.read_form("graded", form["params"], form["rows"], "", **fields)
        request = sp.check_request(COOK, parsed)
        result = sp.simulated(request)
        return response_summary(result, onset=sp.onset_of(result, request))["peak"]

    ava = peaks("ava")  # A-type motor neurons depolarise more than B-type ones
    classes = connectome.load("cook2019").neurons["class"]
    mean = ava.groupby(classes.loc[ava.index]).mean()
    assert min(mean["VA"], mean["DA"]) > 2 * max(mean["VB"], mean["DB"]) > 0
    ase = peaks("ase")  # a salt up-step: ASEL (ON) depolarised, ASER (OFF) hyperpolarised
    assert ase["ASEL"] > 0 > ase["ASER"]


def test_layout_reads_the_query():
    from webapp.pages import simulate as simulate_page

    def ids(component, found=None):
        found = {} if found is None else found
        if getattr(component, "id", None) is not None:
            found[json.dumps(component.id, sort_keys=True)] = component
        children = getattr(component, "children", None)
        for child in children if isinstance(children, list | tuple) else [children]:
            if hasattr(child, "to_plotly_json"):
                ids(child, found)
        return found

    page = ids(simulate_page.layout())
    assert page['"simulate-duration"'].value == "5"
    assert page['"simulate-dataset"'].value == "cook2019"
    page = ids(simulate_page.layout(preset="plm"))
    assert page['"simulate-dataset"'].value == "varshney2011"
    assert page['"simulate-duration"'].value == "8"
    page = ids(
        simulate_page.layout(stim="AVA:sine:amp=5,freq=2;PLM:step", ablate="PVC", model="ltc")
    )
    key = json.dumps({"index": 0, "key": "freq", "type": "simulate-stim-par"}, sort_keys=True)
    assert page[key].value == "2"
    target = json.dumps({"index": 1, "type": "simulate-stim-target"}, sort_keys=True)
    assert page[target].value == "PLM"
    assert page['"simulate-ablate"'].value == "PVC" and page['"simulate-dt"'].value == "1"
    assert isinstance(page['"simulate-page"'], html.Div)


def test_apps_register_the_page_twice():
    from webapp.app import create_app

    maps = [create_app().callback_map for _ in range(2)]
    for callbacks in maps:
        outputs = " ".join(callbacks)
        for prop in ("simulate-result.data", "simulate-heatmap.figure",
                     "simulate-network.stylesheet", "simulate-download.data"):  # fmt: skip
            assert prop in outputs


def test_a_background_simulation_gives_the_run_of_the_request(tmp_path):
    """A long run is a background job in a fresh process: the result it leaves on disk is
    what running the request here gives, field by field, and the job reports its progress."""
    form = parse(duration="0.5", rows=[row(0, "PLM", "step", amp="2000")])
    request = sp.check_request(COOK, form)
    assert sp.neuron_steps(request) == len(sp.compiled(COOK, "graded", (), ()).names) * 5000
    assert not sp.is_long(request)  # 1.5 M neuron-steps: runs in the request
    path = sp.result_file(request)
    if os.path.exists(path):
        os.remove(path)
    sp.simulated.cache_clear()
    here = sp.simulated(request)
    seen = []
    out = sp.run_simulation(request, seen.append)
    assert out == {"kind": "result", "file": path}, out
    fractions = [m["fraction"] for m in seen]
    assert fractions[0] == 0.0 and fractions[-1] == 1.0 and fractions == sorted(fractions)
    sp.simulated.cache_clear()
    there = sp.simulated(request)  # read from the job's file
    assert there is not here
    np.testing.assert_array_equal(there.t, here.t)
    np.testing.assert_array_equal(there.V, here.V)
    np.testing.assert_array_equal(there.final_state, here.final_state)
    assert there.V.dtype == np.float32
    for name in ("names", "model", "params", "dt", "record_every"):
        assert getattr(there, name) == getattr(here, name), name
    assert repr(there.stimulus) == repr(here.stimulus)  # Stimulus compares by identity
    assert there.circuit is here.circuit
    os.remove(path)
    sp.simulated.cache_clear()


def test_a_stored_result_is_keyed_on_the_simulators_code_too(tmp_path):
    """A changed simulator never gets an older simulator's stored result: the file's name
    carries the digest of the code (a copy of this tree: same digest; one byte of sim/
    changed: another)."""
    import shutil
    from pathlib import Path

    top = Path(sp.__file__).resolve().parents[1]
    for name in (*sp.RESULT_CODE, "webapp"):
        shutil.copytree(top / name, tmp_path / name,
                        ignore=lambda d, names: [n for n in names if n == "__pycache__" or (
                            not n.endswith(".py") and not (Path(d) / n).is_dir())])  # fmt: skip
    assert sp.source_digest(tmp_path) == sp.code_digest()
    kernels = tmp_path / "sim" / "kernels.py"
    kernels.write_text(kernels.read_text() + "\n# a change\n")
    assert sp.source_digest(tmp_path) != sp.code_digest()
    request = sp.check_request(COOK, parse(duration="0.01"))
    source = hashlib.sha256(request.source.encode()).hexdigest()
    request_only = json.dumps({**request.to_json(), "source": source}, sort_keys=True)
    name = hashlib.sha256(request_only.encode()).hexdigest() + ".npz"
    assert os.path.basename(sp.result_file(request)) != name  # not the request's alone


def test_a_background_request_past_the_forms_bounds_is_refused():
    # the form bounds currents (MAX_CURRENT); a request built past it (as a forged
    # simulate-job store would be) is refused by the job with the form's own message
    form = dict(parse(duration="0.01"), stimuli=(("PLM", "step", (("amp", 1e308),)),))
    request = sp.check_request(COOK, form)
    out = sp.run_simulation(request, lambda msg: None)
    assert out["kind"] == "error" and "beyond the limit of" in out["text"], out
    assert not os.path.exists(sp.result_file(request))

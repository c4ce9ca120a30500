"""The Simulate page's Body view logic (webapp.simulation): presets, bounds, the body of a run
driven in the request or left by the background job, and the page without ElegansBot.

Everything runs the real network and the real ElegansBot (in the ``test`` extra) on short
runs; the references are :func:`sim.body.drive_body` and :func:`sim.body.simulate_body`.
"""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import connectome
from connectome.errors import SimulationError
from connectome.limits import MAX_BODY_STEPS
from sim.body import PRESETS as BODY_PRESETS
from sim.body import BodyParams, drive_body, simulate_body
from sim.stimulus import parse_stimulus
from webapp import simulation as sp

ROOT = Path(__file__).resolve().parents[1]


def body_request(key="plm", **fields):
    """The page's request of a body preset, with form fields changed (text, as typed)."""
    form = sp.preset_form(f"body_{key}")
    form.update(fields)
    parts = {k: form[k] for k in ("duration", "dt", "record")}
    parsed = sp.read_form(form["model"], form["params"], form["rows"], "", **parts)
    return sp.check_request(sp.dataset_source(form["dataset"]), parsed)


@pytest.mark.parametrize("key", sorted(BODY_PRESETS))
def test_body_presets_are_sim_bodys(key):
    form = sp.preset_form(f"body_{key}")
    assert form["body"] and form["dataset"] == "varshney2011" and form["duration"] == "5"
    assert sp.PRESETS[f"body_{key}"]["label"] == BODY_PRESETS[key]["label"]
    request = body_request(key)
    want = [parse_stimulus(s) for s in BODY_PRESETS[key]["stimuli"]]
    got = [sp.Stimulus(t, k, dict(ps)) for t, k, ps in request.stimuli]
    assert [(s.target, s.kind, dict(s.params)) for s in got] == [
        (s.target, s.kind, dict(s.params)) for s in want
    ]
    sp.check_body(request, "agar")  # within the bounds
    assert sp.is_long_body(request) and sp.body_steps(request) == 100_000
    assert not sp.preset_form("plm")["body"]


def test_body_bounds_name_the_field():
    with pytest.raises(sp.FormError) as err:
        sp.check_body(body_request(duration="10.5"), "agar")
    assert set(err.value.errors) == {"duration"}
    assert f"{MAX_BODY_STEPS:,}" in err.value.errors["duration"] and "210,000" in str(err.value)
    sp.check_body(body_request(duration="10"), "agar")  # the limit itself is allowed
    with pytest.raises(sp.FormError) as err:  # recorded every 20 ms
        sp.check_body(body_request(record="200"), "agar")
    assert set(err.value.errors) == {"record"} and "0.02 s" in err.value.errors["record"]
    with pytest.raises(sp.FormError) as err:  # 30 µs: not a whole number of 50 µs steps
        sp.check_body(body_request(dt="0.00003", record="1", duration="0.3"), "agar")
    assert set(err.value.errors) == {"record"}
    for bad in ("ice", None, ["agar"], "x" * 1000):
        with pytest.raises(sp.FormError) as err:
            sp.check_body(body_request(), bad)
        assert set(err.value.errors) == {"body"} and len(err.value.errors["body"]) < 120


def test_a_short_body_is_driven_here_exactly_as_the_api_does():
    request = body_request("plm", duration="0.4")
    assert not sp.is_long_body(request) and not sp.is_long(request)
    sp.body_result.cache_clear()
    worm = sp.body_result(request, "water")
    net = connectome.load("varshney2011")
    _, ref = simulate_body(net, list(BODY_PRESETS["plm"]["stimuli"]), duration=0.4, dt=1e-4,
                           record_every=10, body=BodyParams(friction="water"))  # fmt: skip
    for name in ("t", "xy", "centroid", "velocity", "angles", "target", "activation"):
        np.testing.assert_array_equal(getattr(worm, name), getattr(ref, name), err_msg=name)
    assert worm.params == ref.params and sp.body_verdict(worm) == sp.body_verdict(ref)


def test_the_simulation_job_drives_the_body_and_the_page_reads_it(tmp_path):
    request = body_request("avb", duration="0.6")
    sp.body_result.cache_clear()
    for f in (sp.result_file(request), sp.body_file(request, "agar")):
        if os.path.exists(f):
            os.remove(f)
    with pytest.raises(SimulationError, match="press Run"):
        sp.body_result(request, "agar", here=False)  # no job yet, and not driven here
    messages = []
    config = {"request": request.to_json(), "source": request.source, "body": "agar"}
    out = sp.simulation_job(config, messages.append, lambda: False)
    assert out["body"] == sp.body_file(request, "agar") and os.path.exists(out["body"])
    assert {"kind": "phase", "text": "driving the body on agar"} in messages
    sp.body_result.cache_clear()
    stored = sp.body_result(request, "agar", here=False)
    ref = drive_body(sp.simulated(request), body=BodyParams(friction="agar"))
    for name in ("t", "xy", "centroid", "velocity", "angles", "target", "activation"):
        np.testing.assert_array_equal(getattr(stored, name), getattr(ref, name), err_msg=name)
    assert stored.control_dt == ref.control_dt == 1e-3 and stored.missing == ref.missing
    assert sp.body_file(request, "water") != out["body"]
    with pytest.raises(SimulationError, match="press Run"):
        sp.body_result(request, "water", here=False)
    with pytest.raises(sp.FormError):  # a friction from the browser is checked in the job too
        sp.simulation_job({**config, "body": "ice"}, messages.append, lambda: False)


def test_without_elegansbot_the_view_says_how_to_install_it():
    code = """
import sys
sys.modules["elegansbot"] = None  # as if not installed: importing it raises ImportError
from webapp import simulation as sp
from webapp.pages import simulate
page = str(simulate.layout(preset="body_plm").to_plotly_json())
assert not sp.body_available()
assert sp.BODY_MISSING in page and "pip install 'wormlab[body]'" in sp.BODY_MISSING
form = sp.preset_form("body_plm")
parsed = sp.read_form("graded", form["params"], form["rows"], "", "0.4", "0.0001", "10")
request = sp.check_request(sp.dataset_source("varshney2011"), parsed)
try:
    sp.check_body(request, "agar")
except sp.FormError as err:
    assert err.errors == {"body": sp.BODY_MISSING}, err.errors
else:
    raise SystemExit("check_body ran without ElegansBot")
print("ok")
"""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]

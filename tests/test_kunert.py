"""Kunert, Shlizerman & Kutz 2014 (doi:10.1103/PhysRevE.89.052805) on Varshney 2011: the
network rests at its fixed point without input, and a constant current into PLML and PLMR drives
the ventral cord motor neurons into a sustained oscillation dominated by two modes."""

import numpy as np
import pytest

import connectome
from sim.analysis import oscillation_summary
from sim.compiler import compile_circuit
from sim.runner import simulate
from sim.stimulus import step

MOTOR = ["VA", "VB", "DA", "DB", "VD", "DD", "AS"]


@pytest.fixture(scope="module")
def circuit():
    return compile_circuit(connectome.load("varshney2011"), "graded")


def test_no_input_rests_at_fixed_point(circuit):
    r = simulate(circuit, duration=3.0, record_every=10)
    assert np.abs(r.V - r.V[0]).max() < 1e-3  # mV
    assert np.all(np.isfinite(r.final_state))


def test_plm_current_drives_two_mode_oscillation(circuit):
    r = simulate(circuit, step("PLM", 2000.0), duration=12.0, record_every=10)
    osc = oscillation_summary(r, MOTOR, start=4.0)
    assert osc.strength > 0.9, "no clear dominant period"
    assert 0.5 < osc.period < 3.0
    assert sum(osc.explained[:2]) > 0.9 and osc.explained[2] < 0.05
    assert osc.amplitude > 5.0  # mV: a real oscillation, not numerical ripple
    # sustained: the last window swings as much as the one before it
    early = oscillation_summary(r, MOTOR, start=4.0, stop=8.0)
    late = oscillation_summary(r, MOTOR, start=8.0, stop=12.0)
    assert late.amplitude_pc[0] == pytest.approx(early.amplitude_pc[0], rel=0.1)

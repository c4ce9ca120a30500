"""Lesion screens (sim.screens) and the sweep/screen command lines.

The reference: Kunert, Shlizerman & Kutz 2014 (doi:10.1103/PhysRevE.89.052805) on Varshney
2011: 2000 pA into PLML and PLMR drives the motor neurons into an oscillation, and ablating PVC
stops it."""

import json

import numpy as np
import pandas as pd
import pytest

import connectome
import sim
from connectome.errors import SimulationError
from sim.__main__ import main
from sim.analysis import oscillation_summary
from sim.screens import rank, screen_spec

MOTOR = ["VA", "VB", "DA", "DB", "VD", "DD", "AS"]
PLM = "PLM:step:amp=2000"


@pytest.fixture(scope="module")
def varshney():
    return connectome.load("varshney2011")


@pytest.fixture(scope="module")
def kunert_screen():
    return sim.screen(
        "varshney2011", PLM, candidates=["PVC", "AVBL", "DVA"], neurons=MOTOR, duration=10.0,
        start=4.0, record_every=10,
    )  # fmt: skip


def test_ablating_pvc_stops_the_plm_oscillation(kunert_screen):
    base = kunert_screen.attrs["baseline"]
    assert base["strength"] > 0.9 and 0.5 < base["period"] < 3.0 and base["amplitude"] > 5.0
    verdict = dict(zip(kunert_screen["ablate"], kunert_screen["verdict"], strict=True))
    assert verdict["PVC"] == "stops"
    assert kunert_screen["ablate"].iloc[0] == "PVC"  # ranked first: the largest drop
    pvc = kunert_screen.set_index("ablate").loc["PVC"]
    assert pvc["strength"] < 0.5 and pvc["amplitude"] < 1.0
    assert set(kunert_screen["ablate"]) == {"PVC", "AVBL", "DVA"}


def test_screen_rows_equal_one_by_one_runs(kunert_screen, varshney):
    rows = kunert_screen.set_index("ablate")
    for ablate in ("PVC", "AVBL"):
        r = sim.simulate(varshney, PLM, duration=10.0, record_every=10, ablate=[ablate])
        osc = oscillation_summary(r, MOTOR, start=4.0)
        got = rows.loc[ablate, ["period", "strength", "amplitude"]].to_numpy(float)
        want = [osc.period, osc.strength, osc.amplitude]
        assert np.array_equal(got, want, equal_nan=True), (ablate, got, want)
    r = sim.simulate(varshney, PLM, duration=10.0, record_every=10)
    osc = oscillation_summary(r, MOTOR, start=4.0)
    base = kunert_screen.attrs["baseline"]
    assert (base["period"], base["strength"], base["amplitude"]) == (
        osc.period, osc.strength, osc.amplitude,
    )  # fmt: skip
    assert rows.loc["AVBL", "d_period"] == rows.loc["AVBL", "period"] - osc.period


def test_screen_points():
    spec = screen_spec("varshney2011", PLM, pairs=["AVA", "AVB", "PVC"], duration=1.0)
    assert spec.axes == ("ablate",)
    assert spec.points == (((),), (("AVA", "AVB"),), (("AVA", "PVC"),), (("AVB", "PVC"),))
    neurons = screen_spec("varshney2011", PLM, duration=1.0)
    assert len(neurons.points) == 1 + len(connectome.load("varshney2011").neurons)
    classes = screen_spec("varshney2011", PLM, level="class", ablate="PVC", duration=1.0)
    table = connectome.load("varshney2011").neurons
    left = table.drop(index=["PVCL", "PVCR"])["class"].unique()
    assert [p[0] for p in classes.points[1:]] == [(c,) for c in left]
    with pytest.raises(SimulationError, match="at least two"):
        screen_spec("varshney2011", PLM, pairs=["AVA"])


def test_rank_verdicts():
    table = pd.DataFrame(
        {
            "point": [0, 1, 2, 3, 4, 5],
            "ablate": ["", "A", "B", "C", "D", "E"],
            "period": [1.0, np.nan, 1.2, 1.01, 1.0, np.nan],
            "strength": [0.99, 0.1, 0.98, 0.99, 0.99, np.nan],
            "amplitude": [20.0, 0.01, 19.0, 20.5, 40.0, np.nan],
            "error": ["", "", "", "", "", "SimulationError: x"],
        }
    )
    ranked = rank(table)
    assert ranked["ablate"].tolist() == ["A", "B", "D", "C", "E"]
    assert ranked["verdict"].tolist() == ["stops", "shifts period", "amplitude", "", "error"]
    assert ranked["rel_period"].iloc[1] == pytest.approx(0.2)
    with pytest.raises(SimulationError, match="baseline"):
        rank(table.iloc[1:])


# ------------------------------------------------------------------ command lines
def test_sweep_cli_writes_a_resumable_table(tmp_path, capsys):
    out = tmp_path / "amp.parquet"
    argv = [
        "sweep", "--dataset", "varshney2011", "--stim", PLM, "--axis", "stim.0.amp=0:2000:3",
        "--metric", "mean:AVBL,ptp:AVBL", "--duration", "0.1", "--out", str(out),
        "--csv", str(tmp_path / "amp.csv"), "--quiet",
    ]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "3 points, 0 failed" in text
    table = pd.read_parquet(out)
    assert sorted(table["point"]) == [0, 1, 2]
    csv = pd.read_csv(tmp_path / "amp.csv")
    assert csv["stim.0.amp"].tolist() == [0.0, 1000.0, 2000.0]
    api = sim.sweep(
        "varshney2011", PLM, grid={"stim.0.amp": [0.0, 1000.0, 2000.0]},
        metrics=["mean:AVBL", "ptp:AVBL"], duration=0.1,
    )  # fmt: skip
    assert csv["mean:AVBL"].tolist() == pytest.approx(api["mean:AVBL"].tolist(), rel=1e-12)
    assert main(argv) == 0  # rerun: every chunk is already there
    assert "3 points, 0 failed" in capsys.readouterr().out


def test_sweep_cli_reads_a_toml_spec(tmp_path, capsys):
    spec = tmp_path / "s.toml"
    spec.write_text(
        'dataset = "varshney2011"\nstimulus = ["PLM:step:amp=2000"]\nduration = 0.05\n'
        'metrics = ["mean:AVAL"]\n[grid]\ngsyn = [50.0, 100.0]\n'
    )
    assert main(["sweep", "--spec", str(spec), "--quiet", "--csv", str(tmp_path / "s.csv")]) == 0
    assert pd.read_csv(tmp_path / "s.csv")["gsyn"].tolist() == [50.0, 100.0]
    bad = tmp_path / "b.json"
    bad.write_text(json.dumps({"dataset": "varshney2011", "grid": {"gsyn": []}}))
    assert main(["sweep", "--spec", str(bad)]) == 2
    assert "axis 'gsyn' has no values" in capsys.readouterr().err


def test_cli_errors_are_one_line(capsys):
    argv = ["sweep", "--dataset", "varshney2011", "--axis", "ablate=none,PVCX", "--duration", "1"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown neuron 'PVCX'") and "PVC" in err
    assert main(["screen", "--dataset", "varshney2011", "--pairs", "AVA", "--duration", "1"]) == 2
    assert "at least two" in capsys.readouterr().err


def test_screen_cli(capsys):
    argv = [
        "screen", "--dataset", "varshney2011", "--stim", PLM, "--candidates", "PVC,DVA",
        "--neurons", ",".join(MOTOR), "--duration", "2", "--start", "0.5", "--quiet",
    ]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert text.startswith("baseline: period")
    assert "PVC" in text and "DVA" in text

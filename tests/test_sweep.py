"""Sweeps (sim.sweeps): rows against one-by-one sim.simulate runs, failing points, bad specs,
resumed output, and the same table on a real dask LocalCluster (also after a killed worker)."""

import os
import signal

import numpy as np
import pandas as pd
import pytest

import connectome
import sim
from connectome.errors import SimulationError, UnknownNeuronError, WormlabError
from sim.analysis import oscillation_summary
from sim.sweeps import plan, sweep_spec

MOTOR = ["VA", "VB", "DA", "DB", "VD", "DD", "AS"]


def avb_swing(result):
    """A user metric: AVBL's peak-to-peak range over the whole run (mV)."""
    return float(np.ptp(result.trace("AVBL")))


@pytest.fixture(scope="module")
def varshney():
    return connectome.load("varshney2011")


# ------------------------------------------------------------------ against sim.simulate
def test_parameter_sweep_equals_one_by_one_runs(varshney):
    grid = {"gsyn": [50.0, 100.0], "E_inh": [-45.0, -48.0]}
    df = sim.sweep(
        "varshney2011", "PLM:step:amp=2000", grid=grid, duration=0.3, record_every=5,
        metrics=["mean:AVBL", "ptp:DB1", "peak:AVAL", avb_swing], start=0.1,
    )  # fmt: skip
    assert df.columns.tolist() == [
        "point", "gsyn", "E_inh", "mean:AVBL", "ptp:DB1", "peak:AVAL", "avb_swing", "error",
    ]  # fmt: skip
    assert df["point"].tolist() == [0, 1, 2, 3]
    assert df[["gsyn", "E_inh"]].values.tolist() == [
        [50.0, -45.0], [50.0, -48.0], [100.0, -45.0], [100.0, -48.0],
    ]  # fmt: skip
    for row in df.itertuples(index=False):
        params = sim.default_params("graded", gsyn=row.gsyn, E_inh=row.E_inh)
        cc = sim.compile_circuit(varshney, "graded", params)
        r = sim.simulate(cc, "PLM:step:amp=2000", duration=0.3, record_every=5)
        late = r.t >= 0.1
        # one parameter set per point: each runs alone, exactly as sim.simulate does
        assert row[3] == float(r.trace("AVBL")[late].astype(np.float64).mean())
        assert row[4] == float(np.ptp(r.trace("DB1")[late].astype(np.float64)))
        assert row[5] == float(sim.response_summary(r, "AVAL")["peak"].iloc[0])
        assert row[6] == avb_swing(r)
        assert row.error == ""


def test_amplitude_sweep_shares_a_network_and_matches_runs(varshney):
    amps = [0.0, 1000.0, 2000.0, 3000.0, 4000.0]
    spec = sweep_spec(
        "varshney2011", "PLM:step:amp=2000", grid={"ablate": ["", "PVC"], "stim.0.amp": amps},
        duration=0.3, record_every=5, metrics=["mean:AVBL", "ptp:AVBL"], lanes=2,
    )  # fmt: skip
    chunks = plan(spec)
    assert [c.points for c in chunks] == [(0, 1, 2, 3, 4), (5, 6, 7, 8, 9)]
    df = sim.sweep(spec=spec)
    assert df["ablate"].tolist() == [""] * 5 + ["PVC"] * 5
    for row in df.itertuples(index=False):
        ablate = [row.ablate] if row.ablate else []
        r = sim.simulate(
            varshney, f"PLM:step:amp={row[2]}", duration=0.3, record_every=5, ablate=ablate
        )
        v = r.trace("AVBL")[r.t >= 0.1].astype(np.float64)
        # batched side by side: the same model, summed in another order
        assert row[3] == pytest.approx(v.mean(), rel=1e-6, abs=1e-6)
        assert row[4] == pytest.approx(np.ptp(v), rel=1e-4, abs=1e-5)
    assert df.loc[df["stim.0.amp"] == 0.0, "ptp:AVBL"].max() < 1e-3  # no input: at rest


# ------------------------------------------------------------------ failures and bad specs
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_failing_points_get_rows_with_their_error(varshney):
    def explode(result):
        raise RuntimeError("metric bug")

    points = [
        {"gsyn": 100.0, "stim.0.amp": 2000.0},
        {"gsyn": -1.0, "stim.0.amp": 2000.0},  # out of range
        {"gsyn": 100.0, "stim.0.amp": 1e306},  # diverges, in one batch with point 0
    ]
    df = sim.sweep(
        "varshney2011", "PLM:step:amp=2000", points=points, duration=0.05, metrics=["mean:AVBL"]
    )
    assert df["error"].iloc[0] == ""
    assert "gsyn = -1.0 must be >= 0" in df["error"].iloc[1]
    assert df["error"].iloc[2].startswith("DivergenceError: simulation diverged")
    assert np.isnan(df["mean:AVBL"].iloc[1]) and np.isnan(df["mean:AVBL"].iloc[2])
    r = sim.simulate(varshney, "PLM:step:amp=2000", duration=0.05, record_every=20)
    assert df["mean:AVBL"].iloc[0] == float(r.trace("AVBL")[r.t >= 0.05 / 3].astype(float).mean())
    bad = sim.sweep("varshney2011", (), grid={"gsyn": [100.0]}, duration=0.01, metrics=[explode])
    assert bad["error"].tolist() == ["RuntimeError: metric bug"]


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"grid": {"ablate": ["AVA", "PVCX"]}}, UnknownNeuronError, ["PVCX", "PVC", "ablation"]),
        ({"grid": {}}, SimulationError, ["grid is empty"]),
        ({"grid": {"gsyn": []}}, SimulationError, ["'gsyn' has no values"]),
        ({}, SimulationError, ["no points"]),
        ({"grid": {"gsyn2": [1.0]}}, SimulationError, ["unknown axis 'gsyn2'", "gsyn"]),
        ({"grid": {"gsyn": [1.0]}, "params": {"Gx": 1}}, SimulationError, ["'Gx'"]),
        ({"grid": {"stim.1.amp": [1.0]}}, SimulationError, ["1 stimuli"]),
        ({"grid": {"stim.0.freq": [1.0]}}, SimulationError, ["step stimulus has fields"]),
        ({"grid": {"gsyn": [1.0]}, "metrics": ["periodd"]}, SimulationError, ["'periodd'"]),
        ({"grid": {"gsyn": [1.0]}, "metrics": ["mean:XYZ"]}, UnknownNeuronError, ["XYZ"]),
        ({"grid": {"dataset": ["nope"]}}, WormlabError, ["nope"]),
    ],
)
def test_bad_specs_fail_before_any_work(tmp_path, kwargs, error, words):
    out = tmp_path / "never.parquet"
    with pytest.raises(error) as info:
        sim.sweep("varshney2011", "PLM:step:amp=2000", duration=0.01, out=out, **kwargs)
    for w in words:
        assert w in str(info.value)
    assert not out.exists()  # nothing was written: the spec was refused first


# ------------------------------------------------------------------ resuming
class Interrupt(Exception):
    pass


def test_resumed_sweep_equals_uninterrupted(tmp_path):
    spec = sweep_spec(
        "varshney2011", "PLM:step:amp=2000",
        grid={"ablate": ["", "AVBL", "DVA"], "stim.0.amp": [1000.0, 3000.0]},
        duration=0.2, metrics=["mean:AVBR", "ptp:AVBR"], chunk_size=1,
    )  # fmt: skip
    whole = sim.sweep(spec=spec)
    out = tmp_path / "part.parquet"
    seen = []

    def stop_after_two(fraction):
        seen.append(fraction)
        if len(seen) == 3:  # two of six chunks written
            raise Interrupt

    with pytest.raises(Interrupt):
        sim.sweep(spec=spec, out=out, progress=stop_after_two)
    assert len(list(out.glob("chunk-*.parquet"))) == 2
    again = []
    resumed = sim.sweep(spec=spec, out=out, progress=again.append)
    assert again[0] == pytest.approx(2 / 6)  # the two chunks were skipped, not rerun
    pd.testing.assert_frame_equal(resumed, whole, check_exact=True)
    # the directory reads as one table too
    assert len(pd.read_parquet(out)) == 6
    other = sweep_spec("varshney2011", (), grid={"gsyn": [1.0]}, duration=0.01)
    with pytest.raises(SimulationError, match="another sweep"):
        sim.sweep(spec=other, out=out)


# ------------------------------------------------------------------ dask
@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    from sim.distributed import local_cluster

    with (
        local_cluster(2, threads=1) as c,
        distributed.Client(c, timeout=300) as client,
    ):
        client.wait_for_workers(2, timeout=300)
        yield client


def _dask_spec(chunk_size):
    return sweep_spec(
        "varshney2011", "PLM:step:amp=2000",
        grid={"ablate": ["", "PVC", "AVBL"], "stim.0.amp": [1000.0, 2000.0, 3000.0, 4000.0]},
        duration=1.0, metrics=["period", "amplitude", "mean:AVBR", "ptp:AVBR"],
        neurons=MOTOR, start=0.3, lanes=2, chunk_size=chunk_size,
    )  # fmt: skip


def test_dask_equals_in_process_bit_for_bit(cluster):
    spec = _dask_spec(chunk_size=4)
    here = sim.sweep(spec=spec)  # this process: numba on every core
    there = sim.sweep(spec=spec, client=cluster)  # 2 workers, one numba thread each
    pd.testing.assert_frame_equal(there, here, check_exact=True)
    assert (here["error"] == "").all()


def test_killed_worker_still_gives_the_complete_equal_table(cluster):
    spec = _dask_spec(chunk_size=2)
    expected = sim.sweep(spec=spec)
    pids = cluster.run(os.getpid)
    victim = sorted(pids.values())[0]
    killed = []

    def kill_once(fraction):
        if not killed and 0 < fraction < 1:
            os.kill(victim, signal.SIGKILL)
            killed.append(fraction)

    got = sim.sweep(spec=spec, client=cluster, progress=kill_once)
    assert killed, "the worker was never killed mid-sweep"
    assert victim not in cluster.run(os.getpid).values()
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_sweep_runs_on_a_cluster_it_starts(tmp_path):
    pytest.importorskip("distributed")
    spec = sweep_spec(
        "varshney2011", "PLM:step:amp=2000", grid={"stim.0.amp": [500.0, 1500.0]},
        duration=0.1, metrics=["mean:AVBL"],
    )  # fmt: skip
    got = sim.sweep(spec=spec, workers=2, out=tmp_path / "w.parquet")
    pd.testing.assert_frame_equal(got, sim.sweep(spec=spec), check_exact=True)


def test_period_metric_is_the_oscillation_summary(varshney):
    df = sim.sweep(
        "varshney2011", "PLM:step:amp=2000", points=[{"stim.0.amp": 2000.0}], duration=6.0,
        record_every=10, neurons=MOTOR, start=2.0,
        metrics=["period", "strength", "amplitude", "amplitude_pc1", "modes2"],
    )  # fmt: skip
    r = sim.simulate(varshney, "PLM:step:amp=2000", duration=6.0, record_every=10)
    osc = oscillation_summary(r, MOTOR, start=2.0)
    row = df.iloc[0]
    assert (row["period"], row["strength"], row["amplitude"]) == (
        osc.period, osc.strength, osc.amplitude,
    )  # fmt: skip
    assert row["amplitude_pc1"] == osc.amplitude_pc[0]
    assert row["modes2"] == sum(osc.explained[:2])
    assert 0.5 < row["period"] < 3.0 and row["strength"] > 0.9


def test_should_stop_returns_the_rows_done():
    spec = sweep_spec(
        "varshney2011", "PLM:step:amp=2000", grid={"ablate": ["", "AVBL", "DVA"]},
        duration=0.01, metrics=["mean:AVBR"], chunk_size=1,
    )  # fmt: skip
    asked = []
    part = sim.sweep(spec=spec, should_stop=lambda: asked.append(1) or len(asked) == 2)
    assert part["point"].tolist() == [0, 1]
    pd.testing.assert_frame_equal(part, sim.sweep(spec=spec).iloc[:2], check_exact=True)


def test_dt_axis_runs_each_point_at_its_own_step(varshney):
    df = sim.sweep(
        "varshney2011", "PLM:step:amp=2000", grid={"dt": [1e-4, 5e-5, 7e-4]}, duration=0.03,
        metrics=["mean:AVBL"], record_every=1,
    )  # fmt: skip
    for dt, value in zip([1e-4, 5e-5], df["mean:AVBL"], strict=False):
        r = sim.simulate(varshney, "PLM:step:amp=2000", duration=0.03, dt=dt)
        assert value == float(r.trace("AVBL")[r.t >= 0.01].astype(np.float64).mean())
    assert "not a whole number of steps" in df["error"].iloc[2]
    with pytest.raises(SimulationError, match="dt is an axis"):
        sweep_spec("varshney2011", (), grid={"dt": [1e-4]}, dt=1e-4)

"""The Screen panel's non-page parts (webapp.screening, webapp.figures.screen), without a
browser: the spec of the page's request, the job with progress and cancel, the figures."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from connectome.errors import SimulationError
from webapp import screening
from webapp.figures import screen as figures
from webapp.simulation import Request, dataset_source


def plm_request(duration=0.02, dataset="varshney2011"):
    return Request(
        source=dataset_source(dataset),
        model="graded",
        params=(),
        stimuli=(("PLM", "step", (("amp", 2000.0),)),),
        ablate=(),
        duration=duration,
        dt=1e-4,
        record_every=10,
    )


def test_screen_spec_of_the_page_request():
    spec = screening.screen_spec_of(plm_request(), "screen", level="class")
    assert spec.source == "varshney2011" and spec.axes == ("ablate",)
    assert spec.points[0] == ((),) and ("PVC",) in [p[0] for p in spec.points]
    assert spec.neurons == ("VA", "VB", "DA", "DB", "VD", "DD", "AS", "VC")
    amp = screening.screen_spec_of(plm_request(), "amplitude", amplitudes=[0, 1000, 2000])
    assert amp.axes == ("stim.0.amp",) and amp.points == ((0.0,), (1000.0,), (2000.0,))
    assert len(screening.screen_spec_of(plm_request(dataset="cook2019")).points) == 303
    with pytest.raises(SimulationError, match="needs a stimulus"):
        screening.screen_spec_of(replace(plm_request(), stimuli=()), "amplitude", amplitudes=[1])
    with pytest.raises(SimulationError, match="neuron-steps"):
        screening.screen_spec_of(plm_request(duration=200.0), "screen")


def test_job_reports_progress_and_stops_on_cancel():
    spec = screening.screen_spec_of(plm_request(), "amplitude", amplitudes=[0, 1000, 2000, 3000,
                                    4000, 5000, 6000, 7000, 8000])  # fmt: skip
    shown = []
    table = screening.run_screen(spec, set_progress=shown.append, should_stop=lambda: True)
    assert len(table) == 4  # one chunk of four points, then cancelled
    assert shown[-1] == (44, 100, "4 of 9 points")
    stored = screening.table_to_store(table)
    back = screening.table_from_store(stored)
    pd.testing.assert_frame_equal(back, table, check_dtype=False)
    assert screening.screen_csv(table).splitlines()[0].startswith("point,stim.0.amp,period")


def test_figures_show_the_table():
    ranked = pd.DataFrame(
        {
            "ablate": ["PVC", "DVA", "AVBL"],
            "period": [np.nan, 1.4, 1.2],
            "strength": [0.0, 0.99, 0.99],
            "amplitude": [0.0, 20.0, 30.0],
            "d_strength": [-1.0, 0.0, 0.0],
            "rel_period": [np.nan, 0.2, 0.0],
            "verdict": ["stops", "shifts period", "amplitude"],
        }
    )
    ranked.attrs["baseline"] = {"period": 1.2, "strength": 1.0, "amplitude": 20.0}
    fig = figures.ranking_figure(ranked)
    bars = {t.name: list(t.y) for t in fig.data}
    assert bars == {"stops": ["PVC"], "shifts period": ["DVA"], "amplitude": ["AVBL"]}
    assert list(fig.layout.yaxis.categoryarray) == ["AVBL", "DVA", "PVC"]  # first on top
    assert "period 1.200 s" in fig.layout.title.text
    table = pd.DataFrame(
        {
            "stim.0.amp": [2000.0, 0.0, 1000.0],
            "period": [1.2, np.nan, 1.9],
            "strength": [0.99, 0.0, 0.1],
            "amplitude": [20.0, 0.0, 0.01],
            "error": ["", "", ""],
        }
    )
    fig = figures.sweep_figure(table, "stim.0.amp")
    period, amplitude = fig.data
    assert list(period.x) == [0.0, 1000.0, 2000.0]
    assert np.isnan(period.y[:2]).all() and period.y[2] == 1.2  # only where it oscillates
    assert list(amplitude.y) == [0.0, 0.01, 20.0] and amplitude.yaxis == "y2"


def test_screen_runs_as_a_job_in_a_fresh_process(tmp_path):
    seen = []
    out = screening.start_screen(
        plm_request(), seen.append, kind="amplitude", amplitudes=[0.0, 1000.0, 2000.0]
    )
    assert out["kind"] == "result" and out["complete"] and out["axis"] == "stim.0.amp"
    table = screening.table_from_store(out["table"])
    here = screening.run_screen(
        screening.screen_spec_of(plm_request(), "amplitude", amplitudes=[0.0, 1000.0, 2000.0])
    )
    pd.testing.assert_frame_equal(table, here, check_dtype=False)
    assert seen[-1] == {"kind": "progress", "fraction": 1.0, "text": "3 of 3 points"}
    stop = tmp_path / "stop"
    stop.write_text("stop\n")  # cancelled from the start: the first chunk, then stop
    spec_points = [float(a) for a in range(0, 9000, 1000)]
    out = screening.start_screen(plm_request(), seen.append, str(stop), kind="amplitude",
                                 amplitudes=spec_points)  # fmt: skip
    assert not out["complete"] and len(out["table"]["rows"]) == 4
    with pytest.raises(SimulationError, match="give the amplitudes"):
        screening.start_screen(plm_request(), seen.append, kind="amplitude", amplitudes=[])

"""The Train page's What matters and Compare panels without a browser (webapp.insight,
sim.lesions, webapp.figures.insight): the panel's numbers are sim.comparison's
(lesion_returns, compare) for the same controller and seeds, a synapse lesion equals the
controller with that synapse removed replayed in gymnasium, the bounds hold, Cancel stops,
and a recorded job reads back for a reloaded page."""

import json
import os

import numpy as np
import pandas as pd
import pytest

import connectome
from connectome import limits
from connectome.errors import ControllerError, FieldError
from sim.baselines import BASELINES, baseline
from sim.comparison import compare, lesion_returns
from sim.evaluation import episode_seeds, evaluate, rollout
from sim.kernels import BLOCK_GAP, BLOCK_W
from sim.lesions import strongest_synapses, synapse_lesion_returns, synapse_list
from sim.trainer import train
from webapp import insight, runs, training
from webapp.figures.insight import comparison_table, lesion_figure
from webapp.jobs import run_job

ENV = "CartPole-v1"


@pytest.fixture(scope="module")
def tw():
    return connectome.presets.tap_withdrawal()


@pytest.fixture(scope="module")
def trained(tw):
    """A briefly trained tap-withdrawal CartPole controller and its held-out seeds."""
    io = training.default_io(tw, ENV)
    ctrl = training.make_controller(tw, ENV, io)
    ctrl = train(ctrl, seed=3, generations=2, episodes=2, validation_episodes=4,
                 test_episodes=10).controller  # fmt: skip
    seeds = [int(s) for s in episode_seeds(3, 1, 10)]
    return ctrl, seeds


def page_result(ctrl, seeds):
    """What the page keeps of a result, as far as the lesion panel reads it."""
    return {"controller": ctrl.to_dict(), "evaluation": {"seeds": seeds}}


def test_lesion_panel_numbers_are_lesion_returns(trained):
    ctrl, seeds = trained
    messages = []
    out = insight.lesion_job(insight.lesion_config(page_result(ctrl, seeds)), messages.append,
                             lambda: False)  # fmt: skip
    intact = float(rollout(ctrl, seeds)[0].mean())
    assert out["intact"] == intact == evaluate(ctrl, seeds=seeds).mean  # gymnasium's own env
    expected = lesion_returns(ctrl, seeds)
    assert [n["name"] for n in out["neurons"]] == list(ctrl.neurons)
    for n in out["neurons"]:
        assert n["lesioned"] == expected[n["name"]], n
        assert n["drop"] == intact - expected[n["name"]], n
    # tap withdrawal has 37 chemical synapses and 14 gap junctions: the 40 strongest
    assert out["synapses_total"] == 51 and len(out["synapses"]) == limits.MAX_LESION_SYNAPSES
    plan = strongest_synapses(ctrl, limits.MAX_LESION_SYNAPSES)
    values = synapse_lesion_returns(ctrl, seeds, plan)
    assert [(s["kind"], s["index"]) for s in out["synapses"]] == [
        (s["kind"], s["index"]) for s in plan
    ]
    assert [s["lesioned"] for s in out["synapses"]] == values
    weights = [abs(s["weight"]) for s in out["synapses"]]
    assert weights == sorted(weights, reverse=True)
    chosen = {(s["kind"], s["index"]) for s in plan}
    left = [abs(s["weight"]) for s in synapse_list(ctrl) if (s["kind"], s["index"]) not in chosen]
    assert len(left) == 11 and max(left) <= min(weights)
    fractions = [m["fraction"] for m in messages if m["kind"] == "progress"]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) >= 6
    assert out["complete"]


def test_a_synapse_lesion_is_the_controller_without_it_in_gymnasium(trained):
    ctrl, seeds = trained
    items = synapse_list(ctrl)
    chem = max((s for s in items if s["kind"] == "chemical"), key=lambda s: s["weight"])
    gap = max((s for s in items if s["kind"] == "electrical"), key=lambda s: s["weight"])
    got = synapse_lesion_returns(ctrl, seeds, [chem, gap])
    for s, value, block in ((chem, got[0], BLOCK_W), (gap, got[1], BLOCK_GAP)):
        theta = ctrl.theta.copy()
        theta[ctrl.offsets[block] + s["index"]] = 0.0
        assert value == evaluate(ctrl.with_theta(theta), seeds=seeds).mean, s
    # one synapse's number does not depend on which others are scored with it
    assert synapse_lesion_returns(ctrl, seeds, [gap]) == [got[1]]
    with pytest.raises(ControllerError, match="index 99"):
        synapse_lesion_returns(ctrl, seeds, [{**gap, "index": 99}])


def test_lesion_bounds_and_cores(tw, trained):
    ctrl, seeds = trained
    # every neuron and as many synapses as MAX_LESION_EPISODES leaves room for
    assert len(insight.lesion_plan(ctrl, 200)) == min(40, limits.MAX_LESION_EPISODES // 200 - 10)
    assert len(insight.lesion_plan(ctrl, 1500)) == 3
    with pytest.raises(ControllerError, match="fewer episodes"):
        insight.lesion_plan(ctrl, limits.MAX_LESION_EPISODES // 5)
    linear = baseline("linear", tw, ENV)
    with pytest.raises(ControllerError, match="LTC circuits"):
        insight.lesion_config(page_result(linear, seeds))
    with pytest.raises(Exception, match="episode seed"):
        insight.lesion_config(page_result(ctrl, [-1]))
    with pytest.raises(Exception, match="held-out episodes"):
        insight.lesion_config(page_result(ctrl, list(range(limits.MAX_EVAL_EPISODES + 1))))


def test_cancelled_lesions_keep_what_is_done(trained):
    ctrl, seeds = trained
    out = insight.lesion_job(insight.lesion_config(page_result(ctrl, seeds)), lambda m: None,
                             lambda: True)  # fmt: skip
    assert not out["complete"] and out["synapses"] == []
    assert len(out["neurons"]) == len(ctrl.neurons)


def test_recorded_lesion_job_reads_back_for_a_reloaded_page(trained, tmp_path):
    """Through the real job path (a fresh process, webapp.jobs.run_job), recorded in a run
    folder: the record gives what the page showed."""
    ctrl, seeds = trained
    folder = runs.run_folder("0" * 32 + "-1", str(tmp_path))
    config = insight.lesion_config(page_result(ctrl, seeds[:3]))
    runs.record_start(folder, config)
    seen = []
    out = run_job("lesions", {**config, "folder": folder}, seen.append)
    assert out["kind"] == "result", out
    view = insight.recorded_view(folder)
    assert view["state"] == "done" and view["fraction"] == 1.0 and view["text"] == "done"
    assert view["result"] == json.loads(json.dumps(out))
    assert [m["text"] for m in seen][0].startswith("the intact circuit on 3 held-out")
    assert out["neurons"][0]["lesioned"] == lesion_returns(ctrl, seeds[:3])[ctrl.neurons[0]]
    # a job whose process is gone without a result is lost, with the reason
    os.remove(os.path.join(folder, "result.json"))
    assert insight.recorded_view(folder)["state"] == "lost"


def tiny_config(tw, seed=0):
    """A training run's configuration as the page records it, with a tiny budget."""
    return {
        "wiring": connectome.io.to_dict(tw), "env_id": ENV,
        "io": training.default_io(tw, ENV), "seed": seed, "generations": 2, "seconds": 600.0,
        "target": 500.0, "episodes": 2, "eval_episodes": 5,
    }  # fmt: skip


def test_compare_panel_numbers_are_compare(tw):
    config = insight.compare_config(tiny_config(tw, seed=4), "1")
    assert config["seeds"] == [4] and config["baselines"] == list(BASELINES)
    messages = []
    out = insight.compare_job(config, messages.append, lambda: False)
    assert out["complete"] and out["runs_done"] == len(BASELINES)
    # the page's budget, as the CLI would be given it
    same = {
        "seeds": [4], "generations": 2, "max_seconds": 600.0, "episodes": 2,
        "test_episodes": 5, "controller_options": training.io_options(config["io"]),
    }  # fmt: skip
    circuit, env_id, kwargs = insight.compare_arguments(config)
    assert env_id == ENV and kwargs == {**same, "baselines": BASELINES}
    assert connectome.io.to_dict(circuit) == connectome.io.to_dict(tw)
    ref = compare(tw, ENV, **same)
    summary = insight.table_from_json(out["summary"])
    pd.testing.assert_frame_equal(summary, ref.summary, check_dtype=False)
    got_runs = insight.table_from_json(out["runs"]).drop(columns=["seconds"])
    pd.testing.assert_frame_equal(got_runs, ref.runs.drop(columns=["seconds"]), check_dtype=False)
    pd.testing.assert_frame_equal(insight.table_from_json(out["lesions"]), ref.lesions,
                                  check_dtype=False)  # fmt: skip
    fractions = [m["fraction"] for m in messages]
    assert fractions == [k / len(BASELINES) for k in range(len(BASELINES) + 1)]
    table = comparison_table(summary)
    assert len(table.children[1].children) == len(BASELINES)
    header = [th.children for th in table.children[0].children.children]
    assert header[:6] == ["controller", "parameters", "seeds", "held-out mean",
                          "spread (sd over seeds)", "success rate"]  # fmt: skip
    assert header[6:] == ["noise 0", "noise 0.1", "noise 0.3", "noise 1"]


def test_cancelled_compare_stops_after_the_current_run(tw):
    config = insight.compare_config(tiny_config(tw), "1")
    out = insight.compare_job(config, lambda m: None, lambda: True)
    assert out == {"env_id": ENV, "complete": False, "runs_done": 1}


def test_compare_bounds(tw):
    with pytest.raises(FieldError, match="Seeds"):
        insight.compare_config(tiny_config(tw), str(limits.MAX_WEB_COMPARE_SEEDS + 1))
    with pytest.raises(FieldError, match="Seeds"):
        insight.compare_seeds_field("0")
    slow = {**tiny_config(tw), "seconds": 3600.0}
    with pytest.raises(ControllerError, match="more than the page's 7,200 s"):
        insight.compare_config(slow, "1")
    with pytest.raises(ControllerError, match="train the circuit first"):
        insight.compare_config(None, "1")


def test_lesion_figure_bars_span_from_lesioned_to_intact():
    fig = lesion_figure(["A", "B", "C"], [10.0, -5.0, 300.0], 400.0, "t")
    bar = fig.data[0]
    assert list(bar.x) == ["C", "A", "B"] and list(bar.y) == [300.0, 10.0, -5.0]
    assert np.allclose(np.array(bar.base) + np.array(bar.y), 400.0)
    assert fig.layout.shapes[0].y0 == 400.0  # the intact reference line

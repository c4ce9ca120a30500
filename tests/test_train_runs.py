"""Training at scale (sim.train_runs): several seeds as tasks, in-process and on a real dask
LocalCluster, each with its own checkpoint, and the summary table."""

import pandas as pd
import pytest

import connectome
from connectome.errors import ControllerError
from sim.__main__ import main
from sim.control import load_controller
from sim.train_runs import plan_runs, train_runs
from sim.trainer import train

RUN = dict(generations=2, popsize=6, episodes=2, validation_episodes=4)


def test_runs_equal_single_trainings_and_resume(tw, tmp_path):
    table = train_runs(tw, ["CartPole-v1"], [0, 1], tmp_path / "cp.json",
                       summary=tmp_path / "cp.csv", **RUN)  # fmt: skip
    assert table["seed"].tolist() == [0, 1] and (table["error"] == "").all()
    for row in table.itertuples(index=False):
        alone = train(tw, "CartPole-v1", seed=row.seed, **RUN)
        assert row.score == alone.score and row.generations == 2
        saved = load_controller(row.output)
        assert saved.to_dict() == alone.controller.to_dict()
        assert row.output.endswith(f"cp-CartPole-v1-seed{row.seed}.json")
    written = pd.read_csv(tmp_path / "cp.csv", keep_default_na=False)
    assert written["score"].tolist() == table["score"].tolist()
    # the same command with a larger budget resumes each run from its checkpoint
    more = train_runs(tw, ["CartPole-v1"], [0, 1], tmp_path / "cp.json", **dict(RUN, generations=3))
    for row in more.itertuples(index=False):
        assert row.generations == 3
        assert (
            row.score == train(tw, "CartPole-v1", seed=row.seed, **dict(RUN, generations=3)).score
        )


def test_a_failing_run_gets_its_error(tw, tmp_path):
    table = train_runs(tw, ["CartPole-v1", "NoSuchEnv-v0"], [0], tmp_path / "x.json", **RUN)
    by_env = table.set_index("env")
    assert by_env.loc["CartPole-v1", "error"] == ""
    assert "NoSuchEnv-v0" in by_env.loc["NoSuchEnv-v0", "error"]
    with pytest.raises(ControllerError, match="repeated"):
        plan_runs(tw, ["CartPole-v1"], [0, 0], tmp_path / "y.json")


def test_runs_on_a_local_cluster_equal_in_process(tw, tmp_path):
    pytest.importorskip("distributed")
    here = train_runs(tw, ["CartPole-v1"], [2, 3], tmp_path / "a.json", **RUN)
    there = train_runs(tw, ["CartPole-v1"], [2, 3], tmp_path / "b.json", workers=2, **RUN)
    cols = ["env", "seed", "score", "generations", "reason", "error"]
    pd.testing.assert_frame_equal(here[cols], there[cols], check_exact=True)


def test_train_command_with_seeds(tw, tmp_path, capsys):
    wiring = tmp_path / "tw.json"
    wiring.write_text(connectome.io.to_json(tw))
    argv = ["train", "--circuit", str(wiring), "--env", "CartPole-v1", "--seeds", "0,1",
            "--generations", "2", "--popsize", "6", "--episodes", "2",
            "--validation-episodes", "4", "--output", str(tmp_path / "c.json"),
            "--summary", str(tmp_path / "c.csv"), "--quiet"]  # fmt: skip
    assert main(argv) == 0
    assert "CartPole-v1" in capsys.readouterr().out
    assert len(pd.read_csv(tmp_path / "c.csv")) == 2
    assert argv[6] == "0,1"
    assert main([*argv[:6], "0,x", *argv[7:]]) == 2
    assert "'x' is not an integer" in capsys.readouterr().err

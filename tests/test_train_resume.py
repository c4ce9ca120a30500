"""A training run outlives its server: SIGKILL a real ``run_app.py`` mid-training (and every
process it started, as a crash of the machine would), start a new server, and resume the run
as the page does; the result equals an uninterrupted run of the same seed and budget.

The run's record (:mod:`webapp.runs`) is what lets any request of any server read it: its
state, its progress, and the checkpoint the resumed run continues from.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid

import psutil
import pytest

from sim.jsonfile import write_json_atomic
from tests.appserver import ROOT, AppServer
from webapp import runs, training
from webapp.tempdirs import OWNER_FILE


def wait_until(condition, what, timeout=600, every=0.05):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(every)
    return value


#: The run's generation budget: the kill comes after 2 saved generations, well before the
#: end even on a quiet machine (at 12, a quiet machine finished the run before the kill).
GENERATIONS = 40
FIELDS = {
    "train-circuit.value": "tap_withdrawal", "store-dataset.data": "cook2019",
    "train-env.value": "CartPole-v1", "train-input-map.value": "dense",
    "train-output-map.value": "difference", "train-out-a.value": "AVB",
    "train-out-b.value": "AVA", "train-seconds.value": "3600",
    "train-generations.value": str(GENERATIONS), "train-target.value": "",
    "train-episodes.value": "30",
    "train-seed.value": "7", "train-eval-episodes.value": "5",
}  # fmt: skip


def reattach(server, job, session):
    """The page's reattach poll, as the browser posts it; returns its outputs by id.prop."""
    status, out = server.call(
        "train-poll.n_intervals",
        {"train-poll.n_intervals": 1, "train-job.data": job, "train-session.data": session},
    )
    assert status == 200, out
    response = out["response"]
    return {f"{cid}.{prop}": v for cid, props in response.items() for prop, v in props.items()}


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    folder = tmp_path / "runs"
    monkeypatch.setenv(runs.RUNS_ENV, str(folder))
    return folder


def test_sigkill_mid_training_then_resume_gives_the_uninterrupted_result(runs_dir):
    env = {runs.RUNS_ENV: str(runs_dir)}
    session = uuid.uuid4().hex
    run_id = f"{session}-1"
    folder = runs.run_folder(run_id)
    first = AppServer(env=env)
    try:
        first.wait_for_page("/")
        status, out = first.call(
            "train-run.n_clicks",
            {**FIELDS, "train-run.n_clicks": 1, "train-session.data": session},
        )
        assert status == 200 and "job" in out, out
        wait_until(lambda: 2 <= runs.run_status(folder)["generation"], "two saved generations")
        family = psutil.Process(first.proc.pid).children(recursive=True)
        first.signal(signal.SIGKILL)
        for proc in family:  # the crash takes the jobs with it
            if proc.is_running():
                proc.kill()
        psutil.wait_procs(family, timeout=60)
    finally:
        first.stop()
    status = runs.run_status(folder)
    assert status["state"] == "interrupted", status
    stopped_at = status["generation"]
    assert 2 <= stopped_at < GENERATIONS, status

    second = AppServer(env=env)
    try:
        second.wait_for_page("/")
        page = uuid.uuid4().hex  # the reloaded page's new session
        job = {"run": run_id, "page": session}
        view = reattach(second, job, page)
        assert view["train-resume-box.style"] == {"display": "inline"}, view
        assert view["train-run.disabled"] is False and view["train-cancel.disabled"] is True
        message = str(view["train-msg.children"])
        budget = f"generation {stopped_at} of at most {GENERATIONS}"
        assert f"stopped at {budget}" in message, message
        assert budget in view["train-progress-text.children"]
        status, out = second.call(
            "train-resume.n_clicks",
            {**FIELDS, "train-resume.n_clicks": 1, "train-session.data": page,
             "train-job.data": job},
        )  # fmt: skip
        assert status == 200 and "job" in out, out
        view = wait_until(
            lambda: (v := reattach(second, job, page)).get("train-result.data") and v,
            "the resumed run's result",
            every=1.0,
        )
    finally:
        second.stop()
    resumed = view["train-result.data"]
    assert "done: generation budget used" in view["train-progress-text.children"]
    assert view["train-run.disabled"] is False and view["train-cancel.disabled"] is True

    config = runs.run_config(folder)
    whole = training.training_job(config, lambda msg: None, lambda: False)
    assert resumed["generations"] == whole["generations"] == GENERATIONS
    assert resumed["reason"] == whole["reason"] == "generations"
    assert resumed["score"] == whole["score"]
    assert resumed["controller"] == whole["controller"]
    assert resumed["evaluation"] == whole["evaluation"]
    drop = ("elapsed",)
    for g, (a, b) in enumerate(zip(resumed["history"], whole["history"], strict=True), 1):
        assert {k: v for k, v in a.items() if k not in drop} == {
            k: v for k, v in b.items() if k not in drop
        }, f"generation {g}"


def test_a_run_without_a_record_says_so_and_resets_the_buttons(app_server):
    view = reattach(app_server, {"run": f"{uuid.uuid4().hex}-3", "page": "x"}, uuid.uuid4().hex)
    assert "cannot be shown" in str(view["train-msg.children"]), view
    assert view["train-run.disabled"] is False and view["train-cancel.disabled"] is True
    assert view["train-resume-box.style"] == {"display": "none"}
    forged = reattach(app_server, {"run": "../../etc", "page": "x"}, uuid.uuid4().hex)
    assert "not valid" in str(forged["train-msg.children"]), forged


def test_prune_keeps_running_and_newest_runs_and_removes_old_ones(tmp_path):
    now = 2_000_000_000.0
    made = {}
    for name, age_days, state in [("running", 40, "running"), ("old", 40, "done"),
                                  ("new1", 3, "done"), ("new2", 2, "interrupted"),
                                  ("new3", 1, "done")]:  # fmt: skip
        folder = runs.run_folder(f"{uuid.uuid4().hex}-1", root=str(tmp_path))
        runs.record_start(folder, {"target": None})
        runs.record_owner(folder)  # this process: alive
        if state != "running":  # its process is long gone
            write_json_atomic(os.path.join(folder, OWNER_FILE), {"pid": 1, "started": 0})
        if state == "done":
            runs.record_result(folder, {"kind": "result"})
        if state == "interrupted":
            write_json_atomic(os.path.join(folder, runs.CHECKPOINT), {"generation": 3})
        assert runs.run_status(folder)["state"] == state
        os.utime(folder, (now - age_days * 86400,) * 2)
        made[name] = folder
    (tmp_path / "someone-else").mkdir()
    removed = runs.prune(str(tmp_path), keep=2, max_age_days=30, now=now)
    assert sorted(removed) == sorted([made["new1"], made["old"]])
    left = sorted(p.name for p in tmp_path.iterdir())
    expected = [os.path.basename(made[n]) for n in ("running", "new2", "new3")]
    assert left == sorted([*expected, "someone-else"])
    assert runs.prune(str(tmp_path), keep=2, max_age_days=30, now=now) == []


def test_a_worker_whose_server_is_gone_ends_and_leaves_its_run_resumable(runs_dir, tw):
    """A crashed server cannot read its training worker any more: the worker ends at its
    next message, and the run stays "interrupted" (resumable from its checkpoint), never
    "error" (a killed server's worker used to record the broken pipe as the run's failure)."""
    values = {
        "circuit": "tap_withdrawal", "store_circuit": None, "dataset": "cook2019",
        "env": "CartPole-v1", "seconds": 3000, "generations": 100000, "target": None,
        "episodes": 30, "seed": 7, "eval_episodes": 1,
        "io": training.default_io(tw, "CartPole-v1"),
    }  # fmt: skip
    config = training.training_config(values)
    folder = runs.run_folder(f"{uuid.uuid4().hex}-1")
    runs.record_start(folder, config)
    job = {"kind": "train", "config": {**config, "folder": folder, "resume": False}}
    worker = subprocess.Popen(
        [sys.executable, "-c", "from webapp.jobs import worker_main; worker_main()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT, text=True,
    )  # fmt: skip
    try:
        worker.stdin.write(json.dumps(job))
        worker.stdin.close()
        for line in worker.stdout:  # as a server reads it, up to the second saved generation
            if '"progress"' in line and runs.run_status(folder)["generation"] >= 2:
                break
        worker.stdout.close()  # the server is gone
        assert worker.wait(timeout=300) != 0
    finally:
        if worker.poll() is None:
            worker.kill()
    status = runs.run_status(folder)
    assert status["state"] == "interrupted" and status["generation"] >= 2, status

"""Background callbacks as threads of the server (:mod:`webapp.jobmanager`): nothing is
forked, a job's result and progress go through the cache as with Dash's own manager, and a
terminated job's worker process is killed (:func:`webapp.jobs.run_job`)."""

import os
import threading
import time

import diskcache
import psutil
import pytest

from webapp import jobs, training
from webapp.jobmanager import ThreadJobManager, termination


def wait_until(condition, what, timeout=120):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.05)


@pytest.fixture
def manager(tmp_path):
    cache = diskcache.Cache(str(tmp_path / "cache"))
    yield ThreadJobManager(cache)
    cache.close()


def test_a_job_runs_in_a_thread_of_this_process_and_leaves_its_result(manager):
    seen = {}  # filled in the job: a forked job would leave it empty here

    def callback(set_progress, x):
        seen["pid"], seen["thread"] = os.getpid(), threading.current_thread()
        seen["termination"] = termination()
        set_progress("half way")
        return x + 1

    job_fn = manager.make_job_fn(callback, progress=True)
    job = manager.call_job_fn("key", job_fn, [41], {})
    wait_until(lambda: manager.result_ready("key"), "the result")
    assert manager.get_result("key", job) == 42
    assert seen["pid"] == os.getpid() and seen["thread"] is not threading.main_thread()
    assert isinstance(seen["termination"], threading.Event)
    assert termination() is None  # outside a job
    assert manager.join(job, timeout=120) and not manager.job_running(job)


def test_a_job_that_ended_counts_as_running_until_its_result_is_read(manager):
    """Dash reads a job's result and then asks whether it runs: a job that ended in between
    must not count as cancelled (its result would never reach the page)."""
    job = manager.call_job_fn("key", manager.make_job_fn(lambda: "done", progress=False), [], {})
    assert manager.join(job, timeout=120), "the job's thread did not end"
    assert manager.job_running(job)  # ended, result not read yet
    assert manager.get_result("key", job) == "done"
    assert not manager.job_running(job)


def test_handles_that_name_no_job_are_not_running_and_terminate_nothing(manager):
    for handle in (None, "", "abc", "12345", 7):
        assert not manager.job_running(handle)
        manager.terminate_job(handle)  # no error
        assert manager.terminate_unhealthy_job(handle) is False


def test_a_terminated_job_loses_its_worker_process(manager, tw):
    """A training run far beyond the test: once Dash terminates the job, run_job kills its
    worker and the job ends with an error result, not with the run's budget."""
    values = {
        "circuit": "tap_withdrawal", "store_circuit": None, "dataset": "cook2019",
        "env": "CartPole-v1", "seconds": 3000, "generations": 100000, "target": None,
        "episodes": 1, "seed": 0, "eval_episodes": 1,
        "io": training.default_io(tw, "CartPole-v1"),
    }  # fmt: skip
    config = training.training_config(values)
    progress = threading.Event()

    def callback(set_progress):
        return jobs.run_job("train", config, lambda msg: progress.set())

    job = manager.call_job_fn("key", manager.make_job_fn(callback, progress=True), [], {})

    def worker():
        return [p for p in psutil.Process().children() if "worker_main" in " ".join(p.cmdline())]

    wait_until(lambda: progress.is_set() or manager.result_ready("key"), "training progress", 300)
    assert not manager.result_ready("key"), manager.get_result("key", job)
    (proc,) = worker()
    manager.terminate_job(job)
    proc.wait(timeout=60)
    wait_until(lambda: manager.result_ready("key"), "the job to end", 60)
    result = manager.get_result("key", job)
    assert result["kind"] == "error" and "without a result" in result["text"], result

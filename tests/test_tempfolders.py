"""The server's temporary folders and training stop marks, with real server processes.

- SIGTERM during a training run: the server stops its jobs and removes its folder.
- SIGKILL leaves the folder; the next start removes it, never a live server's folder.
- Cancel leaves a stop mark only for a running job of the client's own session, once.
- :mod:`webapp.tempdirs` on real processes (alive, dead, a reused pid, no owner record).
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid

import psutil
import pytest

from tests.appserver import ROOT, AppServer
from webapp import tempdirs


def server_folder(server, root=None) -> str:
    """The wormlab-dash-* folder owned by ``server``'s process (in ``root``, default the
    system temporary folder)."""
    root = str(root or tempfile.gettempdir())
    found = [
        os.path.join(root, name)
        for name in os.listdir(root)
        if name.startswith(tempdirs.DASH_PREFIX)
        and (tempdirs.owner_of(os.path.join(root, name)) or {}).get("pid") == server.proc.pid
    ]
    assert len(found) == 1, f"{found} for pid {server.proc.pid}"
    return found[0]


def wait_until(condition, what, timeout=240, server=None):
    """Poll ``condition`` until it holds; fails after ``timeout`` s with ``server``'s
    output (when given)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            log = f"\nthe server's output:\n{server.output}" if server is not None else ""
            raise AssertionError(f"{what}: not within {timeout} s{log}")
        time.sleep(0.2)


def start_training(server, session, n_clicks=1):
    """Click Train as the page does: tap withdrawal on CartPole, a budget far beyond the
    test; returns once the job's run folder is there (:func:`webapp.jobs.run_job` makes it
    as it starts the worker). The click may wait for a kernel the warm-up is compiling,
    hence its long timeout."""
    fields = {
        "train-run.n_clicks": n_clicks, "train-session.data": session,
        "train-circuit.value": "tap_withdrawal", "store-dataset.data": "cook2019",
        "train-env.value": "CartPole-v1", "train-input-map.value": "dense",
        "train-output-map.value": "difference", "train-out-a.value": "AVB",
        "train-out-b.value": "AVA", "train-seconds.value": 600,
        "train-generations.value": 100000, "train-episodes.value": 1, "train-seed.value": 0,
        "train-eval-episodes.value": 1,
    }  # fmt: skip
    status, out = server.call("train-run.n_clicks", fields, timeout=240)
    assert status == 200 and "job" in out, out
    run = os.path.join(server_folder(server), "runs", f"{session}-{n_clicks}")
    wait_until(lambda: os.path.isdir(run), f"the run folder {run}", server=server)
    return run


def cancel(server, session, n_run):
    status, out = server.call(
        "train-cancel.n_clicks",
        {"train-cancel.n_clicks": 1, "train-session.data": session, "train-run.n_clicks": n_run},
    )
    assert status == 200, out
    return str(out["response"]["train-msg"]["children"])


def workers(server):
    """The server's descendants that run a training worker."""
    return [
        p
        for p in psutil.Process(server.proc.pid).children(recursive=True)
        if "worker_main" in " ".join(p.cmdline())
    ]


def test_cancel_marks_only_a_running_job_of_its_own_session_once(app_server):
    session = uuid.uuid4().hex
    run = start_training(app_server, session)
    runs = os.path.dirname(run)
    # another session's click (or a forged one) marks nothing
    for forged in [uuid.uuid4().hex for _ in range(20)]:
        assert "no running job" in cancel(app_server, forged, 1)
    assert "no running job" in cancel(app_server, session, 2)  # not started
    assert os.listdir(runs) == [os.path.basename(run)] and os.listdir(run) == []
    # the job's own session: one mark, however often it is clicked
    for _ in range(20):
        assert "Cancelling" in cancel(app_server, session, 1)
    assert os.listdir(runs) == [os.path.basename(run)] and os.listdir(run) == ["stop"]
    # the trainer stops at the mark: its run folder goes when the job ends
    wait_until(lambda: not os.path.exists(run), "the cancelled run's folder to go", 600, app_server)


def test_sigterm_mid_training_removes_its_folder_and_stops_its_jobs(app_server):
    folder = server_folder(app_server)
    start_training(app_server, uuid.uuid4().hex)
    wait_until(lambda: workers(app_server), "a training worker", server=app_server)
    jobs = psutil.Process(app_server.proc.pid).children(recursive=True)
    assert app_server.signal(signal.SIGTERM, timeout=120) == 0, app_server.output
    assert not os.path.exists(folder), os.listdir(folder)
    gone, alive = psutil.wait_procs(jobs, timeout=30)
    assert not alive, f"still running after the server stopped: {alive}"
    assert app_server.has_line("wormlab: stopped"), app_server.output


def test_a_killed_servers_folder_goes_at_the_next_start_a_live_ones_stays():
    killed, live = AppServer(), AppServer()
    orphans = []
    try:
        killed.wait_for_page("/")
        live.wait_for_page("/")
        killed_folder, live_folder = server_folder(killed), server_folder(live)
        orphans = psutil.Process(killed.proc.pid).children(recursive=True)
        killed.signal(signal.SIGKILL)
        assert os.path.isdir(killed_folder)  # nothing can clean up after SIGKILL
        nxt = AppServer()
        try:
            nxt.wait_for_line("wormlab: open", timeout=240)
            assert not os.path.exists(killed_folder), nxt.output
            assert nxt.has_line("left by a killed server"), nxt.output
            assert os.path.isdir(live_folder) and tempdirs.owner_of(live_folder)
            assert os.path.isdir(server_folder(nxt))
        finally:
            nxt.stop()
        assert os.path.isdir(live_folder)
    finally:
        for proc in orphans:  # what the killed server had started (a warm-up run)
            if proc.is_running():
                proc.kill()
        live.stop()
        killed.stop()


@pytest.fixture
def tiny_tmp(tmp_path):
    """A 16 MB file system of its own (tmpfs; needs the right to mount, else the test is
    skipped), unmounted at the end."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mnt)],
                          capture_output=True, text=True)  # fmt: skip
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {made.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def fill(folder):
    """Write a file in ``folder`` until its file system is full."""
    with open(os.path.join(folder, "filler"), "wb") as f:
        with pytest.raises(OSError, match="No space left"):
            while True:
                f.write(b"x" * 2**16)
                f.flush()


def test_a_full_temporary_folder_makes_train_say_so_and_cancel_answer(tiny_tmp):
    server = AppServer(env={"TMPDIR": str(tiny_tmp)})
    try:
        server.wait_for_page("/")
        folder = server_folder(server, tiny_tmp)
        fill(tiny_tmp)
        session = uuid.uuid4().hex
        status, out = server.call(
            "train-run.n_clicks_timestamp", {"train-run.n_clicks_timestamp": 1}
        )
        assert status == 200, out
        message = str(out["response"]["train-msg"]["children"])
        assert "Train cannot run: the server's temporary folder" in message, message
        assert folder in message and "No space left on device" in message, message
        # the job itself (started by the same click) cannot be kept: no 500, and Cancel
        # says there is nothing to cancel
        status, out = server.call(
            "train-run.n_clicks", {"train-run.n_clicks": 1, "train-session.data": session}
        )
        assert status == 200, out
        assert "no running job" in cancel(server, session, 1)
        os.remove(os.path.join(tiny_tmp, "filler"))
        status, out = server.call(
            "train-run.n_clicks_timestamp", {"train-run.n_clicks_timestamp": 2}
        )
        assert status == 204 or "train-msg" not in str(out), out  # room again: nothing to say
    finally:
        server.stop()
    assert not os.path.exists(folder)


# ------------------------------------------------------------------ webapp.tempdirs itself
MAKER = (
    "import sys; from webapp import tempdirs; "
    "print(tempdirs.make(tempdirs.DASH_PREFIX, root=sys.argv[1]), flush=True); "
    "sys.stdin.read()"
)


def _owner_process(root):
    """A live process that made a folder under ``root``; returns (process, folder)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", MAKER, str(root)],
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    return proc, proc.stdout.readline().strip()


def test_remove_stale_removes_only_folders_of_dead_owners(tmp_path):
    alive, alive_folder = _owner_process(tmp_path)
    dead, dead_folder = _owner_process(tmp_path)
    try:
        dead.kill()
        dead.wait()
        reused = tempdirs.make(tempdirs.WARMUP_PREFIX, root=str(tmp_path))
        owner = tempdirs.owner_of(reused)
        (tmp_path / os.path.basename(reused) / tempdirs.OWNER_FILE).write_text(
            f'{{"pid": {owner["pid"]}, "started": {owner["started"] - 3600}}}'
        )  # our pid, but a process that started an hour earlier: that one is gone
        unknown = tmp_path / f"{tempdirs.DASH_PREFIX}old"  # an older wormlab's: no owner
        unknown.mkdir()
        other = tmp_path / "someone-else"
        other.mkdir()
        mine = tempdirs.make(root=str(tmp_path))
        assert sorted(tempdirs.remove_stale(str(tmp_path))) == sorted([dead_folder, reused])
        left = sorted(p.name for p in tmp_path.iterdir())
        assert left == sorted(
            os.path.basename(p) for p in (alive_folder, str(unknown), str(other), mine)
        )
        assert tempdirs.remove_owned(str(tmp_path)) == [mine]
        assert os.path.isdir(alive_folder)
    finally:
        alive.kill()
        alive.wait()
    assert tempdirs.remove_stale(str(tmp_path)) == [alive_folder]


def test_a_folder_names_its_owner_from_the_start(tmp_path):
    folder = tempdirs.make(root=str(tmp_path))
    assert os.path.basename(folder).startswith(tempdirs.DASH_PREFIX)
    owner = tempdirs.owner_of(folder)
    assert owner["pid"] == os.getpid()
    assert owner["started"] == pytest.approx(psutil.Process().create_time(), abs=1e-6)
    assert tempdirs.owner_alive(owner)
    assert [p.name for p in tmp_path.iterdir()] == [os.path.basename(folder)]  # no hidden one

"""wormlab against the simulators a user would otherwise use, on the whole connectome, one run.

    python benchmarks/bench_peers.py [--duration 10] [--repeats 3] [--batch 64]
                                     [--brian2-python /work/venvs/brian2/bin/python]

The model is the graded one of Kunert et al. 2014 (doi:10.1103/PhysRevE.89.052805) on Cook 2019
as :func:`sim.compile_circuit` builds it (302 neurons; neuron-to-neuron edges only, muscles dropped;
gap-junction self-pairs dropped; chemical self-synapses kept), 2000 pA into PLML and PLMR from
t = 0, thresholds for that input, ``duration`` s of model time at ``dt`` = 0.1 ms, one thread
each. Peers, each run ``repeats`` times, interleaved (the order rotates every repeat), in this
one process tree:

- wormlab, ``scheme="euler"`` (the default fused semi-implicit Euler step; the second-order
  ``scheme="cn"`` is timed in the accuracy table below);
- Brian2 ``cpp_standalone`` and Brian2 runtime (Cython), ``exponential_euler``
  (benchmarks/brian2_graded.py, run by Brian2's own interpreter: ``--brian2-python``);
- a plain NumPy/SciPy-sparse loop of wormlab's Euler step (benchmarks/numpy_baseline.py).

Trajectory checks: wormlab Euler against the NumPy loop of the same step, and Brian2 against a
NumPy loop of exponential Euler: each pair must agree to float rounding; wormlab against Brian2
differ by the two first-order schemes' O(dt) errors (printed, relative to the swing).

Then: a batch of ``batch`` runs with different stimuli on one thread against the same runs one
by one (CPU seconds per run; 16 of the singles are timed), and the batch on every thread; and
the error of both wormlab schemes against a fine reference (``cn`` at 2.5 µs) at 0.1, 0.2 and
0.5 ms over ``error-duration`` s (the onset transient, where the error is largest), with the
CPU time per second of model time, so a user can pick the cheapest step for a tolerance.

A synapse update is one stored connection in one step: chemical synapses plus both directions
of every gap junction. Times are medians over the repeats; CPU seconds of the process (or of
the child, for Brian2) are what a shared machine inflates least, and the ratios come from the
same run. Needs ``pip install -e '.[bench]'``, and Brian2 in its own venv (README there).
"""

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numba  # noqa: E402
import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from numpy_baseline import GradedNumpy  # noqa: E402

import connectome  # noqa: E402
from sim.compiler import compile_circuit, graded_thresholds  # noqa: E402
from sim.runner import simulate, simulate_batch  # noqa: E402
from sim.stimulus import step  # noqa: E402

BRIAN2_VENV = Path("/work/venvs/brian2/bin/python")


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def timed(func):
    w, c, k = time.perf_counter(), time.process_time(), child_cpu()
    out = func()
    return out, time.perf_counter() - w, time.process_time() - c + child_cpu() - k


def network_file(cc, path, dt, nsteps, record_every, current, vth, v0, s0):
    p = cc.neuron_params
    g = np.asarray(cc.synapse_params["g"])
    gw = np.asarray(cc.gw)
    np.savez(
        path,
        n=cc.n,
        dt=dt,
        nsteps=nsteps,
        record_every=record_every,
        pre=cc.pre,
        post=cc.post,
        g=g,
        ge=g * cc.synapse_params["erev"],
        gpre=cc.gpre,
        gpost=cc.gpost,
        gw=gw,
        gsum=np.bincount(cc.gpost, weights=gw, minlength=cc.n),
        C=p["C"],
        Gc=p["Gc"],
        Ec=p["Ec"],
        ar=p["ar"],
        ad=p["ad"],
        beta=p["beta"],
        vth=vth,
        iext=current * cc.params.current_scale,
        v0=v0,
        s0=s0,
    )


class Brian2:
    """Brian2 in a child process: ``device`` "cpp_standalone" (built once, its binary run per
    repeat; Brian2's own measurement of the loop is kept) or "runtime" (a fresh child per
    repeat; the first step, which generates and compiles the code, is excluded)."""

    def __init__(self, python, network, workdir, device):
        self.python, self.network, self.device = str(python), str(network), device
        self.out = str(Path(workdir) / f"brian2_{device}.npz")
        self.project = Path(workdir) / "standalone"
        self.build = None
        if device == "cpp_standalone":
            info = self._child("build")
            self.build = info["build"]
            self.V = np.load(self.out)["v"]

    def _child(self, mode):
        args = [self.python, str(HERE / "brian2_graded.py"), self.network, self.out, self.device]
        if self.device == "cpp_standalone":
            args += [mode, str(self.project)]
        done = subprocess.run(args, capture_output=True, text=True, cwd=HERE)
        if done.returncode:
            raise RuntimeError(f"Brian2 ({self.device}) failed:\n{done.stderr[-3000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def run(self):
        """One timed repeat; returns Brian2's own time of the simulation loop (s)."""
        if self.device == "cpp_standalone":
            done = subprocess.run(
                ["./main"], cwd=self.project, capture_output=True, text=True, check=True
            )
            del done
            info = (self.project / "results" / "last_run_info.txt").read_text().split()
            return float(info[0])
        info = self._child("run")
        self.build = info["build"]
        self.V = np.load(self.out)["v"]
        return info["run"]


def rel(a, b, scale):
    """Largest difference of two recordings over their common records (Brian2 records the
    state at the start of each recording step, so it lacks the final one), over ``scale``."""
    k = min(len(a), len(b))
    return float(np.abs(np.asarray(a[:k], float) - np.asarray(b[:k], float)).max() / scale)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=10.0, help="model time per run, s")
    ap.add_argument("--dt", type=float, default=1e-4, help="step, s")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--runtime-duration", type=float, default=0.5,
                    help="model time for Brian2 runtime (slow: about 3 ms a step)")  # fmt: skip
    ap.add_argument("--runtime-repeats", type=int, default=1,
                    help="repeats of Brian2 runtime (~1 min of codegen each)")  # fmt: skip
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--batch-duration", type=float, default=1.0)
    ap.add_argument("--error-duration", type=float, default=0.3)
    ap.add_argument("--brian2-python", default=os.environ.get("BRIAN2_PYTHON"))
    args = ap.parse_args(argv)
    py = args.brian2_python or (BRIAN2_VENV if BRIAN2_VENV.exists() else sys.executable)
    load0 = open("/proc/loadavg").read().split()[:3] if Path("/proc/loadavg").exists() else "?"
    numba.set_num_threads(1)

    cc = compile_circuit(connectome.load("cook2019"), "graded")
    per_step = cc.n_synapses + cc.n_gap
    dt = args.dt
    nsteps = round(args.duration / dt)
    rec = max(1, round(1e-3 / dt))
    stim = step("PLM", 2000.0)
    current = np.zeros(cc.n)
    current[cc.indices("PLM")] = 2000.0
    vth = graded_thresholds(cc, current)
    v0 = graded_thresholds(cc)
    s0 = np.full(cc.n, cc.params.s_eq)
    print(
        f"Cook 2019: {cc.n} neurons, {cc.n_synapses} chemical synapses, {cc.n_gap // 2} "
        f"gap-junction pairs -> {per_step} synapse updates per step; {nsteps} steps of {dt} s; "
        f"{args.repeats} interleaved repeats; Brian2 from {py}"
    )
    cn = cc.with_params(cc.params.replace(scheme="cn"))
    base = GradedNumpy(cc)
    simulate(cc, stim, duration=100 * dt, dt=dt)  # load the kernels
    simulate(cn, stim, duration=10 * dt, dt=dt)

    work = tempfile.mkdtemp(prefix="bench_peers_")
    netfile = Path(work) / "network.npz"
    network_file(cc, netfile, dt, nsteps, rec, current, vth, v0, s0)
    rt_steps = round(args.runtime_duration / dt)
    rt_file = Path(work) / "network_runtime.npz"
    network_file(cc, rt_file, dt, rt_steps, rec, current, vth, v0, s0)
    standalone = Brian2(py, netfile, work, "cpp_standalone")
    runtime = Brian2(py, rt_file, work, "runtime")

    out = {}

    def wl(c):
        res = simulate(c, stim, duration=args.duration, dt=dt, record_every=rec)
        out[c.params.scheme] = res.V
        return None

    def npy():
        out["numpy"] = base.run(v0, s0, current, vth, dt, nsteps, rec)[0]

    peers = {
        "wormlab euler": (lambda: wl(cc), nsteps),
        "Brian2 cpp_standalone": (standalone.run, nsteps),
        "Brian2 runtime": (runtime.run, rt_steps),
        "NumPy/SciPy loop": (npy, nsteps),
    }
    times = {name: [] for name in peers}
    names = list(peers)
    for r in range(args.repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            if name == "Brian2 runtime" and r >= args.runtime_repeats:
                continue
            own, wall, cpu = timed(peers[name][0])
            times[name].append((wall, cpu, own))
    # trajectories
    ref_exp = base.run(v0, s0, current, vth, dt, nsteps, rec, scheme="expeuler")[0]
    swing = float(np.abs(out["euler"] - out["euler"][0]).max())
    checks = [
        ("wormlab euler vs NumPy (same step)", rel(out["euler"], out["numpy"], swing)),
        ("Brian2 standalone vs NumPy exponential Euler", rel(standalone.V, ref_exp, swing)),
        ("Brian2 runtime vs NumPy exponential Euler", rel(runtime.V, ref_exp, swing)),
        (
            "wormlab euler vs Brian2 (two first-order schemes)",
            rel(out["euler"], standalone.V, swing),
        ),  # fmt: skip
    ]

    # batches: different stimuli, one thread, against the same runs one by one
    rng = np.random.default_rng(0)
    targets = ["PLM", "ALM", "AVM", "PVD", "ASH", "AWC", "AFD", "ASE"]
    stims = [[step(targets[b % 8], float(rng.uniform(200.0, 3000.0)))] for b in range(args.batch)]
    singles = min(args.batch, 16)
    batch_rows = []
    for scheme, c in (("euler", cc),):
        simulate_batch(c, stims[:4], duration=10 * dt, dt=dt)
        numba.set_num_threads(1)
        one = batch1 = None
        for _ in range(args.repeats):
            _, w1, c1 = timed(lambda c=c: [
                simulate(c, s, duration=args.batch_duration, dt=dt, record_every=rec)
                for s in stims[:singles]])  # fmt: skip
            _, wb, cb = timed(lambda c=c: simulate_batch(
                c, stims, duration=args.batch_duration, dt=dt, record_every=rec))  # fmt: skip
            one = min(one or c1 / singles, c1 / singles)
            batch1 = min(batch1 or cb / args.batch, cb / args.batch)
        numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
        _, wall_all, _ = timed(lambda c=c: simulate_batch(
            c, stims, duration=args.batch_duration, dt=dt, record_every=rec))  # fmt: skip
        numba.set_num_threads(1)
        batch_rows.append((scheme, one, batch1, wall_all / args.batch))

    # accuracy per cost
    edur = args.error_duration
    erec = round(1e-3 / 2.5e-6)
    fine = simulate(cn, stim, duration=edur, dt=2.5e-6, record_every=erec).V
    fine2 = simulate(cn, stim, duration=edur, dt=5e-6, record_every=erec // 2).V
    escale = float(np.abs(fine - fine[0]).max())
    err_rows = []
    tdur = min(args.duration, 2.0)
    for scheme, c in (("euler", cc), ("cn", cn)):
        for h in (1e-4, 2e-4, 5e-4):
            r = simulate(c, stim, duration=edur, dt=h, record_every=round(1e-3 / h))
            _, _, cpu = timed(lambda c=c, h=h: simulate(
                c, stim, duration=tdur, dt=h, record_every=round(1e-3 / h)))  # fmt: skip
            err_rows.append((scheme, h, rel(r.V, fine, escale), cpu / tdur))
    load1 = open("/proc/loadavg").read().split()[:3]
    shutil.rmtree(work, ignore_errors=True)  # the Brian2 project and the network files

    print()
    print(f"{'single run (1 thread)':24s} {'steps':>7s} {'wall s':>8s} {'CPU s':>8s} "
          f"{'time s':>8s} {'upd/s':>9s} {'time/step vs wormlab':>21s}")  # fmt: skip
    per = {}
    for name in names:
        wall = statistics.median(w for w, _, _ in times[name])
        cpu = statistics.median(c for _, c, _ in times[name])
        own = [o for _, _, o in times[name] if o is not None]
        t = statistics.median(own) if own else cpu
        steps = peers[name][1]
        per[name] = (wall, cpu, t, steps)
    ref = per["wormlab euler"][2] / nsteps
    for name, (wall, cpu, t, steps) in per.items():
        print(f"{name:24s} {steps:7d} {wall:8.2f} {cpu:8.2f} {t:8.3f} {steps * per_step / t:9.3g} "
              f"{t / steps / ref:21.2f}")  # fmt: skip
    print(f"(time s: CPU s of the call for wormlab and NumPy; Brian2's own time of its loop "
          f"for cpp_standalone (the binary's start and file output excluded) and of run() for "
          f"runtime; medians of {args.repeats} repeats (runtime: {args.runtime_repeats}); "
          f"excluded too: Brian2 standalone build {standalone.build:.1f} s, runtime code "
          f"generation {runtime.build:.1f} s)")  # fmt: skip
    print()
    print("trajectory checks (max |dV| / swing of", f"{swing:.3g} mV):")
    for name, value in checks:
        print(f"  {name:52s} {value:.2e}")
    print()
    print(f"batch of {args.batch} (different stimuli), {args.batch_duration} s each; "
          "CPU s per run:")  # fmt: skip
    print(f"{'scheme':8s} {'one by one':>11s} {'batch 1 thr':>12s} {'gain/core':>10s} "
          f"{'batch all thr (wall/run)':>25s}")  # fmt: skip
    for scheme, one, b1, ball in batch_rows:
        print(f"{scheme:8s} {one:11.4f} {b1:12.4f} {one / b1:10.2f} {ball:25.4f} "
              f"({numba.config.NUMBA_NUM_THREADS} threads)")  # fmt: skip
    print()
    print(
        f"error vs cn at 2.5 us over {edur} s (max |dV| / swing {escale:.3g} mV; cn at 5 us "
        f"differs from it by {rel(fine2, fine, escale):.1e}):"
    )
    print(f"{'scheme':8s} {'dt ms':>6s} {'rel. error':>11s} {'CPU s per model s':>18s} "
          f"(timed over {tdur:g} s)")  # fmt: skip
    for scheme, h, e, cpu in err_rows:
        print(f"{scheme:8s} {h * 1e3:6.1f} {e:11.2e} {cpu:18.3f}")
    print()
    print(f"load average before {' '.join(load0)}, after {' '.join(load1)} "
          f"({os.cpu_count()} CPUs, shared)")  # fmt: skip


if __name__ == "__main__":
    main()

"""Simulator throughput against a plain NumPy/SciPy peer, in one run.

    python benchmarks/bench_sim.py [--duration 10] [--batch 256] [--batch-duration 1]
                                   [--singles 32]

1. Cook 2019 (302 neurons, every chemical synapse and gap junction), graded model, 2000 pA
   into PLML and PLMR, ``duration`` s of model time at dt = 0.1 ms, one thread: numba kernel
   vs benchmarks/numpy_baseline.py (same equations and step; their trajectories are compared).
2. A batch of ``batch`` copies with different stimuli on 2 threads vs the same runs one by one
   (``singles`` of them timed), as synapse updates per CPU-second.
3. Compile time of every kernel (sim.runner.warmup) with a cold and a warm numba cache.

A synapse update is one stored connection processed in one step: chemical synapses plus both
directions of each gap junction. CPU-seconds are the process's CPU time (all threads), which the
other jobs on a shared machine do not inflate; wall times are printed too.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from numpy_baseline import GradedNumpy  # noqa: E402

import connectome  # noqa: E402
from sim.compiler import compile_circuit, graded_thresholds  # noqa: E402
from sim.runner import simulate, simulate_batch  # noqa: E402
from sim.stimulus import step  # noqa: E402


def timed(func):
    w, c = time.perf_counter(), time.process_time()
    out = func()
    return out, time.perf_counter() - w, time.process_time() - c


def compile_time(cache_dir):
    code = (
        "import time; t = time.perf_counter(); from sim.runner import warmup; warmup(); "
        "print(time.perf_counter() - t)"
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--batch-duration", type=float, default=1.0)
    ap.add_argument("--singles", type=int, default=32)
    args = ap.parse_args(argv)
    load0 = os.getloadavg()
    rows = []

    cc = compile_circuit(connectome.load("cook2019"), "graded")
    per_step = cc.n_synapses + cc.n_gap
    dt = 1e-4
    nsteps = round(args.duration / dt)
    stim = step("PLM", 2000.0)
    print(
        f"Cook 2019: {cc.n} neurons, {cc.n_synapses} chemical synapses, {cc.n_gap // 2} gap "
        f"pairs -> {per_step} synapse updates per step; {nsteps} steps of {dt} s"
    )

    # 1. single run, one thread
    numba.set_num_threads(1)
    simulate(cc, stim, duration=100 * dt, dt=dt)  # load the kernels
    res, wall, cpu = timed(lambda: simulate(cc, stim, duration=args.duration, dt=dt,
                                            record_every=10))  # fmt: skip
    numba_rate = nsteps * per_step / cpu
    rows.append(("numba, 1 thread", wall, cpu, numba_rate))

    base = GradedNumpy(cc)
    current = np.zeros(cc.n)
    current[cc.indices("PLM")] = 2000.0
    vth = graded_thresholds(cc, current)
    v0 = graded_thresholds(cc)
    s0 = np.full(cc.n, 1.0 / 11.0)
    (ref, v_np, s_np), wall_np, cpu_np = timed(
        lambda: base.run(v0, s0, current, vth, dt, nsteps, 10)
    )
    np_rate = nsteps * per_step / cpu_np
    rows.append(("NumPy/SciPy-sparse, 1 thread", wall_np, cpu_np, np_rate))
    diff = float(np.abs(ref.astype(float) - res.V.astype(float)).max())
    diff_final = float(np.abs(v_np - res.final_state[0]).max())
    swing = float(np.abs(res.V - res.V[0]).max())

    # 2. batch of different stimuli on 2 threads vs one by one
    bsteps = round(args.batch_duration / dt)
    rng = np.random.default_rng(0)
    targets = ["PLM", "ALM", "AVM", "PVD", "ASH", "AWC", "AFD", "ASE"]
    stims = [
        [step(targets[b % len(targets)], float(rng.uniform(200.0, 3000.0)))]
        for b in range(args.batch)
    ]
    numba.set_num_threads(1)
    _, wall1, cpu1 = timed(
        lambda: [
            simulate(cc, s, duration=args.batch_duration, dt=dt, record_every=10)
            for s in stims[: args.singles]
        ]
    )
    one_rate = args.singles * bsteps * per_step / cpu1
    rows.append((f"one by one ({args.singles} of them), 1 thread", wall1, cpu1, one_rate))
    numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
    simulate_batch(cc, stims[:4], duration=100 * dt, dt=dt)
    _, wallb, cpub = timed(
        lambda: simulate_batch(cc, stims, duration=args.batch_duration, dt=dt, record_every=10)
    )
    batch_rate = args.batch * bsteps * per_step / cpub
    rows.append((f"batch of {args.batch}, {numba.get_num_threads()} threads", wallb, cpub,
                 batch_rate))  # fmt: skip
    wall_ratio = (args.batch * bsteps * per_step / wallb) / (one_rate)

    # 3. compile times
    with tempfile.TemporaryDirectory() as d:
        cold = compile_time(d)
        warm = compile_time(d)
    load1 = os.getloadavg()

    print()
    print(f"{'run':40s} {'wall s':>8s} {'CPU s':>8s} {'synapse upd/CPU-s':>18s} {'ratio':>8s}")
    ratios = [numba_rate / np_rate, 1.0, 1.0, batch_rate / one_rate]
    for (name, w, c, r), q in zip(rows, ratios, strict=True):
        print(f"{name:40s} {w:8.2f} {c:8.2f} {r:18.3g} {q:8.2f}")
    print()
    print(f"single run: {numba_rate:.3g} synapse updates/s (target 1e9), "
          f"{numba_rate / np_rate:.1f}x NumPy (target 3x); "
          f"max |V_numba - V_numpy| = {diff:.2e} mV recorded (float32), {diff_final:.2e} mV "
          f"final (float64), over a trajectory that moves {swing:.3g} mV")  # fmt: skip
    print(f"batch: {batch_rate / one_rate:.2f}x the one-by-one throughput per CPU-second "
          f"(target 4x); {wall_ratio:.2f}x per wall-second")  # fmt: skip
    print(f"compile (warmup, all kernels): cold cache {cold:.1f} s, warm cache {warm:.2f} s")
    print(f"load average before {load0[0]:.2f}, after {load1[0]:.2f} (2 cores, shared)")


if __name__ == "__main__":
    main()

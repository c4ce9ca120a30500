"""Lesion-screen throughput in-process against a dask LocalCluster, in one run.

    python benchmarks/bench_sweep.py [--dataset varshney2011] [--points 12] [--duration 2]
                                     [--workers 2] [--full] [--batch N]

1. A single-ablation screen (graded model, 2000 pA into PLML and PLMR, ``duration`` s at
   0.1 ms per point) of the first ``points`` neurons plus the baseline: in this process, then
   on a LocalCluster of ``workers`` processes (started before the clock; its workers warmed by
   a two-point sweep). Wall time, points per second, and CPU-seconds per point (this process's
   CPU time in-process; the workers' CPU time on dask), which the other jobs on a shared
   machine do not inflate. The two tables are checked equal.
2. The fixed cost per point: the same screen with one step per point, in-process and on dask;
   the difference is dask's overhead per point (task, transfer, result).
3. On paper: the 45,451 pair ablations of all 302 neurons at the measured CPU-seconds per
   point (10 s of model time), on 1, 8 and 64 workers.
4. ``--batch N``: an amplitude sweep of N points on one network (Cook 2019), which runs as
   one batch, with 32, 16 and 8 lanes per kernel thread against 1 (each item alone), in
   synapse updates per CPU-second (benchmarks/bench_sim.py compares the kernels with a
   NumPy/SciPy peer).

``--full`` screens every neuron of Cook 2019 and of Varshney 2011 for 10 s each (long).
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import connectome  # noqa: E402
from sim.distributed import local_cluster, require_distributed  # noqa: E402
from sim.models import default_params  # noqa: E402
from sim.screens import screen_spec  # noqa: E402
from sim.sweeps import compiled_network, sweep, sweep_spec  # noqa: E402

MOTOR = ["VA", "VB", "DA", "DB", "VD", "DD", "AS"]
PLM = "PLM:step:amp=2000"
PAIRS_302 = 302 * 301 // 2  # 45,451


def spec_for(dataset, points, duration):
    names = list(connectome.load(dataset).neurons.index)
    candidates = names if points is None else names[:points]
    return screen_spec(
        dataset, PLM, candidates=candidates, neurons=MOTOR, duration=duration,
        start=duration / 3, record_every=10,
    )  # fmt: skip


def worker_cpu(client):
    return sum(client.run(time.process_time).values())


def in_process(spec):
    w, c = time.perf_counter(), time.process_time()
    table = sweep(spec=spec)
    return table, time.perf_counter() - w, time.process_time() - c


def on_dask(spec, client):
    c0 = worker_cpu(client)
    w = time.perf_counter()
    table = sweep(spec=spec, client=client)
    wall = time.perf_counter() - w
    return table, wall, worker_cpu(client) - c0


def report(label, n, wall, cpu):
    print(
        f"  {label:28s} {n:5d} points  wall {wall:8.2f} s  {n / wall:7.3f} points/s  "
        f"{cpu / n:7.4f} CPU-s/point"
    )


def batched_rate(points, duration):
    """Section 4: synapse updates per CPU-second of a batched sweep, lanes against 1."""
    cc = compiled_network("cook2019", "graded", default_params("graded"), ())
    updates = (cc.n_synapses + cc.n_gap) * round(duration / 1e-4) * points
    amps = [float(a) for a in np.linspace(1000.0, 3000.0, points)]
    print(f"load average {os.getloadavg()}; cook2019 amplitude sweep, {points} points")
    rates = {}
    for lanes in (32, 16, 8, 1):
        spec = sweep_spec(
            "cook2019", PLM, grid={"stim.0.amp": amps}, duration=duration, record_every=10,
            metrics=["mean:AVBL"], lanes=lanes, chunk_size=points,
        )  # fmt: skip
        _, wall, cpu = in_process(spec)
        rates[lanes] = updates / cpu
        print(f"  lanes {lanes}: wall {wall:.2f} s, CPU {cpu:.2f} s, "
              f"{rates[lanes]:.3g} synapse updates per CPU-second")  # fmt: skip
    print("  batched / single per core: " + ", ".join(
        f"{k} lanes {rates[k] / rates[1]:.2f}" for k in (32, 16, 8)))  # fmt: skip


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="varshney2011")
    ap.add_argument("--points", type=int, default=12, help="ablations screened (+ baseline)")
    ap.add_argument("--duration", type=float, default=2.0, help="model time per point, s")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--full", action="store_true", help="every neuron, cook2019 and varshney2011")
    ap.add_argument("--batch", type=int, default=0, help="amplitude-sweep points (section 4)")
    args = ap.parse_args(argv)
    if args.batch:
        batched_rate(args.batch, args.duration)
        return
    distributed = require_distributed()
    print(f"load average {os.getloadavg()}, {os.cpu_count()} cores")
    runs = (
        [("cook2019", None, 10.0), ("varshney2011", None, 10.0)]
        if args.full
        else [(args.dataset, args.points, args.duration)]
    )
    t = time.perf_counter()
    with (
        local_cluster(args.workers) as cluster,
        distributed.Client(cluster, timeout=300) as client,
    ):
        client.wait_for_workers(args.workers, timeout=300)
        print(f"LocalCluster of {args.workers} workers up in {time.perf_counter() - t:.1f} s")
        warm = spec_for(args.dataset, 1, 0.01)
        sweep(spec=warm)
        sweep(spec=warm, client=client)  # numba kernels loaded in every worker
        per_point = {}
        for dataset, points, duration in runs:
            spec = spec_for(dataset, points, duration)
            n = len(spec.points)
            print(f"\n{dataset}: screen of {n} points, {duration:g} s each at 0.1 ms")
            here, w1, c1 = in_process(spec)
            report("in-process", n, w1, c1)
            there, w2, c2 = on_dask(spec, client)
            report(f"dask, {args.workers} workers", n, w2, c2)
            pd.testing.assert_frame_equal(here, there, check_exact=True)
            print(
                f"  tables equal bit for bit; dask throughput / in-process: {w1 / w2:.2f} (wall), "
                f"{c1 / c2:.2f} (per CPU-second)"
            )
            tiny = spec_for(dataset, points, 1e-4)
            _, wt1, ct1 = in_process(tiny)
            _, wt2, ct2 = on_dask(tiny, client)
            report("one step, in-process", n, wt1, ct1)
            report(f"one step, dask {args.workers} workers", n, wt2, ct2)
            print(
                f"  dask overhead per point: {(wt2 * args.workers - wt1) / n * 1e3:.1f} ms of "
                f"worker wall time, {(ct2 - ct1) / n * 1e3:.1f} ms of CPU"
            )
            per_point[dataset] = c1 / n * (10.0 / duration)
    print(f"\nload average {os.getloadavg()}")
    for dataset, cost in per_point.items():
        print(
            f"on paper, {dataset}: {PAIRS_302} pair ablations x {cost:.2f} CPU-s per 10-s point "
            f"= {PAIRS_302 * cost / 3600:.1f} CPU-hours: "
            + ", ".join(f"{w} workers {PAIRS_302 * cost / w / 3600:.2f} h" for w in (1, 8, 64))
        )


if __name__ == "__main__":
    main()

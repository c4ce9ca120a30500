"""Network plus body against the network alone, in one run.

    python benchmarks/bench_body.py [--dataset varshney2011] [--duration 5] [--repeats 3]

The graded Kunert model with 2000 pA into PLML and PLMR for ``duration`` s at dt = 0.1 ms on one
thread, (1) alone (``sim.runner.simulate``, recording every step) and (2) with the muscles and
ElegansBot's body (``sim.body.simulate_body``; body step 50 µs, its target angles updated every
network step: the lockstep default), then (3) with the body's targets updated every 1 ms
(``record_every=10``), and (4, 5) with proprioceptive feedback (``feedback=FeedbackParams()``:
network, muscles and body in lockstep, one kernel call per control interval) at 0.1 ms and 1 ms.
Also ElegansBot itself on its crawling demo for the same time, as a peer.
Times are the best of ``repeats``, wall and process CPU (all threads); kernels are warmed first.
"""

import argparse
import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import connectome  # noqa: E402
from sim import simulate  # noqa: E402
from sim.body import (  # noqa: E402
    FeedbackParams,
    drive_body,
    run_body,
    simulate_body,
    travelling_wave,
)


def best(func, repeats):
    runs = []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        out = func()
        runs.append((time.perf_counter() - w, time.process_time() - c))
    return out, min(r[0] for r in runs), min(r[1] for r in runs)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="varshney2011")
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    numba.set_num_threads(1)
    source = connectome.load(args.dataset)
    stim = "PLM:step:amp=2000"
    warm = simulate(source, stim, duration=0.01)
    drive_body(warm)
    run_body(np.zeros((20, 24)), 1e-3)

    def network(every):
        return lambda: simulate(source, stim, duration=args.duration, record_every=every)

    net, w_net, c_net = best(network(1), args.repeats)
    _, w_both, c_both = best(lambda: drive_body(network(1)()), args.repeats)
    _, w_both10, c_both10 = best(lambda: drive_body(network(10)()), args.repeats)

    def coupled(every):
        return lambda: simulate_body(
            source, stim, duration=args.duration, record_every=every, feedback=FeedbackParams()
        )

    simulate_body(source, stim, duration=0.02, feedback=FeedbackParams())
    _, w_fb, c_fb = best(coupled(1), args.repeats)
    _, w_fb10, c_fb10 = best(coupled(10), args.repeats)
    _, w_body, c_body = best(lambda: drive_body(net), args.repeats)
    n_ctrl = int(round(args.duration / 1e-3))
    t = np.arange(n_ctrl) * 20 * 5e-5
    _, w_demo, c_demo = best(lambda: run_body(travelling_wave(t), 1e-3), args.repeats)
    print(f"{args.dataset}, graded, {stim}, {args.duration:g} s of model time, 1 thread")
    rows = [
        ("network alone (record every step)", w_net, c_net),
        ("network + muscles + body, targets every 0.1 ms", w_both, c_both),
        ("network + muscles + body, targets every 1 ms", w_both10, c_both10),
        ("network + body with feedback, lockstep every 0.1 ms", w_fb, c_fb),
        ("network + body with feedback, lockstep every 1 ms", w_fb10, c_fb10),
        ("muscles + body on a recorded run (0.1 ms)", w_body, c_body),
        ("ElegansBot alone, crawling demo wave (1 ms)", w_demo, c_demo),
    ]
    for label, w, c in rows:
        print(f"  {label:50s} wall {w:7.2f} s  cpu {c:7.2f} s  ({c / c_net:5.2f} x network cpu)")


if __name__ == "__main__":
    main()

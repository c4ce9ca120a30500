"""Lane keeping (highway-env lane-keeping-v0): worm circuit vs NCP(19) vs fully connected LTC.

Two parts, side by side in one process:

1. Training: the klinotaxis preset (Cook 2019, neuron level; :func:`connectome.presets.
   klinotaxis`), the 19-neuron NCP of Lechner et al. 2020 (12 inter, 6 command, 1 motor;
   ``ncps.wirings.NCP`` imported by :func:`connectome.io.from_ncps`) and a fully connected
   LTC of 19 units (``ncps.wirings.FullyConnected``), each trained with the same CMA-ES budget
   (generations x popsize x episodes) per seed, then evaluated in highway-env itself.
2. Rollout throughput: environment steps per second of the batched numba rollout against
   highway-env's own Python loop driving the NumPy twin of the same controller
   (``NumpyController`` of benchmarks/bench_train.py), on the same parameters and seeds.

Usage::

    python benchmarks/bench_lane_keeping.py                       # 5 seeds, 40 generations
    python benchmarks/bench_lane_keeping.py --seeds 1 --generations 10   # quick look
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_train import NumpyController  # noqa: E402

import connectome  # noqa: E402
from connectome.io import from_ncps  # noqa: E402
from sim.control import Controller  # noqa: E402
from sim.envs import make_gym_env  # noqa: E402
from sim.evaluation import evaluate, rollout  # noqa: E402
from sim.trainer import train  # noqa: E402

ENV = "lane-keeping-v0"


def circuits():
    """name -> wiring source, all read by Controller.from_circuit."""
    from ncps import wirings

    ncp = wirings.NCP(
        inter_neurons=12, command_neurons=6, motor_neurons=1, sensory_fanout=6,
        inter_fanout=4, recurrent_command_synapses=6, motor_fanin=6, seed=0,
    )  # fmt: skip
    fc = wirings.FullyConnected(19, 1, erev_init_seed=0)
    obs_inputs = 12
    ncp.build(obs_inputs)
    fc.build(obs_inputs)
    return {
        "klinotaxis (Cook 2019)": connectome.presets.klinotaxis(connectome.load("cook2019")),
        "NCP(19)": from_ncps(ncp),
        "fully connected LTC(19)": from_ncps(fc),
    }


def throughput(ctrl, episodes=4, candidates=16):
    """(numba steps/s, highway-env Python loop steps/s) for the same controller."""
    rng = np.random.default_rng(0)
    thetas = ctrl.decode(rng.uniform(size=(candidates, ctrl.n_free)))
    seeds = list(range(episodes))
    rollout(ctrl, seeds, thetas[:1])  # compiled
    t0 = time.perf_counter()
    _, lengths = rollout(ctrl, seeds, thetas)
    fast = lengths.sum() / (time.perf_counter() - t0)
    env = make_gym_env(ENV)
    npc = NumpyController(ctrl.with_theta(thetas[0]))
    steps, t0 = 0, time.perf_counter()
    for s in seeds:
        obs, _ = env.reset(seed=s)
        npc.reset()
        done = False
        while not done:
            obs, _, term, trunc, _ = env.step(npc.act(obs))
            steps += 1
            done = term or trunc
    slow = steps / (time.perf_counter() - t0)
    env.close()
    return fast, slow


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--generations", type=int, default=40)
    ap.add_argument("--popsize", type=int, default=16)
    ap.add_argument("--episodes", type=int, default=4)
    ap.add_argument("--eval-episodes", type=int, default=20)
    args = ap.parse_args(argv)
    print(
        f"budget per run: {args.generations} generations x {args.popsize} candidates x "
        f"{args.episodes} episodes; evaluated on {args.eval_episodes} highway-env episodes"
    )
    rows = []
    for name, wiring in circuits().items():
        ctrl = Controller.from_circuit(wiring, ENV, output_map="dense")
        scores, times = [], []
        for seed in range(args.seeds):
            t0 = time.perf_counter()
            res = train(ctrl, seed=seed, generations=args.generations, popsize=args.popsize,
                        episodes=args.episodes, validation_episodes=8)  # fmt: skip
            times.append(time.perf_counter() - t0)
            scores.append(evaluate(res.controller, episodes=args.eval_episodes, seed=seed).mean)
        fast, slow = throughput(ctrl)
        rows.append((name, len(ctrl.neurons), len(ctrl.synapses), ctrl.n_free, scores, times,
                     fast, slow))  # fmt: skip
    print(f"{'model':26s} {'neurons':>7s} {'syn':>5s} {'params':>6s} {'return mean':>11s} "
          f"{'min':>7s} {'max':>7s} {'train s':>8s} {'numba st/s':>11s} {'py st/s':>8s} "
          f"{'ratio':>6s}")  # fmt: skip
    for name, n, syn, d, scores, times, fast, slow in rows:
        print(f"{name:26s} {n:7d} {syn:5d} {d:6d} {statistics.mean(scores):11.2f} "
              f"{min(scores):7.2f} {max(scores):7.2f} {statistics.median(times):8.1f} "
              f"{fast:11.0f} {slow:8.0f} {fast / slow:6.0f}x")  # fmt: skip


if __name__ == "__main__":
    main()

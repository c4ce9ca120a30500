"""Training benchmark: the tap-withdrawal circuit (Cook 2019) as the controller.

Two parts, run side by side in one process:

1. Training per environment over several seeds (median reported): training wall time to the
   target (compilation excluded: every kernel is compiled and cached by a warm-up run first)
   and the mean, min and max return of the result over 100 episodes of gymnasium's own env.
2. Rollout throughput: environment steps per second of the batched numba rollout
   (:func:`sim.kernels.rollout_batch`) against gymnasium's Python loop driving a NumPy
   implementation of the same controller (:class:`NumpyController`, written here), on the
   same parameters and start seeds.

Usage::

    python benchmarks/bench_train.py                  # quick: CartPole, 1 seed (about 1 min)
    python benchmarks/bench_train.py --full           # all four envs, 5 seeds (about 15 min)
    python benchmarks/bench_train.py --envs CartPole-v1 --seeds 3
"""

import argparse
import math
import os
import platform
import statistics
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import gymnasium  # noqa: E402
import numba  # noqa: E402
import numpy as np  # noqa: E402

import connectome  # noqa: E402
from sim.control import Controller  # noqa: E402
from sim.evaluation import evaluate, rollout  # noqa: E402
from sim.trainer import train  # noqa: E402

__all__ = ["SETTINGS", "NumpyController", "bench_training", "bench_throughput", "main"]

# Per env: the training settings and the stopping target (validation score).
SETTINGS = {
    "CartPole-v1": dict(
        target=500.0, max_seconds=30.0, episodes=8, validation_episodes=32, controller={}
    ),
    "MountainCarContinuous-v0": dict(
        target=94.0, max_seconds=60.0, episodes=8, validation_episodes=50, controller={}
    ),
    "Pendulum-v1": dict(
        target=-150.0, max_seconds=60.0, episodes=8, validation_episodes=32, controller={}
    ),
    "Acrobot-v1": dict(
        target=-80.0, max_seconds=60.0, episodes=8, validation_episodes=32, controller={}
    ),
}


class NumpyController:
    """The controller of :mod:`sim.control` in plain NumPy (vectorised over synapses): the
    peer of the numba rollout in the throughput comparison."""

    def __init__(self, ctrl: Controller):
        self.c = ctrl
        p = ctrl.parameters
        idx = {x: i for i, x in enumerate(ctrl.neurons)}
        self.n = len(ctrl.neurons)
        self.pre = np.array([idx[s["pre"]] for s in ctrl.synapses], np.int64)
        self.post = np.array([idx[s["post"]] for s in ctrl.synapses], np.int64)
        self.erev = np.array([1.0 if s["sign"] > 0 else -1.0 for s in ctrl.synapses])
        ga = np.array([idx[g["a"]] for g in ctrl.gaps], np.int64)
        gb = np.array([idx[g["b"]] for g in ctrl.gaps], np.int64)
        self.ga, self.gb = np.concatenate([ga, gb]), np.concatenate([gb, ga])
        self.gw = np.concatenate([p["gap"], p["gap"]])
        self.p = p
        self.sens = np.array([idx[x] for x in ctrl.sensory], np.int64)
        self.mot = np.array([idx[x] for x in ctrl.motor], np.int64)
        self.center = np.array(ctrl.env.obs_center)
        self.scale = np.array(ctrl.env.obs_scale)
        self.gsum = np.bincount(self.ga, self.gw, self.n)
        self.reset()

    def reset(self):
        self.v = np.zeros(self.n)

    def act(self, obs):
        c, p, n = self.c, self.p, self.n
        z = (np.asarray(obs, np.float64) - self.center) / self.scale
        cur = np.zeros(n)
        if c.input_map["kind"] == "dense":
            cur[self.sens] = p["in_b"] + p["in_w"] @ z
        else:
            cur[self.sens] = p["in_b"]
            for k, (j, a, b) in enumerate(c.in_pairs):
                zz = p["in_gain"][k] * z[j]
                cur[self.sens[a if zz > 0 else b]] += abs(zz)
        h = c.dt / c.unfolds
        cmt = p["cm"] / h
        base = p["gleak"] * p["vleak"] + cur
        v = self.v
        for _ in range(c.unfolds):
            with np.errstate(over="ignore"):  # exp -> inf gives a = 0, as in the kernel
                a = p["w"] / (1.0 + np.exp(-p["sigma"] * (v[self.pre] - p["mu"])))
            num = cmt * v + base + np.bincount(self.post, a * self.erev, n)
            num += np.bincount(self.ga, self.gw * v[self.gb], n)
            den = cmt + p["gleak"] + np.bincount(self.post, a, n) + self.gsum
            v = num / (den + 1e-8)
        self.v = v
        u = v[self.mot]
        if c.output_map["kind"] == "difference":
            y = np.array([p["out_gain"][0] * (c.out_read @ u) + p["out_b"][0]])
        else:
            y = p["out_w"] @ u + p["out_b"]
        env = c.env
        if env.discrete:
            if c.output_map["kind"] == "dense":
                return int(np.argmax(y))
            return min(int(np.floor((np.tanh(y[0]) + 1) * 0.5 * env.n_actions)), env.n_actions - 1)
        a = 0.5 * (c.act_lo + c.act_hi) + 0.5 * (c.act_hi - c.act_lo) * np.tanh(y)
        return a.astype(env.action_dtype)


def _circuit():
    return connectome.presets.tap_withdrawal(connectome.load("cook2019"))


def bench_training(env_id, seeds, circuit, seconds=None):
    """Train on every seed (at most ``seconds`` each if given); a list of per-seed dicts."""
    s = SETTINGS[env_id]
    budget = s["max_seconds"] if seconds is None else min(seconds, s["max_seconds"])
    ctrl = Controller.from_circuit(circuit, env_id, **s["controller"])
    train(ctrl, seed=0, generations=1, popsize=4, episodes=1, validation_episodes=1)  # compile
    rows = []
    for seed in seeds:
        r = train(
            ctrl, seed=seed, generations=100000, target=s["target"], max_seconds=budget,
            episodes=s["episodes"], validation_episodes=s["validation_episodes"],
        )  # fmt: skip
        ev = evaluate(r.controller, episodes=100, seed=seed)
        rows.append(
            dict(
                seed=seed,
                reason=r.reason,
                generations=r.generations,
                seconds=r.elapsed,
                validation=r.score,
                mean=ev.mean,
                min=ev.min,
                max=ev.max,
                controller=r.controller,
            )  # fmt: skip
        )
        print(
            f"  {env_id} seed {seed}: {r.reason} after {r.generations} gens, {r.elapsed:.2f} s; "
            f"validation {r.score:.1f}; gymnasium 100 eps mean {ev.mean:.1f} "
            f"(min {ev.min:.1f}, max {ev.max:.1f})",
            flush=True,
        )
    return rows


def bench_throughput(env_id, ctrl, candidates=16, episodes=8):
    """Env steps per second of the numba batch (1 thread and all threads) and of gymnasium's
    loop with :class:`NumpyController`, on the same parameters and start seeds."""
    rng = np.random.default_rng(0)
    x = np.clip(ctrl.to_unit() + 0.02 * rng.standard_normal((candidates, ctrl.n_free)), 0, 1)
    thetas = ctrl.decode(x)
    seeds = list(range(episodes))
    threads = numba.get_num_threads()
    fast = {}
    for nt in (1, threads):
        numba.set_num_threads(nt)
        best = math.inf
        for _ in range(3):
            t = time.perf_counter()
            _, lengths = rollout(ctrl, seeds, thetas)
            best = min(best, time.perf_counter() - t)
        fast[nt] = lengths.sum() / best
    numba.set_num_threads(threads)
    env = gymnasium.make(env_id)
    steps, matches, t = 0, 0, time.perf_counter()
    for p in range(candidates):
        peer = NumpyController(ctrl.with_theta(thetas[p]))
        for e in range(episodes):
            obs, _ = env.reset(seed=seeds[e])
            peer.reset()
            n = 0
            while True:
                obs, _, term, trunc, _ = env.step(peer.act(obs))
                n += 1
                if term or trunc:
                    break
            steps += n
            matches += n == lengths[p, e]
    slow = steps / (time.perf_counter() - t)
    return dict(numba1=fast[1], numba=fast[threads], threads=threads, python=slow,
                same_length=matches, episodes=candidates * episodes)  # fmt: skip


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0]
        + " Quick by default (CartPole, 1 seed: about a minute on a quiet 2-core machine); "
        "--full runs all four envs over 5 seeds (about 15 minutes)."
    )
    ap.add_argument("--full", action="store_true", help="all four envs, 5 seeds (~15 min)")
    ap.add_argument("--envs", nargs="+", default=None, help="default: CartPole-v1 (--full: all)")
    ap.add_argument("--seeds", type=int, default=None, help="default: 1 (--full: 5)")
    ap.add_argument("--seconds", type=float, default=None, help="cap on training s per run")
    ap.add_argument("--no-throughput", action="store_true")
    args = ap.parse_args(argv)
    if args.envs is None:
        args.envs = list(SETTINGS) if args.full else ["CartPole-v1"]
    if args.seeds is None:
        args.seeds = 5 if args.full else 1
    circuit = _circuit()
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, numba threads "
        f"{numba.get_num_threads()}, load {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    table, thr = [], []
    for env_id in args.envs:
        rows = bench_training(env_id, range(args.seeds), circuit, args.seconds)
        med = {k: statistics.median(r[k] for r in rows) for k in ("seconds", "mean", "generations")}
        hit = sum(r["reason"] == "target" for r in rows)
        table.append((env_id, med, hit, len(rows), max(rows, key=lambda r: r["mean"])))
        if not args.no_throughput:
            best = max(rows, key=lambda r: r["mean"])
            thr.append((env_id, bench_throughput(env_id, best["controller"])))
    print(f"\n# load at the end {os.getloadavg()[0]:.2f}")
    print("| env | target (validation) | reached | median train s | median gens | "
          "median 100-episode mean | best seed mean |")  # fmt: skip
    print("|---|---|---|---|---|---|---|")
    for env_id, med, hit, n, best in table:
        print(
            f"| {env_id} | {SETTINGS[env_id]['target']:g} | {hit}/{n} | {med['seconds']:.2f} | "
            f"{med['generations']:g} | {med['mean']:.1f} | "
            f"{best['mean']:.1f} (seed {best['seed']}) |"
        )
    if thr:
        n = thr[0][1]["threads"]
        print(
            f"\n| env | numba steps/s, 1 thread | numba, {n} threads | gymnasium+NumPy steps/s "
            f"| ratio 1 thread | ratio {n} threads | same episode lengths |"
        )
        print("|---|---|---|---|---|---|---|")
        for env_id, t in thr:
            print(
                f"| {env_id} | {t['numba1']:.3g} | {t['numba']:.3g} | {t['python']:.3g} | "
                f"{t['numba1'] / t['python']:.0f}x | {t['numba'] / t['python']:.0f}x | "
                f"{t['same_length']}/{t['episodes']} |"
            )


if __name__ == "__main__":
    main()

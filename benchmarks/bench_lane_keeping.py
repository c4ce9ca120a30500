"""Lane keeping (highway-env lane-keeping-v0): the worm's steering circuit against NCP(19).

Two parts, side by side in one process:

1. Training (:func:`sim.comparison.compare`, the trainer and baselines of ``sim compare``): the
   klinotaxis preset (Cook 2019, neuron level, 24 neurons, dorsal-minus-ventral steering:
   :func:`connectome.presets.klinotaxis`) with its baselines ``linear``, ``mlp`` (width
   matched to the circuit's parameter count) and ``full_ltc`` (a fully connected LTC of the
   same 24 neurons); and the 19-neuron NCP of Lechner et al. 2020 (12 inter, 6 command,
   1 motor; ``ncps.wirings.NCP`` imported by :func:`connectome.io.from_ncps`) with its
   ``full_ltc`` (a fully connected LTC of 19 neurons). Every run has the same CMA-ES budget
   (generations x popsize x episodes) and the same seeds. Each trained controller is scored on
   held-out episodes: the training road replayed in highway-env itself (its return equals the
   numba rollout's, checked here), the RMS lateral offset, and every road variant of
   :data:`sim.lanekeeping.VARIANTS` (other amplitudes, wavelengths, start offsets, speeds,
   and 2x / 4x highway-env's observation noise; scored by the numba port, which equals the
   highway-env twin of each variant bit for bit: tests/test_lanekeeping.py).
2. Rollout throughput: environment steps per second of the batched numba rollout against
   highway-env's own Python loop driving the NumPy twin of the same controller
   (``NumpyController`` of benchmarks/bench_train.py), on the same parameters and seeds.

Usage::

    python benchmarks/bench_lane_keeping.py            # quick: 2 seeds, 40 generations (~6 min)
    python benchmarks/bench_lane_keeping.py --full     # 5 seeds, 150 generations (~60 min)
    python benchmarks/bench_lane_keeping.py --throughput-only
"""

import argparse
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_train import NumpyController  # noqa: E402

import connectome  # noqa: E402
from connectome.io import from_ncps  # noqa: E402
from sim import lanekeeping  # noqa: E402
from sim.baselines import baseline  # noqa: E402
from sim.comparison import compare  # noqa: E402
from sim.envs import env_observe, env_spec, env_step, make_gym_env  # noqa: E402
from sim.evaluation import evaluate, rollout, start_states  # noqa: E402

ENV = "lane-keeping-v0"
# Every run restarts CMA-ES (sim.trainer's restarts) after ``patience`` generations without a
# better validation score: without restarts every model of the table settles on the same
# local optimum, circling at full lock on the start lane (return 182.08 for every seed: the
# reward never asks for progress), and the comparison says nothing.
QUICK = dict(seeds=2, generations=40, popsize=16, episodes=4, test_episodes=20, restarts=20,
             patience=8)  # fmt: skip
FULL = dict(seeds=5, generations=150, popsize=16, episodes=8, test_episodes=50, restarts=50,
            patience=10)  # fmt: skip
#: The variants in the table (every one of sim.lanekeeping.VARIANTS but the base road).
VARIANT_COLUMNS = tuple(x for x in lanekeeping.VARIANTS if x != "base")


def ncps_circuits():
    """The NCP of Lechner et al. 2020 and a fully connected LTC of the same 19 units, both from
    ``ncps.wirings`` (the 12 observations are their inputs), as circuits."""
    from ncps import wirings

    ncp = wirings.NCP(
        inter_neurons=12, command_neurons=6, motor_neurons=1, sensory_fanout=6,
        inter_fanout=4, recurrent_command_synapses=6, motor_fanin=6, seed=0,
    )  # fmt: skip
    fc = wirings.FullyConnected(19, 1, erev_init_seed=0)
    for w in (ncp, fc):
        w.build(lanekeeping.OBS_DIM)
    return from_ncps(ncp), from_ncps(fc)


def studies():
    """(name, circuit, baselines): one ``compare`` call each."""
    klino = connectome.presets.klinotaxis(connectome.load("cook2019"))
    ncp, fc = ncps_circuits()
    return [
        ("klinotaxis", klino, ("circuit", "linear", "mlp", "full_ltc")),
        ("NCP(19)", ncp, ("circuit",)),
        ("fully connected LTC(19)", fc, ("circuit",)),
    ]


def _label(study, baseline, ctrl):
    if baseline == "circuit":
        return study
    if baseline == "full_ltc":
        return f"fully connected LTC({len(ctrl.neurons)}) [{study} neurons]"
    return f"{baseline} [{study}]"


def progress(ctrl, seeds):
    """Mean distance (m) the car made along x over the episode: about 20 s x 8.3 m/s = 166 m
    when it follows the road, near 0 when it circles on the spot at full lock (which
    highway-env's reward pays about 182 of 200: the car never leaves the start lane)."""
    spec = env_spec(ENV)
    obs = np.empty(spec.obs_dim)
    out = []
    for state in start_states(ENV, seeds):
        c = ctrl.with_theta(ctrl.theta)
        c.reset()
        env_observe(spec.code, state, obs)
        x0 = state[0]
        for _ in range(spec.max_steps):
            env_step(spec.code, state, float(c.act(obs)[0]), obs)
        out.append(state[0] - x0)
    return float(np.mean(out))


def follow(obs):
    """A hand-tuned lateral-offset + heading-error steering law (not trained): what solving
    the task looks like, the reference row of the table."""
    lat = obs[8] - obs[4]  # y - reference y (m)
    return float(np.clip(-(0.08 * lat + 1.2 * (obs[9] - obs[5])), -1.0, 1.0))


def reference_row(episodes, seed=0):
    """The :func:`follow` law's row (numba port; base road equal to highway-env's)."""
    from sim.evaluation import STREAM_EVALUATION, episode_seeds

    spec = env_spec(ENV)
    seeds = episode_seeds(seed, STREAM_EVALUATION, episodes)
    obs = np.empty(spec.obs_dim)

    def run(variant):
        rets, moved = [], []
        for state in start_states(ENV, seeds, variant=variant):
            env_observe(spec.code, state, obs)
            x0, total = state[0], 0.0
            for _ in range(spec.max_steps):
                total += env_step(spec.code, state, follow(obs), obs)[0]
            rets.append(total)
            moved.append(state[0] - x0)
        return np.array(rets), float(np.mean(moved))

    base, moved = run(None)
    row = {
        "model": "reference: hand-tuned P steering (untrained)",
        "return": base.mean(),
        "lateral_rms_m": float(lanekeeping.lateral_rms(base).mean()),
        "progress_m": moved,
    }
    for name in VARIANT_COLUMNS:
        row[name] = float(run(name)[0].mean())
    return row


def score(ctrl, seed, episodes):
    """One trained controller's row: base road in highway-env, lateral RMS, every variant."""
    ev = evaluate(ctrl, episodes=episodes, seed=seed)
    numba = rollout(ctrl, ev.seeds)[0][0]
    if tuple(numba) != ev.returns:  # the port and highway-env must agree exactly
        raise AssertionError(f"numba {numba} != highway-env {ev.returns}")
    row = {
        "return": ev.mean,
        "lateral_rms_m": float(lanekeeping.lateral_rms(ev.returns).mean()),
        "progress_m": progress(ctrl, ev.seeds),
    }
    for name in VARIANT_COLUMNS:
        row[name] = float(rollout(ctrl, ev.seeds, variant=name)[0][0].mean())
    return row


def bench_training(budget, log=print):
    """One row per trained controller (model, seed, ...)."""
    rows = []
    for study, circuit, baselines in studies():
        trained = {}

        def keep(name, seed, result, trained=trained):
            trained[(name, seed)] = result

        res = compare(
            circuit, ENV, seeds=budget["seeds"], baselines=baselines,
            generations=budget["generations"], popsize=budget["popsize"],
            episodes=budget["episodes"], validation_episodes=16, restarts=budget["restarts"],
            patience=budget["patience"],
            test_episodes=budget["test_episodes"], noise_levels=(0.0,), lesions=False,
            keep_going=True, progress=keep,
        )  # fmt: skip
        for _, run in res.runs.iterrows():
            result = trained[(run["baseline"], run["seed"])]
            ctrl = result.controller
            row = {
                "model": _label(study, run["baseline"], ctrl),
                "seed": int(run["seed"]),
                "params": ctrl.n_free,
                "synapses": len(ctrl.synapses) if ctrl.core == "ltc" else None,
                "train_s": float(run["seconds"]),
                **score(ctrl, int(run["seed"]), budget["test_episodes"]),
            }
            log(f"  {row['model']:38s} seed {row['seed']}: return {row['return']:7.2f} "
                f"({row['train_s']:.0f} s)")  # fmt: skip
            rows.append(row)
    return pd.DataFrame(rows)


def summarise(runs):
    """Mean over seeds per model (training time: median)."""
    cols = ["return", "lateral_rms_m", "progress_m", *VARIANT_COLUMNS]
    g = runs.groupby("model", sort=False)
    out = g[cols].mean()
    out.insert(0, "train_s", g["train_s"].median())
    out.insert(0, "return_std", g["return"].std(ddof=0))
    out.insert(0, "seeds", g.size())
    out.insert(0, "synapses", g["synapses"].first())
    out.insert(0, "params", g["params"].first())
    return out


class NumpyFeedForward:
    """The linear and MLP baselines' core (:func:`sim.kernels.feedforward_step`) with the
    difference read-out, in NumPy: the peer of their numba rollout."""

    def __init__(self, ctrl):
        self.c, p = ctrl, ctrl.parameters
        idx = {x: i for i, x in enumerate(ctrl.neurons)}
        self.sens = np.array([idx[x] for x in ctrl.sensory])
        self.mot = np.array([idx[x] for x in ctrl.motor])
        self.rows = [
            (i, np.array([idx[s["pre"]] for s in ctrl.synapses if s["post"] == x], int),
             np.array([p["w"][k] * s["sign"] for k, s in enumerate(ctrl.synapses)
                       if s["post"] == x]))
            for i, x in enumerate(ctrl.neurons)
        ]  # fmt: skip
        self.p = p
        self.center, self.scale = np.array(ctrl.env.obs_center), np.array(ctrl.env.obs_scale)

    def reset(self):
        pass

    def act(self, obs):
        c, p = self.c, self.p
        z = (np.asarray(obs, np.float64) - self.center) / self.scale
        v = np.zeros(len(c.neurons))
        cur = np.zeros(len(c.neurons))
        cur[self.sens] = p["in_b"] + p["in_w"] @ z
        motor = set(self.mot.tolist())
        for i, pre, w in self.rows:
            acc = cur[i] + p["vleak"][i] + w @ v[pre]
            v[i] = np.tanh(acc) if c.core == "mlp" and i not in motor else acc
        y = p["out_gain"][0] * (c.out_read @ v[self.mot]) + p["out_b"][0]
        return np.array([np.tanh(y)], np.float32)


def throughput(ctrl, episodes=8, candidates=16, python_episodes=4):
    """Steps per second of the numba rollout and of highway-env's Python loop for the same
    controller: per wall-clock second (numba on all its threads) and per CPU second (the sum
    over threads; steadier on a shared machine)."""
    rng = np.random.default_rng(0)
    thetas = ctrl.decode(rng.uniform(size=(candidates, ctrl.n_free)))
    seeds = list(range(episodes))
    rollout(ctrl, seeds, thetas[:1])  # compiled
    t0, c0 = time.perf_counter(), time.process_time()
    _, lengths = rollout(ctrl, seeds, thetas)
    fast = lengths.sum() / (time.perf_counter() - t0)
    fast_cpu = lengths.sum() / (time.process_time() - c0)
    env = make_gym_env(ENV)
    one = ctrl.with_theta(thetas[0])
    npc = NumpyController(one) if ctrl.core == "ltc" else NumpyFeedForward(one)
    steps, t0, c0 = 0, time.perf_counter(), time.process_time()
    for s in seeds[:python_episodes]:
        obs, _ = env.reset(seed=s)
        npc.reset()
        done = False
        while not done:
            obs, _, term, trunc, _ = env.step(npc.act(obs))
            steps += 1
            done = term or trunc
    slow = steps / (time.perf_counter() - t0)
    slow_cpu = steps / (time.process_time() - c0)
    env.close()
    return fast, slow, fast_cpu, slow_cpu


def bench_throughput(log=print):
    """Steps per second, numba against highway-env + NumPy, for every model of the table."""
    rows = []
    for study, circuit, baselines in studies():
        for name in baselines:
            ctrl = baseline(name, circuit, ENV)
            fast, slow, fast_cpu, slow_cpu = throughput(ctrl)
            rows.append({"model": _label(study, name, ctrl), "numba_steps_s": fast,
                         "highway_env_steps_s": slow, "ratio": fast / slow,
                         "numba_cpu_steps_s": fast_cpu, "highway_env_cpu_steps_s": slow_cpu,
                         "cpu_ratio": fast_cpu / slow_cpu})  # fmt: skip
            log(f"  {rows[-1]['model']:40s} {fast:9.0f} vs {slow:6.0f} steps/s: {fast / slow:.0f}x"
                f" (per CPU second {fast_cpu / slow_cpu:.0f}x)")  # fmt: skip
    return pd.DataFrame(rows)


def main(argv=None):
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="quick (default): 2 seeds x 40 generations x 16 candidates x 4 episodes, about "
        "6 minutes on a quiet 2-core machine (about 20 on a loaded one); --full: 5 seeds x 150 "
        "generations x 16 candidates x 8 episodes, about 60 minutes quiet. CMA-ES restarts "
        "after 8 (10) generations without progress, in every run alike",
    )
    ap.add_argument("--full", action="store_true", help="the full budget (about 60 min)")
    ap.add_argument("--seeds", type=int, help="override the number of seeds")
    ap.add_argument("--generations", type=int, help="override the generations per run")
    ap.add_argument("--throughput-only", action="store_true", help="skip the training part")
    ap.add_argument("--csv", help="write the per-run table to this CSV")
    args = ap.parse_args(argv)
    budget = dict(FULL if args.full else QUICK)
    for key in ("seeds", "generations"):
        if getattr(args, key) is not None:
            budget[key] = getattr(args, key)
    pd.set_option("display.width", 250, "display.max_columns", 40)
    print("rollout throughput (numba batch vs highway-env's Python loop + NumPy controller):")
    tp = bench_throughput()
    print(tp.to_string(index=False, float_format=lambda x: f"{x:.0f}"))
    if args.throughput_only:
        return
    print(
        f"\nbudget per run: {budget['generations']} generations x {budget['popsize']} "
        f"candidates x {budget['episodes']} episodes (restart after {budget['patience']} "
        f"without progress), {budget['seeds']} seeds; scored on "
        f"{budget['test_episodes']} held-out episodes"
    )
    t0 = time.perf_counter()
    runs = bench_training(budget)
    if args.csv:
        runs.to_csv(args.csv, index=False)
    table = summarise(runs)
    ref = reference_row(budget["test_episodes"])
    table.loc[ref.pop("model")] = ref
    print(f"\nmean over seeds ({time.perf_counter() - t0:.0f} s in all):")
    print(table.to_string(float_format=lambda x: f"{x:.2f}"))


if __name__ == "__main__":
    main()

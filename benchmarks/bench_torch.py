"""Training-step time of the torch twin (sim.torch) against ncps's LTC on the same circuit.

    python benchmarks/bench_torch.py [--batch 64] [--steps 100] [--repeats 5] [--threads 1]

The tap-withdrawal circuit of Cook 2019 (9 neurons, 37 chemical synapses, 14 gap-junction
pairs) as a CartPole controller. One training step = forward over ``batch`` sequences of
``steps`` environment steps (6 unfolds each) + backward of a mean-squared loss on the outputs.
Timed, best of ``repeats`` (wall and process CPU time):

1. ``sim.torch.CircuitModule`` in float64 and float32 (with its gap junctions);
2. the peer, ``ncps.torch.LTC`` on the same chemical wiring (``connectome.io.to_ncps``; ncps
   has no gap junctions), float32 and float64;
3. the numba controller step (``Controller.act``, forward only) on the same observations, for
   scale.

Ratios against ncps in the same run are what to compare across machines; absolute times on a
shared 2-core machine move with its load.
"""

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import connectome  # noqa: E402
from sim.control import Controller  # noqa: E402


def interleaved_best(funcs, repeats):
    """Best (wall, cpu) time of each function, the functions run in turn ``repeats`` times
    (a load that drifts during the run then touches every contender alike)."""
    best = {k: [math.inf, math.inf] for k in funcs}
    for _ in range(repeats):
        for k, func in funcs.items():
            w, c = time.perf_counter(), time.process_time()
            func()
            w, c = time.perf_counter() - w, time.process_time() - c
            best[k] = [min(best[k][0], w), min(best[k][1], c)]
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=100, help="environment steps per sequence")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = ap.parse_args(argv)

    import ncps.torch
    import ncps.wirings
    import torch

    from sim.torch import CircuitModule

    torch.set_num_threads(args.threads)
    tw = connectome.presets.tap_withdrawal(connectome.load("cook2019"))
    ctrl = Controller.from_circuit(tw, "CartPole-v1")
    rng = np.random.default_rng(0)
    ctrl = ctrl.with_theta(ctrl.decode(rng.uniform(size=(1, ctrl.n_free)))[0])
    obs = rng.normal(size=(args.batch, args.steps, ctrl.env.obs_dim))
    B, T = args.batch, args.steps
    print(
        f"tap-withdrawal: {len(ctrl.neurons)} neurons, {len(ctrl.synapses)} synapses, "
        f"{len(ctrl.gaps)} gap pairs; batch {B} x {T} steps x {ctrl.unfolds} unfolds; "
        f"torch {torch.__version__}, {args.threads} thread(s)"
    )

    def train_step(model, x, call):
        model.zero_grad()
        y = call(model, x)
        loss = (y**2).mean()
        loss.backward()

    funcs, names = {}, []
    for dtype in (torch.float64, torch.float32):
        module = CircuitModule(ctrl, dtype=dtype)
        x = torch.as_tensor(obs, dtype=dtype)
        name = f"sim.torch CircuitModule {str(dtype)[6:]}"
        funcs[name, "fwd"] = lambda m=module, x=x: m(x)
        funcs[name, "full"] = lambda m=module, x=x: train_step(m, x, lambda m, x: m(x)[0])
        names.append(name)
    config = connectome.io.to_ncps(tw)
    for dtype in (torch.float32, torch.float64):
        ltc = ncps.torch.LTC(
            config["input_dim"], ncps.wirings.Wiring.from_config(config), batch_first=True
        ).to(dtype)
        x = torch.as_tensor(obs, dtype=dtype)[..., : config["input_dim"]]
        name = f"ncps.torch.LTC {str(dtype)[6:]} (no gaps)"
        funcs[name, "fwd"] = lambda m=ltc, x=x: m(x)
        funcs[name, "full"] = lambda m=ltc, x=x: train_step(m, x, lambda m, x: m(x)[0])
        names.append(name)

    def numba_forward():
        for b in range(B):
            ctrl.reset()
            for t in range(T):
                ctrl.act(obs[b, t])

    numba_forward()  # compile
    funcs["numba", "fwd"] = numba_forward
    best = interleaved_best(funcs, args.repeats)
    rows = [(name, best[name, "fwd"], best[name, "full"]) for name in names]
    nb = best["numba", "fwd"]

    ref = rows[2][2][1]  # CPU time: other jobs on a shared machine do not inflate it
    print(f"{'':38s} {'forward':>18s} {'forward+backward':>24s}   cpu vs ncps f32")
    for name, fwd, full in rows:
        print(
            f"{name:38s} {fwd[0] * 1e3:8.1f} ms ({fwd[1] * 1e3:6.1f} cpu) "
            f"{full[0] * 1e3:9.1f} ms ({full[1] * 1e3:7.1f} cpu)   {full[1] / ref:5.2f}x"
        )
    name = "numba Controller.act (forward only)"
    print(f"{name:38s} {nb[0] * 1e3:8.1f} ms ({nb[1] * 1e3:6.1f} cpu)")
    (wall, cpu) = rows[0][2]
    print(
        f"sim.torch float64 training step (batch {B}): {wall:.3f} s wall, {cpu:.3f} s cpu "
        f"= {cpu / T * 1e3:.2f} ms cpu per env step"
    )


if __name__ == "__main__":
    main()

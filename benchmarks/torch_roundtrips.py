"""Largest differences of every sim.torch round trip, in float64.

    python benchmarks/torch_roundtrips.py [--steps 2000] [--batch 8]

1. numba controller step (``Controller.act``) vs ``sim.torch.CircuitModule``: potentials over
   ``steps`` steps of random observations, the tap-withdrawal CartPole controller with its gap
   junctions and without them, random parameters (absolute, and relative to max(1, |v|));
2. controller -> CircuitModule -> controller: parameters (theta);
3. trained ncps ``LTC`` / ``LTCCell`` (implicit_param_constraints True and False, every
   parameter perturbed, erev included) -> ``from_ncps`` controller: outputs;
4. that controller -> ``to_ncps`` -> ncps LTC: outputs;
5. ``save_ncps`` -> ``load_ncps``: parameters and outputs.
"""

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import connectome  # noqa: E402
from sim.control import Controller  # noqa: E402


def act_sequence(ctrl, xs):
    """Potentials (B, T, n) and actions (B, T, k) of the numba step."""
    vs = np.zeros(xs.shape[:2] + (len(ctrl.neurons),))
    acts = []
    for b in range(xs.shape[0]):
        ctrl.reset()
        row = []
        for t in range(xs.shape[1]):
            row.append(np.atleast_1d(ctrl.act(xs[b, t])).astype(np.float64))
            vs[b, t] = ctrl.v
        acts.append(row)
    return vs, np.array(acts)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=8)
    args = ap.parse_args(argv)

    import ncps.torch
    import ncps.wirings
    import torch

    from sim.torch import CircuitModule, from_ncps, load_ncps, save_ncps, to_ncps

    rng = np.random.default_rng(0)
    tw = connectome.presets.tap_withdrawal(connectome.load("cook2019"))
    base = Controller.from_circuit(tw, "CartPole-v1")
    for label, gaps in (("with gap junctions", base.gaps), ("without gap junctions", ())):
        c = Controller(
            base.neurons, base.roles, base.synapses, gaps, base.env, base.input_map,
            base.output_map, None,
        )  # fmt: skip
        c = c.with_theta(c.decode(rng.uniform(size=(1, c.n_free)))[0])
        xs = rng.normal(size=(args.batch, args.steps, 4))
        with torch.no_grad():
            _, v = CircuitModule(c)(torch.from_numpy(xs))
        ref, _ = act_sequence(c, xs)
        d = np.abs(v.numpy() - ref)
        print(
            f"1. numba vs torch, tap-withdrawal {label}, {args.batch} x {args.steps} steps: "
            f"max |dv| {d.max():.2e} (relative {(d / np.maximum(1, np.abs(ref))).max():.2e}, "
            f"max |v| {np.abs(ref).max():.3g})"
        )
        back = CircuitModule(c).to_controller()
        print(
            f"2. controller -> module -> controller ({label}): max |d theta| "
            f"{np.abs(back.theta - c.theta).max():.2e}, relative "
            f"{(np.abs(back.theta - c.theta) / np.abs(c.theta)).max():.2e}"
        )

    xs = rng.normal(size=(4, 500, 6))
    worst_in, worst_out, worst_file = 0.0, 0.0, 0.0
    for implicit in (True, False):
        for kind in ("LTC", "LTCCell"):
            torch.manual_seed(1)
            ltc = ncps.torch.LTC(6, ncps.wirings.AutoNCP(16, 4, seed=2),
                                 implicit_param_constraints=implicit).double()  # fmt: skip
            with torch.no_grad():
                for name, p in ltc.rnn_cell.named_parameters():
                    if not p.requires_grad:
                        continue
                    if "erev" in name:
                        p.mul_(0.6 + 0.4 * torch.rand_like(p))
                    else:
                        p.add_(0.3 * torch.randn_like(p))
            if not implicit:
                ltc.rnn_cell.apply_weight_constraints()
            with torch.no_grad():
                ref = ltc(torch.from_numpy(xs))[0].numpy()
            model = ltc
            if kind == "LTCCell":
                wiring = ncps.wirings.AutoNCP(16, 4, seed=2)
                model = ncps.torch.LTCCell(wiring, 6, implicit_param_constraints=implicit)
                model = model.double()
                model.load_state_dict(ltc.rnn_cell.state_dict())
            ctrl = from_ncps(model)
            _, out = act_sequence(ctrl, xs)
            d = np.abs(out - ref).max()
            worst_in = max(worst_in, d)
            print(f"3. ncps {kind} (implicit={implicit}) -> controller: max |dy| {d:.2e}")
            for imp in (True, False):
                back = to_ncps(ctrl, implicit_param_constraints=imp)
                with torch.no_grad():
                    y = back(torch.from_numpy(xs))[0].numpy()
                worst_out = max(worst_out, np.abs(y - out).max())
            with tempfile.TemporaryDirectory() as tmp:
                save_ncps(ltc, Path(tmp) / "ltc.json")
                again = load_ncps(Path(tmp) / "ltc.json")
            with torch.no_grad():
                y = again(torch.from_numpy(xs))[0].numpy()
            same = all(
                torch.equal(a, b)
                for a, b in zip(ltc.state_dict().values(), again.state_dict().values(), strict=True)
            )
            worst_file = max(worst_file, np.abs(y - ref).max())
            assert same
    print(f"3. worst ncps -> controller: {worst_in:.2e}")
    print(f"4. worst controller -> ncps LTC (both constraint modes): max |dy| {worst_out:.2e}")
    print(f"5. save_ncps -> load_ncps: parameters bit-equal, max |dy| {worst_file:.2e}")


if __name__ == "__main__":
    main()

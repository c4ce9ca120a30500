"""How far the graded model's default step (0.1 ms) is from a fine one (12.5 µs).

Varshney 2011, 2000 pA into PLML and PLMR from t = 0 (the PLM preset), default parameters,
both runs recorded every 0.5 ms. Prints the largest |V(dt) - V(fine)| at the end of the run
over the ventral cord motor neurons and over all neurons, and the largest over the whole run
(the onset transient, where stimulated neurons charge by volts).

    PYTHONPATH=$PWD python benchmarks/bench_graded_dt.py [--duration 0.5] [--dt 1e-4]
"""

import argparse

import numpy as np

import connectome
from sim.compiler import compile_circuit
from sim.runner import simulate
from sim.stimulus import step

CORD = ("VA", "VB", "DA", "DB", "VD", "DD", "AS")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=0.5, help="s (default: %(default)s)")
    ap.add_argument("--dt", type=float, default=1e-4, help="step to test, s (default: %(default)s)")
    ap.add_argument("--fine", type=float, default=12.5e-6, help="reference step, s")
    ap.add_argument("--signs", default="transmitter", help="sign set (default: %(default)s)")
    args = ap.parse_args(argv)
    cc = compile_circuit(connectome.load("varshney2011"), "graded")
    cc = compile_circuit(
        connectome.load("varshney2011"), "graded", cc.params.replace(signs=args.signs)
    )
    record = 5e-4  # s
    runs = [
        simulate(
            cc, step("PLM", 2000.0), duration=args.duration, dt=h, record_every=round(record / h)
        )  # fmt: skip
        for h in (args.dt, args.fine)
    ]
    coarse, fine = (r.V.astype(np.float64) for r in runs)
    diff = np.abs(coarse - fine)
    cord = [i for i, c in enumerate(cc.neurons["class"]) if c in CORD]
    when = runs[0].t[diff.max(axis=1).argmax()]
    print(f"dt {args.dt:g} s vs {args.fine:g} s, Varshney 2011, 2000 pA into PLM, "
          f"{args.duration:g} s (signs {args.signs}):")  # fmt: skip
    print(f"  at t = {args.duration:g} s: cord motor neurons {diff[-1, cord].max():.3g} mV, "
          f"all neurons {diff[-1].max():.3g} mV")  # fmt: skip
    print(f"  over the run: {diff.max():.3g} mV (at t = {when:.4g} s)")


if __name__ == "__main__":
    main()

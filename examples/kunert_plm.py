"""Reproduce Kunert, Shlizerman & Kutz 2014 (Phys Rev E 89:052805, doi:10.1103/PhysRevE.89.052805):
a constant current into the PLM touch neurons drives the ventral cord motor neurons of the
Varshney 2011 connectome from a fixed point into a two-mode oscillation.

Run:  python examples/kunert_plm.py [--out kunert_plm.png] [--duration 15]

Prints the period, the amplitude and the variance carried by the first principal components of
the motor neurons, and the largest deviation from rest without input; saves a plot of the
motor neurons' potentials and of the first two modes' trajectory.
"""

import argparse

import numpy as np

import connectome
from sim.analysis import oscillation_summary, pca
from sim.compiler import compile_circuit
from sim.runner import simulate
from sim.stimulus import step

#: Ventral cord motor neuron classes (A-, B-, D- and AS-types).
MOTOR = ["VA", "VB", "DA", "DB", "VD", "DD", "AS"]
PLM_CURRENT = 2000.0  # pA into each of PLML and PLMR (the Neural Interactome's 0.2 preset)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="kunert_plm.png", help="plot file (png)")
    ap.add_argument("--duration", type=float, default=15.0, help="model time, s")
    ap.add_argument("--settle", type=float, default=5.0, help="transient left out, s")
    args = ap.parse_args(argv)

    cc = compile_circuit(connectome.load("varshney2011"), "graded")
    rest = simulate(cc, duration=2.0, record_every=10)
    drift = float(np.abs(rest.V - rest.V[0]).max())
    run = simulate(cc, step("PLM", PLM_CURRENT), duration=args.duration, record_every=10)
    osc = oscillation_summary(run, MOTOR, start=args.settle)
    print(f"no input: largest deviation from the fixed point over 2 s = {drift:.2e} mV")
    print(f"PLM {PLM_CURRENT:g} pA: period {osc.period:.3f} s (autocorrelation {osc.strength:.3f})")
    print(
        "variance explained by modes 1-4: "
        + ", ".join(f"{e:.4f}" for e in osc.explained)
        + f"  (first two: {sum(osc.explained[:2]):.4f})"
    )
    print(
        f"amplitude: largest motor neuron peak-to-peak {osc.amplitude:.2f} mV; "
        f"modes 1, 2 peak-to-peak {osc.amplitude_pc[0]:.2f}, {osc.amplitude_pc[1]:.2f} mV"
    )

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.5))
    idx = run.indices(MOTOR)
    settled = run.t >= args.settle
    centred = run.V[:, idx] - run.V[settled][:, idx].mean(axis=0)
    a.plot(run.t, centred, lw=0.5)
    a.set(
        xlabel="t (s)",
        ylabel="V - mean V (mV)",
        title=f"{len(idx)} ventral cord motor neurons, PLM on at t = 0",
    )
    lim = np.abs(centred[settled]).max() * 1.3
    a.set_ylim(-lim, lim)
    p = pca(run, MOTOR, start=args.settle, n_components=2)
    b.plot(p.projections[:, 0], p.projections[:, 1], lw=0.8)
    b.set(
        xlabel=f"mode 1 ({p.explained[0]:.1%}) (mV)",
        ylabel=f"mode 2 ({p.explained[1]:.1%}) (mV)",
        title=f"limit cycle, period {osc.period:.2f} s",
    )
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"plot saved to {args.out}")


if __name__ == "__main__":
    main()

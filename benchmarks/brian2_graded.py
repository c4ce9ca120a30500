"""The graded model of Kunert et al. 2014 in Brian2, run by benchmarks/bench_peers.py.

    /work/venvs/brian2/bin/python benchmarks/brian2_graded.py NETWORK.npz OUT.npz runtime
    /work/venvs/brian2/bin/python benchmarks/brian2_graded.py NETWORK.npz OUT.npz \
        cpp_standalone build PROJECT_DIR

Runs under Brian2's own interpreter (it needs a C++ compiler and, at 2.9.0, numpy < 2.4: see
benchmarks/README.md), so it imports nothing from wormlab: the network comes in ``NETWORK.npz``
(written by bench_peers.py) and the recorded potentials go to ``OUT.npz``. ``DEVICE`` is
``runtime`` (Cython code generation; the first step, which generates and compiles the code, is
timed apart as ``build``) or ``cpp_standalone``, whose project is generated and compiled into
``PROJECT_DIR`` and run once (bench_peers.py then runs its ``main`` binary for every repeat).
Prints one JSON line: ``run`` (wall s of the simulation), ``loop`` (Brian2's own measurement
of it), ``build``.

The equations are the same as wormlab's (doi:10.1103/PhysRevE.89.052805), in mV, pF, pS, s::

    C dV/dt = Gc (Ec - V) + sum_syn g s_pre (E - V) + sum_gap w (V_pre - V) + I
    ds/dt   = ar phi(V) (1 - s) - ad s,    phi = 1 / (1 + exp(-beta (V - Vth)))

written with summed variables so that the equation of V is linear in V and that of s linear in
s; Brian2's ``exponential_euler`` then integrates each exactly over a step with the synaptic
and gap-junction sums and ``phi`` frozen at the step's start (exponential Euler, first order,
stable at any dt: Cook 2019's gap junctions make explicit methods blow up at 0.1 ms).
"""

import json
import sys
import time

import numpy as np


def main(network, out, device, mode="run", project=None):
    import brian2 as b2

    net = np.load(network)
    n = int(net["n"])
    dt = float(net["dt"])
    nsteps = int(net["nsteps"])
    record_every = int(net["record_every"])
    if device == "cpp_standalone":
        b2.set_device("cpp_standalone", directory=project, build_on_run=False)
    else:
        b2.prefs.codegen.target = "cython"
    b2.prefs.core.default_float_dtype = np.float64
    b2.defaultclock.dt = dt * b2.second
    eqs = """
    dv/dt = (Gc*Ec + isyn + igap + iext - (Gc + gsyn + gsum)*v) / C / second : 1
    ds/dt = (ar*phi*(1 - s) - ad*s) / second : 1
    phi = 1 / (1 + exp(-beta*(v - vth))) : 1
    gsyn : 1
    isyn : 1
    igap : 1
    C : 1 (constant)
    Gc : 1 (constant)
    Ec : 1 (constant)
    gsum : 1 (constant)
    ar : 1 (constant)
    ad : 1 (constant)
    beta : 1 (constant)
    vth : 1 (constant)
    iext : 1 (constant)
    """
    group = b2.NeuronGroup(n, eqs, method="exponential_euler")
    for name in ("C", "Gc", "Ec", "gsum", "ar", "ad", "beta", "vth", "iext"):
        setattr(group, name, net[name])
    group.v = net["v0"]
    group.s = net["s0"]
    chem = b2.Synapses(
        group,
        group,
        "g : 1 (constant)\nge : 1 (constant)\n"
        "gsyn_post = g*s_pre : 1 (summed)\nisyn_post = ge*s_pre : 1 (summed)",
    )
    chem.connect(i=net["pre"], j=net["post"])
    chem.g = net["g"]
    chem.ge = net["ge"]
    gap = b2.Synapses(group, group, "w : 1 (constant)\nigap_post = w*v_pre : 1 (summed)")
    gap.connect(i=net["gpre"], j=net["gpost"])
    gap.w = net["gw"]
    mon = b2.StateMonitor(group, "v", record=True, dt=record_every * dt * b2.second)
    network_ = b2.Network(group, chem, gap, mon)
    duration = nsteps * dt * b2.second
    if device == "cpp_standalone":
        tic = time.perf_counter()
        network_.run(duration)
        b2.device.build(directory=project, run=False)
        build = time.perf_counter() - tic
        tic = time.perf_counter()
        b2.device.run()
        run = time.perf_counter() - tic
        with open(f"{project}/results/last_run_info.txt") as f:
            times = float(f.read().split()[0])  # the simulation loop alone, timed by Brian2
    else:
        tic = time.perf_counter()
        network_.run(dt * b2.second)  # code generation and Cython compilation
        build = time.perf_counter() - tic
        tic = time.perf_counter()
        network_.run(duration - dt * b2.second)
        run = time.perf_counter() - tic
        times = run
    v = np.asarray(mon.v)  # (n, records), first record at t = 0
    np.savez(out, v=v.T)
    print(json.dumps({"run": run, "loop": float(times), "build": build, "records": v.shape[1]}))


if __name__ == "__main__":
    main(*sys.argv[1:])

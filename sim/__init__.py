"""wormlab's simulator: numba neuron models, stimulation, analysis and controllers.

Layers: :mod:`sim.models` (parameters), :mod:`sim.compile` (circuit -> arrays),
:mod:`sim.kernels` (numba), :mod:`sim.stimulus`, :mod:`sim.simulate`, :mod:`sim.analysis`;
sweeps and lesion screens: :mod:`sim.sweeps`, :mod:`sim.screens` (run in-process or on dask by
:mod:`sim.distributed`, resumable through :mod:`sim.sweepstore`);
controllers: :mod:`sim.envs`, :mod:`sim.control`, :mod:`sim.train` (many runs as tasks:
:mod:`sim.train_runs`).
"""

from sim import envs
from sim.analysis import (
    OscillationSummary,
    PCAResult,
    PeriodEstimate,
    dominant_period,
    oscillation_summary,
    pca,
    response_summary,
)
from sim.compile import CompiledCircuit, Wiring, compile, graded_thresholds
from sim.models import GradedParams, LTCParams, default_params, map_weights
from sim.screens import screen
from sim.simulate import SimResult, simulate, simulate_batch
from sim.stimulus import Stimulus, array, noise, parse_stimulus, pulse_train, ramp, sine, step
from sim.sweeps import SweepSpec, sweep, sweep_spec

__all__ = [
    "CompiledCircuit",
    "GradedParams",
    "LTCParams",
    "OscillationSummary",
    "PCAResult",
    "PeriodEstimate",
    "SimResult",
    "Stimulus",
    "SweepSpec",
    "Wiring",
    "array",
    "compile",
    "default_params",
    "dominant_period",
    "envs",
    "graded_thresholds",
    "map_weights",
    "noise",
    "oscillation_summary",
    "parse_stimulus",
    "pca",
    "pulse_train",
    "ramp",
    "response_summary",
    "simulate",
    "simulate_batch",
    "screen",
    "sine",
    "step",
    "sweep",
    "sweep_spec",
    "warmup",
]


def warmup() -> None:
    """Compile every numba kernel once (from the on-disk cache when it is warm)."""
    from sim.simulate import warmup as warm_simulator

    warm_simulator()
    envs.warmup()

"""wormlab's simulator: numba neuron models, stimulation, analysis and controllers.

Layers: :mod:`sim.models` (parameters), :mod:`sim.compiler` (circuit -> arrays),
:mod:`sim.kernels` (numba), :mod:`sim.stimulus`, :mod:`sim.runner`, :mod:`sim.analysis`;
controllers: :mod:`sim.envs`, :mod:`sim.control`, :mod:`sim.train`.
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
from sim.compiler import CompiledCircuit, Wiring, compile_circuit, graded_thresholds
from sim.models import GradedParams, LTCParams, default_params, map_weights
from sim.runner import SimResult, simulate, simulate_batch
from sim.stimulus import Stimulus, array, noise, parse_stimulus, pulse_train, ramp, sine, step

__all__ = [
    "CompiledCircuit",
    "GradedParams",
    "LTCParams",
    "OscillationSummary",
    "PCAResult",
    "PeriodEstimate",
    "SimResult",
    "Stimulus",
    "Wiring",
    "array",
    "compile_circuit",
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
    "sine",
    "step",
    "warmup",
]


def warmup() -> None:
    """Compile every numba kernel once (from the on-disk cache when it is warm)."""
    from sim.runner import warmup as warm_simulator

    warm_simulator()
    envs.warmup()

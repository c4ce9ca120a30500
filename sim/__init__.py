"""wormlab's simulator: numba neuron models, stimulation, analysis and controllers.

Layers: :mod:`sim.models` (parameters), :mod:`sim.compile` (circuit -> arrays),
:mod:`sim.kernels` (numba), :mod:`sim.stimulus`, :mod:`sim.simulate`, :mod:`sim.analysis`;
controllers: :mod:`sim.envs`, :mod:`sim.control`, :mod:`sim.train`; the body (optional
extra ``wormlab[body]``): :mod:`sim.muscles`, :mod:`sim.body`.
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
from sim.body import BodyParams, BodyResult, drive_body, simulate_body
from sim.compile import CompiledCircuit, Wiring, compile, graded_thresholds
from sim.models import GradedParams, LTCParams, default_params, map_weights
from sim.muscles import MuscleParams, NeuromuscularMap, neuromuscular_map
from sim.simulate import SimResult, simulate, simulate_batch
from sim.stimulus import Stimulus, array, noise, parse_stimulus, pulse_train, ramp, sine, step

__all__ = [
    "BodyParams",
    "BodyResult",
    "CompiledCircuit",
    "GradedParams",
    "LTCParams",
    "MuscleParams",
    "NeuromuscularMap",
    "OscillationSummary",
    "PCAResult",
    "PeriodEstimate",
    "SimResult",
    "Stimulus",
    "Wiring",
    "array",
    "compile",
    "default_params",
    "dominant_period",
    "drive_body",
    "envs",
    "graded_thresholds",
    "map_weights",
    "neuromuscular_map",
    "noise",
    "oscillation_summary",
    "parse_stimulus",
    "pca",
    "pulse_train",
    "ramp",
    "response_summary",
    "simulate",
    "simulate_body",
    "simulate_batch",
    "sine",
    "step",
    "warmup",
]


def warmup() -> None:
    """Compile every numba kernel once (from the on-disk cache when it is warm)."""
    from sim.simulate import warmup as warm_simulator

    warm_simulator()
    envs.warmup()

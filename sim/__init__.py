"""wormlab's simulator: numba neuron models, stimulation, analysis and controllers.

Layout (one job per module)
---------------------------
Simulating a circuit:

- :mod:`sim.models` -- neuron model parameters (``ltc``, ``graded``) and weight maps;
- :mod:`sim.compiler` -- a circuit or connectome as CSR arrays (:func:`compile_circuit`);
- :mod:`sim.kernels` -- every numba kernel (models, stimuli, time loop, controllers);
- :mod:`sim.stimulus` -- per-neuron current protocols;
- :mod:`sim.runner` -- runs one or many protocols (:func:`simulate`, :func:`simulate_batch`);
- :mod:`sim.analysis` -- PCA, periods, response summaries of a :class:`SimResult`.

Controllers:

- :mod:`sim.envs` -- the description of every environment, and the numba ports;
- :mod:`sim.ranges` -- parameter groups and their training ranges;
- :mod:`sim.control` -- the :class:`Controller` (circuit + input and output maps);
- :mod:`sim.evaluation` -- rollouts and replays in gymnasium (:func:`evaluate`);
- :mod:`sim.trainer` -- CMA-ES training (:func:`train`);
- :mod:`sim.priors` -- the connectome as a prior: sign models, count-based initial strengths;
- :mod:`sim.baselines` -- baseline controllers (linear, MLP, shuffled, no interneurons, ...);
- :mod:`sim.comparison` -- a circuit against its baselines on held-out episodes
  (:func:`compare`);
- :mod:`sim.lesions` -- single-synapse lesions of a trained LTC controller;
- :mod:`sim.checkpoint` -- training checkpoints; :mod:`sim.jsonfile` -- atomic JSON files.

Sweeps and lesion screens:

- :mod:`sim.sweeps` -- a grid of points over one base run, one row of metrics per point
  (:func:`sweep`);
- :mod:`sim.screens` -- single or pairwise ablations ranked against the baseline
  (:func:`screen`);
- :mod:`sim.distributed` -- runs tasks in-process or on dask.distributed (also for
  :mod:`sim.train_runs`, several training runs as tasks);
- :mod:`sim.sweepstore` -- the resumable Parquet output; :mod:`sim.sweep_cli` -- their
  command lines.

Plumbing: :mod:`sim.threads` (BLAS thread limit), :mod:`sim.cli` (``python -m sim``).

The body (optional extra ``wormlab[body]``): :mod:`sim.muscles` (neuromuscular map,
muscle layer), :mod:`sim.body` (ElegansBot body driven by the muscles).
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
from sim.baselines import BASELINES, baseline
from sim.body import BodyParams, BodyResult, drive_body, simulate_body
from sim.comparison import CompareResult, compare
from sim.compiler import CompiledCircuit, Wiring, compile_circuit, graded_thresholds
from sim.control import Controller, default_output_neurons, load_controller
from sim.envs import ENV_IDS, EnvSpec, env_info, env_spec
from sim.evaluation import EvalResult, episode_seeds, evaluate, rollout
from sim.models import (
    KUNERT2014_INHIBITORY,
    SIGN_SETS,
    GradedParams,
    LTCParams,
    default_params,
    map_weights,
)
from sim.muscles import MuscleParams, NeuromuscularMap, neuromuscular_map
from sim.ranges import DEFAULT_RANGES, ParamRange
from sim.runner import SimResult, simulate, simulate_batch
from sim.screens import screen
from sim.stimulus import Stimulus, array, noise, parse_stimulus, pulse_train, ramp, sine, step
from sim.sweeps import SweepSpec, sweep, sweep_spec
from sim.trainer import TrainResult, train

__all__ = [
    "BASELINES",
    "BodyParams",
    "BodyResult",
    "CompareResult",
    "CompiledCircuit",
    "Controller",
    "DEFAULT_RANGES",
    "ENV_IDS",
    "EnvSpec",
    "EvalResult",
    "GradedParams",
    "KUNERT2014_INHIBITORY",
    "SIGN_SETS",
    "LTCParams",
    "MuscleParams",
    "NeuromuscularMap",
    "OscillationSummary",
    "PCAResult",
    "ParamRange",
    "PeriodEstimate",
    "SimResult",
    "Stimulus",
    "SweepSpec",
    "TrainResult",
    "Wiring",
    "array",
    "baseline",
    "compare",
    "compile_circuit",
    "default_output_neurons",
    "default_params",
    "dominant_period",
    "drive_body",
    "env_info",
    "env_spec",
    "envs",
    "episode_seeds",
    "evaluate",
    "graded_thresholds",
    "load_controller",
    "map_weights",
    "neuromuscular_map",
    "noise",
    "oscillation_summary",
    "parse_stimulus",
    "pca",
    "pulse_train",
    "ramp",
    "response_summary",
    "rollout",
    "screen",
    "simulate",
    "simulate_body",
    "simulate_batch",
    "sine",
    "step",
    "sweep",
    "sweep_spec",
    "train",
    "warmup",
]


def warmup() -> None:
    """Compile every numba kernel once (from the on-disk cache when it is warm)."""
    from sim.runner import warmup as warm_simulator

    warm_simulator()
    envs.warmup()

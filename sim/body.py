"""The body: motor neurons -> muscles -> ElegansBot's Newtonian worm, and what it did.

Optional: needs the ``body`` extra (``pip install 'wormlab[body]'``, i.e. ``elegansbot``),
imported only inside the functions that step the body.

The body model
--------------
ElegansBot (Chung, Chang & Kim 2024, eLife 12:RP92562, doi:10.7554/eLife.92562; MIT; the
``elegansbot`` 1.0.2 package): 25 rigid rods of a 1 mm, 2 µg worm joined by 24 damped
torsion springs whose rest angles are the *target joint angles*; agar or water friction
(perpendicular / parallel coefficients 1.28e8 / 3.2e6 µg/s on agar, 5.2e3 / 3.47e3 in water).
Its conventions, read from its source: rod 0 is the head (``xy_tip_log[:, :, 0]`` is drawn as
"Head position"); joint j sits between rods j and j + 1, so joint 0 is nearest the head; with
the default ``polarity_clockwise=False`` a positive joint angle (``Worm.theta``/``Worm.act``)
bends the body with its dorsal side concave (checked in tests/test_body.py); the worm starts
straight along +x with the head at +x; its default step is 10 µs and its demos use 50 µs.

Muscles to joints
-----------------
The 95 body-wall muscles lie in 24 rows per quadrant (01 at the head, 24 at the tail), the
ElegansBot body has 24 joints: muscle row r drives joint r - 1. A row's dorsal contraction
``D_r`` is the mean of ``max(A, 0)`` over MDL_r and MDR_r, its ventral ``V_r`` over MVL_r and
MVR_r (MVR24 alone in row 24), and the joint's target angle is

    theta_(r-1) = max_angle * tanh((D_r - V_r) / drive_scale)

with ``max_angle`` = 0.7 rad (the amplitude of ElegansBot's own crawling demo) and
``drive_scale`` = 8 mV (1/beta of the Kunert model: the width of its presynaptic sigmoid).
Each neuron's drive is its potential relative to its sigmoid threshold ``Vth`` (graded model;
recomputed for each constant-input epoch as the network itself does; or the no-input ``Vth``
with ``MuscleParams(reference="rest")``) or to ``vleak`` (ltc).

Coupling
--------
One-way (the default): neurons -> muscles -> body. The body steps at its own ``dt`` in
lockstep with the network's record interval (the control interval; 0.1 ms when every network
step is recorded): each interval's target angles are held for ``control_dt / dt`` body steps.
With no feedback from the body to the network this equals interleaving the two step by step,
so the network runs first.

Two-way, with proprioceptive feedback (:class:`FeedbackParams`; Wen et al. 2012, Neuron
76:750, doi:10.1016/j.neuron.2012.08.039): the curvature of the body anterior to each B-type
motor neuron (VB, DB) is an input current to it. The network, the muscles and the body then
advance together one control interval at a time (:func:`simulate_body` with ``feedback``):
the posture at the start of interval k gives the feedback current held through it, the
network steps through interval k (:class:`sim.runner.BatchRun`, the current written into an
``array`` stimulus's samples one interval ahead of the kernel), the muscles take the motor
neurons' drive at its start and the body steps through it. The loop thus has one control
interval of sensory delay. With gain 0 the numbers equal the one-way run bit for bit (the
muscle and joint sums are taken row by row, :func:`sim.muscles.weigh_rows`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from connectome import limits
from connectome.errors import SimulationError
from sim.muscles import (
    MuscleParams,
    muscle_activation,
    muscle_input,
    neuromuscular_map,
    sparse_rows,
    weigh_rows,
)

__all__ = [
    "FRICTION",
    "PRESETS",
    "BodyParams",
    "BodyResult",
    "FeedbackParams",
    "Proprioception",
    "proprioception",
    "MAX_FEEDBACK_GAIN",
    "MAX_FEEDBACK_REACH",
    "ROD_LENGTH",
    "joint_targets",
    "joint_weights",
    "neuron_drive",
    "run_body",
    "drive_body",
    "simulate_body",
    "travelling_wave",
    "describe",
    "add_cli_arguments",
    "run_cli",
    "cli_options",
    "warmup",
]

#: ElegansBot's friction coefficients (perpendicular bT, parallel bII), µg/s.
FRICTION = {"agar": (1.28e8, 1.28e8 / 40), "water": (5.2e3, 5.2e3 / 1.5)}

N_RODS = 25  # ElegansBot's default body
N_JOINTS = N_RODS - 1

#: One-click body experiments (graded Kunert model, currents in pA into each named neuron).
PRESETS = {
    "plm": {
        "label": "PLM touch",
        "stimuli": ("PLM:step:amp=2000",),
        "note": "Posterior touch: 2000 pA into PLML and PLMR from 0 s (Kunert et al. 2014's "
        "PLM input, the Neural Interactome's 0.2). A touched tail makes a real worm speed "
        "forward (Chalfie et al. 1985, doi:10.1523/JNEUROSCI.05-04-00956.1985).",
    },
    "alm_avm": {
        "label": "ALM/AVM touch",
        "stimuli": ("ALM:step:amp=2000", "AVM:step:amp=2000"),
        "note": "Anterior touch: 2000 pA into ALML, ALMR and AVM from 0 s. A real worm "
        "backs away (Chalfie et al. 1985).",
    },
    "ava": {
        "label": "AVA activation",
        "stimuli": ("AVA:step:amp=1000,start=0.5",),
        "note": "1000 pA into AVAL and AVAR from 0.5 s: the reversal command interneurons.",
    },
    "avb": {
        "label": "AVB activation",
        "stimuli": ("AVB:step:amp=1000,start=0.5",),
        "note": "1000 pA into AVBL and AVBR from 0.5 s: the forward command interneurons.",
    },
}


@dataclass(frozen=True)
class BodyParams:
    """How muscle activation bends ElegansBot's body, and how the run is recorded.

    Attributes
    ----------
    friction : {"agar", "water"}
        ElegansBot's friction coefficients (:data:`FRICTION`).
    dt : float
        Body step, s (5e-5, ElegansBot's demos; its default 1e-5 moves the demo worm 0.4 %
        further over 2 s at five times the cost).
    max_angle : float
        Largest target joint angle, rad (0.7: the amplitude of ElegansBot's crawling demo).
    drive_scale : float
        Dorsal-minus-ventral activation giving ``tanh(1)`` of ``max_angle``, mV (8 = 1/beta of
        the Kunert model).
    record_dt : float
        Interval between recorded postures, s (0.01; rounded to a whole number of control
        intervals).
    still_speed : float
        Mean speed along the body axis (over the second half of a run) below which the worm
        went nowhere, mm/s (0.01; crawling worms move at about 0.1-0.3 mm/s).
    """

    friction: str = "agar"
    dt: float = 5e-5  # s
    max_angle: float = 0.7  # rad
    drive_scale: float = 8.0  # mV
    record_dt: float = 0.01  # s
    still_speed: float = 0.01  # mm/s

    def __post_init__(self):
        if self.friction not in FRICTION:
            raise SimulationError(f"friction = {self.friction!r}; use one of {', '.join(FRICTION)}")
        for name in ("dt", "max_angle", "drive_scale", "record_dt", "still_speed"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise SimulationError(f"body parameter {name} = {value!r} must be a number > 0")


#: Largest |feedback gain|, pA mm: 1e4 pA mm at the largest target curvature (0.7 rad over a
#: 0.04 mm rod, 17.5/mm) is 175 nA, ~90 times the 2000 pA PLM touch; beyond, only saturation.
MAX_FEEDBACK_GAIN = 1e4  # pA mm
#: Largest proprioceptive reach, mm: the body is 1 mm long.
MAX_FEEDBACK_REACH = 1.0  # mm
ROD_LENGTH = 1.0 / N_RODS  # mm: ElegansBot's default body, L = 1 mm in n = 25 rods


@dataclass(frozen=True)
class FeedbackParams:
    """Proprioceptive feedback: body curvature -> input current into the B-type motor neurons.

    Wen et al. 2012 (Neuron 76:750, doi:10.1016/j.neuron.2012.08.039) showed that the B-type
    motor neurons sense the curvature of the body anterior to them and that this coupling
    carries the bending wave posteriorly (a bend imposed on an anterior region is followed by
    a bend of the same sign behind it). The model here is that finding, phenomenologically:

        I_n(t) = gain * side_n * kappa(x_n - reach, t)

    ``x_n`` (mm from the head tip) is where neuron ``n``'s junctions are: the count-weighted
    mean muscle row ``r`` of its NMJs in the map, at joint ``r - 1``, ``x = r * ROD_LENGTH``;
    ``side_n`` is +1 for a neuron whose junctions are on dorsal muscles (DB), -1 on ventral
    ones (VB); ``kappa`` is the body's curvature (1/mm, positive with the dorsal side concave,
    :attr:`BodyResult.curvature`) linearly interpolated between the joints and held at the end
    joints beyond them. A dorsal bend ahead of a neuron thus depolarises the DB neurons there
    (which contract the dorsal muscles, bending that place dorsally too) and hyperpolarises
    the VB neurons: bends propagate head to tail. The current is linear (it can be negative)
    and does not move the graded model's thresholds (they follow the step stimuli only).

    Attributes
    ----------
    gain : float
        Current per curvature, pA mm (model current unit x mm for ltc), 0 .. 1e4
        (:data:`MAX_FEEDBACK_GAIN`). 0 gives the two-way loop with no effect (it equals the
        one-way run bit for bit).
    reach : float
        How far anterior to its junctions a neuron senses the curvature, mm (0.1, a tenth of
        the body: a modelling choice, not a measured value; Wen et al. show the receptive field
        lies anterior, not its length), 0 .. 1.
    classes : tuple of str
        The neurons that sense: every mapped neuron of these classes (VB and DB).
    """

    gain: float = 100.0  # pA mm
    reach: float = 0.1  # mm
    classes: tuple = ("VB", "DB")

    def __post_init__(self):
        limits.check_float(self.gain, "feedback gain (pA mm)", 0.0, MAX_FEEDBACK_GAIN,
                           SimulationError)  # fmt: skip
        limits.check_float(self.reach, "feedback reach (mm)", 0.0, MAX_FEEDBACK_REACH,
                           SimulationError)  # fmt: skip
        classes = (self.classes,) if isinstance(self.classes, str) else tuple(self.classes)
        if not classes or not all(isinstance(c, str) and c for c in classes):
            raise SimulationError(
                f"feedback classes = {self.classes!r}; give neuron class names such as VB, DB"
            )
        object.__setattr__(self, "classes", classes)


@dataclass(frozen=True, eq=False)
class Proprioception:
    """Which neurons of a circuit sense the body, where, and the current they get
    (:class:`FeedbackParams` has the equation).

    Attributes
    ----------
    neurons : tuple of str
        The sensing neurons present in the circuit, in the map's order.
    index : ndarray of int
        Their columns in the circuit.
    side : ndarray, shape (F,)
        +1 dorsal junctions, -1 ventral.
    position : ndarray, shape (F,)
        Where their junctions are, mm from the head tip.
    sensed : ndarray, shape (F,)
        Where each senses the curvature (``position - reach``), mm.
    params : FeedbackParams
    missing : tuple of str
        Mapped neurons of the classes that the circuit lacks.
    """

    neurons: tuple
    index: np.ndarray = field(repr=False)
    side: np.ndarray = field(repr=False)
    position: np.ndarray = field(repr=False)
    sensed: np.ndarray = field(repr=False)
    params: FeedbackParams
    missing: tuple = ()

    def current(self, angles):
        """Input current of each sensing neuron for body postures, shape (..., F) (pA).

        Parameters
        ----------
        angles : ndarray, shape (..., 24)
            Joint angles, head to tail, rad (positive: dorsal side concave).
        """
        kappa = np.asarray(angles, dtype=np.float64) / ROD_LENGTH
        joints = (np.arange(N_JOINTS) + 1) * ROD_LENGTH
        x = np.clip(self.sensed, joints[0], joints[-1])
        j0 = np.minimum(np.searchsorted(joints, x, side="right") - 1, N_JOINTS - 2)
        f = (x - joints[j0]) / ROD_LENGTH
        local = (1.0 - f) * kappa[..., j0] + f * kappa[..., j0 + 1]
        return self.params.gain * self.side * local


def proprioception(nmj, names, params=None):
    """The sensing neurons of a circuit (``names``) and where they sense, from the map.

    Parameters
    ----------
    nmj : NeuromuscularMap
    names : sequence of str
        The circuit's neurons.
    params : FeedbackParams, optional

    Returns
    -------
    Proprioception

    Examples
    --------
    >>> from sim.muscles import neuromuscular_map
    >>> p = proprioception(neuromuscular_map(), ["DB1", "VB1", "AVAL"])
    >>> p.neurons, p.side.tolist(), np.round(p.position, 3).tolist()
    (('DB1', 'VB1'), [1.0, -1.0], [0.324, 0.29])
    """
    from connectome.datasets import read_neurons
    from connectome.neurons import class_names

    params = FeedbackParams() if params is None else params
    cls = class_names(read_neurons())
    where = {n: i for i, n in enumerate(names)}
    chosen = [j for j, n in enumerate(nmj.neurons) if cls.get(n, n) in params.classes]
    if not chosen:
        raise SimulationError(
            f"no mapped motor neuron is of the feedback classes {', '.join(params.classes)}; "
            "use classes with neuromuscular junctions, such as VB and DB"
        )
    keep = [j for j in chosen if nmj.neurons[j] in where]
    missing = tuple(nmj.neurons[j] for j in chosen if nmj.neurons[j] not in where)
    counts = nmj.counts[:, keep]
    total = counts.sum(axis=0)
    row = (counts * nmj.row[:, None]).sum(axis=0) / total
    dorsal = counts[nmj.dorsal].sum(axis=0)
    position = row * ROD_LENGTH
    return Proprioception(
        neurons=tuple(nmj.neurons[j] for j in keep),
        index=np.array([where[nmj.neurons[j]] for j in keep], dtype=np.int64),
        side=np.where(2 * dorsal >= total, 1.0, -1.0),
        position=position,
        sensed=position - params.reach,
        params=params,
        missing=missing,
    )


@dataclass(frozen=True, eq=False)
class BodyResult:
    """What the body did, recorded every ``record_dt``.

    Attributes
    ----------
    t : ndarray, shape (R,)
        Times, s.
    xy : ndarray, shape (R, 26, 2)
        Rod end points (the body's centre line), head first, mm.
    centroid : ndarray, shape (R, 2)
        Centre of mass, mm.
    velocity : ndarray, shape (R, 2)
        Centre-of-mass velocity, mm/s.
    angles : ndarray, shape (R, 24)
        Joint angles, head to tail, rad (positive: dorsal side concave).
    target : ndarray, shape (R, 24)
        Target joint angles in force at ``t`` (rad).
    activation : ndarray, shape (R, 95) or None
        Muscle activations at ``t`` (mV; :data:`sim.muscles.MUSCLES` order), when the body was
        driven by a network.
    params : BodyParams
    control_dt : float
        Interval over which each target was held, s.
    missing : tuple of str
        Mapped motor neurons absent from the network (their junctions dropped).
    feedback : Proprioception or None
        With proprioceptive feedback: the sensing neurons.
    feedback_current : ndarray, shape (K, F) or None
        With feedback: the current into each sensing neuron during each control interval
        (pA; computed from the posture at the interval's start).
    """

    t: np.ndarray
    xy: np.ndarray = field(repr=False)
    centroid: np.ndarray = field(repr=False)
    velocity: np.ndarray = field(repr=False)
    angles: np.ndarray = field(repr=False)
    target: np.ndarray = field(repr=False)
    activation: np.ndarray | None = field(repr=False)
    params: BodyParams
    control_dt: float
    missing: tuple = ()
    feedback: Proprioception | None = None
    feedback_current: np.ndarray | None = field(default=None, repr=False)

    def __repr__(self):
        s = self.summary()
        return (
            f"<BodyResult {len(self.t)} postures over {self.t[-1]:g} s on "
            f"{self.params.friction}: {s['direction']}, {s['steady_forward_speed']:+.3g} mm/s>"
        )

    @property
    def segment_length(self):
        """Length of one rod, mm."""
        return float(np.linalg.norm(self.xy[0, 1] - self.xy[0, 0]))

    @property
    def curvature(self):
        """The kymogram: curvature at each joint, head to tail, 1/mm, shape (R, 24)
        (joint angle / rod length; positive: dorsal side concave)."""
        return self.angles / self.segment_length

    @property
    def heading(self):
        """Unit vector from the tail tip to the head tip, shape (R, 2)."""
        d = self.xy[:, 0] - self.xy[:, -1]
        return d / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-12)

    @property
    def forward_speed(self):
        """Centre-of-mass velocity along the heading, mm/s (negative: backing up)."""
        return np.sum(self.velocity * self.heading, axis=1)

    @property
    def speed(self):
        """Centre-of-mass speed, mm/s."""
        return np.linalg.norm(self.velocity, axis=1)

    @property
    def steady_forward_speed(self):
        """Mean forward speed over the second half of the run (after a stimulus' transient:
        a body that curls up and stops moves its centroid, but does not travel), mm/s."""
        late = self.t >= self.t[-1] / 2
        return float(np.mean(self.forward_speed[late]))

    @property
    def direction(self):
        """``"forward"``, ``"backward"`` or ``"none"``: the sign of
        :attr:`steady_forward_speed`, "none" when its size is below ``params.still_speed``."""
        v = self.steady_forward_speed
        if abs(v) < self.params.still_speed:
            return "none"
        return "forward" if v > 0 else "backward"

    def summary(self):
        """Direction, forward speed over the second half and over the whole run (mm/s), mean
        speed (mm/s), net displacement (mm), path length of the centre of mass (mm), largest
        |curvature| (1/mm), and the curvature swing: the standard deviation over the second
        half of each joint's curvature, averaged over joints (1/mm; near 0 for a held bend,
        large for an undulation)."""
        late = self.t >= self.t[-1] / 2
        return {
            "direction": self.direction,
            "steady_forward_speed": self.steady_forward_speed,
            "mean_forward_speed": float(np.mean(self.forward_speed)),
            "mean_speed": float(np.mean(self.speed)),
            "displacement": float(np.linalg.norm(self.centroid[-1] - self.centroid[0])),
            "path_length": float(np.sum(np.linalg.norm(np.diff(self.centroid, axis=0), axis=1))),
            "max_curvature": float(np.max(np.abs(self.curvature))),
            "curvature_swing": float(np.mean(np.std(self.curvature[late], axis=0))),
        }

    def wave(self, still=0.05):
        """Whether the bending travels along the body over the second half of the run, and
        which way: the phase, along the body, of each joint's curvature at the dominant
        frequency (the peak of the joints' mean power spectrum, Hann window, zero-padded).

        A wave ``cos(2 pi (s / wavelength - f t))`` running head to tail has a phase that falls
        along the body; its least-squares slope (joints 2-21, weighted by their amplitude)
        gives the speed ``2 pi f / |slope|`` in body lengths per second. Less than pi/4 of
        phase over those joints, or phases that a straight line fits poorly (weighted R^2
        below 0.8: nodes, where the phase jumps by pi), is a standing oscillation (the body
        bends in place); a peak below one cycle per window is a drift ("none"). Rough: the
        frequency of a run of few cycles is biased.

        Parameters
        ----------
        still : float
            Curvature swing (1/mm, :meth:`summary`) below which nothing oscillates.

        Returns
        -------
        dict
            ``direction`` ("head-to-tail", "tail-to-head", "standing" or "none"),
            ``frequency`` (Hz), ``phase_span`` (rad of phase, head joint 2 minus tail joint
            21), ``speed`` (body lengths/s; 0 when not travelling).
        """
        late = self.t >= self.t[-1] / 2
        k = self.curvature[late]
        k = k - k.mean(axis=0)
        out = {"direction": "none", "frequency": 0.0, "phase_span": 0.0, "fit": 0.0, "speed": 0.0}
        if len(k) < 8 or float(np.mean(np.std(k, axis=0))) < still:
            return out
        n_fft = 16 * len(k)  # zero-padded: the peak's frequency to 1/16 of 1/duration
        spec = np.fft.rfft(k * np.hanning(len(k))[:, None], n=n_fft, axis=0)
        freqs = np.fft.rfftfreq(n_fft, float(self.t[1] - self.t[0]))
        peak = 1 + int(np.argmax(np.mean(np.abs(spec[1:]) ** 2, axis=1)))
        joints = np.arange(2, 22)
        c = spec[peak, joints]
        phase = np.unwrap(np.angle(c))
        s = joints / (N_JOINTS - 1)
        w = np.abs(c)
        sm, pm = np.average(s, weights=w), np.average(phase, weights=w)
        slope = float(np.sum(w * (s - sm) * (phase - pm)) / np.sum(w * (s - sm) ** 2))
        span = -slope * (s[-1] - s[0])
        resid = phase - (pm + slope * (s - sm))
        fit = 1.0 - float(np.sum(w * resid**2) / max(np.sum(w * (phase - pm) ** 2), 1e-300))
        window = float(self.t[late][-1] - self.t[late][0])
        out.update(frequency=float(freqs[peak]), phase_span=float(span), fit=fit)
        if freqs[peak] * window < 1.0:
            return out  # less than one cycle in the window: a drift, not an undulation
        if abs(span) < np.pi / 4 or fit < 0.8:
            out["direction"] = "standing"
        else:
            out["direction"] = "head-to-tail" if span > 0 else "tail-to-head"
            out["speed"] = float(2 * np.pi * freqs[peak] / abs(slope))
        return out

    def to_dataframe(self):
        """Per recorded time: centroid, velocity, forward speed and the 24 curvatures."""
        df = pd.DataFrame(
            {
                "x": self.centroid[:, 0],
                "y": self.centroid[:, 1],
                "vx": self.velocity[:, 0],
                "vy": self.velocity[:, 1],
                "forward_speed": self.forward_speed,
            },
            index=pd.Index(self.t, name="t"),
        )
        k = pd.DataFrame(
            self.curvature, index=df.index, columns=[f"k{j:02d}" for j in range(N_JOINTS)]
        )
        return pd.concat([df, k], axis=1)


def travelling_wave(t, amplitude=0.7, wavenumber=1.832, period=1.6, direction=1):
    """Target joint angles of a sinusoidal wave, ElegansBot's crawling demo, shape (T, 24).

    ``amplitude * cos(2 pi (wavenumber * s - direction * t / period))`` with ``s`` from 0 (head
    joint) to 1 (tail joint): ``direction=1`` runs head to tail (forward crawling), ``-1``
    tail to head.
    """
    s = np.linspace(0.0, 1.0, N_JOINTS)
    t = np.asarray(t, dtype=np.float64)[:, None]
    return amplitude * np.cos(2 * np.pi * (wavenumber * s[None, :] - direction * t / period))


def _whole(x, unit, what):
    k = round(x / unit)
    if k < 1 or abs(x - k * unit) > 1e-9 * max(1.0, x):
        raise SimulationError(
            f"{what} = {x:g} s is not a whole number of body steps of {unit:g} s; "
            f"use a multiple such as {max(1, k) * unit:g}"
        )
    return k


def _worm(params, duration, record_dt):
    try:
        from elegansbot import Worm
    except ImportError as err:
        raise SimulationError(
            "the body needs ElegansBot: pip install 'wormlab[body]' (or elegansbot==1.0.2)"
        ) from err
    bT, bII = FRICTION[params.friction]
    return Worm(dt=params.dt, bT=bT, bII=bII, simTime=duration, dt_snapshot=record_dt)


def run_body(targets, control_dt, params=None, activation=None, missing=()):
    """Drive ElegansBot with target joint angles, one row per control interval.

    Parameters
    ----------
    targets : ndarray, shape (K, 24)
        Target joint angles (rad, head to tail, positive dorsal) held during interval k,
        which starts at ``k * control_dt``.
    control_dt : float
        Interval, s; a whole number of body steps.
    params : BodyParams, optional
    activation : ndarray, shape (K, 95), optional
        Muscle activations of the intervals, kept at the recorded times.
    missing : tuple of str
        Recorded in the result.

    Returns
    -------
    BodyResult
        Recorded at ``0, record_dt, ..., K * control_dt``.
    """
    params = BodyParams() if params is None else params
    targets = np.asarray(targets, dtype=np.float64)
    if targets.ndim != 2 or targets.shape[1] != N_JOINTS or len(targets) < 1:
        raise SimulationError(f"targets have shape {targets.shape}; expected (K, {N_JOINTS})")
    if not np.all(np.isfinite(targets)):
        raise SimulationError("target joint angles must be finite")
    clock = _Clock.of(len(targets), control_dt, params)
    env = _worm(params, (clock.n_records - 1) * clock.record_dt, clock.record_dt)
    # ElegansBot's own public step (its `act` setter and `m_steps`, one call per control
    # interval), so the body runs the very machine code of ElegansBot's own loop: a kernel
    # of ours that re-jits its fastmath step rounds differently between a cold and a warm
    # numba cache.
    for row in targets[: clock.n_control]:
        env.act = row
        env.m_steps(clock.sub)
    return clock.result(env, targets, activation, missing)


@dataclass(frozen=True)
class _Clock:
    """How K control intervals of ``control_dt`` fall on the body's steps and records."""

    params: BodyParams
    control_dt: float
    sub: int  # body steps per control interval
    every: int  # control intervals per record
    record_dt: float  # s
    n_records: int
    n_control: int  # intervals the body runs (those after the last whole record are dropped)

    @classmethod
    def of(cls, n_intervals, control_dt, params):
        sub = _whole(float(control_dt), params.dt, "control interval")
        every = max(1, round(params.record_dt / control_dt))
        n_records = n_intervals // every + 1
        n_control = (n_records - 1) * every
        if n_control < 1:
            raise SimulationError(
                f"{n_intervals} control intervals of {control_dt:g} s are shorter than one "
                f"record_dt = {params.record_dt:g} s; run longer or lower record_dt"
            )
        record_dt = every * sub * params.dt
        return cls(params, float(control_dt), sub, every, record_dt, n_records, n_control)

    def result(self, env, targets, activation, missing, feedback=None, current=None):
        xy = np.transpose(env.xy_tip_log, (0, 2, 1)).copy()
        rec = np.minimum(np.arange(self.n_records) * self.every, self.n_control - 1)
        act = None if activation is None else np.asarray(activation, dtype=np.float64)[rec]
        return BodyResult(
            t=env.t_log.copy(),
            xy=xy,
            centroid=env.xyc_log.copy(),
            velocity=env.vc_log.copy(),
            angles=env.theta_log.copy(),
            target=np.asarray(targets)[rec],
            activation=act,
            params=self.params,
            control_dt=self.control_dt,
            missing=tuple(missing),
            feedback=feedback,
            feedback_current=current,
        )


def neuron_drive(result, neurons=None, reference="threshold"):
    """Each neuron's potential relative to its reference, at the recorded times (mV for graded).

    The reference (graded model) is, with ``reference="threshold"``, the sigmoid threshold
    ``Vth`` of the constant-input epoch in force, as the network's own kernel uses it (the
    no-input ``Vth`` when the model's ``threshold`` is ``"rest"``); with ``"rest"``, the
    no-input ``Vth``. For the ltc model it is ``vleak``.

    Parameters
    ----------
    result : SimResult
    neurons : ndarray of int, optional
        Columns to return (all when omitted).
    reference : {"threshold", "rest"}

    Returns
    -------
    ndarray, shape (T, n)
    """
    idx = np.arange(len(result.names)) if neurons is None else np.asarray(neurons)
    table, epoch = _references(result.circuit, result.stimulus, result.t, reference)
    return result.V[:, idx].astype(np.float64) - table[epoch][:, idx]


def _references(cc, stimulus, t, reference):
    """``(table (E, n), epoch (T,))``: the reference potential at time ``t[k]`` is
    ``table[epoch[k]]`` (see :func:`neuron_drive`)."""
    from sim import graded_thresholds
    from sim.stimulus import constant_epochs

    if cc.model != "graded":
        return cc.neuron_params["vleak"][None, :], np.zeros(len(t), dtype=np.int64)
    duration = float(t[-1])
    if cc.params.threshold == "input" and reference == "threshold":
        times, current = constant_epochs(stimulus, cc, duration)
    else:
        times, current = np.zeros(1), np.zeros((1, cc.n))
    return graded_thresholds(cc, current), np.searchsorted(times, t, side="right") - 1


def joint_targets(activation, nmj, params=None):
    """Target joint angles from muscle activations, shape (T, 24) (see the module docstring).

    Parameters
    ----------
    activation : ndarray, shape (T, 95)
        Muscle activations (mV), :data:`sim.muscles.MUSCLES` order.
    nmj : NeuromuscularMap
        Gives each muscle's row and side.
    params : BodyParams, optional
    """
    params = BodyParams() if params is None else params
    pull = np.ascontiguousarray(np.maximum(np.asarray(activation, dtype=np.float64), 0.0))
    diff = np.empty((pull.shape[0], N_JOINTS))
    weigh_rows(pull, *joint_weights(nmj), diff)
    return params.max_angle * np.tanh(diff / params.drive_scale)


def joint_weights(nmj):
    """Dorsal-minus-ventral means as a sparse matrix (:func:`sim.muscles.sparse_rows`): joint
    ``r - 1`` gets ``+1/n`` from each of the ``n`` dorsal muscles of row ``r`` and ``-1/n``
    from each of its ventral ones (so a row's value has the same bits alone or with others)."""
    w = np.zeros((N_JOINTS, len(nmj.muscles)))
    row, dorsal = nmj.row, nmj.dorsal
    for r in range(1, N_JOINTS + 1):
        for side, sign in ((dorsal, 1.0), (~dorsal, -1.0)):
            members = (row == r) & side
            w[r - 1, members] = sign / members.sum()
    return sparse_rows(w)


def _check_control(control_dt, model):
    if control_dt > 0.01:
        raise SimulationError(
            f"the network was recorded every {control_dt:g} s; the body needs 0.01 s or finer "
            "(lower record_every"
            + (
                "; ltc time is unitless and the body reads it as seconds: give a dt)"
                if model == "ltc"
                else ")"
            )
        )


def _mapped(nmj, names):
    idx, weights, missing = nmj.columns(names)
    if len(idx) == 0:
        raise SimulationError(
            "none of the mapped motor neurons is in this circuit, so no muscle can be driven; "
            "include motor neurons such as VB, DB, VA, DA, VD, DD"
        )
    return idx, weights, missing


def drive_body(result, *, body=None, muscles=None, nmj=None):
    """Drive the body with a network run: neurons -> muscles -> joint targets -> ElegansBot.

    Parameters
    ----------
    result : SimResult
        A network run; its record interval (``dt * record_every``) is the control interval
        and must be a whole number of body steps.
    body : BodyParams, optional
    muscles : MuscleParams, optional
    nmj : NeuromuscularMap, optional
        Cook et al. 2019's (:func:`sim.muscles.neuromuscular_map`) when omitted.

    Returns
    -------
    BodyResult
    """
    body = BodyParams() if body is None else body
    muscles = MuscleParams() if muscles is None else muscles
    nmj = neuromuscular_map() if nmj is None else nmj
    control_dt = float(result.dt * result.record_every)
    _check_control(control_dt, result.model)
    if len(result.t) < 2:
        raise SimulationError("the network run has one record; simulate at least one interval")
    idx, weights, missing = _mapped(nmj, result.names)
    u = muscle_input(neuron_drive(result, idx, muscles.reference)[:-1], weights)
    act = muscle_activation(u, control_dt, muscles)
    return run_body(joint_targets(act, nmj, body), control_dt, body, act, missing)


def simulate_body(
    circuit, stimulus=(), *, duration, body=None, muscles=None, nmj=None, feedback=None, **kw
):
    """Simulate a network and drive the body with it (one-way, or two-way with feedback).

    Parameters
    ----------
    circuit, stimulus, duration
        As for :func:`sim.runner.simulate`; other keywords (``dt``, ``model``, ``params``,
        ``ablate``, ``initial``, ``progress``, ``max_bytes``, ``record_every`` (default 1:
        every network step drives the body)) go to it.
    body, muscles, nmj
        As for :func:`drive_body`.
    feedback : FeedbackParams, optional
        Proprioceptive feedback (Wen et al. 2012): the network and the body then advance in
        lockstep, one control interval (``dt * record_every``) at a time: the posture at the
        interval's start gives the sensing neurons' current during it
        (:meth:`Proprioception.current`), the network steps through it, the muscles take the
        motor neurons' drive at its start, the body steps through it. Without feedback the
        network runs first and then drives the body (:func:`drive_body`); with
        ``FeedbackParams(gain=0)`` the lockstep run gives the same numbers bit for bit.

    Returns
    -------
    (SimResult, BodyResult)
        With feedback, ``SimResult.stimulus`` ends with one ``array`` stimulus per sensing
        neuron holding the current it received (held over each control interval), so that
        :func:`sim.runner.simulate` with it reproduces the network's run exactly;
        ``BodyResult.feedback`` and ``feedback_current`` say who sensed what.

    Examples
    --------
    >>> import connectome
    >>> net, worm = simulate_body(connectome.load("varshney2011"), "PLM:step:amp=2000",
    ...                           duration=0.2, record_every=10)   # doctest: +SKIP
    """
    if feedback is None:
        from sim import simulate

        kw.setdefault("record_every", 1)
        result = simulate(circuit, stimulus, duration=duration, **kw)
        return result, drive_body(result, body=body, muscles=muscles, nmj=nmj)
    if not isinstance(feedback, FeedbackParams):
        raise SimulationError(
            f"feedback = {limits.shorten(feedback)}; give sim.body.FeedbackParams(gain=...) or None"
        )
    import numba

    threads = numba.get_num_threads()
    numba.set_num_threads(1)  # one item is one chunk: waking a pool per interval costs ~ms
    try:
        return _coupled(
            circuit,
            stimulus,
            duration,
            BodyParams() if body is None else body,
            MuscleParams() if muscles is None else muscles,
            neuromuscular_map() if nmj is None else nmj,
            feedback,
            dict(kw),
        )
    finally:
        numba.set_num_threads(threads)


def _coupled(circuit, stimulus, duration, body, muscles, nmj, feedback, kw):
    """Network and body in lockstep with proprioceptive feedback (see :func:`simulate_body`)."""
    import dataclasses

    from sim.muscles import filter_first_order
    from sim.runner import as_compiled, as_stimuli, prepare_run
    from sim.stimulus import array

    progress = kw.pop("progress", None)
    kw.setdefault("record_every", 1)
    cc = as_compiled(circuit, kw.pop("model", None), kw.pop("params", None), kw.pop("ablate", ()))
    stims = as_stimuli(stimulus)
    probe = prepare_run(cc, stims, duration=duration, **kw)  # checks everything first
    every, control_dt = probe.record_every, probe.dt * probe.record_every
    _check_control(control_dt, cc.model)
    idx, weights, missing = _mapped(nmj, cc.names)
    prop = proprioception(nmj, cc.names, feedback)
    if not prop.neurons:
        raise SimulationError(
            f"none of the feedback neurons ({', '.join(feedback.classes)}) is in this "
            "circuit; include them or run without feedback"
        )
    n_int = probe.nsteps // every  # whole control intervals
    clock = _Clock.of(n_int, control_dt, body)
    sensing = array(prop.neurons, np.zeros(n_int + 1), sample_dt=control_dt, interp="hold")
    run = prepare_run(cc, (*stims, sensing), duration=duration, **kw)
    if not np.array_equal(cc.indices(prop.neurons), prop.index):
        raise SimulationError("feedback neurons resolved out of order (a bug: please report)")
    wave = run.samples(0, len(stims))  # (F, n_int + 1): written one interval ahead of the run
    t = np.arange(len(run.out[0])) * (every * run.dt)  # as SimResult.t
    table, epoch = _references(cc, stims, t, muscles.reference)
    env = _worm(body, (clock.n_records - 1) * clock.record_dt, clock.record_dt)
    decay = math.exp(-control_dt / muscles.tau)
    a = np.zeros(len(nmj.muscles))
    act = np.empty((n_int, len(nmj.muscles)))
    targets = np.empty((n_int, N_JOINTS))
    current = np.empty((n_int, len(prop.neurons)))
    out = run.out[0]
    tick = max(1, n_int // 100)
    to_muscle, to_joint = sparse_rows(weights), joint_weights(nmj)
    drive, u, diff = np.empty((1, len(idx))), np.empty((1, len(a))), np.empty((1, N_JOINTS))
    for k in range(n_int):  # the steps of muscle_input, muscle_activation and joint_targets
        current[k] = wave[:, k] = prop.current(env.theta)
        run.advance(every)
        np.subtract(out[k, idx], table[epoch[k], idx], out=drive[0])
        weigh_rows(drive, *to_muscle, u)
        filter_first_order(u, decay, a, act[k : k + 1])
        weigh_rows(np.maximum(act[k : k + 1], 0.0), *to_joint, diff)
        targets[k] = body.max_angle * np.tanh(diff[0] / body.drive_scale)
        if k < clock.n_control:
            env.act = targets[k]
            env.m_steps(clock.sub)
        if progress is not None and (k + 1) % tick == 0:
            progress(run.done / run.nsteps)
    if run.done < run.nsteps:  # a last part-interval of the network (the body is done)
        wave[:, n_int] = prop.current(env.theta)
        run.advance(run.nsteps - run.done)
    net = run.results()[0]
    received = tuple(
        array(n, wave[f].copy(), sample_dt=control_dt, interp="hold")
        for f, n in enumerate(prop.neurons)
    )
    net = dataclasses.replace(net, stimulus=(*stims, *received))
    worm = clock.result(env, targets, act, missing, prop, current)
    return net, worm


def describe(worm):
    """A few lines on what the body did (for the command line)."""
    s = worm.summary()
    lines = [
        f"body ({worm.params.friction}, step {worm.params.dt:g} s, control every "
        f"{worm.control_dt:g} s): {s['direction']}, speed along the body "
        f"{s['steady_forward_speed']:+.4f} mm/s over the second half "
        f"({s['mean_forward_speed']:+.4f} over the run), centroid moved "
        f"{s['displacement']:.4f} mm "
        f"(path {s['path_length']:.4f} mm), largest |curvature| {s['max_curvature']:.3g}/mm, "
        f"curvature swing {s['curvature_swing']:.3g}/mm"
    ]
    if worm.feedback is not None:
        fb, cur = worm.feedback, worm.feedback_current
        lines.append(
            f"  feedback: gain {fb.params.gain:g} pA mm, reach {fb.params.reach:g} mm into "
            f"{len(fb.neurons)} neurons ({', '.join(fb.params.classes)}); largest |current| "
            f"{float(np.max(np.abs(cur))) if cur.size else 0.0:.4g} pA"
        )
    if worm.missing:
        lines.append(
            f"  {len(worm.missing)} mapped motor neurons not in the circuit: "
            + ", ".join(worm.missing[:12])
            + (" ..." if len(worm.missing) > 12 else "")
        )
    return "\n".join(lines)


def add_cli_arguments(parser):
    """Add ``--body``, ``--friction``, ``--body-reference``, ``--feedback``,
    ``--feedback-reach`` and ``--body-out`` to the ``python -m sim run`` parser."""
    parser.add_argument(
        "--body", action="store_true", help="drive ElegansBot's body (pip install wormlab[body])"
    )
    parser.add_argument(
        "--friction", choices=tuple(FRICTION), default="agar", help="body medium (agar)"
    )
    parser.add_argument(
        "--body-reference",
        choices=("threshold", "rest"),
        default="threshold",
        help="motor neuron drive measured from Vth of the input (threshold) or at rest",
    )
    parser.add_argument(
        "--feedback",
        type=float,
        metavar="GAIN",
        help="with --body: proprioceptive feedback (Wen et al. 2012), body curvature into the "
        f"VB/DB neurons, GAIN pA mm in 0 .. {MAX_FEEDBACK_GAIN:g}; network and body then "
        "run in lockstep",
    )
    parser.add_argument(
        "--feedback-reach",
        type=float,
        default=FeedbackParams.reach,
        metavar="MM",
        help="with --feedback: how far ahead of its muscles a B neuron senses curvature, mm "
        f"(default {FeedbackParams.reach:g})",
    )
    parser.add_argument("--body-out", help="with --body: centroid, speed and curvature as CSV")


def cli_options(args):
    """``body``, ``muscles`` and ``feedback`` (None without ``--feedback``) as a
    ``python -m sim run`` command line asks, checked before anything runs."""
    feedback = None
    if getattr(args, "feedback", None) is not None:
        if not args.body:
            raise SimulationError("--feedback needs --body (it feeds the body back)")
        feedback = FeedbackParams(gain=args.feedback, reach=args.feedback_reach)
    return {
        "body": BodyParams(friction=args.friction),
        "muscles": MuscleParams(reference=args.body_reference),
        "feedback": feedback,
    }


def run_cli(result, args, worm=None):
    """Drive the body with a ``python -m sim run`` result as ``args`` ask (or report the
    ``worm`` of a coupled run); the report text."""
    if worm is None:
        opts = cli_options(args)
        worm = drive_body(result, body=opts["body"], muscles=opts["muscles"])
    if args.body_out:
        worm.to_dataframe().to_csv(args.body_out)
    return describe(worm) + (f"\nbody written to {args.body_out}" if args.body_out else "")


def warmup():
    """Compile the muscle kernel and, when ElegansBot is installed, the body kernel (from
    numba's on-disk cache when it is warm). Returns whether the body is available.

    >>> isinstance(warmup(), bool)
    True
    """
    muscle_activation(np.zeros((2, 1)), 1e-3)
    try:
        import elegansbot  # noqa: F401
    except ImportError:
        return False
    run_body(np.zeros((1, N_JOINTS)), BodyParams().dt, BodyParams(record_dt=BodyParams().dt))
    return True

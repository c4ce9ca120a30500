"""The torch twin of the LTC controller: gradient training (BPTT) and exchange with ncps.

:class:`CircuitModule` is a :class:`sim.control.Controller` as a ``torch.nn.Module``: the same
circuit (chemical synapses with fixed polarity ``erev = +-1``, gap junctions), the same input
map (dense or pairs; current or clamped drive), the same fused semi-implicit step
(:func:`sim.kernels.ltc_step`, ``unfolds`` Jacobi sub-steps, epsilon 1e-8 in the denominator)
and the same output map, batched over a leading dimension and differentiable in every trained
parameter. In float64 it equals the numba kernel to a few units in the last place per step
(the sums run in another order and the sigmoid is torch's); the tests hold the potentials to
1e-12 (relative where ``|v| > 1``) over 2000-step rollouts of random circuits.

Parameters and ranges
---------------------
The parameter groups and ranges are the controller's (:data:`sim.ranges.DEFAULT_RANGES`);
each group is one ``nn.Parameter`` named like the group (``w``, ``mu``, ..., ``out_b``):

==========  ======================  ===========================================
scale       parameter ``p``         physical value and constraint
==========  ======================  ===========================================
log         ``p = log(theta)``      ``theta = exp(p)``, ``log lo <= p <= log hi``
lin         ``p = theta``           ``lo <= p <= hi``
fixed       (``lo == hi``)          ``requires_grad=False``, never changed
==========  ======================  ===========================================

Gradient steps therefore move log-scale groups (conductances, capacitances, slopes, gains)
multiplicatively, as the CMA-ES trainer's unit cube does, and :meth:`CircuitModule.project_`
clips every group into its range after each optimiser step (projected gradient descent, as
ncps's ``apply_weight_constraints`` clips after each step). The wiring and the signs are
buffers, never trained.

Exchange with ncps (Lechner et al. 2020, doi:10.1038/s42256-020-00237-3; ``ncps`` 1.0.1)
------------------------------------------------------------------------------------------
ncps's ``LTCCell`` feeds its inputs as presynaptic potentials through sigmoid synapses held
for the whole step, and has no gap junctions and no input currents. A wormlab controller with
the ``clamp`` drive is exactly that: :func:`from_ncps` turns a trained ``ncps.torch.LTC`` or
``LTCCell`` into one (its input features become clamped sensory neurons; ``w``, ``sensory_w``,
``cm`` and ``gleak`` pass through ``softplus`` when the cell was built with
``implicit_param_constraints=True``, the default of ``LTC`` but not of ``LTCCell``; a trained
reversal potential ``erev`` other than +-1 becomes an excitatory and an inhibitory synapse of
weights ``w (1 + erev) / 2`` and ``w (1 - erev) / 2``). :func:`to_ncps` goes back for
controllers ncps can hold. :func:`save_ncps` and :func:`load_ncps` keep an ncps LTC (wiring
config, options and every parameter) in one versioned JSON file.
"""

import math
import os
from dataclasses import dataclass, field

import numpy as np

from connectome.errors import ControllerError, WiringFormatError, WormlabError
from sim.control import Controller
from sim.envs import EnvSpec
from sim.jsonfile import read_json, write_json_atomic

try:
    import torch
    from torch import nn
except ImportError as err:  # pragma: no cover - the extra is installed in CI
    raise WormlabError(
        "sim.torch needs PyTorch and ncps: pip install 'wormlab[torch]' "
        "(torch==2.13.0, ncps==1.0.1)"
    ) from err

__all__ = [
    "EPSILON",
    "NCPS_FORMAT",
    "CircuitModule",
    "FitResult",
    "fit",
    "from_ncps",
    "to_ncps",
    "ncps_names",
    "ncps_to_dict",
    "ncps_from_dict",
    "save_ncps",
    "load_ncps",
]

EPSILON = 1e-8  # ncps LTCCell's epsilon in the fused step's denominator (as sim.kernels)
NCPS_FORMAT = "wormlab-ncps-ltc"
_NCPS_VERSION = 1


def _long(a):
    return torch.as_tensor(np.asarray(a, np.int64))


class CircuitModule(nn.Module):
    """A controller as a differentiable, batched ``torch.nn.Module``.

    Parameters
    ----------
    controller : sim.control.Controller
        Structure (wiring, signs, io maps, env, ranges) and initial parameters.
    dtype : torch.dtype
        ``torch.float64`` (default; equal to the numba kernel) or ``torch.float32``.

    Examples
    --------
    >>> import connectome, torch
    >>> from sim.control import Controller
    >>> tw = connectome.presets.tap_withdrawal(connectome.load("cook2019"))
    >>> module = CircuitModule(Controller.from_circuit(tw, "CartPole-v1"))
    >>> y, v = module(torch.zeros(2, 5, 4))  # (batch, time, observation)
    >>> tuple(y.shape), tuple(v.shape)
    ((2, 5, 1), (2, 5, 9))
    >>> module.to_controller().to_dict() == module.controller.to_dict()
    True
    """

    def __init__(self, controller, *, dtype=torch.float64):
        super().__init__()
        if not isinstance(controller, Controller):
            raise ControllerError(
                f"CircuitModule needs a sim.control.Controller, got {type(controller).__name__}"
            )
        if dtype not in (torch.float64, torch.float32):
            raise ControllerError(f"dtype must be torch.float64 or torch.float32, got {dtype}")
        if controller.core != "ltc":
            raise ControllerError(
                f"CircuitModule mirrors the LTC core; this controller's core is "
                f"{controller.core!r} (a sim.baselines baseline)"
            )
        c = controller
        self.controller = c
        self.n = len(c.neurons)
        self.dt, self.unfolds = c.dt, c.unfolds
        self.pairs = c.input_map["kind"] == "pairs"
        self.clamp = c.input_map.get("drive", "current") == "clamp"
        self.difference = c.output_map["kind"] == "difference"
        self.action_kind = c.to_dict()["output_map"]["action"]
        self.n_actions = max(c.env.n_actions, 1)
        self.groups = tuple(c.group_names)
        buf = self.register_buffer
        buf("gpost", _long(np.repeat(np.arange(self.n), np.diff(c.program_gindptr))))
        buf("gpre", _long(c.program_gpre))
        buf("gslot", _long(c.program_gslot))
        buf("sens", _long(c.program_sens))
        buf("mot", _long(c.program_mot))
        buf("obs_center", torch.tensor(c.env.obs_center, dtype=dtype))
        buf("obs_scale", torch.tensor(c.env.obs_scale, dtype=dtype))
        buf("pair_obs", _long(c.in_pairs[:, 0]))
        buf("pair_pos", _long(c.in_pairs[:, 1]))
        buf("pair_neg", _long(c.in_pairs[:, 2]))
        buf("out_read", torch.as_tensor(c.out_read, dtype=dtype))  # +1/|A|, -1/|B| per motor
        buf("act_lo", torch.as_tensor(c.act_lo, dtype=dtype))
        buf("act_hi", torch.as_tensor(c.act_hi, dtype=dtype))
        m = len(c.synapses)
        post = np.repeat(np.arange(self.n), np.diff(c.program_indptr))
        syn_in = np.zeros((self.n, m))
        syn_in[c.program_pre, np.arange(m)] = 1.0
        onto = np.zeros((m, self.n))
        onto[np.arange(m), post] = 1.0
        buf("syn_in", torch.as_tensor(syn_in, dtype=dtype))
        buf(
            "syn_out",
            torch.as_tensor(np.hstack([c.program_erev[:, None] * onto, onto]), dtype=dtype),
        )
        self.log_groups = frozenset(g for g in self.groups if c.ranges[g].log)
        for group, value in c.parameters.items():
            r = c.ranges[group]
            value = np.asarray(value, np.float64)
            if r.log:
                if np.any(value < 0):
                    raise ControllerError(
                        f"parameter group {group!r} is on a log scale but holds negative "
                        f"values (smallest {value.min():.3g}); give it a linear range "
                        f"(ranges={{'{group}': [lo, hi, 'lin']}}) or positive values"
                    )
                with np.errstate(divide="ignore"):
                    value = np.log(value)
            p = nn.Parameter(torch.tensor(value, dtype=dtype), requires_grad=not r.fixed)
            self.register_parameter(group, p)

    # -- parameters --------------------------------------------------------------------------

    def physical(self, group):
        """The physical values of one parameter group (differentiable)."""
        p = getattr(self, group)
        return torch.exp(p) if group in self.log_groups else p

    def theta(self):
        """The physical parameter vector in the controller's layout (blocks ``group_names``)."""
        return torch.cat([self.physical(g).reshape(-1) for g in self.groups])

    def trained(self):
        """The trained parameter groups by name: those whose range has ``lo < hi`` (during
        :func:`fit` with ``groups``, only those)."""
        return {g: getattr(self, g) for g in self.groups if getattr(self, g).requires_grad}

    @torch.no_grad()
    def project_(self):
        """Clip every trained group into its range (call after each optimiser step)."""
        for group, p in self.trained().items():
            r = self.controller.ranges[group]
            lo, hi = (math.log(r.lo), math.log(r.hi)) if r.log else (r.lo, r.hi)
            p.clamp_(lo, hi)

    def to_controller(self, provenance=None) -> Controller:
        """The controller with this module's parameters (float64)."""
        theta = self.theta().detach().to("cpu", torch.float64).numpy()
        return self.controller.with_theta(theta, provenance=provenance)

    # -- the model ---------------------------------------------------------------------------

    def drive(self, obs):
        """Sensory values ``(..., sensory)`` of observations ``(..., obs_dim)``: currents, or
        potentials with the clamp drive."""
        z = (obs - self.obs_center) / self.obs_scale
        b = self.physical("in_b")
        if not self.pairs:
            return b + z @ self.physical("in_w").reshape(b.shape[0], -1).T
        zz = self.physical("in_gain") * z[..., self.pair_obs]
        zero = z.new_zeros(z.shape[:-1] + b.shape)
        pos = zero.index_add(-1, self.pair_pos, torch.relu(zz))
        return b + pos.index_add(-1, self.pair_neg, torch.relu(-zz))

    def _operators(self):
        """The step as matrices (rebuilt from the parameters at every call, differentiable).

        One sub-step is ``x = v S`` (presynaptic potentials per synapse, ``S`` one-hot),
        ``a = w sigmoid(sigma (x - mu))`` and ``[num | den] = [a | v] K + c`` with
        ``K = [[erev P, P], [diag(cm/h) + G, 0]]`` (``P`` one-hot synapse -> postsynaptic
        neuron, ``G`` the gap conductances) and ``c = [gleak vleak + I | cm/h + gleak + sum G
        + eps]``; then ``v = num / den``. The one-hot products are exact.
        """
        n = self.n
        cmt = self.physical("cm") / (self.dt / self.unfolds)
        gleak = self.physical("gleak")
        gw = self.physical("gap")[self.gslot]
        g = gw.new_zeros(n * n).index_add(0, self.gpre * n + self.gpost, gw).view(n, n)
        lin = torch.diag(cmt) + g
        k = torch.cat([self.syn_out, torch.cat([lin, torch.zeros_like(lin)], 1)], 0)
        den = cmt + gleak + EPSILON + g.sum(0)
        return k, gleak * self.physical("vleak"), den

    def _run(self, cur, clamp, v):
        """Advance potentials ``v`` (B, n) through the steps of ``cur`` (B, T, n) (and, with the
        clamp drive, the sensory potentials ``clamp`` (B, T, sensory)); returns (B, T, n)."""
        k, rest, den = self._operators()
        c = torch.cat([rest + cur, den.expand(cur.shape)], -1)
        w, mu, sigma = self.physical("w"), self.physical("mu"), self.physical("sigma")
        n = self.n
        out = []
        for t in range(cur.shape[1]):
            ct = c[:, t]
            for _ in range(self.unfolds):
                if self.clamp:
                    v = v.index_copy(1, self.sens, clamp[:, t])
                a = w * torch.sigmoid(sigma * (v @ self.syn_in - mu))
                nd = torch.addmm(ct, torch.cat([a, v], 1), k)
                v = nd[:, :n] / nd[:, n:]
            if self.clamp:
                v = v.index_copy(1, self.sens, clamp[:, t])
            out.append(v)
        return torch.stack(out, 1)

    def readout(self, v):
        """The output map: outputs ``y`` (..., outputs) of potentials ``v`` (..., n)."""
        ob = self.physical("out_b")
        if self.difference:
            u = v[..., self.mot] @ self.out_read
            return self.physical("out_gain") * u[..., None] + ob
        return v[..., self.mot] @ self.physical("out_w").reshape(ob.shape[0], -1).T + ob

    def step(self, obs, v):
        """One controller step: observations ``(B, obs_dim)``, potentials ``(B, n)`` ->
        new potentials ``(B, n)`` and outputs ``y`` ``(B, outputs)``."""
        y, vs = self(obs[:, None], v)
        return vs[:, 0], y[:, 0]

    def forward(self, obs, v0=None):
        """Run observation sequences ``(B, T, obs_dim)`` from potentials ``v0`` ``(B, n)``
        (default 0, as every episode starts); returns outputs ``y`` ``(B, T, outputs)`` and
        potentials ``(B, T, n)`` after every step."""
        obs = torch.as_tensor(obs, dtype=self.obs_center.dtype, device=self.obs_center.device)
        if obs.dim() != 3 or obs.shape[2] != self.obs_center.shape[0]:
            raise ControllerError(
                f"observations have shape {tuple(obs.shape)}, expected (batch, time, "
                f"{self.obs_center.shape[0]})"
            )
        s = self.drive(obs)
        cur = obs.new_zeros(obs.shape[:2] + (self.n,)).index_add(2, self.sens, s)
        v = obs.new_zeros(obs.shape[0], self.n) if v0 is None else v0.to(obs.dtype)
        vs = self._run(cur, s, v)
        return self.readout(vs), vs

    def action(self, y):
        """The env action of outputs ``y``: differentiable for Box actions (``m + h tanh(y)``,
        or ``y`` when unbounded); action indices (not differentiable) for Discrete ones."""
        if self.action_kind == "tanh":
            return 0.5 * (self.act_lo + self.act_hi) + 0.5 * (self.act_hi - self.act_lo) * (
                torch.tanh(y)
            )
        if self.action_kind == "raw":
            return y
        if self.action_kind == "argmax":
            return torch.argmax(y, dim=-1)
        b = torch.floor((torch.tanh(y[..., 0]) + 1.0) * 0.5 * self.n_actions)
        return b.clamp(0, self.n_actions - 1).long()

    def extra_repr(self):
        return repr(self.controller)


# ----------------------------------------------------------------------------- fitting


@dataclass(frozen=True)
class FitResult:
    """The outcome of :func:`fit`.

    Attributes
    ----------
    controller : Controller
        The fitted controller (provenance: the fit's settings and final loss).
    loss : float
        Final training loss (mean squared error).
    history : tuple of float
        Loss at every step.
    """

    controller: Controller
    loss: float
    history: tuple = field(repr=False)


def _readout(module, read, y, v):
    if read == "output":
        return y
    if read == "tanh":
        return torch.tanh(y)
    if read == "action":
        if module.action_kind not in ("tanh", "raw"):
            raise ControllerError(
                f"read='action' needs a Box action; {module.controller.env.env_id} has discrete "
                "actions (not differentiable): fit read='output' or 'tanh' to a teacher's outputs"
            )
        return module.action(y)
    names = [read] if isinstance(read, str) else list(read)
    index = {x: i for i, x in enumerate(module.controller.neurons)}
    unknown = [x for x in names if x not in index]
    if unknown:
        raise ControllerError(
            f"read={read!r}: unknown neurons {unknown}; use 'output', 'tanh', 'action' or "
            f"names of the circuit's neurons ({', '.join(module.controller.neurons)})"
        )
    return v[..., [index[x] for x in names]]


def _loss(module, read, obs, tgt, wts):
    """Mean (weighted) squared error of ``read`` against the targets."""
    y, v = module(obs)
    r = _readout(module, read, y, v)
    if r.shape != tgt.shape:
        raise ControllerError(
            f"read={read!r} gives {r.shape[-1]} values per step, the targets {tgt.shape[-1]}"
        )
    err = ((r - tgt) ** 2).mean(-1)
    return err.mean() if wts is None else (err * wts).sum() / wts.sum()


def fit(
    controller, observations, targets, *, read="output", steps=200, lr=0.02, groups=None,
    weights=None, progress=None,
):  # fmt: skip
    """Train a controller by backpropagation through time on a supervised target.

    Minimises the mean squared error between ``read`` of the controller driven by
    ``observations`` and ``targets`` with Adam (Kingma & Ba 2015, arXiv:1412.6980), in float64,
    projecting every group into its range after each step (:meth:`CircuitModule.project_`).
    The wiring and the signs stay fixed; the trained groups are those the CMA-ES trainer
    trains (range ``lo < hi``), or the subset ``groups``.

    Parameters
    ----------
    controller : Controller or CircuitModule
        Starting point (a module given is trained in place, in float64).
    observations : array_like (B, T, obs_dim)
        Observation sequences, each from the start of an episode (potentials 0).
    targets : array_like (B, T, k)
        Target per step: a teacher controller's outputs or actions, or a recorded trace.
    read : {'output', 'tanh', 'action'} or list of str
        What is compared with ``targets``: the output map's ``y``, ``tanh(y)`` (for a
        Discrete difference map, the value whose bin is the action), the Box action, or the
        potentials of the named neurons.
    steps : int
        Optimiser steps (each one forward and backward pass over the whole batch).
    lr : float
        Adam's learning rate (in the parameters' coordinates: log for log-scale groups).
    groups : sequence of str, optional
        Train only these groups (default: every group with ``lo < hi``).
    weights : array_like (B, T), optional
        Per-step weights (>= 0) of the squared error (e.g. 0 after an episode ended).
    progress : callable, optional
        ``progress(step, loss)`` after every step.

    Returns
    -------
    FitResult

    Raises
    ------
    ControllerError
        Shapes that do not fit, unknown groups or neurons, a non-finite loss.

    Notes
    -----
    Deterministic: the fit draws no random numbers (Adam on CPU in float64).
    """
    module = controller if isinstance(controller, CircuitModule) else CircuitModule(controller)
    module = module.to(torch.float64)
    obs = torch.as_tensor(np.asarray(observations, np.float64))
    tgt = torch.as_tensor(np.asarray(targets, np.float64))
    if obs.dim() != 3 or tgt.dim() != 3 or tgt.shape[:2] != obs.shape[:2]:
        raise ControllerError(
            f"observations {tuple(obs.shape)} and targets {tuple(tgt.shape)} must be "
            "(batch, time, components) with the same batch and time"
        )
    if not (torch.all(torch.isfinite(obs)) and torch.all(torch.isfinite(tgt))):
        raise ControllerError("observations and targets must be finite")
    wts = None if weights is None else torch.as_tensor(np.asarray(weights, np.float64))
    if wts is not None and wts.shape != tgt.shape[:2]:
        raise ControllerError(f"weights {tuple(wts.shape)} must be {tuple(tgt.shape[:2])}")
    if wts is not None and not (torch.all(wts >= 0) and wts.sum() > 0):
        raise ControllerError("weights must be >= 0 with a positive sum")
    steps = int(steps)
    if steps < 1 or not (lr > 0 and math.isfinite(lr)):
        raise ControllerError(f"need steps >= 1 and a positive lr, got {steps}, {lr}")
    trained = module.trained()
    if groups is not None:
        unknown = sorted(set(groups) - set(trained))
        if unknown:
            raise ControllerError(
                f"groups {unknown} are not trained groups of this controller "
                f"({', '.join(trained)}; a fixed range lo == hi is never trained)"
            )
        trained = {g: p for g, p in trained.items() if g in set(groups)}
    if not trained:
        raise ControllerError("no parameter group to train (every range is fixed)")
    for g, p in module.trained().items():
        p.requires_grad_(g in trained)
    opt = torch.optim.Adam(list(trained.values()), lr=float(lr))
    history = []
    try:
        for k in range(steps):
            opt.zero_grad()
            loss = _loss(module, read, obs, tgt, wts)
            if not torch.isfinite(loss):
                raise ControllerError(f"the loss is not finite at step {k}: lower lr")
            loss.backward()
            opt.step()
            module.project_()
            history.append(float(loss.detach()))
            if progress is not None:
                progress(k + 1, history[-1])
    finally:
        for g in module.groups:
            getattr(module, g).requires_grad_(not module.controller.ranges[g].fixed)
    with torch.no_grad():
        final = float(_loss(module, read, obs, tgt, wts))
    prov = {
        "trainer": "sim.torch.fit",
        "read": read if isinstance(read, str) else list(read),
        "steps": steps,
        "lr": float(lr),
        "groups": sorted(trained),
        "loss": final,
        "torch": torch.__version__,
    }
    return FitResult(module.to_controller(provenance=prov), final, tuple(history))


# ----------------------------------------------------------------------------- ncps


def _ncps_cell(model):
    """The ``LTCCell`` of an ``ncps.torch.LTC`` or the cell itself, checked."""
    try:
        from ncps.torch import LTC, LTCCell
    except ImportError as err:  # pragma: no cover - the extra is installed in CI
        raise WormlabError("exchange with ncps needs it: pip install 'wormlab[torch]'") from err
    if isinstance(model, LTC):
        if model.use_mixed:
            raise ControllerError(
                "this ncps LTC has mixed_memory=True: its LSTM memory cell has no wormlab "
                "counterpart; build the LTC with mixed_memory=False"
            )
        return model.rnn_cell
    if isinstance(model, LTCCell):
        return model
    raise ControllerError(
        f"expected an ncps.torch.LTC or LTCCell, got {type(model).__name__} (CfC and LSTM "
        "cells follow other equations)"
    )


def _inverse_softplus(x):
    """``p`` with ``torch.nn.Softplus()(p) == x`` (beta 1, threshold 20), float64; -800
    for 0 (``exp(-800)`` is 0 in double precision, so softplus gives 0 back, and JSON holds
    it)."""
    x = np.asarray(x, np.float64)
    with np.errstate(divide="ignore"):
        return np.maximum(np.where(x > 20.0, x, np.log(np.expm1(np.minimum(x, 20.0)))), -800.0)


def _split(w, e):
    """An ncps synapse of weight ``w`` and reversal ``e`` as wormlab synapses [(sign, w)]."""
    if e == 1.0 or e == -1.0:
        return [(int(e), w)]
    if not -1.0 <= e <= 1.0:
        raise ControllerError(
            f"a trained reversal potential erev = {e:.6g} lies outside [-1, 1]: wormlab's "
            "synapses have erev = +1 or -1 (two of them mix any erev in [-1, 1]); train the "
            "ncps cell with erev frozen (cell.erev.requires_grad_(False)) or clipped to [-1, 1]"
        )
    return [(s, x) for s, x in ((1, 0.5 * w * (1.0 + e)), (-1, 0.5 * w * (1.0 - e))) if x != 0]


def from_ncps(model, *, unit_names=None, input_names=None, max_steps=1000, dataset="ncps"):
    """A wormlab controller with the outputs of a trained ``ncps.torch.LTC`` or ``LTCCell``.

    Each input feature becomes a clamped sensory neuron (potential ``input_w x + input_b``,
    held through the step: the ``clamp`` drive), each unit a neuron (units
    ``0 .. output_dim - 1`` the motor neurons), each sensory and unit synapse a chemical
    synapse (two where the trained ``erev`` is not +-1), and the output map reads
    ``output_w v + output_b`` per motor neuron. ``w``, ``sensory_w``, ``cm`` and ``gleak`` pass
    through ``softplus`` when the cell has ``implicit_param_constraints=True``. The controller's
    env is a generic one (``env_id='ncps'``, unbounded observations and actions, float64):
    ``ctrl.act(x)`` returns the ncps output for input ``x`` with ``elapsed_time = 1``.
    Its parameter ranges are the defaults widened to hold the imported values.

    Parameters
    ----------
    model : ncps.torch.LTC or ncps.torch.LTCCell
    unit_names, input_names : sequence of str, optional
        Neuron names (default ``u0, u1, ...`` and ``x0, x1, ...``; a wiring exported by
        :func:`connectome.io.to_ncps` lists them under ``config["wormlab"]``).
    max_steps : int
        Episode length of the generic env.
    dataset : str
        Recorded as the controller's dataset.

    Raises
    ------
    ControllerError
        A model wormlab cannot hold exactly (mixed memory, erev outside [-1, 1], an epsilon
        other than 1e-8, no inputs or no motor units).

    Examples
    --------
    >>> import ncps.torch, ncps.wirings, torch
    >>> ltc = ncps.torch.LTC(3, ncps.wirings.AutoNCP(8, 2, seed=0)).double()
    >>> ctrl = from_ncps(ltc)
    >>> ctrl
    Controller(11 neurons, 15 synapses, 0 gaps, ncps, in=dense, out=dense)
    >>> x = torch.ones(1, 5, 3, dtype=torch.float64)
    >>> y = ltc(x)[0][0].detach().numpy()
    >>> ctrl.reset()
    >>> bool(max(abs(ctrl.act(x[0, t].numpy()) - y[t]).max() for t in range(5)) < 1e-12)
    True
    """
    cell = _ncps_cell(model)
    p = {k: t.detach().to("cpu", torch.float64).numpy() for k, t in cell.named_parameters()}
    implicit = isinstance(cell.make_positive_fn, nn.Softplus)
    if implicit:
        for k in ("w", "sensory_w", "cm", "gleak"):
            p[k] = torch.nn.functional.softplus(torch.from_numpy(p[k])).numpy()
    # ncps 1.0.1 keeps the unfold count and epsilon only as these attributes
    unfolds, eps = int(cell._ode_unfolds), float(cell._epsilon)
    if eps != EPSILON:
        raise ControllerError(
            f"the ncps cell has epsilon={eps}; wormlab's step uses {EPSILON} (ncps's default)"
        )
    n_units, n_in, n_mot = cell.state_size, cell.sensory_size, cell.motor_size
    if n_in < 1 or n_mot < 1:
        raise ControllerError(f"the ncps cell has {n_in} inputs and {n_mot} motor units")
    units = list(unit_names) if unit_names is not None else [f"u{i}" for i in range(n_units)]
    inputs = list(input_names) if input_names is not None else [f"x{i}" for i in range(n_in)]
    if len(units) != n_units or len(inputs) != n_in or len(set(units + inputs)) < n_units + n_in:
        raise ControllerError(
            f"need {n_units} unit names and {n_in} input names, all distinct; got "
            f"{len(units)} and {len(inputs)}"
        )
    names = inputs + units
    roles = ["sensory"] * n_in + ["motor"] * n_mot + ["inter"] * (n_units - n_mot)
    rows = []  # (post index, pre index, sign, w, mu, sigma)
    for pre_off, (mask, w, e, mu, sig) in (
        (n_units, ("sparsity_mask", "w", "erev", "mu", "sigma")),
        (0, ("sensory_sparsity_mask", "sensory_w", "sensory_erev", "sensory_mu", "sensory_sigma")),
    ):
        for i, j in zip(*np.nonzero(p[mask]), strict=True):
            scale = p[mask][i, j]
            for s, wt in _split(p[w][i, j] * scale, p[e][i, j]):
                pre = (n_in + i) if pre_off else i
                rows.append((n_in + j, pre, s, wt, p[mu][i, j], p[sig][i, j]))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))  # CSR order: post, pre, sign
    synapses = [
        {"pre": names[r[1]], "post": names[r[0]], "sign": r[2], "weight": 1.0} for r in rows
    ]
    ident_in = np.ones(n_in)
    in_w = p.get("input_w", ident_in)
    in_b = p.get("input_b", np.zeros(n_in))
    out_w = p.get("output_w", np.ones(n_mot))
    out_b = p.get("output_b", np.zeros(n_mot))
    env = EnvSpec(
        env_id="ncps", code=-1, obs_dim=n_in, obs_center=(0.0,) * n_in,
        obs_scale=(1.0,) * n_in, discrete=False, n_actions=0, action_low=(-math.inf,) * n_mot,
        action_high=(math.inf,) * n_mot, max_steps=int(max_steps), action_dtype="float64",
    )  # fmt: skip
    ones = np.ones(n_in)
    blocks = [
        [r[3] for r in rows], [r[4] for r in rows], [r[5] for r in rows], [],
        np.concatenate([ones, p["cm"]]), np.concatenate([ones, p["gleak"]]),
        np.concatenate([np.zeros(n_in), p["vleak"]]),
        np.diag(in_w), in_b, np.diag(out_w), out_b,
    ]  # fmt: skip
    theta = np.concatenate([np.asarray(b, np.float64).ravel() for b in blocks])
    ctrl = Controller(
        names, roles, synapses, [], env, {"kind": "dense", "drive": "clamp"}, {"kind": "dense"},
        None, theta=theta, dt=1.0, unfolds=unfolds, dataset=dataset,
        provenance={"source": "ncps", "implicit_param_constraints": implicit},
    )  # fmt: skip
    return Controller.from_dict({**ctrl.to_dict(), "ranges": _covering_ranges(ctrl)})


def _covering_ranges(ctrl):
    """The default ranges, widened to hold the controller's values (so that training from
    them starts where they are; a log-scale group's lower bound stays positive)."""
    out = {}
    for group, values in ctrl.parameters.items():
        r = ctrl.ranges[group]
        values = np.asarray(values, np.float64).ravel()
        if r.log:
            values = values[values > 0]
        lo = min([r.lo, *values.tolist()])
        hi = max([r.hi, *values.tolist()])
        out[group] = [lo, hi, "log" if r.log else "lin"]
    return out


def _is_diagonal(m):
    """A square matrix with zeros off the diagonal."""
    m = np.asarray(m)
    return m.ndim == 2 and m.shape[0] == m.shape[1] and not np.any(m[~np.eye(len(m), dtype=bool)])


def ncps_names(controller) -> dict:
    """The neuron names of :func:`to_ncps`'s units and input features, in ncps order.

    ``{"unit_names": motor neurons then interneurons, "input_names": sensory neurons}``, the
    keyword arguments of :func:`from_ncps` that bring the names back (keep them in the file:
    ``save_ncps(ltc, path, names=ncps_names(controller))``).
    """
    c = controller
    inter = [x for x, r in zip(c.neurons, c.roles, strict=True) if r == "inter"]
    return {"unit_names": list(c.motor) + inter, "input_names": list(c.sensory)}


def to_ncps(controller, *, implicit_param_constraints=False):
    """An ``ncps.torch.LTC`` (float64, ``batch_first``) with the outputs of a controller.

    ncps can hold a controller whose sensory neurons are clamped (``drive='clamp'``: ncps
    feeds inputs as presynaptic potentials and has no input currents), read one observation
    component each (a dense input map with one weight per sensory neuron, on the diagonal),
    whose output map reads each motor neuron once (dense, diagonal), and that has no gap
    junctions (ncps has no electrical synapses). Synapses onto clamped sensory neurons change
    nothing and are left out; an excitatory and an inhibitory synapse between the same two
    neurons with the same ``mu`` and ``sigma`` become one ncps synapse with ``erev`` between
    -1 and 1. ``dt`` is folded into ``cm`` (ncps steps with ``elapsed_time = 1``), the
    observation's centre and scale into ``input_w`` and ``input_b``. The LTC's outputs are the
    output map's values ``y`` (before a bounded Box action's ``tanh``).

    Parameters
    ----------
    controller : Controller
    implicit_param_constraints : bool
        Build the LTC with ncps's softplus reparametrisation (the stored ``w``, ``sensory_w``,
        ``cm`` and ``gleak`` are then inverse softplus values).

    Raises
    ------
    ControllerError
        Gap junctions, current drive, or io maps ncps cannot express (the message says which).
    """
    c = controller
    why = []
    if c.gaps:
        why.append(
            f"it has {len(c.gaps)} gap junctions and ncps has no electrical synapses (keep "
            "them with sim.torch.CircuitModule, or drop them from the circuit)"
        )
    if c.input_map.get("drive") != "clamp":
        why.append(
            "its sensory neurons are driven by currents; ncps feeds inputs as presynaptic "
            "potentials through sensory synapses and has no input current (build it with "
            "drive='clamp')"
        )
    par = c.parameters
    ns, nm = len(c.sensory), len(c.motor)
    if c.input_map["kind"] != "dense" or not _is_diagonal(par["in_w"]):
        why.append(
            "ncps maps each input feature to itself (input_w x + input_b): the input map must "
            "be dense with one weight per sensory neuron, sensory neuron i reading component i"
        )
    if c.output_map["kind"] != "dense" or not _is_diagonal(par["out_w"]):
        why.append(
            "ncps reads each motor neuron once (output_w v + output_b): the output map must be "
            "dense and diagonal (a difference output is not)"
        )
    if why:  # said before torch is imported (seconds on a loaded machine)
        raise ControllerError("this controller cannot be an ncps LTC: " + "; ".join(why))
    from ncps.torch import LTC
    from ncps.wirings import Wiring

    idx = {x: i for i, x in enumerate(c.neurons)}
    sens_at = {x: i for i, x in enumerate(c.sensory)}
    units = ncps_names(c)["unit_names"]
    unit_at = {x: i for i, x in enumerate(units)}
    nu = len(units)
    mats = {k: np.zeros((nu, nu)) for k in ("w", "erev", "mu", "sigma")}
    smats = {k: np.zeros((ns, nu)) for k in ("w", "erev", "mu", "sigma")}
    mats["sigma"][:] = smats["sigma"][:] = 1.0
    seen = {}
    for k, s in enumerate(c.synapses):
        if s["post"] in sens_at:
            continue
        j = unit_at[s["post"]]
        m, i = (smats, sens_at[s["pre"]]) if s["pre"] in sens_at else (mats, unit_at[s["pre"]])
        w, mu, sig, e = par["w"][k], par["mu"][k], par["sigma"][k], 1.0 if s["sign"] > 0 else -1.0
        key = (m is smats, i, j)
        if key in seen:
            w0, e0, mu0, sig0 = seen[key]
            if (mu0, sig0) != (mu, sig):
                raise ControllerError(
                    f"synapses {s['pre']} -> {s['post']} of both signs have different mu or "
                    "sigma; ncps holds one synapse per pair of neurons"
                )
            w, e = w0 + w, (w0 * e0 + w * e) / (w0 + w)
        seen[key] = (w, e, mu, sig)
        m["w"][i, j], m["erev"][i, j], m["mu"][i, j], m["sigma"][i, j] = w, e, mu, sig
    wiring = Wiring(nu)
    wiring.build(ns)
    wiring.set_output_dim(nm)
    for (is_sens, i, j), (_w, e, _mu, _sig) in seen.items():
        pol = 1 if e >= 0 else -1
        (wiring.add_sensory_synapse if is_sens else wiring.add_synapse)(i, j, pol)
    ltc = LTC(
        ns, wiring, batch_first=True, ode_unfolds=c.unfolds,
        implicit_param_constraints=implicit_param_constraints,
    ).double()  # fmt: skip
    pos = _inverse_softplus if implicit_param_constraints else np.asarray
    in_w = np.diag(par["in_w"])  # the observation's centre and scale fold into input_w, input_b
    center, scale = np.array(c.env.obs_center), np.array(c.env.obs_scale)
    u_idx = [idx[x] for x in units]
    values = {
        "gleak": pos(par["gleak"][u_idx]),
        "vleak": par["vleak"][u_idx],
        "cm": pos(par["cm"][u_idx] / c.dt),
        "w": pos(mats["w"]), "erev": mats["erev"], "mu": mats["mu"], "sigma": mats["sigma"],
        "sensory_w": pos(smats["w"]), "sensory_erev": smats["erev"], "sensory_mu": smats["mu"],
        "sensory_sigma": smats["sigma"],
        "input_w": in_w / scale, "input_b": par["in_b"] - in_w * center / scale,
        "output_w": np.diag(par["out_w"]), "output_b": par["out_b"],
    }  # fmt: skip
    cell = ltc.rnn_cell
    with torch.no_grad():
        for k, value in values.items():
            getattr(cell, k).copy_(torch.tensor(np.asarray(value, np.float64)))
    return ltc


def ncps_to_dict(model, *, names=None) -> dict:
    """An ``ncps.torch.LTC`` as JSON-ready data: wiring config, options, every parameter.

    The data (``format`` :data:`NCPS_FORMAT`, ``version`` 1) holds ``wiring``
    (``ncps.wirings.Wiring.get_config()``: units, adjacency matrices, input and output
    dimensions; ``Wiring.from_config`` reads it), ``ltc`` (the constructor options),
    ``dtype`` and ``parameters`` (every tensor of the cell's ``state_dict`` as nested lists:
    float64 values survive JSON exactly). Nothing is pickled. :func:`save_ncps` writes it to a
    file; :func:`ncps_from_dict` rebuilds the model.

    Parameters
    ----------
    model : ncps.torch.LTC
    names : dict, optional
        Extra JSON-ready metadata kept under ``"wormlab"`` (e.g. unit and input names).
    """
    from ncps.torch import LTC
    from ncps.wirings import Wiring

    if not isinstance(model, LTC):
        raise ControllerError(f"expected an ncps.torch.LTC, got {type(model).__name__}")
    cell = _ncps_cell(model)
    state = cell.state_dict()
    dtypes = {str(t.dtype).removeprefix("torch.") for t in state.values()}
    # an LTC built from a number of units keeps its FullyConnected wiring only privately
    wiring = model.wiring_or_units
    wiring = wiring if isinstance(wiring, Wiring) else model._wiring
    mapping = {(True, True): "affine", (True, False): "linear", (False, False): "none"}
    return {
        "format": NCPS_FORMAT,
        "version": _NCPS_VERSION,
        "ncps": _ncps_version(),
        "wiring": Wiring.get_config(wiring),
        "ltc": {
            "input_size": int(model.input_size),
            "return_sequences": bool(model.return_sequences),
            "batch_first": bool(model.batch_first),
            "input_mapping": mapping[("input_w" in state, "input_b" in state)],
            "output_mapping": mapping[("output_w" in state, "output_b" in state)],
            # ncps 1.0.1 keeps the unfold count and epsilon only as these attributes
            "ode_unfolds": int(cell._ode_unfolds),
            "epsilon": float(cell._epsilon),
            "implicit_param_constraints": isinstance(cell.make_positive_fn, nn.Softplus),
        },
        "dtype": dtypes.pop() if len(dtypes) == 1 else "float64",
        "parameters": {k: t.detach().to("cpu", torch.float64).tolist() for k, t in state.items()},
        "wormlab": dict(names or {}),
    }


def save_ncps(model, path, *, names=None):
    """Keep an ``ncps.torch.LTC`` in one JSON file (:func:`ncps_to_dict`), atomically."""
    write_json_atomic(os.fspath(path), ncps_to_dict(model, names=names))


def _ncps_version():
    from importlib.metadata import version

    return version("ncps")


def load_ncps(path):
    """Read a :func:`save_ncps` file back into an ``ncps.torch.LTC`` (same outputs).

    Raises
    ------
    WiringFormatError
        Not such a file, another version, or parameters that do not fit the wiring.
    """
    d = read_json(path)
    try:
        return ncps_from_dict(d)
    except WiringFormatError as err:
        raise WiringFormatError(f"{path}: {err}") from err


def ncps_from_dict(d):
    """The ``ncps.torch.LTC`` of :func:`ncps_to_dict` data.

    Raises
    ------
    WiringFormatError
        Not such data, another version, or parameters that do not fit the wiring.
    """
    from ncps.torch import LTC
    from ncps.wirings import Wiring

    if not isinstance(d, dict) or d.get("format") != NCPS_FORMAT:
        raise WiringFormatError(f"not a wormlab ncps file (format {NCPS_FORMAT!r})")
    if d.get("version") != _NCPS_VERSION:
        raise WiringFormatError(
            f"ncps file version {d.get('version')!r} is not supported ({_NCPS_VERSION})"
        )
    try:
        opts = dict(d["ltc"])
        wiring = Wiring.from_config(d["wiring"])
        model = LTC(opts.pop("input_size"), wiring, **opts)
        dtype = {"float32": torch.float32, "float64": torch.float64}[d["dtype"]]
        state = {k: torch.tensor(v, dtype=torch.float64) for k, v in d["parameters"].items()}
        model = model.to(torch.float64)
        model.rnn_cell.load_state_dict(state, strict=True)
        return model.to(dtype)
    except (KeyError, TypeError, ValueError, RuntimeError) as err:
        raise WiringFormatError(f"ncps file is malformed: {err}") from err

"""The Controller: a circuit of LTC neurons with an input map and an output map.

A controller turns an environment's observation into an action through a piece of the worm's
wiring (Lechner et al. 2018, arXiv:1803.08554; Lechner et al. 2020,
doi:10.1038/s42256-020-00237-3). Each environment step:

1. the observation ``o`` (``obs_dim`` components) is normalised, ``z_j = (o_j - c_j) / s_j``, with
   ``c, s`` the centre and half-width of the observation space (``0, 1`` for unbounded
   components), and drives the sensory neurons as an external current ``I``:

   ``dense``  ``I_i = b_i + sum_j W_ij z_j`` for every sensory neuron ``i``;
   ``pairs``  one-to-one as Lechner et al. 2018 did: component ``j`` drives a positive neuron
              ``p`` and a negative neuron ``q``: ``I_p = b_p + g_j max(z_j, 0)``,
              ``I_q = b_q + g_j max(-z_j, 0)`` (unpaired sensory neurons get ``b`` only);

   with the ``clamp`` drive the same values are the sensory neurons' potentials instead, set
   at the start of the step and held through its sub-steps (how ``ncps`` feeds its inputs);
2. the circuit advances one LTC step of length ``dt`` (``unfolds`` fused semi-implicit
   sub-steps, :func:`sim.kernels.ltc_step`; the wiring and each synapse's polarity
   ``erev = +-1`` come from the circuit);
3. the motor neurons' potentials ``u`` give an output ``y``:

   ``difference``  ``y = g (u_a - u_b) + b`` for two motor neurons ``a, b`` (in the
                   tap-withdrawal circuit the forward and reverse command interneurons AVB
                   and AVA, whose difference Lechner et al. used as the action), or for two
                   groups ``y = g (mean u_A - mean u_B) + b`` (the klinotaxis circuit's
                   dorsal minus ventral head motor neurons: :func:`default_output_neurons`);
   ``dense``       ``y = W u + b``;
4. ``y`` becomes the action: a Box action is ``m + h tanh(y)`` with ``m, h`` the centre and
   half-width of the action space (unbounded Box: ``y`` itself); a Discrete(n) action is
   ``argmax y`` for the dense map, and for the difference map the bin of ``tanh(y)`` among ``n``
   equal bins of ``[-1, 1]`` (so Discrete(2) pushes right iff ``y > 0``; ordered actions such as
   Acrobot's torques -1, 0, +1 map to ordered bins).

The membrane potentials start at 0 in every episode (as ``ncps``'s ``LTC`` does).

Step 2 is the LTC circuit for every controller built on the worm's wiring (``core='ltc'``,
the file's ``model.kind``). The baselines of :mod:`sim.baselines` reuse steps 1, 3 and 4 with
a memoryless core instead (``'linear'``, ``'mlp'``: :func:`sim.kernels.feedforward_step`),
so they are trained, saved and evaluated by the same code. The synapse signs and the
starting strengths can come from the connectome (``signs=``, ``count_prior=`` of
:meth:`Controller.from_circuit`; :mod:`sim.priors`); with ``count_prior='tie'`` the
strengths are tied to the EM counts (one trained scale per synapse kind times the count:
:attr:`Controller.tie_scales`, ``model.tie`` in the file), so the trainer's unit cube holds the
two scales instead of the per-synapse ``w`` and ``gap`` entries.

Parameters and ranges
---------------------
Every parameter group lives in a documented range (:data:`sim.ranges.DEFAULT_RANGES`).
Training searches the unit cube: a value ``x`` in [0, 1] maps to ``lo + x (hi - lo)``, or to
``lo (hi/lo)**x`` for groups on a log scale (positive quantities). A group whose range has
``lo == hi`` is fixed.

=========  ========================  ===============  =====  ===========================
group      what                      shape            scale  default range
=========  ========================  ===============  =====  ===========================
w          synaptic max conductance  (synapses,)      log    [0.01, 10]
mu         sigmoid threshold         (synapses,)      lin    [-1, 1]
sigma      sigmoid slope             (synapses,)      log    [1, 30]
gap        gap-junction conductance  (gap pairs,)     log    [0.01, 10]
cm         membrane capacitance      (neurons,)       log    [0.01, 1]
gleak      leak conductance          (neurons,)       log    [0.01, 10]
vleak      leak (resting) potential  (neurons,)       lin    [-1, 1]
in_w       dense input weights       (sensory, obs)   lin    [-10, 10]
in_gain    pair input gains          (pairs,)         log    [0.1, 100]
in_b       sensory bias currents     (sensory,)       lin    [-1, 1]
out_gain   difference output gain    (1,)             log    [0.1, 100]
out_w      dense output weights      (outputs, motor) lin    [-10, 10]
out_b      output bias               (outputs,)       lin    [-2, 2]
=========  ========================  ===============  =====  ===========================

The model is unitless as in ``ncps`` (potentials of order 1, ``dt = 1`` per environment step
and 6 unfolds by default). The capacitance range is deliberately fast (``cm <= 1``, a time
constant ``cm / (gleak + sum w)`` of at most a few environment steps): slow neurons or small
output gains leave the motor neurons nearly still and training stalls.

All arithmetic of one step is one ``@njit`` function, :func:`sim.kernels.controller_step`,
used both by :meth:`Controller.act` and by the batched rollout kernel
:func:`sim.kernels.rollout_batch`, so a replay in gymnasium and the numba rollout compute the
same floats.
"""

import copy
import numbers
from types import MappingProxyType

import numpy as np
import pandas as pd

from connectome import limits
from connectome.errors import ControllerError, WiringFormatError, WormlabError
from connectome.presets import HEAD_MOTOR_DORSAL, HEAD_MOTOR_VENTRAL
from sim import kernels
from sim.checkpoint import CHECKPOINT_FORMAT
from sim.compiler import Wiring, compile_circuit
from sim.envs import EnvSpec, env_info
from sim.jsonfile import read_json, starts_as, write_json_atomic
from sim.kernels import (
    ACT_ARGMAX,
    ACT_BINS,
    ACT_RAW,
    ACT_TANH,
    BLOCK_GAP,
    BLOCK_IN_W,
    BLOCK_OUT_B,
    BLOCK_OUT_W,
    CORE_LINEAR,
    CORE_LTC,
    CORE_MLP,
    IN_CLAMP,
    IN_DENSE,
    IN_PAIRS,
    OUT_DENSE,
    OUT_DIFFERENCE,
)
from sim.ranges import GROUPS, as_ranges, check_values

__all__ = ["FORMAT", "CORES", "Controller", "load_controller", "default_output_neurons"]

FORMAT = "wormlab-controller"
_VERSION = 1
#: Controller cores (the file's ``model.kind``): the LTC circuit, and the memoryless cores of
#: the linear and MLP baselines (:mod:`sim.baselines`, :func:`sim.kernels.feedforward_step`).
CORES = MappingProxyType({"ltc": CORE_LTC, "linear": CORE_LINEAR, "mlp": CORE_MLP})


def default_output_neurons(motor):
    """What a difference output reads by default, as ``(a, b)`` for ``u_a - u_b``; ``a`` and
    ``b`` are neuron names, or tuples of names read as their mean; None when the motor
    neurons have no default difference (the ``'auto'`` output map is then dense).

    - AVB - AVA (forward minus reverse command interneurons, as Lechner et al. 2018 read the
      tap-withdrawal circuit) when those are the motor neurons;
    - dorsal minus ventral when every motor neuron is a dorsal or a ventral head motor
      neuron (SMBD, SMDD, RMDD vs SMBV, SMDV, RMDV: :data:`connectome.presets.
      HEAD_MOTOR_DORSAL`, the klinotaxis preset) and both sides are there. The worm steers
      by bending its head dorsally or ventrally (it crawls on its side, so that is its left
      or right on the plate; Izquierdo & Lockery 2010, doi:10.1523/JNEUROSCI.2606-10.2010,
      and Izquierdo & Beer 2013, doi:10.1371/journal.pcbi.1002890, read the turn as this
      dorsal/ventral asymmetry). Left and right are collapsed: the L and R members of each
      class innervate the left and right quadrants of the same (dorsal or ventral) muscle
      row of the head, so both bend it the same way; a left-right difference would be a
      bend out of the plane the worm steers in. Each side is the mean of its neurons, so the
      output gain keeps the range it has for one pair;
    - otherwise two motor neurons in circuit order.

    >>> default_output_neurons(["AVA", "AVB"])
    ('AVB', 'AVA')
    >>> default_output_neurons(["SMDDL", "SMDDR", "SMDVL", "SMDVR"])
    (('SMDDL', 'SMDDR'), ('SMDVL', 'SMDVR'))
    >>> default_output_neurons(["VA1", "VB1", "DB1"]) is None
    True
    """
    motor = tuple(motor)
    if set(motor) == {"AVA", "AVB"}:
        return ("AVB", "AVA")
    dorsal = tuple(x for x in motor if x.startswith(HEAD_MOTOR_DORSAL))
    ventral = tuple(x for x in motor if x.startswith(HEAD_MOTOR_VENTRAL))
    if dorsal and ventral and len(dorsal) + len(ventral) == len(motor):
        return (dorsal, ventral)
    return motor if len(motor) == 2 else None


def _difference_sides(neurons) -> list:
    """``[a, b]`` of a difference output, each a name or a list of at least one name (as a
    file keeps them), or ControllerError."""
    sides = list(neurons) if isinstance(neurons, list | tuple) else None
    ok = sides is not None and len(sides) == 2
    if ok:
        for k, side in enumerate(sides):
            if isinstance(side, list | tuple) and side and all(isinstance(x, str) for x in side):
                sides[k] = [str(x) for x in side]
            elif not isinstance(side, str):
                ok = False
    if not ok or sides[0] == sides[1]:
        raise ControllerError(
            f"difference output needs two sides (a, b), each a motor neuron or a list of them, "
            f"got {limits.shorten(neurons)}"
        )
    return sides


def _wiring(circuit):
    """Neurons, roles, chemical synapses and gap pairs of a wiring source, in the compiler's
    order (:func:`sim.compiler.compile_circuit`: CSR by post, then pre, then sign)."""
    neurons = getattr(circuit, "neurons", None)
    edges = getattr(circuit, "edges", None)
    if neurons is None or edges is None:
        raise ControllerError(
            f"{circuit!r} is not a circuit: need .neurons and .edges (a connectome.Circuit)"
        )
    kinds = set(edges["kind"]) - {"chemical", "electrical"}
    if kinds:
        raise ControllerError(f"edges of unknown kind {sorted(kinds)}: use chemical or electrical")
    names = [str(x) for x in neurons.index]
    if "role" in neurons.columns:
        roles = [str(r) for r in neurons["role"]]
    else:
        sens = set(getattr(circuit, "sensory", ()))
        mot = set(getattr(circuit, "motor", ()))
        roles = ["sensory" if x in sens else "motor" if x in mot else "inter" for x in names]
    table = neurons.set_axis(names).rename_axis("name")
    cc = compile_circuit(Wiring(table, edges, getattr(circuit, "name", "circuit")), "ltc")
    synapses = [
        {"pre": names[i], "post": names[j], "sign": int(s), "weight": float(w)}
        for i, j, s, w in zip(
            cc.pre.tolist(), cc.post.tolist(), cc.sign.tolist(), cc.count.tolist(), strict=True
        )
    ]
    gaps = [
        {"a": names[a], "b": names[b], "weight": float(w)}
        for a, b, w in zip(cc.gpost.tolist(), cc.gpre.tolist(), cc.gcount.tolist(), strict=True)
        if a < b
    ]
    return names, roles, synapses, gaps


class Controller:
    """A circuit with an input map and an output map, acting in one environment.

    Build one with :meth:`from_circuit`, train it with :func:`sim.trainer.train`, save it with
    :meth:`save`, load it with :func:`load_controller`. Use it as a policy: call
    :meth:`reset` at the start of every episode, then ``action = ctrl.act(obs)`` (an int for
    Discrete actions, a float32 array for Box actions) on every step.

    Examples
    --------
    >>> import connectome
    >>> tw = connectome.presets.tap_withdrawal(connectome.load("cook2019"))
    >>> ctrl = Controller.from_circuit(tw, "CartPole-v1")
    >>> ctrl
    Controller(9 neurons, 37 synapses, 14 gaps, CartPole-v1, in=dense, out=difference)
    >>> ctrl.reset()
    >>> ctrl.act([0.0, 0.0, 0.0, 0.0])
    1

    Attributes
    ----------
    neurons, roles : tuple of str
        Neuron order and roles ('sensory', 'inter', 'motor').
    synapses : tuple of dict
        Chemical synapses (pre, post, sign, weight = EM count), CSR order (by post, then pre).
    gaps : tuple of dict
        Gap-junction pairs (a, b, weight = EM count), each stored once.
    env : EnvSpec
        The environment it acts in.
    theta : ndarray
        Physical parameters, read-only, blocks :data:`GROUPS` (see :attr:`parameters`).
    ranges : dict of ParamRange
        Training ranges per group.
    provenance : dict
        Training record (seed, generations, score, ...), saved with the controller.
    """

    def __init__(
        self, neurons, roles, synapses, gaps, env, input_map, output_map, ranges, theta=None,
        dt=1.0, unfolds=6, provenance=None, dataset="", core="ltc", tie=None,
    ):  # fmt: skip
        if core not in CORES:
            raise ControllerError(f"unknown controller core {core!r}; known: {', '.join(CORES)}")
        self.core = str(core)
        self.neurons = tuple(neurons)
        self.roles = tuple(roles)
        self.synapses = tuple(dict(s) for s in synapses)
        self.gaps = tuple(dict(g) for g in gaps)
        self.env = env
        self.dataset = str(dataset)
        self._signed = () if self.core == "ltc" else ("w",)  # weights, not conductances
        self.ranges = as_ranges(ranges, signed=self._signed)
        self.dt = limits.check_float(dt, "dt", limits.MIN_DT, limits.MAX_DT, ControllerError)
        self.unfolds = limits.check_int(unfolds, "unfolds", 1, limits.MAX_UNFOLDS, ControllerError)
        self.provenance = dict(provenance or {})
        _check_wiring(self.synapses, self.gaps)
        if len(self.neurons) != len(set(self.neurons)):
            raise ControllerError("duplicate neuron names in the circuit")
        if len(self.roles) != len(self.neurons):
            raise ControllerError("one role per neuron needed")
        bad = sorted(set(self.roles) - {"sensory", "inter", "motor"})
        if bad:
            raise ControllerError(f"unknown neuron roles {bad}: use sensory, inter or motor")
        index = {x: i for i, x in enumerate(self.neurons)}
        self.sensory = tuple(
            x for x, r in zip(self.neurons, self.roles, strict=True) if r == "sensory"
        )
        self.motor = tuple(x for x, r in zip(self.neurons, self.roles, strict=True) if r == "motor")
        if not self.sensory:
            raise ControllerError(
                "the circuit has no sensory neurons: the observation has nothing to drive; mark "
                "some neurons sensory (Circuit.set_roles(sensory=...))"
            )
        if not self.motor:
            raise ControllerError(
                "the circuit has no motor neurons: nothing to read the action from; mark some "
                "neurons motor (Circuit.set_roles(motor=...)), e.g. AVA and AVB"
            )
        self._index = index
        self._build_io(dict(input_map), dict(output_map))
        self._build_structure()
        self._tie(tie)
        if theta is None:
            theta = self._theta_from_unit(np.full(self.size, 0.5))
            theta = self._tied_theta(theta[None, :], np.full((1, len(self.ties)), 0.5))[0]
        self._set_theta(theta)

    def _tie(self, tie):
        """Strengths tied to counts (``tie='counts'``, :mod:`sim.priors`): the tied blocks
        leave :attr:`free`; one scale per kind is trained instead (after the free entries)."""
        from sim.priors import tie_blocks

        if tie not in (None, "counts"):
            raise ControllerError(f"tie must be None or 'counts', got {limits.shorten(tie)}")
        if tie is not None and self.core != "ltc":
            raise ControllerError("tie='counts' ties LTC synapse strengths; this core has none")
        self.tie = tie
        self.ties = tie_blocks(self) if tie else ()
        for t in self.ties:
            lo, hi = self.offsets[t.block], self.offsets[t.block + 1]
            self.free = self.free[(self.free < lo) | (self.free >= hi)]

    def _tied_theta(self, thetas, x):
        """``thetas`` (P, size) with every tied block set to its scale (unit coordinates
        ``x``, (P, ties)) times the counts."""
        for j, t in enumerate(self.ties):
            sl = slice(self.offsets[t.block], self.offsets[t.block + 1])
            thetas[:, sl] = t.scale_of(x[:, j])[:, None] * t.counts[None, :]
        return thetas

    def _tie_scales(self, theta) -> dict:
        from sim.priors import tie_scale

        return {
            t.kind: tie_scale(t, theta[self.offsets[t.block] : self.offsets[t.block + 1]])
            for t in self.ties
        }

    @property
    def tie_scales(self) -> dict:
        """The trained scale of each tied synapse kind (``{}`` without a tie): every
        strength of the kind is exactly this scale times its count."""
        return dict(self._scales)

    def _set_theta(self, theta):
        theta = np.array(theta, dtype=np.float64)
        if theta.shape != (self.size,):
            raise ControllerError(f"theta has shape {theta.shape}, expected ({self.size},)")
        if not np.all(np.isfinite(theta)):
            raise ControllerError("controller parameters must be finite")
        for b, group in enumerate(self.group_names):
            check_values(
                group, theta[self.offsets[b] : self.offsets[b + 1]], signed=group in self._signed
            )
        theta.setflags(write=False)
        self.theta = theta
        self._scales = self._tie_scales(theta)  # refuses strengths that are not scale x count
        self._gw = self.gap_weights(theta[None, :])[0]
        self.reset()

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def from_circuit(
        cls, circuit, env_id, *, input_map="dense", pairs=None, output_map="auto",
        output_neurons=None, ranges=None, dt=1.0, unfolds=6, drive="current",
        signs="transmitter", count_prior=None, core="ltc",
    ):  # fmt: skip
        """Make an untrained controller from a circuit for one environment.

        Parameters
        ----------
        circuit : connectome.Circuit
            Wiring source with roles: its sensory neurons receive the observation, its motor
            neurons give the action.
        env_id : str or EnvSpec
            Gymnasium id (see :func:`sim.envs.env_info`).
        input_map : {'dense', 'pairs'}
            Dense affine map from every observation component to every sensory neuron, or
            one-to-one positive/negative neuron pairs (Lechner et al. 2018).
        pairs : dict or list, optional
            For ``'pairs'``: ``{obs_index: (positive_neuron, negative_neuron)}`` (or a list of
            pairs in observation order). Default: consecutive sensory neurons for components
            0, 1, ... (needs ``2 * obs_dim`` sensory neurons).
        drive : {'current', 'clamp'}
            The input map's value is each sensory neuron's input current, or its potential,
            set at the start of the step and held through every sub-step (ncps feeds its
            inputs so: :func:`sim.torch.from_ncps`).
        output_map : {'auto', 'difference', 'dense'}
            ``'auto'``: ``'difference'`` for a 1-D Box or Discrete action when the motor
            neurons have a default difference (:func:`default_output_neurons`: two motor
            neurons, or the klinotaxis preset's dorsal and ventral head motor neurons), else
            ``'dense'``.
        output_neurons : (a, b), optional
            For ``'difference'``: read as ``u_a - u_b``; ``a`` and ``b`` are motor neuron
            names, or lists of names read as their mean. Default:
            :func:`default_output_neurons`.
        ranges : dict, optional
            Overrides of :data:`DEFAULT_RANGES` (group -> ParamRange or [lo, hi, 'log'|'lin']).
        dt : float
            LTC time per environment step (unitless, as ncps's ``elapsed_time``).
        unfolds : int
            Fused sub-steps per environment step.
        signs : str
            Sign model of the chemical synapses (:data:`sim.priors.SIGN_MODELS`):
            ``'transmitter'`` (the circuit's own signs), ``'kunert2014'`` (inhibitory iff
            the presynaptic neuron is one of the 26 classical GABAergic neurons),
            ``'wicks1996'`` (the tap-withdrawal pathways' rule); sources and caveats in
            :mod:`sim.priors`.
        count_prior : {None, 'init', 'tie'}
            ``'init'``: synapse and gap strengths start proportional to their EM counts
            (:func:`sim.priors.count_init`); ``'tie'``: each strength is one trained scale
            per kind (chemical, gap) times its count, the scales are what is trained
            (:mod:`sim.priors`); None: at the middle of their ranges.
        core : {'ltc', 'linear', 'mlp'}
            The circuit's dynamics (:data:`CORES`); the memoryless cores serve the linear and
            MLP baselines (:mod:`sim.baselines`).

        Raises
        ------
        ControllerError
            Unknown env, circuit without sensory or motor neurons, maps that do not fit.
        """
        from sim.priors import COUNT_PRIORS, apply_sign_model, count_init

        if count_prior not in COUNT_PRIORS:
            raise ControllerError(
                f"count_prior must be None, 'init' or 'tie', got {limits.shorten(count_prior)}"
            )
        env = env_id if isinstance(env_id, EnvSpec) else env_info(env_id)
        names, roles, synapses, gaps = _wiring(circuit)
        synapses = apply_sign_model(synapses, signs)
        sensory = [x for x, r in zip(names, roles, strict=True) if r == "sensory"]
        motor = [x for x, r in zip(names, roles, strict=True) if r == "motor"]
        if input_map == "pairs":
            if pairs is None:
                if 2 * env.obs_dim > len(sensory):
                    raise ControllerError(
                        f"input_map='pairs' needs two sensory neurons per observation component: "
                        f"{env.env_id} has {env.obs_dim} components, the circuit "
                        f"{len(sensory)} sensory neurons ({', '.join(sensory)}); give pairs= "
                        "for some components or use input_map='dense'"
                    )
                pairs = {j: (sensory[2 * j], sensory[2 * j + 1]) for j in range(env.obs_dim)}
            elif not isinstance(pairs, dict):
                pairs = dict(enumerate(pairs))
            imap = {"kind": "pairs", "pairs": [[int(j), *map(str, pq)] for j, pq in pairs.items()]}
        elif input_map == "dense":
            imap = {"kind": "dense"}
        else:
            raise ControllerError(f"input_map must be 'dense' or 'pairs', got {input_map!r}")
        imap["drive"] = drive
        default_pair = default_output_neurons(motor)
        if output_map == "auto":
            one_d = env.discrete or env.act_dim == 1
            output_map = "difference" if default_pair is not None and one_d else "dense"
        if output_map == "difference":
            if output_neurons is None:
                if default_pair is None:
                    raise ControllerError(
                        f"output_map='difference' reads two motor neurons (or two groups); "
                        f"the circuit has {len(motor)} ({', '.join(motor)}) and no default "
                        "difference: give output_neurons=(a, b)"
                    )
                output_neurons = default_pair
            omap = {"kind": "difference", "neurons": _difference_sides(output_neurons)}
        elif output_map == "dense":
            omap = {"kind": "dense"}
        else:
            raise ControllerError(
                f"output_map must be 'auto', 'difference' or 'dense', got {output_map!r}"
            )
        ctrl = cls(
            names, roles, synapses, gaps, env, imap, omap, ranges, dt=dt, unfolds=unfolds,
            dataset=getattr(circuit, "name", ""), core=core,
            tie="counts" if count_prior == "tie" else None,
        )  # fmt: skip
        if count_prior == "init":
            ctrl = ctrl.with_theta(count_init(ctrl))
        return ctrl

    def _build_io(self, imap, omap):
        env = self.env
        sens_pos = {x: i for i, x in enumerate(self.sensory)}
        kind = imap.get("kind")
        if kind == "dense":
            self.in_kind = IN_DENSE
            self.in_pairs = np.zeros((0, 3), np.int64)
            n_in_w = len(self.sensory) * env.obs_dim
        elif kind == "pairs":
            self.in_kind = IN_PAIRS
            rows, used = [], set()
            for item in imap.get("pairs", ()):
                try:
                    j, p, q = item
                except (TypeError, ValueError) as err:
                    raise ControllerError(
                        f"bad input pair {limits.shorten(item)}: use (obs_index, positive, "
                        "negative)"
                    ) from err
                if not isinstance(j, numbers.Integral) or not 0 <= j < env.obs_dim:
                    raise ControllerError(
                        f"input pair for observation component {limits.shorten(j)}: "
                        f"{env.env_id} has {env.obs_dim} components (0..{env.obs_dim - 1})"
                    )
                j = int(j)
                for x in (p, q):
                    if not isinstance(x, str) or x not in sens_pos:
                        raise ControllerError(
                            f"input pair neuron {x!r} is not a sensory neuron of the circuit "
                            f"(sensory: {', '.join(self.sensory)})"
                        )
                    if x in used:
                        raise ControllerError(f"sensory neuron {x!r} is in two input pairs")
                    used.add(x)
                rows.append((j, sens_pos[p], sens_pos[q]))
            if not rows:
                raise ControllerError("input_map='pairs' needs at least one pair")
            self.in_pairs = np.array(rows, np.int64).reshape(-1, 3)
            n_in_w = len(rows)
        else:
            raise ControllerError(f"unknown input map kind {kind!r} (dense or pairs)")
        kind = omap.get("kind")
        mot_pos = {x: i for i, x in enumerate(self.motor)}
        self.out_read = np.zeros(len(self.motor))
        if kind == "difference":
            sides = _difference_sides(omap.get("neurons", ()))
            named = [[x] if isinstance(x, str) else x for x in sides]
            for x in named[0] + named[1]:
                if x not in mot_pos:
                    raise ControllerError(
                        f"output neuron {limits.shorten(x)} is not a motor neuron of the "
                        f"circuit (motor: {', '.join(self.motor)})"
                    )
            if set(named[0]) & set(named[1]) or len(set(named[0] + named[1])) != len(
                named[0] + named[1]
            ):
                raise ControllerError(
                    f"difference output {limits.shorten(sides)}: a neuron is read twice; give "
                    "two disjoint sides of distinct motor neurons"
                )
            if not env.discrete and env.act_dim != 1:
                raise ControllerError(
                    f"difference output gives one number; {env.env_id} has a {env.act_dim}-D "
                    "action: use output_map='dense'"
                )
            self.out_kind = OUT_DIFFERENCE
            for side, sign in zip(named, (1.0, -1.0), strict=True):
                for x in side:
                    self.out_read[mot_pos[x]] = sign / len(side)
            omap = {**omap, "neurons": sides}
            n_out_w, n_out_b = 1, 1
            self.act_kind = ACT_BINS if env.discrete else None
        elif kind == "dense":
            self.out_kind = OUT_DENSE
            n_outputs = env.n_actions if env.discrete else env.act_dim
            n_out_w, n_out_b = n_outputs * len(self.motor), n_outputs
            self.act_kind = ACT_ARGMAX if env.discrete else None
        else:
            raise ControllerError(f"unknown output map kind {kind!r} (difference or dense)")
        if env.discrete:
            self.act_lo = np.zeros(1)
            self.act_hi = np.full(1, env.n_actions - 1.0)
        else:
            lo = np.array(env.action_low, np.float64)
            hi = np.array(env.action_high, np.float64)
            bounded = bool(np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)))
            self.act_kind = ACT_TANH if bounded else ACT_RAW
            self.act_lo, self.act_hi = lo, hi
        drive = imap.setdefault("drive", "current")
        if drive not in ("current", "clamp"):
            raise ControllerError(
                f"input map drive {drive!r} is not 'current' or 'clamp' (the map's value is the "
                "sensory neurons' input current, or their potential held through the step)"
            )
        self.clamp = drive == "clamp"
        self.input_map = imap
        self.output_map = omap
        self._n_in_w, self._n_out_w, self._n_out_b = n_in_w, n_out_w, n_out_b

    def _build_structure(self):
        n = len(self.neurons)
        idx = self._index
        for s in self.synapses:
            for key in ("pre", "post"):
                if s[key] not in idx:
                    raise ControllerError(f"synapse {s} names unknown neuron {s[key]!r}")
        slot = {}
        for k, g in enumerate(self.gaps):
            for key in ("a", "b"):
                if g[key] not in idx:
                    raise ControllerError(f"gap junction {g} names unknown neuron {g[key]!r}")
            pair = tuple(sorted((idx[g["a"]], idx[g["b"]])))
            if pair[0] == pair[1]:
                raise ControllerError(f"gap junction {g} joins a neuron to itself; leave it out")
            if pair in slot:
                raise ControllerError(f"gap junction {g['a']}-{g['b']} is listed twice")
            slot[pair] = k
        cc = _compile_lists(self.neurons, self.synapses, self.gaps)
        listed = [
            (idx[s["post"]], idx[s["pre"]], -1 if float(s["sign"]) < 0 else 1)
            for s in self.synapses
        ]
        if listed != list(zip(cc.post.tolist(), cc.pre.tolist(), cc.sign.tolist(), strict=True)):
            raise ControllerError(
                "synapses must be listed once each, ordered by postsynaptic neuron, then "
                "presynaptic neuron, then sign (the order Controller.from_circuit gives)"
            )
        self.program_indptr = np.array(cc.indptr, np.int64)
        self.program_pre = np.array(cc.pre, np.int64)
        self.program_erev = np.where(cc.sign < 0, -1.0, 1.0)
        self.program_gindptr = np.array(cc.gindptr, np.int64)
        self.program_gpre = np.array(cc.gpre, np.int64)
        gpairs = zip(cc.gpost.tolist(), cc.gpre.tolist(), strict=True)
        self.program_gslot = np.array([slot[min(a, b), max(a, b)] for a, b in gpairs], np.int64)
        m, ng, ns = len(self.synapses), len(self.gaps), len(self.sensory)
        sizes = [m, m, m, ng, n, n, n, self._n_in_w, ns, self._n_out_w, self._n_out_b]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.size = int(self.offsets[-1])
        self.program_sens = np.array([idx[x] for x in self.sensory], np.int64)
        self.program_mot = np.array([idx[x] for x in self.motor], np.int64)
        # Per-entry ranges (group names depend on the map kinds).
        lo = np.empty(self.size)
        hi = np.empty(self.size)
        logf = np.zeros(self.size, np.bool_)
        for b, group in enumerate(self.group_names):
            r = self.ranges[group]
            sl = slice(self.offsets[b], self.offsets[b + 1])
            lo[sl], hi[sl], logf[sl] = r.lo, r.hi, r.log
        self.lo, self.hi, self.logscale = lo, hi, logf
        self.free = np.flatnonzero(lo < hi).astype(np.int64)

    @property
    def group_names(self) -> tuple:
        """Parameter group name of each block (``in_gain``/``out_gain`` replace the weights)."""
        names = list(GROUPS)
        if self.in_kind == IN_PAIRS:
            names[BLOCK_IN_W] = "in_gain"
        if self.out_kind == OUT_DIFFERENCE:
            names[BLOCK_OUT_W] = "out_gain"
        return tuple(names)

    @property
    def program(self) -> tuple:
        """The compiled structure, the trailing arguments of the njit kernels."""
        return (
            self.offsets, self.program_indptr, self.program_pre, self.program_erev,
            self.program_gindptr, self.program_gpre, self.program_sens, self.program_mot,
            self.in_kind + IN_CLAMP * self.clamp, self.in_pairs,
            np.array(self.env.obs_center, np.float64),
            np.array(self.env.obs_scale, np.float64), self.out_kind, self.out_read,
            self.act_kind, self.act_lo, self.act_hi, max(self.env.n_actions, 1), self.dt,
            self.unfolds, CORES[self.core],
        )  # fmt: skip

    @property
    def n_outputs(self) -> int:
        """Length of the output vector ``y``."""
        return int(self.offsets[BLOCK_OUT_B + 1] - self.offsets[BLOCK_OUT_B])

    @property
    def parameters(self) -> dict:
        """Parameter groups by name (read-only views into :attr:`theta`)."""
        out = {}
        for b, group in enumerate(self.group_names):
            out[group] = self.theta[self.offsets[b] : self.offsets[b + 1]]
        if self.in_kind == IN_DENSE:
            out["in_w"] = out["in_w"].reshape(len(self.sensory), self.env.obs_dim)
        if self.out_kind == OUT_DENSE:
            out["out_w"] = out["out_w"].reshape(self.n_outputs, len(self.motor))
        return out

    # -- unit cube ---------------------------------------------------------------------------

    @property
    def n_free(self) -> int:
        """Number of trained parameters (entries whose range has lo < hi)."""
        return int(self.free.shape[0]) + len(self.ties)

    def _theta_from_unit(self, x_all):
        x = np.asarray(x_all, np.float64)[self.free][None, :]
        theta0 = np.clip(np.where(self.lo == self.hi, self.lo, 0.0), self.lo, self.hi)
        out = np.empty((1, self.size))
        kernels.decode_batch(
            x, self.free, self.lo[self.free], self.hi[self.free], self.logscale[self.free],
            theta0, out,
        )  # fmt: skip
        return out[0]

    def to_unit(self) -> np.ndarray:
        """The trained entries of :attr:`theta` as unit-cube coordinates (clipped to [0, 1])."""
        th = self.theta[self.free]
        lo, hi, lg = self.lo[self.free], self.hi[self.free], self.logscale[self.free]
        with np.errstate(divide="ignore", invalid="ignore"):
            u = np.where(
                lg,
                (np.log(np.maximum(th, 1e-300)) - np.log(lo)) / (np.log(hi) - np.log(lo)),
                (th - lo) / (hi - lo),
            )
        scales = self.tie_scales
        tied = [t.unit_of(scales[t.kind]) for t in self.ties]
        return np.concatenate([np.clip(u, 0.0, 1.0), tied])

    def decode(self, x) -> np.ndarray:
        """Physical parameters ``(P, size)`` of unit-cube candidates ``x`` ``(P, n_free)``.

        Untrained entries keep this controller's values.
        """
        x = np.ascontiguousarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.n_free:
            raise ControllerError(f"candidates have shape {x.shape}, expected (P, {self.n_free})")
        out = np.empty((x.shape[0], self.size))
        f = self.free
        xf = np.ascontiguousarray(x[:, : f.shape[0]])
        kernels.decode_batch(xf, f, self.lo[f], self.hi[f], self.logscale[f], self.theta, out)
        return self._tied_theta(out, x[:, f.shape[0] :])

    def gap_weights(self, thetas) -> np.ndarray:
        """Gap conductance per gap CSR entry, ``(P, g)``, for parameter rows ``thetas``."""
        thetas = np.ascontiguousarray(thetas, dtype=np.float64)
        out = np.empty((thetas.shape[0], self.program_gslot.shape[0]))
        kernels.gap_weights(thetas, int(self.offsets[BLOCK_GAP]), self.program_gslot, out)
        return out

    def with_theta(self, theta, provenance=None) -> "Controller":
        """A copy with other parameters (and optionally other provenance), its own potentials;
        the structure is shared, not rebuilt."""
        other = copy.copy(self)
        other.provenance = dict(self.provenance if provenance is None else provenance)
        other._set_theta(theta)
        return other

    # -- acting ------------------------------------------------------------------------------

    def reset(self):
        """Set the membrane potentials to 0 (call at the start of each episode)."""
        n = len(self.neurons)
        self.v = np.zeros(n)
        self._cur = np.empty(n)
        self._work = np.empty(n)
        self._y = np.empty(max(self.n_outputs, 1))
        self._action = np.empty(self.act_lo.shape[0])

    def act(self, obs):
        """The action for one observation; advances the internal potentials :attr:`v`.

        Parameters
        ----------
        obs : array_like (obs_dim,)
            The environment's observation.

        Returns
        -------
        int or ndarray
            Discrete action index, or the Box action as an array of the action space's dtype
            (float32 for the classic-control envs).

        Raises
        ------
        ControllerError
            Wrong observation size or non-finite observation.
        """
        o = np.asarray(obs, dtype=np.float64).reshape(-1)
        if o.shape[0] != self.env.obs_dim:
            raise ControllerError(
                f"observation has {o.shape[0]} components, the input map expects "
                f"{self.env.obs_dim} ({self.env.env_id})"
            )
        if not np.all(np.isfinite(o)):
            raise ControllerError(f"observation is not finite: {o}")
        kernels.controller_step(
            self.theta, self._gw, o, self.v, self._cur, self._work, self._y, self._action,
            *self.program,
        )  # fmt: skip
        if self.env.discrete:
            return int(self._action[0])
        return self._action.astype(self.env.action_dtype)

    # -- files -------------------------------------------------------------------------------

    def to_dict(self) -> dict:
        """The JSON-ready description: wiring, parameters, io maps, env, provenance."""
        p = self.parameters
        neurons = [
            {
                "name": x,
                "role": r,
                "cm": float(p["cm"][i]),
                "gleak": float(p["gleak"][i]),
                "vleak": float(p["vleak"][i]),
            }
            for i, (x, r) in enumerate(zip(self.neurons, self.roles, strict=True))
        ]
        synapses = [
            {
                "pre": s["pre"],
                "post": s["post"],
                "kind": "chemical",
                "sign": int(s["sign"]),
                "weight": float(s["weight"]),
                "w": float(p["w"][k]),
                "mu": float(p["mu"][k]),
                "sigma": float(p["sigma"][k]),
            }
            for k, s in enumerate(self.synapses)
        ]
        gaps = [
            {
                "pre": g["a"],
                "post": g["b"],
                "kind": "electrical",
                "weight": float(g["weight"]),
                "g": float(p["gap"][k]),
            }
            for k, g in enumerate(self.gaps)
        ]
        imap = {
            "kind": self.input_map["kind"],
            "drive": self.input_map["drive"],
            "neurons": list(self.sensory),
        }
        if self.in_kind == IN_PAIRS:
            imap["pairs"] = [
                [int(j), self.sensory[a], self.sensory[b]] for j, a, b in self.in_pairs.tolist()
            ]
            imap["gain"] = p["in_gain"].tolist()
        else:
            imap["weight"] = p["in_w"].tolist()
        imap["bias"] = p["in_b"].tolist()
        omap = {"kind": self.output_map["kind"]}
        if self.out_kind == OUT_DIFFERENCE:
            omap["neurons"] = [
                list(x) if isinstance(x, list) else x for x in self.output_map["neurons"]
            ]
            omap["gain"] = float(p["out_gain"][0])
        else:
            omap["neurons"] = list(self.motor)
            omap["weight"] = p["out_w"].tolist()
        omap["bias"] = p["out_b"].tolist()
        omap["action"] = {0: "tanh", 1: "raw", 2: "argmax", 3: "bins"}[self.act_kind]
        return {
            "format": FORMAT,
            "version": _VERSION,
            "dataset": self.dataset,
            "neurons": neurons,
            "synapses": synapses,
            "gaps": gaps,
            "input_map": imap,
            "output_map": omap,
            "model": {
                "kind": self.core,
                "dt": self.dt,
                "unfolds": self.unfolds,
                **({"tie": self.tie, "tie_scales": self.tie_scales} if self.tie else {}),
            },  # fmt: skip
            "ranges": {g: r.to_json() for g, r in self.ranges.items()},
            "env": self.env.to_json(),
            "provenance": self.provenance,
        }

    @classmethod
    def from_dict(cls, d) -> "Controller":
        """Rebuild a controller from :meth:`to_dict` output.

        Raises
        ------
        WiringFormatError
            A file that does not follow the schema (the message says what is wrong).
        """
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise WiringFormatError(f"not a wormlab controller (expected format {FORMAT!r})")
        if d.get("version") != _VERSION:
            raise WiringFormatError(
                f"controller file version {d.get('version')!r} is not supported ({_VERSION})"
            )
        try:
            neurons = d["neurons"]
            syn = d["synapses"]
            gap = d["gaps"]
            imap_in, omap_in = d["input_map"], d["output_map"]
            env = EnvSpec.from_json(d["env"])
            names = [x["name"] for x in neurons]
            roles = [x["role"] for x in neurons]
            synapses = [
                {"pre": s["pre"], "post": s["post"], "sign": s["sign"], "weight": s["weight"]}
                for s in syn
            ]
            gaps = [{"a": g["pre"], "b": g["post"], "weight": g["weight"]} for g in gap]
            drive = imap_in.get("drive", "current")
            if imap_in["kind"] == "pairs":
                imap = {"kind": "pairs", "pairs": imap_in["pairs"], "drive": drive}
                in_w = np.asarray(imap_in["gain"], np.float64).ravel()
            else:
                imap = {"kind": imap_in["kind"], "drive": drive}
                in_w = np.asarray(imap_in["weight"], np.float64).ravel()
            omap = {"kind": omap_in["kind"]}
            if omap_in["kind"] == "difference":
                omap["neurons"] = omap_in["neurons"]
                out_w = np.array([omap_in["gain"]], np.float64)
            else:
                out_w = np.asarray(omap_in["weight"], np.float64).ravel()
            blocks = [
                [s["w"] for s in syn],
                [s["mu"] for s in syn],
                [s["sigma"] for s in syn],
                [g["g"] for g in gap],
                [x["cm"] for x in neurons],
                [x["gleak"] for x in neurons],
                [x["vleak"] for x in neurons],
                in_w,
                imap_in["bias"],
                out_w,
                omap_in["bias"],
            ]
            theta = np.concatenate([np.asarray(b, np.float64).ravel() for b in blocks])
            model = d["model"]
            if model.get("kind") not in CORES:
                raise WiringFormatError(
                    f"controller model {model.get('kind')!r} is not one of {', '.join(CORES)}"
                )
            return cls(
                names, roles, synapses, gaps, env, imap, omap, d.get("ranges"), theta=theta,
                dt=model["dt"], unfolds=model["unfolds"], provenance=d.get("provenance"),
                dataset=d.get("dataset", ""), core=model["kind"], tie=model.get("tie"),
            )  # fmt: skip
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as err:
            if isinstance(err, WiringFormatError):
                raise
            if isinstance(err, WormlabError):
                raise WiringFormatError(f"controller file: {err}") from err
            raise WiringFormatError(f"controller file is malformed: {err!r}") from err

    def save(self, path):
        """Write the controller as JSON (atomically: a crash leaves the old file or the new)."""
        write_json_atomic(path, self.to_dict())

    @classmethod
    def load(cls, path) -> "Controller":
        """Read a controller JSON file (or the best controller of a training checkpoint)."""
        return load_controller(path)

    def __repr__(self):
        core = "" if self.core == "ltc" else f"{self.core} core, "
        return (
            f"Controller({core}{len(self.neurons)} neurons, {len(self.synapses)} synapses, "
            f"{len(self.gaps)} gaps, {self.env.env_id}, in={self.input_map['kind']}, "
            f"out={self.output_map['kind']})"
        )


def _check_wiring(synapses, gaps):
    """Refuse synapse signs other than -1 / +1 and EM weights (counts) that are not finite
    numbers in ``0 .. MAX_WEIGHT``; signs become ints."""
    for kind, items in (("synapse", synapses), ("gap junction", gaps)):
        for k, item in enumerate(items):
            w = item.get("weight")
            ok = isinstance(w, numbers.Real) and not isinstance(w, bool)
            if not ok or not 0 <= w <= limits.MAX_WEIGHT:  # NaN fails too
                raise ControllerError(
                    f"{kind} {k} weight (EM count) = {limits.shorten(w)} must be a number in "
                    f"0 .. {limits.MAX_WEIGHT:g}"
                )
    for k, syn in enumerate(synapses):
        sign = syn.get("sign")
        if isinstance(sign, bool) or sign not in (-1, 1):
            raise ControllerError(
                f"synapse {k} sign = {limits.shorten(sign)} must be -1 (inhibitory) or +1 "
                "(excitatory)"
            )
        syn["sign"] = int(sign)


def _compile_lists(neurons, synapses, gaps):
    """The compiled ltc circuit of a controller's neuron, synapse and gap lists."""
    edges = pd.DataFrame(
        {
            "pre": [x["pre"] for x in synapses] + [g["a"] for g in gaps],
            "post": [x["post"] for x in synapses] + [g["b"] for g in gaps],
            "kind": ["chemical"] * len(synapses) + ["electrical"] * len(gaps),
            "weight": [float(x["weight"]) for x in synapses] + [float(g["weight"]) for g in gaps],
            "sign": [-1 if float(x["sign"]) < 0 else 1 for x in synapses] + [1] * len(gaps),
        }
    )
    return compile_circuit(Wiring(list(neurons), edges, "controller"), "ltc")


def load_controller(path) -> Controller:
    """Load a controller JSON file, or the best controller stored in a training checkpoint.

    Raises
    ------
    WiringFormatError
        The file is not a controller (or has no best controller yet).
    """
    big = limits.MAX_CHECKPOINT_BYTES if starts_as(path, CHECKPOINT_FORMAT) else None
    d = read_json(path, max_bytes=big)  # a checkpoint may be larger than a controller
    if isinstance(d, dict) and d.get("format") == CHECKPOINT_FORMAT:
        if d.get("best") is None:
            raise WiringFormatError(f"{path}: checkpoint holds no controller yet")
        d = d["best"]
    return Controller.from_dict(d)

"""Named circuits, derived from the connectome at hand (not typed in).

Each preset names its classes and roles; the synapses come from the data,
so the same preset on another dataset (Varshney 2011, a Witvliet stage)
gives that dataset's wiring. All presets are at class level: L/R and
numbered members merged, weights summed.
"""

from connectome.circuit import Circuit
from connectome.errors import CircuitError
from connectome.graph import Connectome, load
from connectome.limits import shorten

__all__ = ["PRESETS", "tap_withdrawal", "locomotion", "chemotaxis", "klinotaxis", "preset"]

TAP_SENSORY = ("PLM", "AVM", "ALM", "PVD")
TAP_INTER = ("AVD", "PVC", "DVA")
TAP_COMMAND = ("AVA", "AVB")

COMMAND = ("AVA", "AVB", "AVD", "AVE", "PVC")
CORD_MOTOR = ("VA", "VB", "DA", "DB", "AS", "DD", "VD")

CHEMO_SENSORY = ("ASE", "AWC")
CHEMO_INTER = ("AIY", "AIZ", "AIB", "RIA")


def _present(net: Connectome, classes) -> list[str]:
    return [c for c in classes if c in net.names]


def tap_withdrawal(net: Connectome | None = None) -> Circuit:
    """The tap-withdrawal circuit at class level.

    Sensory: PLM (posterior touch), AVM and ALM (anterior touch), PVD; interneurons AVD, PVC,
    DVA; outputs: the command interneurons AVA (reverse) and AVB (forward), which Lechner et
    al. 2018 read as the circuit's two motor units (REV, FWD). Every synapse among these nine
    classes in ``net`` (default Cook 2019) is kept.

    Compared with the published circuit (Chalfie et al. 1985; Wicks, Roehrig & Rankin 1996,
    J Neurosci 16:4017, doi:10.1523/JNEUROSCI.16-12-04017.1996; Lechner et al. 2018,
    arXiv:1803.08554): the two pathways are there in Cook 2019, anterior touch through AVD to
    AVA (AVD -> AVA is the heaviest chemical synapse of the circuit) and posterior touch
    through PVC to AVB, with PLM coupled to PVC by gap junctions. Cook 2019 also has synapses
    the published diagram leaves out (PVD -> PVC and PVD -> AVA are heavy, PVC -> AVA, PLM ->
    AVD, AVM -> AVB) and no chemical PLM -> PVC synapse, which the 1985/1996 diagrams draw.
    Signs come from transmitters (ACh and, by default, Glu excitatory), so the inhibitory
    synapses that Wicks et al. inferred from behaviour are not inhibitory here unless set by
    :meth:`Circuit.set_sign`.

    Examples
    --------
    >>> tw = tap_withdrawal()
    >>> tw.sensory, tw.inter, tw.motor
    (['PLM', 'AVM', 'ALM', 'PVD'], ['AVD', 'PVC', 'DVA'], ['AVA', 'AVB'])
    >>> e = tw.edges
    >>> chem = e[e.kind == "chemical"].sort_values("weight", ascending=False)
    >>> [f"{r.pre}->{r.post} {r.weight:g}" for r in chem.head(4).itertuples()]
    ['AVD->AVA 167', 'PVD->PVC 107', 'PVD->AVA 81', 'AVA->PVC 77']
    """
    net = net if net is not None else load("cook2019")
    classes = TAP_SENSORY + TAP_COMMAND + TAP_INTER
    circuit = Circuit.from_neurons(net, _present(net.to_classes(), classes), level="class")
    return circuit.set_roles(
        sensory=_present(circuit, TAP_SENSORY), motor=_present(circuit, TAP_COMMAND)
    )


def locomotion(net: Connectome | None = None) -> Circuit:
    """The locomotion command circuit at class level: the command interneurons AVA, AVB,
    AVD, AVE and PVC (roles: inter) and the ventral cord motor classes VA, VB, DA, DB, AS, DD
    and VD (roles: motor). It has no sensory role; set one to train it as a controller.

    Examples
    --------
    >>> loco = locomotion()
    >>> loco.motor
    ['VA', 'VB', 'DA', 'DB', 'AS', 'DD', 'VD']
    """
    net = net if net is not None else load("cook2019")
    classes = _present(net.to_classes(), COMMAND + CORD_MOTOR)
    circuit = Circuit.from_neurons(net, classes, level="class")
    return circuit.set_roles(sensory=[], motor=_present(circuit, CORD_MOTOR))


def chemotaxis(net: Connectome | None = None, min_weight=10.0) -> Circuit:
    """A salt/odour chemotaxis circuit at class level.

    Sensory ASE (salt) and AWC (odour); interneurons AIY, AIZ, AIB, RIA; motor: every motor
    class that receives at least ``min_weight`` chemical synapses (summed over the class) from
    these interneurons, i.e. the first step of their path to the head muscles. In Cook 2019
    that selects RMD, SMD, SMB, RIV and SIA (RIA -> RMD and RIA -> SMD are by far the heaviest).

    Examples
    --------
    >>> chemotaxis().motor
    ['RMD', 'SMD', 'SMB', 'RIV', 'SIA']
    """
    net = net if net is not None else load("cook2019")
    classes = net.to_classes()
    inter = _present(classes, CHEMO_INTER)
    sensory = _present(classes, CHEMO_SENSORY)
    if not inter or not sensory:
        raise CircuitError(f"dataset {net.name} lacks the chemotaxis sensory or interneurons")
    e = classes.neuron_edges
    chem = e[(e["kind"] == "chemical") & e["pre"].isin(inter)]
    types = classes.neurons["type"]
    chem = chem[chem["post"].map(types) == "motor"]
    drive = chem.groupby("post")["weight"].sum()
    drive = drive[drive >= min_weight].sort_values(ascending=False, kind="stable")
    motor = list(drive.index)
    circuit = Circuit.from_neurons(net, sensory + inter + motor, level="class")
    return circuit.set_roles(sensory=sensory, motor=motor)


HEAD_MOTOR_DORSAL = ("SMBD", "SMDD", "RMDD")
HEAD_MOTOR_VENTRAL = ("SMBV", "SMDV", "RMDV")


def klinotaxis(net: Connectome | None = None) -> Circuit:
    """The head-steering (klinotaxis) circuit at neuron level, dorsal and ventral kept apart.

    Sensory ASE and AWC (left and right); interneurons AIY, AIZ, AIB and RIA; motor: the head
    motor neurons that bend the head dorsally (SMBD, SMDD, RMDD; left and right) and
    ventrally (SMBV, SMDV, RMDV). Every synapse and gap junction among them in ``net``
    (default Cook 2019) is kept.

    Why this circuit steers: a worm on a salt gradient turns by biasing its head sweeps
    (klinotaxis). Izquierdo & Lockery (2010, J Neurosci 30:12908,
    doi:10.1523/JNEUROSCI.2606-10.2010) evolved connectome-constrained models of exactly
    this pathway, ASE -> AIY/AIZ -> RIA -> SMB/SMD/RMD, and found that it can steer with the
    sensory signal alone; Izquierdo & Beer (2013, PLoS Comput Biol 9:e1002890,
    doi:10.1371/journal.pcbi.1002890) constrained the full klinotaxis network (adding AWC and
    AIB) by the connectome and located the steering in the dorsal/ventral asymmetry of the head
    motor neurons, which RIA's compartments drive. The circuit is kept at neuron level
    because the class level merges SMDD with SMDV (one class SMD) and so loses the
    dorsal-ventral split that is the steering signal; the steering command is the dorsal
    minus the ventral head motor output (with the ``'dense'`` output map a controller learns
    that readout; ``output_neurons=("SMDDL", "SMDVL")`` reads one fixed pair).

    Examples
    --------
    >>> k = klinotaxis()
    >>> k.sensory
    ['ASEL', 'ASER', 'AWCL', 'AWCR']
    >>> sorted(set(x[:4] for x in k.motor))
    ['RMDD', 'RMDV', 'SMBD', 'SMBV', 'SMDD', 'SMDV']
    """
    net = net if net is not None else load("cook2019")
    names = sorted(str(x) for x in net.neurons.index)
    by_class = {}
    for name in names:
        by_class.setdefault(net.neurons.loc[name, "class"], []).append(name)
    sensory = [x for c in CHEMO_SENSORY for x in by_class.get(c, [])]
    inter = [x for c in CHEMO_INTER for x in by_class.get(c, [])]
    motor = [
        x for c in HEAD_MOTOR_DORSAL + HEAD_MOTOR_VENTRAL for x in names
        if x.startswith(c) and net.neurons.loc[x, "type"] == "motor"
    ]  # fmt: skip
    if not sensory or not inter or not motor:
        raise CircuitError(f"dataset {net.name} lacks the klinotaxis neurons")
    circuit = Circuit.from_neurons(net, sensory + inter + motor)
    return circuit.set_roles(sensory=sensory, motor=motor)


PRESETS = {
    "tap_withdrawal": tap_withdrawal,
    "locomotion": locomotion,
    "chemotaxis": chemotaxis,
    "klinotaxis": klinotaxis,
}


def preset(name: str, net: Connectome | None = None) -> Circuit:
    """A preset by name (``tap_withdrawal``, ``locomotion``, ``chemotaxis``, ``klinotaxis``)."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_") if isinstance(name, str) else ""
    if key not in PRESETS:
        raise CircuitError(f"unknown preset {shorten(name)}; presets are {', '.join(PRESETS)}")
    return PRESETS[key](net)

"""The connectome command line: ``python -m connectome {datasets,neuron,paths,circuit} ...``.

Examples::

    python -m connectome datasets
    python -m connectome neuron AVAL --dataset cook2019
    python -m connectome paths PLM AVB --max-length 3
    python -m connectome circuit --preset tap_withdrawal --format ncps -o tw_ncps.json
    python -m connectome circuit --neurons "PLM PVC AVA AVB" --chem-min 3 --format json
"""

import argparse
import sys

import pandas as pd

from connectome import io, limits, presets, queries
from connectome.circuit import Circuit
from connectome.errors import UnknownNeuronError, WormlabError
from connectome.graph import load

__all__ = ["build_parser", "main"]


def _datasets(args):
    from connectome.datasets import datasets

    table = datasets()[["neurons", "muscles", "chemical_edges", "electrical_edges", "title"]]
    print(table.to_string())


def _neuron(args):
    net = load(args.dataset)
    members = _class_members(net, args.name)
    if members:
        print(f"{args.name} is a class of {len(members)} in {net.name}: {', '.join(members)}\n")
        for member in members:
            _neuron(argparse.Namespace(**{**vars(args), "name": member}))
            print()
        return
    name = net.names.canonical(args.name)
    row = net.neurons.loc[name]
    print(f"{name}  ({net.name})")
    fields = ["full_name", "class", "type", "category", "transmitter", "sign", "lineage"]
    for field in [*fields, "ganglion", "description"]:
        value = row[field] if row[field] != "" else "—"
        if field == "ganglion" and value == "—":
            value = "— (not in the build's sources, cect and c302; see data/README.md)"
        print(f"  {field.replace('_', ' '):12s} {value}")
    print(f"  {'soma (µm)':12s} x={row['x']}, y={row['y']}, z={row['z']}")
    p = queries.partners(net, name)
    with pd.option_context("display.max_rows", args.top * 3):
        for direction, label in (("in", "inputs"), ("out", "outputs"), ("gap", "gap junctions")):
            part = p[p["direction"] == direction].head(args.top)
            print(f"\n  strongest {label}:")
            if part.empty:
                print("    none")
            for r in part.itertuples():
                print(f"    {r.partner:10s} {r.weight:g}")


def _class_members(net, name) -> tuple[str, ...]:
    """The members of ``name`` when it is a class and not also a neuron, else ()."""
    try:
        net.names.canonical(name)
    except UnknownNeuronError:
        if name.strip().lower() in {c.lower() for c in net.names.classes}:
            return net.names.members(name)
    return ()


def _paths(args):
    for label, value in (("source", args.source), ("target", args.target)):
        if not value.strip():
            raise WormlabError(f"the {label} is empty; give a neuron or class name (e.g. PLM)")
    net = load(args.dataset)
    rows = queries.strongest_paths(net, args.source, args.target, n=args.n)
    if not rows:
        print(f"no path from {args.source} to {args.target} in {net.name}")
        return 1
    for r in rows:
        print(f"{' -> '.join(r['path']):60s} cost {r['cost']:.3f}  bottleneck {r['bottleneck']:g}")
    return 0


def _build_circuit(args) -> Circuit:
    net = load(args.dataset)
    if args.preset:
        circuit = presets.preset(args.preset, net)
    elif args.neurons:
        circuit = Circuit.from_neurons(net, args.neurons, level=args.level)
    else:
        raise WormlabError("give --preset NAME or --neurons 'A B C'")
    if args.expand:
        circuit = circuit.expand(args.expand)
    if args.chem_min is not None or args.gap_min is not None:
        circuit = circuit.threshold(chemical=args.chem_min, electrical=args.gap_min)
    if args.top_k is not None:
        circuit = circuit.top_k_inputs(args.top_k)
    if args.ablate:
        circuit = circuit.ablate(args.ablate)
    if args.merge_classes:
        circuit = circuit.merge_classes()
    if args.sensory is not None or args.motor is not None:
        circuit = circuit.set_roles(sensory=args.sensory, motor=args.motor)
    return circuit


def _circuit(args):
    circuit = _build_circuit(args)
    text = io.export(circuit, args.format)
    if args.output and args.output != "-":
        try:
            with open(args.output, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as err:
            raise WormlabError(
                f"cannot write {args.output!r}: {err.strerror or err}; give -o a file in a "
                "folder you can write to"
            ) from err
        print(f"{circuit!r}\nwrote {args.format} to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    for problem in circuit.problems():
        print(f"note: {problem}", file=sys.stderr)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (no usage block)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _bounded(kind, lo, hi):
    """An argparse type: an int (``kind="int"``) or a finite float in ``lo .. hi``."""
    check = limits.check_int if kind == "int" else limits.check_float

    def parse(text):
        try:
            value = int(text) if kind == "int" else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {limits.shorten(text)}") from None
        try:
            return check(value, "the value", lo, hi)
        except WormlabError as err:
            raise argparse.ArgumentTypeError(str(err)) from None

    parse.__name__ = kind  # argparse names the type in its messages
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m connectome", description="Query the C. elegans connectome.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("datasets", help="list the shipped datasets").set_defaults(func=_datasets)

    p = sub.add_parser("neuron", help="describe one neuron and its strongest partners")
    p.add_argument("name")
    p.add_argument("--dataset", "-d", default="cook2019")
    p.add_argument(
        "--top", type=_bounded("int", 0, 1000), default=8, help="partners listed per direction"
    )
    p.set_defaults(func=_neuron)

    p = sub.add_parser("paths", help="strongest paths between neurons or classes")
    p.add_argument("source")
    p.add_argument("target")
    p.add_argument("--dataset", "-d", default="cook2019")
    p.add_argument(
        "-n",
        type=_bounded("int", 1, limits.MAX_PATH_COUNT),
        default=5,
        help=f"how many paths (default 5, at most {limits.MAX_PATH_COUNT})",
    )
    p.set_defaults(func=_paths)

    p = sub.add_parser("circuit", help="build a circuit and export it")
    p.add_argument("--dataset", "-d", default="cook2019")
    p.add_argument("--preset", choices=sorted(presets.PRESETS))
    p.add_argument("--neurons", help="neurons or classes, space or comma separated")
    p.add_argument("--level", choices=("neuron", "class"), default="neuron")
    hops, weight = _bounded("int", 0, limits.MAX_HOPS), _bounded("float", 0, limits.MAX_WEIGHT)
    p.add_argument("--expand", type=hops, default=0, help="add the k-hop neighbourhood")
    p.add_argument("--chem-min", type=weight, help="drop chemical synapses lighter than this")
    p.add_argument("--gap-min", type=weight, help="drop gap junctions lighter than this")
    p.add_argument(
        "--top-k",
        type=_bounded("int", 0, limits.MAX_SYNAPSES),
        help="keep each neuron's k heaviest inputs",
    )
    p.add_argument("--ablate", help="neurons or classes to remove")
    p.add_argument("--merge-classes", action="store_true")
    p.add_argument("--sensory", help="set the sensory (input) neurons")
    p.add_argument("--motor", help="set the motor (output) neurons")
    p.add_argument("--format", "-f", choices=io.EXPORT_FORMATS, default="json")
    p.add_argument("--output", "-o", help="file to write (default: standard output)")
    p.set_defaults(func=_circuit)
    return parser


def main(argv=None) -> int:
    """Run one command; the exit status is returned (0 ok, 1 nothing found, 2 an error, told
    on one line of standard error)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as done:  # --help, or a bad argument (argparse printed one line)
        return done.code if isinstance(done.code, int) else 2
    try:
        return args.func(args) or 0
    except WormlabError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

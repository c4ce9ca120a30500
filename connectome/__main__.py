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

from connectome import io, presets, queries
from connectome.circuit import Circuit
from connectome.errors import WormlabError
from connectome.graph import load

__all__ = ["build_parser", "main"]


def _datasets(args):
    from connectome.datasets import datasets

    table = datasets()[["neurons", "muscles", "chemical_edges", "electrical_edges", "title"]]
    print(table.to_string())


def _neuron(args):
    net = load(args.dataset)
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


def _paths(args):
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
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"{circuit!r}\nwrote {args.format} to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    for problem in circuit.problems():
        print(f"note: {problem}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m connectome", description="Query the C. elegans connectome."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("datasets", help="list the shipped datasets").set_defaults(func=_datasets)

    p = sub.add_parser("neuron", help="describe one neuron and its strongest partners")
    p.add_argument("name")
    p.add_argument("--dataset", "-d", default="cook2019")
    p.add_argument("--top", type=int, default=8)
    p.set_defaults(func=_neuron)

    p = sub.add_parser("paths", help="strongest paths between neurons or classes")
    p.add_argument("source")
    p.add_argument("target")
    p.add_argument("--dataset", "-d", default="cook2019")
    p.add_argument("-n", type=int, default=5, help="how many paths (default 5)")
    p.set_defaults(func=_paths)

    p = sub.add_parser("circuit", help="build a circuit and export it")
    p.add_argument("--dataset", "-d", default="cook2019")
    p.add_argument("--preset", choices=sorted(presets.PRESETS))
    p.add_argument("--neurons", help="neurons or classes, space or comma separated")
    p.add_argument("--level", choices=("neuron", "class"), default="neuron")
    p.add_argument("--expand", type=int, default=0, help="add the k-hop neighbourhood")
    p.add_argument("--chem-min", type=float, help="drop chemical synapses lighter than this")
    p.add_argument("--gap-min", type=float, help="drop gap junctions lighter than this")
    p.add_argument("--top-k", type=int, help="keep each neuron's k heaviest inputs")
    p.add_argument("--ablate", help="neurons or classes to remove")
    p.add_argument("--merge-classes", action="store_true")
    p.add_argument("--sensory", help="set the sensory (input) neurons")
    p.add_argument("--motor", help="set the motor (output) neurons")
    p.add_argument("--format", "-f", choices=io.EXPORT_FORMATS, default="json")
    p.add_argument("--output", "-o", help="file to write (default: standard output)")
    p.set_defaults(func=_circuit)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args) or 0
    except WormlabError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""Time importing a big wiring JSON (issue 11: 5 MB, 75k synapses took 40 s) against its peer,
``json.loads`` of the same text.

Run: ``python benchmarks/bench_wiring_import.py [synapses]`` (default 74,000: the most
chemical synapses among Cook 2019's 302 neurons that fit the 5 MB file limit). Prints the
file size, the time of ``json.loads``, of ``connectome.io.from_json`` and their ratio; the
import is linear in the synapses, so the ratio stays a small constant as the file grows.
"""

import itertools
import json
import sys
import time

import connectome
from connectome import io


def wiring_text(n_synapses: int) -> str:
    """A wiring JSON of ``n_synapses`` chemical synapses among Cook 2019's neurons."""
    names = list(connectome.load("cook2019").neurons.index)
    pairs = itertools.islice(itertools.product(names, names), n_synapses)
    data = {
        "format": io.FORMAT,
        "version": io.VERSION,
        "dataset": "cook2019",
        "level": "neuron",
        "neurons": [{"name": n, "role": "inter", "sign": 1} for n in names],
        "synapses": [
            {"pre": a, "post": b, "kind": "chemical", "weight": 1, "sign": 1} for a, b in pairs
        ],
        "operations": [],
    }
    return json.dumps(data, separators=(",", ":"))


def _best(f, repeat=3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def main(n_synapses: int = 74_000) -> None:
    text = wiring_text(n_synapses)
    connectome.load("cook2019")  # the dataset is cached; time the import alone
    peer = _best(lambda: json.loads(text))
    ours = _best(lambda: io.from_json(text))
    print(
        f"{n_synapses:,} synapses, {len(text):,} bytes: json.loads {peer:.2f} s, "
        f"io.from_json {ours:.2f} s, ratio {ours / peer:.1f}"
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))

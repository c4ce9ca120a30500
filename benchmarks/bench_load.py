"""Time ``connectome.load()`` for every shipped dataset (cold: each dataset read once).

Run: ``python benchmarks/bench_load.py``. Prints load time (CSV -> Connectome with pandas
views) and the time to build the networkx graph on first access, next to the dataset counts.
"""

import time

import connectome


def main():
    table = connectome.datasets()
    print(
        f"{'dataset':16s} {'neurons':>7s} {'chem':>6s} {'gap':>5s} {'load ms':>8s} {'graph ms':>9s}"
    )
    for name, row in table.iterrows():
        t0 = time.perf_counter()
        c = connectome.load(name)
        t1 = time.perf_counter()
        c.graph  # noqa: B018  (built on first access)
        t2 = time.perf_counter()
        print(
            f"{name:16s} {row['neurons']:7d} {row['chemical_edges']:6d} "
            f"{row['electrical_edges']:5d} {1e3 * (t1 - t0):8.1f} {1e3 * (t2 - t1):9.1f}"
        )


if __name__ == "__main__":
    main()

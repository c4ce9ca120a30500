"""Click-to-traces on the Simulate page: the page's own request path for its default run.

The default form (Cook 2019, graded model, 2000 pA into PLM, 5 s at 0.1 ms) goes through
``read_form`` -> ``check_request`` -> ``simulated`` (numba run) -> ``analyse`` (response
summary, PCA, period) -> the result figures, as the Run callback does; numba is compiled
once first, and the content-keyed cache of results is cleared before each click so every
click really simulates. (A latency figure of the page, not a comparison with a peer.)

Usage: ``python benchmarks/bench_click.py [--clicks 5]``
"""

import argparse
import os
import statistics
import time

from webapp import simulation
from webapp.figures import results


def click(form):
    parts = simulation.read_form(
        form["model"], form["params"], form["rows"], form["ablate"], form["duration"],
        form["dt"], form["record"],
    )  # fmt: skip
    request = simulation.check_request(simulation.dataset_source(form["dataset"]), parts)
    result = simulation.simulated(request)
    info = simulation.analyse(result, request)
    return results.run_figures(result, request, info, "bench", request.source)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clicks", type=int, default=5)
    args = ap.parse_args(argv)
    form = simulation.default_form()
    click(form)  # compile (or load numba's cache) once
    times = []
    for _ in range(args.clicks):
        simulation.simulated.cache_clear()
        tic = time.perf_counter()
        click(form)
        times.append(time.perf_counter() - tic)
    print(
        f"click-to-traces, {form['dataset']} {form['duration']} s: median "
        f"{statistics.median(times):.3f} s, min {min(times):.3f} s over {args.clicks} clicks "
        f"(load {os.getloadavg()[0]:.1f})"
    )


if __name__ == "__main__":
    main()

"""Lesion screens: every single (or pairwise) ablation as a sweep, ranked against the baseline.

A screen is a :func:`sim.sweeps.sweep` whose points are the baseline (nothing ablated) and one
ablation set each: every neuron or every class of the source, a chosen list, or every pair
within a set (30 neurons: 435 pairs). :func:`rank` compares each point with the baseline:

==================  =====================================================================
verdict             meaning
==================  =====================================================================
``stops``           the baseline oscillates and the ablated network does not
``starts``          the baseline does not oscillate and the ablated network does
``shifts period``   both oscillate; the period moves by more than ``period_tol``
``amplitude``       both oscillate at the same period; the amplitude moves by more than
                    ``amplitude_tol``
``""``              no change beyond those tolerances
``error``           the point failed (see its ``error``)
==================  =====================================================================

"Oscillates" means ``strength >= min_strength`` and ``amplitude >= min_amplitude`` (mV).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from connectome.errors import SimulationError
from sim.sweeps import load_source, sweep, sweep_spec

__all__ = ["VERDICTS", "screen_spec", "screen", "rank"]

#: Verdicts in ranking order.
VERDICTS = ("stops", "starts", "shifts period", "amplitude", "", "error")
_NEEDED = ("period", "strength", "amplitude")


def screen_spec(
    source="varshney2011",
    stimulus=(),
    *,
    candidates=None,
    level="neuron",
    pairs=None,
    metrics=_NEEDED,
    **options,
):
    """The :class:`sim.sweeps.SweepSpec` of a lesion screen (point 0 is the baseline).

    Parameters
    ----------
    source, stimulus
        The base run (see :func:`sim.sweeps.sweep_spec`).
    candidates : sequence of str, optional
        What to ablate one at a time (neurons or classes); every neuron (``level="neuron"``)
        or class (``level="class"``) of the source when omitted.
    level : {"neuron", "class"}
    pairs : sequence of str, optional
        Ablate every unordered pair within this set instead of single ones.
    metrics : sequence
        Sweep metrics; period, strength and amplitude are always included.
    **options
        Other :func:`sim.sweeps.sweep_spec` arguments (``neurons``, ``duration`` ...).
    """
    if level not in ("neuron", "class"):
        raise SimulationError(f"level = {level!r}; use 'neuron' or 'class'")
    if pairs is not None and candidates is not None:
        raise SimulationError("give candidates (single ablations) or pairs, not both")
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    metrics = [*[m for m in _NEEDED if m not in metrics], *metrics]
    # the spec checks the source and options first; the points are filled in below
    probe = sweep_spec(source, stimulus, points=[{"ablate": ""}], metrics=metrics, **options)
    if pairs is not None:
        names = list(dict.fromkeys(str(p).strip() for p in pairs if str(p).strip()))
        if len(names) < 2:
            raise SimulationError(f"pairs = {pairs!r}: give at least two names")
        sets = [(a, b) for a, b in itertools.combinations(names, 2)]
    else:
        if candidates is None:
            net = load_source(probe.source)
            gone = set(net.resolve(list(probe.ablate))) if probe.ablate else set()
            table = net.neurons
            table = table.loc[[n for n in table.index if n not in gone]]
            if level == "neuron":
                candidates = list(table.index)
            else:
                cls = table["class"] if "class" in table else pd.Series(table.index, table.index)
                candidates = list(dict.fromkeys(str(c) for c in cls.fillna("") if c))
        sets = [(str(c),) for c in candidates]
        if not sets:
            raise SimulationError("no candidates to ablate")
    return sweep_spec(
        source,
        stimulus,
        points=[{"ablate": ()}] + [{"ablate": s} for s in sets],
        metrics=metrics,
        **options,
    )


def rank(
    table,
    *,
    min_strength=0.8,
    min_amplitude=1.0,
    period_tol=0.05,
    amplitude_tol=0.25,
):
    """Rank a screen's rows against its baseline (the row whose ``ablate`` is ``""``).

    Returns
    -------
    pandas.DataFrame
        The ablation rows with ``d_period``, ``d_strength``, ``d_amplitude`` (point minus
        baseline), ``rel_period`` (relative period change), ``verdict`` (:data:`VERDICTS`),
        sorted by verdict and then by the size of the change; ``attrs["baseline"]`` holds the
        baseline's metrics.
    """
    base_rows = table.loc[table["ablate"] == ""]
    if len(base_rows) != 1:
        raise SimulationError("a screen table needs exactly one baseline row (ablate == '')")
    base = base_rows.iloc[0]
    if base["error"]:
        raise SimulationError(f"the baseline run failed: {base['error']}")
    rows = table.loc[table["ablate"] != ""].copy()
    for m in _NEEDED:
        rows[f"d_{m}"] = rows[m] - base[m]
    rows["rel_period"] = rows["d_period"] / base["period"]

    def oscillates(strength, amplitude):
        return (strength >= min_strength) & (amplitude >= min_amplitude)

    was = bool(oscillates(base["strength"], base["amplitude"]))
    now = oscillates(rows["strength"], rows["amplitude"]).to_numpy()
    failed = (rows["error"] != "").to_numpy()
    rel_amp = (rows["d_amplitude"] / base["amplitude"]).abs().to_numpy()
    rel_per = rows["rel_period"].abs().to_numpy()
    verdict = np.full(len(rows), "", dtype=object)
    if was:
        verdict[~now] = "stops"
        both = now
        verdict[both & (rel_amp > amplitude_tol)] = "amplitude"
        verdict[both & (rel_per > period_tol)] = "shifts period"
    else:
        verdict[now] = "starts"
    verdict[failed] = "error"
    rows["verdict"] = pd.array(verdict.tolist(), dtype="str")
    order = rows["verdict"].map({v: k for k, v in enumerate(VERDICTS)}).to_numpy()
    drop = -rows["d_strength"].to_numpy() - rows["d_amplitude"].to_numpy() / base["amplitude"]
    size = np.where(
        verdict == "stops",
        drop,
        np.nan_to_num(rel_per) + np.nan_to_num(rel_amp),
    )
    rows = rows.iloc[np.lexsort((rows["point"].to_numpy(), -size, order))].reset_index(drop=True)
    rows.attrs["baseline"] = {m: float(base[m]) for m in _NEEDED}
    return rows


def screen(
    source="varshney2011",
    stimulus=(),
    *,
    candidates=None,
    level="neuron",
    pairs=None,
    workers=None,
    scheduler=None,
    client=None,
    out=None,
    progress=None,
    should_stop=None,
    min_strength=0.8,
    min_amplitude=1.0,
    period_tol=0.05,
    amplitude_tol=0.25,
    **options,
):
    """Run a lesion screen and rank the ablations (see the module docstring).

    Parameters
    ----------
    source, stimulus, candidates, level, pairs, **options
        See :func:`screen_spec`.
    workers, scheduler, client, out, progress, should_stop
        See :func:`sim.sweeps.sweep` (a stopped screen ranks the points done, if the baseline
        is among them).
    min_strength, min_amplitude, period_tol, amplitude_tol
        See :func:`rank`.

    Returns
    -------
    pandas.DataFrame
        :func:`rank` of the screen's table.
    """
    spec = screen_spec(source, stimulus, candidates=candidates, level=level, pairs=pairs, **options)
    table = sweep(
        spec=spec, workers=workers, scheduler=scheduler, client=client, out=out,
        progress=progress, should_stop=should_stop,
    )  # fmt: skip
    return rank(
        table,
        min_strength=min_strength,
        min_amplitude=min_amplitude,
        period_tol=period_tol,
        amplitude_tol=amplitude_tol,
    )

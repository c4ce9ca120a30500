"""The shipped datasets: where they are, what they contain, how they are read.

The files in ``data/`` are derived once, by hand, from the C. elegans
Connectome Toolbox (``cect``) and the c302 cell files by
``data/build_data.py``; their provenance (citation, DOI, what a weight means,
counts and checksums) is in ``data/manifest.json``. Nothing here imports
``cect``: the runtime reads only ``data/``.

Tables are read once per process and shared read-only (``functools.cache``
on pure readers of files that never change while the process runs).
"""

import functools
import json
from pathlib import Path

import pandas as pd

from connectome.errors import UnknownDatasetError

__all__ = [
    "DATA_DIR",
    "datasets",
    "manifest",
    "dataset_info",
    "read_neurons",
    "read_cells",
    "read_edges",
]

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

_EDGE_DTYPES = {"pre": str, "post": str, "kind": str, "weight": float}


@functools.cache
def manifest() -> dict:
    """The parsed ``data/manifest.json`` (provenance and counts of every dataset)."""
    with open(DATA_DIR / "manifest.json", encoding="utf-8") as f:
        return json.load(f)


def dataset_info(name: str) -> dict:
    """The manifest entry of one dataset, with its key under ``"name"``.

    Raises
    ------
    UnknownDatasetError
        If ``name`` is not shipped; the message lists the shipped keys.
    """
    entries = manifest()["datasets"]
    key = str(name).strip().lower()
    if key not in entries:
        raise UnknownDatasetError(
            f"unknown dataset {name!r}; shipped datasets are: {', '.join(entries)}"
        )
    return {"name": key, **entries[key]}


def datasets() -> pd.DataFrame:
    """The shipped datasets with their counts and citations, one row per dataset.

    Examples
    --------
    >>> table = datasets()
    >>> "cook2019" in table.index and "varshney2011" in table.index
    True
    """
    rows = []
    for key, entry in manifest()["datasets"].items():
        counts = entry["counts"]
        rows.append(
            {
                "name": key,
                "title": entry["title"],
                "neurons": counts["neurons"],
                "muscles": counts["muscles"],
                "chemical_edges": counts["chemical_edges"],
                "electrical_edges": counts["electrical_edges"],
                "chemical_weight_total": counts["chemical_weight_total"],
                "electrical_weight_total": counts["electrical_weight_total"],
                "weight_meaning": entry["weight_meaning"],
                "citation": entry["citation"],
                "doi": entry["doi"],
            }
        )
    return pd.DataFrame(rows).set_index("name")


@functools.cache
def read_neurons() -> pd.DataFrame:
    """``data/neurons.csv``: the 302 hermaphrodite neurons, indexed by name.

    Columns (``data/README.md`` says what each means and where it comes from): class,
    type, transmitter, sign, x, y, z (µm, NaN if unknown), ganglion, description,
    full_name, category, lineage; text columns are ``""`` where the sources have nothing.
    """
    text = ["name", "class", "type", "transmitter", "ganglion", "description"]
    text += ["full_name", "category", "lineage"]
    table = pd.read_csv(
        DATA_DIR / "neurons.csv",
        dtype=dict.fromkeys(text, str),
        keep_default_na=False,
        na_values={"x": [""], "y": [""], "z": [""]},
    )
    table["sign"] = table["sign"].astype(int)
    return table.set_index("name")


@functools.cache
def read_cells() -> pd.DataFrame:
    """``data/cells.csv``: the nodes that are not hermaphrodite neurons (muscles, male
    neurons, other cells), indexed by name."""
    table = pd.read_csv(DATA_DIR / "cells.csv", dtype=str, keep_default_na=False)
    return table.set_index("name")


@functools.cache
def read_edges(name: str) -> pd.DataFrame:
    """The edge list of one dataset: columns pre, post, kind, weight.

    Chemical rows are directed; electrical rows are one per unordered pair.
    """
    info = dataset_info(name)
    return pd.read_csv(DATA_DIR / info["file"], dtype=_EDGE_DTYPES, keep_default_na=False)

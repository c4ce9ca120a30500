"""The shipped datasets: where they are, what they contain, how they are read.

The files in ``data/`` are derived once, by hand, from the C. elegans
Connectome Toolbox (``cect``) and the c302 cell files by
``data/build_data.py``; their provenance (citation, DOI, what a weight means,
counts and checksums) is in ``data/manifest.json``. Nothing here imports
``cect``: the runtime reads only ``data/``.

Tables are read once per process (``functools.cache`` on pure readers of
files that never change while the process runs) and handed out as copies, so
no caller can change what the next one reads: DataFrames as shallow
copy-on-write copies, the manifest as a deep copy.
"""

import copy
import functools
import json
from pathlib import Path

import pandas as pd

from connectome.errors import UnknownDatasetError
from connectome.limits import shorten

__all__ = [
    "DATA_DIR",
    "datasets",
    "manifest",
    "dataset_key",
    "dataset_info",
    "read_neurons",
    "read_cells",
    "read_edges",
]

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

_EDGE_DTYPES = {"pre": str, "post": str, "kind": str, "weight": float}


def manifest() -> dict:
    """The parsed ``data/manifest.json`` (provenance and counts of every dataset; a copy)."""
    return copy.deepcopy(_manifest())


@functools.cache
def _manifest() -> dict:
    with open(DATA_DIR / "manifest.json", encoding="utf-8") as f:
        return json.load(f)


def dataset_key(name: str) -> str:
    """The key of a shipped dataset, whatever the case and spaces (" Cook2019" -> "cook2019").

    Raises
    ------
    UnknownDatasetError
        If ``name`` is not shipped; the message lists the shipped keys.
    """
    entries = _manifest()["datasets"]
    key = str(name).strip().lower()
    if key not in entries:
        raise UnknownDatasetError(
            f"unknown dataset {shorten(name)}; shipped datasets are: {', '.join(entries)}"
        )
    return key


def dataset_info(name: str) -> dict:
    """The manifest entry of one dataset, with its key under ``"name"`` (a copy).

    Raises
    ------
    UnknownDatasetError
        If ``name`` is not shipped; the message lists the shipped keys.
    """
    key = dataset_key(name)
    return {"name": key, **copy.deepcopy(_manifest()["datasets"][key])}


def datasets() -> pd.DataFrame:
    """The shipped datasets with their counts and citations, one row per dataset.

    Examples
    --------
    >>> table = datasets()
    >>> "cook2019" in table.index and "varshney2011" in table.index
    True
    """
    rows = []
    for key, entry in _manifest()["datasets"].items():
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


def read_neurons() -> pd.DataFrame:
    """``data/neurons.csv``: the 302 hermaphrodite neurons, indexed by name (a copy).

    Columns (``data/README.md`` says what each means and where it comes from): class,
    type, transmitter, sign, x, y, z (µm, NaN if unknown), ganglion, description,
    full_name, category, lineage; text columns are ``""`` where the sources have nothing.
    """
    return _read_neurons().copy(deep=False)


@functools.cache
def _read_neurons() -> pd.DataFrame:
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


def read_cells() -> pd.DataFrame:
    """``data/cells.csv``: the nodes that are not hermaphrodite neurons (muscles, male
    neurons, other cells), indexed by name (a copy)."""
    return _read_cells().copy(deep=False)


@functools.cache
def _read_cells() -> pd.DataFrame:
    table = pd.read_csv(DATA_DIR / "cells.csv", dtype=str, keep_default_na=False)
    return table.set_index("name")


def read_edges(name: str) -> pd.DataFrame:
    """The edge list of one dataset: columns pre, post, kind, weight (a copy).

    Chemical rows are directed; electrical rows are one per unordered pair.
    """
    return _read_edges(dataset_key(name)).copy(deep=False)


@functools.cache
def _read_edges(key: str) -> pd.DataFrame:
    info = dataset_info(key)
    return pd.read_csv(DATA_DIR / info["file"], dtype=_EDGE_DTYPES, keep_default_na=False)

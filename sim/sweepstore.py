"""Sweep results on disk: a Parquet directory a sweep appends chunks to and resumes from.

Layout of ``results.parquet/``::

    _sweep.json           the spec (sim.sweeps.SweepSpec.to_dict) and its fingerprint
    chunk-000003.parquet  the rows of chunk 3, written whole (to a temporary name, then renamed)

``pandas.read_parquet("results.parquet")`` reads the rows of every finished chunk. Running the
same sweep with the same directory skips the chunks it holds; a different sweep is refused.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from connectome.errors import SimulationError

__all__ = ["SweepStore"]

_MANIFEST = "_sweep.json"  # pyarrow skips names starting with _ or .


class SweepStore:
    """The output directory of one sweep.

    Parameters
    ----------
    path : str or path
        Directory (created if missing; a name ending ``.parquet`` is usual).
    spec : SweepSpec
        The sweep; a directory made by another sweep raises SimulationError.
    """

    def __init__(self, path, spec):
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise SimulationError(
                f"--out {str(self.path)!r} is a file; a sweep writes a directory of Parquet "
                "chunks: give a new name"
            )
        self.fingerprint = spec.fingerprint()
        manifest = self.path / _MANIFEST
        if manifest.exists():
            with open(manifest, encoding="utf-8") as f:
                held = json.load(f).get("fingerprint")
            if held != self.fingerprint:
                raise SimulationError(
                    f"{str(self.path)!r} holds the results of another sweep (fingerprint "
                    f"{str(held)[:12]}, this one {self.fingerprint[:12]}); give another output "
                    "or delete it"
                )
        else:
            if self.path.exists() and any(self.path.iterdir()):
                raise SimulationError(
                    f"{str(self.path)!r} is a non-empty directory without {_MANIFEST}; give a "
                    "new name"
                )
            self.path.mkdir(parents=True, exist_ok=True)
            _write_atomic(
                manifest,
                json.dumps(
                    {"fingerprint": self.fingerprint, "spec": spec.to_dict()},
                    indent=1,
                    default=str,
                ).encode(),
            )

    def _file(self, index):
        return self.path / f"chunk-{index:06d}.parquet"

    def done(self):
        """Indices of the chunks already written."""
        out = set()
        for p in self.path.glob("chunk-*.parquet"):
            out.add(int(p.stem.split("-")[1]))
        return out

    def write(self, chunk, rows):
        """Write one chunk's rows (atomically: a reader sees the whole chunk or none of it)."""
        tmp = self.path / f".{self._file(chunk.index).name}.tmp"
        rows.to_parquet(tmp, index=False)
        os.replace(tmp, self._file(chunk.index))

    def read(self):
        """The rows of every written chunk, one DataFrame per chunk."""
        return [pd.read_parquet(p) for p in sorted(self.path.glob("chunk-*.parquet"))]


def _write_atomic(path, data):
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)

"""Build the shipped connectome data of wormlab from cect and the c302 wheel.

This script is run by hand, never at runtime. It needs a Python environment in which
``cect==0.3.5`` (C. elegans Connectome Toolbox, MIT) is installed. cect pins
``numpy<2.4`` and ``plotly<6``, so install it in a separate virtual environment::

    python -m venv /tmp/cectenv
    /tmp/cectenv/bin/pip install cect==0.3.5 pandas
    /tmp/cectenv/bin/python data/build_data.py

The c302 wheel (MIT, OpenWorm) is only read as a zip file for the soma positions in its
``*.cell.nml`` files; it is not installed. The script downloads it with
``pip download c302==0.12.1 --no-deps`` unless ``--c302-wheel PATH`` is given.

Outputs (all in the folder of this script): ``neurons.csv``, ``cells.csv``,
``edges/<key>.csv`` and ``manifest.json`` (with the source file and sha256 of every
column of ``neurons.csv`` under ``neurons_file.columns``). Rows are sorted so that the output is
deterministic; ``README.md`` is written by hand and documents the rules used here.

References
----------
Cook et al. 2019, Nature 571:63-71, doi:10.1038/s41586-019-1352-7.
Varshney et al. 2011, PLoS Comput Biol 7:e1001066, doi:10.1371/journal.pcbi.1001066.
White et al. 1986, Phil Trans R Soc Lond B 314:1-340, doi:10.1098/rstb.1986.0056.
Witvliet et al. 2021, Nature 596:257-261, doi:10.1038/s41586-021-03778-8.
Wang et al. 2024, eLife 13:RP95402, doi:10.7554/eLife.95402.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib
import io
import json
import platform
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from importlib import metadata
from pathlib import Path

import numpy as np

__all__ = [
    "DATASETS",
    "NEURON_HEADER",
    "neuron_class",
    "sign_of",
    "main",
]

C302_VERSION = "0.12.1"
CECT_VERSION = "0.3.5"
SCHEMA = 1

OUT = Path(__file__).resolve().parent

COOK_CITATION = (
    "Cook SJ, Jarrell TA, Brittin CA, Wang Y, Bloniarz AE, Yakovlev MA, Nguyen KCQ, "
    "Tang LT-H, Bayer EA, Duerr JS, Buelow HE, Hobert O, Hall DH, Emmons SW (2019). "
    "Whole-animal connectomes of both Caenorhabditis elegans sexes. Nature 571:63-71."
)
COOK_WEIGHT = (
    "Number of EM serial sections showing the connection (takes both the number and the "
    "size of synapses into account). Gap junctions: the symmetric matrix of the source, "
    "one value per pair."
)
WITVLIET_CITATION = (
    "Witvliet D, Mulcahy B, Mitchell JK, Meirovitch Y, Berger DR, Wu Y, Liu Y, Koh WX, "
    "Parvathala R, Holmyard D, Schalek RL, Shavit N, Chisholm AD, Lichtman JW, Samuel ADT, "
    "Zhen M (2021). Connectomes across development reveal principles of brain maturation. "
    "Nature 596:257-261."
)
WITVLIET_WEIGHT = (
    "Number of synapses between the pair as annotated in the source table (nerve ring and "
    "ventral ganglion only). The authors note that gap junctions are incompletely annotated."
)
WITVLIET_STAGES = {1: "L1", 2: "L1", 3: "L1", 4: "L1", 5: "L2", 6: "L3", 7: "adult", 8: "adult"}

#: key -> (cect reader module, title, citation, doi, weight meaning)
DATASETS: dict[str, tuple[str, str, str, str, str]] = {
    "cook2019": (
        "Cook2019HermReader",
        "Cook et al. 2019, hermaphrodite (whole animal)",
        COOK_CITATION,
        "10.1038/s41586-019-1352-7",
        COOK_WEIGHT,
    ),
    "cook2019_male": (
        "Cook2019MaleReader",
        "Cook et al. 2019, male (whole animal)",
        COOK_CITATION,
        "10.1038/s41586-019-1352-7",
        COOK_WEIGHT,
    ),
    "varshney2011": (
        "VarshneyDataReader",
        "Varshney et al. 2011, hermaphrodite somatic nervous system",
        "Varshney LR, Chen BL, Paniagua E, Hall DH, Chklovskii DB (2011). Structural "
        "properties of the Caenorhabditis elegans neuronal network. PLoS Comput Biol "
        "7(2):e1001066.",
        "10.1371/journal.pcbi.1001066",
        "Number of synapses. Chemical: the 'S' (send) and 'Sp' (send, polyadic) rows summed "
        "per ordered pair; neuromuscular junctions ('NMJ') all go to one node BWM (body wall "
        "muscle, unspecified). Electrical: number of gap junctions ('EJ') per pair.",
    ),
    "white1986": (
        "White_whole",
        "White et al. 1986, hermaphrodite (whole animal incl. pharynx; reanalysis used by "
        "Varshney et al. 2011, as packaged in cect)",
        "White JG, Southgate E, Thomson JN, Brenner S (1986). The structure of the nervous "
        "system of the nematode Caenorhabditis elegans. Philos Trans R Soc Lond B Biol Sci "
        "314(1165):1-340.",
        "10.1098/rstb.1986.0056",
        "Number of synapses (chemical) or gap junctions (electrical) per pair as listed in "
        "the source file aconnectome_white_1986_whole.csv.",
    ),
}
for _i, _stage in WITVLIET_STAGES.items():
    DATASETS[f"witvliet2021_{_i}"] = (
        f"WitvlietDataReader{_i}",
        f"Witvliet et al. 2021, dataset {_i} ({_stage})",
        WITVLIET_CITATION,
        "10.1038/s41586-021-03778-8",
        WITVLIET_WEIGHT,
    )

#: Columns of neurons.csv, in file order (new columns are appended, never inserted).
NEURON_HEADER = (
    "name,class,type,transmitter,sign,x,y,z,ganglion,description,full_name,category,lineage"
).split(",")

#: cect's cell table: WormAtlas names, lineages and classifications with cect's categories.
CELL_INFO_FILE = "all_cell_info.csv"
#: Wang et al. 2024 eLife (CC BY 4.0), supplementary file 2: read for the transmitters by
#: cect's Wang2024Reader and here again for its Lineage column (a check of the lineages).
WANG_SUPP2_FILE = "elife-95402-supp2-v1.xlsx"

#: Short transmitter names for cect's Wang et al. 2024 names. Entries mapped to "" are
#: not a released transmitter (uptake only, orphan, or unknown) and are left out.
TRANSMITTER_SHORT = {
    "Acetylcholine": "ACh",
    "GABA": "GABA",
    "Glutamate": "Glu",
    "Dopamine": "DA",
    "Serotonin": "5-HT",
    "Octopamine": "OA",
    "Tyramine": "TA",
    "Betaine": "betaine",
    "Serotonin_Uptake": "",
    "GABA_Uptake": "",
    "Unknown_Orphan_Neurotransmitter": "",
    "Unknown_Monoaminergic_Neurotransmitter": "",
    "5-HTP": "5-HTP",
    "Possible_PEOH": "",
    "5-HTP_synthesis_5-HT_uptake": "5-HTP",
}

SIGN_RULE = (
    "sign = -1 if GABA is the neuron's primary transmitter, i.e. the first one listed by Wang "
    "et al. 2024 (via cect; GABA-only neurons included; GABA uptake without synthesis does not "
    "count), else +1: ACh is excitatory; Glu, monoamines and unknown default to +1, as in "
    "Kunert et al. 2014 where only GABAergic neurons are inhibitory. The one co-transmitting "
    "case with GABA second is SMD (ACh;GABA), which stays +1."
)

#: The numbered ventral/dorsal cord series: VA1..VA12 -> VA etc.
CORD_SERIES = ("AS", "DA", "DB", "DD", "VA", "VB", "VC", "VD")
#: Classes whose members carry dorsal/ventral (and possibly left/right) suffixes.
DV_CLASSES = (
    "CEP",
    "IL1",
    "IL2",
    "OLQ",
    "RMD",
    "RME",
    "SAA",
    "SAB",
    "SIA",
    "SIB",
    "SMB",
    "SMD",
    "URA",
    "URY",
)


def neuron_class(name: str, names: set[str]) -> str:
    """Return the anatomical class of a hermaphrodite neuron.

    Rules, in order: the cord series in ``CORD_SERIES`` drop their number (VA12 -> VA);
    the classes in ``DV_CLASSES`` drop D/V/L/R suffixes (IL2DL, IL2L -> IL2; RMED -> RME);
    any other name ending in L or R drops it when both the L and R names exist
    (AVAL, AVAR -> AVA; ADLL -> ADL); all other names are their own class (AVL, DVA, I3).

    Parameters
    ----------
    name : str
        Neuron name as in cect (e.g. ``"AVAL"``).
    names : set of str
        All hermaphrodite neuron names.

    Returns
    -------
    str
        The class name.
    """
    m = re.fullmatch(r"([A-Z]{2})(\d+)", name)
    if m and m.group(1) in CORD_SERIES:
        return m.group(1)
    for cls in DV_CLASSES:
        if re.fullmatch(cls + r"(D|V)?(L|R)?", name):
            return cls
    if name[-1] in "LR" and {name[:-1] + "L", name[:-1] + "R"} <= names:
        return name[:-1]
    return name


def sign_of(transmitters: list[str]) -> int:
    """Default synapse sign of a presynaptic neuron (see ``SIGN_RULE``).

    Parameters
    ----------
    transmitters : list of str
        Short transmitter names in the order of Wang et al. 2024 (primary first).

    Returns
    -------
    int
        -1 if the primary transmitter is GABA, else +1.
    """
    return -1 if transmitters[:1] == ["GABA"] else 1


def sha256(path: Path) -> str:
    """Hex sha256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fmt(w: float) -> str:
    """Weight as text without needless decimals."""
    return str(int(w)) if float(w).is_integer() else repr(float(w))


def read_dataset(module: str):
    """Parse one cect dataset from its raw source file.

    Returns
    -------
    rows : list of tuple
        (pre, post, kind, weight) rows, sorted by kind, pre, post.
    source : Path
        The source file inside cect.
    """
    mod = importlib.import_module("cect.readers." + module)
    inst = mod.get_instance(from_cache=False)
    source = Path(getattr(inst, "filename", None) or mod.filename).resolve()
    unknown = set(inst.connections) - {"Generic_CS", "Generic_GJ"}
    if unknown:
        raise RuntimeError(f"{module}: unexpected synapse classes {sorted(unknown)}")
    nodes = list(inst.nodes)
    rows = []
    cs = inst.connections.get("Generic_CS")
    if cs is not None:
        for i, j in zip(*np.nonzero(cs), strict=True):
            rows.append((nodes[i], nodes[j], "chemical", float(cs[i, j])))
    gj = inst.connections.get("Generic_GJ")
    if gj is not None:
        # cect stores gap junctions as a symmetric matrix; its readers either read a
        # symmetric source matrix (Cook), mirror one-direction rows (Witvliet, White), or
        # keep both listed directions (Varshney), raising if two listings disagree.
        if not np.array_equal(gj, gj.T):
            raise RuntimeError(f"{module}: gap junction matrix is not symmetric")
        for i, j in zip(*np.nonzero(gj), strict=True):
            a, b = nodes[i], nodes[j]
            if a <= b:
                rows.append((a, b, "electrical", float(gj[i, j])))
    rows = [r for r in rows if r[3] > 0]
    rows.sort(key=lambda r: (r[2], r[0], r[1]))
    return rows, source


def electrical_listing_stats(key: str, source: Path) -> dict | None:
    """How a source file lists gap junctions: one or both directions, equal or not.

    Only for the edge-list sources (Varshney, White, Witvliet); the Cook matrices are
    symmetric by construction.
    """
    listed: dict[tuple[str, str], float] = {}
    if key == "varshney2011":
        import xlrd

        sheet = xlrd.open_workbook(str(source)).sheet_by_index(0)
        raw = [sheet.row_values(r) for r in range(1, sheet.nrows)]
        raw = [(str(r[0]), str(r[1]), str(r[2]), r[3]) for r in raw if r[2] == "EJ"]
    elif key == "white1986":
        raw = []
        for line in source.read_text().splitlines():
            p = line.split()
            if len(p) >= 4 and p[2] == "electrical":
                raw.append((p[0], p[1], p[2], p[3]))
    elif key.startswith("witvliet2021"):
        from openpyxl import load_workbook

        ws = load_workbook(source, read_only=True).worksheets[0]
        raw = [
            (str(r[0]), str(r[1]), str(r[2]), r[3])
            for r in ws.iter_rows(min_row=2, values_only=True)
            if r[2] == "electrical"
        ]
    else:
        return None
    duplicates = 0
    for a, b, _, n in raw:
        if (a, b) in listed:
            duplicates += 1
        listed[(a, b)] = listed.get((a, b), 0) + float(n)
    both_equal = both_diff = one_way = self_loops = 0
    for (a, b), n in listed.items():
        if a == b:
            self_loops += 1
        elif (b, a) in listed:
            if a < b:
                if listed[(b, a)] == n:
                    both_equal += 1
                else:
                    both_diff += 1
        else:
            one_way += 1
    return {
        "rows": len(raw),
        "repeated_rows": duplicates,
        "pairs_listed_both_ways_equal": both_equal,
        "pairs_listed_both_ways_different": both_diff,
        "pairs_listed_one_way": one_way,
        "self_pairs": self_loops,
    }


def c302_positions(wheel: Path) -> dict[str, tuple[float, float, float]]:
    """Soma positions in um: first segment's proximal point of each ``*.cell.nml``."""
    ns = "{http://www.neuroml.org/schema/neuroml2}"
    pos = {}
    with zipfile.ZipFile(wheel) as z:
        for name in sorted(z.namelist()):
            if not name.endswith(".cell.nml"):
                continue
            root = ET.fromstring(z.read(name))
            cell = root.find(f"{ns}cell")
            seg = cell.find(f"{ns}morphology/{ns}segment")
            prox = seg.find(f"{ns}proximal")
            pos[cell.get("id")] = tuple(float(prox.get(k)) for k in ("x", "y", "z"))
    return pos


def get_c302_wheel(path: str | None) -> Path:
    """The c302 wheel given on the command line, or downloaded with pip."""
    if path:
        return Path(path)
    tmp = Path(tempfile.mkdtemp(prefix="c302_"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            f"c302=={C302_VERSION}",
            "--no-deps",
            "-q",
            "-d",
            str(tmp),
        ],
        check=True,
    )
    return next(tmp.glob("c302-*.whl"))


def cell_description(name: str) -> str:
    """Short description of a non-neuron cell from cect's cell lists."""
    from cect import Cells as C

    groups = [
        (C.BODY_WALL_MUSCLE_NAMES, "body wall muscle"),
        (C.UNSPECIFIED_BODY_WALL_MUSCLES, "body wall muscle (unspecified cell)"),
        (C.PHARYNGEAL_MUSCLE_NAMES, "pharyngeal muscle"),
        (C.VULVAL_MUSCLE_NAMES, "vulval muscle"),
        (C.UTERINE_MUSCLE_NAMES, "uterine muscle"),
        (C.ANAL_SPHINCTER_MUSCLES, "anal sphincter / depressor muscle"),
        (C.INTESTINAL_MUSCLES, "intestinal muscle"),
        (C.MALE_SPECIFIC_MUSCLES, "male-specific muscle"),
        (C.GLR_CELLS, "GLR glial cell"),
        (C.CEPSH_CELLS, "CEP sheath glial cell"),
        (C.PHARYNGEAL_MARGINAL_CELLS, "pharyngeal marginal cell"),
        (C.PHARYNGEAL_EPITHELIUM, "pharyngeal epithelium"),
        (C.PHARYNGEAL_GLAND_CELL, "pharyngeal gland cell"),
        (C.PHARYNGEAL_BASEMENT_MEMBRANE, "pharyngeal basement membrane"),
        (C.EXCRETORY_CELL, "excretory cell"),
        (C.EXCRETORY_GLAND, "excretory gland cell"),
        (C.HEAD_MESODERMAL_CELL, "head mesodermal cell"),
        (C.HYPODERMIS, "hypodermis"),
        (C.INTESTINE, "intestine"),
        (C.GONAD_CELL_MALE, "male gonad"),
        (C.PROCTODEUM_CELL_MALE, "proctodeum"),
        (C.MALE_RAY_STRUCTURAL_CELLS, "male ray structural cell"),
        (C.MALE_SPECIFIC_NEURONS, "male-specific neuron"),
    ]
    base = ""
    for members, label in groups:
        if name in members:
            base = label
            break
    note = C.get_short_description(name)
    if note in ("???", "GLR cell"):  # no note, or one that repeats the group label
        note = ""
    if note and (not base or base.lower() in note.lower()):
        return note
    return f"{base}; {note}" if note else base


def cell_type(name: str) -> str:
    """``muscle``, ``neuron`` (male-specific) or ``other`` from cect's lists."""
    from cect import Cells as C

    if C.is_known_muscle(name) or C.is_potential_muscle(name):
        return "muscle"
    if C.is_any_neuron(name):
        return "neuron"
    return "other"


def write_csv(path: Path, header: list[str], rows: list) -> None:
    """Write a CSV with LF line ends."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_text(buf.getvalue())


def cect_data_file(name: str) -> Path:
    """Path of a data file shipped inside the cect package."""
    import cect

    return Path(cect.__file__).parent / "data" / name


def read_cell_info() -> dict[str, dict[str, str]]:
    """cect's ``all_cell_info.csv`` by cell name, each field without surrounding space.

    Columns: ``Type`` (cect's category, e.g. "Layer 1 interneuron"), ``Name details``
    (the full name, "Anterior Ventral Process A Left"), ``Lineage`` ("AB alppaaapa") and
    ``Classification`` (WormAtlas's text, "Ventral cord interneuron").
    """
    with open(cect_data_file(CELL_INFO_FILE), newline="") as f:
        return {
            # rows of non-neuron cells carry a sixth, unnamed field (key None): not used
            r["Cell name"].strip(): {k: " ".join(v.split()) for k, v in r.items() if k}
            for r in csv.DictReader(f)
        }


def wang_lineages(reader) -> dict[str, str]:
    """Neuron -> lineage from Wang et al. 2024 supplementary file 2 (CC BY 4.0).

    ``reader`` is cect's Wang2024Reader; its ``map_cell_name`` turns the file's names into
    cect's (DB1/3 -> DB1, DB3/1 -> DB3), as when it reads the transmitters.
    """
    from openpyxl import load_workbook

    ws = load_workbook(cect_data_file(WANG_SUPP2_FILE), read_only=True).worksheets[0]
    lineages = {}
    for row in ws.iter_rows(min_row=5, values_only=True):
        cell, lineage = row[2], row[3]
        if cell and lineage:
            lineages[reader.map_cell_name(str(cell).strip())] = " ".join(str(lineage).split())
    return lineages


def build_neurons(wheel: Path) -> tuple[list[list], dict]:
    """Rows of neurons.csv (columns ``NEURON_HEADER``) and a report of the checks made."""
    from cect import Cells as C
    from cect.readers.Wang2024Reader import Wang2024Reader

    names = list(C.PREFERRED_HERM_NEURON_NAMES)
    if len(names) != 302 or len(set(names)) != 302:
        raise RuntimeError(f"expected 302 hermaphrodite neurons, got {len(set(names))}")
    nameset = set(names)
    reader = Wang2024Reader(sex="Hermaphrodite")
    wang = reader.all_neurotransmitters
    info = read_cell_info()
    missing = sorted(n for n in names if not info.get(n, {}).get("Name details"))
    if missing:
        raise RuntimeError(f"{CELL_INFO_FILE}: no entry (or no full name) for {missing}")
    # all_cell_info.csv is written by cect from its cell notes: check it is up to date
    stale = [n for n in names if info[n]["Type"] != C.get_cell_notes(n)]
    if stale:
        raise RuntimeError(f"{CELL_INFO_FILE}: Type differs from cect.Cells for {stale}")
    pos = c302_positions(wheel)
    types = {"Sensory": "sensory", "Interneuron": "interneuron", "Motorneuron": "motor"}
    rows = []
    for n in sorted(names):
        nts = []
        for t in wang.get(n, []):
            if t is None:
                continue
            short = TRANSMITTER_SHORT[t]
            if short and short not in nts:
                nts.append(short)
        x, y, z = (fmt(v) for v in pos[n]) if n in pos else ("", "", "")
        cell = info[n]
        rows.append(
            [
                n,
                neuron_class(n, nameset),
                types.get(C.get_SIM_class(n), "other"),
                ";".join(nts),
                sign_of(nts),
                x,
                y,
                z,
                "",
                cell["Classification"],
                cell["Name details"],
                cell["Type"],
                cell["Lineage"],
            ]
        )
    lineage_at = NEURON_HEADER.index("lineage")
    other = wang_lineages(reader)
    report = {
        "missing_positions": sorted(set(names) - set(pos)),
        "c302_cells_not_herm_neurons": sorted(set(pos) - nameset),
        "missing_transmitter_entry": sorted(n for n in names if n not in wang),
        "lineage_vs_wang2024": {
            "file": f"cect/data/{WANG_SUPP2_FILE}",
            "sha256": sha256(cect_data_file(WANG_SUPP2_FILE)),
            "agree": sum(other.get(r[0]) == r[lineage_at] for r in rows),
            "differ": {
                r[0]: [r[lineage_at], other.get(r[0])]
                for r in rows
                if other.get(r[0]) != r[lineage_at]
            },
        },
    }
    return rows, report


def neuron_provenance(rows: list[list], report: dict, wheel: Path) -> dict:
    """Where each column of neurons.csv comes from, with checksums, and its counts."""
    cell_info = {
        "file": f"cect/data/{CELL_INFO_FILE}",
        "sha256": sha256(cect_data_file(CELL_INFO_FILE)),
    }
    wormatlas = (
        "cect's cell table, written by cect.CellInfo from cect/data/IndividualNeurons.csv "
        "('Data taken from https://wormatlas.org/NeuronNames.htm')"
    )
    columns = {
        "class": {"source": "rule neuron_class() in data/build_data.py over cect's names"},
        "type": {
            "source": "cect.Cells.get_SIM_class (lists after Cook et al. 2019)",
            "license": "MIT",
        },
        "transmitter": {
            "source": "Wang et al. 2024 eLife 13:RP95402 supplementary file 2, read by "
            "cect.readers.Wang2024Reader",
            "file": f"cect/data/{WANG_SUPP2_FILE}",
            "sha256": report["lineage_vs_wang2024"]["sha256"],
            "license": "CC BY 4.0 (eLife); reader MIT",
        },
        "sign": {"source": "rule sign_of() in data/build_data.py (see sign_rule)"},
        "x,y,z": {
            "source": "proximal point of the first segment of c302/NeuroML2/<name>.cell.nml",
            "file": wheel.name,
            "sha256": sha256(wheel),
            "license": "MIT",
        },
        "ganglion": {
            "source": "none: no ganglion for the hermaphrodite neurons in any data file of "
            f"cect {CECT_VERSION} or c302 {C302_VERSION} (Wang et al. 2024 supplementary file 3 "
            "groups only male-specific neurons by ganglion); left empty",
        },
        "description": {"source": wormatlas + ", column Classification", **cell_info},
        "full_name": {"source": wormatlas + ", column Name details", **cell_info},
        "category": {
            "source": "cect's cell table, column Type: cect.Cells cell notes (Cook et al. 2019 "
            "categories, e.g. 'Layer 1 interneuron', 'Amphid')",
            **cell_info,
        },
        "lineage": {
            "source": wormatlas + ", column Lineage; checked against Wang et al. 2024 "
            "supplementary file 2 (CC BY 4.0): "
            f"{report['lineage_vs_wang2024']['agree']} of {len(rows)} agree",
            **cell_info,
        },
    }
    for key in ("description", "full_name", "category", "lineage"):
        columns[key]["license"] = "MIT (cect)"
    columns["lineage"]["check"] = report["lineage_vs_wang2024"]
    col = {c: i for i, c in enumerate(NEURON_HEADER)}
    counted = ("transmitter", "ganglion", "description", "full_name", "category", "lineage")
    counts = {"neurons": len(rows)}
    counts |= {f"with_{c}": sum(bool(r[col[c]]) for r in rows) for c in counted}
    for c in ("type", "category"):
        values = [r[col[c]] for r in rows]
        counts[c] = {v: values.count(v) for v in sorted(set(values))}
    return {"columns": columns, "counts": counts}


def counts(rows: list[tuple], herm: set[str], ctypes: dict[str, str]) -> dict:
    """Counts of one edge list, by node kind and edge kind."""
    nodes = {r[0] for r in rows} | {r[1] for r in rows}

    def kind(n: str) -> str:
        return "neuron" if n in herm else ctypes[n]

    chem = [r for r in rows if r[2] == "chemical"]
    elec = [r for r in rows if r[2] == "electrical"]
    return {
        "nodes": len(nodes),
        "neurons": sum(kind(n) == "neuron" for n in nodes),
        "muscles": sum(kind(n) == "muscle" for n in nodes),
        "other": sum(kind(n) == "other" for n in nodes),
        "chemical_edges": len(chem),
        "electrical_edges": len(elec),
        "chemical_weight_total": float(sum(r[3] for r in chem)),
        "electrical_weight_total": float(sum(r[3] for r in elec)),
    }


def read_edges(path: Path) -> list[tuple]:
    """Read a shipped edge file back (counts are taken from the shipped CSVs)."""
    with open(path, newline="") as f:
        return [(r["pre"], r["post"], r["kind"], float(r["weight"])) for r in csv.DictReader(f)]


NMJ_RULE = (
    "sim.muscles.neuromuscular_map: the chemical rows of edges/cook2019.csv from one of the "
    "302 neurons to one of the 95 body-wall muscles MDL01-24, MDR01-24, MVL01-23, MVR01-24 "
    "(there is no MVL24); weight = EM serial sections; sign = the presynaptic neuron's sign in "
    "neurons.csv (-1 GABAergic: VD, DD, RME, AVL; else +1). Neuron-muscle gap-junction rows "
    "are left out. Derived at runtime from the shipped file; these are its counts."
)


def neuromuscular_counts(rows: list[tuple], signs: dict[str, int]) -> dict:
    """Counts of the neuron -> body-wall-muscle map (sim.muscles) from Cook 2019's rows."""
    bwm = re.compile(r"^(MDL|MDR|MVL|MVR)\d\d$")
    nmj = [r for r in rows if r[2] == "chemical" and r[0] in signs and bwm.match(r[1])]
    gap = [
        r for r in rows
        if r[2] == "electrical" and ((r[0] in signs and bwm.match(r[1]))
                                     or (r[1] in signs and bwm.match(r[0])))
    ]  # fmt: skip
    return {
        "dataset": "cook2019",
        "rule": NMJ_RULE,
        "junctions": len(nmj),
        "sections": sum(r[3] for r in nmj),
        "neurons": len({r[0] for r in nmj}),
        "muscles": len({r[1] for r in nmj}),
        "excitatory_sections": sum(r[3] for r in nmj if signs[r[0]] > 0),
        "inhibitory_sections": sum(r[3] for r in nmj if signs[r[0]] < 0),
        "left_out_gap_junction_rows": len(gap),
        "left_out_gap_junction_sections": sum(r[3] for r in gap),
    }


def update_readme_table(manifest: dict) -> None:
    """Rewrite the counts table between the markers in README.md, if present."""
    readme = OUT / "README.md"
    begin, end = "<!-- counts:begin -->", "<!-- counts:end -->"
    if not readme.exists():
        return
    text = readme.read_text()
    if begin not in text or end not in text:
        return
    cols = [
        "nodes",
        "neurons",
        "muscles",
        "other",
        "chemical_edges",
        "electrical_edges",
        "chemical_weight_total",
        "electrical_weight_total",
    ]
    lines = [
        "| key | " + " | ".join(cols) + " |",
        "|---" * (len(cols) + 1) + "|",
    ]
    for key, d in manifest["datasets"].items():
        c = d["counts"]
        lines.append(f"| {key} | " + " | ".join(fmt(c[k]) for k in cols) + " |")
    head, rest = text.split(begin, 1)
    tail = rest.split(end, 1)[1]
    readme.write_text(head + begin + "\n" + "\n".join(lines) + "\n" + end + tail)


def main(argv: list[str] | None = None) -> None:
    """Build all files; print a short report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--c302-wheel", help="path to a c302 wheel (else pip download)")
    args = ap.parse_args(argv)

    import cect  # noqa: F401

    if metadata.version("cect") != CECT_VERSION:
        print(f"warning: cect {metadata.version('cect')} != pinned {CECT_VERSION}")
    wheel = get_c302_wheel(args.c302_wheel)
    c302_version = wheel.name.split("-")[1]

    neuron_rows, nreport = build_neurons(wheel)
    herm = {r[0] for r in neuron_rows}
    write_csv(OUT / "neurons.csv", NEURON_HEADER, neuron_rows)

    edges = {}
    report = {"neurons": nreport, "datasets": {}}
    for key, (module, *_rest) in DATASETS.items():
        rows, source = read_dataset(module)
        edges[key] = (rows, source)
        write_csv(
            OUT / "edges" / f"{key}.csv",
            ["pre", "post", "kind", "weight"],
            [(a, b, k, fmt(w)) for a, b, k, w in rows],
        )
        report["datasets"][key] = {
            "self_loops_chemical": sum(r[0] == r[1] and r[2] == "chemical" for r in rows),
            "self_loops_electrical": sum(r[0] == r[1] and r[2] == "electrical" for r in rows),
            "electrical_listing": electrical_listing_stats(key, source),
        }

    others = sorted(
        {n for rows, _ in edges.values() for r in rows for n in r[:2]} - herm,
    )
    ctypes = {n: cell_type(n) for n in others}
    write_csv(
        OUT / "cells.csv",
        ["name", "cell_type", "description"],
        [[n, ctypes[n], cell_description(n)] for n in others],
    )

    manifest = {
        "schema": SCHEMA,
        "built": {
            "cect": metadata.version("cect"),
            "c302": c302_version,
            "python": platform.python_version(),
            "numpy": metadata.version("numpy"),
            "pandas": metadata.version("pandas"),
            "openpyxl": metadata.version("openpyxl"),
            "xlrd": metadata.version("xlrd"),
        },
        "sign_rule": SIGN_RULE,
        "neurons_file": {
            "file": "neurons.csv",
            "sha256": sha256(OUT / "neurons.csv"),
            **neuron_provenance(neuron_rows, nreport, wheel),
        },
        "cells_file": {"file": "cells.csv", "sha256": sha256(OUT / "cells.csv")},
        "datasets": {},
    }
    for key, (module, title, citation, doi, weight) in DATASETS.items():
        _, source = edges[key]
        path = OUT / "edges" / f"{key}.csv"
        manifest["datasets"][key] = {
            "title": title,
            "citation": citation,
            "doi": doi,
            "weight_meaning": weight,
            "source_file": source.name,
            "sha256": sha256(source),
            "cect_reader": module,
            "file": f"edges/{key}.csv",
            "file_sha256": sha256(path),
            "counts": counts(read_edges(path), herm, ctypes),
        }
    signs = {r[0]: int(r[4]) for r in neuron_rows}
    cook = read_edges(OUT / "edges" / "cook2019.csv")
    manifest["neuromuscular"] = neuromuscular_counts(cook, signs)
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")

    update_readme_table(manifest)
    report["cells"] = {
        t: sum(v == t for v in ctypes.values()) for t in sorted(set(ctypes.values()))
    }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()

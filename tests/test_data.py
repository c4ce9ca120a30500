"""The shipped data files agree with their manifest and with known facts of the papers."""

import hashlib
import re

import pytest

import connectome
from connectome.datasets import DATA_DIR, manifest, read_cells, read_edges, read_neurons

DATASETS = list(manifest()["datasets"])

# Sulston lineage names: a founder or blast cell (AB, MS, C, D, E, P1-P12, QL/QR, TL/TR,
# V1L-V6R, G1, G2, K, W), then the daughters (anterior, posterior, left, right, dorsal,
# ventral); "P1.aaaa/ W.aaa" gives two possible origins.
_ONE_LINEAGE = r"(AB|MS|C|D|E|P\d{1,2}|Q[LR]|T[LR]|V\d[LR]|G[12]|K|W)[ .][aplrdv]+"
LINEAGE = re.compile(rf"{_ONE_LINEAGE}(/ ?{_ONE_LINEAGE})*")
SIDE = {"D": "Dorsal", "V": "Ventral", "L": "Left", "R": "Right"}


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_all_datasets_shipped():
    expected = {"cook2019", "cook2019_male", "varshney2011", "white1986"}
    expected |= {f"witvliet2021_{i}" for i in range(1, 9)}
    assert set(DATASETS) == expected


@pytest.mark.parametrize("name", DATASETS)
def test_counts_and_totals_match_manifest(name):
    entry = manifest()["datasets"][name]
    edges = read_edges(name)
    assert sha256(DATA_DIR / entry["file"]) == entry["file_sha256"]
    for field in ("citation", "doi", "weight_meaning", "source_file", "sha256"):
        assert entry[field], f"{name}: empty provenance field {field}"
    counts = entry["counts"]
    chem = edges[edges["kind"] == "chemical"]
    gap = edges[edges["kind"] == "electrical"]
    assert set(edges["kind"]) <= {"chemical", "electrical"}
    assert len(chem) == counts["chemical_edges"]
    assert len(gap) == counts["electrical_edges"]
    assert chem["weight"].sum() == pytest.approx(counts["chemical_weight_total"])
    assert gap["weight"].sum() == pytest.approx(counts["electrical_weight_total"])
    nodes = set(edges["pre"]) | set(edges["post"])
    assert len(nodes) == counts["nodes"]
    cells = read_cells()
    herm = set(read_neurons().index)
    male = set(cells.index[cells["cell_type"] == "neuron"])
    muscles = set(cells.index[cells["cell_type"] == "muscle"])
    assert len(nodes & (herm | male)) == counts["neurons"]
    assert len(nodes & muscles) == counts["muscles"]
    assert nodes <= herm | set(cells.index), "every node is a neuron or a listed cell"
    assert (edges["weight"] > 0).all()
    # gap junctions once per unordered pair, stored with pre < post
    assert (gap["pre"] <= gap["post"]).all()
    assert not gap.duplicated(["pre", "post"]).any()
    assert not chem.duplicated(["pre", "post"]).any()


def test_neuron_table():
    neurons = read_neurons()
    assert len(neurons) == 302
    assert sha256(DATA_DIR / "neurons.csv") == manifest()["neurons_file"]["sha256"]
    assert set(neurons["type"]) <= {"sensory", "interneuron", "motor", "other"}
    assert set(neurons["sign"]) == {1, -1}
    # curated classes
    cls = neurons["class"]
    assert cls["AVAL"] == cls["AVAR"] == "AVA"
    assert {cls[f"VA{i}"] for i in range(1, 13)} == {"VA"}
    assert {cls[n] for n in ("IL2DL", "IL2DR", "IL2L", "IL2R", "IL2VL", "IL2VR")} == {"IL2"}
    assert {cls[n] for n in ("SMBDL", "SMBDR", "SMBVL", "SMBVR")} == {"SMB"}
    assert {cls[n] for n in ("CEPDL", "CEPDR", "CEPVL", "CEPVR")} == {"CEP"}
    assert {cls[f"DD{i}"] for i in range(1, 7)} == {"DD"}
    assert {cls[f"VD{i}"] for i in range(1, 14)} == {"VD"}
    assert {cls[f"AS{i}"] for i in range(1, 12)} == {"AS"}
    assert (neurons.groupby("class").size() <= 13).all()
    # sign rule: GABAergic neurons inhibitory, cholinergic excitatory
    gaba = neurons.loc[[f"DD{i}" for i in range(1, 7)] + ["RMED", "AVL"], "sign"]
    assert (gaba == -1).all()
    assert neurons.loc["AVAL", "sign"] == 1
    # soma positions present for the whole hermaphrodite set
    assert neurons[["x", "y", "z"]].notna().all().all()


def test_full_name_category_lineage():
    neurons = read_neurons()
    for column in ("full_name", "category", "lineage"):
        empty = neurons.index[neurons[column] == ""].tolist()
        assert not empty, f"{column} empty for {empty}"
    odd = {n: v for n, v in neurons["lineage"].items() if not LINEAGE.fullmatch(v)}
    assert not odd, f"not lineage names: {odd}"
    aval = neurons.loc["AVAL"]
    assert aval["full_name"] == "Anterior Ventral Process A Left"
    assert aval["lineage"] == "AB alppaaapa"  # Sulston et al. 1983
    assert aval["category"] == "Layer 1 interneuron"
    assert neurons.loc["PVDL", "lineage"] == "V5L.paapa"
    assert neurons.loc["DD1", "full_name"] == "Dorsal D-type Motor Neuron 1"
    # the full names spell out what the class rule strips: AVAL -> "... Left",
    # IL2DL -> "... Dorsal Left", RMEV -> "... Ventral", VA12 -> "... 12" (DB3 "... 3/1")
    for name, row in neurons.iterrows():
        suffix = name[len(row["class"]) :]
        if suffix:
            want = [suffix] if suffix.isdigit() else [SIDE[c] for c in suffix]
            last = [w.split("/")[0] for w in row["full_name"].split()[-len(want) :]]
            assert last == want, f"{name}: {row['full_name']!r} does not end in {want}"
    # one category per class, and categories agree with the (separately derived) type
    assert (neurons.groupby("class")["category"].nunique() == 1).all()
    category = neurons["category"].str.split(";").str[0]
    sensory = {"Amphid", "Amphid, nociceptive", "Cephalic", "Mechanosensory", "Phasmid"}
    for cat, kind in [(c, "sensory") for c in sensory | {"Touch"}] + [
        ("Layer 1 interneuron", "interneuron"),
        ("Layer 2 interneuron", "interneuron"),
        ("Layer 3 interneuron", "interneuron"),
        ("Category 4 interneuron", "interneuron"),
        ("Head motor neuron", "motor"),
        ("Sublateral motor neuron", "motor"),
        ("Ventral cord motor neuron", "motor"),
    ]:
        types = set(neurons.loc[category == cat, "type"])
        assert types == {kind}, f"{cat}: types {types}"
    assert (neurons["ganglion"] == "").all()


def test_neuron_counts_and_provenance_match_manifest():
    neurons = read_neurons()
    entry = manifest()["neurons_file"]
    counts = entry["counts"]
    assert counts["neurons"] == len(neurons) == 302
    for column in ("transmitter", "ganglion", "description", "full_name", "category", "lineage"):
        assert counts[f"with_{column}"] == (neurons[column] != "").sum(), column
    for column in ("type", "category"):
        assert counts[column] == neurons[column].value_counts().sort_index().to_dict(), column
    assert len(counts["category"]) == 22
    columns = entry["columns"]
    assert set(columns) == {"class", "type", "transmitter", "sign", "x,y,z"} | {
        "ganglion",
        "description",
        "full_name",
        "category",
        "lineage",
    }
    for column in ("description", "full_name", "category", "lineage"):
        assert columns[column]["file"] == "cect/data/all_cell_info.csv"
        assert re.fullmatch(r"[0-9a-f]{64}", columns[column]["sha256"])
        assert columns[column]["license"] == "MIT (cect)"
    check = columns["lineage"]["check"]
    assert check["agree"] == 302 and check["differ"] == {}
    assert columns["transmitter"]["sha256"] == check["sha256"]  # the same eLife file
    assert columns["ganglion"]["source"].startswith("none")


def test_new_neuron_columns_reach_the_network():
    net = connectome.load("cook2019")
    aval = net.neurons.loc["AVAL"]
    assert (aval["full_name"], aval["category"], aval["lineage"]) == (
        "Anterior Ventral Process A Left",
        "Layer 1 interneuron",
        "AB alppaaapa",
    )
    assert net.graph.nodes["AVAL"]["lineage"] == "AB alppaaapa"
    classes = net.to_classes().neurons
    assert classes.loc["AVA", "full_name"] == "Anterior Ventral Process A"
    assert classes.loc["VA", "full_name"] == "Ventral A-type Motor Neuron"
    assert classes.loc["IL2", "full_name"] == "Inner Labial 2"
    assert classes.loc["RID", "full_name"] == read_neurons().loc["RID", "full_name"]
    assert classes.loc["AVA", "category"] == "Layer 1 interneuron"
    assert (classes["lineage"] == "").all()  # a class has no one lineage
    male = connectome.load("cook2019_male").neurons
    assert male.loc["CEMDL", ["full_name", "category", "lineage"]].tolist() == ["", "", ""]


def test_known_facts_of_cook2019():
    edges = read_edges("cook2019")
    gap = edges[edges["kind"] == "electrical"]
    neurons = set(read_neurons().index)
    gap = gap[gap["pre"].isin(neurons) & gap["post"].isin(neurons)]
    ala = gap[(gap["pre"] == "ALA") | (gap["post"] == "ALA")]
    assert ala["weight"].sum() == 1314  # ALA's gap junctions with other neurons
    assert ala.loc[ala["post"] == "CANL", "weight"].item() == 401


def test_varshney_leaves_out_pharynx_and_can():
    edges = read_edges("varshney2011")
    neurons = set(read_neurons().index)
    present = (set(edges["pre"]) | set(edges["post"])) & neurons
    pharyngeal = {
        "I1L",
        "I1R",
        "I2L",
        "I2R",
        "I3",
        "I4",
        "I5",
        "I6",
        "M1",
        "M2L",
        "M2R",
        "M3L",
        "M3R",
        "M4",
        "M5",
        "MCL",
        "MCR",
        "MI",
        "NSML",
        "NSMR",
    }
    assert not present & pharyngeal
    assert not present & {"CANL", "CANR"}
    # the paper speaks of 279 somatic neurons; its data files list 280 (302 - 20 - CANL/R)
    assert len(present) == 280

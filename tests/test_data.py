"""The shipped data files agree with their manifest and with known facts of the papers."""

import hashlib

import pytest

from connectome.datasets import DATA_DIR, manifest, read_cells, read_edges, read_neurons

DATASETS = list(manifest()["datasets"])


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

"""``python -m connectome`` end to end, as a user runs it."""

import json
import subprocess
import sys

import pytest

from connectome import Circuit, io, load
from connectome.__main__ import main


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "connectome", *args], capture_output=True, text=True, timeout=120
    )


def test_datasets_and_neuron(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "cook2019" in out and "witvliet2021_8" in out
    assert main(["neuron", "aval"]) == 0
    out = capsys.readouterr().out
    assert "AVAL" in out and "strongest inputs" in out


def test_neuron_shows_full_name_category_lineage():
    r = run("neuron", "AVAL")
    assert r.returncode == 0, r.stderr
    facts = {}  # "  full name    Anterior ..." lines up to the first blank line
    for line in r.stdout.splitlines()[1:]:
        if not line.strip():
            break
        facts[line[:15].strip()] = line[15:]
    assert facts["full name"] == "Anterior Ventral Process A Left"
    assert facts["category"] == "Layer 1 interneuron"
    assert facts["lineage"] == "AB alppaaapa"
    assert facts["class"] == "AVA" and facts["type"] == "interneuron"
    assert facts["ganglion"].startswith("—") and "data/README.md" in facts["ganglion"]
    assert facts["description"] == "Ventral cord interneuron"


def test_unknown_neuron_is_a_clear_error(capsys):
    assert main(["neuron", "AVLA"]) == 2
    err = capsys.readouterr().err
    assert "unknown neuron 'AVLA'" in err and "AVAL" in err


def test_paths(capsys):
    assert main(["paths", "PLML", "AVBL", "-n", "2"]) == 0
    assert "PLML ->" in capsys.readouterr().out


@pytest.mark.parametrize("fmt", io.EXPORT_FORMATS)
def test_circuit_export_every_format(tmp_path, fmt):
    out = tmp_path / f"tw.{fmt}"
    r = run("circuit", "--preset", "tap_withdrawal", "--format", fmt, "-o", str(out))
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    if fmt == "json":
        assert io.from_json(text).motor == ["AVA", "AVB"]
    elif fmt == "ncps":
        assert json.loads(text)["output_dim"] == 2
    elif fmt == "graphml":
        assert io.from_graphml(text).sensory == ["PLM", "AVM", "ALM", "PVD"]
    else:
        assert io.from_csv(text, level="class").edges["weight"].sum() > 0


def test_circuit_from_neurons_with_thresholds(capsys):
    assert (
        main(
            [
                "circuit",
                "--neurons",
                "PLM PVC AVA AVB",
                "--chem-min",
                "5",
                "--sensory",
                "PLM",
                "--motor",
                "AVA AVB",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    chem = [s for s in data["synapses"] if s["kind"] == "chemical"]
    assert chem and min(s["weight"] for s in chem) >= 5
    assert [op["op"] for op in data["operations"]] == ["from_neurons", "threshold", "set_roles"]


@pytest.mark.parametrize(
    "flags, build",
    [
        (["--expand", "1"], lambda c: c.expand(1)),
        (["--top-k", "2"], lambda c: c.top_k_inputs(2)),
        (["--ablate", "AVD, DVA"], lambda c: c.ablate("AVD DVA")),
        (["--merge-classes"], lambda c: c.merge_classes()),
        (
            ["--expand", "1", "--gap-min", "2", "--top-k", "3", "--ablate", "AVD",
             "--merge-classes", "--sensory", "PLM", "--motor", "AVA AVB"],
            lambda c: c.expand(1).threshold(electrical=2.0).top_k_inputs(3).ablate("AVD")
            .merge_classes().set_roles(sensory="PLM", motor="AVA AVB"),
        ),
    ],
)  # fmt: skip
def test_circuit_flags_give_the_python_api_result(capsys, flags, build):
    """Each pruning flag of ``python -m connectome circuit`` makes the circuit the Python
    API makes, byte for byte in the wiring JSON (operations included)."""
    neurons = "PLML PLMR PVCL PVCR AVAL AVAR AVBL AVBR AVDL AVDR DVA"
    assert main(["circuit", "--neurons", neurons, *flags]) == 0
    out = capsys.readouterr().out
    expected = build(Circuit.from_neurons(load("cook2019"), neurons))
    assert out == io.to_json(expected)
    assert len(expected.ops) > 1


def test_circuit_flag_errors_are_clear(capsys):
    assert main(["circuit", "--neurons", "AVAL AVAR", "--ablate", "AVA"]) == 2
    assert "empty circuit" in capsys.readouterr().err
    assert main(["circuit", "--neurons", "AVAL", "--top-k", "-1"]) == 2
    assert "--top-k: the value must be a whole number in 0 .. 300,000, got -1" in (
        capsys.readouterr().err
    )

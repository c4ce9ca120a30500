"""The Circuit page without a browser: its state (webapp.circuit_state) and its form
handling (webapp.pages.circuit), checked against the connectome API and ncps."""

import base64
import json
from io import StringIO

import pandas as pd
import pytest

import connectome
from connectome import Circuit, io
from connectome.errors import CircuitError, WiringFormatError, WormlabError
from sim.control import Controller
from webapp import circuit_state as cs
from webapp import uploads
from webapp.pages import circuit as cpage


@pytest.fixture(scope="module")
def net():
    return connectome.load("cook2019")


def data_url(payload: bytes) -> str:
    return "data:application/json;base64," + base64.b64encode(payload).decode()


NO_FIELDS = {key: None for key, _, _ in cpage._OP_FIELDS}


# ------------------------------------------------------------------ descriptions
def test_every_operation_is_described(net, tw):
    c = Circuit.from_neurons(net, ["PLML", "PLMR", "AVAL", "AVAR", "PVCL", "PVCR"])
    c = c.add(["AVBL"]).ablate(["AVBL"]).expand(1, "electrical", "in")
    c = c.add_paths(["PLML"], ["AVAL"], 2).threshold(chemical=2.0).top_k_inputs(3, "chemical")
    c = c.set_sign(["AVAL"], -1).merge_classes().set_roles(sensory=["PLM"], motor=["AVA"])
    text = [cs.describe_op(op) for op in c.ops]
    assert text[0].startswith("Start: 6 neurons of cook2019: PLML, PLMR")
    assert text[1:3] == ["Add AVBL", "Ablate AVBL"]
    assert text[3] == "Expand by 1 hop (electrical synapses, direction in)"
    assert text[4] == "Add paths of at most 2 synapses from PLML to AVAL"
    assert text[5] == "Threshold: keep chemical weight \u2265 2"
    assert text[6] == "Keep each neuron's 3 heaviest chemical inputs"
    assert text[7] == "Make chemical synapses from AVAL inhibitory"
    assert text[8] == "Merge neurons into classes"
    assert text[9] == "Roles: sensory PLM; motor AVA"
    long = cs.describe_op({"op": "ablate", "names": [f"N{i}" for i in range(12)]})
    assert long.endswith("\u2026 (+4 more)")


def step(state, trigger, **fields):
    """One page action through the page's own state transition."""
    new, *messages = cpage._update_state(trigger, state, fields={**NO_FIELDS, **fields})
    return new, [str(m) for m in messages if m]


def test_page_operations_rebuild_the_same_circuit(tw):
    state = cs.state_from_preset("tap_withdrawal", "cook2019")
    assert io.to_json(cs.build_circuit(state)) == io.to_json(tw)
    expected = tw
    actions = [
        ("circuit-add", {"names": "rim, AIB"}, lambda c: c.add(["RIM", "AIB"])),
        ("circuit-ablate", {"names": "DVA"}, lambda c: c.ablate(["DVA"])),
        (
            "circuit-expand",
            {"expand_k": 1, "expand_kind": "electrical", "expand_direction": "both"},
            lambda c: c.expand(1, "electrical", "both"),
        ),
        (
            "circuit-paths",
            {"paths_from": "", "paths_to": "", "paths_length": 2, "paths_kind": "any"},
            lambda c: c.add_paths(c.sensory, c.motor, 2, None),
        ),
        ("circuit-threshold", {"th_chemical": 3}, lambda c: c.threshold(chemical=3.0)),
        ("circuit-topk", {"topk_k": 4, "topk_kind": "any"}, lambda c: c.top_k_inputs(4)),
        (
            "circuit-sign",
            {"sign_names": "AVD", "sign_value": -1},
            lambda c: c.set_sign(["AVD"], -1),
        ),
        (
            "circuit-roles",
            {"role_sensory": ["PLM", "AVM"], "role_motor": ["AVA"]},
            lambda c: c.set_roles(sensory=["PLM", "AVM"], motor=["AVA"]),
        ),
    ]
    for trigger, fields, op in actions:
        state, messages = step(state, trigger, **fields)
        expected = op(expected)
        assert "Done: " in messages[0], messages
        assert io.to_json(cs.build_circuit(state)) == io.to_json(expected), trigger
    # undo steps back one operation at a time, down to the preset as it started (its own
    # roles step included)
    for n in range(len(actions) + len(tw.ops) - 1, len(tw.ops) - 1, -1):
        state, _ = step(state, "circuit-undo")
        assert len(state["ops"]) == n
    assert io.to_json(cs.build_circuit(state)) == io.to_json(tw)
    same, messages = step(state, "circuit-undo")
    assert same is cpage.no_update and "Nothing to undo" in messages[0]


def test_page_operation_errors_name_the_field(tw):
    state = cs.state_from_preset("tap_withdrawal", "cook2019")
    checks = [
        ("circuit-add", {"names": "AVAX"}, "unknown neuron 'AVAX'"),
        ("circuit-add", {"names": ""}, "Neurons or classes: type one or more names"),
        ("circuit-expand", {"expand_k": None}, "Hops k: enter a number"),
        ("circuit-threshold", {"th_chemical": -1}, "Chemical weight: must be"),
        ("circuit-topk", {"topk_k": 1.5}, "Top k: must be a whole number, not 1.5"),
        ("circuit-merge", {}, "already at class level"),
        ("circuit-roles", {"role_sensory": ["AVA"], "role_motor": ["AVA"]}, "both sensory"),
        ("circuit-ablate", {"names": ",".join(tw.neurons.index)}, "empty circuit"),
    ]
    for trigger, fields, text in checks:
        new, messages = step(state, trigger, **fields)
        assert new is cpage.no_update
        assert text in messages[0], (trigger, messages)


def test_start_from_selection_and_initial_load(net):
    selection = {"dataset": "cook2019", "level": "neuron", "names": ["PLML", "AVAL"]}
    state = cpage._update_state(None, None, selection=selection, dataset="cook2019")[0]
    assert state["seen"] == selection
    assert io.to_json(cs.build_circuit(state)) == io.to_json(
        Circuit.from_neurons(net, ["PLML", "AVAL"])
    )
    # a reload with the same selection keeps the user's circuit
    again = cpage._update_state(None, state, selection=selection)
    assert again[0] is cpage.no_update
    # without any selection the page starts from the tap-withdrawal preset
    fresh = cpage._update_state(None, None, dataset="cook2019")[0]
    assert fresh["ops"] == list(connectome.presets.tap_withdrawal(net).ops)
    with pytest.raises(CircuitError, match="no selection"):
        cs.state_from_selection({"names": []})


def test_upload_validation(tw, random_controller):
    good = io.to_dict(tw)
    state = cs.state_from_upload(data_url(io.to_json(tw).encode()), "tw.json")
    assert io.to_json(cs.build_circuit(state)) == io.to_json(tw)
    state, _ = step(state, "circuit-ablate", names="DVA")
    assert io.to_json(cs.build_circuit(state)) == io.to_json(tw.ablate(["DVA"]))
    state, _ = step(state, "circuit-undo")
    same, messages = step(state, "circuit-undo")
    assert same is cpage.no_update  # an upload is where its circuit starts
    bad = json.loads(json.dumps(good))
    bad["neurons"][0]["role"] = "boss"
    with pytest.raises(WiringFormatError, match=r"neurons\[0\]\.role: bad value 'boss'"):
        cs.state_from_upload(data_url(json.dumps(bad).encode()), "bad.json")
    with pytest.raises(WiringFormatError, match="not valid JSON"):
        cs.state_from_upload(data_url(b"{nope"), "x.json")
    with pytest.raises(WiringFormatError, match="file too large"):
        uploads.decode_upload(data_url(b" " * (io.MAX_BYTES + 10)))
    with pytest.raises(WiringFormatError, match="could not be decoded"):
        uploads.decode_upload("data:application/json;base64,@@@@")
    ctrl = random_controller(Controller.from_circuit(tw, "CartPole-v1"), 0).to_dict()
    with pytest.raises(WiringFormatError, match="evaluate it on the Train page"):
        cs.state_from_upload(data_url(json.dumps(ctrl).encode()), "ctrl.json")
    # the page shows the problem by the upload field and keeps the circuit
    new, _start, upload_msg, _op = cpage._update_state(
        "circuit-upload", state, upload=data_url(b"[]"), filename="list.json"
    )
    assert new is cpage.no_update
    assert "Upload list.json: the file must hold a JSON object" in str(upload_msg)


def test_exports_round_trip_and_load_in_ncps(tw):
    import ncps.torch
    import ncps.wirings
    import torch

    files = {fmt: cs.export_file(tw, fmt) for fmt in ("json", "ncps", "graphml", "csv")}
    assert len({f["filename"] for f in files.values()}) == 4
    assert io.to_json(io.from_json(files["json"]["content"])) == io.to_json(tw)
    assert io.to_json(io.from_graphml(files["graphml"]["content"])) == io.to_json(tw)
    table = pd.read_csv(StringIO(files["csv"]["content"]))
    assert table[["pre", "post", "kind"]].values.tolist() == (
        tw.edges[["pre", "post", "kind"]].values.tolist()
    )
    config = json.loads(files["ncps"]["content"])
    wiring = ncps.wirings.Wiring.from_config(config)
    assert (wiring.input_dim, wiring.output_dim) == (len(tw.sensory), len(tw.motor))
    model = ncps.torch.LTC(len(tw.sensory), wiring, batch_first=True)
    out, _ = model(torch.zeros(1, 3, len(tw.sensory)))
    assert out.shape == (1, 3, len(tw.motor))
    with pytest.raises(WiringFormatError, match="sensory"):
        cs.export_file(connectome.presets.locomotion(), "ncps")


# ------------------------------------------------------------------ damaged input
@pytest.mark.parametrize(
    "state, text",
    [
        (None, "no circuit yet"),
        ([], "no circuit yet"),
        ({"start": "ops", "ops": []}, "start.kind"),
        ({"start": {"kind": "magic"}, "ops": []}, "start.kind"),
        ({"start": {"kind": "ops"}, "ops": "from_neurons"}, "ops must be a list"),
        ({"start": {"kind": "ops"}, "ops": [1, 2]}, "ops must be a list"),
        ({"start": {"kind": "ops"}, "ops": []}, "must start with one of"),
        ({"start": {"kind": "ops"}, "ops": [{"op": "from_neurons"}]}, "missing field 'dataset'"),
        (
            {"start": {"kind": "ops"}, "ops": [{"op": "from_neurons", "dataset": "cook2019"}]},
            "operation 'from_neurons'",
        ),
        (
            {
                "start": {"kind": "ops"},
                "ops": [
                    {
                        "op": "from_neurons",
                        "dataset": "cook2019",
                        "neurons": ["AVAL"],
                        "colour": "red",
                    }
                ],
            },
            "unexpected keyword argument 'colour'",
        ),  # fmt: skip
        (
            {
                "start": {"kind": "ops"},
                "ops": [
                    {"op": "from_neurons", "dataset": "cook2019", "neurons": ["AVAL"]},
                    {"op": "expand", "k": "two"},
                ],
            },
            r"k \(hops\) must be a whole number in 0 .. 10",
        ),  # fmt: skip
        (
            {
                "start": {"kind": "ops"},
                "ops": [
                    {"op": "from_neurons", "dataset": "cook2019", "neurons": ["AVAL"]},
                    {"op": "rm -rf"},
                ],
            },
            "unknown circuit operation 'rm -rf'",
        ),  # fmt: skip
        ({"start": {"kind": "upload"}, "ops": []}, "JSON object"),
        ({"start": {"kind": "upload", "wiring": {"format": "x"}}, "ops": []}, "file.format"),
    ],
)
def test_a_damaged_state_is_a_clear_error(state, text):
    """The state comes back from the browser: whatever it holds, the page gets a
    WormlabError with a message (and shows it), never another exception."""
    with pytest.raises(WormlabError, match=text):
        cs.build_circuit(state)
    new, *messages = cpage._update_state("circuit-threshold", state, fields=NO_FIELDS)
    assert new is cpage.no_update and messages[2]
    new, *messages = cpage._update_state("circuit-undo", state, fields=NO_FIELDS)
    if new is cpage.no_update:
        assert messages[2]
    else:  # undo needs no rebuild: it drops the last (bad) operation
        assert new["ops"] == state["ops"][:-1] and "Undid" in str(messages[2])


def test_a_damaged_selection_is_a_clear_error():
    for selection, text in [
        ({"names": "AVAL", "dataset": "cook2019"}, "names must be a list"),
        ({"names": ["AVAL"], "dataset": 7}, "dataset a name"),
        ({"names": ["AVAL"], "level": "organ"}, "level must be"),
        ({"names": ["AVLA"]}, "did you mean"),
    ]:
        with pytest.raises(WormlabError, match=text):
            cs.state_from_selection(selection)
        new, start_msg, *_ = cpage._update_state("circuit-from-selection", None,
                                                 selection=selection)  # fmt: skip
        assert new is cpage.no_update and text in str(start_msg)


def test_with_op_and_undo_step_through_circuit_apply(tw):
    state = cs.state_from_preset("tap_withdrawal", "cook2019")
    state, done = cs.with_op(state, {"op": "ablate", "names": ["dva"]})
    assert done == {"op": "ablate", "names": ["DVA"]}  # as the circuit records it
    assert io.to_json(cs.build_circuit(state)) == io.to_json(tw.apply(done))
    with pytest.raises(CircuitError, match="already at class level"):
        cs.with_op(state, {"op": "merge_classes"})
    state, undone = cs.undo(state)
    assert undone == done and state["ops"] == list(tw.ops)
    assert len(tw.ops) == 2  # from_neurons, then the preset's own set_roles
    with pytest.raises(CircuitError, match="Nothing to undo"):
        cs.undo(state)  # the preset's steps are where it starts
    with pytest.raises(CircuitError, match="Nothing to undo"):
        cs.undo(None)


def test_every_button_asks_for_a_circuit_operation(tw):
    """The page has no list of operations of its own: each button's record is one that
    Circuit.apply carries out."""
    fields = dict(
        NO_FIELDS, names="AVA", expand_k=1, expand_direction="both", paths_length=2,
        th_chemical=2, topk_k=2, sign_names="AVA", sign_value=-1, role_sensory=["PLM"],
        role_motor=["AVA"],
    )  # fmt: skip
    for trigger in cpage._OP_BUTTONS:
        op = cpage._operation(trigger, tw, fields)
        assert op["op"] in connectome.circuit.OPERATIONS, trigger
    with pytest.raises(CircuitError, match="unknown operation"):
        cpage._operation("circuit-explode", tw, fields)


def test_export_of_an_unknown_format_is_a_wiring_format_error(tw):
    with pytest.raises(WiringFormatError, match="use one of json, ncps, graphml, csv"):
        cs.export_file(tw, "xlsx")


# ------------------------------------------------------------------ uploads
def test_decode_upload():
    assert uploads.decode_upload(data_url(b"\x00\xff")) == b"\x00\xff"
    assert uploads.decode_upload(data_url("µm".encode()), text=True) == "µm"
    assert uploads.decode_upload(data_url(b"x" * 10), max_bytes=10) == b"x" * 10
    for contents, kwargs, text in [
        (None, {}, "empty or not a file"),
        ("no comma", {}, "empty or not a file"),
        (data_url(b"x" * 11), {"max_bytes": 10}, "file too large: 11 bytes; the limit is 10"),
        (data_url(b"x" * 40), {"max_bytes": 10}, "file too large: about 42 bytes"),
        ("data:application/json;base64,@@@@", {}, "could not be decoded"),
        (data_url(b"\xff\xfe"), {"text": True}, "not UTF-8 text"),
    ]:
        with pytest.raises(WiringFormatError, match=text):
            uploads.decode_upload(contents, **kwargs)


def test_adding_what_is_there_says_so_and_records_nothing(tw):
    state = cs.state_from_preset("tap_withdrawal", "cook2019")
    same, messages = step(state, "circuit-add", names="AVA, pvc")
    assert same is cpage.no_update
    assert messages == [str(cpage.ui.error("AVA, pvc are already in the circuit; nothing added"))]
    # any other step that changes nothing is not recorded either
    same, messages = step(state, "circuit-threshold", th_chemical=0.5)
    assert same is cpage.no_update and "changes nothing; not recorded" in messages[0]
    # a name that is partly new is added
    new, messages = step(state, "circuit-add", names="AVA, RIM")
    assert "Done: Add" in messages[0] and "RIM" in cs.build_circuit(new).neurons.index


def test_uploads_take_what_the_page_exports(tw):
    state = cs.state_from_preset("tap_withdrawal", "cook2019")
    for fmt in ("json", "graphml", "csv"):
        f = cs.export_file(tw, fmt, "tap_withdrawal")
        new = cs.state_from_upload(data_url(f["content"].encode()), f["filename"])
        back = cs.build_circuit(new)
        pd.testing.assert_frame_equal(
            back.edges.reset_index(drop=True), tw.edges.reset_index(drop=True)
        )
        if fmt != "csv":  # a CSV has no roles: they follow the neuron types
            assert io.to_json(back) == io.to_json(tw), fmt
        else:
            assert "read as cook2019" in new["start"]["label"]
    ncps = cs.export_file(tw, "ncps")
    with pytest.raises(WiringFormatError, match="this is an ncps wiring config") as err:
        cs.state_from_upload(data_url(ncps["content"].encode()), ncps["filename"])
    assert "missing field" not in str(err.value)
    new, _, message, _ = cpage._update_state(
        "circuit-upload", state, upload=data_url(b"hello"), filename="a.txt"
    )
    assert new is cpage.no_update
    assert ".json (wormlab wiring JSON), .graphml (GraphML), .csv" in str(message)


def test_warnings_name_the_page_controls_and_downloads_the_preset():
    loco = connectome.presets.preset("locomotion", connectome.load("cook2019"))
    python = loco.problems()
    assert any("set_roles(sensory=...)" in p for p in python)
    words = cs.problems_in_page_words(loco)
    assert len(words) == len(python) and not any("set_roles" in p for p in words)
    assert words[0].startswith("no sensory (input) neuron: set one in 2. Operations")
    state = cs.state_from_preset("tap_withdrawal", "cook2019")
    for fmt, (_, ending) in cs.EXPORTS.items():
        f = cs.export_file(cs.build_circuit(state), fmt, state["start"]["preset"])
        assert f["filename"] == f"tap_withdrawal-cook2019-{ending}"


def test_ncps_download_with_trained_parameters_reads_back_in_ncps():
    import ncps.torch
    import ncps.wirings
    import numpy as np
    import torch

    from sim.torch import from_ncps, ncps_from_dict, ncps_names

    torch.manual_seed(3)
    ltc = ncps.torch.LTC(3, ncps.wirings.FullyConnected(4, 2), implicit_param_constraints=False)
    ltc = ltc.double()
    with torch.no_grad():
        for name, p in ltc.rnn_cell.named_parameters():
            if name in ("input_w", "output_w", "input_b", "output_b"):
                p.copy_(torch.randn_like(p))
            elif name not in ("erev", "sensory_erev"):
                p.add_(0.3 * torch.randn_like(p))
        ltc.rnn_cell.apply_weight_constraints()
    ctrl = from_ncps(ltc)
    stored = json.loads(json.dumps(ctrl.to_dict()))  # as the browser's store gives it back
    file = cs.ncps_trained_file(stored)
    assert file["filename"].endswith("-ncps-ltc.json") and not file["base64"]
    data = json.loads(file["content"])
    assert data["wormlab"] == ncps_names(ctrl)
    back = ncps_from_dict(data)
    x = torch.tensor(np.random.default_rng(0).normal(size=(2, 50, 3)))
    with torch.no_grad():
        want, got = ltc(x)[0].numpy(), back(x)[0].numpy()
    assert np.ptp(want) > 0.1
    assert np.abs(got - want).max() <= 1e-12, np.abs(got - want).max()


def test_ncps_download_with_trained_parameters_refuses_gap_junctions(tw, random_controller):
    ctrl = random_controller(Controller.from_circuit(tw, "CartPole-v1"), 0)
    assert ctrl.gaps
    with pytest.raises(WormlabError, match="gap junctions and ncps has no electrical synapses"):
        cs.ncps_trained_file(ctrl.to_dict())
    with pytest.raises(WormlabError, match="no trained controller in this session"):
        cs.ncps_trained_file(None)
    with pytest.raises(WiringFormatError, match="not a wormlab controller"):
        cs.ncps_trained_file({"format": "other"})

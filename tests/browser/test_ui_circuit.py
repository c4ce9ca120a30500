"""The Circuit page in a real browser: build the tap-withdrawal circuit step by step, undo,
see the controller warning, export every format (the ncps config loaded by ncps itself),
and upload files, broken and good."""

import json
import re

import pandas as pd
import pytest
from playwright.sync_api import expect

import connectome
from connectome import io

#: ms an expectation waits for the page (a loaded 2-core machine: the first rebuild of a
#: circuit can take several seconds); expectations wait on the real condition, never sleep.
EXPECT_TIMEOUT = 30_000


@pytest.fixture(autouse=True)
def generous_expect_timeout():
    expect.set_options(timeout=EXPECT_TIMEOUT)
    yield
    expect.set_options(timeout=5_000)  # playwright's default


def summary_text(circuit):
    """The page's one-line summary of ``circuit``."""
    s = circuit.summary()
    unit = "classes" if circuit.level == "class" else "neurons"
    return (
        f"{s['neurons']} {unit} of {circuit.dataset} ({s['sensory']} sensory, "
        f"{s['inter']} inter, {s['motor']} motor); {s['chemical']} chemical synapses "
        f"({s['excitatory']} excitatory, {s['inhibitory']} inhibitory), "
        f"{s['electrical']} gap junctions."
    )


def tab(page, label):
    page.locator("#circuit-op-tabs").get_by_text(label, exact=True).click()


def node_count(page):
    return page.evaluate("document.querySelector('#circuit-graph')._cyreg.cy.nodes().length")


def download(page, button, tmp_path):
    with page.expect_download() as info:
        page.click(f"#{button}")
    path = tmp_path / info.value.suggested_filename
    info.value.save_as(path)
    return path


def test_build_tap_withdrawal_and_export(page, live_app, console_errors, shot, tmp_path):
    tw = connectome.presets.tap_withdrawal()
    summary = page.locator("#circuit-summary")
    page.goto(f"{live_app}/circuit")
    expect(page.locator("#circuit-ops")).to_contain_text("Tap withdrawal")

    # a preset without sensory neurons is flagged as unfit for a controller
    page.click("#circuit-preset")
    page.get_by_role("option", name="Locomotion command circuit").click()
    page.click("#circuit-preset-load")
    expect(page.locator("#circuit-warning")).to_contain_text("no sensory (input) neuron")

    page.click("#circuit-preset")
    page.get_by_role("option", name="Tap withdrawal (Lechner et al. 2018)").click()
    page.click("#circuit-preset-load")
    expect(summary).to_have_text(summary_text(tw))
    expect(page.locator("#circuit-ok")).to_be_visible()
    assert node_count(page) == 9

    # add a neuron and undo it
    page.fill("#circuit-names", "RIM")
    page.click("#circuit-add")
    expect(summary).to_have_text(summary_text(tw.add(["RIM"])))
    expect(page.locator("#circuit-ops")).to_contain_text("Add RIM")
    page.click("#circuit-undo")
    expect(summary).to_have_text(summary_text(tw))
    expect(page.locator("#circuit-ops")).not_to_contain_text("Add RIM")

    # ablation, paths, thresholds, top-k inputs, signs
    expected = tw.ablate(["DVA"])
    page.fill("#circuit-names", "DVA")
    page.click("#circuit-ablate")
    expect(summary).to_have_text(summary_text(expected))
    tab(page, "Paths")
    page.fill("#circuit-paths-from", "PLM")
    page.fill("#circuit-paths-to", "AVA")
    page.fill("#circuit-paths-length", "2")
    page.click("#circuit-paths")
    expected = expected.add_paths(["PLM"], ["AVA"], 2)
    expect(summary).to_have_text(summary_text(expected))
    tab(page, "Prune")
    page.fill("#circuit-th-chemical", "3")
    page.fill("#circuit-th-electrical", "2")
    page.click("#circuit-threshold")
    expected = expected.threshold(chemical=3, electrical=2)
    expect(summary).to_have_text(summary_text(expected))
    page.fill("#circuit-topk-k", "4")
    page.click("#circuit-topk")
    expected = expected.top_k_inputs(4)
    expect(summary).to_have_text(summary_text(expected))
    tab(page, "Classes & signs")
    page.click("#circuit-merge")
    expect(page.locator("#circuit-op-msg")).to_contain_text("already at class level")
    page.fill("#circuit-sign-names", "AVD")
    page.click("#circuit-sign")
    expected = expected.set_sign(["AVD"], -1)
    expect(summary).to_have_text(summary_text(expected))
    assert expected.summary()["inhibitory"] > 0
    inhibitory = page.evaluate(
        "document.querySelector('#circuit-graph')._cyreg.cy.edges('.inh').length"
    )
    assert inhibitory == expected.summary()["inhibitory"]
    assert node_count(page) == len(expected)

    # roles: without a motor neuron the page warns; undo brings them back
    tab(page, "Roles")
    page.locator("#circuit-role-motor .dash-dropdown-clear").click()
    page.click("#circuit-roles")
    expect(page.locator("#circuit-warning")).to_contain_text("no motor (output) neuron")
    page.click("#circuit-undo")
    expect(page.locator("#circuit-ok")).to_be_visible()
    expect(page.locator("#circuit-ops li")).to_have_count(len(expected.ops))
    shot("built")

    # downloads: every format reads back to the same circuit
    wiring = download(page, "circuit-dl-json", tmp_path)
    assert wiring.read_text() == io.to_json(expected)
    graphml = download(page, "circuit-dl-graphml", tmp_path)
    assert io.to_json(io.from_graphml(graphml.read_bytes())) == io.to_json(expected)
    csv = pd.read_csv(download(page, "circuit-dl-csv", tmp_path))
    pd.testing.assert_frame_equal(csv, expected.edges.reset_index(drop=True), check_dtype=False)
    config = json.loads(download(page, "circuit-dl-ncps", tmp_path).read_text())

    import ncps.torch
    import ncps.wirings
    import torch

    wiring = ncps.wirings.Wiring.from_config(config)
    assert wiring.output_dim == len(expected.motor)
    assert config["wormlab"]["input_names"] == expected.sensory
    model = ncps.torch.LTC(len(expected.sensory), wiring, batch_first=True)
    out, _ = model(torch.zeros(1, 4, len(expected.sensory)))
    assert tuple(out.shape) == (1, 4, len(expected.motor))
    assert console_errors == []


def upload(page, name, payload: bytes):
    page.set_input_files(
        "#circuit-upload input[type=file]",
        {"name": name, "mimeType": "application/json", "buffer": payload},
    )


def test_upload_broken_and_good_files(page, live_app, console_errors, shot):
    tw = connectome.presets.tap_withdrawal()
    page.goto(f"{live_app}/circuit")
    summary = page.locator("#circuit-summary")
    expect(summary).to_have_text(summary_text(tw))
    message = page.locator("#circuit-upload-msg")

    broken = io.to_dict(tw)
    broken["synapses"][3]["weight"] = -2
    broken_weight = json.dumps(broken).encode()
    upload(page, "broken.json", broken_weight)
    expect(message).to_contain_text("Upload broken.json: synapses[3].weight: bad value -2")
    shot("broken-upload")
    upload(page, "garbage.json", b"{'format': wormlab")
    expect(message).to_contain_text("not valid JSON")
    broken = io.to_dict(tw)
    del broken["neurons"][2]["role"]
    upload(page, "norole.json", json.dumps(broken).encode())
    expect(message).to_contain_text("neurons[2]: missing field 'role'")
    expect(summary).to_have_text(summary_text(tw))  # the circuit is untouched

    net = connectome.load("varshney2011")
    small = connectome.Circuit.from_neurons(net, ["PLML", "PVCL", "AVBL", "AVAL"])
    upload(page, "small.json", io.to_json(small).encode())
    expect(message).to_contain_text("Loaded small.json")
    expect(summary).to_have_text(summary_text(small))
    expect(page.locator("#circuit-ops")).to_contain_text(re.compile(r"Uploaded small\.json"))
    stored = page.evaluate("JSON.parse(window.sessionStorage.getItem('store-circuit'))")
    assert io.to_json(io.from_dict(stored)) == io.to_json(small)
    upload(page, "broken.json", broken_weight)  # the same file again is read again
    expect(message).to_contain_text("Upload broken.json: synapses[3].weight")
    expect(summary).to_have_text(summary_text(small))
    assert console_errors == []


def test_own_exports_upload_and_steps_that_change_nothing(
    page, live_app, console_errors, shot, tmp_path
):
    tw = connectome.presets.tap_withdrawal()
    page.goto(f"{live_app}/circuit")
    summary = page.locator("#circuit-summary")
    page.click("#circuit-preset-load")  # a fresh start from the preset, whatever came before
    expect(summary).to_have_text(summary_text(tw))
    steps = page.locator("#circuit-ops li")
    expect(steps).to_have_count(len(tw.ops))
    # adding what is there: said so, nothing recorded
    page.fill("#circuit-names", "AVA")
    page.click("#circuit-add")
    expect(page.locator("#circuit-op-msg")).to_have_text(
        "AVA is already in the circuit; nothing added"
    )
    expect(steps).to_have_count(len(tw.ops))
    # undo stops at the preset as it started: its roles stay
    page.fill("#circuit-names", "RIM")
    page.click("#circuit-add")
    expect(summary).to_have_text(summary_text(tw.add(["RIM"])))
    for _ in range(3):
        page.click("#circuit-undo")
    expect(page.locator("#circuit-op-msg")).to_contain_text("Nothing to undo")
    expect(summary).to_have_text(summary_text(tw))
    expect(page.locator("#circuit-ok")).to_be_visible()
    # downloads are named after the preset; each one uploads back
    files = {fmt: download(page, f"circuit-dl-{fmt}", tmp_path) for fmt in ("graphml", "csv")}
    ncps = download(page, "circuit-dl-ncps", tmp_path)
    names = [p.name for p in (*files.values(), ncps)]
    assert names == [
        "tap_withdrawal-cook2019-circuit.graphml",
        "tap_withdrawal-cook2019-synapses.csv",
        "tap_withdrawal-cook2019-ncps-wiring.json",
    ]
    message = page.locator("#circuit-upload-msg")
    small = connectome.Circuit.from_neurons(connectome.load("cook2019"), ["PLML", "AVAL"])
    for path in files.values():
        upload(page, "small.json", io.to_json(small).encode())  # something else first
        expect(summary).to_have_text(summary_text(small))
        page.set_input_files("#circuit-upload input[type=file]", str(path))
        expect(message).to_contain_text(f"Loaded {path.name}")
        expect(summary).to_contain_text("9 classes of cook2019")
    expect(summary).to_have_text(summary_text(io.from_csv(files["csv"].read_text(), level="class")))
    page.set_input_files("#circuit-upload input[type=file]", str(ncps))
    expect(message).to_contain_text("this is an ncps wiring config")
    expect(message).not_to_contain_text("missing field")
    page.set_input_files(
        "#circuit-upload input[type=file]",
        {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"AVA PLM"},
    )
    expect(message).to_contain_text("it takes what it exports: .json")
    # warnings name the page's own controls
    page.click("#circuit-preset")
    page.get_by_role("option", name="Locomotion command circuit").click()
    page.click("#circuit-preset-load")
    warning = page.locator("#circuit-warning")
    expect(warning).to_contain_text("2. Operations → Roles → Sensory")
    expect(warning).not_to_contain_text("set_roles")
    shot("page-words")
    assert console_errors == []


def ncps_ready_controller():
    """A controller ncps can hold: from_ncps of a small ncps LTC with random parameters."""
    import ncps.torch
    import ncps.wirings
    import torch

    from sim.torch import from_ncps

    torch.manual_seed(5)
    ltc = ncps.torch.LTC(3, ncps.wirings.FullyConnected(4, 2), implicit_param_constraints=False)
    return ltc.double(), from_ncps(ltc.double())


def put_controller(page, data):
    """Fill the session's store-controller as the Train page does when a run finishes."""
    page.evaluate("d => window.sessionStorage.setItem('store-controller', JSON.stringify(d))", data)
    page.reload()


def test_ncps_download_with_trained_parameters(page, live_app, console_errors, tmp_path):
    import numpy as np
    import torch

    from sim.control import Controller
    from sim.torch import ncps_from_dict

    page.goto(f"{live_app}/circuit")
    trained = page.locator("#circuit-ncps-choice input[value='trained']")
    expect(trained).to_be_disabled()  # no trained controller in this session yet

    # a tap-withdrawal controller has gap junctions: the page says why ncps cannot hold it
    tw = Controller.from_circuit(connectome.presets.tap_withdrawal(), "CartPole-v1")
    put_controller(page, tw.to_dict())
    expect(trained).to_be_enabled()
    trained.check()
    page.click("#circuit-dl-ncps")
    expect(page.locator("#circuit-dl-msg")).to_contain_text(
        "gap junctions and ncps has no electrical synapses"
    )

    ltc, ctrl = ncps_ready_controller()
    put_controller(page, ctrl.to_dict())
    trained.check()
    back = ncps_from_dict(json.loads(download(page, "circuit-dl-ncps", tmp_path).read_text()))
    x = torch.tensor(np.random.default_rng(0).normal(size=(1, 40, 3)))
    with torch.no_grad():
        assert np.abs(back(x)[0].numpy() - ltc(x)[0].numpy()).max() <= 1e-12
    # "wiring only" still gives the circuit's ncps config
    page.locator("#circuit-ncps-choice input[value='wiring']").check()
    config = json.loads(download(page, "circuit-dl-ncps", tmp_path).read_text())
    assert "parameters" not in config
    assert console_errors == []

"""The Simulate page's Body view in a real browser (Debian chromium via pytest-playwright).

The PLM touch body experiment (:data:`sim.body.PRESETS`: 2000 pA into PLML and PLMR, the
graded model on Varshney 2011 for 5 s) drives ElegansBot's worm as a background job (the body
is over :data:`webapp.simulation.LONG_BODY` steps). What the page draws is read back from
plotly and checked against :func:`sim.body.simulate_body` run in this process with the same
settings: the verdict line, the worm's outline at the time the shared slider shows (at the
end of the run, at its start after Home, and wherever Play stops), the kymogram and the
centroid's trajectory. ElegansBot is in the ``test`` extra, so this never skips.
"""

import json

import numpy as np
import pytest
from playwright.sync_api import expect

import connectome
from sim.body import PRESETS, BodyParams, simulate_body
from webapp import simulation
from webapp.figures.body import worm_outline
from webapp.figures.dynamics import bin_mean

#: The worm's graph as drawn: its run, the frame shown, the outline and the head.
POSE = """() => {
    const g = document.querySelector('#simulate-body-posture .js-plotly-plot');
    const m = g && g.layout && g.layout.meta;
    if (!m || !m.run || m.frame === undefined || !g._fullData || g._fullData.length < 2)
        return null;
    return {run: m.run, friction: m.friction, frame: m.frame, t: m.frame_t[m.frame],
            n: m.frame_t.length, x: Array.from(g._fullData[0].x),
            y: Array.from(g._fullData[0].y), head: [g._fullData[1].x[0], g._fullData[1].y[0]]};
}"""
FIGURE = """(id) => {
    const g = document.querySelector('#' + id + ' .js-plotly-plot');
    const d = g && g._fullData && g._fullData[0];
    if (!d || !g.layout.meta || !g.layout.meta.run) return null;
    const arr = (a) => Array.from(a, (r) => (r.length !== undefined ? Array.from(r) : r));
    return {run: g.layout.meta.run, x: arr(d.x), y: arr(d.y), z: d.z ? arr(d.z) : null};
}"""


def pid(**parts):
    """CSS selector of a pattern-matching component id."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return f"[id='{text}']"


@pytest.fixture(autouse=True)
def generous_expect():
    """A background job (a fresh process loading numba's cache, 5 s of network and of body)
    on a loaded 2-core machine: expect waits up to 5 minutes on its real condition."""
    expect.set_options(timeout=300_000)
    yield
    expect.set_options(timeout=5_000)


@pytest.fixture(scope="module")
def reference():
    """The PLM touch body experiment through the Python API, as the page sets it up."""
    net, worm = simulate_body(
        connectome.load(simulation.BODY_DATASET),
        list(PRESETS["plm"]["stimuli"]),
        duration=float(simulation.BODY_DURATION),
        dt=1e-4,
        record_every=10,
        body=BodyParams(friction="agar"),
    )
    return worm


def check_pose(pose, worm):
    """The drawn outline and head are the reference's at the frame's time (the page rounds
    the centre line to 0.1 µm)."""
    k = int(round(pose["t"] / worm.params.record_dt))
    assert abs(worm.t[k] - pose["t"]) < 1e-9
    outline = worm_outline(worm.xy[k])
    np.testing.assert_allclose(pose["x"], outline[:, 0], atol=2e-4)
    np.testing.assert_allclose(pose["y"], outline[:, 1], atol=2e-4)
    np.testing.assert_allclose(pose["head"], worm.xy[k, 0], atol=1e-4)
    return k


def wait_pose(page, condition, timeout=120_000):
    """The pose once ``condition`` (a JS expression over ``p``, the POSE) holds."""
    js = f"() => {{ const p = ({POSE})(); return p && ({condition}) ? p : null; }}"
    return page.wait_for_function(js, timeout=timeout, polling=250).json_value()


def test_plm_touch_body_matches_the_python_api(page, live_app, console_errors, shot, reference):
    page.goto(live_app + "/simulate")
    button = page.locator(pid(name="body_plm", type="simulate-preset"))
    expect(button).to_have_text("PLM touch")
    button.click()
    expect(page.locator("#simulate-body-on input")).to_be_checked()
    expect(page.locator("#simulate-status")).to_contain_text("and the body on agar")
    pose = wait_pose(page, "p.run", timeout=600_000)
    assert pose["friction"] == "agar" and pose["n"] == 100
    expect(page.locator("#simulate-status")).to_contain_text("280 neurons")
    expect(page.locator("#simulate-dataset")).to_contain_text("varshney2011")

    # the verdict is the Python API's
    verdict = simulation.body_verdict(reference)
    expect(page.locator("#simulate-body-verdict")).to_have_text(verdict)
    went = {"forward": "forward", "backward": "backward", "none": "nowhere"}[reference.direction]
    assert f"went {went}" in verdict and reference.summary()["max_curvature"] > 1.0

    # after the run the slider is at its end: the last posture
    assert pose["t"] == pytest.approx(reference.t[-1])
    check_pose(pose, reference)
    expect(page.locator("#simulate-body-time")).to_have_text(f"body t = {reference.t[-1]:.2f} s")

    # the kymogram and trajectory are the run's
    kymo = page.evaluate(FIGURE, "simulate-body-kymogram")
    assert kymo["run"] == pose["run"]
    _, binned = bin_mean(reference.t, reference.curvature, 300)
    np.testing.assert_allclose(np.array(kymo["z"], dtype=float), binned.T, rtol=1e-5, atol=1e-5)
    traj = page.evaluate(FIGURE, "simulate-body-trajectory")
    np.testing.assert_allclose(traj["x"], reference.centroid[:, 0], atol=1e-9)
    np.testing.assert_allclose(traj["y"], reference.centroid[:, 1], atol=1e-9)
    shot("end")

    # the shared slider moves the worm: Home shows the start (a straight worm)
    page.locator("#simulate-slider [role='slider']").first.press("Home")
    start = wait_pose(page, "p.frame === 0")
    assert check_pose(start, reference) == 0
    assert not np.allclose(start["x"], pose["x"], atol=1e-3)

    # Play steps the same slider, and the worm with it
    page.click("#simulate-play")
    moved = wait_pose(page, "p.t >= 1.0")
    page.click("#simulate-play")  # pause
    check_pose(moved, reference)
    expect(page.locator("#simulate-play")).to_contain_text("Play")
    shot("played")
    page.locator("#simulate-body-panel").screenshot(path=str(shot("panel").with_name(
        "body-view-plm-agar.png")))  # fmt: skip

    # friction is a field: water asks for a new run (the body runs in the background)
    page.locator("#simulate-body-friction input[value='water']").check()
    expect(page.locator("#simulate-body-verdict")).to_contain_text("press Run")
    assert console_errors == []

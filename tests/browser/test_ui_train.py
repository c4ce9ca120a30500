"""The Train page in a real browser: from the Explore page to a trained, downloaded CartPole
controller; cancelling a run keeps its best controller; a reload or a visit to another page
mid-training reattaches to the run; two browsers training at once see only their own
progress; bad budget values get a message with the allowed range; disabled buttons look
disabled; an uploaded controller is evaluated and animated."""

import json
import re

import numpy as np
import pytest
from playwright.sync_api import expect

import connectome
from sim.control import Controller
from sim.evaluation import STREAM_EVALUATION, episode_seeds, evaluate
from sim.trainer import train
from webapp import runs

TAP_CLASSES = "PLM,AVM,ALM,PVD,AVD,PVC,DVA,AVA,AVB"

# Records every state the progress bar and its text go through (Dash updates them between
# polls of the background job), so a test can tell that the bar advanced.
WATCH_PROGRESS = """
() => {
  window.__progress = [];
  const bar = document.querySelector('#train-progress');
  const text = document.querySelector('#train-progress-text');
  const note = () => window.__progress.push(
      [Number(bar.getAttribute('value')), text.textContent, performance.now()]);
  const obs = new MutationObserver(note);
  obs.observe(bar, {attributes: true});
  obs.observe(text, {childList: true, subtree: true, characterData: true});
}
"""
GENERATION = re.compile(r"generation (\d+) of at most \d+ · best (-?[\d.]+)")


@pytest.fixture(autouse=True)
def generous_expect():
    """Pages here wait on server work (the Circuit page's build, background jobs) on a
    loaded machine: every expect waits on its real condition for up to 30 s, not 5 s."""
    expect.set_options(timeout=30_000)
    yield
    expect.set_options(timeout=5_000)


@pytest.fixture(autouse=True)
def runs_folder(tmp_path, monkeypatch):
    """Training runs are recorded in a folder of the test's own (the app runs in this
    process and reads the variable at every run)."""
    monkeypatch.setenv(runs.RUNS_ENV, str(tmp_path / "runs"))
    return tmp_path / "runs"


def generations(states):
    """Generation numbers seen in the recorded progress texts, in order."""
    return [int(m.group(1)) for _, text, _ in states if (m := GENERATION.search(text))]


def pick(page, dropdown_id, *labels):
    """Tick options of a (multi) dcc.Dropdown by their labels, then close it."""
    page.click(f"#{dropdown_id}")
    for label in labels:
        page.get_by_role("option", name=label, exact=True).click()
    page.keyboard.press("Escape")


def choose(page, dropdown_id, label):
    """Pick one option of a single-value dcc.Dropdown."""
    page.click(f"#{dropdown_id}")
    page.get_by_role("option", name=label, exact=True).click()


def fill(page, input_id, value):
    page.fill(f"#{input_id}", str(value))


def test_explore_to_trained_cartpole(page, live_app, console_errors, shot, tmp_path):
    """A newcomer's path: Explore -> Use as circuit -> roles -> Train -> 500 -> download."""
    # Explore: draw the nine tap-withdrawal classes and send them to the Circuit page
    page.goto(f"{live_app}/?level=class&select={TAP_CLASSES}&show=0")
    page.click("#explore-use-circuit")
    expect(page).to_have_url(re.compile(r"/circuit$"))
    expect(page.locator("#circuit-ops")).to_contain_text("Explore selection (9 classes")
    # AVA and AVB are interneurons by type: the page says the circuit has no output yet
    expect(page.locator("#circuit-warning")).to_contain_text("no motor (output) neuron")
    page.click("text=Roles")
    pick(page, "circuit-role-motor", "AVA", "AVB")
    page.click("#circuit-roles")
    expect(page.locator("#circuit-ok")).to_be_visible()
    expect(page.locator("#circuit-summary")).to_contain_text("2 motor")

    page.click("text=Train this circuit as a controller")
    expect(page).to_have_url(re.compile(r"/train$"))
    expect(page.locator("#train-circuit")).to_contain_text("Circuit page: 9 neurons")
    expect(page.locator("#train-io-text")).to_contain_text("v[AVB] \u2212 v[AVA]")
    fill(page, "train-seed", 0)
    page.evaluate(WATCH_PROGRESS)
    page.click("#train-run")
    expect(page.locator("#train-cancel")).to_be_enabled()
    expect(page.locator("#train-progress-text")).to_contain_text(
        "done: target reached", timeout=60_000
    )
    states = page.evaluate("window.__progress")
    values = [v for v, _, _ in states]
    assert values[-1] == 100, states
    assert values == sorted(values), f"the progress bar went backwards: {states}"
    gens = generations(states)
    assert gens and gens == sorted(gens) and gens[-1] >= 1, states
    expect(page.locator("#train-run")).to_be_enabled()
    expect(page.locator("#train-cancel")).to_be_disabled()
    # the final progress state stays on screen after the job ends
    page.wait_for_timeout(1000)
    expect(page.locator("#train-progress-text")).to_contain_text("done: target reached")
    assert page.get_attribute("#train-progress", "value") == "100"

    expect(page.locator("#train-evaluation")).to_contain_text(
        "mean 500.0, min 500.0, max 500.0 over 20 episodes"
    )
    expect(page.locator("#train-animation .slider-container")).to_be_visible()
    weights = page.evaluate("document.querySelector('#train-weights')._cyreg.cy.edges().length")
    assert weights > 0
    page.locator("#train-animation .updatemenu-button").first.click()  # Play
    page.wait_for_timeout(600)  # the animation runs without errors

    with page.expect_download() as info:
        page.click("#train-download-btn")
    path = tmp_path / "controller.json"
    info.value.save_as(path)
    ctrl = Controller.from_dict(json.loads(path.read_text()))
    assert ctrl.env.env_id == "CartPole-v1"
    assert ctrl.provenance["score"] == 500.0 and ctrl.provenance["seed"] == 0
    assert list(ctrl.motor) == ["AVA", "AVB"]
    assert evaluate(ctrl, episodes=20, seed=0).mean == 500.0  # gymnasium's own env
    print("screenshot:", shot("trained"))
    # the session keeps the trained controller for the Circuit page's ncps download, which
    # says why ncps cannot hold this one (tap withdrawal has gap junctions)
    stored = page.evaluate("JSON.parse(window.sessionStorage.getItem('store-controller'))")
    assert Controller.from_dict(stored).to_dict() == ctrl.to_dict()
    page.click("#app-nav-circuit")
    trained = page.locator("#circuit-ncps-choice input[value='trained']")
    expect(trained).to_be_enabled()
    trained.check()
    page.click("#circuit-dl-ncps")
    # reading the controller back needs its numba kernels: on a first start they may still be
    # compiling behind the background warm-up
    expect(page.locator("#circuit-dl-msg")).to_contain_text("gap junctions", timeout=180_000)
    assert console_errors == []


def _start_run(page, live_app, env_label, seed, seconds, generations=100000, evaluations=20,
               episodes=None):  # fmt: skip
    page.goto(f"{live_app}/train")
    expect(page.locator("#train-io-text")).to_contain_text("Inputs")
    choose(page, "train-env", env_label)
    expect(page.locator("#train-io-text")).to_contain_text("Inputs")
    fill(page, "train-seed", seed)
    fill(page, "train-seconds", seconds)
    fill(page, "train-generations", generations)
    fill(page, "train-eval-episodes", evaluations)
    if episodes is not None:
        fill(page, "train-episodes", episodes)
    page.fill("#train-target", "")
    page.evaluate(WATCH_PROGRESS)
    page.click("#train-run")


def test_cancel_keeps_best_so_far(page, live_app, console_errors, shot, tmp_path):
    _start_run(page, live_app, "Pendulum-v1", seed=3, seconds=120)
    # wait until the bar has advanced through several generations, then cancel
    page.wait_for_function(
        "() => window.__progress.filter(s => /generation ([5-9]|\\d\\d+) /.test(s[1])).length > 0",
        timeout=60_000,
    )
    page.click("#train-cancel")
    expect(page.locator("#train-progress-text")).to_contain_text("done: cancelled", timeout=60_000)
    states = page.evaluate("window.__progress")
    gens = generations(states)
    assert len(set(gens)) >= 2 and gens == sorted(gens), states
    final = GENERATION.search(page.inner_text("#train-progress-text"))
    last_gen, best = int(final.group(1)), float(final.group(2))
    assert last_gen < 100, "the run did not stop when cancelled"
    expect(page.locator("#train-result-reason")).to_contain_text(
        "cancelled: kept the best controller found so far"
    )
    expect(page.locator("#train-result-reason")).to_contain_text(f"after {last_gen} generations")
    expect(page.locator("#train-evaluation")).to_contain_text("In gymnasium's Pendulum-v1")
    with page.expect_download() as info:
        page.click("#train-download-btn")
    path = tmp_path / "pendulum.json"
    info.value.save_as(path)
    ctrl = Controller.from_dict(json.loads(path.read_text()))
    assert ctrl.provenance["generations"] == last_gen
    assert round(ctrl.provenance["score"], 1) == best
    shot("cancelled")
    assert console_errors == []


def test_two_browsers_train_at_once(browser, live_app):
    contexts = [browser.new_context(), browser.new_context()]
    pages = [c.new_page() for c in contexts]
    errors = []
    for p in pages:
        p.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        p.on("pageerror", lambda e: errors.append(str(e)))
    # no target: both train for their whole time budget, at the same time
    runs = [("Pendulum-v1", 1), ("CartPole-v1", 2)]
    try:
        for p, (env, seed) in zip(pages, runs, strict=True):
            _start_run(p, live_app, env, seed=seed, seconds=5, evaluations=5)
        for p in pages:
            p.wait_for_function(
                "() => /done:|error/.test(document.querySelector('#train-progress-text')"
                ".textContent)",
                timeout=90_000,
            )
            assert "done:" in p.inner_text("#train-progress-text"), p.inner_text("#train-msg")
        for p, (env, seed) in zip(pages, runs, strict=True):
            states = p.evaluate("window.__progress")
            texts = [t for _, t, _ in states if "generation" in t]
            t0 = states[0][2]
            print([(round((ms - t0) / 1000, 1), t[:60]) for _, t, ms in states])
            assert len(generations(states)) >= 2, states
            assert all(t.startswith(f"{env}, seed {seed}:") for t in texts), texts
            expect(p.locator("#train-evaluation")).to_contain_text(f"In gymnasium's {env}")
    finally:
        for c in contexts:
            c.close()
    assert errors == []


@pytest.fixture(scope="module")
def cartpole_controller(tmp_path_factory):
    tw = connectome.presets.tap_withdrawal()
    ctrl = train(tw, "CartPole-v1", seed=4, generations=2, validation_episodes=4).controller
    path = tmp_path_factory.mktemp("ctrl") / "cartpole.json"
    ctrl.save(path)
    return ctrl, path


def test_upload_controller(page, live_app, console_errors, cartpole_controller):
    ctrl, path = cartpole_controller
    page.goto(f"{live_app}/train")
    expect(page.locator("#train-io-text")).to_contain_text("Inputs")
    bad = json.loads(path.read_text())
    bad["env"]["env_id"] = "os:system"
    page.set_input_files(
        "#train-upload input[type=file]",
        {"name": "bad.json", "mimeType": "application/json", "buffer": json.dumps(bad).encode()},
    )
    expect(page.locator("#train-upload-msg")).to_contain_text("env.env_id is 'os:system'")
    page.set_input_files("#train-upload input[type=file]", str(path))
    # the evaluation is a background job in a fresh process: generous on a loaded machine
    expect(page.locator("#train-upload-msg")).to_contain_text(
        "Loaded cartpole.json", timeout=90_000
    )
    ev = evaluate(ctrl, episodes=20, seed=0)
    expect(page.locator("#train-evaluation")).to_contain_text(
        f"mean {ev.mean:.1f}, min {ev.min:.1f}, max {ev.max:.1f} over 20 episodes"
    )
    title = page.locator("#train-animation .gtitle")
    expect(title).to_contain_text(f"return {ev.returns[0]:.1f}")
    assert np.isfinite(ev.mean)
    assert console_errors == []


def _generation(page):
    m = GENERATION.search(page.inner_text("#train-progress-text"))
    return int(m.group(1)) if m else -1


def test_reload_and_navigation_reattach_to_the_running_job(page, live_app, console_errors):
    _start_run(page, live_app, "Pendulum-v1", seed=5, seconds=300, evaluations=3)
    page.wait_for_function(
        "() => window.__progress.filter(s => /generation [2-9]/.test(s[1])).length > 0",
        timeout=90_000,
    )
    page.reload()
    # the reloaded page shows the run that goes on, not "Not started." with Train enabled
    expect(page.locator("#train-progress-text")).to_contain_text("Pendulum-v1, seed 5: generation")
    expect(page.locator("#train-run")).to_be_disabled()
    expect(page.locator("#train-cancel")).to_be_enabled()
    seen = _generation(page)
    page.wait_for_function(
        f"() => /generation (\\d+)/.exec(document.querySelector('#train-progress-text')"
        f".textContent)[1] > {seen}",
        timeout=90_000,
    )  # its progress goes on on the reloaded page
    page.click("#app-nav-explore")
    expect(page).to_have_url(re.compile(r"/(\?.*)?$"))
    page.click("#app-nav-train")
    expect(page.locator("#train-progress-text")).to_contain_text("Pendulum-v1, seed 5: generation")
    expect(page.locator("#train-cancel")).to_be_enabled()
    page.click("#train-cancel")
    # "Cancelling" until the generation ends; on a loaded machine the run can end first
    expect(page.locator("#train-msg")).to_contain_text(re.compile("Cancelling|cancelled"))
    expect(page.locator("#train-progress-text")).to_contain_text("done: cancelled", timeout=90_000)
    last = _generation(page)
    assert last < 100, "the run did not stop when cancelled"
    expect(page.locator("#train-result-reason")).to_contain_text(
        f"cancelled: kept the best controller found so far after {last} generations"
    )
    expect(page.locator("#train-evaluation")).to_contain_text("In gymnasium's Pendulum-v1: mean")
    expect(page.locator("#train-evaluation")).to_contain_text("held out: fresh start states")
    expect(page.locator("#train-result-reason")).to_contain_text("held-out score")
    expect(page.locator("#train-run")).to_be_enabled()
    expect(page.locator("#train-cancel")).to_be_disabled()
    expect(page.locator("#train-download-btn")).to_be_enabled()
    page.reload()  # a finished run stays on the page
    expect(page.locator("#train-progress-text")).to_contain_text("done: cancelled")
    expect(page.locator("#train-result-reason")).to_contain_text(f"after {last} generations")
    assert console_errors == []


BAD_BUDGETS = [
    ("train-seconds", "5000", "Seconds: must be from 1 to 3600 (got 5000)"),
    ("train-seconds", "0.5", "Seconds: must be from 1 to 3600 (got 0.5)"),
    ("train-generations", "0", "Generations: must be a whole number from 1 to 100000 (got 0)"),
    ("train-episodes", "1000", "Episodes / candidate: must be a whole number from 1 to 100 "
     "(got 1000)"),
    ("train-seed", "-1", "Seed: must be a whole number from 0 to 2147483647 (got -1)"),
    ("train-eval-episodes", "2.5", "Evaluation episodes: must be a whole number, not 2.5"),
]  # fmt: skip


def test_bad_budget_values_say_what_is_allowed(page, live_app, console_errors):
    page.goto(f"{live_app}/train")
    expect(page.locator("#train-io-text")).to_contain_text("Inputs")
    for field, bad, message in BAD_BUDGETS:
        good = page.input_value(f"#{field}")
        fill(page, field, bad)
        expect(page.locator(f"#{field}-error")).to_have_text(message)
        page.click("#train-run")
        expect(page.locator("#train-msg")).to_have_text(message)
        fill(page, field, good)
        expect(page.locator(f"#{field}-error")).to_have_text("")
    # Pendulum has no stop-at score: the field is empty, and nothing is logged
    choose(page, "train-env", "Pendulum-v1")
    expect(page.locator("#train-io-text")).to_contain_text("torque in [-2, 2]")
    expect(page.locator("#train-target")).to_have_value("")
    expect(page.locator("#train-target-error")).to_have_text("")
    page.wait_for_timeout(500)
    assert console_errors == []


STYLE = """
(sel) => { const s = getComputedStyle(document.querySelector(sel));
           return [s.opacity, s.cursor, s.borderColor, s.color]; }
"""


def test_disabled_buttons_look_and_hover_differently(page, live_app):
    page.goto(f"{live_app}/train")
    expect(page.locator("#train-io-text")).to_contain_text("Inputs")
    expect(page.locator("#train-cancel")).to_be_disabled()
    expect(page.locator("#train-download-btn")).to_be_disabled()
    disabled = page.evaluate(STYLE, "#train-cancel")
    assert disabled[:2] == ["0.45", "not-allowed"], disabled
    assert page.evaluate(STYLE, "#train-download-btn") == disabled
    page.hover("#train-cancel")
    assert page.evaluate(STYLE, "#train-cancel") == disabled  # no hover change
    enabled = page.evaluate(STYLE, "#train-run")
    assert enabled[:2] == ["1", "pointer"], enabled
    page.goto(f"{live_app}/circuit")
    button = page.locator("#circuit-from-selection")
    expect(button).to_be_disabled()  # nothing selected on the Explore page
    assert page.evaluate(STYLE, "#circuit-from-selection")[:2] == ["0.45", "not-allowed"]


LESION_BARS = """
(sel) => { const g = document.querySelector(sel + ' .js-plotly-plot');
           if (!g || !g._fullData || !g._fullData.length || g._fullData[0].type !== 'bar')
             return null;
           const t = g._fullData[0];
           return {x: Array.from(t.x), y: Array.from(t.y), base: Array.from(t.base)}; }
"""


def test_what_matters_and_baselines_after_a_tiny_run(page, live_app, console_errors, shot,
                                                     runs_folder):  # fmt: skip
    """A tiny CartPole run: the What matters panel lesions each neuron on the result's
    held-out episodes (one bar per neuron, equal to sim.comparison.lesion_returns' drops),
    it stays after a reload, and Compare with baselines shows the comparison's table (on a
    page reloaded while it ran)."""
    from sim.comparison import lesion_returns
    from sim.evaluation import rollout

    _start_run(page, live_app, "CartPole-v1", seed=0, seconds=60, generations=2, evaluations=5,
               episodes=2)  # fmt: skip
    expect(page.locator("#train-progress-text")).to_contain_text("done:", timeout=120_000)
    # the lesions start by themselves once the result is there
    expect(page.locator("#train-lesion-progress-text")).to_have_text("done", timeout=120_000)
    expect(page.locator("#train-lesion-msg")).to_contain_text("Done.")
    for graph in ("#train-lesion-neurons", "#train-lesion-synapses"):
        page.wait_for_function(f"() => ({LESION_BARS})('{graph}') !== null")
    bars = page.evaluate(LESION_BARS, "#train-lesion-neurons")
    ctrl = Controller.from_dict(
        page.evaluate("JSON.parse(window.sessionStorage.getItem('store-controller'))")
    )
    result = page.evaluate("JSON.parse(window.sessionStorage.getItem('train-result'))")
    seeds = result["evaluation"]["seeds"]
    assert len(seeds) == 5
    intact = float(rollout(ctrl, seeds)[0].mean())
    assert intact == pytest.approx(result["evaluation"]["mean"], abs=1e-9)
    drops = {x: intact - v for x, v in lesion_returns(ctrl, seeds).items()}
    assert sorted(bars["x"]) == sorted(ctrl.neurons)  # one bar per neuron
    assert bars["y"] == sorted(bars["y"], reverse=True)
    for name, drop, base in zip(bars["x"], bars["y"], bars["base"], strict=True):
        assert drop == pytest.approx(drops[name], abs=1e-9), name
        assert base + drop == pytest.approx(intact, abs=1e-9), name
    synapses = page.evaluate(LESION_BARS, "#train-lesion-synapses")
    assert len(synapses["x"]) == 40  # the 40 strongest of tap withdrawal's 51
    shot("lesions")

    page.reload()  # the lesions stay, and are not run again
    expect(page.locator("#train-lesion-progress-text")).to_have_text("done")
    page.wait_for_function(f"() => ({LESION_BARS})('#train-lesion-neurons') !== null")
    expect(page.locator("#train-lesion-msg")).to_contain_text("Done.")
    assert page.evaluate(LESION_BARS, "#train-lesion-neurons")["y"] == bars["y"]
    configs = [json.loads((d / "config.json").read_text()) for d in runs_folder.iterdir()]
    assert sum("seeds" in c and "controller" in c for c in configs) == 1  # one lesion job

    page.fill("#train-compare-seeds", "9")
    page.locator("#train-compare-seeds").blur()
    expect(page.locator("#train-compare-seeds-error")).to_contain_text("Seeds")
    page.fill("#train-compare-seeds", "1")
    page.locator("#train-compare-seeds").blur()
    expect(page.locator("#train-compare-seeds-error")).to_have_text("")
    page.click("#train-compare-run")
    expect(page.locator("#train-compare-cancel")).to_be_enabled()
    expect(page.locator("#train-compare-progress-text")).to_contain_text("runs")
    page.reload()  # the comparison goes on; the reloaded page shows it from its record
    rows = page.locator("#train-compare-table tbody tr")
    expect(rows).to_have_count(6, timeout=180_000)  # the circuit and its five baselines
    expect(rows.first).to_contain_text("circuit")
    expect(page.locator("#train-compare-budget")).to_contain_text(
        "CartPole-v1, seeds 0: every controller trained for at most 2 generations"
    )
    expect(page.locator("#train-compare-progress-text")).to_contain_text("6 of 6 runs")
    expect(page.locator("#train-compare-figure .js-plotly-plot")).to_be_visible()
    expect(page.locator("#train-compare-cancel")).to_be_disabled()
    shot("compare")
    assert console_errors == []


def _plot(page, graph_id, expr):
    """``expr`` of the plotly graph div inside the dcc.Graph ``graph_id`` (as ``gd``)."""
    return page.evaluate(
        f"() => {{ const gd = document.querySelector('#{graph_id} .js-plotly-plot'); "
        f"return {expr}; }}"
    )


def test_lane_keeping_trains_and_shows_the_car_on_the_road(page, live_app, console_errors,
                                                           shot, tmp_path):  # fmt: skip
    """Lane keeping with a tiny budget: the klinotaxis preset is picked, the run stops,
    the road animation (the port's rollout) and the lateral error appear, the score is
    highway-env's replay as the Python API gives it; a second run adds the comparison."""
    from webapp.training import record_episode

    page.goto(f"{live_app}/train")
    expect(page.locator("#train-io-text")).to_contain_text("Inputs")
    choose(page, "train-env", "lane-keeping-v0 (highway-env)")
    expect(page.locator("#train-circuit")).to_contain_text("Preset: klinotaxis")
    expect(page.locator("#train-io-text")).to_contain_text("steering in [-1, 1]")
    expect(page.locator("#train-io-text")).to_contain_text("ASEL, ASER, AWCL, AWCR")
    expect(page.locator("#train-env-note")).to_contain_text("replayed in highway-env")
    expect(page.locator("#train-target")).to_have_value("190")
    expect(page.locator("#train-lane")).to_be_hidden()
    fill(page, "train-seed", 0)
    fill(page, "train-generations", 1)
    fill(page, "train-episodes", 1)
    fill(page, "train-eval-episodes", 2)
    page.click("#train-run")
    expect(page.locator("#train-cancel")).to_be_enabled()
    # one generation in a fresh process, then 2 episodes in highway-env's Python loop
    expect(page.locator("#train-progress-text")).to_contain_text("done:", timeout=240_000)
    expect(page.locator("#train-evaluation")).to_contain_text(
        "In highway-env's lane-keeping-v0: mean", timeout=60_000
    )
    expect(page.locator("#train-animation .slider-container")).to_be_visible()
    expect(page.locator("#train-lane")).to_be_visible()
    expect(page.locator("#train-lateral .scatterlayer .trace")).to_have_count(1)
    expect(page.locator("#train-lane-compare-box")).to_be_hidden()  # one run so far

    with page.expect_download() as info:
        page.click("#train-download-btn")
    path = tmp_path / "lane.json"
    info.value.save_as(path)
    ctrl = Controller.from_dict(json.loads(path.read_text()))
    assert ctrl.env.env_id == "lane-keeping-v0" and ctrl.provenance["seed"] == 0
    assert len(ctrl.neurons) == 24  # the klinotaxis preset
    ev = evaluate(ctrl, episodes=2, seed=0)  # highway-env's own env
    expect(page.locator("#train-evaluation")).to_contain_text(
        f"mean {ev.mean:.1f}, min {ev.min:.1f}, max {ev.max:.1f} over 2 episodes"
    )
    # the animation and the lateral error are the port's episode of the first evaluation seed
    ep = record_episode(ctrl, ev.seeds[0])
    expect(page.locator("#train-animation .gtitle")).to_contain_text(
        f"episode seed {ev.seeds[0]}: return {ev.returns[0]:.1f}"
    )
    frames = _plot(page, "train-animation", "gd._transitionData._frames.length")
    assert frames == len(ep["states"]) == 201
    for t in (0, 57, 200):
        car = _plot(
            page, "train-animation",
            f"[gd._transitionData._frames[{t}].data[1].x[0], "
            f"gd._transitionData._frames[{t}].data[1].y[0]]",
        )  # fmt: skip
        assert car == ep["states"][t][:2], f"step {t}"
    lateral = _plot(page, "train-lateral", "Array.from(gd.data[0].y)")
    assert lateral == ep["lateral"]
    page.locator("#train-animation .updatemenu-button").first.click()  # Play
    page.wait_for_timeout(600)  # the animation runs without errors
    shot("lane-keeping")

    # a second run (another seed): the tab compares the two
    fill(page, "train-seed", 1)
    page.click("#train-run")
    expect(page.locator("#train-cancel")).to_be_enabled()
    expect(page.locator("#train-lane-compare-box")).to_be_visible(timeout=240_000)
    # the result shown is the second run's: its first evaluation seed is animated
    second = int(episode_seeds(1, STREAM_EVALUATION, 1)[0])
    expect(page.locator("#train-animation .gtitle")).to_contain_text(f"episode seed {second}:")
    expect(page.locator("#train-lane-note")).to_contain_text(f"episode seed {second};")
    bars = _plot(page, "train-lane-compare", "gd.data.map(d => Array.from(d.x).length)")
    assert bars == [2, 2]
    first = _plot(page, "train-lane-compare", "gd.data[0].x[0]")
    assert first == ev.mean
    shot("lane-keeping-compare")
    assert console_errors == []

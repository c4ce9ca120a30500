"""The Simulate page in a real browser (Debian chromium via pytest-playwright).

What is plotted is read back from plotly and checked against the simulator run in this
process on the same inputs (the PLM experiment of Kunert et al. 2014 on Varshney 2011: the
motor neurons oscillate; ablating PVC stops them). The time from clicking Run to the traces
being drawn for 5 s of the graded model on the whole Cook 2019 connectome, and the size of
what the server sends, are measured (not asserted) and written to
tests/browser/artifacts/simulate-timings.json.
"""

import json
import statistics
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import expect

import connectome
from sim.analysis import dominant_period, oscillation_summary, response_summary
from sim.compiler import compile_circuit, graded_thresholds
from sim.models import default_params
from sim.runner import simulate
from sim.stimulus import step
from webapp import simulation as simulation

ARTIFACTS = Path(__file__).parent / "artifacts"

PLOT = """(id) => {
    const g = document.querySelector('#' + id + ' .js-plotly-plot');
    if (!g || !g._fullData || !g.layout) return null;
    const arr = (a) => (a && a.length !== undefined) ? Array.from(a) : null;
    return {
        meta: g.layout.meta || null,
        title: (g.layout.title && g.layout.title.text) || '',
        traces: g._fullData.map(t => ({
            name: t.name, x: arr(t.x), y: arr(t.y), x0: t.x0, dx: t.dx,
            color: t.marker ? arr(t.marker.color) : null,
            dash: t.line ? t.line.dash : null,
        })),
    };
}"""
RUN_OF = """(id) => {
    const g = document.querySelector('#' + id + ' .js-plotly-plot');
    return (g && g.layout && g.layout.meta && g.layout.meta.run) || null;
}"""
NEW_RUN = """([id, old]) => {
    const g = document.querySelector('#' + id + ' .js-plotly-plot');
    if (!g || !g.layout || !g.layout.meta || !g.layout.meta.run || g.layout.meta.run === old)
        return false;
    const drawn = g.querySelectorAll('.scatterlayer .trace').length;
    return drawn === g._fullData.length ? performance.now() : false;
}"""
NETWORK_READY = """() => {
    const e = document.getElementById('simulate-network');
    return !!(e && e._cyreg && e._cyreg.cy && e._cyreg.cy.nodes().length > 0);
}"""
CY = "document.getElementById('simulate-network')._cyreg.cy"
HEAT = """() => {
    const g = document.querySelector('#simulate-heatmap .js-plotly-plot');
    const h = g && g._fullData && g._fullData[0];
    if (!h || !h.z) return null;
    let lo = Infinity, hi = -Infinity;
    for (const row of h.z) for (const v of row) { if (v < lo) lo = v; if (v > hi) hi = v; }
    return {zmin: h.zmin, zmax: h.zmax, lo: lo, hi: hi};
}"""
# the fraction of the network panel that the drawn graph covers, in width and in height
FILLED = f"""() => {{
    const c = {CY}, b = c.elements().renderedBoundingBox();
    return [b.w / c.width(), b.h / c.height()];
}}"""
# records whether "Running…" appears in the status area (before the run's status line)
WATCH_RUNNING = """() => {
    window.__sawRunning = false;
    const el = document.getElementById('simulate-running');
    new MutationObserver(() => {
        if (el.textContent.includes('Running')) window.__sawRunning = true;
    }).observe(el, {childList: true, subtree: true, characterData: true});
}"""
# True once the network's zoom and pan are the same at two polls in a row
VIEW_STILL = f"""() => {{
    const c = {CY};
    const view = JSON.stringify([c.zoom(), c.pan()]);
    const still = window.__simulateView === view;
    window.__simulateView = view;
    return still;
}}"""


def click_a_node(page, attempts=6):
    """Click a neuron in the Simulate network with the real mouse, as a user would; its name.

    Neurons overlap in the drawn views, edges may be drawn over them, and on a loaded machine
    the view can still move (a late fit after new elements) between reading a point and the
    click landing; so the click aims at a point inside the window (the mouse reaches nothing
    below the fold) where cytoscape's own hit test finds that neuron and nothing drawn over
    it, and the neuron clicked is the one cytoscape says the tap hit (a click that hit no
    neuron is tried again).
    """
    free_point = f"""() => {{
        const c = {CY}; window.__tapped = null;
        const frame = c.container().getBoundingClientRect();
        c.one('tap', 'node', e => {{ window.__tapped = e.target.id(); }});
        const bare = {{includeLabels: false, includeOverlays: false}};
        const nodes = c.nodes().filter(n => !n.isParent())
            .sort((a, b) => a.id() < b.id() ? -1 : 1);
        for (const node of nodes) {{
          const b = node.renderedBoundingBox(bare);
          for (let i = 1; i < 8; i++) for (let j = 1; j < 8; j++) {{
            const x = b.x1 + (b.x2 - b.x1) * i / 8, y = b.y1 + (b.y2 - b.y1) * j / 8;
            if (x < 5 || y < 5 || x > c.width() - 5 || y > c.height() - 5) continue;
            // a whole pixel of the window, hit-tested as cytoscape will test the tap there
            const X = Math.round(frame.left + x), Y = Math.round(frame.top + y);
            const [mx, my] = c.renderer().projectIntoViewport(X, Y);
            const hit = c.renderer().findNearestElement(mx, my, true, false);
            if (!hit || hit.id() !== node.id()) continue;
            const at = document.elementFromPoint(X, Y);
            if (at && c.container().contains(at)) return [X, Y];
          }}
        }}
        return null;
    }}"""
    for _ in range(attempts):
        # the preset layout fits the view after the new elements: wait until it holds still
        page.wait_for_function(VIEW_STILL, polling=250, timeout=30_000)
        page.locator("#simulate-network").scroll_into_view_if_needed()
        found = page.evaluate(free_point)
        assert found is not None, "no neuron has a point in the window that only it covers"
        page.mouse.click(*found)
        tapped = page.evaluate("() => window.__tapped")
        if tapped is not None:  # mostly the neuron aimed at; a neighbour if the view moved
            return tapped
    raise AssertionError(f"{attempts} clicks on a point that only a neuron covers missed it")


@pytest.fixture(autouse=True)
def generous_expect():
    """Every expect here waits on a server round trip on a loaded machine: up to 30 s on its
    real condition rather than playwright's 5 s."""
    expect.set_options(timeout=30_000)
    yield
    expect.set_options(timeout=5_000)


def pid(**parts):
    """CSS selector of a pattern-matching component id."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return f"[id='{text}']"


@pytest.fixture(scope="module", autouse=True)
def warm(live_app):
    """The server runs in this process: get the simulator's kernels ready, as start-up
    does (webapp.app.warm_up)."""
    simulation.warm_up()
    return live_app


@pytest.fixture(scope="module")
def timings():
    found = {}
    yield found
    if found:
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "simulate-timings.json").write_text(json.dumps(found, indent=2))
        print("\nSimulate timings and sizes:", json.dumps(found))


def open_simulate(page, url, query=""):
    page.goto(url + "/simulate" + query)
    page.wait_for_function(NETWORK_READY, timeout=30_000)


def wait_new_run(page, graph, old, timeout=30_000):
    """Wait until ``graph`` shows a run other than ``old``; the browser's time then (ms)."""
    handle = page.wait_for_function(NEW_RUN, arg=[graph, old], timeout=timeout)
    return handle.json_value()


def wait_results(page, old=None):
    """Wait for a new run's traces, heatmap and phase portrait; return the run id."""
    wait_new_run(page, "simulate-traces", old)
    run = page.evaluate(RUN_OF, "simulate-traces")
    for graph in ("simulate-heatmap", "simulate-pca"):
        page.wait_for_function(
            "([id, run]) => { const g = document.querySelector('#' + id + ' .js-plotly-plot');"
            " return !!(g && g.layout && g.layout.meta && g.layout.meta.run === run); }",
            arg=[graph, run],
            timeout=30_000,
        )
    return run


def tall_shot(page, shot, name):
    """A screenshot of the whole page: the page scrolls inside its panels, so the window is
    made tall enough to hold them first."""
    size = page.viewport_size
    page.set_viewport_size({"width": 1500, "height": 2300})
    page.wait_for_timeout(400)  # plotly redraws at the new size
    shot(name)
    page.set_viewport_size(size)


def plotted(page, graph):
    return page.evaluate(PLOT, graph)


def plm_reference(ablate=()):
    """The PLM experiment run here: 2000 pA into PLML and PLMR, Varshney 2011, 8 s, the
    paper's inhibitory set (signs kunert2014)."""
    params = default_params("graded", signs="kunert2014")
    cc = compile_circuit(connectome.load("varshney2011"), "graded", params, ablate=list(ablate))
    r = simulate(cc, step("PLM", 2000.0), duration=8.0, dt=1e-4, record_every=10)
    motor = simulation.motor_neurons(cc)
    return r, oscillation_summary(r, motor, start=8.0 / 3)


def pick_trace(page, name):
    page.click("#simulate-trace-pick")
    page.keyboard.type(name)
    page.locator(".dash-dropdown-option", has_text=name).first.click()
    page.keyboard.press("Escape")


def test_plm_preset_oscillates_and_pvc_ablation_stops_it(page, live_app, console_errors, shot):
    open_simulate(page, live_app)
    page.evaluate(WATCH_RUNNING)
    page.locator(pid(name="plm", type="simulate-preset")).click()  # the Body view has one too
    run = wait_results(page)
    assert page.evaluate("window.__sawRunning")  # a sign of the run from the click on
    expect(page.locator("#simulate-running")).to_have_text("")
    expect(page.locator("#simulate-status")).to_contain_text("280 neurons")
    expect(page.locator("#simulate-dataset")).to_contain_text("varshney2011")
    expect(page.locator(pid(key="signs", type="simulate-param"))).to_contain_text("kunert2014")

    # traces: ventral cord A/B motor neurons, as deviations from the network's fixed point
    fig = plotted(page, "simulate-traces")
    traces = fig["traces"]
    names = [t["name"] for t in traces]
    ref, osc = plm_reference()
    classes = ref.circuit.neurons.loc[names, "class"]
    assert set(classes) == {"VA", "VB", "DA", "DB"} and len(names) == simulation.N_TRACES
    assert fig["title"].startswith("V − fixed point")
    assert osc.strength > 0.9 and 0.5 < osc.period < 3.0  # the published limit cycle
    current = np.zeros(ref.circuit.n)
    current[ref.circuit.indices(["PLM"])] = 2000.0
    fixed = graded_thresholds(ref.circuit, current)
    for trace in traces[:2]:  # the plotted traces are the simulator's, sampled, minus V*
        y = np.array(trace["y"])
        t = trace["x0"] + trace["dx"] * np.arange(len(y))
        k = np.rint(t / 1e-3).astype(int)
        i = ref.circuit.indices([trace["name"]])[0]
        np.testing.assert_allclose(y, ref.trace(trace["name"])[k] - fixed[i], rtol=1e-4, atol=2e-3)
        assert np.ptp(y[t > 3.0]) > 1.0  # mV: the oscillation is visible in each strip
    expect(page.locator("#simulate-trace-note")).to_contain_text("no saturation")
    # the heatmap's colour range is the data's (each row scaled to its own largest |dV|)
    heat = page.evaluate(HEAT)
    assert heat["zmin"] <= heat["lo"] and heat["hi"] <= heat["zmax"]
    assert heat["lo"] < 0.9 * heat["zmin"] and heat["hi"] > 0.9 * heat["zmax"]

    # the phase portrait: its plotted mode 1 has the simulator's period
    pca = plotted(page, "simulate-pca")
    assert pca["meta"]["run"] == run
    x, tt = np.array(pca["traces"][0]["x"]), np.array(pca["traces"][0]["color"])
    est = dominant_period(x, float(np.median(np.diff(tt))))
    assert est.period == pytest.approx(osc.period, rel=0.02)
    assert np.ptp(x) > 5.0  # mV
    expect(page.locator("#simulate-oscillation")).to_contain_text("oscillate with period")

    # a ventral cord motor neuron added to the traces oscillates with the same period
    pick_trace(page, "VD5")
    page.wait_for_function(
        "() => { const g = document.querySelector('#simulate-traces .js-plotly-plot');"
        " return !!(g && g._fullData && g._fullData.some(t => t.name === 'VD5')); }"
    )
    da9 = next(t for t in plotted(page, "simulate-traces")["traces"] if t["name"] == "VD5")
    y = np.array(da9["y"])
    t = da9["x0"] + da9["dx"] * np.arange(len(y))
    late = t >= 8.0 / 3
    est = dominant_period(y[late], da9["dx"])
    assert est.period == pytest.approx(osc.period, rel=0.02)

    # the network is coloured by activity: PLML (depolarised by volts) in the reddest colour
    colour = page.evaluate(f"() => {CY}.$id('PLML').style('background-color')")
    assert colour == "rgb(178,24,43)"
    label = page.locator("#simulate-time-label").inner_text()
    page.get_by_role("button", name="▶ Play").click()
    expect(page.locator("#simulate-time-label")).not_to_have_text(label, timeout=5_000)
    page.get_by_role("button", name="❚❚ Pause").click()
    tall_shot(page, shot, "plm")
    # each view fills the panel (fitted again when the view changes)
    fills = f"() => Math.min(...({FILLED})()) > 0.8"  # both ways: not a strip of the panel
    for view in ("layered", "anatomical", "layered"):
        page.get_by_label(view).check()
        page.wait_for_function(VIEW_STILL, polling=250, timeout=30_000)
        page.wait_for_function(fills, polling=250, timeout=30_000)
    shot("plm-layered")

    # the response table and its CSV hold the simulator's peaks
    with page.expect_download() as download:
        page.click("#simulate-csv-summary")
    table = pd.read_csv(download.value.path(), index_col=0)
    ref_peaks = response_summary(ref, onset=0.0)["peak"]
    assert list(table.index) == list(ref.names)
    np.testing.assert_allclose(table["peak"], ref_peaks, rtol=1e-5)
    assert table.loc["PLML", "stimulated"] and not table.loc["DA9", "stimulated"]
    first = page.locator("#simulate-summary-table tbody tr").first.inner_text().split()
    assert first[0] == ref_peaks.abs().idxmax() == "PLML"

    # ablating PVC stops the oscillation, here as in the simulator
    page.fill("#simulate-ablate", "PVC")
    page.keyboard.press("Tab")
    page.click("#simulate-run")
    wait_results(page, run)
    expect(page.locator("#simulate-status")).to_contain_text("278 neurons")
    expect(page.locator("#simulate-oscillation")).to_contain_text("do not oscillate")
    _, osc_pvc = plm_reference(["PVC"])
    assert not np.isfinite(osc_pvc.period) and osc_pvc.amplitude < 1.0
    x = np.array(plotted(page, "simulate-pca")["traces"][0]["x"])
    assert np.ptp(x) < 1.0  # mV: the limit cycle is gone
    assert page.evaluate(f"() => {CY}.$id('PVCL').style('opacity')") == "0.25"
    tall_shot(page, shot, "plm-pvc-ablated")
    assert console_errors == []


def test_bad_fields_are_reported_next_to_them(page, live_app, console_errors, shot):
    open_simulate(page, live_app)
    row = page.locator(".simulate-stim-row").first
    row.locator(pid(index=0, key="amp", type="simulate-stim-par")).fill("nan")
    page.fill("#simulate-duration", "-1")
    page.fill("#simulate-ablate", "AVX")
    page.fill(pid(key="Gc", type="simulate-param"), "abc")
    page.click("#simulate-stim-add")  # a second stimulus without a target
    expect(page.locator(".simulate-stim-row")).to_have_count(2)
    page.click("#simulate-run")
    expect(page.locator(pid(index=0, key="amp", type="simulate-stim-err"))).to_have_text(
        "must be a finite number, not nan"
    )
    expect(page.locator(pid(index=1, key="target", type="simulate-stim-err"))).to_contain_text(
        "pick a neuron or class"
    )
    expect(page.locator("#simulate-duration-msg")).to_have_text("must be > 0 (got -1)")
    expect(page.locator(pid(key="Gc", type="simulate-param-err"))).to_have_text(
        "'abc' is not a number"
    )
    expect(page.locator("#simulate-ablate-msg")).to_have_text(
        "unknown neuron 'AVX' in cook2019; did you mean AVA, AVB, AVD?"
    )
    expect(page.locator("#simulate-status")).to_contain_text("Nothing was run")
    tall_shot(page, shot, "bad-fields")

    # fixed fields but the ablation: the unknown neuron is still named next to it
    row.locator(pid(index=0, key="amp", type="simulate-stim-par")).fill("2000")
    page.fill("#simulate-duration", "1")
    page.fill(pid(key="Gc", type="simulate-param"), "10")
    page.locator(pid(index=1, type="simulate-stim-remove")).click()
    expect(page.locator(".simulate-stim-row")).to_have_count(1)
    page.click("#simulate-run")
    expect(page.locator("#simulate-duration-msg")).to_have_text("")
    expect(page.locator("#simulate-ablate-msg")).to_contain_text("unknown neuron 'AVX'")
    expect(page.locator(pid(index=0, key="amp", type="simulate-stim-err"))).to_have_text("")

    # a run over the limit names the limit
    page.fill("#simulate-ablate", "")
    page.fill("#simulate-duration", "1000")
    page.click("#simulate-run")
    expect(page.locator("#simulate-duration-msg")).to_contain_text(
        f"limit (duration x neurons / dt) is {simulation.MAX_NEURON_STEPS:.3g}"
    )

    # the protocol decides the fields; clicking a neuron in the network stimulates it
    page.locator(pid(index=0, type="simulate-stim-kind")).click()
    page.locator(".dash-dropdown-option", has_text="sine").first.click()
    expect(page.locator(pid(index=0, key="freq", type="simulate-stim-par"))).to_have_value("1")
    expect(row.locator(pid(index=0, key="amp", type="simulate-stim-par"))).to_have_value("2000")
    # (in the layered view no two neurons share a place, as AVAL and AVAR do in the side view)
    page.get_by_label("layered").check()
    page.wait_for_function(
        f"() => {{ const c = {CY}; return c.$id('AVAL').position('x') !== "
        f"c.$id('AVAR').position('x') || c.$id('AVAL').position('y') !== "
        f"c.$id('AVAR').position('y'); }}"
    )
    clicked = click_a_node(page)
    expect(page.locator(".simulate-stim-row")).to_have_count(2)
    expect(page.locator(".simulate-stim-row").nth(1)).to_contain_text(f"{clicked} ·")
    assert "Traceback" not in page.content()
    assert console_errors == []


def test_two_browsers_simulating_at_once_get_their_own_results(browser, live_app):
    """Two users (browser contexts) press Run at the same time with different stimuli; each
    sees the simulation of its own inputs."""
    pages, errors = [], []
    contexts = [browser.new_context() for _ in range(2)]
    for ctx in contexts:
        p = ctx.new_page()
        p.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        p.on("pageerror", lambda exc: errors.append(str(exc)))
        open_simulate(p, live_app, "?duration=2")
        pages.append(p)
    a, b = pages
    a.locator(pid(index=0, key="amp", type="simulate-stim-par")).fill("1500")
    b.fill("#simulate-ablate", "PVC")
    b.locator(pid(index=0, key="amp", type="simulate-stim-par")).fill("500")
    for p in pages:
        p.keyboard.press("Tab")
    a.click("#simulate-run")
    b.click("#simulate-run")
    for p in pages:
        wait_new_run(p, "simulate-traces", None)
    cook = connectome.load("cook2019")
    for p, amp, ablate, n in ((a, 1500.0, [], 302), (b, 500.0, ["PVC"], 300)):
        expect(p.locator("#simulate-status")).to_contain_text(f"{n} neurons")
        ref = simulate(
            compile_circuit(cook, "graded", ablate=ablate), step("PLM", amp), duration=2.0,
            record_every=10,
        )  # fmt: skip
        trace = plotted(p, "simulate-traces")["traces"][0]
        assert trace["name"] == "PLML"
        y = np.array(trace["y"])
        k = np.rint((trace["x0"] + trace["dx"] * np.arange(len(y))) / 1e-3).astype(int)
        np.testing.assert_allclose(y, ref.trace("PLML")[k], rtol=1e-5, atol=1e-3)
    for ctx in contexts:
        ctx.close()
    assert errors == []


def test_time_from_run_to_traces_cook2019(page, live_app, console_errors, timings):
    """5 s of the graded model on the whole Cook 2019 connectome (measured, not asserted).
    Each run changes the amplitude, so the simulation runs every time while the compiled
    connectome comes from the cache."""
    sizes = {}

    def on_response(response):
        if "_dash-update-component" not in response.url:
            return
        try:
            output = json.loads(response.request.post_data or "{}").get("output", "")
        except ValueError:
            return
        for key, marker in (("run", "simulate-result.data"), ("results", "simulate-heatmap")):
            if marker in output:
                try:
                    sizes.setdefault(key, []).append(len(response.body()))
                except Exception:  # the page moved on before the body was read
                    pass

    page.on("response", on_response)
    open_simulate(page, live_app)
    expect(page.locator("#simulate-duration")).to_have_value("5")
    amp = page.locator(pid(index=0, key="amp", type="simulate-stim-par"))
    times, old = [], None
    for i in range(4):
        amp.fill(str(2000 + i))
        page.keyboard.press("Tab")
        page.evaluate(
            "() => document.getElementById('simulate-run').addEventListener('click',"
            " () => { window.__runClick = performance.now(); }, {once: true})"
        )
        page.click("#simulate-run")
        drawn = wait_new_run(page, "simulate-traces", old)
        times.append(drawn - page.evaluate("window.__runClick"))
        old = wait_results(page, old)
    expect(page.locator("#simulate-status")).to_contain_text("302 neurons")
    expect(page.locator("#simulate-status")).to_contain_text("50,000 steps")
    timings["run_to_traces_ms"] = [round(x) for x in times]
    timings["run_to_traces_median_ms"] = round(statistics.median(times))
    for key, values in sizes.items():
        timings[f"{key}_response_bytes"] = values[-1]
    assert console_errors == []


def test_a_long_run_is_a_background_job(page, live_app, console_errors):
    """12 s of the graded model on Cook 2019 (36 M neuron-steps, over simulation.LONG_RUN)
    runs as a background job with progress; what it draws is the simulator's run."""
    open_simulate(page, live_app)
    page.fill("#simulate-duration", "12")
    page.keyboard.press("Tab")
    old = page.evaluate(RUN_OF, "simulate-traces")
    page.click("#simulate-run")
    expect(page.locator("#simulate-job-progress")).to_contain_text(
        "Simulating in the background", timeout=60_000
    )
    expect(page.locator("#simulate-run")).to_be_disabled()
    wait_new_run(page, "simulate-traces", old, timeout=240_000)
    wait_results(page, old)
    status = page.locator("#simulate-status")
    expect(status).to_contain_text("120,000 steps")
    expect(status).to_contain_text("in the background")
    expect(page.locator("#simulate-run")).to_be_enabled()
    expect(page.locator("#simulate-job-progress")).to_have_text("")
    cc = compile_circuit(connectome.load("cook2019"), "graded")
    ref = simulate(cc, step("PLM", 2000.0), duration=12.0, dt=1e-4, record_every=10)
    plm = plotted(page, "simulate-traces")["traces"][0]
    assert plm["name"] == "PLML"
    y = np.array(plm["y"])
    k = np.rint((plm["x0"] + plm["dx"] * np.arange(len(y))) / 1e-3).astype(int)
    np.testing.assert_allclose(y, ref.trace("PLML")[k], rtol=1e-5, atol=1e-3)
    assert console_errors == []

"""The Explore page in a real browser (Debian chromium via pytest-playwright).

What is drawn and listed is checked against the connectome API. The time to the first
render of the full Cook 2019 graph and of a dataset switch is measured (not asserted)
and written to tests/browser/artifacts/explore-timings.json.
"""

import csv
import io
import itertools
import json
import math
from pathlib import Path

import pytest
from playwright.sync_api import expect

import connectome
from webapp import network

ARTIFACTS = Path(__file__).parent / "artifacts"
MAX_PARTNERS = 12  # rows per partner table in the panel (webapp.pages.explore.MAX_PARTNERS)

CY = "document.getElementById('explore-graph')._cyreg.cy"
COUNTS = f"""() => {{
    const el = document.getElementById('explore-graph');
    if (!el || !el._cyreg || !el._cyreg.cy) return null;
    const cy = {CY};
    return {{nodes: cy.nodes().length, chem: cy.edges('.chem').length,
             gap: cy.edges('.gap').length, path: cy.edges('.path').length}};
}}"""
READY = "() => { const c = (" + COUNTS + ")(); return c !== null && c.nodes > 0; }"
AFTER_PAINT = (
    "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame("
    "() => r(performance.now()))))"
)


@pytest.fixture(autouse=True)
def generous_expect_timeout():
    """Expectations wait up to 30 s: a loaded 2-core machine takes seconds per update."""
    expect.set_options(timeout=30_000)
    yield
    expect.set_options(timeout=5_000)  # playwright's default


@pytest.fixture(scope="session")
def timings():
    """Measured times (ms), written to the artifacts folder at the end of the session."""
    found = {}
    yield found
    if found:
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "explore-timings.json").write_text(json.dumps(found, indent=2))
        print("\nExplore timings (ms):", json.dumps(found))


def api_counts(dataset="cook2019", min_chem=1.0, min_gap=1.0):
    """Chemical and gap-junction edges between neurons at these thresholds (the API)."""
    c = connectome.load(dataset)
    e = c.neuron_edges
    chem = int(((e["kind"] == "chemical") & (e["weight"] >= min_chem)).sum())
    gap = int(((e["kind"] == "electrical") & (e["weight"] >= min_gap)).sum())
    return {"nodes": len(c.neurons), "chem": chem, "gap": gap}


def counts(page):
    return page.evaluate(COUNTS)


def wait_for_counts(page, expected, timeout=90_000):
    """Wait until the drawn graph has the expected counts; fail showing what is drawn."""
    keys = json.dumps(expected)
    check = f"""() => {{ const c = ({COUNTS})(); const e = {keys};
        return c !== null && Object.keys(e).every(k => c[k] === e[k]); }}"""
    try:
        page.wait_for_function(check, timeout=timeout)
    except Exception as err:
        raise AssertionError(f"drawn {counts(page)}, expected {expected}") from err


def open_explore(page, url, query=""):
    """Open the Explore page (``url`` is the app's root, or a full link when query is "")."""
    page.goto(url + "/" + query if query else url)
    page.wait_for_function(READY, timeout=30_000)
    return page.evaluate(AFTER_PAINT)


def choose(page, dropdown_id, text, before_click=None):
    """Pick the option containing ``text`` in a Dash dropdown (``before_click`` runs in the
    page once the menu is open)."""
    page.click(f"#{dropdown_id}")
    option = page.locator(".dash-dropdown-option", has_text=text).first
    option.wait_for()
    if before_click:
        page.evaluate(before_click)
    option.click()
    page.keyboard.press("Escape")


def search(page, typed):
    page.click("#explore-search")
    page.keyboard.type(typed)
    first = page.locator(".dash-dropdown-option").first
    expect(first).to_contain_text(typed, ignore_case=True)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")


def panel_rows(page, direction):
    """The rows of a partner table, those behind its "show all" expander included."""
    rows = page.locator(f'#explore-panel .wl-partners[data-direction="{direction}"] tbody tr')
    out = []
    for text in rows.all_inner_texts():
        parts = text.split()
        if len(parts) == 2 and parts[0] not in ("…", "none"):
            out.append((parts[0], float(parts[1])))
    return out


def messages(page):
    return " ".join(page.locator(".wl-message").all_inner_texts())


def test_search_aval_shows_its_partners_as_the_api_lists_them(
    page, live_app, console_errors, shot, timings
):
    loads = []
    for _ in range(3):  # a cold load, then two with the browser's caches warm
        page.goto("about:blank")
        loads.append(round(open_explore(page, live_app + "/?edges=all")))
        wait_for_counts(page, api_counts())
    timings["first_render_cook2019_ms"] = loads
    shot("full-cook2019")

    search(page, "aval")
    expect(page.locator("#explore-panel h3").first).to_have_text("AVAL")
    partners = connectome.partners(connectome.load("cook2019"), "AVAL")
    for direction in ("in", "out", "gap"):
        rows = partners[partners["direction"] == direction]
        expected = list(zip(rows["partner"], rows["weight"].astype(float), strict=True))
        if len(expected) > MAX_PARTNERS:  # the rest behind "show all": open it, see them all
            more = page.locator(f'#explore-panel details:has([data-direction="{direction}"])')
            expect(more.locator(".wl-partners tr").last).to_be_hidden()
            more.locator("summary").click()
            expect(more.locator(".wl-partners tr").last).to_be_visible()
        assert panel_rows(page, direction) == expected, direction
    facts = page.locator("#explore-panel dl")
    expect(facts).to_contain_text("Anterior Ventral Process A Left")
    aval = connectome.load("cook2019").neurons.loc["AVAL"]
    terms = facts.locator("dt").all_inner_texts()
    values = dict(zip(terms, facts.locator("dd").all_inner_texts(), strict=True))
    assert values["full name"] == aval["full_name"] == "Anterior Ventral Process A Left"
    assert values["lineage"] == aval["lineage"] == "AB alppaaapa"
    assert values["category"] == aval["category"] == "Layer 1 interneuron"
    assert values["ganglion"] == "not in wormlab's sources (cect, c302)"
    panel = page.locator("#explore-panel").inner_text()
    for fact in ("AVA", "interneuron", "ACh", "position", "Ventral cord interneuron"):
        assert fact in panel
    # highlighted on the graph: the selection outlined, a partner undimmed, others dimmed
    stranger = next(n for n in connectome.load("cook2019").neurons.index
                    if n != "AVAL" and n not in set(partners["partner"]))  # fmt: skip
    style = page.evaluate(
        f"() => {{ const cy = {CY}; return [cy.$id('AVAL').style('border-width'),"
        f" cy.$id('PVCL').style('opacity'), cy.$id('{stranger}').style('opacity')]; }}"
    )
    assert style[0] == "3px" and float(style[1]) == 1 and float(style[2]) < 1
    # clicking a partner in the panel selects it
    first_out = partners.loc[partners["direction"] == "out", "partner"].iloc[0]
    page.locator('#explore-panel .wl-partners[data-direction="out"] button').first.click()
    expect(page.locator("#explore-panel h3").first).to_have_text(first_out)
    shot("aval")
    assert console_errors == []


def test_thresholds_change_the_drawn_edges_as_the_api_counts(page, live_app, console_errors, shot):
    open_explore(page, live_app, "?edges=all")
    page.fill("#explore-min-chem", "5")
    page.press("#explore-min-chem", "Enter")
    wait_for_counts(page, api_counts(min_chem=5))
    page.fill("#explore-min-gap", "10")
    page.press("#explore-min-gap", "Enter")
    expected = api_counts(min_chem=5, min_gap=10)
    wait_for_counts(page, expected)
    summary = page.locator("#explore-summary")
    expect(summary).to_contain_text(f"{expected['chem']} chemical synapses")
    expect(summary).to_contain_text(f"{expected['gap']} gap junctions")
    assert "chem=5" in page.url and "gap=10" in page.url
    shot("thresholds")
    # neighbourhood of the selection: only AVAL's partners over the drawn edges
    search(page, "aval")
    choose(page, "explore-show", "selection + 1 hop")
    c = connectome.load("cook2019")
    nodes, edges = connectome.filter_network(
        c, min_chemical=5, min_electrical=10, focus=["AVAL"], hops=1
    )
    chem = int((edges["kind"] == "chemical").sum())
    wait_for_counts(page, {"nodes": len(nodes), "chem": chem, "gap": len(edges) - chem})
    shot("aval-1-hop")
    # clicking a node on the graph selects it
    box = page.locator("#explore-graph").bounding_box()
    name, at = page.evaluate(
        f"""() => {{ const cy = {CY}; const nodes = cy.nodes().not('#AVAL');
        const apart = nodes.filter(n => nodes.every(m => m === n ||
            Math.hypot(m.renderedPosition().x - n.renderedPosition().x,
                       m.renderedPosition().y - n.renderedPosition().y) > 25));
        const n = apart[0]; return [n.id(), n.renderedPosition()]; }}"""
    )
    page.mouse.click(box["x"] + at["x"], box["y"] + at["y"])
    expect(page.locator("#explore-panel h3").first).to_have_text(name)
    assert console_errors == []


def test_path_finder_draws_and_lists_the_strongest_paths(page, live_app, console_errors, shot):
    open_explore(page, live_app)
    page.fill("#explore-path-from", "PLM")
    page.fill("#explore-path-to", "AVA")
    page.click("#explore-path-go")
    c = connectome.load("cook2019")
    rows = connectome.strongest_paths(c, "PLM", "AVA", n=5)
    items = page.locator("#explore-path-list li .wl-path")
    expect(items).to_have_text([" → ".join(r["path"]) for r in rows])
    # what the list is ranked by is shown: the cost, in rank order
    expect(page.locator("#explore-path-list")).to_contain_text("Σ 1/weight")
    shown = [float(c) for c in page.locator("#explore-path-list li").evaluate_all(
        "els => els.map(e => e.dataset.cost)")]  # fmt: skip
    assert shown == [r["cost"] for r in rows] == sorted(shown)
    for li, r in zip(page.locator("#explore-path-list li").all(), rows, strict=True):
        expect(li).to_contain_text(f"cost {r['cost']:.3g}")
    pairs = {pair for r in rows for pair in itertools.pairwise(r["path"])}
    wait_for_counts(page, {"path": len(pairs)})
    shot("strongest-paths")

    page.locator("#explore-path-mode label", has_text="fewest synapses").click()
    rows = connectome.shortest_paths(c, "PLM", "AVA", n=5)
    expect(items).to_have_text([" → ".join(r["path"]) for r in rows])

    page.fill("#explore-path-to", "AVX")
    page.press("#explore-path-to", "Enter")
    expect(page.locator("#explore-path-list")).to_contain_text("unknown neuron 'AVX'")
    wait_for_counts(page, {"path": 0})

    open_explore(page, live_app, "?dataset=varshney2011&from=AVA&to=VC6")
    expect(page.locator("#explore-path-list")).to_contain_text("No path from AVA to VC6")
    shot("no-path")
    assert console_errors == []


def test_dataset_switch_and_a_copied_link_reopens_the_same_view(
    page, live_app, console_errors, shot, timings
):
    open_explore(page, live_app, "?edges=all")
    wait_for_counts(page, api_counts())
    mark = "() => { window.__switch = performance.now(); }"
    for option, key in [("witvliet2021_8", "witvliet2021_8"), ("cook2019 ", "cook2019")]:
        choose(page, "explore-dataset", option, before_click=mark)
        wait_for_counts(page, api_counts(key))
        took = page.evaluate(AFTER_PAINT) - page.evaluate("() => window.__switch")
        timings.setdefault("dataset_switch_ms", {})[key] = round(took)

    choose(page, "explore-dataset", "witvliet2021_8")
    page.locator("#explore-level label", has_text="classes").click()
    page.locator("#explore-view label", has_text="layered").click()
    page.locator("#explore-color label", has_text="transmitter").click()
    page.fill("#explore-min-chem", "3")
    page.press("#explore-min-chem", "Enter")
    search(page, "AVA")
    expect(page.locator("#explore-panel h3").first).to_have_text("AVA")
    # a class: the words its members' full names share; no one lineage
    expect(page.locator("#explore-panel dl")).to_contain_text("Anterior Ventral Process A")
    expect(page.locator("#explore-panel dl")).to_contain_text("one per member neuron")
    classes = connectome.load("witvliet2021_8").to_classes()
    nodes, edges = connectome.filter_network(classes, min_chemical=3)
    chem = int((edges["kind"] == "chemical").sum())
    expected = {"nodes": len(nodes), "chem": chem, "gap": len(edges) - chem}
    wait_for_counts(page, expected)
    page.wait_for_function("() => window.location.search.includes('select=AVA')")
    link = page.url
    for part in ("dataset=witvliet2021_8", "level=class", "view=layered", "chem=3"):
        assert part in link
    # the navigation bar's Explore link comes back to this view from the other pages
    nav = page.get_attribute("#app-nav-explore", "href")
    assert nav.endswith(link[link.index("?") :])
    positions = f"() => Object.fromEntries({CY}.nodes().map(n => [n.id(), n.position()]))"
    before = page.evaluate(positions)
    shot("before-reload")

    page.goto("about:blank")
    open_explore(page, link)
    wait_for_counts(page, expected)
    expect(page.locator("#explore-panel h3").first).to_have_text("AVA")
    expect(page.locator("#explore-dataset")).to_contain_text("witvliet2021_8")
    assert page.locator("#explore-level input[value=class]").is_checked()
    assert page.locator("#explore-color input[value=transmitter]").is_checked()
    assert page.input_value("#explore-min-chem") == "3"
    after = page.evaluate(positions)
    assert after == before
    shot("after-reload")
    assert console_errors == []


def test_compare_mode_and_adjacency_heatmap(page, live_app, console_errors, shot):
    open_explore(page, live_app, "?dataset=witvliet2021_1&compare=witvliet2021_8")
    a, b = connectome.load("witvliet2021_1"), connectome.load("witvliet2021_8")
    table = connectome.compare(a, b)
    expected = table["change"].value_counts().to_dict()
    drawn = page.evaluate(
        f"() => {{ const cy = {CY}; const out = {{}};"
        " for (const k of ['gained', 'lost', 'changed', 'same'])"
        " out[k] = cy.edges('.' + k).length; return out; }"
    )
    assert drawn == {k: expected.get(k, 0) for k in drawn}
    expect(page.locator("#explore-summary")).to_contain_text(f"{expected['gained']} gained")
    shot("compare")

    page.locator("#explore-tab label", has_text="Adjacency matrix").click()
    plot = page.locator("#explore-heatmap-graph .js-plotly-plot")
    expect(plot).to_be_visible(timeout=20_000)
    nodes, _ = connectome.filter_network(a, compare_to=b)
    axes = page.evaluate(
        "() => { const d = document.querySelector('#explore-heatmap-graph .js-plotly-plot')"
        "._fullData[0]; return [d.x.length, d.y.length, d.z.length]; }"
    )
    assert axes == [len(nodes)] * 3
    assert "tab=heatmap" in page.url
    shot("heatmap")
    assert console_errors == []


def test_bad_input_gets_a_message_not_a_crash(page, live_app, console_errors, shot):
    open_explore(page, live_app, "?dataset=nope&select=FOO&show=1&chem=abc&view=top&edges=all")
    text = messages(page)
    for part in ("unknown dataset 'nope'", "unknown neuron 'FOO'", "Select a neuron", "'abc'"):
        assert part in text, text
    wait_for_counts(page, api_counts())
    for t in network.NEURON_TYPES:
        page.locator("#explore-types label", has_text=t).click()
    expect(page.locator("#explore-message")).to_contain_text("No synapse passes")
    wait_for_counts(page, {"nodes": 0})
    shot("messages")
    assert console_errors == []


def test_exports_and_use_as_circuit(page, live_app, console_errors, shot):
    open_explore(page, live_app, "?select=AVAL&show=1&chem=10&gap=10")
    c = connectome.load("cook2019")
    nodes, edges = connectome.filter_network(
        c, min_chemical=10, min_electrical=10, focus=["AVAL"], hops=1
    )
    wait_for_counts(page, {"nodes": len(nodes)})
    with page.expect_download() as info:
        page.click("#explore-export-csv")
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text())))
    assert len(rows) == len(edges)
    assert {(r["pre"], r["post"], r["kind"]) for r in rows} == set(
        zip(edges["pre"], edges["post"], edges["kind"], strict=True)
    )
    with page.expect_download() as info:
        page.click("#explore-export-png")
    assert Path(info.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    page.click("#explore-use-circuit")
    page.wait_for_url("**/circuit")
    stored = json.loads(page.evaluate("() => window.sessionStorage.getItem('store-selection')"))
    assert stored == {"dataset": "cook2019", "level": "neuron", "names": nodes}
    shot("circuit-page")
    assert console_errors == []


def test_search_suggests_for_typos_and_keeps_the_selection_across_datasets(
    page, live_app, console_errors, shot
):
    open_explore(page, live_app)
    # a typo: the closest names, as the path finder and the URL suggest them
    page.click("#explore-search")
    page.keyboard.type("AVLA")
    suggested = connectome.load("cook2019").names.suggest("AVLA")
    options = page.locator(".dash-dropdown-option")
    expect(options.first).to_contain_text("did you mean?", timeout=20_000)
    expect(options.first).to_contain_text(suggested[0])
    options.first.click()
    page.keyboard.press("Escape")
    expect(page.locator("#explore-panel h3").first).to_have_text("AVAL")
    # the selection's own edges have their own colours, named in the legend
    legend = page.locator("#explore-legend")
    expect(legend).to_contain_text("input to the selection")
    expect(legend).to_contain_text("output of the selection")
    # (the whole network draws the selection's edges once it is selected)
    inputs = f"{CY}.edges('.chem[target = \"AVAL\"]')"
    page.wait_for_function(f"() => {inputs}.length > 0", timeout=30_000)
    colour = page.evaluate(f"() => {inputs}[0].style('line-color')")
    assert colour == "rgb(51,34,136)"  # SELECTION_EDGE_COLORS["input to the selection"]
    shot("typo-suggestion")
    # switching dataset keeps the neurons the new one has and names the others
    open_explore(page, live_app, "?select=AVAL,CANL")
    choose(page, "explore-dataset", "witvliet2021_8")
    note = page.locator("#explore-select-message")
    expect(note).to_contain_text("Not in witvliet2021_8: CANL; kept AVAL", timeout=20_000)
    expect(page.locator("#explore-panel h3")).to_have_text(["AVAL"])
    # at class level a member's name finds its class, as ?level=class&select=rimr does
    open_explore(page, live_app, "?level=class")
    page.click("#explore-search")
    page.keyboard.type("rimr")
    expect(page.locator(".dash-dropdown-option")).to_have_text(["RIM · interneuron"])
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    expect(page.locator("#explore-panel h3").first).to_have_text("RIM")
    assert console_errors == []


def test_a_slow_level_switch_cannot_lose_a_neuron_picked_from_the_old_names(
    page, live_app, console_errors, shot
):
    """Until the search box has the names of the new level, it takes no pick: a name picked
    from the old list (AVAL, at class level) would be dropped when the new list lands. The
    new names are held back here, as a busy server would, until the box has been tried."""
    open_explore(page, live_app)
    held = []

    def hold_the_new_names(route):
        body = route.request.post_data or ""
        if "explore-dataset-note.children" in body:  # the callback that sends the names
            held.append(route)
        else:
            route.continue_()

    page.route("**/_dash-update-component*", hold_the_new_names)
    page.locator("#explore-level label", has_text="classes").click()
    page.wait_for_function("() => document.getElementById('explore-search').disabled")
    box = page.locator("#explore-search")
    expect(box).to_be_disabled()
    expect(box).to_contain_text("Loading the names")
    # what a user would do: click the box and pick the first AVA name
    page.locator("#explore-search").click(force=True)
    page.keyboard.type("AVAL")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    assert page.locator(".dash-dropdown-option").count() == 0  # nothing offered
    shot("search-disabled-while-loading")
    for _ in range(300):  # the request reaches the route handler as playwright's events run
        if held:
            break
        page.wait_for_timeout(100)
    assert len(held) == 1, "the names' request was never sent"
    held[0].continue_()
    page.unroute("**/_dash-update-component*")
    expect(box).to_be_enabled()
    expect(box).to_contain_text("Search a neuron or class")
    page.click("#explore-search")
    page.keyboard.type("AVAL")  # at class level, a member's name finds its class
    expect(page.locator(".dash-dropdown-option")).to_have_text(["AVA · interneuron"])
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    expect(page.locator("#explore-panel h3")).to_have_text(["AVA"])
    page.wait_for_function("() => window.location.search.includes('select=AVA')")
    assert console_errors == []


INSIDE = """(sel) => {
    const box = document.querySelector('#explore-heatmap-box').getBoundingClientRect();
    const out = [];
    for (const el of document.querySelectorAll(sel)) {
        const r = el.getBoundingClientRect();
        if (r.width === 0) continue;
        if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1
            || r.bottom > box.bottom + 1 || r.bottom > window.innerHeight + 1)
            out.push([el.textContent, r.left, r.top, r.right, r.bottom]);
    }
    return {outside: out, box: [box.left, box.top, box.right, box.bottom]};
}"""


def test_heatmap_fits_a_900px_window_and_the_graph_refits_on_resize(
    page, live_app, console_errors, shot
):
    page.set_viewport_size({"width": 1400, "height": 900})
    open_explore(page, live_app, "?tab=heatmap")
    expect(page.locator("#explore-heatmap-graph .js-plotly-plot")).to_be_visible(timeout=30_000)
    page.wait_for_selector("#explore-heatmap-graph .xtitle")
    for what in (".gtitle", ".xtitle", ".ytitle", ".xtick text", ".ytick text", ".annotation"):
        found = page.evaluate(INSIDE, f"#explore-heatmap-graph {what}")
        assert found["outside"] == [], (what, found)
    shot("heatmap-900")

    page.locator("#explore-tab label", has_text="Network").click()
    fitted = f"""() => {{ const cy = {CY}; const bb = cy.nodes().boundingBox();
        const e = cy.extent(); const w = cy.width();
        return bb.x1 >= e.x1 - 1 && bb.x2 <= e.x2 + 1 && bb.y1 >= e.y1 - 1 && bb.y2 <= e.y2 + 1
            && (bb.w * cy.zoom() > 0.8 * (w - 48) || bb.h * cy.zoom() > 0.8 * (cy.height() - 48));
    }}"""
    page.wait_for_function(fitted, timeout=20_000)
    zoom = page.evaluate(f"() => {CY}.zoom()")
    page.set_viewport_size({"width": 900, "height": 700})  # the graph box narrows
    page.wait_for_function(f"() => {CY}.zoom() < {zoom} * 0.95", timeout=20_000)
    page.wait_for_function(fitted, timeout=20_000)
    page.set_viewport_size({"width": 1600, "height": 900})  # and widens again
    page.wait_for_function(f"() => {CY}.zoom() > {zoom}", timeout=20_000)
    page.wait_for_function(fitted, timeout=20_000)
    shot("refit-wide")
    assert console_errors == []


def test_default_view_is_readable_and_draws_a_bounded_number_of_edges(
    page, live_app, console_errors, shot
):
    page.set_viewport_size({"width": 1400, "height": 900})
    open_explore(page, live_app)
    c = connectome.load("cook2019")
    expect(page.locator("#explore-view input[value=schematic]")).to_be_checked()
    # the whole network without a selection: every neuron, no edge (the summary says why)
    wait_for_counts(page, {"nodes": len(c.neurons), "chem": 0, "gap": 0})
    expect(page.locator("#explore-summary")).to_contain_text("0 drawn (none: select a neuron")
    # at the default zoom the labels are drawn (cytoscape hides those under 7 px)
    shown = page.evaluate(
        f"() => {{ const cy = {CY}; const n = cy.nodes()[0];"
        " return cy.zoom() * parseFloat(n.style('font-size')) >= n.style('min-zoomed-font-size')"
        ".replace('px', '') * 1; }"
    )
    assert shown
    shot("schematic-default")
    # a selection draws its own synapses only: bounded by its degree
    search(page, "aval")
    e = c.neuron_edges
    touching = e[(e["pre"] == "AVAL") | (e["post"] == "AVAL")]
    chem = int((touching["kind"] == "chemical").sum())
    wait_for_counts(page, {"chem": chem, "gap": len(touching) - chem})
    shot("schematic-aval")
    # and every edge on request
    page.locator("#explore-edges label", has_text="all").click()
    wait_for_counts(page, api_counts())
    assert "edges=all" in page.url
    assert console_errors == []


def test_a_phone_width_page_is_readable(page, live_app, console_errors, shot):
    page.set_viewport_size({"width": 390, "height": 844})
    open_explore(page, live_app, "?select=AVAL")
    expect(page.locator("#explore-panel h3").first).to_have_text("AVAL")
    overflow = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth]"
    )
    assert max(overflow[:2]) <= overflow[2] == 390, overflow
    box = page.locator("#explore-graph").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert box["width"] > 300 and box["height"] > 300, box
    # the graph is drawn inside its box: every node within the visible extent
    inside = f"""() => {{ const cy = {CY}; const bb = cy.nodes().boundingBox();
        const e = cy.extent(); return bb.x1 >= e.x1 - 1 && bb.x2 <= e.x2 + 1
            && bb.y1 >= e.y1 - 1 && bb.y2 <= e.y2 + 1; }}"""
    page.wait_for_function(inside, timeout=20_000)
    # nothing on the page is wider than the screen, the controls below included
    wide = page.evaluate(
        "() => [...document.querySelectorAll('#explore-page *')].filter(el => {"
        " const r = el.getBoundingClientRect(); return r.width > 0 && r.right > 391; })"
        ".map(el => [el.closest('[id]').id, el.className, el.textContent.slice(0, 30),"
        " el.getBoundingClientRect().right]).slice(0, 5)"
    )
    assert wide == []
    shot("phone")
    assert console_errors == []


def test_body_wall_muscles_option_shows_the_selection_s_junctions(
    page, live_app, console_errors, shot
):
    from sim.muscles import neuromuscular_map

    open_explore(page, live_app, "?select=DB3,VB3,AVAL")
    assert page.locator("#explore-muscles-graph").count() == 0  # off by default
    page.locator("#explore-muscles label").click()
    plot = page.locator("#explore-muscles-graph .js-plotly-plot")
    expect(plot).to_be_visible(timeout=60_000)
    drawn = page.evaluate(
        "() => { const d = document.querySelector('#explore-muscles-graph .js-plotly-plot')"
        "._fullData[0]; return {x: d.x, y: d.y, z: d.z}; }"
    )
    nmj = neuromuscular_map()
    assert drawn["x"] == list(nmj.muscles)
    assert drawn["y"] == ["DB3", "VB3"]  # AVAL makes no neuromuscular junction
    for row, name in zip(drawn["z"], drawn["y"], strict=True):
        row = [0.0 if v is None or math.isnan(v) else v for v in row]  # gaps: no junction
        assert sum(row) == nmj.counts[:, nmj.neurons.index(name)].sum(), name
        dorsal = [v for v, m in zip(row, drawn["x"], strict=True) if v and m.startswith("MD")]
        assert bool(dorsal) == name.startswith("DB")
    shot("muscles")
    page.locator("#explore-muscles label").click()
    expect(page.locator("#explore-muscles-graph")).to_have_count(0, timeout=60_000)
    assert console_errors == []

"""Hardening of the connectome layer (issue 11): every file, query and command line bounded.

Each case the issue lists is a named test; hypothesis then feeds generated bad wiring files to
every loader and bad argument vectors to every ``python -m connectome`` command, and checks
that only a WormlabError (or a one-line exit) ever comes out.
"""

import contextlib
import io as stdio
import itertools
import json
import subprocess
import sys

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import connectome
from connectome import Circuit, QueryError, WiringFormatError, WormlabError, io, limits, load
from connectome.__main__ import main

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def cook():
    return load("cook2019")


@pytest.fixture(scope="module")
def wiring(cook):
    """A small valid wiring file (as data) to break."""
    return io.to_dict(Circuit.from_neurons(cook, "PLM PVC AVA AVB"))


def _with_synapse(wiring, **fields):
    data = json.loads(json.dumps(wiring))
    data["synapses"][0].update(fields)
    return data


# ------------------------------------------------------------------ wiring files
def test_50000_deep_json_is_a_wiring_format_error():
    deep = "[" * 50_000 + "]" * 50_000
    with pytest.raises(WiringFormatError, match="nested 50,000 levels deep; the limit is 64"):
        io.from_json(deep)
    # brackets inside strings do not count, and cannot hide real ones either
    hidden = '["' + "]" * 60_000 + '", ' + "[" * 50_000
    with pytest.raises(WiringFormatError, match="nested 50,001 levels deep"):
        io.parse_json(hidden)
    assert io.parse_json('["[[[[", "\\\\", "\\"[["]') == ["[[[[", "\\", '"[[']


def test_deep_operations_handed_over_as_data_are_refused(wiring):
    deep = []
    for _ in range(100):
        deep = [deep]
    data = dict(wiring, operations=[{"op": "add", "names": deep}])
    with pytest.raises(WiringFormatError, match="file.operations is nested more than 64"):
        io.from_dict(data)


def test_deep_json_inside_graphml_operations(wiring):
    text = io.to_graphml(io.from_dict(wiring))
    deep = "[" * 5_000 + "]" * 5_000
    g = nx.read_graphml(stdio.BytesIO(text.encode()), force_multigraph=True)
    g.graph["operations"] = deep
    buf = stdio.BytesIO()
    nx.write_graphml(g, buf)
    with pytest.raises(WiringFormatError, match="graph attribute 'operations' is nested 5,000"):
        io.from_graphml(buf.getvalue())


def test_5000_digit_integer_is_refused(wiring):
    text = json.dumps(wiring).replace('"version": 1', '"version": ' + "9" * 5000)
    with pytest.raises(WiringFormatError, match="a number of 5,000 digits; .* at most 40"):
        io.from_json(text)


def test_non_utf8_bytes_are_a_clear_error(wiring):
    raw = json.dumps(wiring).encode().replace(b"PLML", b"PL\xffL", 1)
    for read in (io.from_json, io.from_csv, io.from_graphml):
        with pytest.raises(WiringFormatError, match="not UTF-8 text: byte 0xff at offset"):
            read(raw)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_are_refused(wiring, literal):
    text = json.dumps(_with_synapse(wiring, weight=12345.5)).replace("12345.5", literal)
    with pytest.raises(WiringFormatError, match="finite number"):
        io.from_json(text)


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"weight": 1e308}, r"synapses\[0\].weight: bad value 1e\+308 \(weights must be finite, "
                            r"> 0 and <= 1e\+06\)"),
        ({"weight": float("nan")}, r"synapses\[0\].weight: bad value nan"),
        ({"weight": 0}, r"synapses\[0\].weight: bad value 0 "),
        ({"weight": -3.0}, r"synapses\[0\].weight: bad value -3.0 "),
        ({"sign": 0}, r"synapses\[0\].sign: bad value 0 \(use 1 or -1\)"),
        ({"sign": 1.0}, r"synapses\[0\].sign must be int, got float 1.0"),
        ({"sign": True}, r"synapses\[0\].sign must be int, got bool True"),
        ({"pre": "x" * 10_000}, r"synapses\[0\].pre: 'x+… \(10,002 characters\) is not among"),
    ],
)  # fmt: skip
def test_absurd_synapse_values_name_the_field_and_range(wiring, fields, message):
    with pytest.raises(WiringFormatError, match=message):
        io.from_dict(_with_synapse(wiring, **fields))


def test_file_size_limit():
    with pytest.raises(WiringFormatError, match="file too large: 5,000,001 bytes"):
        io.from_json(b" " * 5_000_001)
    with pytest.raises(WiringFormatError, match="expected the file's text or bytes, got int"):
        io.from_json(7)


@pytest.mark.parametrize(
    "key, most", [("neurons", limits.MAX_NEURONS), ("synapses", limits.MAX_SYNAPSES),
                  ("operations", limits.MAX_OPERATIONS)],
)  # fmt: skip
def test_entry_counts_are_bounded(wiring, key, most):
    data = dict(wiring, **{key: [{}] * (most + 1)})
    with pytest.raises(WiringFormatError, match=f"file.{key} has {most + 1:,} entries; the lim"):
        io.from_dict(data)


def test_a_74k_synapse_wiring_imports_whole(cook):
    """The 5 MB file of the issue (its import took 40 s while names were matched by a scan of
    every neuron per synapse end). Time it with benchmarks/bench_wiring_import.py."""
    names = list(cook.neurons.index)
    pairs = list(itertools.islice(itertools.product(names, names), 74_000))
    data = {
        "format": "wormlab-wiring", "version": 1, "dataset": "cook2019", "level": "neuron",
        "neurons": [{"name": n.lower(), "role": "inter", "sign": 1} for n in names],
        "synapses": [{"pre": a, "post": b, "kind": "chemical", "weight": 1, "sign": 1}
                     for a, b in pairs],
        "operations": [],
    }  # fmt: skip
    text = json.dumps(data, separators=(",", ":"))
    assert 4_900_000 < len(text) <= limits.MAX_FILE_BYTES
    circuit = io.from_json(text)
    assert len(circuit) == 302 and len(circuit.edges) == 74_000
    assert set(map(tuple, circuit.edges[["pre", "post"]].to_numpy())) == set(pairs)


def test_csv_with_absurd_weights(cook):
    for weight in ("1e309", "nan", "-1", "abc", "9" * 5000):
        text = f"pre,post,kind,weight\nPLML,AVAL,chemical,{weight}\n"
        with pytest.raises(WiringFormatError, match=r"weight|not a number"):
            io.from_csv(text)


# ----------------------------------------------------------------------- queries
def test_hops_are_bounded(cook):
    with pytest.raises(QueryError, match=r"k \(hops\) must be a whole number in 0 .. 10, got"):
        connectome.neighbourhood(cook, "AVAL", k=10**9)
    with pytest.raises(QueryError, match=r"hops must be a whole number in 0 .. 10"):
        connectome.filter_network(cook, focus=["AVAL"], hops=10**9)
    c = Circuit.from_neurons(cook, "AVA")
    for k in (1e9, -1, 2.5, "3", float("nan")):
        with pytest.raises(connectome.CircuitError, match=r"k \(hops\) must be a whole number"):
            c.apply({"op": "expand", "k": k})
    # every neuron is within the limit of every other: the bound costs no answer
    assert len(connectome.neighbourhood(cook, "AVAL", k=limits.MAX_HOPS)) == 302


def test_path_length_and_count_are_bounded(cook):
    with pytest.raises(QueryError, match=r"max_length \(synapses\) must be .* 1 .. 4, got 6"):
        connectome.all_paths(cook, "PLM", "AVB", max_length=6)
    with pytest.raises(QueryError, match=r"max_length \(synapses\) must be"):
        Circuit.from_neurons(cook, "PLM AVB").add_paths("PLM", "AVB", max_length=6)
    for n in (10**9, 0, -5, 51, 2.5):
        with pytest.raises(QueryError, match=r"n \(number of paths\) must be .* 1 .. 50"):
            connectome.strongest_paths(cook, "PLM", "AVB", n=n)
        with pytest.raises(QueryError, match=r"n \(number of paths\) must be .* 1 .. 50"):
            connectome.shortest_paths(cook, "PLM", "AVB", n=n)


def _strongest_per_pair(net, sources, targets, n, kind=None):
    """The slow, obvious reference: Yen's algorithm once per (source, target) pair."""
    g = connectome.queries.strength_graph(net, kind)
    rows = []
    for s, t in itertools.product(net.resolve(sources), net.resolve(targets)):
        if s != t and nx.has_path(g, s, t):
            for path in itertools.islice(nx.shortest_simple_paths(g, s, t, weight="cost"), n):
                w = [g[a][b]["weight"] for a, b in itertools.pairwise(path)]
                rows.append((sum(1.0 / x for x in w), len(path) - 1, path))
    rows.sort()
    return [r[2] for r in rows[:n]]


@pytest.mark.parametrize(
    "sources, targets, n, kind",
    [("PLM", "AVB", 8, None), ("VA", "DA", 5, None), ("AVA", "AVA AVB", 10, None),
     ("ASH", "AVA", 6, "electrical"), ("AVAL", "PLML", 3, "chemical"), ("AVAL", "AVAL", 3, None)],
)  # fmt: skip
def test_strongest_paths_over_all_pairs_at_once_match_pair_by_pair(cook, sources, targets, n, kind):
    rows = connectome.strongest_paths(cook, sources, targets, n=n, kind=kind)
    assert [r["path"] for r in rows] == _strongest_per_pair(cook, sources, targets, n, kind)


# -------------------------------------------------------------------------- CLI
def _run(argv):
    """``main(argv)`` in-process: (status, stdout, stderr)."""
    out, err = stdio.StringIO(), stdio.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["neuron", "AVAL", "--top", "-1"], "--top: the value must be a whole number in 0 .."),
        (["paths", "PLM", "AVB", "-n", "-5"], "-n: the value must be a whole number in 1 .. 50"),
        (["paths", "PLM", "AVB", "-n", "0"], "-n: the value must be a whole number in 1 .. 50"),
        (["paths", "PLM", "AVB", "-n", "1000000000"], "got 1000000000"),
        (["circuit", "--preset", "tap_withdrawal", "--expand", "-1"], "--expand: the value"),
        (["circuit", "--neurons", "AVA", "--chem-min", "inf"], "--chem-min: the value must be "
                                                               "a finite number in 0 .. 1e+06"),
        (["circuit", "--neurons", "AVA", "--gap-min", "1e309"], "--gap-min: the value must be"),
        (["circuit", "--neurons", "AVA", "--top-k", "abc"], "--top-k: not a number: 'abc'"),
        (["paths", "", ""], "the source is empty; give a neuron or class name"),
        (["paths", "PLM", " "], "the target is empty"),
        (["neuron", "AVLA"], "unknown neuron 'AVLA' in cook2019; did you mean AVAL"),
        (["neuron", "x" * 5000], "unknown neuron 'xxx"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)  # fmt: skip
def test_bad_command_lines_print_one_line(argv, message):
    status, out, err = _run(argv)
    assert status == 2 and out == ""
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    assert len(err) < 400


@pytest.mark.parametrize(
    "where", ["missing/x.json", "a_file/x.json", ".", "/proc/version", "/proc/wormlab.json"]
)
def test_output_that_cannot_be_written(tmp_path, monkeypatch, where):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a_file").write_text("")
    status, out, err = _run(["circuit", "--neurons", "AVA", "-o", where])
    assert status == 2 and out == ""
    assert err.startswith(f"error: cannot write {where!r}: ") and err.count("\n") == 1


def test_a_class_name_lists_its_members(cook):
    status, out, err = _run(["neuron", "AVA", "--top", "1"])
    assert status == 0 and err == ""
    assert out.startswith("AVA is a class of 2 in cook2019: AVAL, AVAR\n")
    assert "AVAL  (cook2019)" in out and "AVAR  (cook2019)" in out
    # the API's message for a class where a neuron is wanted suggests the members
    with pytest.raises(connectome.UnknownNeuronError, match=r"'AVA' .*did you mean AVAL, AVAR\?"):
        cook.names.canonical("AVA")


@pytest.mark.parametrize(
    "argv",
    [["paths", "PLM", "AVB", "-n", "1000000000"], ["neuron", "--top", "-1", "AVAL"],
     ["circuit", "--neurons", "AVA", "-o", "/proc/version"]],
)  # fmt: skip
def test_no_traceback_reaches_the_terminal(argv):
    r = subprocess.run(
        [sys.executable, "-m", "connectome", *argv], capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr and r.stderr.count("\n") == 1


# ------------------------------------------------------------------------- fuzz
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)  # fmt: skip
FIELDS = ["format", "version", "dataset", "level", "neurons", "synapses", "operations"]
ENTRY_FIELDS = ["name", "role", "sign", "pre", "post", "kind", "weight", "op"]
numbers = st.sampled_from(
    ["1e308", "1e309", "-0", "NaN", "Infinity", "9" * 50, "1" * 5000, "0.0", "-1", "1.5", "1"]
)


@st.composite
def bad_wiring_texts(draw, wiring):
    """JSON text of a wiring with one part replaced, a raw mutation, or deep nesting."""
    choice = draw(st.integers(0, 4))
    data = json.loads(json.dumps(wiring))
    if choice == 0:
        data[draw(st.sampled_from(FIELDS))] = draw(json_values)
        return json.dumps(data)
    if choice == 1:
        part = draw(st.sampled_from(["neurons", "synapses"]))
        entry = data[part][draw(st.integers(0, len(data[part]) - 1))]
        entry[draw(st.sampled_from(ENTRY_FIELDS))] = draw(json_values)
        return json.dumps(data)
    if choice == 2:
        text = json.dumps(_with_synapse(wiring, weight=4242.5))
        return text.replace("4242.5", draw(numbers))
    if choice == 3:
        depth = draw(st.integers(0, 3000))
        return draw(st.sampled_from(["[", '{"a":'])) * depth + draw(st.sampled_from(["", "1"]))
    text = json.dumps(data)
    at = draw(st.integers(0, len(text)))
    return text[:at] + draw(st.text(max_size=5)) + text[at + draw(st.integers(0, 5)) :]


@FUZZ
@given(data=st.data())
def test_fuzz_wiring_loaders_raise_only_wiring_format_errors(wiring, data):
    text = data.draw(bad_wiring_texts(wiring))
    raw = data.draw(st.sampled_from([text, text.encode("utf-8", "surrogatepass")]))
    for read in (io.from_json, io.from_csv, io.from_graphml):
        try:
            read(raw)
        except WormlabError:
            pass


@FUZZ
@given(raw=st.binary(max_size=300) | st.text(max_size=300))
def test_fuzz_loaders_on_arbitrary_bytes(raw):
    for read in (io.from_json, io.from_csv, io.from_graphml, io.parse_json):
        try:
            read(raw)
        except WormlabError:
            pass


@FUZZ
@given(data=json_values)
def test_fuzz_from_dict_on_arbitrary_data(data):
    try:
        io.from_dict(data)
    except WormlabError:
        pass


NAMES = ["PLM", "AVAL", "AVA", "ava", "", " ", "AVLA", "x" * 300, "PLM,AVB", "VA", "DVA",
         "\x00", "--", "é"]  # fmt: skip
VALUES = ["-1", "0", "1", "2", "51", "1e9", "1000000000", "inf", "nan", "-inf", "1e309", "abc",
          "", "2.5", "0x10", "9" * 5000]  # fmt: skip
FLAGS = {
    "neuron": ["--top", "--dataset"],
    "paths": ["-n", "--dataset"],
    "circuit": ["--expand", "--chem-min", "--gap-min", "--top-k", "--level", "--format",
                "--ablate", "--sensory", "--motor", "--dataset", "--preset"],
}  # fmt: skip


@st.composite
def argument_vectors(draw):
    command = draw(st.sampled_from(["datasets", "neuron", "paths", "circuit"]))
    argv = [command]
    if command == "neuron":
        argv.append(draw(st.sampled_from(NAMES)))
    elif command == "paths":
        argv += [draw(st.sampled_from(NAMES)), draw(st.sampled_from(NAMES))]
    elif command == "circuit":
        argv += ["--neurons", draw(st.sampled_from(NAMES))]
    for _ in range(draw(st.integers(0, 3))):
        flag = draw(st.sampled_from(FLAGS.get(command, ["--help"])))
        argv += [flag, draw(st.sampled_from(VALUES + NAMES))]
    return argv


@FUZZ
@given(argv=argument_vectors())
def test_fuzz_every_command_line_exits_cleanly(argv):
    status, _out, err = _run(argv)
    assert status in (0, 1, 2), argv
    assert "Traceback" not in err
    if status == 2:
        assert err.count("\n") == 1, (argv, err)


def _shortest_per_pair(net, sources, targets, n, kind=None):
    """The reference: networkx's all_shortest_paths once per (source, target) pair."""
    g = connectome.queries.strength_graph(net, kind)
    rows = []
    for s, t in itertools.product(net.resolve(sources), net.resolve(targets)):
        if s != t and nx.has_path(g, s, t):
            for path in itertools.islice(nx.all_shortest_paths(g, s, t), 50):
                w = [g[a][b]["weight"] for a, b in itertools.pairwise(path)]
                rows.append((len(path) - 1, sum(1.0 / x for x in w), path))
    rows.sort()
    return [r[2] for r in rows[:n]]


def _all_simple(net, sources, targets, max_length, kind=None):
    """The reference: networkx's all_simple_paths from each source."""
    g = connectome.queries.strength_graph(net, kind)
    dst = set(net.resolve(targets))
    return sorted(
        tuple(p) for s in net.resolve(sources)
        for p in nx.all_simple_paths(g, s, dst - {s}, cutoff=max_length)
    )  # fmt: skip


SENSORY_TO_MOTOR = ("ASH AWC PLM ALM AVM PVD", "VA DA VB DB")


@pytest.mark.parametrize(
    "sources, targets, n, kind",
    [("PLM", "AVB", 5, None), ("VA", "DA", 20, None), ("AVA", "AVA AVB", 10, None),
     ("ASH", "AVA", 10, "electrical"), ("AVAL", "PLM", 3, "chemical"),
     (*SENSORY_TO_MOTOR, 50, None)],
)  # fmt: skip
def test_shortest_paths_with_one_search_per_source_match_pair_by_pair(
    cook, sources, targets, n, kind
):
    rows = connectome.shortest_paths(cook, sources, targets, n=n, kind=kind)
    assert [r["path"] for r in rows] == _shortest_per_pair(cook, sources, targets, n, kind)


@pytest.mark.parametrize(
    "sources, targets, max_length, kind",
    [("PLM", "AVA", 2, None), ("PLM", "AVB", 3, "chemical"), ("AVA", "AVA AVB", 3, None),
     ("ASH", "AVA", 4, "electrical"), ("PLM", "PVC AVA AVB", 3, None), ("DVA", "PLML", 3, None)],
)  # fmt: skip
def test_all_paths_pruned_by_distance_match_networkx(cook, sources, targets, max_length, kind):
    rows = connectome.all_paths(cook, sources, targets, max_length=max_length, kind=kind)
    assert sorted(tuple(r["path"]) for r in rows) == _all_simple(
        cook, sources, targets, max_length, kind
    )
    assert len(rows) > 0 or kind == "chemical"


def test_read_bytes_stops_at_the_limit(tmp_path):
    with pytest.raises(WiringFormatError, match="'/dev/zero' is larger than the limit of 5,0"):
        io.read_bytes("/dev/zero")
    for where in (tmp_path, tmp_path / "missing.json"):
        with pytest.raises(WiringFormatError, match=f"cannot read '{where}': "):
            io.read_bytes(where)
    (tmp_path / "w.json").write_bytes(b"[1]")
    assert io.read_bytes(tmp_path / "w.json") == b"[1]"

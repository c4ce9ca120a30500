"""Issue 11 (sim side) and issue 13's controller-file validation: every costly input bounded,
every bad controller file refused with a WormlabError, every bad command line one line.

Each case of the issues is a named regression test; the hypothesis tests feed generated bad
controller files through ``load_controller`` and ``python -m sim evaluate``, and generated bad
argument vectors through every ``python -m sim`` command, and accept only a WormlabError or a
clean exit.
"""

import contextlib
import copy
import io
import json
import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import connectome
from connectome import limits
from connectome.errors import ControllerError, SimulationError, WiringFormatError, WormlabError
from sim.cli import build_parser, main
from sim.compiler import Wiring, compile_circuit
from sim.control import Controller, load_controller
from sim.evaluation import evaluate
from sim.models import default_params
from sim.ranges import ParamRange
from sim.runner import simulate
from sim.stimulus import noise, parse_stimulus, step
from sim.threads import check_threads
from sim.trainer import train

# A command that must fail fast is given this long (a loaded 2-core machine; the hangs of the
# issue never returned at all).
SUBPROCESS_TIMEOUT = 240  # s


def small_wiring():
    import pandas as pd

    edges = pd.DataFrame(
        {
            "pre": ["A", "B"],
            "post": ["B", "C"],
            "kind": ["chemical", "chemical"],
            "weight": [1.0, 2.0],
            "sign": [1, -1],
        }
    )
    return Wiring(["A", "B", "C"], edges, "small")


@pytest.fixture(scope="module")
def ctrl_dict(tw):
    return Controller.from_circuit(tw, "CartPole-v1").to_dict()


@pytest.fixture(scope="module")
def pairs_dict(tw):
    """A controller with the other maps: pairs in, dense out, a Box action."""
    return Controller.from_circuit(
        tw, "MountainCarContinuous-v0", input_map="pairs", pairs={0: ("PLM", "AVM")},
        output_map="dense",
    ).to_dict()  # fmt: skip


@pytest.fixture(scope="module")
def files(tw, ctrl_dict, tmp_path_factory):
    """A valid controller file and a wiring file to run and train from."""
    folder = tmp_path_factory.mktemp("files")
    ctrl = folder / "ctrl.json"
    ctrl.write_text(json.dumps(ctrl_dict))
    wiring = folder / "tw.json"
    wiring.write_text(connectome.io.to_json(tw))
    return {"ctrl": str(ctrl), "wiring": str(wiring), "folder": folder}


def run_cli(argv):
    """(exit code, stderr) of ``python -m sim ARGV`` run in this process."""
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
    return code, err.getvalue()


def assert_one_line_error(code, stderr):
    assert code == 2, f"exit code {code}: {stderr}"
    lines = [x for x in stderr.splitlines() if x.strip()]
    assert len(lines) == 1, stderr
    assert "error" in lines[0] and "Traceback" not in stderr and "internal error" not in stderr


def run_subprocess(argv, cwd=None):
    r = subprocess.run(
        [sys.executable, "-m", "sim", *argv],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        cwd=cwd,
    )
    return r.returncode, r.stderr


# --------------------------------------------------------------------- simulation bounds


def test_noise_sample_dt_below_the_limit_is_refused():
    """`--stim PLML:noise:std=1,sample_dt=1e-15` tried to allocate 1.42 PiB."""
    with pytest.raises(SimulationError, match=r"sample_dt = 1e-15 is below the limit 1e-06"):
        parse_stimulus("PLML:noise:std=1,sample_dt=1e-15")
    with pytest.raises(SimulationError, match="sample_dt"):
        noise("PLML", 1.0, sample_dt=1.5e-8)  # the page's "held for" 1.5e-8 s: 5.4 GB
    assert noise("PLML", 1.0, sample_dt=limits.MIN_SAMPLE_DT).params["sample_dt"] == 1e-6


def test_noise_samples_of_a_run_are_bounded():
    """With the default sample_dt (= dt), the samples of a long, fine run are bounded too."""
    cc = compile_circuit(small_wiring(), "graded")
    dt = 1e-6
    duration = limits.MAX_STEPS * dt  # allowed steps, but 2 x 1e7 noise samples
    with pytest.raises(SimulationError, match="noise stimuli would draw 20,000,00"):
        simulate(cc, noise(["A", "B"], 1.0), duration=duration, dt=dt, record_every=10**6)


@pytest.mark.parametrize("duration", [1e7, 1e308])
def test_too_many_steps_are_refused(duration):
    """`run --duration 1e7` (1e11 steps) hung; `--duration 1e308` raised OverflowError."""
    cc = compile_circuit(small_wiring(), "graded")
    with pytest.raises(SimulationError, match=r"at most 10,000,000 steps"):
        simulate(cc, duration=duration, dt=1e-4)


def test_neuron_steps_are_bounded():
    cook = compile_circuit(connectome.load("cook2019"), "graded")
    steps = limits.MAX_NEURON_STEPS // cook.n + 1000
    with pytest.raises(SimulationError, match="neuron-steps per run"):
        simulate(cook, duration=steps * 1e-4, dt=1e-4, record_every=steps)


@pytest.mark.parametrize("dt", [1e308, 1e-12, 2.0])
def test_dt_outside_its_range_is_refused(dt):
    cc = compile_circuit(small_wiring(), "ltc")
    with pytest.raises(SimulationError, match=r"dt must be a finite number in 1e-07 \.\. 1"):
        simulate(cc, duration=dt, dt=dt)
    with pytest.raises(SimulationError, match="parameter dt"):
        default_params("ltc", dt=dt)


@pytest.mark.parametrize("unfolds", [10**9, 0, 2.5, "6"])
def test_unfolds_outside_its_range_is_refused(unfolds):
    """`--param unfolds=1000000000` hung the run."""
    with pytest.raises(SimulationError, match=r"unfolds must be a whole number in 1 \.\. 100"):
        default_params("ltc", unfolds=unfolds)


@pytest.mark.parametrize("value", ["abc", None, [1.0], math.nan, 1e308, 10**400, True])
def test_model_parameter_must_be_a_bounded_number(value):
    """`--param C=abc` raised TypeError."""
    with pytest.raises(SimulationError, match="parameter C"):
        default_params("graded", C=value)


def test_number_of_stimuli_is_bounded():
    cc = compile_circuit(small_wiring(), "ltc")
    many = [step("A", 0.0)] * (limits.MAX_STIMULI + 1)
    with pytest.raises(SimulationError, match=f"{limits.MAX_STIMULI + 1} stimuli"):
        simulate(cc, many, duration=1.0)
    simulate(cc, many[: limits.MAX_STIMULI], duration=1.0)


@pytest.mark.parametrize("threads", [0, -1, 1000, 2.5, "2"])
def test_threads_outside_the_machine_are_refused(threads):
    """`--threads -1` / `1000` raised ValueError; `--threads 0` was silently ignored."""
    with pytest.raises(SimulationError, match="threads"):
        check_threads(threads)
    assert check_threads(1) == 1


# --------------------------------------------------------------------- training bounds


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"seed": -1}, "seed must be"),
        ({"seed": 2**40}, "seed must be"),
        ({"max_seconds": math.nan}, "max_seconds"),
        ({"max_seconds": math.inf}, "max_seconds"),
        ({"target": math.nan}, "target"),
        ({"generations": 10**9}, "generations"),
        ({"episodes": 10**6}, "episodes"),
        ({"validation_episodes": 0}, "validation_episodes"),
        ({"popsize": 10**6}, "popsize"),
        ({"threads": 1000}, "threads"),
        ({"restarts": -1}, "restarts"),
    ],
)
def test_bad_training_arguments_are_refused_before_any_work(tw, kwargs, match):
    with pytest.raises(WormlabError, match=match):
        train(tw, "CartPole-v1", **kwargs)


@pytest.mark.parametrize("kwargs", [{"seed": -1}, {"episodes": 0}, {"episodes": 10**6},
                                    {"seeds": [-5]}, {"seeds": []}])  # fmt: skip
def test_bad_evaluation_arguments_are_refused(ctrl_dict, kwargs):
    """`evaluate --seed -1` raised ValueError from numpy's SeedSequence."""
    with pytest.raises(ControllerError):
        evaluate(Controller.from_dict(ctrl_dict), **kwargs)


def test_training_never_overwrites_a_file_that_is_not_its_own(tw, tmp_path):
    """`train --checkpoint <an existing wiring file>` overwrote the wiring."""
    wiring = tmp_path / "tw.json"
    wiring.write_text(connectome.io.to_json(tw))
    before = wiring.read_bytes()
    with pytest.raises(WormlabError, match="not a wormlab-train-checkpoint file; refusing"):
        train(tw, "CartPole-v1", generations=1, checkpoint=wiring)
    with pytest.raises(WormlabError, match="not a wormlab-controller file; refusing"):
        train(tw, "CartPole-v1", generations=1, output=wiring)
    assert wiring.read_bytes() == before


# ------------------------------------------------------------------ controller files


def _set(path, value):
    def change(d):
        *head, last = path
        for key in head:
            d = d[key]
        d[last] = value

    return change


PHYSICAL_CASES = {
    "unfolds 1e9 (hung evaluate)": (_set(["model", "unfolds"], 1_000_000_000), "unfolds"),
    "unfolds 2.5": (_set(["model", "unfolds"], 2.5), "unfolds"),
    "dt 1e308": (_set(["model", "dt"], 1e308), "dt must be"),
    "dt 0": (_set(["model", "dt"], 0.0), "dt must be"),
    "cm -5": (_set(["neurons", 0, "cm"], -5.0), r"cm\[0\] = -5.0"),
    "cm NaN": (_set(["neurons", 0, "cm"], math.nan), "finite"),
    "gleak -1": (_set(["neurons", 1, "gleak"], -1.0), r"gleak\[1\] = -1.0 must be in \[0, "),
    "w 1e308": (_set(["synapses", 0, "w"], 1e308), r"w\[0\] = 1e\+308"),
    "w negative": (_set(["synapses", 2, "w"], -1.0), r"w\[2\]"),
    "gap inf": (_set(["gaps", 0, "g"], math.inf), "finite"),
    "sign 0": (_set(["synapses", 0, "sign"], 0), "sign = 0 must be -1"),
    "sign 0.5": (_set(["synapses", 0, "sign"], 0.5), "sign = 0.5"),
    "synapse count inf": (_set(["synapses", 0, "weight"], math.inf), "weight"),
    "synapse count -1": (_set(["synapses", 0, "weight"], -1), "weight"),
    "obs_scale 0 (ZeroDivisionError)": (_set(["env", "obs_scale", 0], 0.0), "obs_scale"),
    "obs_scale NaN": (_set(["env", "obs_scale", 1], math.nan), "obs_scale"),
    "obs_center inf": (_set(["env", "obs_center", 0], math.inf), "obs_center"),
    "out gain 1e308": (_set(["output_map", "gain"], 1e308), r"out_gain\[0\]"),
    "out bias 1e308": (_set(["output_map", "bias", 0], 1e308), r"out_b\[0\]"),
    "input weight -1e300": (_set(["input_map", "weight", 0, 0], -1e300), r"in_w\[0\]"),
    "env not a string": (_set(["env", "env_id"], 5), "env id must be a string"),
    "env obs_dim changed": (_set(["env", "obs_dim"], 3), "obs_dim"),
    "env max_steps huge": (_set(["env", "max_steps"], 10**12), "max_steps"),
    "env other episode length": (_set(["env", "max_steps"], 1000), "max_steps"),
    "range beyond bounds": (_set(["ranges", "w"], [0.01, 1e308, "log"]), "range"),
}


@pytest.mark.parametrize("case", list(PHYSICAL_CASES))
def test_controller_file_is_validated_physically(ctrl_dict, tmp_path, case):
    change, match = PHYSICAL_CASES[case]
    d = copy.deepcopy(ctrl_dict)
    change(d)
    with pytest.raises(WiringFormatError, match=match):
        Controller.from_dict(d)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(d))  # NaN and Infinity as JSON's extensions: refused by the reader
    with pytest.raises(WiringFormatError):
        load_controller(path)


def test_controller_for_an_unknown_env_loads_but_is_refused_where_an_env_is_made(ctrl_dict):
    """A controller imported from ncps acts in no gymnasium env (id "ncps"): it loads, but
    evaluating or training it names the unknown id (no hang, no traceback)."""
    d = copy.deepcopy(ctrl_dict)
    d["env"]["env_id"] = "NoSuchEnv-v0"
    ctrl = Controller.from_dict(d)
    assert ctrl.env.code == -1
    _check_loaded(ctrl)
    with pytest.raises(ControllerError, match="unknown env id 'NoSuchEnv-v0' \\(not registered\\)"):
        evaluate(ctrl, episodes=1)
    with pytest.raises(ControllerError, match="not registered"):
        train(ctrl, generations=1, episodes=1, popsize=2)


def test_valid_controller_file_still_loads(ctrl_dict, files):
    ctrl = load_controller(files["ctrl"])
    assert ctrl.to_dict() == ctrl_dict


def test_physical_checks_hold_for_the_api_too(ctrl_dict):
    ctrl = Controller.from_dict(ctrl_dict)
    theta = np.array(ctrl.theta)
    theta[ctrl.offsets[4]] = -5.0  # cm of the first neuron
    with pytest.raises(ControllerError, match=r"cm\[0\] = -5.0"):
        ctrl.with_theta(theta)
    with pytest.raises(ControllerError, match="lie within"):
        ParamRange(0.0, 1e308)


@pytest.mark.parametrize(
    "content, match",
    [
        (b" " * 20_000_000 + b"{}", "larger than the limit of 5,000,000"),  # 20 MB passed
        (b"[" * 50_000 + b"]" * 50_000, "nested"),  # RecursionError
        (b"[" + b"1" * 5000 + b"]", "5,000 digits"),  # ValueError from int()
        (b"\xff\xfe{}", "not UTF-8"),  # UnicodeDecodeError
        (b'{"a": NaN}', "NaN"),
        (b'{"a": 1e999}', "beyond the range"),
        (b"[" * 65 + b"]" * 65, "nested 65 levels deep; the limit is 64"),
    ],
    ids=["20MB", "deep", "long-int", "not-utf8", "nan", "overflow", "65-deep"],
)
def test_controller_file_reader_bounds(tmp_path, content, match):
    path = tmp_path / "f.json"
    path.write_bytes(content)
    with pytest.raises(WiringFormatError, match=match):
        load_controller(path)


def test_checkpoints_have_their_own_size_bound(tmp_path):
    """A long run's checkpoint (fitness of every generation) may pass a controller's 5 MB."""
    from sim.checkpoint import CHECKPOINT_FORMAT, load_checkpoint

    pad = "x" * (limits.MAX_FILE_BYTES + 1000)
    path = tmp_path / "long.ckpt.json"
    path.write_text(json.dumps({"format": CHECKPOINT_FORMAT, "version": 1, "pad": pad}))
    assert load_checkpoint(path)["pad"] == pad
    with pytest.raises(WiringFormatError, match="holds no controller yet"):
        load_controller(path)  # read with the checkpoint's bound, then found empty
    other = tmp_path / "big.json"
    other.write_text(json.dumps({"format": "wormlab-controller", "pad": pad}))
    with pytest.raises(WiringFormatError, match="larger than the limit of 5,000,000 bytes"):
        load_controller(other)


# --------------------------------------------------------------------- command line


def _bad_argv(files, tmp):
    ctrl, wiring = files["ctrl"], files["wiring"]
    runc = ["run", "--circuit", wiring, "--model", "ltc", "--quiet"]
    train_ = ["train", "--circuit", wiring, "--quiet", "--generations", "1"]
    return {
        "noise sample_dt 1e-15": runc
        + ["--duration", "5", "--stim", "AVA:noise:std=1,sample_dt=1e-15"],
        "duration 1e7": runc + ["--duration", "1e7"],
        "duration 1e308": runc + ["--duration", "1e308"],
        "param unfolds 1e9": runc + ["--duration", "5", "--param", "unfolds=1000000000"],
        "param C=abc": ["run", "--duration", "1", "--param", "C=abc", "--quiet"],
        "param without =": runc + ["--duration", "5", "--param", "cm"],
        "threads -1": runc + ["--duration", "5", "--threads", "-1"],
        "threads 1000": runc + ["--duration", "5", "--threads", "1000"],
        "threads 0": runc + ["--duration", "5", "--threads", "0"],
        "out missing folder": runc + ["--duration", "5", "--out", str(tmp / "no" / "x.csv")],
        "out read-only place": runc + ["--duration", "5", "--out", "/proc/wormlab.csv"],
        "out a folder": runc + ["--duration", "5", "--out", str(tmp)],
        "out /proc/version": runc + ["--duration", "5", "--out", "/proc/version"],
        "run non-UTF-8 circuit": ["run", "--circuit", str(tmp / "nonutf.json"), "--duration", "1"],
        "evaluate seed -1": ["evaluate", ctrl, "--seed", "-1", "--episodes", "1"],
        "evaluate episodes 0": ["evaluate", ctrl, "--episodes", "0"],
        "evaluate non-UTF-8": ["evaluate", str(tmp / "nonutf.json")],
        "evaluate a folder": ["evaluate", str(tmp)],
        "evaluate /proc/version": ["evaluate", "/proc/version"],
        "evaluate unknown env": ["evaluate", ctrl, "--env", "NoSuchEnv-v0"],
        "train seconds nan": train_ + ["--seconds", "nan", "-o", str(tmp / "a.json")],
        "train target nan": train_ + ["--target", "nan", "-o", str(tmp / "a.json")],
        "train seed -1": train_ + ["--seed", "-1", "-o", str(tmp / "a.json")],
        "train evaluate -1": train_ + ["--evaluate", "-1", "-o", str(tmp / "a.json")],
        "train -o missing folder": train_ + ["-o", str(tmp / "no" / "c.json")],
        "train -o read-only place": train_ + ["-o", "/proc/c.json"],
        "train -o a folder": train_ + ["-o", str(tmp)],
        "train -o /proc/version": train_ + ["-o", "/proc/version"],
        "train resume non-UTF-8 checkpoint": train_
        + ["--resume", "--checkpoint", str(tmp / "nonutf.json"), "-o", str(tmp / "b.json")],
        "train checkpoint is a wiring": train_
        + ["--checkpoint", wiring, "-o", str(tmp / "c.json")],
        "argparse: not a number": ["run", "--duration", "abc"],
        "argparse: unknown option": ["evaluate", ctrl, "--bogus"],
    }  # fmt: skip


CLI_CASES = (
    "noise sample_dt 1e-15", "duration 1e7", "duration 1e308", "param unfolds 1e9",
    "param C=abc", "param without =", "threads -1", "threads 1000", "threads 0",
    "out missing folder", "out read-only place", "out a folder", "out /proc/version",
    "run non-UTF-8 circuit", "evaluate seed -1", "evaluate episodes 0", "evaluate non-UTF-8",
    "evaluate a folder", "evaluate /proc/version", "evaluate unknown env", "train seconds nan",
    "train target nan", "train seed -1", "train evaluate -1", "train -o missing folder",
    "train -o read-only place", "train -o a folder", "train -o /proc/version",
    "train resume non-UTF-8 checkpoint", "train checkpoint is a wiring",
    "argparse: not a number", "argparse: unknown option",
)  # fmt: skip


@pytest.fixture(scope="module")
def cli_tmp(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    (tmp / "nonutf.json").write_bytes(b"\xff\xfe\x00{")
    return tmp


@pytest.mark.parametrize("case", CLI_CASES)
def test_bad_command_line_is_one_line(files, cli_tmp, case):
    before = open(files["wiring"], "rb").read()
    code, stderr = run_cli(_bad_argv(files, cli_tmp)[case])
    assert_one_line_error(code, stderr)
    assert open(files["wiring"], "rb").read() == before  # never overwritten


@pytest.mark.parametrize(
    "make_argv",
    [
        pytest.param(lambda f, t: ["evaluate", f["unfolds"]], id="evaluate unfolds 1e9"),
        pytest.param(lambda f, t: _bad_argv(f, t)["duration 1e7"], id="run duration 1e7"),
        pytest.param(lambda f, t: _bad_argv(f, t)["param unfolds 1e9"], id="run unfolds 1e9"),
        pytest.param(lambda f, t: _bad_argv(f, t)["train -o /proc/version"], id="train /proc"),
    ],
)
def test_former_hangs_fail_fast_in_a_real_process(files, cli_tmp, ctrl_dict, make_argv):
    """The hangs of the issue return (within a generous timeout) with one line, no traceback."""
    d = copy.deepcopy(ctrl_dict)
    d["model"]["unfolds"] = 1_000_000_000
    (cli_tmp / "unfolds.json").write_text(json.dumps(d))
    argv = make_argv({**files, "unfolds": str(cli_tmp / "unfolds.json")}, cli_tmp)
    code, stderr = run_subprocess(argv)
    assert_one_line_error(code, stderr)


def test_every_subcommand_reports_an_unknown_option_in_one_line():
    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    for command in sub.choices:
        code, stderr = run_cli([command, "--no-such-option"])
        assert_one_line_error(code, stderr)


# --------------------------------------------------------------------------- fuzzing

BAD_VALUES = st.sampled_from(
    [None, "abc", "", -1, 0, 0.5, -1e308, 1e308, math.nan, math.inf, -math.inf, 10**50, True,
     [], {}, [[[]]], [1, 2, 3], {"a": 1}, "NaN", 2**63]
)  # fmt: skip


def _paths(value, prefix=()):
    """Every key path into a JSON value."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:3]):
            yield from _paths(v, (*prefix, i))


@st.composite
def bad_controllers(draw, base):
    d = copy.deepcopy(base)
    paths = [p for p in _paths(d) if p]
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths))
        target = d
        try:
            for key in path[:-1]:
                target = target[key]
            if draw(st.booleans()) or not isinstance(target, dict):
                target[path[-1]] = draw(BAD_VALUES)
            else:
                del target[path[-1]]
        except (KeyError, IndexError, TypeError):
            pass  # an earlier change removed the path
    return d


def _check_loaded(ctrl):
    """A controller that loads must act: one step, a finite or Discrete action."""
    ctrl.reset()
    action = ctrl.act(np.zeros(ctrl.env.obs_dim))
    assert np.all(np.isfinite(np.asarray(action, float)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz_bad_controller_files(ctrl_dict, pairs_dict, tmp_path_factory, data):
    d = data.draw(bad_controllers(data.draw(st.sampled_from([ctrl_dict, pairs_dict]))))
    try:
        ctrl = Controller.from_dict(d)
    except WormlabError:
        pass
    else:
        _check_loaded(ctrl)
    path = tmp_path_factory.mktemp("fuzz") / "c.json"
    try:
        path.write_text(json.dumps(d))
    except (ValueError, TypeError):  # not serialisable (e.g. 2**63 is, 10**50 is): skip
        return
    try:
        ctrl = load_controller(path)
    except WormlabError:
        return
    _check_loaded(ctrl)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzz_bad_controller_files_through_evaluate(ctrl_dict, tmp_path_factory, data):
    d = data.draw(bad_controllers(ctrl_dict))
    path = tmp_path_factory.mktemp("fuzz") / "c.json"
    path.write_text(json.dumps(d))
    code, stderr = run_cli(["evaluate", str(path), "--episodes", "2"])
    assert code in (0, 2), stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    if code == 2:
        assert_one_line_error(code, stderr)


ARG_VALUES = st.sampled_from(
    ["-1", "0", "1", "2.5", "nan", "inf", "-inf", "1e308", "1e-15", "1000000000", "abc", "",
     "1" * 5000, "/nonexistent/x.json", "/proc/version", "/tmp", "AVA:noise:std=1,sample_dt=1e-15",
     "AVA:step", "NOPE:step:amp=1", "unfolds=1000000000", "cm=abc", "=", "AVA,,"]
)  # fmt: skip
OPTIONS = {
    "run": ["--duration", "--dt", "--record-every", "--threads", "--param", "--stim", "--out",
            "--ablate", "--neurons", "--model", "--dataset"],
    "evaluate": ["--env", "--episodes", "--seed"],
    "train": ["--seed", "--generations", "--seconds", "--target", "--popsize", "--episodes",
              "--validation-episodes", "--sigma0", "--restarts", "--patience", "--input-map",
              "--output-map", "--evaluate", "--env", "--checkpoint", "--preset", "--dataset"],
}  # fmt: skip


@st.composite
def bad_argvs(draw, command, files, out):
    """A command with a safe base (small circuit, tiny budget) and bad options after it."""
    base = {
        "run": ["run", "--circuit", files["wiring"], "--model", "ltc", "--duration", "5",
                "--quiet"],
        "evaluate": ["evaluate", files["ctrl"], "--episodes", "2"],
        "train": ["train", "--circuit", files["wiring"], "--generations", "1", "--seconds", "0",
                  "--quiet", "-o", out],
    }[command]  # fmt: skip
    argv = list(base)
    for _ in range(draw(st.integers(1, 3))):
        argv += [draw(st.sampled_from(OPTIONS[command])), draw(ARG_VALUES)]
    return argv


@pytest.mark.parametrize("command", ["run", "evaluate", "train"])
def test_fuzz_bad_argument_vectors(files, cli_tmp, command):
    out = str(cli_tmp / f"fuzz-{command}.json")

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(argv=bad_argvs(command, files, out))
    def check(argv):
        code, stderr = run_cli(argv)
        assert code in (0, 2), f"{argv}: exit {code}: {stderr}"
        assert "Traceback" not in stderr and "internal error" not in stderr, f"{argv}: {stderr}"
        if code == 2:
            assert_one_line_error(code, stderr)

    check()


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--duration", "1e308", "--dataset", "varshney2011", "--quiet"],
        ["run", "--duration", "1", "--threads", "1000", "--quiet"],
        ["run", "--duration", "1", "--stim", "PLML:noise:std=1,sample_dt=1e-15", "--quiet"],
        ["train", "--seconds", "nan", "-o", "/tmp/never-written.json"],
        ["evaluate", "/proc/version"],
    ],
)
def test_bad_argument_vectors_in_a_real_process_have_no_traceback(argv):
    code, stderr = run_subprocess(argv)
    assert_one_line_error(code, stderr)

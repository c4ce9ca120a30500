"""The body: ElegansBot driven by prescribed waves and by the network (needs wormlab[body])."""

import subprocess
import sys

import numpy as np
import pytest

from connectome.errors import SimulationError

elegansbot = pytest.importorskip("elegansbot")

from sim.body import (  # noqa: E402
    ROD_LENGTH,
    BodyParams,
    FeedbackParams,
    cli_options,
    drive_body,
    joint_targets,
    neuron_drive,
    proprioception,
    run_body,
    simulate_body,
    travelling_wave,
)
from sim.muscles import MuscleParams, muscle_activation, muscle_input, neuromuscular_map  # noqa: E402


def test_importing_wormlab_does_not_import_elegansbot():
    code = (
        "import sys, connectome, sim, sim.body, sim.muscles, webapp.figures.body\n"
        "assert 'elegansbot' not in sys.modules, 'elegansbot imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=300)


def elegansbot_own_run(duration, direction=1, friction="agar"):
    """ElegansBot's documented real-time example (its README / Worm docstring), as is."""
    from sim.body import FRICTION

    bT, bII = FRICTION[friction]
    env = elegansbot.Worm(dt=5e-5, bT=bT, bII=bII, simTime=duration, dt_snapshot=0.01)
    for _ in range(env.n_snapshot - 1):
        env.act = 0.7 * np.cos(
            2 * np.pi * (1.832 * np.linspace(0, 1, env.n - 1) - direction * env.t / 1.6)
        )
        env.steps()
    return env


@pytest.mark.parametrize(("direction", "friction"), [(1, "agar"), (-1, "water")])
def test_prescribed_wave_reproduces_elegansbot_exactly(direction, friction):
    env = elegansbot_own_run(1.0, direction, friction)
    # the same targets, at ElegansBot's own clock (step count x dt) of each control interval
    t = np.arange(100) * 200 * 5e-5
    worm = run_body(travelling_wave(t, direction=direction), 0.01, BodyParams(friction=friction))
    np.testing.assert_array_equal(worm.t, env.t_log)
    for k in range(len(worm.t)):
        assert np.array_equal(worm.centroid[k], env.xyc_log[k]), f"centroid at record {k}"
        assert np.array_equal(worm.angles[k], env.theta_log[k]), f"angles at record {k}"
        assert np.array_equal(worm.velocity[k], env.vc_log[k]), f"velocity at record {k}"
    np.testing.assert_array_equal(worm.xy, np.transpose(env.xy_tip_log, (0, 2, 1)))


def test_head_to_tail_wave_moves_forward_tail_to_head_backward():
    t = np.arange(300) * 0.01
    fwd = run_body(travelling_wave(t, direction=1), 0.01)
    bwd = run_body(travelling_wave(t, direction=-1), 0.01)
    assert fwd.direction == "forward" and bwd.direction == "backward"
    assert fwd.summary()["mean_forward_speed"] > 0.1  # mm/s
    assert bwd.summary()["mean_forward_speed"] < -0.1
    # the head leads: it starts at +x and the worm crawls towards +x
    assert fwd.xy[0, 0, 0] > fwd.xy[0, -1, 0]
    assert fwd.centroid[-1, 0] - fwd.centroid[0, 0] > 0.3
    assert bwd.centroid[-1, 0] - bwd.centroid[0, 0] < -0.3
    still = run_body(np.zeros((300, 24)), 0.01)
    assert still.direction == "none" and np.all(still.centroid == 0.0)
    # a wave bends the body back and forth; a held bend does not
    bend = np.zeros((300, 24))
    bend[20:] = 0.1
    held = run_body(bend, 0.01).summary()
    swing = fwd.summary()["curvature_swing"]
    assert swing > 5.0  # 1/mm
    assert held["direction"] == "none" and held["curvature_swing"] < 0.02 * swing


def test_positive_angle_bends_dorsal_side_concave():
    """ElegansBot's polarity: with polarity_clockwise False, (posterior -> anterior) x
    (ventral -> dorsal) points out of the screen, so dorsal is the tail->head axis turned +90°."""
    worm = run_body(np.full((50, 24), 0.05), 0.01)
    xy = worm.xy[-1]
    axis = xy[0] - xy[-1]
    dorsal = np.array([-axis[1], axis[0]])
    chord_mid = (xy[0] + xy[-1]) / 2
    body_mid = xy[len(xy) // 2]
    # an arc bulges away from its centre of curvature: the centre is on the dorsal side
    assert np.dot(body_mid - chord_mid, dorsal / np.linalg.norm(dorsal)) < -0.003
    assert worm.curvature[-1].mean() > 0 and worm.curvature[-1, 0] > 0


def test_joint_targets_dorsal_minus_ventral():
    nmj = neuromuscular_map()
    act = np.zeros((2, 95))
    act[0, nmj.dorsal & (nmj.row == 1)] = 8.0  # MDL01, MDR01
    act[1, ~nmj.dorsal & (nmj.row == 24)] = 8.0  # MVR24 alone
    act[1, ~nmj.dorsal & (nmj.row == 5)] = -100.0  # relaxation does not push
    theta = joint_targets(act, nmj, BodyParams(max_angle=0.5, drive_scale=8.0))
    assert theta[0, 0] == pytest.approx(0.5 * np.tanh(1.0))
    assert np.all(theta[0, 1:] == 0.0)
    assert theta[1, 23] == pytest.approx(-0.5 * np.tanh(1.0))
    assert np.all(theta[1, :23] == 0.0)


@pytest.fixture(scope="module")
def varshney():
    import connectome

    return connectome.load("varshney2011")


def test_network_at_rest_leaves_the_worm_straight(varshney):
    net, worm = simulate_body(varshney, duration=0.2, record_every=10)
    assert np.max(np.abs(worm.target)) < 1e-4
    assert np.max(np.abs(worm.angles)) < 1e-4
    assert worm.direction == "none"


def test_drive_body_follows_the_layers(varshney):
    net, worm = simulate_body(varshney, "PLM:step:amp=2000", duration=0.5, record_every=10)
    nmj = neuromuscular_map()
    idx, weights, missing = nmj.columns(net.names)
    assert worm.missing == missing and "VC6" not in missing
    u = muscle_input(neuron_drive(net, idx)[:-1], weights)
    act = muscle_activation(u, 1e-3, MuscleParams())
    every = 10  # records of 0.01 s over a 1 ms control interval
    np.testing.assert_array_equal(worm.activation[:-1], act[::every])
    np.testing.assert_array_equal(worm.target[:-1], joint_targets(act, nmj)[::every])
    assert worm.t[-1] == pytest.approx(0.5) and worm.xy.shape == (51, 26, 2)
    assert np.all(np.isfinite(worm.xy)) and np.max(np.abs(worm.target)) > 0.01
    # graded drive: V - Vth of the stimulated epoch; at t = 0 the network is still at rest
    drive = neuron_drive(net)
    assert np.all(drive[0] <= 1e-3) and drive[0, net.names.index("PLML")] < -10


def test_rest_reference_keeps_tonic_drive(varshney):
    _, thr = simulate_body(varshney, "AVA:step:amp=1000", duration=1.0, record_every=10)
    _, rest = simulate_body(
        varshney,
        "AVA:step:amp=1000",
        duration=1.0,
        record_every=10,
        muscles=MuscleParams(reference="rest"),
    )
    late = thr.t > 0.8
    assert np.max(np.abs(thr.activation[late])) < np.max(np.abs(rest.activation[late])) / 10


def test_bad_timing():
    with pytest.raises(SimulationError, match="whole number of body steps"):
        run_body(np.zeros((10, 24)), 7e-5)
    with pytest.raises(SimulationError, match="shape"):
        run_body(np.zeros((10, 23)), 1e-4)
    with pytest.raises(SimulationError, match="friction"):
        BodyParams(friction="honey")


def test_cli_body(tmp_path):
    out_csv = tmp_path / "body.csv"
    args = "run --dataset varshney2011 --stim PLM:step:amp=2000 --duration 0.2 "
    args += f"--record-every 10 --quiet --body --body-out {out_csv}"
    proc = subprocess.run(
        [sys.executable, "-m", "sim", *args.split()],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "body (agar, step 5e-05 s, control every 0.001 s):" in proc.stdout
    assert any(w in proc.stdout for w in ("forward", "backward", "none"))
    import pandas as pd

    table = pd.read_csv(out_csv, index_col="t")
    assert len(table) == 21 and "forward_speed" in table and "k23" in table


# ---------------------------------------------------------------- proprioceptive feedback


def test_feedback_params_are_bounded():
    for bad in (-1.0, 1e5, float("nan"), "big"):
        with pytest.raises(SimulationError, match="feedback gain"):
            FeedbackParams(gain=bad)
    with pytest.raises(SimulationError, match="feedback reach"):
        FeedbackParams(reach=2.0)
    with pytest.raises(SimulationError, match="classes"):
        FeedbackParams(classes=())
    with pytest.raises(SimulationError, match="no mapped motor neuron"):
        proprioception(neuromuscular_map(), ["AVAL"], FeedbackParams(classes=("AVA",)))


def test_feedback_current_by_hand():
    """DB3 and VB4's places from the map's rows by hand; a posture whose curvature grows
    linearly along the body (joint j: j /mm), so the interpolated curvature is exact."""
    nmj = neuromuscular_map()
    table = nmj.table()
    gain, reach = 40.0, 0.1
    p = proprioception(nmj, ["VB4", "AVAL", "DB3"], FeedbackParams(gain=gain, reach=reach))
    assert p.neurons == ("DB3", "VB4") and p.index.tolist() == [2, 0]
    assert p.side.tolist() == [1.0, -1.0]  # DB: dorsal muscles; VB: ventral
    want = []
    for name in p.neurons:
        rows = table[table["neuron"] == name]
        row = (rows["weight"] * rows["row"]).sum() / rows["weight"].sum()
        sensed = row * 0.04 - reach  # mm: row r drives joint r - 1, at r rods from the head
        want.append(sensed / 0.04 - 1.0)  # curvature at x for kappa_j = j, x_j = (j + 1) 0.04
    angles = np.arange(24) * ROD_LENGTH * 1.0  # kappa_j = j / mm
    got = p.current(angles)
    assert got[0] == pytest.approx(gain * want[0], rel=1e-12)  # DB3: + dorsal curvature
    assert got[1] == pytest.approx(-gain * want[1], rel=1e-12)  # VB4: - dorsal curvature
    # the sign convention: a dorsal bend (positive angles) depolarises DB, hyperpolarises VB
    bend = p.current(np.full(24, 0.05))
    assert bend.tolist() == pytest.approx([gain * 1.25, -gain * 1.25], rel=1e-12)
    assert np.all(p.current(np.zeros(24)) == 0.0)


def numpy_feedback(angles, prop):
    """Slow, obvious reference: np.interp of curvature at each neuron's sensed place."""
    joints = [(j + 1) / 25 for j in range(24)]
    out = np.empty((len(angles), len(prop.neurons)))
    for k, posture in enumerate(angles):
        kappa = [a / (1 / 25) for a in posture]
        for f in range(len(prop.neurons)):
            out[k, f] = prop.params.gain * prop.side[f] * np.interp(prop.sensed[f], joints, kappa)
    return out


@pytest.mark.parametrize("reach", [0.0, 0.1, 0.37, 1.0])
def test_feedback_current_against_numpy(varshney, reach):
    prop = proprioception(
        neuromuscular_map(), connectome_names(varshney), FeedbackParams(gain=123.0, reach=reach)
    )
    assert len(prop.neurons) == 18  # VB1-11, DB1-7
    angles = np.random.default_rng(4).normal(scale=0.3, size=(50, 24))
    np.testing.assert_allclose(prop.current(angles), numpy_feedback(angles, prop), rtol=1e-12,
                               atol=1e-9)  # fmt: skip


def connectome_names(source):
    from sim import compile_circuit

    return compile_circuit(source, "graded").names


@pytest.mark.parametrize(("duration", "every"), [(0.3055, 10), (0.04, 1)])
def test_feedback_gain_zero_equals_the_one_way_run(varshney, duration, every):
    """Two-way lockstep with no feedback gives the one-way numbers bit for bit (0.3055 s:
    a last part-interval of 5 network steps after the body's last interval)."""
    stim = "PLM:step:amp=2000"
    one_net, one = simulate_body(varshney, stim, duration=duration, record_every=every)
    from sim import simulate

    plain = simulate(varshney, stim, duration=duration, record_every=every)
    assert np.array_equal(one_net.V, plain.V)  # feedback=None is today's path
    assert np.array_equal(drive_body(plain).xy, one.xy)
    two_net, two = simulate_body(
        varshney, stim, duration=duration, record_every=every, feedback=FeedbackParams(gain=0)
    )
    assert np.array_equal(two_net.V, one_net.V)
    for name in ("activation", "target", "xy", "centroid", "velocity", "angles", "t"):
        assert np.array_equal(getattr(two, name), getattr(one, name)), name
    assert np.all(two.feedback_current == 0.0) and one.feedback is None


def test_feedback_drives_the_b_neurons(varshney):
    stim = "PLM:step:amp=2000"
    fb = FeedbackParams(gain=300.0)
    net, worm = simulate_body(varshney, stim, duration=0.6, record_every=10, feedback=fb)
    every = worm.t[1] / worm.control_dt
    assert every == pytest.approx(10)
    # each interval's current is the map of the posture at its start (records: every 10th)
    at_records = worm.feedback_current[::10]
    np.testing.assert_array_equal(at_records, worm.feedback.current(worm.angles[: len(at_records)]))
    assert np.max(np.abs(worm.feedback_current)) > 1.0  # pA: the body bent, the B neurons felt it
    # the network got exactly that input: replaying the recorded stimuli gives the same run
    from sim import simulate

    again = simulate(varshney, net.stimulus, duration=0.6, record_every=10)
    assert np.array_equal(again.V, net.V)
    received = {s.target[0]: s.values for s in net.stimulus[1:]}
    assert set(received) == set(worm.feedback.neurons)
    for f, name in enumerate(worm.feedback.neurons):
        np.testing.assert_array_equal(received[name][:-1], worm.feedback_current[:, f])
    # and it changed the network: the B neurons' potentials differ from the open loop
    b = [net.names.index(n) for n in worm.feedback.neurons]
    plain = simulate(varshney, stim, duration=0.6, record_every=10)
    assert np.max(np.abs(net.V[:, b] - plain.V[:, b])) > 1e-3


def test_feedback_cli_options():
    import argparse

    from sim.cli import build_parser

    parser = build_parser()
    args = parser.parse_args(["run", "--dataset", "varshney2011", "--duration", "0.1"])
    assert cli_options(args)["feedback"] is None
    args = parser.parse_args(["run", "--duration", "0.1", "--body", "--feedback", "50"])
    assert cli_options(args)["feedback"] == FeedbackParams(gain=50.0)
    with pytest.raises(SimulationError, match="needs --body"):
        cli_options(parser.parse_args(["run", "--duration", "0.1", "--feedback", "50"]))
    with pytest.raises(SimulationError, match=r"feedback gain .* 0 .. 10000, got 1000000.0"):
        cli_options(parser.parse_args(["run", "--duration", "0.1", "--body", "--feedback", "1e6"]))
    assert isinstance(args, argparse.Namespace)


def test_cli_body_feedback():
    args = "run --dataset varshney2011 --stim PLM:step:amp=2000 --duration 0.3 "
    args += "--record-every 10 --quiet --body --feedback 200"
    proc = subprocess.run(
        [sys.executable, "-m", "sim", *args.split()], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    assert "feedback: gain 200 pA mm, reach 0.1 mm into 18 neurons (VB, DB)" in proc.stdout


def test_wave_direction_of_prescribed_waves():
    t = np.arange(400) * 0.01
    fwd = run_body(travelling_wave(t, direction=1), 0.01).wave()
    bwd = run_body(travelling_wave(t, direction=-1), 0.01).wave()
    span = 2 * np.pi * 1.832 * 19 / 23  # phase of the wave over joints 2..21
    assert fwd["direction"] == "head-to-tail" and fwd["phase_span"] == pytest.approx(span, rel=0.05)
    assert bwd["direction"] == "tail-to-head" and bwd["phase_span"] == pytest.approx(
        -span, rel=0.05
    )
    standing = 0.5 * np.cos(2 * np.pi * t / 1.6)[:, None] * np.ones((1, 24))
    assert run_body(standing, 0.01).wave()["direction"] == "standing"
    assert run_body(np.zeros((400, 24)), 0.01).wave()["direction"] == "none"

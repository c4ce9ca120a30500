"""The body: ElegansBot driven by prescribed waves and by the network (needs wormlab[body])."""

import subprocess
import sys

import numpy as np
import pytest

from connectome.errors import SimulationError

elegansbot = pytest.importorskip("elegansbot")

from sim.body import (  # noqa: E402
    BodyParams,
    joint_targets,
    neuron_drive,
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

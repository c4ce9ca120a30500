"""Body figures: built from a real ElegansBot run (prescribed wave) and checked trace by trace."""

import numpy as np
import pytest

from webapp.figures.body import (
    PLATE_COLOURS,
    body_panels,
    kymogram_figure,
    neuromuscular_figure,
    posture_figure,
    trajectory_figure,
    worm_outline,
)


def test_neuromuscular_figure_is_the_map():
    from sim.muscles import neuromuscular_map

    table = neuromuscular_map().table()
    fig = neuromuscular_figure(table)
    z = np.asarray(fig.data[0].z)
    assert z.shape == (162, 95) and list(fig.data[0].x)[:2] == ["MDL01", "MDL02"]
    assert np.abs(z).sum() == table["weight"].sum()
    assert z[z < 0].sum() == -table[table["sign"] < 0]["weight"].sum()
    y, x = list(fig.data[0].y), list(fig.data[0].x)
    for r in table.sample(30, random_state=1).itertuples():
        assert z[y.index(r.neuron), x.index(r.muscle)] == r.weight * r.sign


@pytest.fixture(scope="module")
def worm():
    pytest.importorskip("elegansbot")
    from sim.body import run_body, travelling_wave

    return run_body(travelling_wave(np.arange(150) * 0.01), 0.01)


def test_outline_is_closed_and_surrounds_the_centre_line(worm):
    xy = worm.xy[-1]
    o = worm_outline(xy, width=0.08)
    assert o.shape == (2 * len(xy) + 1, 2) and np.array_equal(o[0], o[-1])
    # each side is half the local width away from the centre line, zero-ish at the tips
    side = o[: len(xy)]
    d = np.linalg.norm(side - xy, axis=1)
    np.testing.assert_allclose(d, 0.04 * np.sin(np.arccos(np.linspace(-0.98, 0.98, len(xy)))))


def test_posture_frames(worm):
    fig = posture_figure(worm.t, worm.xy, worm.centroid, friction="water", n_frames=20)
    assert len(fig.frames) == 20 and len(fig.data) == 4
    last = fig.frames[-1]
    assert last.name == f"{worm.t[-1]:.3f}"
    np.testing.assert_allclose(last.data[0].x, worm_outline(worm.xy[-1])[:, 0])
    assert last.data[1].x[0] == worm.xy[-1, 0, 0]  # the head marker is rod 0's tip
    np.testing.assert_allclose(last.data[3].y[-1], worm.centroid[-1, 1])
    assert fig.layout.plot_bgcolor == PLATE_COLOURS["water"]
    steps = fig.layout.sliders[0].steps
    assert [s.args[0][0] for s in steps] == [f.name for f in fig.frames]
    assert fig.layout.updatemenus[0].buttons[0].label == "Play"
    # every frame fits in the fixed axes
    lo, hi = fig.layout.xaxis.range
    assert lo <= worm.xy[..., 0].min() and worm.xy[..., 0].max() <= hi


def test_kymogram_is_the_curvature(worm):
    fig = kymogram_figure(worm.t, worm.curvature, max_columns=1000)
    z = np.asarray(fig.data[0].z)
    assert z.shape == (24, len(worm.t))
    np.testing.assert_allclose(z, worm.curvature.T, rtol=1e-6, atol=1e-6)
    assert fig.data[0].zmin == -fig.data[0].zmax
    assert fig.data[0].zmax == pytest.approx(np.abs(z).max(), rel=1e-6)
    assert fig.layout.yaxis.autorange == "reversed"  # head at the top
    small = kymogram_figure(worm.t, worm.curvature, max_columns=50)
    assert np.asarray(small.data[0].z).shape[1] <= 50


def test_trajectory(worm):
    fig = trajectory_figure(worm.t, worm.centroid)
    np.testing.assert_array_equal(fig.data[0].x, worm.centroid[:, 0])
    np.testing.assert_array_equal(fig.data[2].x, worm.centroid[-1:, 0])
    np.testing.assert_array_equal(fig.data[0].marker.color, worm.t)


def test_posture_without_controls_shows_the_last_frame(worm):
    fig = posture_figure(worm.t, worm.xy, worm.centroid, n_frames=20, controls=False,
                         meta={"run": "r"})  # fmt: skip
    assert not fig.layout.updatemenus and not fig.layout.sliders and len(fig.frames) == 20
    assert fig.layout.meta["run"] == "r"
    np.testing.assert_allclose(fig.layout.meta["frame_t"], [float(f.name) for f in fig.frames],
                               atol=5e-4)  # fmt: skip
    np.testing.assert_array_equal(fig.data[0].x, fig.frames[-1].data[0].x)
    np.testing.assert_allclose(fig.data[1].y[0], worm.xy[-1, 0, 1])


def test_body_panels_are_the_run_rounded_to_a_tenth_of_a_micrometre(worm):
    figs = body_panels(worm, {"run": "r"}, friction="water")
    posture, kymogram, trajectory = figs["posture"], figs["kymogram"], figs["trajectory"]
    assert posture.layout.plot_bgcolor == PLATE_COLOURS["water"]
    assert {f.layout.meta["run"] for f in figs.values()} == {"r"}
    k = int(round(float(posture.frames[7].name) / 0.01))
    x = np.asarray(posture.frames[7].data[0].x)
    np.testing.assert_allclose(x, worm_outline(worm.xy[k])[:, 0], atol=1e-4)
    assert np.array_equal(x, worm_outline(worm.xy[k].round(4))[:, 0])
    np.testing.assert_array_equal(trajectory.data[0].y, worm.centroid[:, 1])
    np.testing.assert_allclose(np.asarray(kymogram.data[0].z), worm.curvature.T, rtol=1e-6,
                               atol=1e-6)  # fmt: skip

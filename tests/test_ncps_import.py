"""connectome.io.from_ncps: ncps wirings imported as wormlab wirings, and back (real ncps)."""

import numpy as np
import pytest

ncps_wirings = pytest.importorskip("ncps.wirings")

from connectome.errors import WiringFormatError  # noqa: E402
from connectome.io import from_ncps, to_ncps  # noqa: E402
from sim.control import Controller  # noqa: E402


def _paper_ncp():
    """The 19-neuron NCP of Lechner et al. 2020: 12 inter, 6 command, 1 motor, 32 inputs."""
    w = ncps_wirings.NCP(
        inter_neurons=12, command_neurons=6, motor_neurons=1, sensory_fanout=6,
        inter_fanout=4, recurrent_command_synapses=6, motor_fanin=6, seed=0,
    )  # fmt: skip
    w.build(32)
    return w


@pytest.mark.parametrize(
    "make",
    [
        _paper_ncp,
        lambda: ncps_wirings.AutoNCP(16, 2, seed=3),
        lambda: ncps_wirings.FullyConnected(5, 2),
        lambda: ncps_wirings.Random(8, 3, sparsity_level=0.5, random_seed=1),
    ],
)
def test_round_trip_gives_ncps_the_same_adjacency(make):
    w = make()
    if not w.is_built():
        w.build(7)
    imported = from_ncps(w)
    assert len(imported.sensory) == w.input_dim and len(imported.motor) == w.output_dim
    back = ncps_wirings.Wiring.from_config(to_ncps(imported))
    np.testing.assert_array_equal(back.adjacency_matrix, w.adjacency_matrix)
    np.testing.assert_array_equal(back.sensory_adjacency_matrix, w.sensory_adjacency_matrix)
    assert (back.units, back.input_dim, back.output_dim) == (w.units, w.input_dim, w.output_dim)
    # the base config and the wiring give the same import
    again = from_ncps(ncps_wirings.Wiring.get_config(w))
    assert again.edges.equals(imported.edges)


def test_paper_ncp_has_19_units_and_trains_as_a_controller():
    imported = from_ncps(_paper_ncp())
    assert len(imported.neurons) - len(imported.sensory) == 19
    ctrl = Controller.from_circuit(imported, "Pendulum-v1", output_map="dense")
    assert ctrl.motor == ("u0",) and len(ctrl.synapses) == len(imported.edges)


def test_ncp_constructor_config_needs_input_dim():
    config = ncps_wirings.AutoNCP(10, 1, seed=0).get_config()
    assert len(from_ncps(config, input_dim=4).sensory) == 4
    with pytest.raises(WiringFormatError, match="input_dim"):
        from_ncps(config)


def test_bad_config_is_named():
    with pytest.raises(WiringFormatError, match="adjacency_matrix"):
        from_ncps({"foo": 1})
    with pytest.raises(WiringFormatError, match="-1, 0 or"):
        from_ncps({"units": 1, "adjacency_matrix": [[2]], "sensory_adjacency_matrix": [[1]],
                   "input_dim": 1, "output_dim": 1})  # fmt: skip

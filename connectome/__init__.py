"""wormlab's connectome layer: datasets, graph queries, circuits and their files.

>>> import connectome
>>> c = connectome.load("cook2019")
>>> c.resolve("AVA")
['AVAL', 'AVAR']
"""

from connectome import io, limits, presets
from connectome.circuit import ROLES, Circuit
from connectome.datasets import dataset_info, datasets, manifest
from connectome.errors import (
    CircuitError,
    ControllerError,
    DivergenceError,
    QueryError,
    SimulationError,
    UnknownDatasetError,
    UnknownNeuronError,
    WiringFormatError,
    WormlabError,
)
from connectome.graph import Connectome, load
from connectome.queries import (
    all_paths,
    compare,
    degrees,
    filter_network,
    hubs,
    neighbourhood,
    node_types,
    partners,
    shortest_paths,
    strongest_paths,
)

__all__ = [
    "Circuit",
    "CircuitError",
    "Connectome",
    "ControllerError",
    "DivergenceError",
    "QueryError",
    "ROLES",
    "SimulationError",
    "UnknownDatasetError",
    "UnknownNeuronError",
    "WiringFormatError",
    "WormlabError",
    "all_paths",
    "compare",
    "dataset_info",
    "datasets",
    "degrees",
    "filter_network",
    "hubs",
    "io",
    "limits",
    "load",
    "manifest",
    "neighbourhood",
    "node_types",
    "partners",
    "presets",
    "shortest_paths",
    "strongest_paths",
]

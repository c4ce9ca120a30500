"""Pure data -> figure functions, one module per page family:
:mod:`~webapp.figures.network` (Explore), :mod:`~webapp.figures.dynamics` and
:mod:`~webapp.figures.body` (Simulate), :mod:`~webapp.figures.results` (the Simulate page's
result panels), :mod:`~webapp.figures.screen` (the Simulate page's lesion screens and
sweeps), :mod:`~webapp.figures.control` (Circuit and Train), :mod:`~webapp.figures.road` (the Train
page's lane keeping)."""

from webapp.figures import body, control, dynamics, network, results, road, screen

__all__ = ["body", "control", "dynamics", "network", "results", "road", "screen"]

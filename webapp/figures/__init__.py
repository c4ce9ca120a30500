"""Pure data -> figure functions, one module per page family:
:mod:`~webapp.figures.network` (Explore), :mod:`~webapp.figures.dynamics` (Simulate),
:mod:`~webapp.figures.results` (the Simulate page's result panels),
:mod:`~webapp.figures.control` (Circuit and Train)."""

from webapp.figures import control, dynamics, network, results

__all__ = ["control", "dynamics", "network", "results"]

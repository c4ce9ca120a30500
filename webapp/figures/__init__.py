"""Pure data -> figure functions, one module per page family:
:mod:`~webapp.figures.network` (Explore), :mod:`~webapp.figures.dynamics` (Simulate),
:mod:`~webapp.figures.control` (Circuit and Train), :mod:`~webapp.figures.screen` (the
Simulate page's lesion screens and sweeps)."""

from webapp.figures import control, dynamics, network, screen

__all__ = ["control", "dynamics", "network", "screen"]

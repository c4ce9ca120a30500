"""Pure data -> figure functions, one module per page family:
:mod:`~webapp.figures.network` (Explore), :mod:`~webapp.figures.dynamics`,
:mod:`~webapp.figures.body` and :mod:`~webapp.figures.screen` (Simulate: activity, the body,
lesion screens and sweeps), :mod:`~webapp.figures.control` (Circuit and Train)."""

from webapp.figures import body, control, dynamics, network, screen

__all__ = ["body", "control", "dynamics", "network", "screen"]

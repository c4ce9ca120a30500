"""The exception hierarchy shared by every wormlab package.

``connectome`` is the bottom layer, so the whole hierarchy lives here and
``sim`` and ``webapp`` import it from here.
"""

__all__ = [
    "WormlabError",
    "UnknownNeuronError",
    "UnknownDatasetError",
    "WiringFormatError",
    "CircuitError",
    "QueryError",
    "SimulationError",
    "DivergenceError",
    "ControllerError",
    "FieldError",
]


class WormlabError(Exception):
    """Base class of every error wormlab raises on purpose."""


class UnknownNeuronError(WormlabError, KeyError):
    """A neuron or class name that the dataset does not contain.

    The message names the bad value and suggests the closest real names.
    """

    def __init__(self, name, suggestions=(), where="this dataset"):
        self.name = name
        self.suggestions = tuple(suggestions)
        from connectome.limits import shorten  # limits imports this module

        msg = f"unknown neuron {shorten(name)} in {where}"
        if self.suggestions:
            msg += "; did you mean " + ", ".join(self.suggestions) + "?"
        super().__init__(msg)

    def __str__(self):  # KeyError would otherwise repr() the message
        return self.args[0]


class UnknownDatasetError(WormlabError, KeyError):
    """A dataset name that is not shipped in data/."""

    def __str__(self):
        return self.args[0]


class WiringFormatError(WormlabError, ValueError):
    """An imported wiring or controller file that does not follow the schema, or a file
    format that wormlab does not read or write."""


class CircuitError(WormlabError, ValueError):
    """A circuit operation that cannot be carried out (empty result, bad role...)."""


class QueryError(WormlabError, ValueError):
    """A query or view argument outside its choices or range (a synapse kind, a hop count,
    a path count, a view name)."""


class SimulationError(WormlabError, ValueError):
    """A simulation request that cannot be run as given."""


class DivergenceError(SimulationError):
    """The integration produced NaN or inf.

    Attributes
    ----------
    step : int
        The first step whose state was not finite.
    neuron : str or None
        The first neuron whose state was not finite.
    """

    def __init__(self, step, neuron=None, detail=""):
        self.step = step
        self.neuron = neuron
        msg = f"simulation diverged at step {step}"
        if neuron is not None:
            msg += f" (neuron {neuron})"
        if detail:
            msg += f": {detail}"
        super().__init__(msg)


class ControllerError(WormlabError, ValueError):
    """A controller, environment or training request that cannot be used as given."""


class FieldError(WormlabError, ValueError):
    """A value typed in a form field (or a URL query) that is not valid.

    Attributes
    ----------
    field : str
        The field's name, as the page labels it.
    value
        The bad value, as typed.
    detail : str
        What is wrong and what is allowed, without the field's name (for a message shown
        next to the field); ``str(err)`` is ``"<field>: <detail>"``.
    """

    def __init__(self, field, value, detail):
        self.field = field
        self.value = value
        self.detail = detail
        super().__init__(f"{field}: {detail}")

"""Neuron names, classes, types and roles, and name resolution.

Users type names in any case and mix neurons with classes ("ava", "PLM",
"VA1"); :class:`NameIndex` turns such input into the member neurons of one
network and explains a miss with the closest real names.

Types and roles: a neuron's ``type`` is one of :data:`NEURON_TYPES` (from the
data); a node that is not a neuron is a ``muscle`` or another ``cell``
(:data:`NODE_TYPES`). A circuit gives each neuron a role (sensory, inter,
motor): by default the one its type suggests (:func:`default_role`), and a
role reads back as a type through :data:`ROLE_TYPES`.
"""

import difflib
import re
from collections.abc import Iterable
from types import MappingProxyType

import pandas as pd

from connectome.errors import FieldError, UnknownNeuronError
from connectome.limits import MAX_NAME_CHARS, MAX_NAMES

__all__ = [
    "NEURON_TYPES",
    "NODE_TYPES",
    "ROLE_TYPES",
    "NameIndex",
    "as_name_list",
    "class_by_name",
    "class_names",
    "default_role",
    "natural_key",
]

#: Node types, in layer order: the four neuron types, then muscles and other cells.
NODE_TYPES = ("sensory", "interneuron", "motor", "other", "muscle", "cell")
#: The types a neuron can have.
NEURON_TYPES = NODE_TYPES[:4]
#: Circuit role -> the neuron type it stands for (a drawing colours a role like its type).
ROLE_TYPES = MappingProxyType({"sensory": "sensory", "inter": "interneuron", "motor": "motor"})
#: Neuron type -> circuit role when nothing else says so.
_TYPE_ROLE = MappingProxyType({"sensory": "sensory", "motor": "motor"})


def default_role(neuron_type: str) -> str:
    """The circuit role a neuron of this type gets by default.

    >>> default_role("sensory"), default_role("interneuron"), default_role("motor")
    ('sensory', 'inter', 'motor')
    """
    return _TYPE_ROLE.get(neuron_type, "inter")


def class_names(neurons: pd.DataFrame) -> pd.Series:
    """Each neuron's class, or its own name when it has none (indexed like ``neurons``).

    >>> t = pd.DataFrame({"class": ["AVA", ""]}, index=["AVAL", "DVA"])
    >>> class_names(t).tolist()
    ['AVA', 'DVA']
    """
    cls = neurons["class"]
    missing = cls.isna() | (cls == "")
    if not missing.any():
        return cls.rename("class")
    return cls.where(~missing, neurons.index.to_series()).rename("class")


def as_name_list(names, field: str = "names") -> list[str]:
    """Accept one name, a comma/space separated string, or an iterable of names: at most
    ``MAX_NAMES`` (:mod:`connectome.limits`) of them.

    >>> as_name_list("AVAL, avar PLM")
    ['AVAL', 'avar', 'PLM']
    >>> as_name_list(["AVAL"] * 3000, "Selection")
    Traceback (most recent call last):
    ...
    connectome.errors.FieldError: Selection: more than 2,000 names; at most 2,000 at once

    Raises
    ------
    FieldError
        For more than ``MAX_NAMES`` names, naming ``field``.
    TypeError
        For a value that is neither a string nor an iterable.
    """
    if isinstance(names, str):
        out = [part for part in names.replace(",", " ").split() if part]
    elif isinstance(names, Iterable):
        out = []
        for name in names:
            out.extend(as_name_list(str(name), field))
            if len(out) > MAX_NAMES:
                break
    else:
        raise TypeError(f"expected a name or a list of names, got {type(names).__name__}")
    if len(out) > MAX_NAMES:
        detail = f"more than {MAX_NAMES:,} names; at most {MAX_NAMES:,} at once"
        raise FieldError(field, names, detail)
    return out


def natural_key(name: str):
    """Sort key that puts VA2 before VA10.

    >>> sorted(["VA10", "VA2", "VA1"], key=natural_key)
    ['VA1', 'VA2', 'VA10']
    """
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


class NameIndex:
    """Case-insensitive lookup of neuron and class names over one network.

    Parameters
    ----------
    neurons : pandas.DataFrame
        Indexed by node name, with a ``class`` column. Node order is kept.
    where : str
        How the network is named in error messages ("cook2019").
    """

    def __init__(self, neurons: pd.DataFrame, where: str):
        self.where = where
        self.names = tuple(neurons.index)
        self._by_lower = {name.lower(): name for name in self.names}
        class_of = class_names(neurons)
        classes: dict[str, list[str]] = {}
        for name, cls in zip(neurons.index, class_of, strict=True):
            classes.setdefault(str(cls).lower(), []).append(name)
        self._class_members = {
            key: tuple(sorted(members, key=natural_key)) for key, members in classes.items()
        }
        self._class_names = {
            key: str(class_of[members[0]]) for key, members in self._class_members.items()
        }

    def __contains__(self, name) -> bool:
        key = str(name).strip().lower()
        return key in self._by_lower or key in self._class_members

    @property
    def classes(self) -> tuple[str, ...]:
        """Class names in order of first appearance."""
        return tuple(self._class_names.values())

    def members(self, cls: str) -> tuple[str, ...]:
        """The member neurons of a class (case-insensitive)."""
        key = str(cls).strip().lower()
        if key not in self._class_members:
            raise self._unknown(cls)
        return self._class_members[key]

    def suggest(self, name: str, n: int = 3) -> list[str]:
        """The closest neuron or class names to a misspelt one."""
        key = str(name).strip().lower()
        if len(key) > MAX_NAME_CHARS:  # no neuron name is that long; difflib would be slow
            return []
        pool = list(self._by_lower) + [k for k in self._class_members if k not in self._by_lower]
        close = difflib.get_close_matches(key, pool, n=4 * n, cutoff=0.5)
        # swapped letters (AVLA for AVAL) first, then by similarity
        close.sort(key=lambda k: (sorted(k) != sorted(key), -_ratio(k, key), k))
        return [self._by_lower.get(k) or self._class_names[k] for k in close[:n]]

    def _unknown(self, name) -> UnknownNeuronError:
        return UnknownNeuronError(str(name), self.suggest(str(name)), self.where)

    def resolve(self, names) -> list[str]:
        """Neurons named by ``names`` (neurons or classes, any case), in first-mention order,
        without repeats.

        A name that is both a neuron and a class (e.g. "DVA") means the neuron.

        Raises
        ------
        UnknownNeuronError
            For the first name that is neither, with the closest real names.
        """
        out: dict[str, None] = {}
        for raw in as_name_list(names):
            key = raw.strip().lower()
            if key in self._by_lower:
                out[self._by_lower[key]] = None
            elif key in self._class_members:
                out.update(dict.fromkeys(self._class_members[key]))
            else:
                raise self._unknown(raw)
        if not out and not isinstance(names, str):
            return []
        return list(out)

    def canonical(self, name) -> str:
        """The stored spelling of one neuron name (not a class)."""
        key = str(name).strip().lower()
        if key not in self._by_lower:
            if key in self._class_members:  # a class: its members are what was meant
                raise UnknownNeuronError(str(name), self._class_members[key], self.where)
            raise self._unknown(name)
        return self._by_lower[key]


def class_by_name(neurons: pd.DataFrame) -> dict[str, str]:
    """What each neuron name means at class level: lower-case name -> its class.

    At class level (AVAL and AVAR merged into AVA) a user who types a neuron's name means
    that neuron's class; a neuron with no class recorded stands for itself.

    Parameters
    ----------
    neurons : DataFrame
        Indexed by neuron name, with a ``class`` column ("" where none is recorded), as
        ``Connectome.neurons``.

    >>> t = pd.DataFrame({"class": ["AVA", "AVA", ""]}, index=["AVAL", "AVAR", "CANL"])
    >>> class_by_name(t)
    {'aval': 'AVA', 'avar': 'AVA', 'canl': 'CANL'}
    """
    cls = class_names(neurons)
    return {str(name).lower(): c for name, c in zip(neurons.index, cls, strict=True)}

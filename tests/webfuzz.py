"""Bad payloads for every server callback of a live app, posted as the browser posts them.

:func:`server_callbacks` reads the callback map from ``/_dash-dependencies``;
:func:`payload` builds the body of ``/_dash-update-component`` for one callback with the
values given per dependency; :data:`NASTY` and :func:`json_values` are the bad values (wrong
types, None, huge numbers, NaN strings, deep and huge containers, forged stores);
:func:`page_form` reads a page's default form from its layout, as the browser would see it.
"""

import json
import time
import urllib.error

from hypothesis import strategies as st

__all__ = [
    "NASTY",
    "json_values",
    "server_callbacks",
    "outputs_of",
    "payload",
    "post_callback",
    "page_components",
    "form_values",
]


def _deep(depth: int):
    value = 0
    for _ in range(depth):
        value = [value]
    return value


#: Bad values sent to every input of a callback at once, one payload each.
NASTY = (
    None,
    "abc",
    "",
    "NaN",
    "inf",
    "-1e309",
    True,
    -1,
    0,
    10**30,
    1e308,
    -1e308,
    0.5,
    [],
    {},
    [None, "x", {"a": 1}],
    {"w": "abc", "source": 1, "target": None, "id": []},
    {"kind": "upload"},
    {"start": {"kind": "upload"}, "ops": "x"},
    _deep(200),
    list(range(20_000)),
    "x" * 300_000,
    {f"k{i}": i for i in range(5_000)},
)


def json_values():
    """Any JSON value, small: scalars of every type and nested lists and dicts of them."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.sampled_from(["NaN", "Infinity", "-1", "1e309", "PLML", "AVAL", "ltc", "graded"])
        | st.text(max_size=12)
    )
    return st.recursive(
        scalars,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
        ),  # fmt: skip
        max_leaves=12,
    )


def server_callbacks(deps):
    """The server callbacks of a ``/_dash-dependencies`` list (not the clientside ones)."""
    return [d for d in deps if d.get("clientside_function") is None]


def _split(name: str) -> dict:
    id_, prop = name.rsplit(".", 1)
    return {"id": json.loads(id_) if id_.startswith("{") else id_, "property": prop}


def _concrete(pattern: dict) -> dict:
    """A concrete id matching a pattern-matching id (wildcards become 0)."""
    return {k: (0 if isinstance(v, list) else v) for k, v in pattern.items()}


def _single(pattern: dict) -> bool:
    """Whether a pattern-matching id names one component (MATCH wildcards only)."""
    wild = [v[0] for v in pattern.values() if isinstance(v, list)]
    return bool(wild) and all(w == "MATCH" for w in wild)


def outputs_of(spec, components=None) -> list:
    """The ``outputs`` of a request for ``spec``; an ALL output matches every one of
    ``components`` (a page's, see :func:`page_components`) or one made-up id."""
    output = spec["output"]
    names = output.strip(".").split("...") if output.startswith("..") else [output]
    outs = []
    for name in names:
        out = _split(name)
        if isinstance(out["id"], dict):  # one match of MATCH; a list of them for ALL
            one = {"id": _concrete(out["id"]), "property": out["property"]}
            if _single(out["id"]):
                out = one
            elif components is not None:
                out = [{"id": id_, "property": out["property"]}
                       for id_, _ in components if _matches(out["id"], id_)]  # fmt: skip
            else:
                out = [one]
        outs.append(out)
    return outs


def _key(dep) -> str:
    return f"{dep['id']}.{dep['property']}"


def payload(spec, values: dict, trigger: str | None = None, components=None) -> dict:
    """The body the browser posts for callback ``spec`` with ``values`` per ``"id.prop"``
    (missing: None; a pattern-matching dependency takes a list of ``{"id", "property",
    "value"}`` items, or a bare value, sent as one match)."""
    outs = outputs_of(spec, components)

    def item(dep):
        value = values.get(_key(dep))
        if dep["id"].startswith("{"):
            if isinstance(value, list) and all(isinstance(v, dict) and "id" in v for v in value):
                return value  # the matches, given
            pattern = json.loads(dep["id"])
            one = {"id": _concrete(pattern), "property": dep["property"], "value": value}
            if _single(pattern):  # MATCH only: the one match itself
                return one
            return [] if value is None else [one]
        return {"id": dep["id"], "property": dep["property"], "value": value}

    if trigger is None:
        first = spec["inputs"][0]
        id_ = first["id"]
        if id_.startswith("{"):  # the id of one concrete match, as Dash writes it
            id_ = json.dumps(_concrete(json.loads(id_)), sort_keys=True, separators=(",", ":"))
        trigger = f"{id_}.{first['property']}"
    return {
        "output": spec["output"],
        "outputs": outs if spec["output"].startswith("..") else outs[0],
        "inputs": [item(d) for d in spec["inputs"]],
        "changedPropIds": [trigger],
        "state": [item(d) for d in spec["state"]],
    }


def post_callback(server, body: dict, timeout: float, query: str = ""):
    """(status, text, seconds) of posting ``body`` to ``/_dash-update-component``; status 0
    when no answer came within ``timeout`` s."""
    tic = time.monotonic()
    try:
        status, text = server.post(
            "/_dash-update-component" + query, json.dumps(body).encode(), timeout=timeout
        )
    except (TimeoutError, urllib.error.URLError, ConnectionError) as err:
        status, text = 0, f"no answer: {err!r}"
    return status, text, time.monotonic() - tic


def page_components(layout) -> list:
    """Every component with an id in a layout (as JSON from Dash): ``(id, props)``."""
    found = []

    def walk(node):
        if isinstance(node, list):
            for child in node:
                walk(child)
        elif isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict):
                if "id" in props:
                    found.append((props["id"], props))
                for value in props.values():
                    walk(value)

    walk(layout)
    return found


def _matches(pattern: dict, id_) -> bool:
    return (
        isinstance(id_, dict)
        and id_.keys() == pattern.keys()
        and all(isinstance(v, list) or id_[k] == v for k, v in pattern.items())
    )


def form_values(spec, components, overrides=None) -> dict:
    """``{"id.prop": value}`` for every input and state of ``spec`` as the page's
    ``components`` hold them (pattern-matching ones as lists of matches)."""
    values = {}
    for dep in spec["inputs"] + spec["state"]:
        prop = dep["property"]
        if dep["id"].startswith("{"):
            pattern = json.loads(dep["id"])
            values[_key(dep)] = [
                {"id": id_, "property": prop, "value": id_ if prop == "id" else props.get(prop)}
                for id_, props in components
                if _matches(pattern, id_)
            ]
        else:
            values[_key(dep)] = next(
                (props.get(prop) for id_, props in components if id_ == dep["id"]), None
            )
    values.update(overrides or {})
    return values

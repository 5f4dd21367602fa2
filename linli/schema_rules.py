"""Rules across several fields, stated in the OpenAPI schema where JSON Schema can say them
(one of two fields, both or neither, one only with another), so that clients and generated
requests (schemathesis) see them before the server refuses. What JSON Schema cannot compare
(a start before its end) stays in the service, which answers 422 naming the field.

A request Struct lists its rules in `__schema_rules__`; linli.openapi adds them to its schema
as `allOf`. The service checks the same rules itself: the schema documents, it does not guard.
"""

from __future__ import annotations

from typing import Any

Rule = dict[str, Any]


def present(name: str) -> Rule:
    """The field is given and not null."""
    return {"required": [name], "properties": {name: {"not": {"type": "null"}}}}


def absent(name: str) -> Rule:
    """The field is left out or null."""
    return {"not": present(name)}


def exactly_one(*names: str) -> Rule:
    """Exactly one of the fields is given."""
    return {"oneOf": [{"allOf": [present(name), *(absent(o) for o in names if o != name)]}
                      for name in names]}


def at_least_one(*names: str) -> Rule:
    return {"anyOf": [present(name) for name in names]}


def requires(name: str, other: str) -> Rule:
    """`name` only together with `other`."""
    return {"if": present(name), "then": present(other)}


def together(first: str, second: str) -> Rule:
    """Both or neither."""
    return {"allOf": [requires(first, second), requires(second, first)]}


def only_when(name: str, field: str, value: str) -> Rule:
    """`name` is given exactly when `field` is `value`."""
    return {"if": {"required": [field], "properties": {field: {"const": value}}},
            "then": present(name), "else": absent(name)}

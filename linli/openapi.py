"""OpenAPI 3.1 generated from the route table's own types, so the spec cannot drift."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Sequence
from typing import Any

import msgspec

from linli.http import Route
from linli.problems import ProblemBody

REF = "#/components/schemas/{name}"


def _problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": REF.format(name="ProblemBody")}}},
    }


def _query_parameters(query: Any, schemas: dict[str, Any]) -> list[dict[str, Any]]:
    if query is None:
        return []
    (schema,), _ = msgspec.json.schema_components([query], ref_template=REF)
    name = schema["$ref"].rsplit("/", 1)[-1]
    component = schemas[name]
    required = set(component.get("required", []))
    return [
        {"name": prop, "in": "query", "required": prop in required, "schema": spec}
        for prop, spec in component.get("properties", {}).items()
    ]


def _error_response(route: Route, refs: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    if route.errors is None:
        return _problem_response("错误 (RFC 9457 problem+json)")
    return {"description": "错误 (该协议自己的格式)",
            "content": {route.errors.media_type: {"schema": refs[route.errors.schema]}}}


def _operation(route: Route, refs: dict[Any, dict[str, Any]], schemas: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": route.summary,
        "operationId": route.handler.__name__,
        "tags": list(route.tags),
        "x-linli-access": route.access.describe(),
        "parameters": [
            {"name": p, "in": "path", "required": True, "schema": {"type": "string"},
             "description": route.params.get(p, "")}
            for p in route.path_params
        ] + _query_parameters(route.query, schemas),
        "responses": {
            str(route.status): {"description": "成功"}
            | ({"content": {"application/json": {"schema": refs[route.response]}}}
               if route.response is not None else {}),
            "default": _error_response(route, refs),
        },
    }
    if route.body is not None:
        documented = route.body if route.body_doc is None else route.body_doc
        op["requestBody"] = {
            "required": True, "content": {"application/json": {"schema": refs[documented]}}
        }
    elif route.form is not None:
        op["requestBody"] = {"required": True, "content": {
            "application/x-www-form-urlencoded": {"schema": refs[route.form]}}}
    if route.idempotent:
        op["parameters"].append({"name": "Idempotency-Key", "in": "header", "required": False,
                                 "schema": {"type": "string", "maxLength": 200}})
    if not route.access.public:
        op["security"] = [{"bearer": []}]
    return op


def _hints(kind: Any) -> list[Any]:
    try:
        return list(typing.get_type_hints(kind).values())
    except (NameError, TypeError):  # a name only imported for type checking: nothing to add
        return []


def _factory_defaults(kind: Any, schemas: dict[str, Any], seen: set[Any]) -> None:
    """msgspec documents plain defaults but not a dataclass field's default_factory (a list
    of reminders, say): add those too, so a client sees every value it may leave out."""
    for arg in typing.get_args(kind):
        _factory_defaults(arg, schemas, seen)
    if not isinstance(kind, type) or kind in seen or not (
            dataclasses.is_dataclass(kind) or issubclass(kind, msgspec.Struct)):
        return
    seen.add(kind)
    if dataclasses.is_dataclass(kind):
        properties = schemas.get(getattr(kind, "__name__", ""), {}).get("properties", {})
        for f in dataclasses.fields(kind):
            if f.default_factory is not dataclasses.MISSING and f.name in properties:
                properties[f.name]["default"] = msgspec.to_builtins(f.default_factory())
    for hint in _hints(kind):
        _factory_defaults(hint, schemas, seen)


def build(title: str, version: str, routes: Sequence[Route]) -> dict[str, Any]:
    """The whole document for one service."""
    types = [ProblemBody]
    routes = [r for r in routes if r.documented]
    for r in routes:
        own = (r.body_doc or r.body, r.response, r.query, r.form,
               r.errors.schema if r.errors else None)
        types += [t for t in own if t is not None and t not in types]
    generated, schemas = msgspec.json.schema_components(types, ref_template=REF)
    refs = dict(zip(types, generated, strict=True))
    seen: set[Any] = set()
    for kind in types:
        _factory_defaults(kind, schemas, seen)
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, refs, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }

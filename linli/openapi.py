"""OpenAPI 3.1 generated from the route table's own types, so the spec cannot drift."""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Sequence
from typing import Any

import msgspec
import msgspec.inspect

from linli.http import Route
from linli.pagination import MAX_LIMIT, PageQuery
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


_DEFAULT = "错误 (RFC 9457 problem+json)"


def _error_response(route: Route, refs: dict[Any, dict[str, Any]],
                    description: str = _DEFAULT) -> dict[str, Any]:
    if route.errors is None:
        return _problem_response(description)
    return {"description": description if description != _DEFAULT else "错误 (该协议自己的格式)",
            "content": {route.errors.media_type: {"schema": refs[route.errors.schema]}}}

# What each refusal means, as the kernel gives it (linli/http.py, linli/problems.py)
REFUSALS = {
    400: "请求体不是有效的 JSON",
    401: "未登录: 缺少令牌, 或令牌无效、过期",
    403: "无权操作: 角色、应用范围或小区不符",
    404: "不存在 (或不属于该小区, 不透露是否存在)",
    406: "无法以请求的格式应答",
    409: "与当前状态冲突 (含同一 Idempotency-Key 的请求仍在处理)",
    413: "请求体过大",
    415: "请求体不是 JSON (Content-Type 须为 application/json)",
    422: "请求内容不合规 (errors 指明字段)",
    502: "依赖的服务出错, 或拒绝了本服务的请求 (平台配置问题, 不是请求的错); 什么都没有写入",
    503: "依赖暂时不可用 (数据库、消息总线、流程引擎或其他服务), 请按 Retry-After 稍后重试;"
         " 什么都没有写入",
}
_HEADERS = {
    401: {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}},
    503: {"Retry-After": {"description": "建议等待的秒数",
                          "schema": {"type": "string", "pattern": "^[0-9]+$"}}},
}


def refusals(route: Route) -> list[int]:
    """The refusals an operation can give, from its shape: every route can meet an outage
    (503) or a failing peer (502); a protected one 401/403; a path names something that may
    not exist (404); a body can be malformed, too large, not JSON or break a rule; a change can
    conflict with the current state. The health and metrics routes answer for themselves."""
    if "system" in route.tags:
        return sorted(route.refusals)
    codes = {502, 503, *route.refusals}
    if not route.access.public:
        codes |= {401, 403}
    if route.path_params:
        codes.add(404)
    if route.body is not None or route.form is not None:
        codes |= {400, 413, 415, 422}
    if route.query is not None:
        codes.add(422)
    if route.method != "GET":
        codes |= {409, 422}
    return sorted(codes)


def _responses(route: Route, refs: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    responses: dict[str, Any] = {
        str(route.status): {"description": "成功"}
        | ({"content": {"application/json": {"schema": refs[route.response]}}}
           if route.response is not None else {}),
    }
    for code in refusals(route):
        responses[str(code)] = _error_response(route, refs, REFUSALS[code]) | (
            {"headers": _HEADERS[code]} if code in _HEADERS else {})
    responses["default"] = _error_response(route, refs)
    return responses


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
        "responses": _responses(route, refs),
    }
    if route.body is not None:
        documented = route.body if route.body_doc is None else route.body_doc
        op["requestBody"] = {
            "required": True, "content": {"application/json": {"schema": refs[documented]}}
        }
    elif route.form is not None:
        op["requestBody"] = {"required": True, "content": {
            "application/x-www-form-urlencoded": {"schema": refs[route.form]}}}
    if isinstance(route.query, type) and issubclass(route.query, PageQuery):
        op["responses"]["400"] = _problem_response(
            f"limit 不是 1 到 {MAX_LIMIT} 之间的整数 (invalid-limit)，或 cursor 不是上一页给出的"
            " next_cursor (invalid-cursor)")
    if route.idempotent:
        op["parameters"].append({"name": "Idempotency-Key", "in": "header", "required": False,
                                 "schema": {"type": "string", "maxLength": 200}})
    op["parameters"] += [{"name": name, "in": "header", "required": False,
                          "schema": {"type": "string"}, "description": what}
                         for name, what in route.headers.items()]
    if not route.access.public:
        op["security"] = [{"bearer": []}]
    return op


def _structs(info: Any, seen: set[type]) -> None:
    """Every Struct class reachable from a msgspec type description."""
    if isinstance(info, msgspec.inspect.StructType):
        if info.cls in seen:
            return
        seen.add(info.cls)
        for f in info.fields:
            _structs(f.type, seen)
        return
    for attribute in ("item_type", "key_type", "value_type"):
        if (inner := getattr(info, attribute, None)) is not None:
            _structs(inner, seen)
    for inner in getattr(info, "types", ()) + getattr(info, "item_types", ()):
        _structs(inner, seen)


def _add_rules(types: Sequence[Any], schemas: dict[str, Any]) -> None:
    """Cross-field rules a request type states (linli/schema_rules.py) join its schema."""
    seen: set[type] = set()
    for info in msgspec.inspect.multi_type_info(types):
        _structs(info, seen)
    for cls in seen:
        rules = getattr(cls, "__schema_rules__", None)
        if rules and cls.__name__ in schemas:
            schemas[cls.__name__]["allOf"] = list(rules)


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
    _add_rules(types, schemas)
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

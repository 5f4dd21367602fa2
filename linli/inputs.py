"""What no request may carry to PostgreSQL, refused as a 422 naming the field: NUL characters
and lone surrogates (text and jsonb cannot hold them) and instants with no UTC equivalent."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import msgspec

from linli.problems import Problem

# PostgreSQL stores no NUL in text or jsonb, and a lone surrogate is no character at all
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# what a JSON text must contain to decode into one of them (escaped; raw ones are not JSON)
UNSTORABLE_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def unstorable_field(value: Any, path: str = "") -> str | None:
    """The path of the first string (or key) holding a NUL or a lone surrogate, else None."""
    if isinstance(value, str):
        return path or "$" if _UNSTORABLE.search(value) else None
    items: Any = ()
    if isinstance(value, dict):
        for key in value:
            if isinstance(key, str) and _UNSTORABLE.search(key):
                return f"{path}.{key!r}" if path else repr(key)
        items = ((f"{path}.{k}" if path else str(k), v) for k, v in value.items())
    elif isinstance(value, list | tuple):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    for where, item in items:
        found = unstorable_field(item, where)
        if found is not None:
            return found
    return None


def refuse_unstorable(value: Any, *, what: str = "请求体") -> None:
    """422 naming the field when a string holds a NUL or a lone surrogate."""
    field = unstorable_field(value)
    if field is not None:
        detail = f"{what}字段 {field} 含有不允许的字符 (NUL 或不成对的代理项)"
        raise Problem(422, "validation-error", "请求内容不合规", detail,
                      errors=[{"field": field, "detail": detail}])


def refuse_unstorable_text(text: str, *, what: str = "CSV") -> None:
    """The same for a text upload, naming the line (line 1 is the first)."""
    found = _UNSTORABLE.search(text)
    if found is not None:
        line = text.count("\n", 0, found.start()) + 1
        detail = f"{what} 第 {line} 行含有不允许的字符 (NUL 或不成对的代理项)"
        raise Problem(422, "validation-error", "请求内容不合规", detail,
                      errors=[{"field": f"line {line}", "detail": detail}])


def lenient_json(raw: bytes | bytearray) -> Any:
    """JSON as Python's json reads it: it keeps lone surrogates (msgspec refuses the whole text),
    so the field holding one can be named. None when the text is no JSON at all."""
    try:
        return json.loads(raw)
    except ValueError:
        return None


def _instant_field(value: Any, path: str = "") -> str | None:
    """The path of the first aware datetime that has no UTC equivalent (year 0 or 10000)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return None
        try:
            value.astimezone(dt.UTC)
        except OverflowError:
            return path or "$"
        return None
    if isinstance(value, msgspec.Struct):
        items: Any = ((f"{path}.{f}" if path else f, getattr(value, f))
                      for f in value.__struct_fields__)
    elif isinstance(value, dict):
        items = ((f"{path}.{k}" if path else str(k), v) for k, v in value.items())
    elif isinstance(value, list | tuple):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for where, item in items:
        found = _instant_field(item, where)
        if found is not None:
            return found
    return None


def refuse_unplaceable(value: Any, *, what: str = "请求体") -> None:
    """9999-12-31T23:59:59-14:00 parses, but PostgreSQL stores instants in UTC: 422, not 500."""
    field = _instant_field(value)
    if field is not None:
        detail = f"{what}字段 {field} 的时间超出可表示的范围 (换算为 UTC 后须在 0001 到 9999 年之间)"
        raise Problem(422, "validation-error", "请求内容不合规", detail,
                      errors=[{"field": field, "detail": detail}])


# msgspec says what failed in English; a person reads it in Chinese (the field names stay as sent)
_TYPES = {"str": "文本", "int": "整数", "float": "数字", "bool": "true 或 false", "array": "列表",
          "object": "对象", "null": "null", "bytes": "字节串"}


def _kinds(said: str) -> str:
    """msgspec's `int | null` as 整数或 null."""
    return "或".join(_TYPES.get(kind, kind) for kind in said.split(" | "))


_BOUNDS = {">=": "不能小于", "<=": "不能大于", ">": "须大于", "<": "须小于"}
_EXPLAINED: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(r"Expected `(\w+)` of length (>=|<=) (\d+)"),
     lambda m: (f"{'至少' if m[2] == '>=' else '最多'} {m[3]} "
                f"{'个字符' if m[1] == 'str' else '项'}")),
    (re.compile(r"Expected `(int|float)` (>=|<=|>|<) (\S+)"),
     lambda m: f"{_BOUNDS[m[2]]} {m[3]}"),
    (re.compile(r"Expected `str` matching regex"), lambda m: "格式不正确"),
    (re.compile(r"Expected `([^`]+)`, got `(\w+)`"),
     lambda m: f"应为{_kinds(m[1])}, 收到的是{_kinds(m[2])}"),
    (re.compile(r"Invalid UUID"), lambda m: "不是有效的 UUID"),
    (re.compile(r"Invalid RFC3339 encoded datetime"),
     lambda m: "不是有效的时间 (如 2026-12-01T09:00:00+08:00)"),
    (re.compile(r"Invalid RFC3339 encoded date"), lambda m: "不是有效的日期 (如 2026-12-01)"),
    (re.compile(r"Invalid RFC3339 encoded time"), lambda m: "不是有效的时刻 (如 09:00:00)"),
    (re.compile(r"Invalid enum value (.*)"), lambda m: f"取值 {m[1]} 不在允许的范围内"),
    (re.compile(r"Object contains unknown field `(.*)`"), lambda m: f"不认识的字段 {m[1]}"),
    (re.compile(r"Object missing required field `(.*)`"), lambda m: f"缺少必填字段 {m[1]}"),
]
_AT = re.compile(r" - at `\$\.?(.*)`$")


def explain(error: Exception) -> str:
    """A validation error in Chinese, the field first ("area: 格式不正确"); a message of our own
    (a check that raised ValueError in Chinese) is kept as it is."""
    text = str(error)
    found = _AT.search(text)
    path, said = (found[1], text[:found.start()]) if found else ("", text)
    for pattern, words in _EXPLAINED:
        matched = pattern.match(said)
        if matched:
            said = words(matched)
            break
    return f"{path}: {said}" if path else said

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

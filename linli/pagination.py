"""Cursor pagination: opaque cursors over a keyset, never offsets.

Every list answers a `Page` ({"items": [...], "next_cursor": ...}). A list that can grow takes
`PageQuery` (?cursor=…&limit=…) and reads one keyset page from an index; a list bounded by a
rule (a proposal's versions, a compound's categories) answers `whole(...)`, one page whose
next_cursor is null."""

from __future__ import annotations

import base64
import datetime as dt
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Generic, TypeVar

import msgspec

from linli import problems

T = TypeVar("T")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class Page(msgspec.Struct, Generic[T]):
    """A page of items and the cursor of the next page (null on the last)."""

    items: list[T]
    next_cursor: str | None = None


CURSOR_CHARS = re.compile(r"[A-Za-z0-9_-]{1,1000}")  # base64url, as encode_cursor writes it


class PageQuery(msgspec.Struct, kw_only=True):
    """?cursor=…&limit=… on every list that can grow (`check_page` guards both first)."""

    cursor: Annotated[str, msgspec.Meta(max_length=1_000, pattern=r"^[A-Za-z0-9_-]+$")] | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT


def whole(items: list[T]) -> Page[T]:
    """A list bounded by a rule, answered as its one page."""
    return Page(items=items)


def check_page(query: Mapping[str, str]) -> None:
    """400 in words unless ?limit= is a whole number from 1 to MAX_LIMIT (absent: the default)
    and ?cursor= looks like one this module wrote (decode_cursor checks what it holds)."""
    cursor = query.get("cursor")
    if cursor is not None and not CURSOR_CHARS.fullmatch(cursor):
        raise problems.bad_request("cursor 无效：请使用上一页给出的 next_cursor", "invalid-cursor")
    raw = query.get("limit")
    if raw is None:
        return
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_LIMIT):
        raise problems.bad_request(
            f"limit 必须是 1 到 {MAX_LIMIT} 之间的整数 (默认 {DEFAULT_LIMIT})，收到的是 {raw[:20]!r}",
            "invalid-limit")


def keyset(cursor: str | None, *types: Callable[[Any], Any]) -> tuple[Any, ...] | None:
    """The keyset a cursor holds, each value converted by its type; a foreign cursor is a 400."""
    values = decode_cursor(cursor)
    if values is None:
        return None
    if len(values) != len(types):
        raise problems.bad_request("cursor 无效", "invalid-cursor")
    try:
        return tuple(kind(value) for kind, value in zip(types, values, strict=True))
    except (ValueError, TypeError):
        raise problems.bad_request("cursor 无效", "invalid-cursor") from None


def instant(text: str) -> dt.datetime:
    """A keyset's timestamp (for `keyset`)."""
    return dt.datetime.fromisoformat(text)


def encode_cursor(values: list[Any]) -> str:
    """The keyset of the last item as an opaque string."""
    return base64.urlsafe_b64encode(msgspec.json.encode(values)).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    """Back to the keyset; a cursor not made here is a 400."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = msgspec.json.decode(base64.urlsafe_b64decode(padded))
    except (ValueError, msgspec.DecodeError):
        raise problems.bad_request("cursor 无效", "invalid-cursor") from None
    if not isinstance(values, list):
        raise problems.bad_request("cursor 无效", "invalid-cursor")
    return values


def page_of(rows: list[T], limit: int, key: Any) -> Page[T]:
    """Rows fetched with LIMIT limit+1 → a page; `key(row)` gives the keyset list."""
    more = len(rows) > limit
    items = rows[:limit]
    return Page(items=items, next_cursor=encode_cursor(key(items[-1])) if more else None)


def time_keyset(cursor: str | None,
                tiebreak: Callable[[Any], Any] = uuid.UUID) -> tuple[dt.datetime, Any] | None:
    """The (created_at, id) a cursor of `time_cursor` holds; `tiebreak` is the id's type."""
    values = decode_cursor(cursor)
    if values is None:
        return None
    try:
        return dt.datetime.fromisoformat(values[0]), tiebreak(values[1])
    except (ValueError, TypeError, IndexError):
        raise problems.bad_request("cursor 无效", "invalid-cursor") from None


def time_cursor(item: Any) -> list[str]:
    """Keyset of lists ordered by (created_at, id), for `page_of`."""
    return [item.created_at.isoformat(), str(item.id)]

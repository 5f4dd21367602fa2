"""Cursor pagination: opaque cursors over a keyset, never offsets."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Callable
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


class PageQuery(msgspec.Struct, kw_only=True):
    """?cursor=…&limit=… on every list."""

    cursor: Annotated[str, msgspec.Meta(max_length=1_000)] | None = None
    limit: Annotated[int, msgspec.Meta(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT


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

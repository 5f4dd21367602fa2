"""Plain SQL of venues, closures, bookings and series; keyword-only, taking the connection.

Activities and sign-ups are in activity_store.py, groups and the library in library_store.py.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from linli.db import Connection

Row = Any
Key = tuple[dt.datetime, Any] | None
LIVE = ("pending", "confirmed")


def insert_sql(table: str, fields: dict[str, Any], tail: str = "RETURNING *") -> str:
    """`INSERT INTO table (names) VALUES ($1…)` + tail; pass `*fields.values()`."""
    marks = ", ".join(f"${i}" for i in range(1, len(fields) + 1))
    return f"INSERT INTO {table} ({', '.join(fields)}) VALUES ({marks}) {tail}"


def update_sql(table: str, fields: dict[str, Any], where: str = "id = $1") -> str:
    """`UPDATE table SET a = $2, … WHERE id = $1 RETURNING *`; pass id, *fields.values()."""
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(fields, start=2))
    return f"UPDATE {table} SET {sets} WHERE {where} RETURNING *"


async def insert(conn: Connection, *, table: str, fields: dict[str, Any],
                 tail: str = "RETURNING *") -> Row:
    return await conn.fetchrow(insert_sql(table, fields, tail), *fields.values())


async def get(conn: Connection, *, table: str, id: uuid.UUID, lock: bool = False) -> Row:
    """One row by id (tables are fixed names from code, never from a request)."""
    return await conn.fetchrow(
        f"SELECT * FROM {table} WHERE id = $1{' FOR UPDATE' if lock else ''}", id)


async def update(conn: Connection, *, table: str, id: uuid.UUID, fields: dict[str, Any]) -> Row:
    return await conn.fetchrow(update_sql(table, fields), id, *fields.values())


# ---------------------------------------------------------------- venues


async def list_venues(conn: Connection, *, compound_id: uuid.UUID) -> list[Row]:
    return await conn.fetch("SELECT * FROM venues WHERE compound_id = $1 ORDER BY name",
                            compound_id)


async def insert_closure(conn: Connection, *, id: uuid.UUID, venue_id: uuid.UUID,
                         starts_at: dt.datetime, ends_at: dt.datetime, reason: str,
                         by: str) -> Row:
    return await conn.fetchrow(
        "INSERT INTO venue_closures (id, venue_id, during, reason, created_by)"
        " VALUES ($1, $2, tstzrange($3, $4), $5, $6)"
        " RETURNING id, venue_id, lower(during) AS starts_at, upper(during) AS ends_at, reason",
        id, venue_id, starts_at, ends_at, reason, by)


async def list_closures(conn: Connection, *, venue_id: uuid.UUID) -> list[Row]:
    return await conn.fetch(
        "SELECT id, venue_id, lower(during) AS starts_at, upper(during) AS ends_at, reason"
        " FROM venue_closures WHERE venue_id = $1 AND upper(during) > now() ORDER BY during",
        venue_id)


async def closure_over(conn: Connection, *, venue_id: uuid.UUID, starts_at: dt.datetime,
                       ends_at: dt.datetime) -> Row:
    """A closure of the venue overlapping [starts_at, ends_at), or None."""
    return await conn.fetchrow(
        "SELECT reason, lower(during) AS starts_at, upper(during) AS ends_at FROM venue_closures"
        " WHERE venue_id = $1 AND during && tstzrange($2, $3) LIMIT 1", venue_id, starts_at,
        ends_at)


# ---------------------------------------------------------------- bookings


async def insert_booking(conn: Connection, *, fields: dict[str, Any], buffer_minutes: int) -> Row:
    """The booking with its blocked range (itself plus the venue's buffer after it); the
    exclusion constraint raises ExclusionViolationError when it overlaps a live booking."""
    names = [*fields, "blocked"]
    n = len(fields)
    marks = [f"${i}" for i in range(1, n + 1)]
    start, end = list(fields).index("starts_at") + 1, list(fields).index("ends_at") + 1
    blocked = (f"tstzrange(${start}::timestamptz,"
               f" ${end}::timestamptz + make_interval(mins => ${n + 1}::int))")
    return await conn.fetchrow(
        f"INSERT INTO bookings ({', '.join(names)}) VALUES ({', '.join(marks)}, {blocked})"
        " RETURNING *", *fields.values(), buffer_minutes)


async def move_booking(conn: Connection, *, id: uuid.UUID, starts_at: dt.datetime,
                       ends_at: dt.datetime, buffer_minutes: int) -> Row:
    return await conn.fetchrow(
        "UPDATE bookings SET starts_at = $2, ends_at = $3,"
        " blocked = tstzrange($2, $3::timestamptz + make_interval(mins => $4::int)),"
        " updated_at = now()"
        " WHERE id = $1 RETURNING *", id, starts_at, ends_at, buffer_minutes)


async def set_booking_status(conn: Connection, *, id: uuid.UUID, status: str, by: str,
                             reason: str | None = None) -> Row:
    return await conn.fetchrow(
        "UPDATE bookings SET status = $2, decided_by = $3, decided_at = now(),"
        " reason = coalesce($4, reason), updated_at = now() WHERE id = $1 RETURNING *",
        id, status, by, reason)


async def clash(conn: Connection, *, venue_id: uuid.UUID, starts_at: dt.datetime,
                ends_at: dt.datetime, buffer_minutes: int,
                other_than: uuid.UUID | None = None) -> Row:
    """The live booking a new one [starts_at, ends_at) would collide with, or None."""
    return await conn.fetchrow(
        "SELECT * FROM bookings WHERE venue_id = $1 AND status IN ('pending', 'confirmed')"
        " AND blocked && tstzrange($2, $3::timestamptz + make_interval(mins => $4::int))"
        " AND ($5::uuid IS NULL OR id <> $5) ORDER BY starts_at LIMIT 1",
        venue_id, starts_at, ends_at, buffer_minutes, other_than)


async def list_bookings(conn: Connection, *, compound_id: uuid.UUID, venue_id: uuid.UUID | None,
                        status: str | None, booker_id: str | None, after: Key,
                        limit: int) -> list[Row]:
    return await conn.fetch(
        "SELECT * FROM bookings WHERE compound_id = $1 AND ($2::uuid IS NULL OR venue_id = $2)"
        " AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR booker_id = $4)"
        " AND ($5::timestamptz IS NULL OR (created_at, id) < ($5, $6))"
        " ORDER BY created_at DESC, id DESC LIMIT $7",
        compound_id, venue_id, status, booker_id, after[0] if after else None,
        after[1] if after else None, limit)


async def venue_schedule(conn: Connection, *, venue_id: uuid.UUID, since: dt.datetime,
                         until: dt.datetime) -> list[Row]:
    return await conn.fetch(
        "SELECT * FROM bookings WHERE venue_id = $1 AND status IN ('pending', 'confirmed')"
        " AND starts_at < $3 AND ends_at > $2 ORDER BY starts_at", venue_id, since, until)


async def series_bookings(conn: Connection, *, series_id: uuid.UUID) -> list[Row]:
    return await conn.fetch("SELECT * FROM bookings WHERE series_id = $1 ORDER BY starts_at",
                            series_id)

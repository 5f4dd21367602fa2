"""Plain SQL of the service ledger (服务台账) and its statistics."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from linli.db import Connection
from services.volunteers.store import insert_sql

Row = Any


async def insert_entry(conn: Connection, *, fields: dict[str, Any]) -> bool:
    """One line per service; a second line for the same order or visit is refused."""
    done = await conn.fetchval(
        insert_sql("ledger", fields, "ON CONFLICT DO NOTHING RETURNING id"), *fields.values())
    return done is not None


async def rate_entry(conn: Connection, *, source_id: uuid.UUID, rating: int) -> None:
    await conn.execute("UPDATE ledger SET rating = $2 WHERE source = 'order' AND source_id = $1",
                       source_id, rating)


async def list_entries(conn: Connection, *, compound_id: uuid.UUID,
                       volunteer_id: uuid.UUID | None, skill: str | None,
                       after: tuple[dt.datetime, int] | None, limit: int | None) -> list[Row]:
    return await conn.fetch(
        "SELECT l.*, v.name AS volunteer_name FROM ledger l JOIN volunteers v"
        " ON v.id = l.volunteer_id WHERE l.compound_id = $1"
        " AND ($2::uuid IS NULL OR l.volunteer_id = $2) AND ($3::text IS NULL OR l.skill = $3)"
        " AND ($4::timestamptz IS NULL OR (l.served_at, l.id) < ($4, $5))"
        " ORDER BY l.served_at DESC, l.id DESC LIMIT $6",
        compound_id, volunteer_id, skill, after[0] if after else None,
        after[1] if after else None, limit)


def _inert(text: str) -> str:
    """ledger._cell in SQL: a cell starting with = + - @ TAB or CR (code points 61 43 45 64 9
    13) gets an apostrophe, so a spreadsheet never runs it; an empty text becomes NULL, since
    COPY quotes an empty string ("") where Python's csv writes nothing, and writes NULL as
    nothing."""
    return (f"NULLIF(CASE WHEN ascii({text}) IN (61, 43, 45, 64, 9, 13)"
            f" THEN '''' || {text} ELSE {text} END, '')")


# Each cell as ledger.csv_text writes it: the served time in the session's (local) time zone,
# the skill's name (its code when the compound has none), the minutes as hours with two
# decimals rounded half up (rules.hours), the rating or nothing, the source's label (LABELS).
EXPORT_CSV = (
    "SELECT to_char(l.served_at, 'YYYY-MM-DD HH24:MI'),"
    f" {_inert('l.title')}, {_inert('coalesce(s.name, l.skill)')}, {_inert('v.name')},"
    " NULLIF(l.person_id, ''), l.minutes,"
    " round(((l.minutes * 100 + 30) / 60)::numeric / 100, 2), l.rating, LABELS, l.source_id"
    " FROM ledger l JOIN volunteers v ON v.id = l.volunteer_id"
    " LEFT JOIN skills s ON s.compound_id = l.compound_id AND s.code = l.skill"
    " WHERE l.compound_id = $1 ORDER BY l.served_at DESC, l.id DESC")


async def export_csv(conn: Connection, *, compound_id: uuid.UUID, zone: str,
                     sources: dict[str, str], output: Callable[[bytes], Awaitable[object]]) -> None:
    """The compound's whole ledger, newest first, as CSV rows made by PostgreSQL (COPY … TO
    STDOUT, rows ending in LF), handed to `output` as they arrive: asyncpg reads no further
    until `output` returns, so memory stays bounded however long the ledger. Inside the
    caller's transaction: the time zone is set for it alone (a row costs less than with AT
    TIME ZONE), and the labels become a CASE on constants (asyncpg inlines COPY's arguments)."""
    await conn.execute("SELECT set_config('TimeZone', $1, true)", zone)
    labels = " ".join(f"WHEN ${2 * i + 2} THEN ${2 * i + 3}" for i in range(len(sources)))
    await conn.copy_from_query(
        EXPORT_CSV.replace("LABELS", f"CASE l.source {labels} END"), compound_id,
        *(text for pair in sources.items() for text in pair), output=output, format="csv")


async def summary(conn: Connection, *, compound_id: uuid.UUID) -> Row:
    return await conn.fetchrow(
        "SELECT count(*) AS services, coalesce(sum(minutes), 0) AS minutes,"
        " avg(rating)::float AS average_rating, count(rating) AS rated,"
        " count(DISTINCT volunteer_id) AS volunteers FROM ledger WHERE compound_id = $1",
        compound_id)


async def by_skill(conn: Connection, *, compound_id: uuid.UUID) -> list[Row]:
    return await conn.fetch(
        "SELECT l.skill, coalesce(s.name, l.skill) AS name, count(*) AS services,"
        " sum(l.minutes) AS minutes FROM ledger l LEFT JOIN skills s"
        " ON s.compound_id = l.compound_id AND s.code = l.skill WHERE l.compound_id = $1"
        " GROUP BY l.skill, s.name ORDER BY count(*) DESC, l.skill", compound_id)


async def by_volunteer(conn: Connection, *, compound_id: uuid.UUID) -> list[Row]:
    return await conn.fetch(
        "SELECT l.volunteer_id, v.name, count(*) AS services, sum(l.minutes) AS minutes,"
        " avg(l.rating)::float AS average_rating FROM ledger l JOIN volunteers v"
        " ON v.id = l.volunteer_id WHERE l.compound_id = $1"
        " GROUP BY l.volunteer_id, v.name ORDER BY sum(l.minutes) DESC, v.name", compound_id)


async def orders_by_status(conn: Connection, *, compound_id: uuid.UUID) -> dict[str, int]:
    rows = await conn.fetch("SELECT status, count(*) AS n FROM orders WHERE compound_id = $1"
                            " GROUP BY status", compound_id)
    return {r["status"]: r["n"] for r in rows}


async def missed_visits(conn: Connection, *, compound_id: uuid.UUID) -> int:
    n: int = await conn.fetchval(
        "SELECT count(*) FROM care_visits WHERE compound_id = $1 AND status = 'missed'",
        compound_id)
    return n

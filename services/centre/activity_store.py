"""Plain SQL of activity plans, activities and sign-ups; keyword-only, taking the connection."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from linli.db import Connection

Row = Any
Key = tuple[dt.datetime, Any] | None
# An activity with its live counts, so lists show how full each one is.
WITH_COUNTS = (
    "SELECT a.*,"
    " (SELECT count(*) FROM signups s WHERE s.activity_id = a.id AND s.status = 'confirmed')"
    "   AS confirmed,"
    " (SELECT count(*) FROM signups s WHERE s.activity_id = a.id AND s.status = 'waiting')"
    "   AS waiting FROM activities a")


async def list_plans(conn: Connection, *, compound_id: uuid.UUID, audience: str | None,
                     period: str | None, after: Key, limit: int) -> list[Row]:
    return await conn.fetch(
        "SELECT * FROM activity_plans WHERE compound_id = $1"
        " AND ($2::text IS NULL OR audience = $2) AND ($3::text IS NULL OR period = $3)"
        " AND ($4::timestamptz IS NULL OR (created_at, id) < ($4, $5))"
        " ORDER BY created_at DESC, id DESC LIMIT $6",
        compound_id, audience, period, after[0] if after else None,
        after[1] if after else None, limit)


async def activity(conn: Connection, *, id: uuid.UUID) -> Row:
    return await conn.fetchrow(f"{WITH_COUNTS} WHERE a.id = $1", id)


async def lock_activity(conn: Connection, *, id: uuid.UUID) -> Row:
    """The activity row locked: every sign-up and cancellation of one activity goes through
    this lock, so places and the waiting list change one at a time."""
    return await conn.fetchrow("SELECT * FROM activities WHERE id = $1 FOR UPDATE", id)


async def list_activities(conn: Connection, *, compound_id: uuid.UUID, audience: str | None,
                          plan_id: uuid.UUID | None, group_id: uuid.UUID | None,
                          upcoming: bool, after: Key, limit: int) -> list[Row]:
    return await conn.fetch(
        f"{WITH_COUNTS} WHERE a.compound_id = $1 AND ($2::text IS NULL OR a.audience = $2)"
        " AND ($3::uuid IS NULL OR a.plan_id = $3) AND ($4::uuid IS NULL OR a.group_id = $4)"
        " AND (NOT $5 OR (a.starts_at > now() AND a.status = 'open'))"
        " AND ($6::timestamptz IS NULL OR (a.created_at, a.id) < ($6, $7))"
        " ORDER BY a.created_at DESC, a.id DESC LIMIT $8",
        compound_id, audience, plan_id, group_id, upcoming, after[0] if after else None,
        after[1] if after else None, limit)


async def plan_activities(conn: Connection, *, plan_id: uuid.UUID) -> list[Row]:
    return await conn.fetch(f"{WITH_COUNTS} WHERE a.plan_id = $1 ORDER BY a.starts_at", plan_id)


async def next_for_group(conn: Connection, *, group_id: uuid.UUID, limit: int) -> list[Row]:
    return await conn.fetch(
        f"{WITH_COUNTS} WHERE a.group_id = $1 AND a.status = 'open' AND a.starts_at > now()"
        " ORDER BY a.starts_at LIMIT $2", group_id, limit)


async def confirmed_count(conn: Connection, *, activity_id: uuid.UUID) -> int:
    n: int = await conn.fetchval(
        "SELECT count(*) FROM signups WHERE activity_id = $1 AND status = 'confirmed'",
        activity_id)
    return n


async def position(conn: Connection, *, activity_id: uuid.UUID, seq: int) -> int:
    """1-based place in the waiting list of the sign-up with this arrival seq."""
    n: int = await conn.fetchval(
        "SELECT count(*) FROM signups WHERE activity_id = $1 AND status = 'waiting'"
        " AND seq <= $2", activity_id, seq)
    return n


async def signup_of(conn: Connection, *, activity_id: uuid.UUID, person_id: str) -> Row:
    return await conn.fetchrow(
        "SELECT * FROM signups WHERE activity_id = $1 AND person_id = $2"
        " AND status <> 'cancelled'", activity_id, person_id)


async def signup_by_code(conn: Connection, *, activity_id: uuid.UUID, code: str) -> Row:
    return await conn.fetchrow(
        "SELECT * FROM signups WHERE activity_id = $1 AND code = $2 AND status <> 'cancelled'",
        activity_id, code)


async def promote_first(conn: Connection, *, activity_id: uuid.UUID, now: dt.datetime,
                        confirm_by: dt.datetime | None) -> Row:
    """The first person waiting (arrival order) gets the freed place, or None."""
    return await conn.fetchrow(
        "UPDATE signups SET status = 'confirmed', promoted_at = $2, confirm_by = $3 WHERE id ="
        " (SELECT id FROM signups WHERE activity_id = $1 AND status = 'waiting'"
        "  ORDER BY seq LIMIT 1) RETURNING *", activity_id, now, confirm_by)


async def unconfirmed(conn: Connection, *, now: dt.datetime, limit: int) -> list[Row]:
    """Promotions not confirmed in time (candidates: each is re-checked under the lock)."""
    return await conn.fetch(
        "SELECT id, activity_id FROM signups WHERE confirm_by < $1 AND status = 'confirmed'"
        " ORDER BY confirm_by LIMIT $2", now, limit)


async def list_signups(conn: Connection, *, activity_id: uuid.UUID, person_id: str | None,
                       after: tuple[str, int] | None, limit: int) -> list[Row]:
    """One page of the live sign-ups by (status, seq) after the keyset, each waiting one with
    its place in the queue (counted over the whole queue); only `person_id`'s when given."""
    status, seq = after or (None, None)
    return await conn.fetch(
        "SELECT * FROM (SELECT s.*, CASE WHEN s.status = 'waiting' THEN row_number() OVER"
        "   (PARTITION BY s.status ORDER BY s.seq) END AS position FROM signups s"
        "   WHERE s.activity_id = $1 AND s.status <> 'cancelled') q"
        " WHERE ($2::text IS NULL OR person_id = $2)"
        " AND ($3::text IS NULL OR (status, seq) > ($3, $4::bigint))"
        " ORDER BY status, seq LIMIT $5",
        activity_id, person_id, status, seq, limit)


async def live_people(conn: Connection, *, activity_id: uuid.UUID) -> list[str]:
    rows = await conn.fetch(
        "SELECT person_id FROM signups WHERE activity_id = $1 AND status <> 'cancelled'"
        " ORDER BY seq", activity_id)
    return [r["person_id"] for r in rows]


async def attendees(conn: Connection, *, activity_id: uuid.UUID) -> list[str]:
    rows = await conn.fetch(
        "SELECT person_id FROM signups WHERE activity_id = $1 AND checked_in_at IS NOT NULL"
        " ORDER BY seq", activity_id)
    return [r["person_id"] for r in rows]


async def confirmed_people(conn: Connection, *, activity_id: uuid.UUID) -> list[str]:
    rows = await conn.fetch(
        "SELECT person_id FROM signups WHERE activity_id = $1 AND status = 'confirmed'"
        " ORDER BY seq", activity_id)
    return [r["person_id"] for r in rows]


async def attendance(conn: Connection, *, activity_id: uuid.UUID) -> Row:
    return await conn.fetchrow(
        "SELECT count(*) FILTER (WHERE status = 'confirmed') AS confirmed,"
        " count(*) FILTER (WHERE checked_in_at IS NOT NULL) AS attended,"
        " avg(feedback)::float AS feedback_average FROM signups WHERE activity_id = $1",
        activity_id)

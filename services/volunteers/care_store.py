"""Plain SQL of recurring care: plans and their scheduled visits."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from linli.db import Connection
from services.volunteers.store import insert_sql

Row = Any


async def insert_plan(conn: Connection, *, fields: dict[str, Any]) -> Row:
    return await conn.fetchrow(insert_sql("care_plans", fields), *fields.values())


async def get_plan(conn: Connection, *, id: uuid.UUID, lock: bool = False) -> Row:
    return await conn.fetchrow(
        f"SELECT * FROM care_plans WHERE id = $1{' FOR UPDATE' if lock else ''}", id)


async def end_plan(conn: Connection, *, id: uuid.UUID) -> Row:
    return await conn.fetchrow(
        "UPDATE care_plans SET status = 'ended', ended_at = now() WHERE id = $1 RETURNING *", id)


async def list_plans(conn: Connection, *, compound_id: uuid.UUID, volunteer_id: uuid.UUID | None,
                     after: tuple[str, dt.datetime, uuid.UUID] | None, limit: int) -> list[Row]:
    """One page: active plans first, then newest first, after the keyset (status, created_at,
    id)."""
    status, at, last = after or (None, None, None)
    return await conn.fetch(
        "SELECT * FROM care_plans WHERE compound_id = $1 AND ($2::uuid IS NULL"
        " OR volunteer_id = $2) AND ($3::text IS NULL OR status > $3"
        "   OR (status = $3 AND (created_at, id) < ($4::timestamptz, $5::uuid)))"
        " ORDER BY status, created_at DESC, id DESC LIMIT $6",
        compound_id, volunteer_id, status, at, last, limit)


async def open_visits(conn: Connection, *, plan_ids: list[uuid.UUID]) -> list[Row]:
    """The latest due visit of each of these plans, in one query."""
    return await conn.fetch(
        "SELECT DISTINCT ON (plan_id) * FROM care_visits WHERE plan_id = ANY($1)"
        " AND status = 'due' ORDER BY plan_id, seq DESC", plan_ids)


async def insert_visit(conn: Connection, *, plan_id: uuid.UUID, compound_id: uuid.UUID,
                       seq: int, due_at: dt.datetime) -> Row:
    return await conn.fetchrow(
        "INSERT INTO care_visits (id, plan_id, compound_id, seq, due_at, status)"
        " VALUES ($1, $2, $3, $4, $5, 'due') ON CONFLICT DO NOTHING RETURNING *",
        uuid.uuid4(), plan_id, compound_id, seq, due_at)


async def get_visit(conn: Connection, *, id: uuid.UUID, lock: bool = False) -> Row:
    return await conn.fetchrow(
        f"SELECT * FROM care_visits WHERE id = $1{' FOR UPDATE' if lock else ''}", id)


async def open_visit(conn: Connection, *, plan_id: uuid.UUID) -> Row:
    return await conn.fetchrow(
        "SELECT * FROM care_visits WHERE plan_id = $1 AND status = 'due'"
        " ORDER BY seq DESC LIMIT 1", plan_id)


async def list_visits(conn: Connection, *, plan_id: uuid.UUID, after: int | None,
                      limit: int) -> list[Row]:
    """One page of a plan's visits in order, after the visit number `after`."""
    return await conn.fetch(
        "SELECT * FROM care_visits WHERE plan_id = $1 AND ($2::int IS NULL OR seq > $2)"
        " ORDER BY seq LIMIT $3", plan_id, after, limit)


async def update_visit(conn: Connection, *, id: uuid.UUID, fields: dict[str, Any]) -> Row:
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(fields, start=2))
    return await conn.fetchrow(f"UPDATE care_visits SET {sets} WHERE id = $1 RETURNING *",
                               id, *fields.values())


async def cancel_open(conn: Connection, *, plan_id: uuid.UUID) -> None:
    await conn.execute("UPDATE care_visits SET status = 'cancelled' WHERE plan_id = $1"
                       " AND status = 'due'", plan_id)


async def claim_overdue(conn: Connection, *, now: dt.datetime, compound_id: uuid.UUID | None,
                        limit: int) -> list[Row]:
    """Due visits past their time, claimed with their plans so that two replicas never flag
    one twice and a plan being ended or recorded meanwhile is left for the next sweep."""
    return await conn.fetch(
        "SELECT v.* FROM care_visits v JOIN care_plans p ON p.id = v.plan_id"
        " WHERE v.status = 'due' AND v.due_at < $1 AND ($2::uuid IS NULL OR v.compound_id = $2)"
        " ORDER BY v.due_at LIMIT $3 FOR UPDATE OF v, p SKIP LOCKED", now, compound_id, limit)


async def flags(conn: Connection, *, compound_id: uuid.UUID,
                after: tuple[dt.datetime, uuid.UUID] | None, limit: int) -> list[Row]:
    """One page of missed visits not followed up, by (due_at, id)."""
    at, last = after or (None, None)
    return await conn.fetch(
        "SELECT * FROM care_visits WHERE compound_id = $1 AND status = 'missed'"
        " AND acknowledged_at IS NULL"
        " AND ($2::timestamptz IS NULL OR (due_at, id) > ($2, $3::uuid))"
        " ORDER BY due_at, id LIMIT $4", compound_id, at, last, limit)

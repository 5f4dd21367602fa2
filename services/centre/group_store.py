"""Plain SQL of interest groups and their members; keyword-only, taking the connection."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from linli.db import Connection

Row = Any


async def group_of(conn: Connection, *, group_id: uuid.UUID, compound_id: uuid.UUID,
                   lock: bool = False) -> Row:
    return await conn.fetchrow(
        "SELECT * FROM interest_groups WHERE id = $1 AND compound_id = $2"
        f"{' FOR UPDATE' if lock else ''}", group_id, compound_id)


async def is_leader(conn: Connection, *, group_id: uuid.UUID, person_id: str) -> bool:
    return bool(await conn.fetchval(
        "SELECT true FROM group_members WHERE group_id = $1 AND person_id = $2"
        " AND role = 'leader' AND status = 'active'", group_id, person_id))


async def list_groups(conn: Connection, *, compound_id: uuid.UUID, status: str | None,
                      after: tuple[dt.datetime, uuid.UUID] | None = None,
                      limit: int | None = None) -> list[Row]:
    """The groups oldest first (a page after the keyset (created_at, id) when limited)."""
    at, last = after or (None, None)
    return await conn.fetch(
        "SELECT g.*, (SELECT count(*) FROM group_members m WHERE m.group_id = g.id"
        "             AND m.status = 'active') AS members,"
        " ARRAY(SELECT m.name FROM group_members m WHERE m.group_id = g.id"
        "       AND m.role = 'leader' AND m.status = 'active' ORDER BY m.joined_at) AS leaders"
        " FROM interest_groups g WHERE g.compound_id = $1 AND ($2::text IS NULL OR g.status = $2)"
        " AND ($3::timestamptz IS NULL OR (g.created_at, g.id) > ($3, $4::uuid))"
        " ORDER BY g.created_at, g.id LIMIT $5", compound_id, status, at, last, limit)


async def member(conn: Connection, *, group_id: uuid.UUID, person_id: str,
                 lock: bool = False) -> Row:
    return await conn.fetchrow(
        "SELECT * FROM group_members WHERE group_id = $1 AND person_id = $2"
        f"{' FOR UPDATE' if lock else ''}", group_id, person_id)


async def put_member(conn: Connection, *, group_id: uuid.UUID, person_id: str, name: str,
                     role: str, status: str) -> Row:
    """Join (or rejoin after leaving): a left member comes back as a new join."""
    return await conn.fetchrow(
        "INSERT INTO group_members (group_id, person_id, name, role, status)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (group_id, person_id) DO UPDATE"
        " SET status = $5, role = $4, name = $3, joined_at = now()"
        " WHERE group_members.status = 'left' RETURNING *",
        group_id, person_id, name, role, status)


async def set_member(conn: Connection, *, group_id: uuid.UUID, person_id: str,
                     status: str) -> Row:
    return await conn.fetchrow(
        "UPDATE group_members SET status = $3 WHERE group_id = $1 AND person_id = $2"
        " RETURNING *", group_id, person_id, status)


async def members(conn: Connection, *, group_id: uuid.UUID,
                  after: tuple[str, dt.datetime, str] | None, limit: int) -> list[Row]:
    """One page of the members (leaders first, then by joining) after the keyset."""
    role, at, person = after or (None, None, None)
    return await conn.fetch(
        "SELECT * FROM group_members WHERE group_id = $1 AND status <> 'left'"
        " AND ($2::text IS NULL OR (role, joined_at, person_id) > ($2, $3::timestamptz, $4::text))"
        " ORDER BY role, joined_at, person_id LIMIT $5", group_id, role, at, person, limit)

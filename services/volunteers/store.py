"""Plain SQL of skills, volunteers, the menu and orders; keyword-only, taking the connection."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from linli.bus import outbox_cte
from linli.db import Connection
from linli.events import CloudEvent

Row = Any
Key = tuple[dt.datetime, Any] | None


def insert_sql(table: str, fields: dict[str, Any], tail: str = "RETURNING *") -> str:
    """`INSERT INTO table (names) VALUES ($1…)` + tail; pass `*fields.values()`."""
    marks = ", ".join(f"${i}" for i in range(1, len(fields) + 1))
    return f"INSERT INTO {table} ({', '.join(fields)}) VALUES ({marks}) {tail}"


def _update(table: str, fields: dict[str, Any], *, stamp: bool) -> str:
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(fields, start=2))
    return f"UPDATE {table} SET {sets}{', updated_at = now()' if stamp else ''} WHERE id = $1"


# ---------------------------------------------------------------- skills


async def insert_skills(conn: Connection, *, compound_id: uuid.UUID,
                        skills: dict[str, str]) -> None:
    await conn.executemany(
        "INSERT INTO skills (compound_id, code, name) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        [(compound_id, code, name) for code, name in skills.items()],
    )


async def list_skills(conn: Connection, *, compound_id: uuid.UUID) -> list[Row]:
    return await conn.fetch("SELECT * FROM skills WHERE compound_id = $1 ORDER BY code",
                            compound_id)


async def upsert_skill(conn: Connection, *, compound_id: uuid.UUID, code: str, name: str,
                       active: bool) -> Row:
    return await conn.fetchrow(
        "INSERT INTO skills (compound_id, code, name, active) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (compound_id, code) DO UPDATE SET name = $3, active = $4 RETURNING *",
        compound_id, code, name, active,
    )


async def active_skills(conn: Connection, *, compound_id: uuid.UUID) -> set[str]:
    rows = await conn.fetch("SELECT code FROM skills WHERE compound_id = $1 AND active",
                            compound_id)
    return {r["code"] for r in rows}


# ---------------------------------------------------------------- volunteers


async def insert_volunteer(conn: Connection, *, fields: dict[str, Any]) -> Row:
    """The new volunteer, or None when the person is already registered in the compound."""
    return await conn.fetchrow(
        insert_sql("volunteers", fields, "ON CONFLICT DO NOTHING RETURNING *"), *fields.values())


async def get_volunteer(conn: Connection, *, id: uuid.UUID, lock: bool = False) -> Row:
    return await conn.fetchrow(
        f"SELECT * FROM volunteers WHERE id = $1{' FOR UPDATE' if lock else ''}", id)


async def volunteer_of(conn: Connection, *, compound_id: uuid.UUID, person_id: str) -> Row:
    return await conn.fetchrow(
        "SELECT * FROM volunteers WHERE compound_id = $1 AND person_id = $2",
        compound_id, person_id)


async def update_volunteer(conn: Connection, *, id: uuid.UUID, fields: dict[str, Any]) -> Row:
    return await conn.fetchrow(_update("volunteers", fields, stamp=False) + " RETURNING *",
                               id, *fields.values())


async def list_volunteers(conn: Connection, *, compound_id: uuid.UUID, skill: str | None,
                          status: str | None, after: Key, limit: int) -> list[Row]:
    return await conn.fetch(
        "SELECT * FROM volunteers WHERE compound_id = $1 AND ($2::text IS NULL OR $2 = ANY(skills))"
        " AND ($3::text IS NULL OR status = $3)"
        " AND ($4::timestamptz IS NULL OR (created_at, id) < ($4, $5))"
        " ORDER BY created_at DESC, id DESC LIMIT $6",
        compound_id, skill, status, after[0] if after else None, after[1] if after else None,
        limit)


# ---------------------------------------------------------------- the menu


async def insert_item(conn: Connection, *, fields: dict[str, Any]) -> Row:
    return await conn.fetchrow(insert_sql("menu_items", fields), *fields.values())


async def get_item(conn: Connection, *, id: uuid.UUID, lock: bool = False) -> Row:
    return await conn.fetchrow(
        f"SELECT * FROM menu_items WHERE id = $1{' FOR UPDATE' if lock else ''}", id)


async def set_item_status(conn: Connection, *, id: uuid.UUID, status: str) -> Row:
    return await conn.fetchrow(
        "UPDATE menu_items SET status = $2, updated_at = now() WHERE id = $1 RETURNING *",
        id, status)


async def list_items(conn: Connection, *, compound_id: uuid.UUID, skill: str | None,
                     status: str, after: Key, limit: int) -> list[Row]:
    return await conn.fetch(
        "SELECT * FROM menu_items WHERE compound_id = $1 AND ($2::text IS NULL OR skill = $2)"
        " AND status = $3 AND ($4::timestamptz IS NULL OR (created_at, id) < ($4, $5))"
        " ORDER BY created_at DESC, id DESC LIMIT $6",
        compound_id, skill, status, after[0] if after else None, after[1] if after else None,
        limit)


# ---------------------------------------------------------------- orders


async def place_order(conn: Connection, *, fields: dict[str, Any], actor: str, note: str,
                      event: CloudEvent, skill_placeholder: str) -> Row:
    """An order in ONE statement (one round trip, no transaction of its own): the item read
    and held (FOR SHARE: withdrawing it waits), a place of its week taken (week_places: the
    row is locked and re-read, so concurrent orders for the week queue there and never
    overbook), then the order (its skill the item's), its `placed` history row and its event
    (the item's skill in place of `skill_placeholder`). Nothing is written unless the item is
    this compound's, published, and its week had a place left.

    Always one row: the item's compound and status (NULL when there is no such item), then
    the order's columns (NULL when nothing was written), so the caller can tell why."""
    names = ", ".join(fields)
    marks = ", ".join(f"${i}" for i in range(1, len(fields) + 1))
    n, mark = len(fields), {name: f"${i}" for i, name in enumerate(fields, start=1)}
    outbox, event_values = outbox_cte(event, after="placed", first=n + 3,
                                      filled=(skill_placeholder, "placed.skill"))
    return await conn.fetchrow(
        "WITH item AS (SELECT compound_id, status, skill, capacity_per_week FROM menu_items"
        f" WHERE id = {mark['item_id']}::uuid FOR SHARE),"
        " week AS (INSERT INTO week_places AS w (item_id, week_start, placed)"
        f" SELECT {mark['item_id']}::uuid, {mark['week_start']}::date, 1 FROM item"
        f" WHERE compound_id = {mark['compound_id']}::uuid AND status = 'published'"
        " AND capacity_per_week >= 1 ON CONFLICT (item_id, week_start) DO UPDATE"
        " SET placed = w.placed + 1 WHERE w.placed < (SELECT capacity_per_week FROM item)"
        " RETURNING placed),"
        f" placed AS (INSERT INTO orders ({names}, skill) SELECT {marks}, item.skill"
        " FROM item, week RETURNING *),"
        " history AS (INSERT INTO order_history (order_id, action, from_status, to_status,"
        f" actor, note) SELECT id, 'placed', NULL, 'ordered', ${n + 1}, ${n + 2} FROM placed),"
        f" {outbox} SELECT item.compound_id AS item_compound_id, item.status AS item_status,"
        " placed.* FROM (SELECT) AS one LEFT JOIN item ON true LEFT JOIN placed ON true",
        *fields.values(), actor, note, *event_values)


async def release_place(conn: Connection, *, item_id: uuid.UUID, week: dt.date) -> None:
    """Give back the place of an order that is cancelled (in the cancelling transaction). An
    order placed by a replica still counting orders while migration 0004 ran took no place:
    its cancel leaves the count at zero rather than failing the cancel (or the expiry sweep's
    whole batch) on the count's CHECK."""
    await conn.execute("UPDATE week_places SET placed = placed - 1"
                       " WHERE item_id = $1 AND week_start = $2 AND placed > 0", item_id, week)


async def get_order(conn: Connection, *, id: uuid.UUID) -> Row:
    return await conn.fetchrow("SELECT * FROM orders WHERE id = $1", id)


async def move_order(conn: Connection, *, id: uuid.UUID, version: int,
                     fields: dict[str, Any]) -> Row:
    """Change the order only if nobody changed it since it was read (optimistic version):
    PostgreSQL re-checks the condition after the row lock, so of two concurrent accepts
    exactly one gets the row and the other gets None."""
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(fields, start=3))
    return await conn.fetchrow(
        f"UPDATE orders SET {sets}, version = version + 1, updated_at = now()"
        " WHERE id = $1 AND version = $2 RETURNING *", id, version, *fields.values())


async def claim_stale(conn: Connection, *, now: dt.datetime, compound_id: uuid.UUID | None,
                      limit: int) -> list[Row]:
    """Orders nobody accepted before their window ended, claimed for one replica only; in
    the order of their weeks' rows, which expiring them locks (release_place), so two
    replicas' batches take those rows in the same order and never deadlock."""
    return await conn.fetch(
        "SELECT * FROM (SELECT * FROM orders WHERE status = 'ordered' AND window_end < $1"
        " AND ($2::uuid IS NULL OR compound_id = $2)"
        " ORDER BY window_end LIMIT $3 FOR UPDATE SKIP LOCKED) AS stale"
        " ORDER BY item_id, week_start", now, compound_id, limit)


async def list_orders(conn: Connection, *, compound_id: uuid.UUID, status: str | None,
                      skill: str | None, staff: bool, person_id: str,
                      volunteer_id: uuid.UUID | None, skills: list[str], after: Key,
                      limit: int) -> list[Row]:
    """Staff see every order; others their own, the ones they serve and open ones they could
    take (status ordered, one of their verified skills)."""
    return await conn.fetch(
        "SELECT * FROM orders WHERE compound_id = $1 AND ($2::text IS NULL OR status = $2)"
        " AND ($3::text IS NULL OR skill = $3)"
        " AND ($4 OR resident_id = $5 OR volunteer_id = $6"
        "      OR (status = 'ordered' AND skill = ANY($7::text[])))"
        " AND ($8::timestamptz IS NULL OR (created_at, id) < ($8, $9))"
        " ORDER BY created_at DESC, id DESC LIMIT $10",
        compound_id, status, skill, staff, person_id, volunteer_id, skills,
        after[0] if after else None, after[1] if after else None, limit)


async def insert_history(conn: Connection, *, order_id: uuid.UUID, action: str,
                         from_status: str | None, to_status: str, actor: str,
                         note: str = "") -> None:
    await conn.execute(
        "INSERT INTO order_history (order_id, action, from_status, to_status, actor, note)"
        " VALUES ($1, $2, $3, $4, $5, $6)", order_id, action, from_status, to_status, actor, note)


async def list_history(conn: Connection, *, order_id: uuid.UUID) -> list[Row]:
    return await conn.fetch("SELECT * FROM order_history WHERE order_id = $1 ORDER BY id",
                            order_id)

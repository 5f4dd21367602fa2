"""Plain SQL of the lending library: books, loans, holds; keyword-only, taking the connection."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from linli.db import Connection

Row = Any
Key = tuple[dt.datetime, Any] | None
WITH_STOCK = (
    "SELECT b.*,"
    " (SELECT count(*) FROM loans l WHERE l.book_id = b.id AND l.status = 'active') AS on_loan,"
    " (SELECT count(*) FROM holds h WHERE h.book_id = b.id AND h.status IN ('waiting', 'ready'))"
    "   AS holds,"
    " (SELECT count(*) FROM holds h WHERE h.book_id = b.id AND h.status = 'ready') AS ready"
    " FROM books b")


async def book(conn: Connection, *, id: uuid.UUID) -> Row:
    return await conn.fetchrow(f"{WITH_STOCK} WHERE b.id = $1", id)


async def lock_book(conn: Connection, *, id: uuid.UUID) -> Row:
    """The book row locked: loans, returns and holds of one title go one at a time, so the
    last copy is lent once."""
    return await conn.fetchrow("SELECT * FROM books WHERE id = $1 FOR UPDATE", id)


async def list_books(conn: Connection, *, compound_id: uuid.UUID, q: str | None, after: Key,
                     limit: int) -> list[Row]:
    return await conn.fetch(
        f"{WITH_STOCK} WHERE b.compound_id = $1"
        " AND ($2::text IS NULL OR b.title ILIKE '%' || $2 || '%' OR b.author ILIKE '%' || $2 || '%')"
        " AND ($3::timestamptz IS NULL OR (b.created_at, b.id) < ($3, $4))"
        " ORDER BY b.created_at DESC, b.id DESC LIMIT $5",
        compound_id, q, after[0] if after else None, after[1] if after else None, limit)


async def stock(conn: Connection, *, book_id: uuid.UUID) -> tuple[int, int]:
    """(active loans, holds ready for pickup) of one title."""
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM loans WHERE book_id = $1 AND status = 'active') AS on_loan,"
        " (SELECT count(*) FROM holds WHERE book_id = $1 AND status = 'ready') AS ready", book_id)
    return int(row["on_loan"]), int(row["ready"])


async def live_hold(conn: Connection, *, book_id: uuid.UUID, person_id: str) -> Row:
    return await conn.fetchrow(
        "SELECT * FROM holds WHERE book_id = $1 AND person_id = $2"
        " AND status IN ('waiting', 'ready')", book_id, person_id)


async def ready_first(conn: Connection, *, book_id: uuid.UUID) -> Row:
    """The first waiting hold becomes ready (a copy is kept for that reader), or None."""
    return await conn.fetchrow(
        "UPDATE holds SET status = 'ready', ready_at = now() WHERE id ="
        " (SELECT id FROM holds WHERE book_id = $1 AND status = 'waiting' ORDER BY seq LIMIT 1)"
        " RETURNING *", book_id)


async def waiting_holds(conn: Connection, *, book_id: uuid.UUID) -> int:
    n: int = await conn.fetchval(
        "SELECT count(*) FROM holds WHERE book_id = $1 AND status = 'waiting'", book_id)
    return n


async def hold_position(conn: Connection, *, book_id: uuid.UUID, seq: int) -> int:
    n: int = await conn.fetchval(
        "SELECT count(*) FROM holds WHERE book_id = $1 AND status = 'waiting' AND seq <= $2",
        book_id, seq)
    return n


async def reader_loans(conn: Connection, *, compound_id: uuid.UUID, person_id: str) -> list[Row]:
    return await conn.fetch(
        "SELECT * FROM loans WHERE compound_id = $1 AND person_id = $2"
        " ORDER BY (status = 'active') DESC, created_at DESC LIMIT 100", compound_id, person_id)


async def on_loan(conn: Connection, *, compound_id: uuid.UUID,
                  after: tuple[dt.date, uuid.UUID] | None, limit: int) -> list[Row]:
    """The compound's active loans, due soonest first (the overdue ones lead)."""
    return await conn.fetch(
        "SELECT * FROM loans WHERE compound_id = $1 AND status = 'active'"
        " AND ($2::date IS NULL OR (due_on, id) > ($2, $3))"
        " ORDER BY due_on, id LIMIT $4",
        compound_id, after[0] if after else None, after[1] if after else None, limit)


async def reader_holds(conn: Connection, *, compound_id: uuid.UUID, person_id: str) -> list[Row]:
    return await conn.fetch(
        "SELECT h.*, CASE WHEN h.status = 'waiting' THEN (SELECT count(*) FROM holds o"
        "  WHERE o.book_id = h.book_id AND o.status = 'waiting' AND o.seq <= h.seq) END AS position"
        " FROM holds h WHERE h.compound_id = $1 AND h.person_id = $2"
        " AND h.status IN ('waiting', 'ready') ORDER BY h.created_at", compound_id, person_id)


async def claim_overdue(conn: Connection, *, today: dt.date, limit: int) -> list[Row]:
    """Active loans past due not yet reported, claimed for one replica only."""
    return await conn.fetch(
        "SELECT l.*, b.title FROM loans l JOIN books b ON b.id = l.book_id"
        " WHERE l.status = 'active' AND l.overdue_notified_at IS NULL AND l.due_on < $1"
        " ORDER BY l.due_on LIMIT $2 FOR UPDATE OF l SKIP LOCKED", today, limit)


async def claim_due_soon(conn: Connection, *, today: dt.date, until: dt.date,
                         limit: int) -> list[Row]:
    """Active loans falling due between today and `until`, not yet reminded, claimed for one
    replica only."""
    return await conn.fetch(
        "SELECT l.*, b.title FROM loans l JOIN books b ON b.id = l.book_id"
        " WHERE l.status = 'active' AND l.due_reminded_at IS NULL"
        " AND l.due_on BETWEEN $1 AND $2"
        " ORDER BY l.due_on LIMIT $3 FOR UPDATE OF l SKIP LOCKED", today, until, limit)

"""Plain SQL of proposals, versions, consultation and opinions; keyword-only, connection first.

Votes are in votes/store.py, cost sharing in costs/store.py, council meetings in
councils/store.py.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from linli.db import Connection

Row = Any

_PROPOSAL = """p.*, v.body, v.budget_fen FROM proposals p
    JOIN proposal_versions v ON v.proposal_id = p.id AND v.number = p.current_version"""


async def insert_proposal(conn: Connection, *, id: uuid.UUID, compound_id: uuid.UUID, title: str,
                          matter: str, funding: str | None, attachments: list[str],
                          created_by: str, issue_ids: list[uuid.UUID]) -> None:
    await conn.execute(
        "INSERT INTO proposals (id, compound_id, title, matter, funding, attachments, created_by,"
        " issue_ids) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        id, compound_id, title, matter, funding, attachments, created_by, issue_ids,
    )


async def insert_version(conn: Connection, *, proposal_id: uuid.UUID, number: int, body: str,
                         change_summary: str, budget_fen: int | None, created_by: str) -> Row:
    return await conn.fetchrow(
        "INSERT INTO proposal_versions (proposal_id, number, body, change_summary, budget_fen,"
        " created_by) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
        proposal_id, number, body, change_summary, budget_fen, created_by,
    )


async def get_proposal(conn: Connection, *, id: uuid.UUID, lock: bool = False,
                       share: bool = False) -> Row:
    """lock: FOR UPDATE (changing it or its consultation); share: FOR KEY SHARE, which waits
    for those changes and lets other sharers (opinions) through."""
    if lock or share:
        mode = "UPDATE" if lock else "KEY SHARE"
        await conn.execute(f"SELECT 1 FROM proposals WHERE id = $1 FOR {mode}", id)
    return await conn.fetchrow(f"SELECT {_PROPOSAL} WHERE p.id = $1", id)


async def list_proposals(conn: Connection, *, compound_id: uuid.UUID, status: str | None,
                         after: tuple[dt.datetime, uuid.UUID] | None, limit: int) -> list[Row]:
    return await conn.fetch(
        f"SELECT {_PROPOSAL} WHERE p.compound_id = $1 AND ($2::text IS NULL OR p.status = $2)"
        " AND ($3::timestamptz IS NULL OR (p.created_at, p.id) < ($3, $4))"
        " ORDER BY p.created_at DESC, p.id DESC LIMIT $5",
        compound_id, status, after[0] if after else None, after[1] if after else None, limit,
    )


async def set_proposal(conn: Connection, *, id: uuid.UUID, status: str | None = None,
                       current_version: int | None = None) -> None:
    await conn.execute(
        "UPDATE proposals SET status = coalesce($2, status),"
        " current_version = coalesce($3, current_version), updated_at = now() WHERE id = $1",
        id, status, current_version,
    )


async def set_managed_by(conn: Connection, *, id: uuid.UUID, workflow_id: str | None) -> None:
    await conn.execute("UPDATE proposals SET managed_by = $2, updated_at = now() WHERE id = $1",
                       id, workflow_id)


async def list_versions(conn: Connection, *, proposal_id: uuid.UUID) -> list[Row]:
    return await conn.fetch(
        "SELECT * FROM proposal_versions WHERE proposal_id = $1 ORDER BY number", proposal_id
    )


async def get_version(conn: Connection, *, proposal_id: uuid.UUID, number: int) -> Row:
    return await conn.fetchrow(
        "SELECT * FROM proposal_versions WHERE proposal_id = $1 AND number = $2",
        proposal_id, number,
    )


async def get_consultation(conn: Connection, *, proposal_id: uuid.UUID) -> Row:
    return await conn.fetchrow("SELECT * FROM consultations WHERE proposal_id = $1", proposal_id)


async def open_consultation(conn: Connection, *, proposal_id: uuid.UUID, version: int,
                            closes_at: dt.datetime) -> Row:
    """Open, or extend the open one on the same version (opens_at kept), or restart it."""
    return await conn.fetchrow(
        "INSERT INTO consultations (proposal_id, version, status, opens_at, closes_at)"
        " VALUES ($1, $2, 'open', now(), $3)"
        " ON CONFLICT (proposal_id) DO UPDATE SET closes_at = EXCLUDED.closes_at,"
        "  opens_at = CASE WHEN consultations.status = 'open'"
        "   AND consultations.version = EXCLUDED.version"
        "   THEN consultations.opens_at ELSE now() END,"
        "  version = EXCLUDED.version, status = 'open', closed_at = NULL RETURNING *",
        proposal_id, version, closes_at,
    )


async def move_consultation(conn: Connection, *, proposal_id: uuid.UUID, version: int) -> Row:
    """An open consultation moves to a new version (deadline kept); None when none is open."""
    return await conn.fetchrow(
        "UPDATE consultations SET version = $2 WHERE proposal_id = $1 AND status = 'open'"
        " RETURNING *",
        proposal_id, version,
    )


async def close_consultation(conn: Connection, *, proposal_id: uuid.UUID) -> Row:
    """Close it if open; None when it was not open."""
    return await conn.fetchrow(
        "UPDATE consultations SET status = 'closed', closed_at = now()"
        " WHERE proposal_id = $1 AND status = 'open' RETURNING *",
        proposal_id,
    )


async def due_consultations(conn: Connection, *, limit: int) -> list[Row]:
    """Open consultations past their deadline (the sweep claims each with SKIP LOCKED)."""
    return await conn.fetch(
        "SELECT proposal_id FROM consultations WHERE status = 'open' AND closes_at <= now()"
        " ORDER BY closes_at LIMIT $1",
        limit,
    )


async def insert_opinion(conn: Connection, *, id: uuid.UUID, proposal_id: uuid.UUID,
                         version: int, person_id: str, stance: str, text: str) -> Row:
    return await conn.fetchrow(
        "INSERT INTO opinions (id, proposal_id, version, person_id, stance, text)"
        " VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
        id, proposal_id, version, person_id, stance, text,
    )


async def list_opinions(conn: Connection, *, proposal_id: uuid.UUID, version: int | None,
                        after: tuple[dt.datetime, uuid.UUID] | None, limit: int) -> list[Row]:
    return await conn.fetch(
        "SELECT * FROM opinions WHERE proposal_id = $1 AND ($2::int IS NULL OR version = $2)"
        " AND ($3::timestamptz IS NULL OR (created_at, id) > ($3, $4))"
        " ORDER BY created_at, id LIMIT $5",
        proposal_id, version, after[0] if after else None, after[1] if after else None, limit,
    )


async def count_opinions(conn: Connection, *, proposal_id: uuid.UUID) -> list[Row]:
    return await conn.fetch(
        "SELECT version, stance, count(*) AS n FROM opinions WHERE proposal_id = $1"
        " GROUP BY version, stance ORDER BY version",
        proposal_id,
    )


async def try_lock_proposal(conn: Connection, *, id: uuid.UUID) -> bool:
    """Lock a proposal unless another replica holds it (SKIP LOCKED)."""
    return bool(await conn.fetchval(
        "SELECT true FROM proposals WHERE id = $1 FOR UPDATE SKIP LOCKED", id))


async def claim_due_consultation(conn: Connection, *, proposal_id: object) -> Row:
    """The proposal whose open consultation is past its deadline, locked, unless claimed."""
    return await conn.fetchrow(
        "SELECT p.id FROM proposals p JOIN consultations c ON c.proposal_id = p.id"
        " WHERE p.id = $1 AND c.status = 'open' AND c.closes_at <= now()"
        " FOR UPDATE OF p SKIP LOCKED", proposal_id)

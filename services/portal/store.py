"""Plain SQL of the portal schema (sessions and sign-in codes); keyword-only, connection first."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from linli.db import Connection

Row = Any


async def insert_session(conn: Connection, *, token_hash: str, person_id: uuid.UUID, name: str,
                         memberships: str, csrf: str, expires_at: dt.datetime) -> None:
    await conn.execute(
        "INSERT INTO sessions (token_hash, person_id, name, memberships, csrf, expires_at)"
        " VALUES ($1, $2, $3, $4::jsonb, $5, $6)",
        token_hash, person_id, name, memberships, csrf, expires_at)


async def live_session(conn: Connection, *, token_hash: str) -> Row:
    """The session, and the database's clock (seen_at) its ages are measured on."""
    return await conn.fetchrow(
        "SELECT token_hash, person_id, name, memberships::text AS memberships, csrf, expires_at,"
        " memberships_read_at, memberships_tried_at, now() AS seen_at"
        " FROM sessions WHERE token_hash = $1 AND expires_at > now()", token_hash)


async def renew_memberships(conn: Connection, *, token_hash: str, name: str, memberships: str,
                            asked_at: dt.datetime) -> dt.datetime | None:
    """The memberships as the directory said them to a re-read that began at `asked_at`,
    unless the session is gone or expired, or a re-read that began later stored its answer
    first (two requests of one session renew at once: the older answer, which may still hold
    a compound the person has left, never overwrites the newer). When they were read; None
    when not stored."""
    read_at: dt.datetime | None = await conn.fetchval(
        "UPDATE sessions SET name = $2, memberships = $3::jsonb, memberships_read_at = $4,"
        " memberships_tried_at = NULL WHERE token_hash = $1 AND expires_at > now()"
        " AND memberships_read_at < $4 RETURNING memberships_read_at",
        token_hash, name, memberships, asked_at)
    return read_at


async def reread_failed(conn: Connection, *, token_hash: str) -> dt.datetime | None:
    """A re-read failed now: the session waits before asking again."""
    tried_at: dt.datetime | None = await conn.fetchval(
        "UPDATE sessions SET memberships_tried_at = now() WHERE token_hash = $1"
        " RETURNING memberships_tried_at", token_hash)
    return tried_at


async def delete_session(conn: Connection, *, token_hash: str) -> None:
    await conn.execute("DELETE FROM sessions WHERE token_hash = $1", token_hash)


async def delete_expired(conn: Connection) -> int:
    result = await conn.execute(
        "DELETE FROM sessions WHERE expires_at < now() - interval '1 day'")
    await conn.execute("DELETE FROM sign_in_codes WHERE expires_at < now() - interval '1 day'")
    await conn.execute("DELETE FROM sign_in_failures WHERE at < now() - interval '1 day'")
    return int(result.split()[-1])


async def codes_since(conn: Connection, *, phone: str | None = None, address: str | None = None,
                      since: dt.datetime) -> int:
    return int(await conn.fetchval(
        "SELECT count(*) FROM sign_in_codes WHERE ($1::text IS NULL OR phone = $1)"
        " AND ($2::text IS NULL OR address = $2) AND created_at > $3", phone, address, since))


async def failures_since(conn: Connection, *, phone: str | None = None,
                         address: str | None = None, since: dt.datetime) -> int:
    return int(await conn.fetchval(
        "SELECT count(*) FROM sign_in_failures WHERE ($1::text IS NULL OR phone = $1)"
        " AND ($2::text IS NULL OR address = $2) AND at > $3", phone, address, since))


async def insert_code(conn: Connection, *, id: uuid.UUID, phone: str, person_id: uuid.UUID,
                      code_hash: str, address: str, expires_at: dt.datetime) -> None:
    await conn.execute(
        "INSERT INTO sign_in_codes (id, phone, person_id, code_hash, address, expires_at)"
        " VALUES ($1, $2, $3, $4, $5, $6)", id, phone, person_id, code_hash, address, expires_at)


async def latest_code(conn: Connection, *, phone: str) -> Row:
    """The newest unused, unexpired code of a phone, locked: two tries of one code serialise."""
    return await conn.fetchrow(
        "SELECT * FROM sign_in_codes WHERE phone = $1 AND used_at IS NULL AND expires_at > now()"
        " ORDER BY created_at DESC LIMIT 1 FOR UPDATE", phone)


async def count_attempt(conn: Connection, *, id: uuid.UUID, used: bool) -> None:
    await conn.execute(
        "UPDATE sign_in_codes SET attempts = attempts + 1,"
        " used_at = CASE WHEN $2 THEN now() ELSE used_at END WHERE id = $1", id, used)


async def insert_failure(conn: Connection, *, phone: str, address: str) -> None:
    await conn.execute("INSERT INTO sign_in_failures (phone, address) VALUES ($1, $2)",
                       phone, address)

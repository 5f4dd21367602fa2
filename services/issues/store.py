"""Plain SQL of the issues schema; every function takes the connection, keywords only."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any

from linli.bus import outbox_cte
from linli.db import Connection
from linli.events import CloudEvent

Row = Any
OPEN_STATUSES = ("submitted", "accepted", "in_progress")
OPEN_SQL = "(" + ", ".join(f"'{status}'" for status in OPEN_STATUSES) + ")"


# ---------------------------------------------------------------- settings and categories


async def get_settings(conn: Connection, *, compound_id: uuid.UUID) -> Row:
    return await conn.fetchrow("SELECT * FROM compound_settings WHERE compound_id = $1", compound_id)


async def insert_settings(conn: Connection, *, compound_id: uuid.UUID) -> Row:
    return await conn.fetchrow(
        "INSERT INTO compound_settings (compound_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING *",
        compound_id,
    )


async def update_settings(conn: Connection, *, compound_id: uuid.UUID, threshold: int,
                          window: int) -> Row:
    return await conn.fetchrow(
        "UPDATE compound_settings SET cosign_threshold = $2, reopen_window_hours = $3"
        " WHERE compound_id = $1 RETURNING *", compound_id, threshold, window,
    )


async def upsert_category(conn: Connection, *, compound_id: uuid.UUID, code: str,
                          fields: dict[str, Any], replace: bool = True) -> Row:
    conflict = ("DO UPDATE SET name = EXCLUDED.name, description = EXCLUDED.description,"
                " responsible = EXCLUDED.responsible, respond_hours = EXCLUDED.respond_hours,"
                " resolve_hours = EXCLUDED.resolve_hours, attributes = EXCLUDED.attributes,"
                " active = EXCLUDED.active") if replace else "DO NOTHING"
    return await conn.fetchrow(
        "INSERT INTO categories (compound_id, code, name, description, responsible, respond_hours,"
        " resolve_hours, attributes, active) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)"
        f" ON CONFLICT (compound_id, code) {conflict} RETURNING *",
        compound_id, code, fields["name"], fields.get("description", ""), fields["responsible"],
        fields["respond_hours"], fields["resolve_hours"], json.dumps(fields.get("attributes", [])),
        fields.get("active", True),
    )


async def list_categories(conn: Connection, *, compound_id: uuid.UUID) -> list[Row]:
    return await conn.fetch(
        "SELECT * FROM categories WHERE compound_id = $1 ORDER BY code", compound_id
    )


async def get_category(conn: Connection, *, compound_id: uuid.UUID, code: str,
                       share: bool = False) -> Row:
    """The category; with `share`, held unchanged until the transaction ends."""
    return await conn.fetchrow(
        "SELECT * FROM categories WHERE compound_id = $1 AND code = $2"
        + (" FOR SHARE" if share else ""), compound_id, code,
    )


# ---------------------------------------------------------------- issues


async def insert_reported(conn: Connection, *, fields: dict[str, Any], actor: str, note: str,
                          event: CloudEvent, category: Row) -> Row:
    """A reported issue, its `reported` history row and its event, in ONE statement (one round
    trip, atomic on its own or inside the caller's transaction); the new issue row. Written
    only while the category row is still `category` (active, same party, times and questions);
    None, writing nothing, when it changed."""
    names = list(fields)
    values = [json.dumps(v) if n == "attributes" else v for n, v in fields.items()]
    marks = ", ".join(f"${i}::jsonb" if n == "attributes" else f"${i}"
                      for i, n in enumerate(names, start=1))
    n = len(values)
    guard = (f"SELECT {marks} WHERE EXISTS (SELECT 1 FROM categories WHERE compound_id ="
             f" ${n + 3} AND code = ${n + 4} AND active AND responsible = ${n + 5} AND"
             f" respond_hours = ${n + 6} AND resolve_hours = ${n + 7} AND attributes ="
             f" ${n + 8}::jsonb)")
    outbox, event_values = outbox_cte(conn, event, after="issue", first=n + 9)
    return await conn.fetchrow(
        f"WITH issue AS (INSERT INTO issues ({', '.join(names)}) {guard} RETURNING *),"
        " reported AS (INSERT INTO history (issue_id, action, from_status, to_status, actor, note)"
        f" SELECT id, 'reported', NULL, 'submitted', ${n + 1}, ${n + 2} FROM issue), {outbox}"
        " SELECT * FROM issue", *values, actor, note, category["compound_id"], category["code"],
        category["responsible"], category["respond_hours"], category["resolve_hours"],
        category["attributes"], *event_values,
    )


async def get_issue(conn: Connection, *, id: uuid.UUID, lock: bool = False) -> Row:
    return await conn.fetchrow(
        "SELECT * FROM issues WHERE id = $1" + (" FOR UPDATE" if lock else ""), id
    )


async def get_issue_by_token(conn: Connection, *, token: uuid.UUID) -> Row:
    return await conn.fetchrow("SELECT * FROM issues WHERE token = $1", token)


async def update_issue(conn: Connection, *, id: uuid.UUID, fields: dict[str, Any]) -> Row:
    sets = ", ".join(f"{name} = ${i}" for i, name in enumerate(fields, start=2))
    return await conn.fetchrow(
        f"UPDATE issues SET {sets}, updated_at = now() WHERE id = $1 RETURNING *",
        id, *fields.values(),
    )


async def list_issues(conn: Connection, *, compound_id: uuid.UUID, status: str | None,
                      category: str | None, after: tuple[dt.datetime, uuid.UUID] | None,
                      limit: int, reporter: str | None = None, responsible: str | None = None,
                      overdue: bool | None = None, now: dt.datetime | None = None,
                      text: str | None = None) -> list[Row]:
    """One page, newest first, after the keyset (created_at, id). Only the filters given are in
    the SQL: a prepared statement's generic plan then still walks issues_compound from the
    keyset on (`$x IS NULL OR …` would leave it a filter, and the plan a sort of every issue).
    An open status is written as a literal, so every plan can walk issues_open_pages."""
    where, args = ["compound_id = $1"], list[Any]([compound_id])

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if status in OPEN_STATUSES:  # a literal (one of ours): the plan can use issues_open_pages
        where.append(f"status = '{OPEN_STATUSES[OPEN_STATUSES.index(status)]}'")
    elif status is not None:
        where.append(f"status = {arg(status)}")
    if category is not None:
        where.append(f"category = {arg(category)}")
    if after is not None:
        where.append(f"(created_at, id) < ({arg(after[0])}, {arg(after[1])})")
    if reporter is not None:
        where.append(f"reporter_id = {arg(reporter)}")
    if responsible is not None:
        where.append(f"responsible = {arg(responsible)}")
    if overdue is not None:
        at = arg(now or dt.datetime.now(dt.UTC))
        where.append(f"(status IN {OPEN_SQL} AND council_since IS NULL AND (resolve_by < {at}"
                     f" OR (first_response_at IS NULL AND respond_by < {at}))) = {arg(overdue)}")
    if text is not None:
        # the words as typed: % and _ match themselves, not any text
        like = arg("%" + re.sub(r"([%_\\])", r"\\\1", text) + "%")
        where.append(f"(title ILIKE {like} OR description ILIKE {like})")
    return await conn.fetch(
        f"SELECT * FROM issues WHERE {' AND '.join(where)}"
        f" ORDER BY created_at DESC, id DESC LIMIT {arg(limit)}", *args,
    )


async def search_issues(conn: Connection, *, compound_id: uuid.UUID, ids: list[uuid.UUID] | None,
                        category: str | None, start: dt.datetime | None, end: dt.datetime | None,
                        open_: bool | None, offset: int, limit: int) -> list[Row]:
    """Open311 GET requests.json: filters, newest first, page/page_size as offset/limit."""
    return await conn.fetch(
        "SELECT i.*, c.name AS category_name FROM issues i JOIN categories c"
        " ON c.compound_id = i.compound_id AND c.code = i.category WHERE i.compound_id = $1"
        " AND ($2::uuid[] IS NULL OR i.id = ANY($2)) AND ($3::text IS NULL OR i.category = $3)"
        " AND ($4::timestamptz IS NULL OR i.created_at >= $4)"
        " AND ($5::timestamptz IS NULL OR i.created_at <= $5)"
        f" AND ($6::boolean IS NULL OR (i.status IN {OPEN_SQL}) = $6)"
        " ORDER BY i.created_at DESC, i.id DESC OFFSET $7 LIMIT $8",
        compound_id, ids, category, start, end, open_, offset, limit,
    )


async def open_in_category(conn: Connection, *, compound_id: uuid.UUID, category: str,
                           limit: int) -> list[Row]:
    return await conn.fetch(
        f"SELECT * FROM issues WHERE compound_id = $1 AND category = $2 AND status IN {OPEN_SQL}"
        " ORDER BY created_at DESC LIMIT $3", compound_id, category, limit,
    )


async def insert_cosign(conn: Connection, *, issue_id: uuid.UUID, person_id: str) -> bool:
    done = await conn.fetchval(
        "INSERT INTO cosigns (issue_id, person_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        " RETURNING true", issue_id, person_id,
    )
    return bool(done)


async def cosigners(conn: Connection, *, issue_id: uuid.UUID) -> list[str]:
    return [r["person_id"] for r in await conn.fetch(
        "SELECT person_id FROM cosigns WHERE issue_id = $1 ORDER BY person_id", issue_id)]


async def issues_of_proposal(conn: Connection, *, proposal_id: uuid.UUID) -> list[Row]:
    """The issues with the council on this proposal, locked (a redelivery finds none)."""
    return await conn.fetch(
        f"SELECT * FROM issues WHERE proposal_id = $1 AND council_since IS NOT NULL"
        f" AND status IN {OPEN_SQL}"
        " ORDER BY created_at, id FOR UPDATE", proposal_id,
    )


async def is_cosigner(conn: Connection, *, issue_id: uuid.UUID, person_id: str) -> bool:
    return bool(await conn.fetchval(
        "SELECT true FROM cosigns WHERE issue_id = $1 AND person_id = $2", issue_id, person_id
    ))


async def insert_comment(conn: Connection, *, issue_id: uuid.UUID, author_id: str, body: str,
                         official: bool, template: str | None) -> Row:
    return await conn.fetchrow(
        "INSERT INTO comments (id, issue_id, author_id, body, official, template)"
        " VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
        uuid.uuid4(), issue_id, author_id, body, official, template,
    )


async def list_comments(conn: Connection, *, issue_id: uuid.UUID,
                        after: tuple[dt.datetime, uuid.UUID] | None, limit: int) -> list[Row]:
    """One page in the order written, after the keyset (created_at, id)."""
    at, last = after or (None, None)
    return await conn.fetch(
        "SELECT * FROM comments WHERE issue_id = $1"
        " AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3::uuid))"
        " ORDER BY created_at, id LIMIT $4",
        issue_id, at, last, limit,
    )


async def insert_history(conn: Connection, *, issue_id: uuid.UUID, action: str,
                         from_status: str | None, to_status: str | None, actor: str | None,
                         note: str = "") -> None:
    await conn.execute(
        "INSERT INTO history (issue_id, action, from_status, to_status, actor, note)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        issue_id, action, from_status, to_status, actor, note,
    )


async def list_history(conn: Connection, *, issue_id: uuid.UUID, after: int | None,
                       limit: int) -> list[Row]:
    """One page in the order it happened, after the entry `after`."""
    return await conn.fetch(
        "SELECT * FROM history WHERE issue_id = $1 AND ($2::bigint IS NULL OR id > $2)"
        " ORDER BY id LIMIT $3",
        issue_id, after, limit,
    )


async def insert_feedback(conn: Connection, *, issue_id: uuid.UUID, round: int, person_id: str,
                          score: int, fixed: bool, comment: str) -> bool:
    done = await conn.fetchval(
        "INSERT INTO feedback (issue_id, round, person_id, score, fixed, comment)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING true",
        issue_id, round, person_id, score, fixed, comment,
    )
    return bool(done)


async def claim_overdue(conn: Connection, *, now: dt.datetime, compound_id: uuid.UUID | None,
                        limit: int) -> list[Row]:
    """Open issues past a target not yet reported overdue; replicas skip each other's rows."""
    return await conn.fetch(
        f"SELECT * FROM issues WHERE overdue_at IS NULL AND status IN {OPEN_SQL}"
        " AND council_since IS NULL"
        " AND (resolve_by < $1 OR (first_response_at IS NULL AND respond_by < $1))"
        " AND ($2::uuid IS NULL OR compound_id = $2)"
        " ORDER BY resolve_by LIMIT $3 FOR UPDATE SKIP LOCKED",
        now, compound_id, limit,
    )


# ---------------------------------------------------------------- statistics


async def stats_counts(conn: Connection, *, compound_id: uuid.UUID, column: str) -> list[Row]:
    assert column in ("status", "category")
    return await conn.fetch(
        f"SELECT {column} AS key, count(*) AS count FROM issues WHERE compound_id = $1"
        f" GROUP BY {column} ORDER BY count(*) DESC, {column}", compound_id,
    )


async def stats_summary(conn: Connection, *, compound_id: uuid.UUID, now: dt.datetime) -> Row:
    return await conn.fetchrow(
        "SELECT count(*) AS total,"
        " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM first_response_at"
        "   - created_at)) FILTER (WHERE first_response_at IS NOT NULL) AS median_response,"
        " percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM resolved_at"
        "   - created_at)) FILTER (WHERE resolved_at IS NOT NULL) AS median_resolution,"
        f" count(*) FILTER (WHERE status IN {OPEN_SQL} AND council_since IS NULL"
        "   AND (resolve_by < $2"
        "   OR (first_response_at IS NULL AND respond_by < $2))) AS overdue,"
        " count(*) FILTER (WHERE escalated_at IS NOT NULL) AS escalated,"
        " (SELECT avg(f.score)::float FROM feedback f JOIN issues j ON j.id = f.issue_id"
        "   WHERE j.compound_id = $1) AS satisfaction"
        " FROM issues WHERE compound_id = $1", compound_id, now,
    )


async def top_cosigned(conn: Connection, *, compound_id: uuid.UUID, limit: int) -> list[Row]:
    return await conn.fetch(
        f"SELECT * FROM issues WHERE compound_id = $1 AND status IN {OPEN_SQL} AND cosign_count > 0"
        " ORDER BY cosign_count DESC, created_at LIMIT $2", compound_id, limit,
    )

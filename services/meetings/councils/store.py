"""Plain SQL of council meetings; keyword-only, connection first."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from linli.db import Connection

Row = Any


async def insert_meeting(conn: Connection, *, id: uuid.UUID, compound_id: uuid.UUID, kind: str,
                         title: str, starts_at: dt.datetime, ends_at: dt.datetime,
                         place: str | None, online_url: str | None, convener_org_id: uuid.UUID,
                         convener_name: str, created_by: str,
                         venue_booking_id: uuid.UUID | None = None) -> Row:
    return await conn.fetchrow(
        "INSERT INTO meetings (id, compound_id, kind, title, starts_at, ends_at, place,"
        " online_url, convener_org_id, convener_name, created_by, venue_booking_id)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING *",
        id, compound_id, kind, title, starts_at, ends_at, place, online_url, convener_org_id,
        convener_name, created_by, venue_booking_id,
    )


async def insert_organisations(conn: Connection, *, meeting_id: uuid.UUID,
                               orgs: Sequence[Any]) -> None:
    await conn.executemany(
        "INSERT INTO meeting_organisations (meeting_id, organisation_id, kind, name)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        [(meeting_id, o.id, o.kind, o.name) for o in orgs],
    )


async def insert_invitees(conn: Connection, *, meeting_id: uuid.UUID,
                          people: Sequence[tuple[uuid.UUID, uuid.UUID | None, str]]) -> None:
    """(person, organisation or None, name); the first organisation a person came with wins."""
    await conn.executemany(
        "INSERT INTO invitees (meeting_id, person_id, organisation_id, name)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        [(meeting_id, p, o, n) for p, o, n in people],
    )


async def get_meeting(conn: Connection, *, id: uuid.UUID) -> Row:
    return await conn.fetchrow("SELECT * FROM meetings WHERE id = $1", id)


async def list_meetings(conn: Connection, *, compound_id: uuid.UUID) -> list[Row]:
    return await conn.fetch(
        "SELECT * FROM meetings WHERE compound_id = $1 ORDER BY starts_at, id", compound_id
    )


async def meetings_page(conn: Connection, *, compound_id: uuid.UUID,
                        after: tuple[dt.datetime, uuid.UUID] | None, limit: int) -> list[Row]:
    """One page by (starts_at, id)."""
    at, last = after or (None, None)
    return await conn.fetch(
        "SELECT * FROM meetings WHERE compound_id = $1"
        " AND ($2::timestamptz IS NULL OR (starts_at, id) > ($2, $3::uuid))"
        " ORDER BY starts_at, id LIMIT $4",
        compound_id, at, last, limit,
    )


async def organisations(conn: Connection, *, meeting_id: uuid.UUID) -> list[Row]:
    return await conn.fetch(
        "SELECT * FROM meeting_organisations WHERE meeting_id = $1 ORDER BY kind, name", meeting_id
    )


async def invitees(conn: Connection, *, meeting_id: uuid.UUID) -> list[Row]:
    return await conn.fetch(
        "SELECT i.*, a.person_id IS NOT NULL AS present FROM invitees i"
        " LEFT JOIN attendance a USING (meeting_id, person_id) WHERE i.meeting_id = $1"
        " ORDER BY i.name, i.person_id",
        meeting_id,
    )


async def invitee(conn: Connection, *, meeting_id: uuid.UUID, person_id: uuid.UUID) -> Row:
    return await conn.fetchrow(
        "SELECT * FROM invitees WHERE meeting_id = $1 AND person_id = $2", meeting_id, person_id
    )


async def set_rsvp(conn: Connection, *, meeting_id: uuid.UUID, person_id: uuid.UUID,
                   answer: str) -> bool:
    return bool(await conn.fetchval(
        "UPDATE invitees SET rsvp = $3 WHERE meeting_id = $1 AND person_id = $2 RETURNING true",
        meeting_id, person_id, answer,
    ))


async def check_in(conn: Connection, *, meeting_id: uuid.UUID, person_id: uuid.UUID,
                   by: str) -> None:
    await conn.execute(
        "INSERT INTO attendance (meeting_id, person_id, checked_in_by) VALUES ($1, $2, $3)"
        " ON CONFLICT DO NOTHING",
        meeting_id, person_id, by,
    )


async def attendance(conn: Connection, *, meeting_id: uuid.UUID) -> list[Row]:
    return await conn.fetch(
        "SELECT a.person_id, i.organisation_id FROM attendance a"
        " LEFT JOIN invitees i USING (meeting_id, person_id) WHERE a.meeting_id = $1",
        meeting_id,
    )


async def insert_item(conn: Connection, *, id: uuid.UUID, compound_id: uuid.UUID,
                      meeting_id: uuid.UUID | None, title: str, source: str,
                      issue_id: uuid.UUID | None = None, proposal_id: uuid.UUID | None = None,
                      presenter: str = "", minutes: int = 15) -> Row:
    """Add an item (at the end of the meeting's agenda); None if the issue was proposed already."""
    return await conn.fetchrow(
        "INSERT INTO agenda_items (id, compound_id, meeting_id, position, title, source, issue_id,"
        " proposal_id, presenter, minutes) VALUES ($1, $2, $3,"
        " CASE WHEN $3::uuid IS NULL THEN NULL ELSE (SELECT coalesce(max(position), 0) + 1"
        "  FROM agenda_items WHERE meeting_id = $3) END, $4, $5, $6, $7, $8, $9)"
        " ON CONFLICT DO NOTHING RETURNING *",
        id, compound_id, meeting_id, title, source, issue_id, proposal_id, presenter, minutes,
    )


async def schedule_item(conn: Connection, *, id: uuid.UUID, meeting_id: uuid.UUID,
                        presenter: str, minutes: int) -> Row:
    return await conn.fetchrow(
        "UPDATE agenda_items SET meeting_id = $2, presenter = $3, minutes = $4,"
        " position = (SELECT coalesce(max(position), 0) + 1 FROM agenda_items WHERE meeting_id = $2)"
        " WHERE id = $1 AND meeting_id IS NULL RETURNING *",
        id, meeting_id, presenter, minutes,
    )


async def get_item(conn: Connection, *, id: uuid.UUID) -> Row:
    return await conn.fetchrow("SELECT * FROM agenda_items WHERE id = $1", id)


async def items(conn: Connection, *, meeting_id: uuid.UUID) -> list[Row]:
    return await conn.fetch(
        "SELECT * FROM agenda_items WHERE meeting_id = $1 ORDER BY position", meeting_id
    )


async def unscheduled_items(conn: Connection, *, compound_id: uuid.UUID,
                            after: tuple[dt.datetime, uuid.UUID] | None,
                            limit: int) -> list[Row]:
    """One page of the items waiting for a meeting, by (created_at, id)."""
    at, last = after or (None, None)
    return await conn.fetch(
        "SELECT * FROM agenda_items WHERE compound_id = $1 AND meeting_id IS NULL"
        " AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3::uuid))"
        " ORDER BY created_at, id LIMIT $4",
        compound_id, at, last, limit,
    )


async def set_outcome(conn: Connection, *, id: uuid.UUID, outcome: str, note: str,
                      vote_id: uuid.UUID | None) -> Row:
    return await conn.fetchrow(
        "UPDATE agenda_items SET outcome = $2, outcome_note = $3, vote_id = $4 WHERE id = $1"
        " RETURNING *",
        id, outcome, note, vote_id,
    )


async def insert_opinion(conn: Connection, *, item_id: uuid.UUID, speaker_id: uuid.UUID,
                         speaker_name: str, organisation_id: uuid.UUID | None, stance: str,
                         text: str, by: str) -> Row:
    return await conn.fetchrow(
        "INSERT INTO item_opinions (id, item_id, speaker_id, speaker_name, organisation_id,"
        " stance, text, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *",
        uuid.uuid4(), item_id, speaker_id, speaker_name, organisation_id, stance, text, by,
    )


async def opinions(conn: Connection, *, item_ids: list[uuid.UUID]) -> list[Row]:
    return await conn.fetch(
        "SELECT * FROM item_opinions WHERE item_id = ANY($1) ORDER BY recorded_at, id", item_ids
    )


async def insert_action(conn: Connection, *, item_id: uuid.UUID, title: str,
                        organisation_id: uuid.UUID, due_on: dt.date) -> Row:
    return await conn.fetchrow(
        "INSERT INTO follow_up_actions (id, item_id, title, organisation_id, due_on)"
        " VALUES ($1, $2, $3, $4, $5) RETURNING *",
        uuid.uuid4(), item_id, title, organisation_id, due_on,
    )


async def actions(conn: Connection, *, item_ids: list[uuid.UUID]) -> list[Row]:
    return await conn.fetch(
        "SELECT * FROM follow_up_actions WHERE item_id = ANY($1) ORDER BY due_on, id", item_ids
    )


async def get_minutes(conn: Connection, *, meeting_id: uuid.UUID, lock: bool = False) -> Row:
    suffix = " FOR UPDATE" if lock else ""
    return await conn.fetchrow(f"SELECT * FROM minutes WHERE meeting_id = $1{suffix}", meeting_id)


async def save_draft(conn: Connection, *, meeting_id: uuid.UUID, text: str, by: str) -> Row:
    return await conn.fetchrow(
        "INSERT INTO minutes (meeting_id, status, text, edited_by) VALUES ($1, 'draft', $2, $3)"
        " ON CONFLICT (meeting_id) DO UPDATE SET text = EXCLUDED.text,"
        " edited_by = EXCLUDED.edited_by WHERE minutes.status = 'draft' RETURNING *",
        meeting_id, text, by,
    )


async def approve_minutes(conn: Connection, *, meeting_id: uuid.UUID, by: str) -> Row:
    return await conn.fetchrow(
        "UPDATE minutes SET status = 'approved', approved_by = $2, approved_at = now()"
        " WHERE meeting_id = $1 RETURNING *",
        meeting_id, by,
    )


async def publish_minutes(conn: Connection, *, meeting_id: uuid.UUID, days: int) -> Row:
    return await conn.fetchrow(
        "UPDATE minutes SET status = 'published', published_at = now(),"
        " notice_until = now() + make_interval(days => $2) WHERE meeting_id = $1 RETURNING *",
        meeting_id, days,
    )


async def lock_meeting(conn: Connection, *, id: uuid.UUID) -> None:
    """Serialise changes to one meeting until the transaction ends."""
    await conn.execute("SELECT 1 FROM meetings WHERE id = $1 FOR UPDATE", id)


async def reorder_items(conn: Connection, *, meeting_id: uuid.UUID,
                        item_ids: Sequence[uuid.UUID]) -> None:
    """Positions 1..n in the given order. UNIQUE (meeting_id, position) is checked row by row,
    so the new positions go in negated first, then flip."""
    await conn.execute(
        "UPDATE agenda_items a SET position = -o.n FROM unnest($2::uuid[]) WITH ORDINALITY"
        " AS o(id, n) WHERE a.id = o.id AND a.meeting_id = $1",
        meeting_id, list(item_ids),
    )
    await conn.execute(
        "UPDATE agenda_items SET position = -position WHERE meeting_id = $1 AND position < 0",
        meeting_id,
    )


async def cancel_meeting(conn: Connection, *, id: uuid.UUID, by: str, reason: str) -> Row:
    return await conn.fetchrow(
        "UPDATE meetings SET status = 'cancelled', cancelled_at = now(), cancelled_by = $2,"
        " cancel_reason = $3 WHERE id = $1 AND status = 'convened' RETURNING *",
        id, by, reason,
    )


# ---------------------------------------------------------------- personal calendar feeds


async def insert_feed(conn: Connection, *, id: uuid.UUID, person_id: str,
                      compound_ids: list[uuid.UUID], member_compound_ids: list[uuid.UUID],
                      label: str, token_hash: bytes) -> Row:
    row: Row = await conn.fetchrow(
        "INSERT INTO calendar_feeds (id, person_id, compound_ids, member_compound_ids, label,"
        " token_hash) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *",
        id, person_id, compound_ids, member_compound_ids, label, token_hash)
    return row


async def person_feeds(conn: Connection, *, person_id: str,
                       after: tuple[dt.datetime, uuid.UUID] | None, limit: int) -> list[Row]:
    """One page of a person's feeds (revoked ones too) by (created_at, id)."""
    at, last = after or (None, None)
    return await conn.fetch("SELECT * FROM calendar_feeds WHERE person_id = $1"
                            " AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3::uuid))"
                            " ORDER BY created_at, id LIMIT $4", person_id, at, last, limit)


async def live_feed_count(conn: Connection, *, person_id: str) -> int:
    count: int = await conn.fetchval("SELECT count(*) FROM calendar_feeds WHERE person_id = $1"
                                     " AND revoked_at IS NULL", person_id)
    return count


async def revoke_feed(conn: Connection, *, id: uuid.UUID, person_id: str) -> Row | None:
    """Revoke once; a second revoke keeps the first time. None unless the person's feed."""
    return await conn.fetchrow(
        "UPDATE calendar_feeds SET revoked_at = coalesce(revoked_at, now())"
        " WHERE id = $1 AND person_id = $2 RETURNING *", id, person_id)


async def feed_by_hash(conn: Connection, *, token_hash: bytes) -> Row | None:
    return await conn.fetchrow("SELECT * FROM calendar_feeds WHERE token_hash = $1", token_hash)


async def person_meetings(conn: Connection, *, compound_ids: list[uuid.UUID],
                          person_id: str) -> list[Row]:
    """The meetings of these compounds and those the person is invited to, with their RSVP."""
    return await conn.fetch(
        "SELECT m.*, i.person_id IS NOT NULL AS invited, i.rsvp FROM meetings m"
        " LEFT JOIN invitees i ON i.meeting_id = m.id AND i.person_id::text = $2"
        " WHERE m.compound_id = ANY($1::uuid[]) OR i.person_id IS NOT NULL"
        " ORDER BY m.starts_at, m.id", compound_ids, person_id)

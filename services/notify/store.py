"""Plain SQL of the notify schema; keyword-only functions taking the connection."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from linli.db import Connection

Row = Any  # asyncpg.Record
Keyset = tuple[dt.datetime, uuid.UUID] | None


def _after(keyset: Keyset, n: int) -> tuple[str, list[Any]]:
    """`AND (created_at, id) < (…)` for a descending keyset, parameters from $n."""
    if keyset is None:
        return "", []
    return f" AND (created_at, id) < (${n}::timestamptz, ${n + 1}::uuid)", list(keyset)


# ---------------------------------------------------------------- issues seen reported

async def remember_issue(conn: Connection, *, issue_id: uuid.UUID, compound_id: uuid.UUID,
                         reporter_id: str | None, title: str) -> None:
    await conn.execute(
        "INSERT INTO issues_seen (issue_id, compound_id, reporter_id, title) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (issue_id) DO NOTHING", issue_id, compound_id, reporter_id, title)


async def get_issue(conn: Connection, *, issue_id: uuid.UUID) -> Row | None:
    return await conn.fetchrow("SELECT * FROM issues_seen WHERE issue_id = $1", issue_id)


# ---------------------------------------------------------------- templates

async def get_template(conn: Connection, *, compound_id: uuid.UUID, kind: str) -> Row | None:
    return await conn.fetchrow("SELECT * FROM templates WHERE compound_id = $1 AND kind = $2",
                               compound_id, kind)


async def list_templates(conn: Connection, *, compound_id: uuid.UUID) -> list[Row]:
    return await conn.fetch("SELECT * FROM templates WHERE compound_id = $1", compound_id)


async def put_template(conn: Connection, *, compound_id: uuid.UUID, kind: str, title: str,
                       body: str, by: str) -> Row:
    return await conn.fetchrow(
        "INSERT INTO templates (compound_id, kind, title, body, updated_by) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (compound_id, kind) DO UPDATE SET title = $3, body = $4, updated_by = $5,"
        " updated_at = now() RETURNING *", compound_id, kind, title, body, by)


async def delete_template(conn: Connection, *, compound_id: uuid.UUID, kind: str) -> bool:
    done = await conn.execute("DELETE FROM templates WHERE compound_id = $1 AND kind = $2",
                              compound_id, kind)
    return str(done) != "DELETE 0"


# ---------------------------------------------------------------- preferences

async def get_preferences(conn: Connection, *, person_ids: list[str]) -> dict[str, Row]:
    rows = await conn.fetch("SELECT * FROM preferences WHERE person_id = ANY($1::text[])", person_ids)
    return {r["person_id"]: r for r in rows}


async def put_preferences(conn: Connection, *, person_id: str, webhook_url: str | None,
                          webhook_secret: str | None, kinds: list[str], quiet_start: dt.time | None,
                          quiet_end: dt.time | None, compound_ids: list[uuid.UUID]) -> Row:
    return await conn.fetchrow(
        "INSERT INTO preferences (person_id, webhook_url, webhook_secret, kinds, quiet_start,"
        " quiet_end, compound_ids) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (person_id) DO UPDATE SET webhook_url = $2, webhook_secret = $3, kinds = $4,"
        " quiet_start = $5, quiet_end = $6, compound_ids = $7, webhook_previous_secret = NULL,"
        " webhook_previous_until = NULL, updated_at = now() RETURNING *",
        person_id, webhook_url, webhook_secret, kinds, quiet_start, quiet_end, compound_ids)


async def rotate_webhook_secret(conn: Connection, *, person_id: str, secret: str,
                                grace: dt.timedelta) -> Row | None:
    """The new secret in place; the current one (if any) still signs until now + grace.
    None when the person has no webhook."""
    return await conn.fetchrow(
        "UPDATE preferences SET webhook_secret = $2,"
        " webhook_previous_secret = CASE WHEN $3 > interval '0' THEN webhook_secret END,"
        " webhook_previous_until = CASE WHEN $3 > interval '0' AND webhook_secret IS NOT NULL"
        " THEN now() + $3 END, updated_at = now()"
        " WHERE person_id = $1 AND webhook_url IS NOT NULL RETURNING *", person_id, secret, grace)


async def board_followers(conn: Connection, *, compound_id: uuid.UUID, kind: str) -> list[Row]:
    """People whose webhook takes this compound's notice-board posts of this kind."""
    return await conn.fetch(
        "SELECT * FROM preferences WHERE webhook_url IS NOT NULL AND compound_ids @> ARRAY[$1::uuid]"
        " AND (kinds = '{}' OR $2 = ANY(kinds))", compound_id, kind)


# ---------------------------------------------------------------- inbox and notice board

async def insert_notification(conn: Connection, **row: Any) -> Row | None:
    """The notification, unless this event already reached this person (then None)."""
    created = await conn.fetchrow(
        "INSERT INTO notifications (id, event_id, person_id, compound_id, kind, audience, title,"
        " body, subject) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        " ON CONFLICT (event_id, person_id) DO NOTHING RETURNING *",
        row["id"], row["event_id"], row["person_id"], row["compound_id"], row["kind"],
        row["audience"], row["title"], row["body"], row["subject"])
    if created is not None:
        await conn.execute("SELECT pg_notify('linli_notify_live', '')")  # sent on commit
    return created


async def insert_notice(conn: Connection, **row: Any) -> Row | None:
    created = await conn.fetchrow(
        "INSERT INTO notices (id, event_id, compound_id, kind, title, body, subject)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (event_id) DO NOTHING RETURNING *",
        row["id"], row["event_id"], row["compound_id"], row["kind"], row["title"], row["body"],
        row["subject"])
    if created is not None:
        await conn.execute("SELECT pg_notify('linli_notify_live', '')")
    return created


async def notice_of_event(conn: Connection, *, event_id: uuid.UUID) -> Row | None:
    return await conn.fetchrow("SELECT * FROM notices WHERE event_id = $1", event_id)


async def inbox(conn: Connection, *, person_id: str, unread: bool, after: Keyset,
                limit: int) -> list[Row]:
    extra, args = _after(after, 3)
    unread_sql = " AND read_at IS NULL" if unread else ""
    return await conn.fetch(
        f"SELECT * FROM notifications WHERE person_id = $1{unread_sql}{extra}"
        " ORDER BY created_at DESC, id DESC LIMIT $2", person_id, limit + 1, *args)


async def mark_read(conn: Connection, *, person_id: str, notification_id: uuid.UUID) -> Row | None:
    return await conn.fetchrow(
        "UPDATE notifications SET read_at = coalesce(read_at, now())"
        " WHERE id = $1 AND person_id = $2 RETURNING *", notification_id, person_id)


async def mark_all_read(conn: Connection, *, person_id: str) -> int:
    done = await conn.execute(
        "UPDATE notifications SET read_at = now() WHERE person_id = $1 AND read_at IS NULL", person_id)
    return int(str(done).split()[-1])


async def notices(conn: Connection, *, compound_id: uuid.UUID, after: Keyset, limit: int) -> list[Row]:
    extra, args = _after(after, 3)
    return await conn.fetch(
        f"SELECT * FROM notices WHERE compound_id = $1{extra}"
        " ORDER BY created_at DESC, id DESC LIMIT $2", compound_id, limit + 1, *args)


# ---------------------------------------------------------------- deliveries

async def insert_delivery(conn: Connection, *, person_id: str | None, compound_id: uuid.UUID | None,
                          kind: str, target: str, payload: str, not_before: dt.datetime | None,
                          channel: str = "webhook", notification_id: uuid.UUID | None = None,
                          notice_id: uuid.UUID | None = None, bot_id: uuid.UUID | None = None,
                          event_id: uuid.UUID | None = None) -> None:
    """A pending delivery on one channel of a notification, a notice, or an event to a bot;
    once per source and channel (a redelivered event adds nothing)."""
    await conn.execute(
        "INSERT INTO deliveries (id, notification_id, notice_id, person_id, compound_id, kind,"
        " channel, target, payload, next_attempt_at, bot_id, event_id) VALUES ($1, $2, $3, $4, $5,"
        " $6, $7, $8, $9::jsonb, coalesce($10, clock_timestamp()), $11, $12) ON CONFLICT DO NOTHING",
        uuid.uuid4(), notification_id, notice_id, person_id, compound_id, kind, channel, target,
        payload, not_before, bot_id, event_id)
    await conn.execute("SELECT pg_notify('linli_notify_deliveries', '')")


async def deliveries(conn: Connection, *, person_id: str | None = None,
                     compound_id: uuid.UUID | None = None, status: str | None,
                     channel: str | None = None, after: Keyset, limit: int) -> list[Row]:
    extra, args = _after(after, 6)
    return await conn.fetch(
        "SELECT * FROM deliveries WHERE ($1::text IS NULL OR person_id = $1)"
        " AND ($2::uuid IS NULL OR compound_id = $2) AND ($3::text IS NULL OR status = $3)"
        f" AND ($5::text IS NULL OR channel = $5){extra} ORDER BY created_at DESC, id DESC LIMIT $4",
        person_id, compound_id, status, limit + 1, channel, *args)


async def claim_due(conn: Connection, *, limit: int, now: dt.datetime,
                    lease_seconds: float) -> list[Row]:
    """Rows due by `now`, locked against other senders, leased so a crash retries them later;
    a person's webhook comes with its secret and, while a rotation's grace lasts, the old one."""
    return await conn.fetch(
        "WITH due AS (SELECT id FROM deliveries WHERE status = 'pending'"
        " AND next_attempt_at <= $3::timestamptz ORDER BY next_attempt_at LIMIT $1"
        " FOR UPDATE SKIP LOCKED)"
        " UPDATE deliveries d SET attempts = d.attempts + 1,"
        " next_attempt_at = $3::timestamptz + make_interval(secs => $2)"
        " FROM due WHERE d.id = due.id RETURNING d.*, CASE WHEN d.bot_id IS NULL"
        " THEN (SELECT webhook_secret FROM preferences p WHERE p.person_id = d.person_id)"
        " ELSE (SELECT secret FROM bots b WHERE b.id = d.bot_id) END AS secret,"
        " (SELECT webhook_previous_secret FROM preferences p WHERE p.person_id = d.person_id"
        " AND d.bot_id IS NULL AND p.webhook_previous_until > $3) AS previous_secret",
        limit, lease_seconds, now)


async def finish(conn: Connection, *, delivery_id: uuid.UUID, status: str, error: str | None,
                 retry_in: float | None, now: dt.datetime) -> None:
    await conn.execute(
        "UPDATE deliveries SET status = $2, last_error = $3,"
        " next_attempt_at = CASE WHEN $4::float8 IS NULL THEN next_attempt_at"
        " ELSE $5::timestamptz + make_interval(secs => $4) END,"
        " finished_at = CASE WHEN $2 = 'pending' THEN NULL ELSE $5::timestamptz END"
        " WHERE id = $1", delivery_id, status, error, retry_in, now)


async def disable_webhook(conn: Connection, *, person_id: str, target: str) -> None:
    """The person's webhook off (unless they have changed it since) and what still waits for it."""
    await conn.execute(
        "UPDATE preferences SET webhook_url = NULL, webhook_secret = NULL,"
        " webhook_previous_secret = NULL, webhook_previous_until = NULL, updated_at = now()"
        " WHERE person_id = $1 AND webhook_url = $2", person_id, target)
    await conn.execute(
        "UPDATE deliveries SET status = 'failed', last_error = $3, finished_at = clock_timestamp()"
        " WHERE person_id = $1 AND target = $2 AND status = 'pending' AND channel = 'webhook'",
        person_id, target, "接收方表示该地址已停用 (410)")


async def pending_count(conn: Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM deliveries WHERE status = 'pending'"))


# ---------------------------------------------------------------- live inbox (SSE)

async def claim_unpushed_notifications(conn: Connection, *, limit: int) -> list[Row]:
    """New notifications not yet pushed, each with its person's unread count; locked so one
    replica pushes each (call inside the transaction that publishes them)."""
    return await conn.fetch(
        "WITH due AS (SELECT id FROM notifications WHERE pushed_at IS NULL ORDER BY seq LIMIT $1"
        " FOR UPDATE SKIP LOCKED)"
        " UPDATE notifications n SET pushed_at = clock_timestamp() FROM due WHERE n.id = due.id"
        " RETURNING n.*, (SELECT count(*) FROM notifications u WHERE u.person_id = n.person_id"
        " AND u.read_at IS NULL) AS unread", limit)


async def claim_unpushed_notices(conn: Connection, *, limit: int) -> list[Row]:
    return await conn.fetch(
        "WITH due AS (SELECT id FROM notices WHERE pushed_at IS NULL ORDER BY seq LIMIT $1"
        " FOR UPDATE SKIP LOCKED)"
        " UPDATE notices n SET pushed_at = clock_timestamp() FROM due WHERE n.id = due.id"
        " RETURNING n.*", limit)


async def live_since(conn: Connection, *, person_id: str, compound_ids: list[uuid.UUID],
                     after: int, limit: int) -> list[Row]:
    """The person's notifications and their compounds' notices after position `after`."""
    return await conn.fetch(
        "SELECT 'notification' AS event, id, seq FROM notifications WHERE person_id = $1 AND seq > $3"
        " UNION ALL SELECT 'notice', id, seq FROM notices WHERE compound_id = ANY($2::uuid[])"
        " AND seq > $3 ORDER BY seq LIMIT $4", person_id, compound_ids, after, limit)


async def notifications_by_id(conn: Connection, *, ids: list[uuid.UUID]) -> dict[uuid.UUID, Row]:
    rows = await conn.fetch("SELECT * FROM notifications WHERE id = ANY($1::uuid[])", ids)
    return {r["id"]: r for r in rows}


async def notices_by_id(conn: Connection, *, ids: list[uuid.UUID]) -> dict[uuid.UUID, Row]:
    rows = await conn.fetch("SELECT * FROM notices WHERE id = ANY($1::uuid[])", ids)
    return {r["id"]: r for r in rows}


async def unread_count(conn: Connection, *, person_id: str) -> int:
    return int(await conn.fetchval(
        "SELECT count(*) FROM notifications WHERE person_id = $1 AND read_at IS NULL", person_id))


async def deliveries_of_event(conn: Connection, *, event_id: uuid.UUID) -> int:
    """Deliveries queued for an event (or a sent message): its people's, its board post's and
    its bots'."""
    return int(await conn.fetchval(
        "SELECT count(*) FROM deliveries WHERE event_id = $1"
        " OR notification_id IN (SELECT id FROM notifications WHERE event_id = $1)"
        " OR notice_id IN (SELECT id FROM notices WHERE event_id = $1)", event_id))

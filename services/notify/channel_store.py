"""Plain SQL of the channels beyond the inbox and webhook: people's email and SMS addresses,
the compound's IM group bots, its email sender, and the SMS rate limit."""

from __future__ import annotations

import uuid
from typing import Any

from linli.db import Connection

Row = Any  # asyncpg.Record


async def person_channels(conn: Connection, *, person_ids: list[str]) -> dict[str, list[Row]]:
    rows = await conn.fetch("SELECT * FROM person_channels WHERE person_id = ANY($1::text[])"
                            " ORDER BY channel", person_ids)
    found: dict[str, list[Row]] = {}
    for r in rows:
        found.setdefault(r["person_id"], []).append(r)
    return found


async def put_person_channel(conn: Connection, *, person_id: str, channel: str, address: str,
                             kinds: list[str], digest_hour: int | None) -> Row:
    """A new address gets a new unsubscribe token; the same address keeps its own."""
    return await conn.fetchrow(
        "INSERT INTO person_channels (person_id, channel, address, kinds, unsubscribe_token,"
        " digest_hour) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (person_id, channel) DO UPDATE"
        " SET address = $3, kinds = $4, digest_hour = $6, unsubscribe_token = CASE"
        " WHEN person_channels.address = $3 THEN person_channels.unsubscribe_token ELSE $5 END,"
        " updated_at = now() RETURNING *",
        person_id, channel, address, kinds, uuid.uuid4(), digest_hour)


async def delete_person_channel(conn: Connection, *, person_id: str, channel: str) -> bool:
    done = await conn.execute("DELETE FROM person_channels WHERE person_id = $1 AND channel = $2",
                              person_id, channel)
    return str(done) != "DELETE 0"


async def unsubscribe(conn: Connection, *, token: uuid.UUID) -> Row | None:
    return await conn.fetchrow("DELETE FROM person_channels WHERE unsubscribe_token = $1 RETURNING *",
                               token)


async def bots_for(conn: Connection, *, compound_id: uuid.UUID, organisations: list[str],
                   kind: str) -> list[Row]:
    """The compound's bots for these organisations that take this kind."""
    return await conn.fetch(
        "SELECT * FROM bots WHERE compound_id = $1 AND organisation = ANY($2::text[])"
        " AND (kinds = '{}' OR $3 = ANY(kinds)) ORDER BY created_at", compound_id, organisations, kind)


async def list_bots(conn: Connection, *, compound_id: uuid.UUID) -> list[Row]:
    return await conn.fetch("SELECT * FROM bots WHERE compound_id = $1 ORDER BY created_at, id",
                            compound_id)


async def insert_bot(conn: Connection, **row: Any) -> Row:
    return await conn.fetchrow(
        "INSERT INTO bots (id, compound_id, organisation, platform, name, url, secret, kinds,"
        " mention_mobiles, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *",
        row["id"], row["compound_id"], row["organisation"], row["platform"], row["name"], row["url"],
        row["secret"], row["kinds"], row["mention_mobiles"], row["created_by"])


async def delete_bot(conn: Connection, *, compound_id: uuid.UUID, bot_id: uuid.UUID) -> bool:
    done = await conn.execute("DELETE FROM bots WHERE compound_id = $1 AND id = $2", compound_id, bot_id)
    return str(done) != "DELETE 0"


async def email_sender(conn: Connection, *, compound_id: uuid.UUID | None) -> Row | None:
    if compound_id is None:
        return None
    return await conn.fetchrow("SELECT * FROM email_senders WHERE compound_id = $1", compound_id)


async def put_email_sender(conn: Connection, *, compound_id: uuid.UUID, from_name: str,
                           from_address: str, reply_to: str | None, by: str) -> Row:
    return await conn.fetchrow(
        "INSERT INTO email_senders (compound_id, from_name, from_address, reply_to, updated_by)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (compound_id) DO UPDATE SET from_name = $2,"
        " from_address = $3, reply_to = $4, updated_by = $5, updated_at = now() RETURNING *",
        compound_id, from_name, from_address, reply_to, by)


async def unsubscribe_token(conn: Connection, *, person_id: str, channel: str) -> uuid.UUID | None:
    return await conn.fetchval("SELECT unsubscribe_token FROM person_channels"
                               " WHERE person_id = $1 AND channel = $2", person_id, channel)


async def reserve_sms(conn: Connection, *, delivery_id: uuid.UUID, phone: str, per_hour: int) -> bool:
    """Take one of the phone's texts this hour, or False when they are used up. Call inside a
    transaction: the lock per phone makes concurrent senders and replicas count one by one."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('linli-sms:' || $1, 0))", phone)
    used = await conn.fetchval(
        "SELECT count(*) FROM sms_sends WHERE phone = $1 AND delivery_id <> $2"
        " AND sent_at > clock_timestamp() - interval '1 hour'", phone, delivery_id)
    if used >= per_hour:
        return False
    await conn.execute("INSERT INTO sms_sends (delivery_id, phone) VALUES ($1, $2)"
                       " ON CONFLICT (delivery_id) DO UPDATE SET sent_at = clock_timestamp()",
                       delivery_id, phone)
    return True


async def release_sms(conn: Connection, *, delivery_id: uuid.UUID) -> None:
    """A text the provider did not take does not count."""
    await conn.execute("DELETE FROM sms_sends WHERE delivery_id = $1", delivery_id)


# ---------------------------------------------------------------- daily digests

async def add_digest_item(conn: Connection, *, notification_id: uuid.UUID, channel: str,
                          person_id: str) -> None:
    await conn.execute("INSERT INTO digest_items (notification_id, channel, person_id)"
                       " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", notification_id, channel, person_id)


async def claim_due_digests(conn: Connection, *, hour: int, day: Any, limit: int) -> list[Row]:
    """Channels whose digest hour has come today, with waiting items and no digest yet today;
    locked (SKIP LOCKED) so each is made by one replica."""
    return await conn.fetch(
        "SELECT pc.*, p.quiet_start, p.quiet_end FROM person_channels pc"
        " LEFT JOIN preferences p ON p.person_id = pc.person_id"
        " WHERE pc.digest_hour IS NOT NULL AND pc.digest_hour <= $1"
        " AND EXISTS (SELECT 1 FROM digest_items i WHERE i.person_id = pc.person_id"
        " AND i.channel = pc.channel AND i.delivery_id IS NULL)"
        " AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.person_id = pc.person_id"
        " AND d.channel = pc.channel AND d.digest_day = $2)"
        " ORDER BY pc.person_id, pc.channel LIMIT $3 FOR UPDATE OF pc SKIP LOCKED", hour, day, limit)


async def waiting_items(conn: Connection, *, person_id: str, channel: str) -> list[Row]:
    return await conn.fetch(
        "SELECT n.* FROM digest_items i JOIN notifications n ON n.id = i.notification_id"
        " WHERE i.person_id = $1 AND i.channel = $2 AND i.delivery_id IS NULL"
        " ORDER BY n.created_at, n.id FOR UPDATE OF i", person_id, channel)


async def insert_digest(conn: Connection, *, person_id: str, channel: str, target: str, day: Any,
                        payload: str, not_before: Any, item_ids: list[uuid.UUID]) -> bool:
    """The day's digest delivery and its items marked; False when today's exists already."""
    delivery_id = await conn.fetchval(
        "INSERT INTO deliveries (id, person_id, kind, channel, target, payload, next_attempt_at,"
        " digest_day) VALUES ($1, $2, 'digest', $3, $4, $5::jsonb, coalesce($6, clock_timestamp()),"
        " $7) ON CONFLICT DO NOTHING RETURNING id",
        uuid.uuid4(), person_id, channel, target, payload, not_before, day)
    if delivery_id is None:
        return False
    await conn.execute("UPDATE digest_items SET delivery_id = $1 WHERE notification_id = ANY($2::uuid[])"
                       " AND channel = $3", delivery_id, item_ids, channel)
    await conn.execute("SELECT pg_notify('linli_notify_deliveries', '')")
    return True

"""Queue a notification on the channels beyond the inbox: the person's webhook, email and SMS,
and the compound's IM group bots for an organisation or its notice board. Called inside the
consumer's transaction, so each delivery is written once with its notification."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec

from linli.db import Connection
from linli.events import CloudEvent
from services.notify import channel_store, store
from services.notify.rules import CRITICAL_KINDS, held_until
from services.notify.templates import KINDS


def payload(row: store.Row, event: CloudEvent, audience: str, person_id: str | None,
            **extra: Any) -> str:
    """What every channel renders from: the same title and body as the inbox."""
    return msgspec.json.encode({
        "id": str(row["id"]), "kind": row["kind"], "kind_label": KINDS[row["kind"]].label,
        "audience": audience, "title": row["title"], "body": row["body"], "person_id": person_id,
        "compound_id": event.compoundid, "subject": row["subject"], "event_id": event.id,
        "event_type": event.type, "created_at": row["created_at"].isoformat(), **extra,
    }).decode()


def _compound(event: CloudEvent) -> uuid.UUID | None:
    return uuid.UUID(event.compoundid) if event.compoundid else None


def wants(channel: store.Row, kind: str) -> bool:
    """Kinds left empty mean every kind, except SMS, which then carries only critical ones."""
    if channel["kinds"]:
        return kind in channel["kinds"]
    return channel["channel"] != "sms" or kind in CRITICAL_KINDS


async def to_person_channels(conn: Connection, row: store.Row, event: CloudEvent, audience: str,
                             channels: list[store.Row], pref: store.Row | None, *,
                             page: dict[str, str | None] | None = None) -> None:
    """Email and SMS deliveries of one notification, held through the person's quiet hours,
    or kept for the channel's daily digest (critical kinds always go at once)."""
    held = held_until(dt.datetime.now(dt.UTC), row["kind"], pref["quiet_start"] if pref else None,
                      pref["quiet_end"] if pref else None)
    for channel in channels:
        if not wants(channel, row["kind"]):
            continue
        if channel["digest_hour"] is not None and row["kind"] not in CRITICAL_KINDS:
            await channel_store.add_digest_item(conn, notification_id=row["id"],
                                                channel=channel["channel"], person_id=row["person_id"])
            continue
        await store.insert_delivery(
            conn, person_id=row["person_id"], compound_id=_compound(event), kind=row["kind"],
            channel=channel["channel"], target=channel["address"], not_before=held,
            payload=payload(row, event, audience, row["person_id"],
                            unsubscribe=str(channel["unsubscribe_token"]), **(page or {})),
            notification_id=row["id"])


async def to_bots(conn: Connection, event: CloudEvent, row: store.Row, organisations: list[str],
                  audience: str, *, page: dict[str, str | None] | None = None) -> None:
    """The compound's group bots of these organisations ('compound' for the notice board)."""
    compound_id = _compound(event)
    if compound_id is None:
        return
    for bot in await channel_store.bots_for(conn, compound_id=compound_id,
                                            organisations=organisations, kind=row["kind"]):
        await store.insert_delivery(
            conn, person_id=None, compound_id=compound_id, kind=row["kind"], channel=bot["platform"],
            target=bot["url"], not_before=None, bot_id=bot["id"], event_id=uuid.UUID(event.id),
            payload=payload(row, event, audience, None, mention_mobiles=list(bot["mention_mobiles"]),
                            **(page or {})))

"""Daily digests: a person who chose a digest hour for a channel gets the day's non-critical
notifications on it in one message at that hour (China Standard Time), held through their
quiet hours. Every replica runs the job; a channel's row is claimed with SKIP LOCKED and the
delivery is unique per person, channel and day, so each digest is made exactly once."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from linli.db import Pool, transaction
from services.notify import channel_store, store
from services.notify.rules import CST, quiet_until

LABEL = "每日摘要"


def digest_payload(items: list[store.Row], channel: store.Row, day: dt.date) -> str:
    lines = [f"· {r['title']}" for r in items]
    return msgspec.json.encode({
        "id": str(uuid.uuid4()), "kind": "digest", "kind_label": LABEL,
        "title": f"{day.month}月{day.day}日通知摘要: {len(items)} 条",
        "body": "\n".join(lines), "person_id": channel["person_id"], "compound_id": None,
        "subject": "", "items": [str(r["id"]) for r in items],
        "unsubscribe": str(channel["unsubscribe_token"]),
    }).decode()


async def digest_once(pool: Pool, *, now: dt.datetime | None = None, limit: int = 100) -> int:
    """Make the digests that are due now; returns how many this call made."""
    moment = now or dt.datetime.now(dt.UTC)
    local = moment.astimezone(CST)
    made = 0
    async with transaction(pool) as conn:
        due = await channel_store.claim_due_digests(conn, hour=local.hour, day=local.date(),
                                                    limit=limit)
        for channel in due:
            items = await channel_store.waiting_items(conn, person_id=channel["person_id"],
                                                      channel=channel["channel"])
            if not items:
                continue
            made += await channel_store.insert_digest(
                conn, person_id=channel["person_id"], channel=channel["channel"],
                target=channel["address"], day=local.date(),
                payload=digest_payload(items, channel, local.date()),
                not_before=quiet_until(moment, channel["quiet_start"], channel["quiet_end"]),
                item_ids=[r["id"] for r in items])
    return made

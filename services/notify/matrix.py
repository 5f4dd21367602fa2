"""The kind × channel matrix: for one person, which kinds of message reach which of their
channels and when, read from the same rules the fan-out applies (fanout.py, outbound.py), so
the page that shows it cannot promise what the sender does not do."""

from __future__ import annotations

from linli.db import Pool
from services.notify import channel_store, store
from services.notify.messages import NOT_SENDABLE
from services.notify.models import KindChannels, NotificationMatrix, Reach
from services.notify.outbound import wants
from services.notify.rules import CRITICAL_KINDS
from services.notify.service import to_preferences
from services.notify.templates import KINDS


def _timed(critical: bool, quiet: bool) -> Reach:
    return "immediate" if critical or not quiet else "outside_quiet_hours"


def _webhook(kind: str, pref: store.Row | None, quiet: bool) -> Reach:
    if pref is None or not pref["webhook_url"] or (pref["kinds"] and kind not in pref["kinds"]):
        return "off"
    return _timed(kind in CRITICAL_KINDS, quiet)


def _channel(kind: str, row: store.Row | None, quiet: bool) -> Reach:
    if row is None or not wants(row, kind):
        return "off"
    if row["digest_hour"] is not None and kind not in CRITICAL_KINDS:
        return "digest"
    return _timed(kind in CRITICAL_KINDS, quiet)


async def matrix(pool: Pool, *, person_id: str) -> NotificationMatrix:
    async with pool.acquire() as conn:
        pref = (await store.get_preferences(conn, person_ids=[person_id])).get(person_id)
        rows = (await channel_store.person_channels(conn, person_ids=[person_id])).get(person_id, [])
    channels = {r["channel"]: r for r in rows}
    shown = to_preferences(person_id, pref)
    quiet = shown.quiet_start is not None
    kinds = [KindChannels(kind=name, label=kind.label, critical=name in CRITICAL_KINDS,
                          in_app="immediate", webhook=_webhook(name, pref, quiet),
                          email=_channel(name, channels.get("email"), quiet),
                          sms=_channel(name, channels.get("sms"), quiet))
             for name, kind in KINDS.items() if name not in NOT_SENDABLE]
    return NotificationMatrix(
        person_id=person_id, quiet_start=shown.quiet_start, quiet_end=shown.quiet_end,
        digest_hours={c: r["digest_hour"] for c, r in channels.items() if r["digest_hour"] is not None},
        kinds=kinds)

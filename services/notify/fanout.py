"""Who hears about an event: people, an organisation of the compound, or its notice board.

Called inside a consumer's transaction: notifications, notices and webhook deliveries are
written together with the inbox row, so a redelivered event adds nothing (UNIQUE per event
and person, or per event on the notice board).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from linli.db import Connection
from linli.directory import PendingDirectory
from linli.events import CloudEvent
from linli.values import now_utc
from services.notify import channel_store, links, outbound, store
from services.notify.metrics import NOTIFICATIONS
from services.notify.rules import CST, held_until
from services.notify.templates import KINDS, render


@dataclass(frozen=True)
class Message:
    """What to say: a kind, the values of its placeholders, and the entity it is about
    (`subject`; the portal page is the kind's, unless `about` / `about_id` name another)."""

    kind: str
    values: dict[str, str]
    subject: str
    about: str | None = None
    about_id: str | None = None

    def page(self) -> dict[str, str | None]:
        """The payload's `about` and `about_id` (services/notify/links.py)."""
        return links.about(self.kind, self.subject, kind_of=self.about, entity_id=self.about_id)


async def _texts(conn: Connection, compound_id: uuid.UUID | None, msg: Message) -> tuple[str, str]:
    kind = KINDS[msg.kind]
    row = None
    if compound_id is not None:
        row = await store.get_template(conn, compound_id=compound_id, kind=msg.kind)
    title, body = (row["title"], row["body"]) if row else (kind.title, kind.body)
    return render(title, msg.values), render(body, msg.values)


def _compound(event: CloudEvent) -> uuid.UUID | None:
    return uuid.UUID(event.compoundid) if event.compoundid else None


async def to_people(conn: Connection, event: CloudEvent, msg: Message, person_ids: list[str],
                    *, audience: str = "person") -> int:
    """One inbox row per person (once per event), plus a webhook delivery where wanted."""
    people = [p for p in dict.fromkeys(person_ids) if p]
    if not people:
        return 0
    compound_id = _compound(event)
    title, body = await _texts(conn, compound_id, msg)
    prefs = await store.get_preferences(conn, person_ids=people)
    channels = await channel_store.person_channels(conn, person_ids=people)
    created = 0
    for person in people:
        row = await store.insert_notification(
            conn, id=uuid.uuid4(), event_id=uuid.UUID(event.id), person_id=person,
            compound_id=compound_id, kind=msg.kind, audience=audience, title=title, body=body,
            subject=msg.subject)
        if row is None:
            continue
        created += 1
        pref = prefs.get(person)
        if pref is not None and pref["webhook_url"] and (not pref["kinds"] or msg.kind in pref["kinds"]):
            await _deliver(conn, pref, row, event, audience, msg, notification_id=row["id"])
        await outbound.to_person_channels(conn, row, event, audience, channels.get(person, []), pref,
                                          page=msg.page())
    NOTIFICATIONS.labels(msg.kind, audience).inc(created)
    return created


async def _deliver(conn: Connection, pref: store.Row, row: store.Row, event: CloudEvent,
                   audience: str, msg: Message, *, notification_id: uuid.UUID | None = None,
                   notice_id: uuid.UUID | None = None) -> None:
    """A webhook delivery of a notification or notice row, held back during quiet hours."""
    await store.insert_delivery(
        conn, person_id=pref["person_id"], compound_id=_compound(event), kind=row["kind"],
        target=pref["webhook_url"],
        payload=outbound.payload(row, event, audience, pref["person_id"], **msg.page()),
        not_before=held_until(now_utc(), row["kind"], pref["quiet_start"], pref["quiet_end"]),
        notification_id=notification_id, notice_id=notice_id)


async def to_roles(conn: Connection, event: CloudEvent, msg: Message, roles: list[str],
                   directory: PendingDirectory) -> int:
    """Everyone serving today (China time) in the compound's organisations of these kinds
    (raises when the directory cannot answer, so the event is redelivered later)."""
    if not event.compoundid or not roles:
        return 0
    today = dt.datetime.now(CST).date()
    people = await (await directory.get()).members(event.compoundid, roles, today)
    created = await to_people(conn, event, msg, people, audience="role")
    title, body = await _texts(conn, _compound(event), msg)
    about = {"id": uuid.UUID(event.id), "kind": msg.kind, "title": title, "body": body,
             "subject": msg.subject, "created_at": now_utc()}
    await outbound.to_bots(conn, event, about, roles, "role", page=msg.page())  # their IM groups
    return created


async def to_notice_board(conn: Connection, event: CloudEvent, msg: Message) -> None:
    """One post on the compound's notice board instead of a row per resident; webhooks of
    people who follow this compound's board (e.g. an IM group bot) get it pushed."""
    compound_id = _compound(event)
    if compound_id is None:
        return
    title, body = await _texts(conn, compound_id, msg)
    row = await store.insert_notice(conn, id=uuid.uuid4(), event_id=uuid.UUID(event.id),
                                    compound_id=compound_id, kind=msg.kind, title=title, body=body,
                                    subject=msg.subject)
    if row is None:
        return
    NOTIFICATIONS.labels(msg.kind, "compound").inc()
    for pref in await store.board_followers(conn, compound_id=compound_id, kind=msg.kind):
        await _deliver(conn, pref, row, event, "compound", msg, notice_id=row["id"])
    await outbound.to_bots(conn, event, row, ["compound"], "compound",  # the compound's IM group
                           page=msg.page())

"""Messages other apps (and staff) send directly: to people, to organisations of the 1+3+N
roster, or to the whole compound. They go the way an event's notifications go (fanout.py):
the same templates (a compound's own first), the inbox and live stream, each person's webhook,
email and SMS with their kinds, quiet hours and digests, the group bots, the delivery log.

The request carries an Idempotency-Key (the route is idempotent: linli/idempotency.py keeps
the answer in the same transaction as the writes), so a retried send is one message; the
message's id also stands in for the event id every row is unique on.
"""

from __future__ import annotations

import uuid

from linli import problems
from linli.auth import Principal
from linli.db import Pool, transaction
from linli.directory import PendingDirectory
from linli.events import CloudEvent
from linli.values import now_utc
from services.notify import fanout, links, store
from services.notify.channel_models import BroadcastIn, MessageSent, MessageToIn
from services.notify.fanout import Message
from services.notify.templates import KINDS

SENT = "linli.notify.message.sent"  # the payload's event_type (not published on the bus)
NOT_SENDABLE = frozenset({"sign_in_code"})  # POST /v1/people/{id}/messages sends codes


def _message(data: BroadcastIn, message_id: uuid.UUID) -> Message:
    """The message, once its kind and values fit the kind's template; about its page's
    entity, else about itself."""
    if data.kind in NOT_SENDABLE:
        raise problems.validation("登录验证码只能通过 /v1/people/{person_id}/messages 发送",
                                  field="kind")
    wanted = KINDS[data.kind].placeholders
    missing, unknown = sorted(wanted - set(data.values)), sorted(set(data.values) - wanted)
    if missing or unknown:
        parts = ([f"缺少占位符的值: {'、'.join(missing)}"] if missing else []) + (
            [f"“{KINDS[data.kind].label}”没有这些占位符: {'、'.join(unknown)}"] if unknown else [])
        raise problems.validation("；".join(parts), field="values")
    if any(not v.strip() for k, v in data.values.items() if k in ("title", "body")):
        raise problems.validation("标题和正文不能为空", field="values")
    if data.about_id is not None and data.about is None:
        raise problems.validation("给出 about_id 时须同时给出 about (页面类型)", field="about")
    if data.about is not None and "{id}" in links.PAGES[data.about] and data.about_id is None:
        raise problems.validation(f"页面类型 {data.about} 须给出 about_id", field="about_id")
    return Message(data.kind, {k: v.strip() for k, v in data.values.items()},
                   data.about_id or f"message:{message_id}", about=data.about,
                   about_id=data.about_id)


def _envelope(message_id: uuid.UUID, compound_id: uuid.UUID, msg: Message, who: Principal) -> CloudEvent:
    return CloudEvent(id=str(message_id), source="linli/notify", type=SENT,
                      subject=msg.subject, time=now_utc().isoformat(),
                      compoundid=str(compound_id), data={"by": who.subject})


async def send(pool: Pool, directory: PendingDirectory, *, compound_id: uuid.UUID, who: Principal,
               data: MessageToIn) -> MessageSent:
    """To the people named, who must all belong to the compound (else a 422 naming those who do
    not), or to the organisations' current members (and their bots)."""
    if bool(data.person_ids) == bool(data.organisations):
        raise problems.validation("须且只能给出 person_ids 或 organisations 之一", field="person_ids")
    message_id = uuid.uuid4()
    msg = _message(data, message_id)
    event = _envelope(message_id, compound_id, msg, who)
    people_named = [str(p) for p in data.person_ids]
    # only people of this compound: staff of one compound neither reach nor learn about (the
    # answer's count, the delivery log) the residents of another; refused whole, nothing written
    await (await directory.get()).require_members(compound_id, people_named, field="person_ids")
    async with transaction(pool) as conn:
        if data.organisations:
            people = await fanout.to_roles(conn, event, msg, list(data.organisations), directory)
        else:
            people = await fanout.to_people(conn, event, msg, people_named)
        queued = await store.deliveries_of_event(conn, event_id=message_id)
    return MessageSent(id=message_id, audience="role" if data.organisations else "person",
                       people=people, notice_id=None, deliveries=queued)


async def broadcast(pool: Pool, *, compound_id: uuid.UUID, who: Principal,
                    data: BroadcastIn) -> MessageSent:
    """One post on the compound's notice board, pushed to its followers and group bots."""
    message_id = uuid.uuid4()
    msg = _message(data, message_id)
    event = _envelope(message_id, compound_id, msg, who)
    async with transaction(pool) as conn:
        await fanout.to_notice_board(conn, event, msg)
        notice = await store.notice_of_event(conn, event_id=message_id)
        queued = await store.deliveries_of_event(conn, event_id=message_id)
    assert notice is not None  # a fresh id never conflicts
    return MessageSent(id=message_id, audience="compound", people=0, notice_id=notice["id"],
                       deliveries=queued)

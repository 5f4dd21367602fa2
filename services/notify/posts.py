"""A notice staff post to a compound's board by hand (社区公告): the same board row and the same
webhook pushes to the board's followers as an event's notice, from the compound's template of
the kind `announcement` (so a compound may frame every post, e.g. 【阳光花园】{title})."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec

from linli.auth import Principal
from linli.db import Pool, transaction
from linli.events import CloudEvent
from services.notify import store
from services.notify.fanout import Message, to_notice_board
from services.notify.models import Notice
from services.notify.templates import KINDS


class NoticeIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=100, pattern=r"\S")]
    body: Annotated[str, msgspec.Meta(min_length=1, max_length=2_000, pattern=r"\S")]


async def post(pool: Pool, *, compound_id: uuid.UUID, who: Principal, data: NoticeIn) -> Notice:
    """One post; its own id stands in for the event id the board keys its rows on."""
    post_id = uuid.uuid4()
    event = CloudEvent(id=str(post_id), source="notify", type="linli.notify.notice.posted",
                       subject=f"notice:{post_id}", time=dt.datetime.now(dt.UTC).isoformat(),
                       compoundid=str(compound_id), data={"by": who.subject})
    message = Message(kind="announcement", subject=f"notice:{post_id}",
                      values={"title": data.title.strip(), "body": data.body.strip()})
    async with transaction(pool) as conn:
        await to_notice_board(conn, event, message)
        row = await store.notice_of_event(conn, event_id=post_id)
    assert row is not None  # a fresh id never conflicts
    return Notice(id=row["id"], compound_id=row["compound_id"], kind=row["kind"],
                  kind_label=KINDS[row["kind"]].label, title=row["title"], body=row["body"],
                  subject=row["subject"], created_at=row["created_at"])

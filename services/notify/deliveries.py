"""The delivery log: a person's own deliveries (with their targets), or a compound's for staff
(targets withheld)."""

from __future__ import annotations

import uuid

from linli.db import Pool
from linli.pagination import Page, page_of, time_cursor, time_keyset
from services.notify import store
from services.notify.models import Delivery, DeliveryQuery


def to_delivery(row: store.Row, *, own: bool) -> Delivery:
    return Delivery(id=row["id"], notification_id=row["notification_id"],
                    notice_id=row["notice_id"], person_id=row["person_id"],
                    compound_id=row["compound_id"], kind=row["kind"], channel=row["channel"],
                    status=row["status"], attempts=row["attempts"],
                    next_attempt_at=row["next_attempt_at"], last_error=row["last_error"],
                    created_at=row["created_at"], finished_at=row["finished_at"],
                    target=row["target"] if own else None, bot_id=row["bot_id"])


async def deliveries(pool: Pool, *, query: DeliveryQuery, person_id: str | None = None,
                     compound_id: uuid.UUID | None = None) -> Page[Delivery]:
    """A person's own log (with targets) or a compound's (staff; targets withheld)."""
    async with pool.acquire() as conn:
        rows = await store.deliveries(conn, person_id=person_id, compound_id=compound_id,
                                      status=query.status, channel=query.channel,
                                      after=time_keyset(query.cursor),
                                      limit=query.limit)
    return page_of([to_delivery(r, own=person_id is not None) for r in rows], query.limit, time_cursor)

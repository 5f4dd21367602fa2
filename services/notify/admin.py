"""Use cases staff need: a compound's templates and its delivery log."""

from __future__ import annotations

import uuid

from linli import problems
from linli.db import Pool, transaction
from linli.pagination import Page, page_of, time_cursor, time_keyset
from services.notify import store
from services.notify.models import Delivery, DeliveryQuery, Template, TemplateIn
from services.notify.templates import KINDS, TemplateError, check


def _kind(kind: str) -> None:
    if kind not in KINDS:
        raise problems.not_found(f"通知类型 {kind} ")


def to_template(kind: str, row: store.Row | None) -> Template:
    k = KINDS[kind]
    names = sorted(k.placeholders)
    if row is None:
        return Template(kind=kind, label=k.label, placeholders=names, title=k.title, body=k.body,
                        custom=False)
    return Template(kind=kind, label=k.label, placeholders=names, title=row["title"],
                    body=row["body"], custom=True, updated_by=row["updated_by"],
                    updated_at=row["updated_at"])


async def templates(pool: Pool, *, compound_id: uuid.UUID) -> list[Template]:
    """Every kind with the text this compound uses."""
    async with pool.acquire() as conn:
        own = {r["kind"]: r for r in await store.list_templates(conn, compound_id=compound_id)}
    return [to_template(kind, own.get(kind)) for kind in KINDS]


async def put_template(pool: Pool, *, compound_id: uuid.UUID, kind: str, data: TemplateIn,
                       by: str) -> Template:
    """Override a kind's text; a placeholder the kind lacks is a 422 now, not a send failure."""
    _kind(kind)
    for field, text in (("title", data.title), ("body", data.body)):
        try:
            check(kind, text)
        except TemplateError as exc:
            raise problems.validation(str(exc), field=field) from None
    async with transaction(pool) as conn:
        row = await store.put_template(conn, compound_id=compound_id, kind=kind, title=data.title,
                                       body=data.body, by=by)
    return to_template(kind, row)


async def reset_template(pool: Pool, *, compound_id: uuid.UUID, kind: str) -> Template:
    """Back to the built-in default."""
    _kind(kind)
    async with transaction(pool) as conn:
        await store.delete_template(conn, compound_id=compound_id, kind=kind)
    return to_template(kind, None)


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

"""A compound's notification templates: the text it uses for each kind, its own or the
built-in default (services/notify/templates.py holds the kinds and the rendering)."""

from __future__ import annotations

import uuid

from linli import problems
from linli.db import Pool, transaction
from linli.pagination import Page, whole
from services.notify import store
from services.notify.models import Template, TemplateIn
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


async def templates(pool: Pool, *, compound_id: uuid.UUID) -> Page[Template]:
    """Every kind (a fixed set) with the text this compound uses, as one page."""
    async with pool.acquire() as conn:
        own = {r["kind"]: r for r in await store.list_templates(conn, compound_id=compound_id)}
    return whole([to_template(kind, own.get(kind)) for kind in KINDS])


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

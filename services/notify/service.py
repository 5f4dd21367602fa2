"""Use cases of the notify service: the inbox, the notice board and preferences; one
transaction each, validated before anything is written. A compound's templates are in
compound_templates.py, the delivery log in deliveries.py."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import uuid
from typing import Any

from linli import problems
from linli.db import Pool, transaction
from linli.pagination import Page, page_of, time_cursor, time_keyset
from services.notify import store, targets
from services.notify.models import (
    InboxQuery,
    Notice,
    Notification,
    Preferences,
    PreferencesIn,
    ReadAll,
    RotatedSecret,
    RotateIn,
)
from services.notify.templates import KINDS
from services.notify.vault import Vault


def to_notification(row: store.Row) -> Notification:
    return Notification(id=row["id"], kind=row["kind"], kind_label=KINDS[row["kind"]].label,
                        title=row["title"], body=row["body"], compound_id=row["compound_id"],
                        subject=row["subject"], created_at=row["created_at"], read_at=row["read_at"])


async def inbox(pool: Pool, *, person_id: str, query: InboxQuery) -> Page[Notification]:
    async with pool.acquire() as conn:
        rows = await store.inbox(conn, person_id=person_id, unread=query.unread,
                                 after=time_keyset(query.cursor), limit=query.limit)
    return page_of([to_notification(r) for r in rows], query.limit, time_cursor)


async def mark_read(pool: Pool, *, person_id: str, notification_id: uuid.UUID) -> Notification:
    """Only the person's own notification; anyone else's is simply not found."""
    async with transaction(pool) as conn:
        row = await store.mark_read(conn, person_id=person_id, notification_id=notification_id)
    if row is None:
        raise problems.not_found("通知")
    return to_notification(row)


async def mark_all_read(pool: Pool, *, person_id: str) -> ReadAll:
    async with transaction(pool) as conn:
        return ReadAll(marked=await store.mark_all_read(conn, person_id=person_id))


async def notices(pool: Pool, *, compound_id: uuid.UUID, query: Any) -> Page[Notice]:
    async with pool.acquire() as conn:
        rows = await store.notices(conn, compound_id=compound_id, after=time_keyset(query.cursor),
                                   limit=query.limit)
    return page_of([to_notice(r) for r in rows], query.limit, time_cursor)


def to_notice(r: store.Row) -> Notice:
    return Notice(id=r["id"], compound_id=r["compound_id"], kind=r["kind"],
                  kind_label=KINDS[r["kind"]].label, title=r["title"], body=r["body"],
                  subject=r["subject"], created_at=r["created_at"])


def _clock(value: dt.time | None) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


def to_preferences(person_id: str, row: store.Row | None) -> Preferences:
    if row is None:
        return Preferences(person_id=person_id, in_app=True, webhook_url=None, webhook_signed=False,
                           kinds=[], quiet_start=None, quiet_end=None, notice_boards=[],
                           updated_at=None)
    return Preferences(person_id=person_id, in_app=True, webhook_url=row["webhook_url"],
                       webhook_signed=bool(row["webhook_secret"]), kinds=list(row["kinds"]),
                       quiet_start=_clock(row["quiet_start"]), quiet_end=_clock(row["quiet_end"]),
                       notice_boards=list(row["compound_ids"]), updated_at=row["updated_at"],
                       webhook_rotating_until=_rotating(row))


def _rotating(row: store.Row) -> dt.datetime | None:
    until: dt.datetime | None = row["webhook_previous_until"]
    return until if until is not None and until > dt.datetime.now(dt.UTC) else None


async def get_preferences(pool: Pool, *, person_id: str) -> Preferences:
    async with pool.acquire() as conn:
        rows = await store.get_preferences(conn, person_ids=[person_id])
    return to_preferences(person_id, rows.get(person_id))


def _check_preferences(data: PreferencesIn) -> None:
    unknown = sorted(set(data.kinds) - set(KINDS))
    if unknown:
        raise problems.validation(f"未知的通知类型: {', '.join(unknown)}", field="kinds")
    if (data.quiet_start is None) != (data.quiet_end is None):
        raise problems.validation("免打扰时段须同时给出开始和结束时间", field="quiet_end")
    if data.quiet_start is not None and data.quiet_start == data.quiet_end:
        raise problems.validation("免打扰时段的开始和结束时间不能相同", field="quiet_end")
    if data.webhook_secret is not None and data.webhook_url is None:
        raise problems.validation("设置签名密钥须同时给出 webhook_url", field="webhook_secret")
    if data.webhook_secret is not None and data.webhook_secret.startswith("whsec_"):
        _check_whsec(data.webhook_secret)


def _check_whsec(secret: str, field: str = "webhook_secret") -> None:
    """A Standard Webhooks secret is whsec_ and base64 of at least 16 bytes."""
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except ValueError:
        key = b""
    if len(key) < 16:
        raise problems.validation("whsec_ 密钥须为 base64 编码且至少 16 字节", field=field)


def board_compounds(compounds: frozenset[str]) -> list[uuid.UUID]:
    """The compounds named in the caller's token ('*' is no compound of its own)."""
    found = []
    for c in sorted(compounds):
        try:
            found.append(uuid.UUID(c))
        except ValueError:
            continue
    return found


async def _check_target(url: str | None, *, allow_internal: bool) -> None:
    """A target inside the deployment is refused now, not only when the first push fails."""
    if url is None:
        return
    try:
        targets.normalise(url)
        if not allow_internal:
            await targets.vet(url)
    except targets.BlockedTarget as exc:
        raise problems.validation(str(exc), field="webhook_url") from None


async def put_preferences(pool: Pool, *, person_id: str, compounds: frozenset[str],
                          data: PreferencesIn, allow_internal: bool, vault: Vault) -> Preferences:
    """Replace the person's channel preferences (in-app stays on regardless); the webhook
    also takes the notice boards of the compounds the person belongs to now."""
    _check_preferences(data)
    await _check_target(data.webhook_url, allow_internal=allow_internal)
    start = dt.time.fromisoformat(data.quiet_start) if data.quiet_start else None
    end = dt.time.fromisoformat(data.quiet_end) if data.quiet_end else None
    async with transaction(pool) as conn:
        row = await store.put_preferences(
            conn, person_id=person_id, webhook_url=data.webhook_url,
            webhook_secret=vault.seal(data.webhook_secret), kinds=sorted(set(data.kinds)), quiet_start=start,
            quiet_end=end, compound_ids=board_compounds(compounds))
    return to_preferences(person_id, row)


async def rotate_secret(pool: Pool, *, person_id: str, data: RotateIn, vault: Vault) -> RotatedSecret:
    """A new Standard Webhooks secret for the person's webhook; the old one signs beside it
    (several v1 signatures) until the grace period ends, so the receiver can switch over."""
    secret = data.secret or "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    _check_whsec(secret, "secret")
    async with transaction(pool) as conn:
        row = await store.rotate_webhook_secret(conn, person_id=person_id, secret=vault.seal(secret) or "",
                                                grace=dt.timedelta(hours=data.grace_hours))
    if row is None:
        raise problems.conflict("尚未设置 webhook, 无密钥可轮换: 请先在通知偏好中设置 webhook_url",
                                "no-webhook")
    return RotatedSecret(secret=secret, previous_valid_until=row["webhook_previous_until"])

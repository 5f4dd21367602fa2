"""Use cases of the channels beyond the inbox: a person's email and SMS, the compound's group
bots and email sender (staff), and unsubscribing by the link in an email."""

from __future__ import annotations

import re
import uuid

from yarl import URL

from linli import problems
from linli.db import Pool, transaction
from linli.pagination import Page, whole
from services.notify import channel_store, targets
from services.notify.channel_models import (
    Bot,
    BotIn,
    ChannelIn,
    EmailSender,
    EmailSenderIn,
    PersonChannel,
    Unsubscribed,
)
from services.notify.templates import KINDS
from services.notify.vault import Vault

ADDRESS = {"email": re.compile(r"[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[A-Za-z0-9-]{2,}"),
           "sms": re.compile(r"\+?[0-9]{5,20}")}
WHAT = {"email": "邮箱地址", "sms": "手机号"}


def _kinds(kinds: list[str]) -> list[str]:
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise problems.validation(f"未知的通知类型: {', '.join(unknown)}", field="kinds")
    return sorted(set(kinds))


def _channel(channel: str) -> str:
    if channel not in ADDRESS:
        raise problems.not_found(f"通知渠道 {channel} ")
    return channel


def to_channel(row: channel_store.Row) -> PersonChannel:
    return PersonChannel(channel=row["channel"], address=row["address"], kinds=list(row["kinds"]),
                         digest_hour=row["digest_hour"], updated_at=row["updated_at"])


async def my_channels(pool: Pool, *, person_id: str) -> Page[PersonChannel]:
    """The person's channels (one per kind: email, sms), as one page."""
    async with pool.acquire() as conn:
        rows = await channel_store.person_channels(conn, person_ids=[person_id])
    return whole([to_channel(r) for r in rows.get(person_id, [])])


async def put_channel(pool: Pool, *, person_id: str, channel: str, data: ChannelIn) -> PersonChannel:
    _channel(channel)
    address = data.address.strip()
    if not ADDRESS[channel].fullmatch(address):
        raise problems.validation(f"{WHAT[channel]}格式不正确", field="address")
    kinds = _kinds(data.kinds)
    async with transaction(pool) as conn:
        row = await channel_store.put_person_channel(conn, person_id=person_id, channel=channel,
                                                     address=address, kinds=kinds,
                                                     digest_hour=data.digest_hour)
    return to_channel(row)


async def delete_channel(pool: Pool, *, person_id: str, channel: str) -> Unsubscribed:
    _channel(channel)
    async with transaction(pool) as conn:
        done = await channel_store.delete_person_channel(conn, person_id=person_id, channel=channel)
    return Unsubscribed(channel=channel, unsubscribed=done)


async def unsubscribe(pool: Pool, *, token: str) -> Unsubscribed:
    """The link in every email: no sign-in, the token is the permission; unknown is a no-op."""
    try:
        key = uuid.UUID(token)
    except ValueError:
        return Unsubscribed(channel=None, unsubscribed=False)
    async with transaction(pool) as conn:
        row = await channel_store.unsubscribe(conn, token=key)
    return Unsubscribed(channel=row["channel"] if row else None, unsubscribed=row is not None)


def to_bot(row: channel_store.Row) -> Bot:
    return Bot(id=row["id"], compound_id=row["compound_id"], organisation=row["organisation"],
               platform=row["platform"], name=row["name"], host=URL(row["url"]).host or "",
               signed=bool(row["secret"]), kinds=list(row["kinds"]),
               mention_mobiles=list(row["mention_mobiles"]), created_by=row["created_by"],
               created_at=row["created_at"])


async def bots(pool: Pool, *, compound_id: uuid.UUID) -> Page[Bot]:
    """The compound's group bots (one per organisation's IM group at most), as one page."""
    async with pool.acquire() as conn:
        return whole([to_bot(r)
                      for r in await channel_store.list_bots(conn, compound_id=compound_id)])


async def add_bot(pool: Pool, *, compound_id: uuid.UUID, data: BotIn, by: str,
                  allow_internal: bool, vault: Vault) -> Bot:
    """A bot URL inside the deployment is refused (422) unless internal targets are allowed."""
    kinds = _kinds(data.kinds)
    try:
        targets.normalise(data.url)
        if not allow_internal:
            await targets.vet(data.url)
    except targets.BlockedTarget as exc:
        raise problems.validation(str(exc), field="url") from None
    async with transaction(pool) as conn:
        row = await channel_store.insert_bot(
            conn, id=uuid.uuid4(), compound_id=compound_id, organisation=data.organisation,
            platform=data.platform, name=data.name, url=data.url, secret=vault.seal(data.secret), kinds=kinds,
            mention_mobiles=data.mention_mobiles, created_by=by)
    return to_bot(row)


async def remove_bot(pool: Pool, *, compound_id: uuid.UUID, bot_id: uuid.UUID) -> None:
    async with transaction(pool) as conn:
        if not await channel_store.delete_bot(conn, compound_id=compound_id, bot_id=bot_id):
            raise problems.not_found("群机器人")


def to_sender(compound_id: uuid.UUID, row: channel_store.Row | None) -> EmailSender:
    if row is None:
        return EmailSender(compound_id=compound_id, from_name="", from_address="", reply_to=None,
                           updated_by=None, updated_at=None)
    return EmailSender(compound_id=compound_id, from_name=row["from_name"],
                       from_address=row["from_address"], reply_to=row["reply_to"],
                       updated_by=row["updated_by"], updated_at=row["updated_at"])


async def email_sender(pool: Pool, *, compound_id: uuid.UUID) -> EmailSender:
    async with pool.acquire() as conn:
        return to_sender(compound_id, await channel_store.email_sender(conn, compound_id=compound_id))


async def put_email_sender(pool: Pool, *, compound_id: uuid.UUID, data: EmailSenderIn,
                           by: str) -> EmailSender:
    async with transaction(pool) as conn:
        row = await channel_store.put_email_sender(
            conn, compound_id=compound_id, from_name=data.from_name, from_address=data.from_address,
            reply_to=data.reply_to, by=by)
    return to_sender(compound_id, row)

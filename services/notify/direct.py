"""Messages an app sends to one person directly (a sign-in code), not from an event.

The message lands in the person's in-app inbox and goes out by SMS through an adapter: the
provider's (services/notify/sms.py) when `LINLI_NOTIFY_SMS_PROVIDER=http`, else the service log,
which is where a developer or the community office reads a code. Only an app acting in every
compound (the portal, which sends a code to the phone being signed in) names that phone or sends
a sign-in code; an app of one compound messages its people through
`POST /v1/compounds/{cid}/messages`, which reaches only the channels each person registered.
"""

from __future__ import annotations

import logging
import uuid
from typing import Annotated, Literal, Protocol

import msgspec

from linli import problems
from linli.auth import ALL_COMPOUNDS, Principal
from linli.db import Pool, transaction
from linli.directory import PendingDirectory
from services.notify import store
from services.notify.models import Notification
from services.notify.service import to_notification
from services.notify.templates import KINDS, render

log = logging.getLogger("linli.notify.sms")

Phone = Annotated[str, msgspec.Meta(pattern=r"^1\d{10}$")]
Value = Annotated[str, msgspec.Meta(max_length=200)]


class MessageIn(msgspec.Struct, forbid_unknown_fields=True):
    kind: Literal["sign_in_code"]
    values: dict[str, Value]
    phone: Phone | None = None  # where the SMS goes; without it only the inbox gets it
    # the compound it is about: the person must belong to it (and the app act in it)
    compound_id: uuid.UUID | None = None


class Sent(msgspec.Struct):
    notification: Notification
    channels: list[str]


class Sms(Protocol):
    async def send(self, phone: str, text: str) -> str:
        """Send one text; return the channel name it went out on."""
        ...


class LogSms:
    """No SMS provider configured: the text goes to the service log (development, offices)."""

    async def send(self, phone: str, text: str) -> str:
        log.warning("未配置短信通道, 短信内容写入日志: %s****%s %s", phone[:3], phone[-4:], text)
        return "log"


# kinds only the platform sends (a sign-in code: an app of one compound has no reason to, and a
# fake one in a resident's inbox or on their phone is a phishing lure)
PLATFORM_KINDS = frozenset({"sign_in_code"})


def _sender_may(who: Principal, data: MessageIn) -> None:
    """Only an app acting in every compound (the portal, which sends a code to the phone being
    signed in) names the phone an SMS goes to, or sends a platform kind; an app of one compound
    could otherwise text any number a code-looking message with its own words. People (even
    admins, whom the route table's roles would let through) send nothing here: apps only."""
    if not who.is_app:
        raise problems.forbidden("直接消息只能由应用 (应用范围 notify:send) 发送")
    if ALL_COMPOUNDS in who.compounds:
        return
    if data.phone is not None:
        raise problems.forbidden("只有可在所有小区操作的平台应用 (门户) 可以指定短信号码 (phone)")
    if data.kind in PLATFORM_KINDS:
        raise problems.forbidden("登录验证码只能由可在所有小区操作的平台应用 (门户) 发送")


async def _addressable(directory: PendingDirectory, who: Principal, person_id: str,
                       data: MessageIn) -> None:
    """A message about a compound goes only to a person of it, from an app acting there; one
    about no compound (a sign-in code: the person may belong to several) only from an app
    acting in every compound (the portal), so an app of one compound reaches nobody else."""
    _sender_may(who, data)
    if data.compound_id is None:
        if ALL_COMPOUNDS not in who.compounds:
            raise problems.forbidden("不指明小区 (compound_id) 的消息只能由可在所有小区操作的平台应用发送")
        return
    if not who.may_act_in(str(data.compound_id)):
        raise problems.forbidden("你无权在该小区操作")
    pending = await directory.get()
    await pending.require_members(data.compound_id, [person_id], field="person_id",
                                  missing=problems.validation("小区不存在", field="compound_id"))


async def send(pool: Pool, sms: Sms, directory: PendingDirectory, *, who: Principal,
               person_id: str, data: MessageIn) -> Sent:
    """Write the inbox row, then send the SMS (after commit, so a failed send is retried by
    the caller asking for a new code, never half-recorded)."""
    await _addressable(directory, who, person_id, data)
    kind = KINDS[data.kind]
    title, body = render(kind.title, data.values), render(kind.body, data.values)
    message_id = uuid.uuid4()
    async with transaction(pool) as conn:
        row = await store.insert_notification(
            conn, id=uuid.uuid4(), event_id=message_id, person_id=person_id,
            compound_id=data.compound_id, kind=data.kind, audience="person", title=title,
            body=body, subject=str(message_id))
    channels = ["in_app"]
    if data.phone:
        channels.append(await sms.send(data.phone, f"【邻里】{body}"))
    return Sent(notification=to_notification(row), channels=channels)

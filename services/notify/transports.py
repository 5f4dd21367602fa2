"""How each channel beyond the webhook is sent: email (SMTP), the IM group bots and SMS.

Each answers (None, _) when the far end accepted the message, else (what the delivery log
says, whether retrying is pointless). The log says nothing about the network: the real reason
goes to the service log.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import aiosmtplib

from linli.db import Pool, transaction
from services.notify import bots, channel_store, mail, targets
from services.notify.links import PortalLinks
from services.notify.mail import MailConfig
from services.notify.rules import sms_text
from services.notify.sms import SmsAdapter, SmsConfig

log = logging.getLogger("linli.notify.transports")
Outcome = tuple[str | None, bool]
MAIL_NOT_SET_UP = "邮件服务尚未配置, 未发送"
MAIL_NOT_ACCEPTED = "邮件未能送达: 邮件服务器没有接收"
MAIL_REFUSED = "邮件地址被邮件服务器拒收"
BOT_NOT_RECEIVED = "群机器人没有确认收到"
SMS_NOT_ACCEPTED = "短信服务商没有接收"
SMS_TOO_OFTEN = "该手机号一小时内短信已达上限, 本条未发送"


@dataclass
class Transports:
    pool: Pool
    session: aiohttp.ClientSession  # the checked one: bot URLs are chosen by staff
    mail: MailConfig
    sms_config: SmsConfig
    sms: SmsAdapter
    allow_internal: bool
    timeout: float = 10.0
    links: PortalLinks = field(default_factory=PortalLinks)

    async def send(self, row: Any) -> Outcome:
        payload = json.loads(row["payload"]) if isinstance(row["payload"], str) else row["payload"]
        if row["channel"] == "email":
            return await self.email(row, payload)
        if row["channel"] == "sms":
            return await self.text(row, payload)
        return await self.bot(row, payload)

    async def email(self, row: Any, payload: dict[str, Any]) -> Outcome:
        if self.mail.host is None:
            return MAIL_NOT_SET_UP, True
        async with self.pool.acquire() as conn:
            own = await channel_store.email_sender(conn, compound_id=row["compound_id"])
        token = payload.get("unsubscribe")
        link = f"{self.mail.public_url}/v1/unsubscribe/{token}" if token else None
        message = mail.compose(payload, to=row["target"], sender=mail.sender_address(self.mail, own),
                               reply_to=own["reply_to"] if own else None, unsubscribe=link,
                               message_id=row["id"], link=self.links.link(payload))
        try:
            await mail.send(self.mail, message)
            return None, False
        except aiosmtplib.SMTPRecipientsRefused as exc:
            log.info("email delivery %s refused: %s", row["id"], exc)
            return MAIL_REFUSED, True
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            log.info("email delivery %s not accepted: %s", row["id"], exc)
            return MAIL_NOT_ACCEPTED, False

    async def bot(self, row: Any, payload: dict[str, Any]) -> Outcome:
        url, body = bots.request(row["channel"], row["target"], row["secret"], payload,
                                 link=self.links.link(payload))
        try:
            if not self.allow_internal:
                targets.normalise(url)
            async with self.session.post(url, json=body, allow_redirects=False,
                                         timeout=aiohttp.ClientTimeout(total=self.timeout)) as response:
                answer = await response.json(content_type=None) if response.status == 200 else None
                if bots.accepted(row["channel"], answer):
                    return None, False
                reason = f"HTTP {response.status} {str(answer)[:200]}"
        except targets.BlockedTarget as exc:
            return str(exc), True
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            reason = f"{type(exc).__name__}: {exc}"[:300]
        log.info("bot delivery %s not received: %s", row["id"], reason)
        return BOT_NOT_RECEIVED, False

    async def text(self, row: Any, payload: dict[str, Any]) -> Outcome:
        async with transaction(self.pool) as conn:
            allowed = await channel_store.reserve_sms(conn, delivery_id=row["id"], phone=row["target"],
                                                      per_hour=self.sms_config.per_hour)
        if not allowed:
            return SMS_TOO_OFTEN, True
        if await self.sms.send(row["target"], sms_text(payload["title"], self.links.link(payload))):
            return None, False
        async with self.pool.acquire() as conn:
            await channel_store.release_sms(conn, delivery_id=row["id"])
        return SMS_NOT_ACCEPTED, False

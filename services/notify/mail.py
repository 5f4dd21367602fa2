"""Email: one message with a plain-text and an HTML part rendered from the same lines,
`List-Unsubscribe` (one click, RFC 8058), sent over SMTP with STARTTLS or implicit TLS.

Headers with Chinese (subject, the sender's name) are RFC 2047 encoded and the parts are
UTF-8, by the standard library's SMTP policy. The sender is the compound's own when it set one
(`PUT /v1/compounds/{cid}/email-sender`), else the global `LINLI_NOTIFY_SMTP_FROM`.
"""

from __future__ import annotations

import datetime as dt
import html
import ssl
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any

import aiosmtplib


@dataclass(frozen=True)
class MailConfig:
    """The SMTP server and the global sender; no host means email is not set up."""

    host: str | None = None
    port: int = 587
    security: str = "starttls"  # starttls | tls | none (a relay on the same host only)
    username: str | None = None
    password: str | None = None
    sender: str = "邻里通知 <noreply@linli.invalid>"
    ca_file: str | None = None  # trust this CA (a private relay's own certificate)
    public_url: str = "http://localhost:8105"  # where notify answers: the unsubscribe link
    timeout: float = 20.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> MailConfig:
        return cls(host=env.get("LINLI_NOTIFY_SMTP_HOST") or None,
                   port=int(env.get("LINLI_NOTIFY_SMTP_PORT", cls.port)),
                   security=env.get("LINLI_NOTIFY_SMTP_SECURITY", cls.security),
                   username=env.get("LINLI_NOTIFY_SMTP_USER") or None,
                   password=env.get("LINLI_NOTIFY_SMTP_PASSWORD") or None,
                   sender=env.get("LINLI_NOTIFY_SMTP_FROM", cls.sender),
                   ca_file=env.get("LINLI_NOTIFY_SMTP_CA") or None,
                   public_url=env.get("LINLI_NOTIFY_PUBLIC_URL", cls.public_url).rstrip("/"))


def _lines(payload: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The template both parts are made from: (role, text) in reading order."""
    return [("title", payload["title"]), ("body", payload["body"]),
            ("meta", f"通知类型: {payload['kind_label']}")]


def render_text(payload: Mapping[str, Any], unsubscribe: str | None,
                link: str | None = None) -> str:
    lines = [t for _, t in _lines(payload)] + ([f"查看详情: {link}"] if link else [])
    text = "\n\n".join(lines)
    if unsubscribe:
        text += f"\n\n-- \n不想再收到邮件通知? 退订: {unsubscribe}"
    return text + "\n"


def render_html(payload: Mapping[str, Any], unsubscribe: str | None,
                link: str | None = None) -> str:
    tags = {"title": "h2", "body": "p", "meta": "p style=\"color:#666\""}
    parts = [f"<{tags[role]}>{html.escape(text)}</{tags[role].split()[0]}>"
             for role, text in _lines(payload)]
    if link:
        parts.insert(2, f'<p><a href="{html.escape(link)}">查看详情</a></p>')
    if unsubscribe:
        parts.append(f'<p style="color:#999">不想再收到邮件通知? <a href="{html.escape(unsubscribe)}">'
                     "退订</a></p>")
    return ('<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"></head><body>'
            + "".join(parts) + "</body></html>\n")


def sender_address(config: MailConfig, compound: Mapping[str, Any] | None) -> Address:
    if compound is not None:
        return Address(display_name=compound["from_name"], addr_spec=compound["from_address"])
    name, addr = parseaddr(config.sender)
    return Address(display_name=name, addr_spec=addr)


def compose(payload: Mapping[str, Any], *, to: str, sender: Address, reply_to: str | None,
            unsubscribe: str | None, message_id: uuid.UUID,
            link: str | None = None) -> EmailMessage:
    """The message (Message-ID from the delivery, so a retried send is recognisable); `link`
    is the portal page of what it is about."""
    msg = EmailMessage()
    msg["Subject"] = payload["title"]
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC))
    msg["Message-ID"] = make_msgid(idstring=message_id.hex, domain=sender.domain or "linli.invalid")
    if reply_to:
        msg["Reply-To"] = reply_to
    if unsubscribe:
        msg["List-Unsubscribe"] = f"<{unsubscribe}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg.set_content(render_text(payload, unsubscribe, link), charset="utf-8")
    msg.add_alternative(render_html(payload, unsubscribe, link), subtype="html", charset="utf-8")
    return msg


def _tls(config: MailConfig) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=config.ca_file)


async def send(config: MailConfig, message: EmailMessage) -> None:
    """Raises aiosmtplib.SMTPException / OSError / TimeoutError when it was not accepted."""
    assert config.host is not None
    secure = config.security != "none"
    await aiosmtplib.send(
        message, hostname=config.host, port=config.port, username=config.username,
        password=config.password, use_tls=config.security == "tls",
        start_tls=True if config.security == "starttls" else False,
        tls_context=_tls(config) if secure else None, timeout=config.timeout)

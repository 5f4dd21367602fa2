"""Email against a real SMTP server (aiosmtpd) the test starts with its own certificate:
STARTTLS and implicit TLS, Chinese subject and body intact (RFC 2047 headers, UTF-8 parts),
HTML and plain text with the same content, the compound's sender, one-click unsubscribe."""

from __future__ import annotations

import socket
import ssl
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from yarl import URL

from services.notify.mail import MailConfig
from services.notify.transports import MAIL_NOT_ACCEPTED
from tests.conftest import TokenFactory, assert_problem
from tests.integration.test_notify_delivery import comment_on_new_issue, my_deliveries
from tests.integration.test_notify_support import (
    FAST,
    NotifyFactory,
    People,
    Publisher,
    eventually,
    nats_js,
    ok,
    publisher,
    start_notify,
)

__all__ = ["nats_js", "publisher", "start_notify"]  # fixtures


@pytest.fixture
def people(token: TokenFactory) -> People:
    return People(token)


@dataclass
class Mailbox:
    """What the SMTP server accepted: (envelope recipients, raw message)."""

    received: list[tuple[list[str], bytes]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received.append((list(envelope.rcpt_tos), bytes(envelope.original_content)))
        return "250 OK"


@dataclass
class Smtp:
    mailbox: Mailbox
    config: MailConfig


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the client trusts it as its CA file)."""
    where = tmp_path_factory.mktemp("smtp-tls")
    cert, key = where / "cert.pem", where / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


@pytest.fixture(params=["starttls", "tls"])
def smtp(request: pytest.FixtureRequest, certificate: tuple[Path, Path]) -> Iterator[Smtp]:
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    mailbox, port = Mailbox(), _free_port()
    if request.param == "starttls":
        controller = Controller(mailbox, hostname="127.0.0.1", port=port, tls_context=context,
                                require_starttls=True)
    else:
        controller = Controller(mailbox, hostname="127.0.0.1", port=port, ssl_context=context)
    controller.start()
    yield Smtp(mailbox, MailConfig(host="127.0.0.1", port=port, security=request.param,
                                   ca_file=str(cert), sender="邻里通知 <noreply@linli.example.cn>",
                                   public_url="http://linli.example.cn", timeout=5))
    controller.stop()


def _parse(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


async def test_an_email_in_chinese_arrives_intact_with_html_text_and_unsubscribe(
    people: People, publisher: Publisher, start_notify: NotifyFactory, smtp: Smtp,
) -> None:
    notify = await start_notify(sender=replace(FAST, mail=smtp.config))
    cid = str(uuid.uuid4())
    alice, editor = people(cid), people(cid, "community")
    await ok(await notify.put(f"/v1/compounds/{cid}/email-sender", headers=editor.headers, json={
        "from_name": "幸福里业主委员会", "from_address": "yeweihui@xingfuli.example.cn"}))
    channel = await ok(await notify.put("/v1/me/channels/email", headers=alice.headers, json={
        "address": "alice@example.cn", "kinds": ["issue_commented"]}))
    assert channel["address"] == "alice@example.cn" and channel["kinds"] == ["issue_commented"]
    await comment_on_new_issue(publisher, cid, alice.id, title="电梯停运")
    await eventually(lambda: _arrived(smtp.mailbox, 1))
    [(recipients, raw)] = smtp.mailbox.received  # only the chosen kind
    assert recipients == ["alice@example.cn"]
    head = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")  # headers are 7-bit: RFC 2047 words
    assert "=?utf-8?" in head.lower()
    message = _parse(raw)
    assert message["Subject"] == "问题“电梯停运”有新回复"
    assert message["From"].addresses[0].display_name == "幸福里业主委员会"
    assert message["From"].addresses[0].addr_spec == "yeweihui@xingfuli.example.cn"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    for part in (text, html):
        assert "工作人员在您反映的问题下留言，请查看。" in part.get_content()
        assert "问题“电梯停运”有新回复" in part.get_content()
    unsubscribe = str(message["List-Unsubscribe"]).strip().strip("<>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in text.get_content()
    sent = await eventually(lambda: _sent_email(notify, alice))
    assert sent[0]["channel"] == "email" and sent[0]["target"] == "alice@example.cn"
    path = URL(unsubscribe).path
    assert (await ok(await notify.post(path))) == {"channel": "email", "unsubscribed": True}
    assert await ok(await notify.get("/v1/me/channels", headers=alice.headers)) == {
        "items": [], "next_cursor": None}
    assert (await ok(await notify.post(path))) == {"channel": None, "unsubscribed": False}


async def _arrived(mailbox: Mailbox, n: int) -> bool:
    return len(mailbox.received) >= n


async def _sent_email(notify: Any, who: Any) -> Any:
    page = await ok(await notify.get("/v1/me/deliveries?channel=email&status=sent",
                                     headers=who.headers))
    return page["items"]


async def test_an_unreachable_mail_server_is_retried_then_failed_neutrally(
    people: People, publisher: Publisher, start_notify: NotifyFactory,
) -> None:
    down = MailConfig(host="127.0.0.1", port=_free_port(), security="starttls", timeout=2)
    notify = await start_notify(sender=replace(FAST, mail=down))
    cid = str(uuid.uuid4())
    alice = people(cid)
    await ok(await notify.put("/v1/me/channels/email", headers=alice.headers, json={
        "address": "alice@example.cn", "kinds": ["issue_commented"]}))
    await comment_on_new_issue(publisher, cid, alice.id)
    [failed] = await eventually(lambda: my_deliveries(notify, alice, 1, "failed"))
    assert failed["channel"] == "email" and failed["attempts"] == 3
    assert failed["last_error"] == MAIL_NOT_ACCEPTED


async def test_bad_channel_settings_are_problems(
    people: People, start_notify: NotifyFactory,
) -> None:
    notify = await start_notify()
    cid = str(uuid.uuid4())
    alice, resident = people(cid), people(cid)
    for path, body in (("/v1/me/channels/email", {"address": "not-an-address"}),
                       ("/v1/me/channels/sms", {"address": "13800138000x"}),
                       ("/v1/me/channels/email", {"address": "a@example.cn", "kinds": ["nope"]})):
        await assert_problem(await notify.put(path, headers=alice.headers, json=body), 422,
                             "validation-error")
    await assert_problem(await notify.put("/v1/me/channels/fax", headers=alice.headers,
                                          json={"address": "123456"}), 404, "not-found")
    await assert_problem(await notify.put(f"/v1/compounds/{cid}/email-sender", headers=resident.headers,
                                          json={"from_name": "x", "from_address": "x@example.cn"}),
                         403, "forbidden")
    assert await ok(await notify.get("/v1/me/channels", headers=alice.headers)) == {
        "items": [], "next_cursor": None}

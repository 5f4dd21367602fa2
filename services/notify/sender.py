"""The sender: claims due deliveries of every channel, sends them, retries on a schedule that
spans about a day (rules.RETRY_SCHEDULE), then gives up and marks them failed.

Claims are short transactions (FOR UPDATE SKIP LOCKED plus a lease), so replicas split the
work and a sender that dies mid-POST leaves its rows to be retried when the lease runs out.
Every retry time is a row's next_attempt_at, so a restart loses none. The sender's clock is
its config's (`clock`): tests move it forward hours instead of waiting for them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field

import aiohttp
import asyncpg
from aiohttp import web
from standardwebhooks import Webhook

from linli.app import LOOPS
from linli.bus import stop_task
from linli.config import Settings
from linli.db import Pool, transaction
from linli.http import POOL, SETTINGS
from linli.values import now_utc
from services.notify import sms, store, targets
from services.notify.keys import VAULT
from services.notify.links import PortalLinks
from services.notify.mail import MailConfig
from services.notify.metrics import DELIVERIES, DELIVERY_LATENCY, PENDING
from services.notify.rules import RETRY_SCHEDULE, retry_delay
from services.notify.sms import SmsConfig
from services.notify.transports import Transports
from services.notify.vault import Vault

log = logging.getLogger("linli.notify.sender")
CHANNEL = "linli_notify_deliveries"
# what a person reads of a failed attempt: refused, timed out, reset or a non-2xx status all
# read the same, so the delivery log cannot map the network (the real reason goes to the log)
NOT_RECEIVED = "推送未成功: 接收方没有确认收到"
# 410 Gone: the receiver says the address is retired; the person's webhook is switched off
GONE = "接收方表示该地址已停用 (410), 已关闭此 webhook"


@dataclass(frozen=True)
class SenderConfig:
    """How hard the sender tries: attempts, the waits between them, timeouts, batch and lease."""

    max_attempts: int = len(RETRY_SCHEDULE) + 1
    retry_schedule: tuple[float, ...] = RETRY_SCHEDULE
    timeout_seconds: float = 10.0
    batch: int = 50
    lease_seconds: float = 120.0
    idle_seconds: float = 2.0
    digest_seconds: float = 60.0  # how often each replica looks for digests that are due
    # residents choose targets: none inside the deployment unless it is explicitly allowed
    # (LINLI_NOTIFY_ALLOW_INTERNAL_WEBHOOKS=1, e.g. an IM bot on the same private network)
    allow_internal: bool = False
    mail: MailConfig = field(default_factory=MailConfig)
    sms: SmsConfig = field(default_factory=SmsConfig)
    links: PortalLinks = field(default_factory=PortalLinks)
    clock: Callable[[], dt.datetime] = now_utc  # when "now" is for claims and retries

    @classmethod
    def from_settings(cls, settings: Settings, env: Mapping[str, str]) -> SenderConfig:
        """The webhook rules and the portal's address (LINLI_PORTAL_URL, where residents open
        it: the links in messages) from the kernel's settings; email and SMS from their own
        LINLI_NOTIFY_SMTP_* / LINLI_NOTIFY_SMS_* variables in `env`."""
        return cls(allow_internal=settings.notify_allow_internal_webhooks,
                   max_attempts=settings.notify_webhook_attempts,
                   mail=MailConfig.from_env(env), sms=SmsConfig.from_env(env),
                   links=PortalLinks(_portal(settings)))


def _portal(settings: Settings) -> str | None:
    """Where residents open the portal; none when these settings leave it out (a port table
    of notify alone, as in a benchmark): then messages carry no link."""
    try:
        return settings.service_url("portal")
    except KeyError:
        return None


def sign(secret: str, body: bytes) -> str:
    """X-Linli-Signature: sha256=<hex HMAC of the body> (the older header, still sent)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_key(secret: str) -> bytes:
    """The Standard Webhooks key: a `whsec_` secret is base64 as the spec says; an older
    free-text secret signs with its UTF-8 bytes (receivers pass those to the verifier)."""
    if secret.startswith("whsec_"):
        return base64.b64decode(secret.removeprefix("whsec_") + "==", validate=False)
    return secret.encode()


def standard_headers(secrets: Sequence[str], message_id: str, body: bytes,
                     now: dt.datetime) -> dict[str, str]:
    """webhook-id (the same on every retry), webhook-timestamp, and webhook-signature: one
    `v1,` signature per secret, space-separated (the new and the old during a rotation)."""
    stamp = dt.datetime.fromtimestamp(int(now.timestamp()), dt.UTC)
    signatures = [Webhook(standard_key(s)).sign(message_id, stamp, body.decode()) for s in secrets]
    return {"webhook-id": message_id, "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": " ".join(signatures)}


class Sender:
    def __init__(self, *, pool: Pool, session: aiohttp.ClientSession, config: SenderConfig,
                 transports: Transports | None = None, vault: Vault | None = None) -> None:
        self.pool, self.session, self.config = pool, session, config
        self.vault = vault
        self.transports = transports
        self.wake = asyncio.Event()
        self.stopping = False

    async def send_once(self) -> int:
        """Claim a batch of due deliveries and attempt each once; returns how many."""
        async with transaction(self.pool) as conn:
            rows = await store.claim_due(conn, limit=self.config.batch, now=self.config.clock(),
                                         lease_seconds=self.config.lease_seconds)
        await asyncio.gather(*(self._deliver(row) for row in rows))
        return len(rows)

    async def _post(self, row: store.Row) -> tuple[str | None, bool]:
        """(None, _) when the receiver accepted it (2xx), else (what the person may read,
        whether retrying is pointless: a target inside the deployment stays refused)."""
        body = self.config.links.add_to(str(row["payload"])).encode()
        headers = {"Content-Type": "application/json", "X-Linli-Delivery": str(row["id"]),
                   "X-Linli-Kind": row["kind"], "User-Agent": "linli-notify/1.0"}
        if row["secret"]:
            secrets = [row["secret"], *([row["previous_secret"]] if row["previous_secret"] else [])]
            headers["X-Linli-Signature"] = sign(row["secret"], body)
            # the real time: receivers check webhook-timestamp against their own clocks
            headers |= standard_headers(secrets, f"msg_{row['id'].hex}", body, now_utc())
        try:
            if not self.config.allow_internal:
                targets.normalise(row["target"])
            # a redirect is an answer, not a 2xx: following it would reach an unchecked address
            async with self.session.post(
                    row["target"], data=body, headers=headers, allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=self.config.timeout_seconds)) as response:
                if 200 <= response.status < 300:
                    return None, False
                if response.status == 410:
                    return GONE, True
                reason = f"HTTP {response.status}"
        except targets.BlockedTarget as exc:
            return str(exc), True
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            reason = f"{type(exc).__name__}: {exc}"[:300]
        log.info("webhook delivery %s not received: %s", row["id"], reason)
        return NOT_RECEIVED, False

    async def _attempt(self, row: store.Row) -> tuple[str | None, bool]:
        if self.vault is not None and row["secret"]:  # opened only to sign
            row = {**dict(row), "secret": self.vault.open(row["secret"]),
                   "previous_secret": self.vault.open(row["previous_secret"])}
        if row["channel"] == "webhook":
            return await self._post(row)
        if self.transports is None:
            return "该渠道未启用", True
        return await self.transports.send(row)

    async def _deliver(self, row: store.Row) -> None:
        error, permanent = await self._attempt(row)
        if error is None:
            status, retry_in, outcome = "sent", None, "sent"
        elif permanent or row["attempts"] >= self.config.max_attempts:
            status, retry_in, outcome = "failed", None, "failed"
        else:
            status, outcome = "pending", "retry"
            retry_in = retry_delay(row["attempts"], self.config.retry_schedule)
        async with transaction(self.pool) as conn:
            await store.finish(conn, delivery_id=row["id"], status=status, error=error,
                               retry_in=retry_in, now=self.config.clock())
            if error == GONE:
                await store.disable_webhook(conn, person_id=row["person_id"], target=row["target"])
        DELIVERIES.labels(row["channel"], outcome).inc()
        if status == "sent":
            waited = now_utc() - row["created_at"]
            DELIVERY_LATENCY.labels(row["channel"]).observe(max(waited.total_seconds(), 0.0))

    async def run(self, dsn: str) -> None:
        """Send for ever: wake on NOTIFY from new deliveries, else look again every idle period
        (retries fall due without a notification)."""
        listener = await asyncpg.connect(dsn)
        await listener.add_listener(CHANNEL, lambda *_: self.wake.set())
        try:
            while not self.stopping:
                if listener.is_closed():  # the supervisor (linli.loops) connects again
                    raise ConnectionError("webhook sender lost its LISTEN connection")
                self.wake.clear()
                try:
                    while await self.send_once():
                        pass
                    async with self.pool.acquire() as conn:
                        PENDING.set(await store.pending_count(conn))
                except (OSError, asyncpg.PostgresError) as exc:
                    log.warning("delivery pass failed, will retry: %s", exc)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.config.idle_seconds):
                        await self.wake.wait()
        finally:
            listener.terminate()


def sender_context(config: SenderConfig) -> Callable[[web.Application], AsyncIterator[None]]:
    """Cleanup context running the sender beside the service."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        async with targets.session(allow_internal=config.allow_internal) as session, \
                aiohttp.ClientSession() as provider:  # the SMS provider is the operator's own
            transports = Transports(
                pool=app[POOL], session=session, mail=config.mail, sms_config=config.sms,
                sms=sms.adapter(config.sms, provider), allow_internal=config.allow_internal,
                timeout=config.timeout_seconds, links=config.links)
            sender = Sender(pool=app[POOL], session=session, config=config, transports=transports,
                            vault=app[VAULT])
            dsn = app[SETTINGS].database_url
            task = app[LOOPS].spawn("notify-sender", lambda: sender.run(dsn))
            yield
            sender.stopping = True
            sender.wake.set()
            await stop_task(task)

    return context

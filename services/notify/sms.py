"""SMS behind an adapter: `log` (the default: the text goes to the service log and the delivery
log, nothing leaves) or `http` (a provider endpoint: POST JSON {phone, text, sign} with a bearer
token, accepted on 2xx). Texts are one segment (70 characters); a phone gets at most
`LINLI_NOTIFY_SMS_PER_HOUR` texts an hour, counted across replicas in the delivery log."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import aiohttp

log = logging.getLogger("linli.notify.sms")


@dataclass(frozen=True)
class SmsConfig:
    provider: str = "log"  # log | http
    endpoint: str | None = None
    token: str | None = None
    sign: str = "邻里"  # the provider's registered signature (签名)
    per_hour: int = 5
    timeout: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SmsConfig:
        return cls(provider=env.get("LINLI_NOTIFY_SMS_PROVIDER", cls.provider),
                   endpoint=env.get("LINLI_NOTIFY_SMS_ENDPOINT") or None,
                   token=env.get("LINLI_NOTIFY_SMS_TOKEN") or None,
                   sign=env.get("LINLI_NOTIFY_SMS_SIGN", cls.sign),
                   per_hour=int(env.get("LINLI_NOTIFY_SMS_PER_HOUR", cls.per_hour)))


class SmsAdapter(Protocol):
    async def send(self, phone: str, text: str) -> bool:
        """True when the provider accepted the text."""


class LogSms:
    """Writes the text to the log: development, and deployments without a provider yet."""

    async def send(self, phone: str, text: str) -> bool:
        log.info("sms to %s…%s: %s", phone[:3], phone[-2:], text)
        return True


class HttpSms:
    """The provider adapter; without a session of its own it opens one per text (the
    sign-in codes' path, which has no sender loop around it)."""

    def __init__(self, config: SmsConfig, session: aiohttp.ClientSession | None = None) -> None:
        assert config.endpoint is not None
        self.config, self.session = config, session

    async def send(self, phone: str, text: str) -> bool:
        if self.session is None:
            async with aiohttp.ClientSession() as session:
                return await self._post(session, phone, text)
        return await self._post(self.session, phone, text)

    async def _post(self, session: aiohttp.ClientSession, phone: str, text: str) -> bool:
        headers = {"Authorization": f"Bearer {self.config.token}"} if self.config.token else {}
        try:
            async with session.post(
                    self.config.endpoint or "", json={"phone": phone, "text": text,
                                                      "sign": self.config.sign},
                    headers=headers, allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=self.config.timeout)) as response:
                if 200 <= response.status < 300:
                    return True
                reason = f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            reason = f"{type(exc).__name__}: {exc}"[:300]
        log.info("sms provider did not accept a text: %s", reason)
        return False


def adapter(config: SmsConfig, session: aiohttp.ClientSession) -> SmsAdapter:
    if config.provider == "http" and config.endpoint:
        return HttpSms(config, session)
    return LogSms()


class DirectSms:
    """Direct messages (sign-in codes, services/notify/direct.py) through the configured
    provider: answers the channel it went out on, as that path expects."""

    def __init__(self, config: SmsConfig) -> None:
        self.adapter = HttpSms(config)

    async def send(self, phone: str, text: str) -> str:
        return "sms" if await self.adapter.send(phone, text) else "sms_failed"

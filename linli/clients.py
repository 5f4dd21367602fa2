"""Calling another Linli service over HTTP with an app token (never its tables)."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import msgspec
from aiohttp import web

from linli import problems
from linli.auth import issue_token
from linli.config import Settings
from linli.http import RETRY_AFTER_SECONDS, SETTINGS
from linli.pagination import MAX_LIMIT, Page

log = logging.getLogger("linli.clients")


class ServiceClient:
    """JSON over HTTP to one service, authenticated as `app:<caller>` in every compound."""

    def __init__(self, session: aiohttp.ClientSession, *, base_url: str,
                 token: str | Callable[[], str]) -> None:
        self.session, self.base_url = session, base_url.rstrip("/")
        self._token = token

    @property
    def token(self) -> str:
        """The bearer token; a short-lived app token is renewed before it runs out."""
        return self._token if isinstance(self._token, str) else self._token()

    async def request(self, method: str, path: str, *, json: Any = None, kind: Any = None,
                      headers: dict[str, str] | None = None) -> Any:
        """Send a request; a problem answer becomes a Problem (503 when the peer is down, 502
        when it fails)."""
        all_headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        body = msgspec.json.encode(json) if json is not None else None
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        try:
            async with self.session.request(method, self.base_url + path, data=body,
                                            headers=all_headers) as response:
                raw = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            # the peer is down or not answering: like a database outage, a 503 to retry later
            # (the peer's address and the socket error go to the log, not to the caller)
            log.warning("%s %s%s unreachable: %r", method, self.base_url, path, exc)
            raise problems.Problem(503, "upstream-unavailable", "依赖的服务不可用",
                                   "依赖的服务暂时不可用, 请稍后重试",
                                   headers={"Retry-After": str(RETRY_AFTER_SECONDS)}) from None
        if status >= 400:
            detail = msgspec.json.decode(raw).get("detail", "") if raw else ""
            raise problems.Problem(status if status < 500 else 502, "upstream-error",
                                   "依赖的服务返回错误", f"{method} {path}: {detail or status}")
        return msgspec.json.decode(raw, type=kind) if kind is not None else msgspec.json.decode(raw)

    async def get(self, path: str, *, kind: Any = None) -> Any:
        return await self.request("GET", path, kind=kind)

    async def get_all(self, path: str, *, kind: Any = None) -> list[Any]:
        """Every item of a paged list (`Page`), following next_cursor at the largest page;
        `kind` is the type of one item."""
        items: list[Any] = []
        cursor: str | None = None
        joiner = "&" if "?" in path else "?"
        while True:
            page = await self.get(f"{path}{joiner}limit={MAX_LIMIT}"
                                  + (f"&cursor={cursor}" if cursor else ""),
                                  kind=Page[kind] if kind is not None else None)
            if kind is not None:
                items.extend(page.items)
                cursor = page.next_cursor
            else:
                items.extend(page["items"])
                cursor = page["next_cursor"]
            if not cursor:
                return items

    async def get_or(self, path: str, missing: problems.Problem, *, kind: Any = None) -> Any:
        """GET something the caller named; the peer's 404 raises `missing` (ours) instead."""
        try:
            return await self.get(path, kind=kind)
        except problems.Problem as exc:
            if exc.status == 404:
                raise missing from None
            raise

    async def post(self, path: str, json: Any, *, kind: Any = None) -> Any:
        return await self.request("POST", path, json=json, kind=kind)

    async def post_or(self, path: str, json: Any, missing: problems.Problem, *,
                      kind: Any = None) -> Any:
        """POST about something the caller named; the peer's 404 raises `missing` instead."""
        try:
            return await self.post(path, json, kind=kind)
        except problems.Problem as exc:
            if exc.status == 404:
                raise missing from None
            raise


APP_TOKEN_TTL_SECONDS = 15 * 60


def app_token(settings: Settings, caller: str, scopes: list[str] | None = None, *,
              ttl_seconds: int = APP_TOKEN_TTL_SECONDS) -> str:
    """A token for service-to-service calls: app:<caller>, every compound, given scopes,
    valid for minutes (a leaked one is soon useless); AppToken renews it."""
    return issue_token(settings.jwt_secret, subject=f"app:{caller}", compounds=["*"],
                       scopes=scopes or [f"{caller}:internal"], ttl_seconds=ttl_seconds)


class AppToken:
    """A short-lived app token, signed again once half of its lifetime has passed."""

    def __init__(self, settings: Settings, caller: str, scopes: list[str] | None = None, *,
                 ttl_seconds: int = APP_TOKEN_TTL_SECONDS) -> None:
        self.settings, self.caller, self.scopes, self.ttl = settings, caller, scopes, ttl_seconds
        self._token, self._renew_at = "", 0.0

    def __call__(self) -> str:
        now = time.monotonic()
        if now >= self._renew_at:
            self._token = app_token(self.settings, self.caller, self.scopes, ttl_seconds=self.ttl)
            self._renew_at = now + self.ttl / 2
        return self._token


def service_client(
    key: web.AppKey[ServiceClient], *, caller: str, target: str, scopes: list[str] | None = None,
    timeout: float = 10.0,
) -> Callable[[web.Application], AsyncIterator[None]]:
    """Cleanup context that puts a client for `target` at app[key]."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
            app[key] = ServiceClient(session, base_url=settings.service_url(target),
                                     token=AppToken(settings, caller, scopes))
            yield

    return context

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
        """Send a request; an error answer becomes a PeerError: the peer's own 4xx status (its
        caller decides what that means: `get_or`, `post_or`), 503 with Retry-After when the
        peer is down, unreachable or slow, 502 when it fails otherwise."""
        all_headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        body = msgspec.json.encode(json) if json is not None else None
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        try:
            async with self.session.request(method, self.base_url + path, data=body,
                                            headers=all_headers) as response:
                raw = await response.read()
                status = response.status
                retry_after = response.headers.get("Retry-After", "")
        except (aiohttp.ClientError, TimeoutError) as exc:
            # the peer is down or not answering: like a database outage, a 503 to retry later
            # (the peer's address and the socket error go to the log, not to the caller)
            log.warning("%s %s%s unreachable: %r", method, self.base_url, path, exc)
            raise unavailable(RETRY_AFTER_SECONDS) from None
        if status >= 400:
            raise peer_error(method, path, status, raw, retry_after)
        try:
            return msgspec.json.decode(raw, type=kind) if kind is not None else msgspec.json.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            # a success we cannot read (a proxy's page, a peer of another version): its failure
            log.warning("%s %s answered %s we cannot read: %s", method, path, status, exc)
            raise problems.Problem(502, "upstream-error", "依赖的服务出错",
                                   "依赖的服务返回了无法识别的内容, 请稍后重试") from None

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
        """GET something the caller named; the peer's 404 for it raises `missing` (ours)
        instead, any other refusal a 502 (see `answer_or`)."""
        try:
            return await self.get(path, kind=kind)
        except PeerError as exc:
            raise answer_or(exc, missing) from None

    async def get_all_or(self, path: str, missing: problems.Problem, *,
                         kind: Any = None) -> list[Any]:
        """`get_all` of a list under something the caller named (its compound): the peer's
        404 for it raises `missing`, any other refusal a 502 (see `answer_or`)."""
        try:
            return await self.get_all(path, kind=kind)
        except PeerError as exc:
            raise answer_or(exc, missing) from None

    async def post(self, path: str, json: Any, *, kind: Any = None) -> Any:
        return await self.request("POST", path, json=json, kind=kind)

    async def post_or(self, path: str, json: Any, missing: problems.Problem, *,
                      kind: Any = None) -> Any:
        """POST about something the caller named; the peer's 404 for it raises `missing`
        instead, any other refusal a 502 (see `answer_or`)."""
        try:
            return await self.post(path, json, kind=kind)
        except PeerError as exc:
            raise answer_or(exc, missing) from None


class PeerError(problems.Problem):
    """A peer's error answer, with what the peer said kept apart from what we answer:
    `peer_status`, `peer_kind` (its problem type without the prefix, "" when the body was no
    Linli problem, e.g. a proxy's HTML page) and `peer_detail`."""

    def __init__(self, status: int, kind: str, title: str, detail: str, *, peer_status: int,
                 peer_kind: str, peer_detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status, kind, title, detail, headers=headers)
        self.peer_status, self.peer_kind, self.peer_detail = peer_status, peer_kind, peer_detail


def unavailable(retry_after: int | str) -> problems.Problem:
    return problems.Problem(503, "upstream-unavailable", "依赖的服务不可用",
                            "依赖的服务暂时不可用, 请稍后重试",
                            headers={"Retry-After": str(retry_after)})


def peer_problem(raw: bytes) -> tuple[str, str]:
    """(kind, detail) of a peer's problem+json; ("", "") for any other body (empty, HTML from
    a proxy, JSON of another shape): an error body never makes our answer fail."""
    try:
        body = msgspec.json.decode(raw) if raw else None
    except msgspec.DecodeError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    kind, detail = body.get("type"), body.get("detail")
    kind = kind[len(problems.TYPE_PREFIX):] if isinstance(kind, str) and kind.startswith(
        problems.TYPE_PREFIX) else ""
    return kind, detail if isinstance(detail, str) else ""


# a peer down for a while (503), a proxy in front of it that gave up waiting (504) or that
# limits the rate (429): our caller retries later, as after an outage
PEER_UNAVAILABLE = frozenset({429, 503, 504})
# a peer's Retry-After passed on, within reason (a proxy's "0" or a year are not advice)
RETRY_AFTER_RANGE = (1, 300)


def retry_after_of(value: str) -> int:
    """A peer's Retry-After in seconds, kept within RETRY_AFTER_RANGE; ours when it gave none
    (or an HTTP date)."""
    if not (value.isascii() and value.isdigit()):
        return RETRY_AFTER_SECONDS
    low, high = RETRY_AFTER_RANGE
    return min(max(int(value), low), high)


def peer_error(method: str, path: str, status: int, raw: bytes, retry_after: str) -> PeerError:
    """The PeerError for an error answer. A 4xx keeps the peer's status and detail (with the
    request, for the callers that read it: meetings' venue booking); the peer's outage or rate
    limit is our 503 with its Retry-After (bounded) or ours; any other failure is a 502 that
    names no path."""
    kind, detail = peer_problem(raw)
    if status < 500 and status not in PEER_UNAVAILABLE:
        ours = problems.Problem(status, "upstream-error", "依赖的服务返回错误",
                                f"{method} {path}: {detail or status}")
    else:
        log.warning("%s %s failed: HTTP %s %s", method, path, status, detail or raw[:200])
        ours = unavailable(retry_after_of(retry_after)) if status in PEER_UNAVAILABLE else problems.Problem(
            502, "upstream-error", "依赖的服务出错", f"依赖的服务出错 (HTTP {status}), 请稍后重试")
    return PeerError(ours.status, ours.kind, ours.title, ours.detail, headers=ours.headers,
                     peer_status=status, peer_kind=kind, peer_detail=detail)


# the detail of any Linli service's 404 for a path it has no route for (not deployed yet)
NO_ROUTE = problems.HTTP_EXCEPTIONS[404][2]


def answer_or(exc: PeerError, missing: problems.Problem) -> problems.Problem:
    """What a peer's error about something our caller named means for our caller: the peer's
    own not-found for it is `missing`; its outage and failures stay our 503/502; any other
    refusal (401/403/422 to our service token, a 404 for a route it lacks, a proxy's 404) is
    not our caller's fault: a 502 that names no internal path (the log has it)."""
    if exc.status >= 500:
        return exc
    if exc.peer_status == 404 and exc.peer_kind == "not-found" and exc.peer_detail != NO_ROUTE:
        return missing
    log.warning("peer refused: %s (HTTP %s %s)", exc.detail, exc.peer_status, exc.peer_kind)
    return problems.Problem(502, "upstream-error", "依赖的服务返回错误",
                            f"依赖的服务拒绝了本次请求 (HTTP {exc.peer_status}), 请联系平台管理员")


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

"""What every page shares: the session from its cookie, CSRF, the person's API clients, rendering
and the HTML answer to errors."""

from __future__ import annotations

import datetime as dt
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_address
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import aiohttp
import aiohttp_jinja2
import msgspec
from aiohttp import web

from linli import problems
from linli.auth import issue_token
from linli.clients import ServiceClient, app_token
from linli.http import SETTINGS, outage, read_form
from services.portal.menus import section
from services.portal.models import PortalConfig, Session

log = logging.getLogger("linli.portal")

CONFIG = web.AppKey("portal.config", PortalConfig)
HTTP = web.AppKey("portal.http", aiohttp.ClientSession)
SESSION = web.RequestKey("portal.session", Session)
NEW_CSRF = web.RequestKey("portal.new_csrf", str)
COOKIE = "linli_session"
PRE_CSRF = "linli_csrf"  # double-submit token of the forms shown before signing in
PageHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# Who may open a page, enforced by app.guarded before the handler runs:
#   public  anyone;  dev  anyone while the development sign-in is enabled (else 404);
#   person  a signed-in person (else: sign in, then back);
#   member  a signed-in person of the compound in the path (else 404);
#   desk    a signed-in person with a staff role in the compound of the path (else 404).
PageAccess = Literal["public", "dev", "person", "member", "desk"]


@dataclass(frozen=True)
class Page:
    """One page of the portal's flat table: its access is stated here, like every route's."""

    method: str
    path: str
    handler: PageHandler
    access: PageAccess


class ApiError(Exception):
    """A service refused: its problem+json detail, and the fields it named (field → the
    service's words about it, without the field's JSON name)."""

    def __init__(self, status: int, detail: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.fields = status, detail, fields or {}


class Api(ServiceClient):
    """A ServiceClient that keeps the service's own words, for showing next to a field."""

    async def request(self, method: str, path: str, *, json: Any = None, kind: Any = None,
                      headers: dict[str, str] | None = None) -> Any:
        raw, status = await self.fetch(method, path, json=json, headers=headers)
        if status >= 400:
            raise _api_error(status, raw)
        return msgspec.json.decode(raw, type=kind) if kind is not None else msgspec.json.decode(raw)

    async def fetch(self, method: str, path: str, *, json: Any = None,
                    headers: dict[str, str] | None = None) -> tuple[bytes, int]:
        all_headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        body = msgspec.json.encode(json) if json is not None else None
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        try:
            async with self.session.request(method, self.base_url + path, data=body,
                                            headers=all_headers) as response:
                return await response.read(), response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("upstream %s unavailable: %s", self.base_url, exc)
            raise ApiError(502, "相关服务暂时不可用, 请稍后再试") from None

    async def put(self, path: str, json: Any) -> Any:
        return await self.request("PUT", path, json=json)


def _api_error(status: int, raw: bytes) -> ApiError:
    try:
        problem = msgspec.json.decode(raw) if raw else {}
    except msgspec.DecodeError:
        problem = {}
    detail = str(problem.get("detail") or "请求未能完成") if isinstance(problem, dict) else "请求未能完成"
    fields: dict[str, str] = {}
    for error in problem.get("errors") or [] if isinstance(problem, dict) else []:
        path = str(error.get("field") or "").removeprefix("$.")
        name = path.split(".")[0].split("[")[0]
        if name:
            # shown next to the field (or after its label): without the JSON path the service
            # put first ("body: 至少 1 个字符"), which a person does not know
            said = str(error.get("detail") or detail)
            fields[name] = said.removeprefix(f"{path}: ") if said != f"{path}: " else detail
    if status >= 500:
        return ApiError(502, "相关服务暂时出错, 请稍后再试")
    return ApiError(status, detail, fields)


def person_token(request: web.Request, session: Session, compound_id: str | None = None) -> str:
    """A short-lived JWT for this person: the roles of one compound, or of all of them."""
    chosen = [m for m in session.memberships if compound_id is None or str(m.compound_id) == compound_id]
    roles = sorted({r for m in chosen for r in m.roles})
    settings = request.app[SETTINGS]
    return issue_token(settings.jwt_secret, subject=str(session.person_id), name=session.name,
                       roles=roles, compounds=[str(m.compound_id) for m in chosen],
                       ttl_seconds=request.app[CONFIG].token_minutes * 60)


def api(request: web.Request, service_name: str, compound_id: str | None = None) -> Api:
    """The signed-in person's client of one service."""
    settings = request.app[SETTINGS]
    return Api(request.app[HTTP], base_url=settings.service_url(service_name),
               token=person_token(request, session_of(request), compound_id))


def app_api(request: web.Request, service_name: str) -> Api:
    """The portal's own client (sign-in: identities and codes; and the desk's library finding
    a reader of the compound by phone, desk/library.py)."""
    settings = request.app[SETTINGS]
    return Api(request.app[HTTP], base_url=settings.service_url(service_name),
               token=app_token(settings, "portal", ["directory:identify", "notify:send"]))


def session_of(request: web.Request) -> Session:
    session = request.get(SESSION)
    if session is None:
        raise problems.unauthorized("请先登录")
    return session


def address(request: web.Request) -> str:
    """The address the limits count: the connecting one, or, when that is a trusted proxy,
    the first address in X-Forwarded-For (from the right) that is not a trusted proxy."""
    return client_address(request.remote, request.headers.getall("X-Forwarded-For", []),
                          request.app[CONFIG].trusted_proxies)


def client_address(remote: str | None, forwarded: list[str],
                   trusted: tuple[IPv4Network | IPv6Network, ...]) -> str:
    peer = remote or "unknown"
    if not _trusted(peer, trusted):
        return peer  # anyone can write X-Forwarded-For: only our proxies are believed
    hops = [h.strip() for line in forwarded for h in line.split(",") if h.strip()]
    for hop in reversed(hops):  # each proxy appends the address it saw: read from the right
        if not _trusted(hop, trusted):
            return hop if _is_ip(hop) else peer
    return hops[0] if hops and _is_ip(hops[0]) else peer


def _is_ip(text: str) -> bool:
    try:
        ip_address(text)
    except ValueError:
        return False
    return True


def _trusted(text: str, trusted: tuple[IPv4Network | IPv6Network, ...]) -> bool:
    try:
        ip = ip_address(text)
    except ValueError:
        return False
    return any(ip in net for net in trusted)


def is_https(request: web.Request) -> bool:
    """TLS here, or at a trusted proxy that says so (X-Forwarded-Proto)."""
    if request.secure:
        return True
    behind = _trusted(request.remote or "", request.app[CONFIG].trusted_proxies)
    return behind and request.headers.get("X-Forwarded-Proto", "") == "https"


def set_cookie(response: web.StreamResponse, request: web.Request, name: str, value: str,
               max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="Lax",
                        secure=is_https(request))


def csrf_token(request: web.Request) -> str:
    session = request.get(SESSION)
    if session is not None:
        return session.csrf
    token = request.cookies.get(PRE_CSRF) or request.get(NEW_CSRF)
    if not token:
        token = secrets.token_urlsafe(24)
        request[NEW_CSRF] = token
    return token


def render(request: web.Request, template: str, context: dict[str, Any],
           status: int = 200) -> web.Response:
    session = request.get(SESSION)
    compound = context.get("compound")
    if compound is None and session is not None and session.memberships:
        compound = session.memberships[0]  # pages of the person (inbox) keep a compound's menu
    base = {"session": session, "csrf": csrf_token(request), "path": request.path_qs,
            "dev_login": request.app[CONFIG].dev_login, "compound": compound,
            "section": section(request.path),  # the menu item marked as this page's
            "errors": context.get("errors", {}), "form": context.get("form", {}),
            "flash": request.query.get("done", "")}
    response = aiohttp_jinja2.render_template(template, request, {**context, **base}, status=status)
    response.headers["Cache-Control"] = "no-store"
    if session is None and NEW_CSRF in request:
        set_cookie(response, request, PRE_CSRF, request[NEW_CSRF])
    return response


def redirect(location: str) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(location)


def to_sign_in(request: web.Request) -> web.HTTPSeeOther:
    target = request.path_qs
    if request.method != "GET":  # back to the page the form was on, if it was ours
        referer = urlsplit(request.headers.get("Referer", ""))
        target = referer.path if referer.netloc == request.host and referer.path else "/"
    return redirect(f"/sign-in?next={quote(safe_next(target))}")


def safe_next(target: str | None) -> str:
    """Only a path of this site: never an open redirect to another host."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def form(request: web.Request) -> dict[str, Any]:
    """The posted fields; a form that cannot be read is a 400 page in words (linli.http)."""
    data = await read_form(request)
    return {k: v for k, v in data.items()}


ERROR_TITLES = {400: "请求有误", 401: "请先登录", 403: "无权访问", 404: "页面不存在",
                405: "不支持的操作", 413: "上传的内容太大", 502: "服务暂不可用",
                503: "服务暂时不可用"}


@web.middleware
async def html_errors(request: web.Request, handler: PageHandler) -> web.StreamResponse:
    """Errors of pages answer with a page in Chinese; a lost session goes to sign-in and back."""
    title, headers = None, {}
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        status, detail, headers = exc.status, _http_detail(request, exc), dict(exc.headers)
    except problems.Problem as exc:
        # its own title: a 503 may be an outage or "cannot confirm you belong here" (handlers.py)
        status, detail, title, headers = exc.status, exc.detail, exc.title, exc.headers
    except ApiError as exc:
        status, detail = exc.status, exc.detail
    except Exception as exc:
        # the portal's own database (sessions) down: linli.http.problem_json, outside this
        # middleware, would answer a browser with problem+json; JSON addresses still get it
        down = outage(exc)
        if down is None or request.path in SYSTEM_PATHS or request.path.startswith("/v1/"):
            raise
        log.warning("dependency unavailable: %r", exc)
        # not its detail: a person at a browser has no Idempotency-Key to retry with
        status, title, headers = down.status, down.title, down.headers
        detail = "暂时无法读取数据, 请稍等片刻后刷新页面重试。"
    if status == 401:
        raise to_sign_in(request)
    if status == 404:
        detail = "找不到这个页面, 或它不属于你所在的小区。"
    if request.path.startswith(("/static/", "/media/")) or request.path in SYSTEM_PATHS:
        response = web.Response(status=status, text=detail)
    else:
        response = render(request, "error.html", {
            "title": title or ERROR_TITLES.get(status, "出错了"), "detail": detail}, status=status)
    if retry := headers.get("Retry-After"):  # read by clients that never show the page
        response.headers["Retry-After"] = retry
    if headers.get("Connection") == "close":  # a body that could not be read to its end
        response.headers["Connection"] = "close"
    return response


SYSTEM_PATHS = ("/livez", "/readyz", "/metrics", "/openapi.json")
PHOTO_FORM = re.compile(r"/c/[^/]+/issues/new")  # the only form that takes photos


def _http_detail(request: web.Request, exc: web.HTTPException) -> str:
    """Our own words of an HTTP error; aiohttp's ("405: Method Not Allowed", "Maximum request
    body size … exceeded") are English and name no next step, so they are replaced."""
    if exc.status == 405:
        return "这个地址不能直接打开, 请返回上一页重新操作。"
    if exc.status == 413:
        # the photo limit: every body under it passes (the body limit adds room for the fields)
        limit = f"{request.app[CONFIG].max_photo_bytes / 2**20:g} MB"
        if PHOTO_FORM.fullmatch(request.path):
            return f"上传的内容太大: 每张照片不能超过 {limit}, 请返回上一页换一张照片后重新提交。"
        return f"上传的内容太大: 上传的文件不能超过 {limit}, 请返回上一页换一个较小的文件后重新提交。"
    own = exc.text or ""
    if not own or own == f"{exc.status}: {exc.reason}":
        return "请求未能完成, 请返回上一页重试。"
    return own


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)

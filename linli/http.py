"""The shared aiohttp shape: route table, validation, auth, problem+json, health, metrics."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import msgspec
from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError
from multidict import MultiDictProxy

from linli import metrics, problems
from linli.auth import MEMBERS, Access, AuthError, Principal, verify_token
from linli.db import DatabaseUnavailable
from linli.idempotency import replay_or_run
from linli.inputs import (
    UNSTORABLE_ESCAPE,
    explain,
    lenient_json,
    refuse_unplaceable,
    refuse_unstorable,
    unstorable_field,
)

# The keys live in linli.keys (so idempotency needs no http); services import them from here.
from linli.keys import JETSTREAM, NATS_CLIENT, POOL, REQUEST_ID, ROUTES, SERVICE, SETTINGS  # noqa: F401
from linli.pagination import PageQuery, check_page
from linli.problems import Problem

log = logging.getLogger("linli.http")

Handler = Callable[["Call"], Awaitable[Any]]
_PATH_PARAM = re.compile(r"{([a-z_]+)}")
_encoder = msgspec.json.Encoder()


@dataclass(frozen=True)
class ErrorFormat:
    """How the routes of another protocol answer errors (Open311's array), not problem+json:
    `render` turns any Problem into that body, `schema` documents it in OpenAPI."""

    schema: Any
    media_type: str
    render: Callable[[Problem], web.StreamResponse]


@dataclass(frozen=True)
class Route:
    """One endpoint: the same types validate requests and document them in OpenAPI."""

    method: str
    path: str
    handler: Handler
    summary: str
    body: Any = None
    query: Any = None
    response: Any = None
    status: int = 200
    access: Access = MEMBERS
    idempotent: bool = False
    tags: tuple[str, ...] = ()
    params: dict[str, str] = field(default_factory=dict)
    errors: ErrorFormat | None = None  # None: problem+json
    form: Any = None  # documents a form body (x-www-form-urlencoded) the handler reads itself
    # refusals beyond those the kernel derives from the route's shape (linli/openapi.py),
    # e.g. 406 of a stream that speaks only text/event-stream
    refusals: tuple[int, ...] = ()
    # documents a JSON body decoded as `body` and checked by the handler against its own types
    # (e.g. a workflow's dataclasses, whose unknown fields the handler refuses)
    body_doc: Any = None
    # request headers the handler reads beside the kernel's (name → what it carries), documented
    # as header parameters
    headers: dict[str, str] = field(default_factory=dict)
    documented: bool = True  # False: served, but left out of OpenAPI (a catch-all behind typed routes)

    @property
    def path_params(self) -> list[str]:
        return _PATH_PARAM.findall(self.path)


@dataclass
class Call:
    """What a handler gets: the request, the caller, and the validated body and query."""

    request: web.Request
    principal: Principal | None
    body: Any = None
    query: Any = None

    @property
    def app(self) -> web.Application:
        return self.request.app

    @property
    def who(self) -> Principal:
        """The authenticated caller (handlers of non-public routes)."""
        assert self.principal is not None
        return self.principal

    def param(self, name: str) -> str:
        return self.request.match_info[name]

    def uuid_param(self, name: str, what: str = "资源") -> uuid.UUID:
        """A path parameter that must be a UUID; anything else is simply not found."""
        try:
            return uuid.UUID(self.request.match_info[name])
        except ValueError:
            raise problems.not_found(what) from None

    def require_compound(self, compound_id: object) -> None:
        """403 unless the caller may act in this compound."""
        if self.principal is not None and not self.principal.may_act_in(str(compound_id)):
            raise problems.forbidden("你无权在该小区操作")


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """Encode a Struct/dict/list with msgspec."""
    return web.Response(
        status=status, body=_encoder.encode(payload), content_type="application/json",
        headers=headers,
    )


def decode_as(raw: bytes | Any, kind: Any, *, what: str = "请求体") -> Any:
    """Decode JSON bytes (or convert builtins) into `kind`; 400/422 problems on failure."""
    try:
        if isinstance(raw, bytes | bytearray):
            if UNSTORABLE_ESCAPE.search(raw):
                refuse_unstorable(lenient_json(raw), what=what)
            decoded = msgspec.json.decode(raw, type=kind)
        else:
            refuse_unstorable(raw, what=what)
            decoded = msgspec.convert(raw, kind, strict=False)
        refuse_unplaceable(decoded, what=what)
        return decoded
    except msgspec.ValidationError as exc:
        path = str(exc).rsplit("at `", 1)[-1].rstrip("`") if "at `" in str(exc) else None
        if path is not None:
            path = path.removeprefix("$.").removeprefix("$") or None
        raise Problem(
            422, "validation-error", "请求内容不合规", f"{what}字段校验失败: {explain(exc)}",
            errors=[{"field": path, "detail": explain(exc)}],
        ) from None
    except msgspec.DecodeError as exc:
        raise problems.bad_request(f"{what}不是有效的 JSON: {exc}", "malformed-json") from None


def require_json(request: web.Request) -> None:
    """A JSON body must say so: text/plain or a form is not silently read as JSON."""
    kind = request.content_type
    if kind != "application/json" and not (kind.startswith("application/") and kind.endswith("+json")):
        raise Problem(415, "unsupported-media-type", "不支持的内容类型",
                      f"请求体必须是 JSON (Content-Type: application/json), 收到的是 {kind}")


def _not_as_encoded(what: str) -> Problem:
    """The body is no `Content-Encoding` it names: the rest of it cannot be read, so the
    connection cannot carry another request (aiohttp closes it after the answer, whose
    Connection: close tells the client not to send the next one there)."""
    detail = f"{what}无法读取: 内容与 Content-Encoding 声明的压缩格式不符, 请按声明压缩或去掉该请求头后重试"
    return Problem(400, "bad-request", "请求有误", detail, headers={"Connection": "close"})


async def read_body(request: web.Request) -> bytes:
    """The request's body; 400 in words when it cannot be had (a Content-Encoding it does not
    follow, e.g. "gzip" over plain bytes), where aiohttp's error would leave as a 500."""
    try:
        return await request.read()
    except RequestPayloadError:
        raise _not_as_encoded("请求体") from None


async def read_form(request: web.Request) -> MultiDictProxy[str | bytes | bytearray | web.FileField]:
    """The posted form (urlencoded or multipart); 400 in words when it cannot be read: bytes
    that are not UTF-8 (or a charset nobody knows), a multipart body without its boundary or a
    part without a name. aiohttp raises plain ValueError/LookupError for these, which would
    leave as a 500."""
    try:
        return await request.post()
    except (UnicodeDecodeError, LookupError):
        detail = "表单无法读取: 内容不是 UTF-8 编码的文字, 请以 UTF-8 编码重新提交"
    except RequestPayloadError:
        raise _not_as_encoded("表单") from None
    except ValueError:
        detail = "表单无法读取: multipart 格式有误 (缺少分隔符、分隔符不符或某个部分没有名称), 请重新提交"
    raise problems.bad_request(detail)


def authenticate(request: web.Request, access: Access) -> Principal | None:
    """The caller from the bearer token; 401 without one, 403 without the role."""
    header = request.headers.get("Authorization", "")
    if not header:
        if access.public:
            return None
        raise problems.unauthorized("缺少 Authorization: Bearer 令牌")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise problems.unauthorized("Authorization 头必须是 Bearer 令牌")
    try:
        who = verify_token(request.app[SETTINGS].jwt_secret, token.strip())
    except AuthError as exc:
        raise problems.unauthorized(str(exc)) from None
    if not access.allows(who):
        raise problems.forbidden(f"该操作需要以下角色之一: {access.describe()}")
    compound = request.match_info.get("compound_id")
    if compound is not None and not who.may_act_in(compound):
        raise problems.forbidden("你无权在该小区操作")
    return who


def endpoint(route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Wrap a handler: auth, query and body validation, idempotency, JSON encoding."""
    async def view(request: web.Request) -> web.StreamResponse:
        try:
            return await checked(request)
        except Problem as exc:
            if route.errors is None:
                raise
            return route.errors.render(exc)

    async def checked(request: web.Request) -> web.StreamResponse:
        if unstorable_field(dict(request.match_info)) is not None:
            raise problems.not_found("资源")  # no path names a thing by a NUL
        who = authenticate(request, route.access)
        call = Call(request=request, principal=who)
        if route.query is not None:
            if isinstance(route.query, type) and issubclass(route.query, PageQuery):
                check_page(request.query)
            call.query = decode_as(dict(request.query), route.query, what="查询参数")
        raw = await read_body(request) if route.body is not None else b""
        if route.body is not None:
            if raw:
                require_json(request)
            call.body = decode_as(raw or b"null", route.body)
        refuse_unstorable({"Idempotency-Key": request.headers.get("Idempotency-Key", "")},
                          what="请求头")

        async def run() -> web.StreamResponse:
            result = await route.handler(call)
            if isinstance(result, web.StreamResponse):
                return result
            return json_response(result, route.status)

        if route.idempotent and "Idempotency-Key" in request.headers:
            return await replay_or_run(request, who, raw, run)
        return await run()

    return view


# a request answered 2xx/3xx within this many seconds is logged at DEBUG: its count and latency
# are in the metrics by route; at INFO it cost a log record, a JSON line and a write to stderr
# per request (a third of a report's own time, bench/bench_issues.py). Refusals, failures and
# slow answers are still one INFO line each; LINLI_LOG_LEVEL=debug logs every request.
SLOW_SECONDS = 1.0
_instruments: dict[tuple[str, str, str, int], tuple[Any, Any]] = {}


def _instrument(service: str, template: str, method: str, status: int) -> tuple[Any, Any]:
    """The request counter and latency histogram of these labels, resolved once per process
    (prometheus_client's labels() checks and locks on every call)."""
    key = (service, template, method, status)
    found = _instruments.get(key)
    if found is None:
        if len(_instruments) >= 10_000:  # methods are the client's words: stay bounded
            _instruments.clear()
        found = (metrics.HTTP_REQUESTS.labels(service, template, method, str(status)),
                 metrics.HTTP_LATENCY.labels(service, template, method))
        _instruments[key] = found
    return found


@web.middleware
async def observe(request: web.Request, handler: Any) -> web.StreamResponse:
    """Request id, Prometheus metrics by route template, a JSON access-log line."""
    request_id = request.headers.get("X-Request-Id") or uuid.uuid4().hex
    request[REQUEST_ID] = request_id
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers["X-Request-Id"] = request_id
        return response
    finally:
        elapsed = time.perf_counter() - started
        resource = request.match_info.route.resource
        template = resource.canonical if resource is not None else "unmatched"
        counter, latency = _instrument(request.app[SERVICE], template, request.method, status)
        counter.inc()
        latency.observe(elapsed)
        level = logging.DEBUG if status < 400 and elapsed < SLOW_SECONDS else logging.INFO
        if log.isEnabledFor(level):
            log.log(level, "request", extra={
                "request_id": request_id, "method": request.method, "path": request.path,
                "route": template, "status": status, "ms": round(elapsed * 1000, 2)})


@web.middleware
async def problem_json(request: web.Request, handler: Any) -> web.StreamResponse:
    """Every error leaves as problem+json; unexpected ones without a stack trace."""
    try:
        return await handler(request)
    except Problem as exc:
        problem = exc
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        problem = problems.from_http_exception(exc)
    except Exception as exc:
        problem = outage(exc) or _internal_error(request)
        if problem.status == 503:
            log.warning("dependency unavailable: %r", exc,
                        extra={"request_id": request.get(REQUEST_ID)})
    return problem.response(instance=request.path, request_id=request.get(REQUEST_ID))


def _internal_error(request: web.Request) -> Problem:
    log.exception("unexpected failure", extra={"request_id": request.get(REQUEST_ID)})
    return Problem(500, "internal-error", "服务器内部错误", "服务器处理请求时出错, 请稍后重试")


RETRY_AFTER_SECONDS = 5
# PostgreSQL refusing or losing connections: class 08 (connection), 57P01-03 (shutting
# down, crashed, "the database system is starting up / in recovery mode"), 53300 (too many
# connections). A transaction cut off before COMMIT is rolled back whole; a retry with the
# same Idempotency-Key is safe either way (linli/idempotency.py).
_DATABASE_DOWN = (
    DatabaseUnavailable, asyncpg.PostgresConnectionError, asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError, asyncpg.CannotConnectNowError, asyncpg.TooManyConnectionsError,
    asyncpg.InternalClientError,  # a connection left mid-operation by a cut (see linli/db.py)
)


def outage(exc: BaseException) -> Problem | None:
    """503 with Retry-After when a dependency is down (database, network), else None."""
    if isinstance(exc, _DATABASE_DOWN) or (
            isinstance(exc, asyncpg.InterfaceError) and "connection" in str(exc).lower()):
        detail = "数据库暂时不可用, 请稍后重试 (带同一 Idempotency-Key 重试不会重复创建)"
    elif isinstance(exc, TimeoutError):  # the pool stayed exhausted, or a peer did not answer
        detail = "服务繁忙或依赖暂时无响应, 请稍后重试"
    elif isinstance(exc, OSError):  # connection refused or reset on the way to a dependency
        detail = "依赖的服务暂时不可用, 请稍后重试"
    else:
        return None
    return Problem(503, "service-unavailable", "服务暂时不可用", detail,
                   headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def add_routes(app: web.Application, routes: Sequence[Route]) -> None:
    """Register the route table on the app's router."""
    for route in routes:
        app.router.add_route(route.method, route.path, endpoint(route))
    app[ROUTES] = [*app.get(ROUTES, []), *routes]

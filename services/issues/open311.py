"""Open311 GeoReport v2 façade under /open311/v2/ (JSON format, `.json` suffix).

jurisdiction_id is the compound id. api_key is a Linli bearer token: a resident's token
reports as that resident; an app token with scope issues:report or issues:manage reports on
behalf of the named person (first_name/last_name). Errors follow the spec, not problem+json:
an array of {code, description} with status 400, 403 or 404.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from pathlib import Path
from typing import Any

import msgspec
from aiohttp import web

from linli import problems
from linli.http import POOL, Call, ErrorFormat, Handler, json_response
from linli.values import now_utc
from services.issues import rules, service
from services.issues.keys import DIRECTORY
from services.issues.models import Category

BASE = "/open311/v2"
SPEC = "http://wiki.open311.org/GeoReport_v2"
REPORT_SCOPES = rules.REPORT_SCOPES
MAX_PAGE_SIZE = 200


class Query(msgspec.Struct, kw_only=True):
    """Query parameters (all text; the façade validates them and answers in the spec's errors)."""

    jurisdiction_id: str | None = None
    service_request_id: str | None = None
    service_code: str | None = None
    start_date: str | None = None
    end_date: str | None = None
    status: str | None = None
    page: str | None = None
    page_size: str | None = None


class Error(msgspec.Struct):
    code: int
    description: str


class Service(msgspec.Struct):
    service_code: str
    service_name: str
    description: str
    metadata: bool
    type: str
    keywords: str
    group: str


class Request(msgspec.Struct):
    service_request_id: str
    status: str
    status_notes: str
    service_name: str
    service_code: str
    description: str
    agency_responsible: str
    service_notice: str
    requested_datetime: str
    updated_datetime: str
    expected_datetime: str
    address: str
    address_id: str | None
    zipcode: str | None
    lat: float | None
    long: float | None
    media_url: str | None


class Created(msgspec.Struct):
    service_request_id: str
    token: str
    service_notice: str
    account_id: str | None = None


class TokenAnswer(msgspec.Struct):
    service_request_id: str
    token: str


def error(status: int, description: str) -> problems.Problem:
    return problems.Problem(status, "open311", "Open311", description)


def spec_error(exc: problems.Problem) -> web.Response:
    """A problem as the spec's [{code, description}] with 400, 403 or 404 (or a 5xx)."""
    status = {401: 403, 409: 400, 415: 400, 422: 400}.get(exc.status, exc.status)
    status = status if status in (400, 403, 404) or status >= 500 else 400
    # its headers too: Retry-After, or Connection: close after a body that could not be read
    return json_response([Error(code=status, description=exc.detail)], status, exc.headers)


# every Open311 route answers errors so, also those found before its handler runs (a bad query)
SPEC_ERRORS = ErrorFormat(list[Error], "application/json", spec_error)


def spec_errors(handler: Handler) -> Handler:
    """Problems leave as the spec's [{code, description}] with 400, 403 or 404."""

    @functools.wraps(handler)
    async def wrapped(call: Call) -> Any:
        try:
            return await handler(call)
        except problems.Problem as exc:
            return spec_error(exc)

    return wrapped


async def unknown_resource(request: web.Request) -> web.Response:
    """Anything else under the façade answers in the spec's error format, not problem+json."""
    description = f"没有这个 Open311 资源: {request.method} {request.path} (仅支持 .json 格式)"
    return json_response([Error(code=404, description=description)], 404)


def _iso(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="seconds") if value else ""


def _date(text: str | None, name: str) -> dt.datetime | None:
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise error(400, f"{name} 必须是 ISO 8601 时间") from None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _int(text: str | None, name: str, default: int, high: int) -> int:
    try:
        value = int(text) if text else default
    except ValueError:
        raise error(400, f"{name} 必须是整数") from None
    if not 1 <= value <= high:
        raise error(400, f"{name} 必须在 1 到 {high} 之间")
    return value


async def jurisdiction(call: Call, given: str | None) -> uuid.UUID:
    if not given:
        raise error(400, "jurisdiction_id 必填 (小区 id)")
    try:
        compound_id = uuid.UUID(given)
    except ValueError:
        raise error(404, "jurisdiction_id 对应的小区不存在") from None
    await service.ensure_seeded(call.app[POOL], call.app[DIRECTORY],
                                compound_id=compound_id)
    return compound_id


def to_request(row: Any, name: str) -> Request:
    note = row["status_note"]
    label = rules.STATUS_LABELS[row["status"]]
    area = rules.COMMON_AREAS.get(row["area"] or "", "")
    party = rules.PARTIES[row["responsible"]]
    return Request(
        service_request_id=str(row["id"]), status=rules.open311_status(row["status"]),
        status_notes=f"{label}: {note}" if note else label, service_name=name,
        service_code=row["category"], description=row["description"],
        agency_responsible=party, service_notice=f"由{party}处理",
        requested_datetime=_iso(row["created_at"]), updated_datetime=_iso(row["updated_at"]),
        expected_datetime=_iso(row["resolve_by"]),
        address=" ".join(t for t in (area, row["location_note"]) if t),
        address_id=str(row["unit_id"]) if row["unit_id"] and not row["anonymous"] else None,
        zipcode=None, lat=row["lat"], long=row["long"],
        media_url=row["photos"][0] if row["photos"] else None,
    )


async def categories(call: Call, compound_id: uuid.UUID) -> dict[str, Category]:
    listed = await service.list_categories(call.app[POOL], call.app[DIRECTORY],
                                           compound_id=compound_id)
    return {c.code: c for c in listed.items}


# ---------------------------------------------------------------- endpoints


@functools.cache
def _changeset() -> str:
    """When this façade's definition last changed: the newest of its source files."""
    here = Path(__file__).parent
    newest = max((here / name).stat().st_mtime
                 for name in ("open311.py", "open311_submit.py", "routes.py"))
    return _iso(dt.datetime.fromtimestamp(newest, dt.UTC)).replace("+00:00", "Z")


@spec_errors
async def discovery(call: Call) -> dict[str, Any]:
    url = f"{call.request.scheme}://{call.request.host}{BASE}"
    changeset = _changeset()
    return {
        "changeset": changeset, "contact": "邻里议事会平台 (Linli)",
        "key_service": "api_key 即 Linli 的 Bearer 令牌：居民令牌，或带 issues:report 范围的应用令牌",
        "endpoints": [{"specification": SPEC, "url": url, "changeset": changeset,
                       "type": "production", "formats": ["application/json"]}],
    }


@spec_errors
async def services_list(call: Call) -> list[Service]:
    compound_id = await jurisdiction(call, call.query.jurisdiction_id)
    return [Service(service_code=c.code, service_name=c.name, description=c.description or c.name,
                    metadata=bool(c.attributes), type="realtime", keywords=c.responsible_label,
                    group=c.responsible_label)
            for c in (await categories(call, compound_id)).values() if c.active]


@spec_errors
async def service_definition(call: Call) -> dict[str, Any]:
    compound_id = await jurisdiction(call, call.query.jurisdiction_id)
    category = (await categories(call, compound_id)).get(call.param("code"))
    if category is None or not category.active:
        raise error(404, "没有这个服务 (问题类别)")
    return {"service_code": category.code, "attributes": [
        {"variable": True, "code": a.code, "datatype": a.datatype, "required": a.required,
         "datatype_description": "", "order": i, "description": a.description,
         "values": [{"key": v.key, "name": v.name} for v in a.values]}
        for i, a in enumerate(category.attributes, start=1)]}


@spec_errors
async def list_requests(call: Call) -> list[Request]:
    q: Query = call.query
    compound_id = await jurisdiction(call, q.jurisdiction_id)
    ids = None
    if q.service_request_id:
        try:
            ids = [uuid.UUID(part.strip()) for part in q.service_request_id.split(",")]
        except ValueError:
            raise error(400, "service_request_id 必须是逗号分隔的 id") from None
    wanted = {s.strip() for s in (q.status or "").split(",") if s.strip()}
    if wanted - {"open", "closed"}:
        raise error(400, "status 只能是 open 或 closed")
    start, end = _date(q.start_date, "start_date"), _date(q.end_date, "end_date")
    if ids is None and start is None and end is None:
        start = now_utc() - dt.timedelta(days=90)  # the spec's default window
    page = _int(q.page, "page", 1, 1_000_000)
    size = _int(q.page_size, "page_size", 50, MAX_PAGE_SIZE)
    names = {code: c.name for code, c in (await categories(call, compound_id)).items()}
    rows = await service.search_issues(
        call.app[POOL], compound_id=compound_id, ids=ids, category=q.service_code, start=start,
        end=end, open_=("open" in wanted) if len(wanted) == 1 else None, offset=(page - 1) * size,
        limit=size)
    return [to_request(r, names.get(r["category"], r["category"])) for r in rows]


@spec_errors
async def get_request(call: Call) -> list[Request]:
    compound_id = await jurisdiction(call, call.query.jurisdiction_id)
    try:
        issue_id = uuid.UUID(call.param("request_id"))
    except ValueError:
        raise error(404, "没有这个服务请求") from None
    row = await service.find_issue(call.app[POOL], compound_id=compound_id, issue_id=issue_id)
    if row is None:
        raise error(404, "没有这个服务请求")
    category = (await categories(call, compound_id)).get(row["category"])
    return [to_request(row, category.name if category else row["category"])]


@spec_errors
async def get_token(call: Call) -> list[TokenAnswer]:
    try:
        token = uuid.UUID(call.param("token"))
    except ValueError:
        raise error(404, "没有这个 token") from None
    row = await service.issue_by_token(call.app[POOL], token=token)
    given = call.query.jurisdiction_id
    if row is None or (given and given != str(row["compound_id"])):
        raise error(404, "没有这个 token")
    return [TokenAnswer(service_request_id=str(row["id"]), token=str(token))]


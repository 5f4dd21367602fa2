"""Cost sharing at the desk (谁受益谁承担): a shared cost and its beneficiaries, meter readings
from a CSV (a bad line is named and nothing is written), candidate plans compared unit by unit in
one table with each unit's difference from the baseline, adopting a plan, bills and their lines."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from services.portal.desk.common import act, desk_of, has, refused, show
from services.portal.desk.forms import fen
from services.portal.handlers import soft
from services.portal.web import Api, ApiError, _api_error, api, form, read_form, redirect

METHODS: dict[str, tuple[str, dict[str, Any]]] = {
    "equal": ("每户均摊", {"method": "equal"}),
    "area": ("按面积分摊", {"method": "area"}),
    "usage": ("按用量分摊", {"method": "usage"}),
    "area_usage": ("面积、用量各半", {"method": "weighted", "parts": [
        {"method": "area", "weight": "1/2"}, {"method": "usage", "weight": "1/2"}]}),
}
KEEPERS = ("property", "party_branch", "community", "owners_committee", "street_office")
ADOPTERS = ("party_branch", "community", "owners_committee", "street_office")
MAX_CSV_BYTES = 2 * 1024 * 1024


async def costs(request: web.Request) -> web.StreamResponse:
    m = desk_of(request)
    cid = str(m.compound_id)
    found, buildings = await asyncio.gather(
        api(request, "meetings", cid).get_all(f"/v1/compounds/{cid}/costs"),
        soft(api(request, "directory", cid).get_all(f"/v1/compounds/{cid}/buildings")))
    return show(request, "desk/costs.html", {"costs": found, "buildings": buildings or [],
                                             "keeps": has(m, *KEEPERS)})


async def create(request: web.Request) -> web.StreamResponse:
    m = desk_of(request)
    cid = str(m.compound_id)
    data = await read_form(request)
    body = {"name": str(data.get("name", "")).strip(),
            "description": str(data.get("description", "")).strip(),
            "usage_unit": str(data.get("usage_unit", "")).strip(),
            "beneficiaries": {"building_ids": [str(b) for b in data.getall("building_ids", [])]}}
    try:
        made = await api(request, "meetings", cid).post(f"/v1/compounds/{cid}/costs", body)
    except ApiError as exc:
        return await refused(request, "create", exc, costs)
    raise redirect(f"/desk/c/{cid}/costs/{made['id']}?ok=create")


async def _comparison(client: Api, base: str, query: dict[str, str]) -> dict[str, Any] | None:
    """The unit-by-unit table when the person asked for one (a total given)."""
    total = fen(query.get("total"))
    if total is None:
        return None
    wanted = {"total_fen": str(total)} | {k: query[k] for k in ("period", "baseline") if query.get(k)}
    try:
        found: dict[str, Any] = await client.get(f"{base}/compare?" + urlencode(wanted))
        return found
    except ApiError as exc:
        return {"error": exc.detail}


async def cost(request: web.Request) -> web.StreamResponse:
    m = desk_of(request)
    cid, kid = str(m.compound_id), request.match_info["cost_id"]
    meetings = api(request, "meetings", cid)
    base = f"/v1/compounds/{cid}/costs/{kid}"
    found, plans, bills, comparison = await asyncio.gather(
        meetings.get(base), meetings.get_all(f"{base}/plans"), meetings.get_all(f"{base}/bills"),
        _comparison(meetings, base, dict(request.query)))
    shown = request.query.get("bill", "")
    bill = await soft(meetings.get(f"{base}/bills/{shown}")) if shown else None
    return show(request, "desk/cost.html", {
        "cost": found, "plans": plans, "bills": bills, "comparison": comparison, "bill": bill,
        "methods": METHODS, "query": dict(request.query),
        "names": {p["name"]: p for p in plans},
        "may": {"keep": has(m, *KEEPERS), "adopt": has(m, *ADOPTERS)}})


async def _import(client: Api, path: str, upload: Any) -> Any:
    """POST the CSV as text/csv: the one call; meetings names the bad line."""
    if not isinstance(upload, web.FileField) or not upload.filename:
        raise ApiError(422, "请选择要上传的 CSV 文件")
    text = upload.file.read(MAX_CSV_BYTES + 1)
    if len(text) > MAX_CSV_BYTES:
        raise ApiError(413, "CSV 文件不能超过 2 MB")
    headers = {"Authorization": f"Bearer {client.token}", "Content-Type": "text/csv"}
    async with client.session.post(client.base_url + path, data=text, headers=headers) as answer:
        raw = await answer.read()
        if answer.status >= 400:
            raise _api_error(answer.status, raw)
    return raw


def _plan_body(data: dict[str, Any]) -> dict[str, Any]:
    label, method = METHODS.get(str(data.get("method", "")), ("", {"method": ""}))
    return {"name": str(data.get("name", "")).strip() or label, "method": method}


async def cost_action(request: web.Request) -> web.StreamResponse:
    """readings / plan / adopt / bills: one call to meetings."""
    m = desk_of(request)
    cid, kid, action = str(m.compound_id), request.match_info["cost_id"], request.match_info["action"]
    meetings = api(request, "meetings", cid)
    base = f"/v1/compounds/{cid}/costs/{kid}"
    data = await form(request)
    if action == "readings":
        call = _import(meetings, f"{base}/readings/import", data.get("file"))
    elif action == "plan":
        call = meetings.post(f"{base}/plans", _plan_body(data))
    elif action == "adopt":
        call = meetings.post(f"{base}/plans/{data.get('plan_id', '')}/adopt", None)
    else:
        total = fen(data.get("total"))
        call = meetings.post(f"{base}/bills", {"period": str(data.get("period", "")),
                                               "total_fen": -1 if total is None else total})
    return await act(request, action, call, f"/desk/c/{cid}/costs/{kid}", cost, action)

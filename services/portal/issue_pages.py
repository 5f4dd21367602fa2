"""Issue pages: report (with photos and look-alikes to co-sign first), my issues with their
timeline, co-signing and rating the fix."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from linli.http import SETTINGS
from services.portal.handlers import compound_of
from services.portal.media import MediaStore, MediaUnavailable, PhotoError, store_photo
from services.portal.web import CONFIG, ApiError, api, form, redirect, render, session_of

AREAS = {"roof": "屋顶", "lift": "电梯", "pump_room": "水泵房", "green_space": "绿地",
         "parking": "停车场", "corridor": "楼道", "gate": "小区大门", "road": "道路",
         "facilities": "公共设施", "other": "其他公共区域"}
ACTIONS = {"reported": "提交", "cosigned": "附议", "status": "状态变化", "reopened": "重新打开",
           "reassigned": "转交", "escalated": "提交议事会", "feedback": "评价", "overdue": "逾期",
           "with_council": "纳入议案", "council_resolved": "随议案解决", "returned": "退回责任方"}
STATUSES = {"submitted": "已提交", "accepted": "已受理", "in_progress": "处理中",
            "resolved": "已解决", "rejected": "不予受理", "duplicate": "重复问题"}
MEDIA_KEY = re.compile(r"^[0-9a-f]{32}\.jpg$")
MAX_PHOTOS = 3
FORM_ERRORS = web.RequestKey("portal.form_errors", dict)
MEDIA = web.AppKey("portal.media", MediaStore)


def media_url(request: web.Request, key: str) -> str:
    """The photo's address as the issues service keeps it: on this portal."""
    return f"{request.app[SETTINGS].service_url('portal')}/media/{key}"


async def _categories(request: web.Request, cid: str) -> list[dict[str, Any]]:
    return [c for c in await api(request, "issues", cid).get_all(
        f"/v1/compounds/{cid}/issue-categories") if c["active"]]


async def new_issue(request: web.Request) -> web.StreamResponse:
    c = compound_of(request)
    return render(request, "issue_new.html", {
        "compound": c, "categories": await _categories(request, str(c.compound_id)),
        "areas": AREAS, "form": {"category": request.query.get("category", "")}})


async def similar_fragment(request: web.Request) -> web.StreamResponse:
    """Look-alikes while the person types (htmx); the form shows them again before sending."""
    c = compound_of(request)
    found = await _similar(request, str(c.compound_id), dict(request.query))
    return render(request, "_similar.html", {"compound": c, "similar": found})


async def _similar(request: web.Request, cid: str, data: dict[str, Any]) -> list[dict[str, Any]]:
    category, title = str(data.get("category", "")), str(data.get("title", "")).strip()
    if not category or not title:
        return []
    try:
        query = urlencode({"category": category, "title": title,
                           "description": str(data.get("description", ""))[:500]})
        found: list[dict[str, Any]] = (await api(request, "issues", cid).get(
            f"/v1/compounds/{cid}/issues/similar?{query}"))["items"]
        return found
    except ApiError:
        return []


async def _photos(request: web.Request, data: dict[str, Any]) -> tuple[list[str], str | None]:
    """Keys of photos already kept (a form shown again) and of the new upload, cleaned."""
    keys = [k for k in str(data.get("photo_keys", "")).split(",") if MEDIA_KEY.match(k)]
    upload = data.get("photo")
    if isinstance(upload, web.FileField) and upload.filename:
        if len(keys) >= MAX_PHOTOS:
            return keys, f"最多上传 {MAX_PHOTOS} 张照片"
        try:
            keys.append(await store_photo(request.app[MEDIA], upload.file.read(),
                                          max_bytes=request.app[CONFIG].max_photo_bytes))
        except PhotoError as exc:
            return keys, str(exc)
        except MediaUnavailable:
            return keys, "照片暂时无法保存, 请稍后再试 (其余内容已保留)"
    return keys, None


async def report(request: web.Request) -> web.StreamResponse:
    c = compound_of(request)
    cid = str(c.compound_id)
    data = await form(request)
    keys, photo_error = await _photos(request, data)
    shown = {k: v for k, v in data.items() if isinstance(v, str)} | {"photo_keys": ",".join(keys)}
    errors = _check(data, c)
    if photo_error:
        errors["photo"] = photo_error
    similar = [] if errors or data.get("confirmed") else await _similar(request, cid, data)
    if errors or similar:
        return render(request, "issue_new.html", {
            "compound": c, "categories": await _categories(request, cid), "areas": AREAS,
            "form": shown, "errors": errors, "similar": similar, "photos": keys},
            status=422 if errors else 200)
    where = str(data.get("where", ""))
    prefix = f"attr_{data['category']}_"
    body: dict[str, Any] = {
        "attributes": {k.removeprefix(prefix): str(v) for k, v in data.items()
                       if k.startswith(prefix) and v},
        "category": data["category"], "title": str(data["title"]).strip(),
        "description": str(data["description"]).strip(), "anonymous": data.get("anonymous") == "on",
        "photos": [media_url(request, k) for k in keys],
        "location_note": str(data.get("location_note", "")).strip()}
    body["unit_id" if where.startswith("unit:") else "area"] = where.split(":", 1)[1]
    try:
        issue = await api(request, "issues", cid).post(f"/v1/compounds/{cid}/issues", body)
    except ApiError as exc:
        return render(request, "issue_new.html", {
            "compound": c, "categories": await _categories(request, cid), "areas": AREAS,
            "form": shown, "errors": exc.fields or {"description": exc.detail}, "photos": keys},
            status=422)
    raise redirect(f"/c/{cid}/issues/{issue['id']}?done=reported")


def _check(data: dict[str, Any], c: Any) -> dict[str, str]:
    errors = {}
    if not data.get("category"):
        errors["category"] = "请选择问题类别"
    if not str(data.get("title", "")).strip():
        errors["title"] = "请用一句话说明问题"
    elif len(str(data["title"])) > 100:
        errors["title"] = "标题不能超过 100 字"
    if not str(data.get("description", "")).strip():
        errors["description"] = "请描述问题的情况"
    where = str(data.get("where", ""))
    units = {f"unit:{u.id}" for u in c.units}
    if where not in units and where.removeprefix("area:") not in AREAS:
        errors["where"] = "请选择我的房屋或一个公共区域"
    return errors


async def my_issues(request: web.Request) -> web.StreamResponse:
    c = compound_of(request)
    cid = str(c.compound_id)
    cursor = request.query.get("cursor", "")
    page = await api(request, "issues", cid).get(
        f"/v1/compounds/{cid}/issues?mine=true&limit=20" + (f"&cursor={cursor}" if cursor else ""))
    return render(request, "issues.html", {"compound": c, "page": page})


async def issue_detail(request: web.Request) -> web.StreamResponse:
    c = compound_of(request)
    cid, iid = str(c.compound_id), request.match_info["issue_id"]
    issues = api(request, "issues", cid)
    issue, history, categories = await asyncio.gather(
        issues.get(f"/v1/compounds/{cid}/issues/{iid}"),
        issues.get_all(f"/v1/compounds/{cid}/issues/{iid}/history"),
        _categories(request, cid))
    names = {x["code"]: x["name"] for x in categories}
    units = {str(u.id): u.label for u in c.units}
    mine = issue["reporter_id"] == str(session_of(request).person_id)
    return render(request, "issue.html", {
        "compound": c, "issue": issue, "history": history, "actions": ACTIONS, "statuses": STATUSES,
        "category": names.get(issue["category"], issue["category"]),
        "where": AREAS.get(issue["area"] or "", "") or units.get(str(issue["unit_id"]), "我的房屋"),
        "mine": mine, "photos": [u.rsplit("/", 1)[-1] for u in issue["photos"]],
        "errors": request.get(FORM_ERRORS, {})})


async def cosign(request: web.Request) -> web.StreamResponse:
    c = compound_of(request)
    cid, iid = str(c.compound_id), request.match_info["issue_id"]
    try:
        await api(request, "issues", cid).post(f"/v1/compounds/{cid}/issues/{iid}/cosign", None)
        done = "cosigned"
    except ApiError as exc:
        if exc.status != 409:
            raise
        done = "already-cosigned"
    raise redirect(f"/c/{cid}/issues/{iid}?done={done}")


async def feedback(request: web.Request) -> web.StreamResponse:
    c = compound_of(request)
    cid, iid = str(c.compound_id), request.match_info["issue_id"]
    data = await form(request)
    body = {"score": int(data["score"]) if str(data.get("score", "")).isdigit() else 0,
            "fixed": data.get("fixed") == "yes", "comment": str(data.get("comment", "")).strip()}
    try:
        await api(request, "issues", cid).post(f"/v1/compounds/{cid}/issues/{iid}/feedback", body)
    except ApiError as exc:
        if exc.status == 404:
            raise
        request[FORM_ERRORS] = exc.fields or {"score": exc.detail}
        response = await issue_detail(request)
        response.set_status(422)
        return response
    raise redirect(f"/c/{cid}/issues/{iid}?done=rated")


async def photo(request: web.Request) -> web.StreamResponse:
    """A stored photo, to people signed in (the portal's session middleware ran)."""
    try:
        data = await request.app[MEDIA].get(request.match_info["key"])
    except MediaUnavailable:
        raise ApiError(502, "照片暂时无法读取, 请稍后再试") from None
    if data is None:
        raise web.HTTPNotFound()
    return web.Response(body=data, content_type="image/jpeg",
                        headers={"Cache-Control": "private, max-age=86400",
                                 "X-Content-Type-Options": "nosniff"})

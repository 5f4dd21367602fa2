"""Pages of signing in and out, the compound's home, the inbox and preferences; no SQL here."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Awaitable
from typing import Any, TypeVar
from urllib.parse import quote

from aiohttp import web

from linli import problems
from linli.http import POOL, SETTINGS
from services.portal import service
from services.portal.models import Identity, Membership
from services.portal.service import SignInError
from services.portal.web import (
    CONFIG,
    COOKIE,
    ApiError,
    address,
    api,
    app_api,
    form,
    redirect,
    render,
    safe_next,
    session_of,
    set_cookie,
)

T = TypeVar("T")
PHONE = re.compile(r"^1\d{10}$")


async def soft(awaitable: Awaitable[T]) -> T | None:
    """A block of a page whose service is down shows as unavailable, not as a broken page."""
    try:
        return await awaitable
    except ApiError:
        return None


UNCONFIRMED = problems.Problem(
    503, "memberships-unconfirmed", "暂时无法确认",
    "人员登记服务暂时无法访问, 暂时无法确认你是否仍登记在这个小区; 请稍后刷新页面再试 (无需重新登录)。")


def compound_of(request: web.Request) -> Membership:
    """The compound in the path, if the person belongs to it now (the memberships are read
    again from the directory every minute: signed_in.py); any other is simply not found."""
    session = session_of(request)
    found = session.membership(request.match_info["compound_id"])
    if found is None and session.unconfirmed:
        raise UNCONFIRMED
    if found is None:
        raise web.HTTPNotFound()
    return found


# ---------------------------------------------------------------- signing in


async def root(request: web.Request) -> web.StreamResponse:
    session = session_of(request)
    if session.unconfirmed:
        raise UNCONFIRMED
    if not session.memberships:
        return render(request, "error.html", {"title": "尚未登记小区", "detail":
                      "你还没有登记在任何小区, 请联系社区居委会登记房屋或住户信息。"})
    raise redirect(f"/c/{session.memberships[0].compound_id}")


async def favicon(request: web.Request) -> web.StreamResponse:
    """Browsers and feed readers that ask the old address find the portal's icon."""
    raise web.HTTPMovedPermanently("/static/icon.svg")


async def sign_in_page(request: web.Request) -> web.StreamResponse:
    return render(request, "sign_in.html", {"next": safe_next(request.query.get("next"))})


async def send_code(request: web.Request) -> web.StreamResponse:
    data = await form(request)
    phone = str(data.get("phone", "")).strip().replace(" ", "")
    target = safe_next(str(data.get("next", "")))
    context = {"next": target, "form": {"phone": phone}}
    if not PHONE.match(phone):
        return render(request, "sign_in.html", {**context, "errors": {
            "phone": "请输入 11 位手机号码, 例如 13900000000"}}, status=422)
    app, cfg, where = request.app, request.app[CONFIG], address(request)
    try:
        await service.check_code_limits(app[POOL], cfg, phone=phone, address=where)
        await _send_code(request, phone, where)
    except SignInError as exc:
        return render(request, "sign_in.html", {**context, "errors": {exc.field: exc.detail}},
                      status=429)
    return render(request, "sign_in_code.html", {**context, "minutes": cfg.code_minutes})


async def _send_code(request: web.Request, phone: str, where: str) -> None:
    app, cfg = request.app, request.app[CONFIG]
    try:
        who = await app_api(request, "directory").get(f"/v1/identities?phone={phone}", kind=Identity)
    except ApiError as exc:
        if exc.status != 404:
            raise SignInError("phone", exc.detail) from None
        # an unregistered phone gets the same answer as a registered one (no enumeration)
        await service.unknown_phone(app[POOL], phone=phone, address=where)
        return
    code = await service.new_code(app[POOL], cfg, app[SETTINGS].jwt_secret, phone=phone,
                                  person_id=who.person_id, address=where)
    try:
        await app_api(request, "notify").post(
            f"/v1/people/{who.person_id}/messages",
            {"kind": "sign_in_code", "phone": phone,
             "values": {"code": code.code, "minutes": str(cfg.code_minutes)}})
    except ApiError as exc:
        raise SignInError("phone", f"验证码发送失败: {exc.detail}") from None


async def check_code(request: web.Request) -> web.StreamResponse:
    data = await form(request)
    phone, code = str(data.get("phone", "")), str(data.get("code", "")).strip()
    target = safe_next(str(data.get("next", "")))
    context = {"next": target, "form": {"phone": phone}, "minutes": request.app[CONFIG].code_minutes}
    try:
        if not PHONE.match(phone) or not re.fullmatch(r"\d{6}", code):
            raise SignInError("code", "请输入短信或站内通知中的 6 位数字验证码")
        person_id = await service.verify_code(
            request.app[POOL], request.app[CONFIG], request.app[SETTINGS].jwt_secret, phone=phone,
            code=code, address=address(request))
    except SignInError as exc:
        return render(request, "sign_in_code.html", {**context, "errors": {exc.field: exc.detail}},
                      status=422)
    return await _start_session(request, person_id, target)


async def _start_session(request: web.Request, person_id: object, target: str) -> web.StreamResponse:
    who = await app_api(request, "directory").get(f"/v1/identities/{person_id}", kind=Identity)
    cfg = request.app[CONFIG]
    token, _session = await service.open_session(request.app[POOL], cfg, who)
    response = redirect(target)
    set_cookie(response, request, COOKIE, token, max_age=cfg.session_minutes * 60)
    raise response


async def dev_sign_in_page(request: web.Request) -> web.StreamResponse:
    if not request.app[CONFIG].dev_login:
        raise web.HTTPNotFound()
    directory = app_api(request, "directory")
    cursor = request.query.get("cursor", "")
    page = await directory.get("/v1/compounds?limit=8" + (f"&cursor={quote(cursor)}" if cursor else ""))
    compounds = page["items"]
    people = await asyncio.gather(*(_demo_people(directory, c["id"]) for c in compounds))
    groups = [{"compound": c, "people": p} for c, p in zip(compounds, people, strict=True) if p]
    return render(request, "dev_sign_in.html", {"groups": groups, "more": page["next_cursor"],
                                                "next": safe_next(request.query.get("next"))})


async def _demo_people(directory: Any, compound_id: str) -> list[dict[str, str]]:
    roster = await directory.get_all(f"/v1/compounds/{compound_id}/roster")
    people = [{"id": r["person_id"], "role": f"{entry['organisation']['name']} · {r['title']}"}
              for entry in roster for r in entry["roles"][:1]]
    units = (await directory.get(f"/v1/compounds/{compound_id}/units?limit=8"))["items"]
    owners = [u["owner_ids"][0] for u in units if u["owner_ids"]][:4]
    people += [{"id": o, "role": "业主"} for o in owners]
    names = await asyncio.gather(*(directory.get(f"/v1/identities/{p['id']}") for p in people))
    for p, who in zip(people, names, strict=True):
        p["name"] = who["name"]
        units_of = [u["label"] for m in who["memberships"] if m["compound_id"] == compound_id
                    for u in m["units"]]
        if p["role"] == "业主" and units_of:
            p["role"] = f"业主 · {units_of[0]}"
    return people


async def dev_sign_in(request: web.Request) -> web.StreamResponse:
    if not request.app[CONFIG].dev_login:
        raise web.HTTPNotFound()
    data = await form(request)
    return await _start_session(request, data.get("person_id", ""), safe_next(str(data.get("next", ""))))


async def sign_out(request: web.Request) -> web.StreamResponse:
    token = request.cookies.get(COOKIE)
    if token:
        await service.close_session(request.app[POOL], token)
    response = redirect("/sign-in?done=signed-out")
    response.del_cookie(COOKIE, path="/")
    raise response


# ---------------------------------------------------------------- home


async def home(request: web.Request) -> web.StreamResponse:
    c = compound_of(request)
    cid = str(c.compound_id)
    meetings, notify, issues = (api(request, s, cid) for s in ("meetings", "notify", "issues"))
    notices, consulting, voting, mine, unread, sessions, centre = await asyncio.gather(
        soft(notify.get(f"/v1/compounds/{cid}/notices?limit=5")),
        soft(meetings.get(f"/v1/compounds/{cid}/proposals?status=consultation&limit=10")),
        soft(open_votes(meetings, cid)),
        soft(issues.get(f"/v1/compounds/{cid}/issues?mine=true&limit=5")),
        soft(notify.get("/v1/me/inbox?unread=true&limit=5")),
        soft(meetings.get_all(f"/v1/compounds/{cid}/meetings")),
        soft(api(request, "centre", cid).get(f"/v1/compounds/{cid}/activities?limit=50")))
    now = dt.datetime.now(dt.UTC).isoformat()
    upcoming = [m for m in sessions or [] if m["starts_at"] >= now and m["status"] != "cancelled"]
    return render(request, "home.html", {
        "compound": c, "notices": notices, "consulting": consulting, "votes": voting,
        "mine": mine, "unread": unread, "upcoming": upcoming[:3],
        "activities": None if centre is None else soon(centre)[:3]})


def soon(page: Any) -> list[dict[str, Any]]:
    """The centre's open activities not yet started, soonest first (none where no centre runs)."""
    now = dt.datetime.now(dt.UTC)
    found = [a for a in page["items"] if a["status"] == "open"
             and dt.datetime.fromisoformat(a["starts_at"]) > now]
    return sorted(found, key=lambda a: dt.datetime.fromisoformat(a["starts_at"]))


async def open_votes(meetings: Any, cid: str) -> list[dict[str, Any]]:
    """Open votes of the compound with their proposal."""
    proposals = (await meetings.get(f"/v1/compounds/{cid}/proposals?status=voting&limit=20"))["items"]
    lists = await asyncio.gather(*(
        meetings.get_all(f"/v1/compounds/{cid}/proposals/{p['id']}/votes") for p in proposals))
    return [{**v, "proposal": p} for p, votes in zip(proposals, lists, strict=True)
            for v in votes if v["status"] == "open"]


# ---------------------------------------------------------------- inbox and preferences


async def inbox(request: web.Request) -> web.StreamResponse:
    notify = api(request, "notify")
    cursor = request.query.get("cursor", "")
    page = await notify.get("/v1/me/inbox?limit=20" + (f"&cursor={cursor}" if cursor else ""))
    return render(request, "inbox.html", {"page": page})


async def read_one(request: web.Request) -> web.StreamResponse:
    await api(request, "notify").post(f"/v1/me/inbox/{request.match_info['notification_id']}/read", None)
    raise redirect("/inbox")


async def read_all(request: web.Request) -> web.StreamResponse:
    await api(request, "notify").post("/v1/me/inbox/read-all", None)
    raise redirect("/inbox?done=read")



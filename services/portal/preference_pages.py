"""通知设置: the person's webhook and quiet hours, their email and SMS channels (each with the
kinds of notification it takes and, for email, a daily digest), and where each kind goes.

Every form sends the kinds it shows: notify's PUT replaces them, so a form that left them out
would quietly widen a channel back to every kind."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from services.portal.web import ApiError, api, read_form, redirect, render

CHANNELS = {"email": "邮件", "sms": "短信"}
REACH = {"off": "—", "immediate": "即时", "outside_quiet_hours": "免打扰后", "digest": "每日摘要"}


async def preferences(request: web.Request) -> web.StreamResponse:
    return await _page(request)


async def save_preferences(request: web.Request) -> web.StreamResponse:
    data = await read_form(request)
    body: dict[str, Any] = {"webhook_url": _text(data, "webhook_url") or None,
                            "kinds": _kinds(data, "webhook_kinds"),
                            "quiet_start": _text(data, "quiet_start") or None,
                            "quiet_end": _text(data, "quiet_end") or None}
    if secret := _text(data, "webhook_secret"):
        body["webhook_secret"] = secret
    try:
        await api(request, "notify").put("/v1/me/preferences", body)
    except ApiError as exc:
        errors = {("webhook_kinds" if k == "kinds" else k): v for k, v in exc.fields.items()}
        return await _page(request, typed={**body, "webhook_kinds": body["kinds"]},
                           errors=errors or {"webhook_url": exc.detail}, status=422)
    raise redirect("/preferences?done=saved")


async def save_channel(request: web.Request) -> web.StreamResponse:
    channel = request.match_info["channel"]
    data = await read_form(request)
    digest = _text(data, f"{channel}_digest")
    # blank: at once; what the select does not offer ("²", "-1", "早上", 5,000 nines) is sent
    # as -1, which notify refuses in its words (int() raised on "²", which isdigit() passes)
    hour = (int(digest) if re.fullmatch(r"[0-9]{1,2}", digest) else -1) if digest else None
    body = {"address": _text(data, f"{channel}_address"), "kinds": _kinds(data, f"{channel}_kinds"),
            "digest_hour": hour}
    try:
        await api(request, "notify").put(f"/v1/me/channels/{channel}", body)
    except ApiError as exc:
        # the form's fields: email_address, email_kinds, email_digest (notify's digest_hour)
        errors = {f"{channel}_{'digest' if k == 'digest_hour' else k}": v
                  for k, v in exc.fields.items()}
        typed = {f"{channel}_address": body["address"], f"{channel}_kinds": body["kinds"],
                 f"{channel}_digest": digest}
        return await _page(request, typed=typed, status=422,
                           errors=errors or {f"{channel}_address": exc.detail})
    raise redirect(f"/preferences?done={channel}-saved#{channel}")


async def close_channel(request: web.Request) -> web.StreamResponse:
    channel = request.match_info["channel"]
    await api(request, "notify").request("DELETE", f"/v1/me/channels/{channel}")
    raise redirect(f"/preferences?done={channel}-closed#{channel}")


async def _page(request: web.Request, *, typed: dict[str, Any] | None = None,
                errors: dict[str, str] | None = None, status: int = 200) -> web.Response:
    """The page as notify has it, with what a refused form sent in place of its own part."""
    notify = api(request, "notify")
    prefs, channels, matrix = await asyncio.gather(
        notify.get("/v1/me/preferences"), notify.get("/v1/me/channels"),
        notify.get("/v1/me/notification-matrix"))
    mine = {c["channel"]: c for c in channels["items"]}
    shown: dict[str, Any] = {**prefs, "webhook_kinds": prefs["kinds"]}
    for name, c in mine.items():
        shown |= {f"{name}_address": c["address"], f"{name}_kinds": c["kinds"],
                  f"{name}_digest": "" if c["digest_hour"] is None else str(c["digest_hour"])}
    return render(request, "preferences.html", {
        "prefs": prefs, "channels": mine, "names": CHANNELS, "reach": REACH,
        "kinds": matrix["kinds"], "digest_hours": matrix["digest_hours"],
        "form": shown | (typed or {}), "errors": errors or {}}, status=status)


def _text(data: MultiDictProxy[Any], name: str) -> str:
    value = data.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _kinds(data: MultiDictProxy[Any], name: str) -> list[str]:
    return [v for v in data.getall(name, []) if isinstance(v, str)]

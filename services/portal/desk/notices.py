"""Notices and templates at the desk: post a notice to the compound's board, the board itself,
the notification templates with the placeholders each kind allows (editors may change or reset
them), and the delivery log of webhook pushes."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from services.portal.desk.common import act, desk_of, has, show
from services.portal.handlers import soft
from services.portal.web import api, form

EDITORS = ("party_branch", "community", "street_office")
DELIVERY = {"pending": "待发送", "sent": "已送达", "failed": "失败"}
# kinds of deliveries that have no template of their own (services/notify/digests.py)
KINDS = {"digest": "每日摘要"}
CHANNELS = {"webhook": "推送地址 (webhook)", "email": "邮件", "sms": "短信", "wecom": "企业微信",
            "dingtalk": "钉钉", "feishu": "飞书"}


async def notices(request: web.Request) -> web.StreamResponse:
    m = desk_of(request)
    cid = str(m.compound_id)
    notify = api(request, "notify", cid)
    base = f"/v1/compounds/{cid}"
    board_cursor = request.query.get("board", "")
    log = {k: request.query[k] for k in ("status", "cursor") if request.query.get(k)}
    board, templates, deliveries = await asyncio.gather(
        notify.get(f"{base}/notices?" + urlencode({"limit": "10"} | (
            {"cursor": board_cursor} if board_cursor else {}))),
        soft(notify.get_all(f"{base}/notification-templates")),
        soft(notify.get(f"{base}/deliveries?" + urlencode({**log, "limit": "20"}))))
    return show(request, "desk/notices.html", {
        "board": board, "templates": templates or [], "deliveries": deliveries,
        "delivery_words": DELIVERY, "chosen": log.get("status", ""), "channels": CHANNELS,
        "kinds": kind_labels(templates or []),
        "edits": has(m, *EDITORS), "editing": request.query.get("edit", ""),
        "more_board": urlencode({"board": board["next_cursor"]}) if board.get("next_cursor") else "",
        "more_log": urlencode({**log, "cursor": deliveries["next_cursor"]})
        if deliveries and deliveries.get("next_cursor") else ""})


def kind_labels(templates: list[dict[str, Any]]) -> dict[str, str]:
    """What each kind of push is called in the log: its template's label, or ours for the
    kinds without a template (a daily digest)."""
    return KINDS | {t["kind"]: t["label"] for t in templates}


async def post(request: web.Request) -> web.StreamResponse:
    m = desk_of(request)
    cid = str(m.compound_id)
    data = await form(request)
    call = api(request, "notify", cid).post(f"/v1/compounds/{cid}/notices", {
        "title": str(data.get("title", "")).strip(), "body": str(data.get("body", "")).strip()})
    return await act(request, "post", call, f"/desk/c/{cid}/notices", notices, "post")


async def template_action(request: web.Request) -> web.StreamResponse:
    """save / reset one kind's template: one call to notify; its 422 names the bad placeholder."""
    m = desk_of(request)
    cid, kind, action = str(m.compound_id), request.match_info["kind"], request.match_info["action"]
    notify = api(request, "notify", cid)
    path = f"/v1/compounds/{cid}/notification-templates/{kind}"
    if action == "save":
        data = await form(request)
        call = notify.put(path, {"title": str(data.get("title", "")), "body": str(data.get("body", ""))})
    else:
        call = notify.request("DELETE", path)
    return await act(request, f"{action}:{kind}", call, f"/desk/c/{cid}/notices", notices,
                     f"template_{action}")

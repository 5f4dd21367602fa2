"""The volunteer menu (按需点单): browse, order, follow my orders, rate a service."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from services.portal.handlers import compound_of
from services.portal.web import ApiError, api, form, redirect, render

SHANGHAI = ZoneInfo("Asia/Shanghai")
ACTIONS = {"placed": "下单", "accept": "志愿者接单", "assign": "社区派单", "decline": "志愿者退单",
           "start": "开始服务", "complete": "完成服务", "rate": "评价", "cancel": "取消",
           "expired": "无人接单, 自动取消"}


async def menu(request: web.Request) -> web.StreamResponse:
    c = compound_of(request)
    cid = str(c.compound_id)
    client = api(request, "volunteers", cid)
    page, skills = await asyncio.gather(
        client.get(f"/v1/compounds/{cid}/service-menu?limit=100"),
        client.get_all(f"/v1/compounds/{cid}/volunteer-skills"))
    names = {s["code"]: s["name"] for s in skills}
    return render(request, "menu.html", {"compound": c, "items": page["items"], "skills": names})


async def order_page(request: web.Request, errors: dict[str, str] | None = None,
                     shown: dict[str, Any] | None = None, status: int = 200) -> web.StreamResponse:
    c = compound_of(request)
    cid = str(c.compound_id)
    item = await api(request, "volunteers", cid).get(
        f"/v1/compounds/{cid}/service-menu/{request.match_info['item_id']}")
    tomorrow = (dt.datetime.now(SHANGHAI) + dt.timedelta(days=1)).replace(
        hour=9, minute=0, second=0, microsecond=0)
    defaults = {"day": tomorrow.date().isoformat(), "start": "09:00", "end": "11:00",
                "unit_id": str(c.units[0].id) if c.units else ""}
    return render(request, "order_new.html", {
        "compound": c, "item": item, "form": shown or defaults, "errors": errors or {}},
        status=status)


def _window(data: dict[str, Any]) -> tuple[str, str] | None:
    try:
        day = dt.date.fromisoformat(str(data.get("day", "")))
        start = dt.time.fromisoformat(str(data.get("start", "")))
        end = dt.time.fromisoformat(str(data.get("end", "")))
    except ValueError:
        return None
    return (dt.datetime.combine(day, start, SHANGHAI).isoformat(),
            dt.datetime.combine(day, end, SHANGHAI).isoformat())


async def place_order(request: web.Request) -> web.StreamResponse:
    c = compound_of(request)
    cid = str(c.compound_id)
    data = {k: v for k, v in (await form(request)).items() if isinstance(v, str)}
    window = _window(data)
    if window is None:
        return await order_page(request, {"day": "请选择日期和开始、结束时间"}, data, status=422)
    if data.get("unit_id") not in {str(u.id) for u in c.units}:
        return await order_page(request, {"unit_id": "请选择服务地点 (我的房屋)"}, data, status=422)
    body = {"item_id": request.match_info["item_id"], "unit_id": data["unit_id"],
            "window_start": window[0], "window_end": window[1],
            "note": data.get("note", "").strip()}
    try:
        order = await api(request, "volunteers", cid).post(f"/v1/compounds/{cid}/volunteer-orders", body)
    except ApiError as exc:
        if exc.status == 404:
            raise
        field = next(iter(exc.fields), "day")
        field = "day" if field.startswith("window") else field
        return await order_page(request, {field: exc.detail}, data, status=422)
    raise redirect(f"/c/{cid}/orders/{order['id']}?done=ordered")


async def my_orders(request: web.Request) -> web.StreamResponse:
    c = compound_of(request)
    cid = str(c.compound_id)
    page = await api(request, "volunteers", cid).get(f"/v1/compounds/{cid}/volunteer-orders?limit=50")
    return render(request, "orders.html", {"compound": c, "orders": page["items"]})


async def order_detail(request: web.Request, errors: dict[str, str] | None = None,
                       status: int = 200) -> web.StreamResponse:
    c = compound_of(request)
    cid, oid = str(c.compound_id), request.match_info["order_id"]
    client = api(request, "volunteers", cid)
    order, history = await asyncio.gather(
        client.get(f"/v1/compounds/{cid}/volunteer-orders/{oid}"),
        client.get_all(f"/v1/compounds/{cid}/volunteer-orders/{oid}/history"))
    item = await client.get(f"/v1/compounds/{cid}/service-menu/{order['item_id']}")
    units = {str(u.id): u.label for u in c.units}
    return render(request, "order.html", {
        "compound": c, "order": order, "history": history, "item": item, "actions": ACTIONS,
        "unit": units.get(str(order["unit_id"]), ""), "errors": errors or {}}, status=status)


async def order_action(request: web.Request) -> web.StreamResponse:
    """Rate a completed service, or cancel before it starts."""
    c = compound_of(request)
    cid, oid = str(c.compound_id), request.match_info["order_id"]
    action = request.match_info["action"]
    data = await form(request)
    if action == "rate":
        score = str(data.get("score", ""))
        body: dict[str, Any] = {"score": int(score) if score.isdigit() else 0,
                                "comment": str(data.get("comment", "")).strip()}
    else:
        body = {"reason": str(data.get("reason", "")).strip()}
    try:
        await api(request, "volunteers", cid).post(
            f"/v1/compounds/{cid}/volunteer-orders/{oid}/{action}", body)
    except ApiError as exc:
        if exc.status == 404:
            raise
        return await order_detail(request, {action: exc.detail}, status=422)
    raise redirect(f"/c/{cid}/orders/{oid}?done={action}")

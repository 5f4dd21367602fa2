"""Volunteer service at the desk: the menu, orders (open ones to accept, mine to start and
complete; the community assigns), care plans and the missed visits to follow up, and the service
ledger with its hours and CSV export. Volunteers see what the service shows volunteers."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from services.portal.desk.common import act, desk_of, has, show
from services.portal.desk.forms import number
from services.portal.handlers import soft
from services.portal.web import api, form

ORDER_STATUSES = {"ordered": "待接单", "accepted": "已接单", "in_service": "服务中",
                  "completed": "已完成", "rated": "已评价", "cancelled": "已取消"}
STAFF = ("community", "party_branch")


async def volunteers(request: web.Request) -> web.StreamResponse:
    m = desk_of(request)
    cid = str(m.compound_id)
    client = api(request, "volunteers", cid)
    base = f"/v1/compounds/{cid}"
    chosen = {k: request.query[k] for k in ("status", "cursor") if request.query.get(k)}
    staff = has(m, *STAFF)
    menu, orders, plans, flags, stats, people = await asyncio.gather(
        soft(client.get(f"{base}/service-menu?limit=50")),
        client.get(f"{base}/volunteer-orders?" + urlencode({**chosen, "limit": "25"})),
        soft(client.get_all(f"{base}/care-plans")),
        soft(client.get_all(f"{base}/care-flags")) if staff else asyncio.sleep(0, None),
        soft(client.get(f"{base}/service-ledger/stats")),
        soft(client.get(f"{base}/volunteers?status=verified&limit=100")) if staff
        else asyncio.sleep(0, None))
    more = urlencode({**chosen, "cursor": orders["next_cursor"]}) if orders.get("next_cursor") else ""
    return show(request, "desk/volunteers.html", {
        "menu": (menu or {}).get("items", []), "orders": orders["items"], "more": more,
        "plans": plans or [],
        "flags": flags or [], "stats": stats, "statuses": ORDER_STATUSES,
        "chosen": chosen.get("status", ""), "staff": staff, "volunteer": has(m, "volunteer"),
        "team": (people or {}).get("items", []),
        "items": {i["id"]: i["title"] for i in (menu or {}).get("items", [])},
        "names": {v["id"]: v["name"] for v in (people or {}).get("items", [])}})


def _order_body(action: str, data: dict[str, Any]) -> dict[str, Any] | None:
    if action == "complete":
        return {"minutes": int(number(data.get("minutes"))), "notes": str(data.get("notes", "")).strip()}
    if action == "assign":
        return {"volunteer_id": str(data.get("volunteer_id", ""))}
    if action == "cancel":
        return {"reason": str(data.get("reason", "")).strip()}
    return None


async def order_action(request: web.Request) -> web.StreamResponse:
    """accept / start / complete / assign / cancel: one call to volunteers."""
    m = desk_of(request)
    cid, oid, action = str(m.compound_id), request.match_info["order_id"], request.match_info["action"]
    call = api(request, "volunteers", cid).post(
        f"/v1/compounds/{cid}/volunteer-orders/{oid}/{action}", _order_body(action, await form(request)))
    return await act(request, f"{action}:{oid}", call, f"/desk/c/{cid}/volunteers", volunteers, action)


async def acknowledge(request: web.Request) -> web.StreamResponse:
    m = desk_of(request)
    cid, vid = str(m.compound_id), request.match_info["visit_id"]
    call = api(request, "volunteers", cid).post(
        f"/v1/compounds/{cid}/care-visits/{vid}/acknowledge", None)
    return await act(request, f"acknowledge:{vid}", call, f"/desk/c/{cid}/volunteers", volunteers,
                     "acknowledge")


async def ledger_csv(request: web.Request) -> web.StreamResponse:
    """The service's CSV as it writes it (typed text made inert there), through the portal."""
    m = desk_of(request)
    cid = str(m.compound_id)
    raw, status = await api(request, "volunteers", cid).fetch(
        "GET", f"/v1/compounds/{cid}/service-ledger.csv")
    if status >= 400:
        raise web.HTTPForbidden(text="只有社区和党组织可以导出服务台账")
    return web.Response(body=raw, content_type="text/csv", charset="utf-8", headers={
        "Content-Disposition": 'attachment; filename="service-ledger.csv"', "Cache-Control": "no-store"})

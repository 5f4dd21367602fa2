"""Statistics of the compound, drawn as server-side SVG with the numbers as CSV: issues by
category and status, times to respond and resolve, satisfaction, participation in recent
consultations and votes, volunteer hours; and for the street office, its compounds side by side."""

from __future__ import annotations

import asyncio
import csv
import io
import os
from typing import Any

from aiohttp import web

from services.portal.desk.charts import bars
from services.portal.desk.common import PARTIES, desk_of, has, show
from services.portal.handlers import soft
from services.portal.issue_pages import STATUSES
from services.portal.web import Api, api, session_of

RECENT_VOTES = 10
OPS = {"LINLI_TEMPORAL_UI_URL": "Temporal 流程控制台", "LINLI_PROMETHEUS_URL": "Prometheus 指标",
       "LINLI_GRAFANA_URL": "Grafana 仪表盘"}


def ops_links() -> list[tuple[str, str]]:
    """The operations consoles this deployment configured (none by default)."""
    return [(label, os.environ[key]) for key, label in OPS.items()
            if os.environ.get(key, "").startswith(("http://", "https://"))]


async def _participation(meetings: Api, cid: str) -> list[dict[str, Any]]:
    """Recent votes with their turnout (headcount share of the roll)."""
    page = await meetings.get(f"/v1/compounds/{cid}/proposals?limit=20")
    lists = await asyncio.gather(*(
        soft(meetings.get_all(f"/v1/compounds/{cid}/proposals/{p['id']}/votes"))
        for p in page["items"]))
    votes = [(p, v) for p, vs in zip(page["items"], lists, strict=True) for v in vs or []
             if v["status"] != "cancelled"][:RECENT_VOTES]
    turnouts = await asyncio.gather(*(soft(meetings.get(f"/v1/compounds/{cid}/votes/{v['id']}/turnout"))
                                      for _, v in votes))
    return [{"title": p["title"], "version": v["version"], "ballots": t["ballots"],
             "heads": t["participating_headcount"], "total": t["total_headcount"],
             "pct": round(100 * t["participating_headcount"] / t["total_headcount"], 1)
             if t["total_headcount"] else 0.0}
            for (p, v), t in zip(votes, turnouts, strict=True) if t]


async def _opinions(meetings: Api, cid: str) -> list[tuple[str, float]]:
    """Opinions given in the consultations of recent proposals (every version together)."""
    page = await meetings.get(f"/v1/compounds/{cid}/proposals?limit=10")
    found = await asyncio.gather(*(soft(meetings.get(
        f"/v1/compounds/{cid}/proposals/{p['id']}/opinions/summary")) for p in page["items"]))
    return [(p["title"], float(sum(v["total"] for v in s["versions"])))
            for p, s in zip(page["items"], found, strict=True) if s and s["versions"]]


async def _centre_use(request: web.Request, cid: str) -> list[tuple[str, float]]:
    """Each venue's share of its open hours booked, last week (where a centre runs)."""
    found = await soft(api(request, "centre", cid).get(f"/v1/compounds/{cid}/centre-stats?weeks=1"))
    return [(v["venue"], float(v["use_percent"])) for v in (found or {}).get("venue_use", [])]


async def figures(request: web.Request, cid: str) -> dict[str, Any]:
    issues, meetings = api(request, "issues", cid), api(request, "meetings", cid)
    stats, categories, votes, service, opinions, centre = await asyncio.gather(
        soft(issues.get(f"/v1/compounds/{cid}/issue-stats")),
        soft(issues.get_all(f"/v1/compounds/{cid}/issue-categories")),
        soft(_participation(meetings, cid)),
        soft(api(request, "volunteers", cid).get(f"/v1/compounds/{cid}/service-ledger/stats")),
        soft(_opinions(meetings, cid)), _centre_use(request, cid))
    names = {c["code"]: c["name"] for c in categories or []}
    return {"issues": stats, "votes": votes or [], "service": service, "opinions": opinions or [],
            "centre": centre,
            "by_category": [(names.get(c["key"], c["key"]), c["count"])
                            for c in (stats or {}).get("by_category", [])],
            "by_status": [(STATUSES.get(c["key"], c["key"]), c["count"])
                          for c in (stats or {}).get("by_status", [])]}


async def stats(request: web.Request) -> web.StreamResponse:
    m = desk_of(request)
    cid = str(m.compound_id)
    f = await figures(request, cid)
    charts = {
        "category": bars("按类别的问题数", f["by_category"], " 件"),
        "status": bars("按状态的问题数", f["by_status"], " 件"),
        "votes": bars("近期表决的参与率", [(f"{v['title']} 第{v['version']}版", v["pct"])
                                   for v in f["votes"]], "%"),
        "hours": bars("志愿服务时长 (按技能)", [(s["name"], float(s["hours"])) for s in
                                         (f["service"] or {}).get("by_skill", [])], " 小时"),
        "opinions": bars("近期议案征求到的意见数", f["opinions"], " 条"),
        "centre": bars("上周场地使用率", f["centre"], "%")}
    return show(request, "desk/stats.html", {
        **f, "charts": charts, "parties": PARTIES,
        "across": await _across(request) if has(m, "street_office") else [],
        "ops": ops_links() if has(m, "street_office", "community") else []})


async def _across(request: web.Request) -> list[dict[str, Any]]:
    """The street office's compounds side by side (each asked with that compound's token)."""
    mine = [x for x in session_of(request).memberships if "street_office" in x.roles]
    found = await asyncio.gather(*(soft(api(request, "issues", str(x.compound_id)).get(
        f"/v1/compounds/{x.compound_id}/issue-stats")) for x in mine))
    return [{"name": x.compound_name, **s} for x, s in zip(mine, found, strict=True) if s]


def inert(text: str) -> str:
    """A typed title starting with = + - @ stays text in a spreadsheet, never a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


async def stats_csv(request: web.Request) -> web.StreamResponse:
    """The numbers behind every chart, one (section, item, value) row each."""
    m = desk_of(request)
    f = await figures(request, str(m.compound_id))
    s = f["issues"] or {}
    rows: list[tuple[str, str, Any]] = [
        *(("issues_by_category", k, v) for k, v in f["by_category"]),
        *(("issues_by_status", k, v) for k, v in f["by_status"]),
        *(("issues", key, "" if s.get(key) is None else s[key]) for key in (
            "total", "overdue", "escalated", "median_first_response_hours",
            "median_resolution_hours", "satisfaction_average")),
        *(("vote_participation_pct", f"{v['title']} v{v['version']}", v["pct"]) for v in f["votes"]),
        *(("volunteer_hours", x["name"], x["hours"]) for x in (f["service"] or {}).get("by_skill", [])),
        *(("consultation_opinions", k, v) for k, v in f["opinions"]),
        *(("venue_use_pct_last_week", k, v) for k, v in f["centre"])]
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["section", "item", "value"])
    w.writerows((a, inert(b), c) for a, b, c in rows)
    return web.Response(text="\ufeff" + out.getvalue(), content_type="text/csv", charset="utf-8", headers={
        "Content-Disposition": 'attachment; filename="stats.csv"', "Cache-Control": "no-store"})

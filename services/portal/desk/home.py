"""The desk's front page: what waits for this person in the compound, and the way to each area."""

from __future__ import annotations

from aiohttp import web

from services.portal.desk.common import desk_of, show
from services.portal.handlers import soft
from services.portal.web import api


async def home(request: web.Request) -> web.StreamResponse:
    m = desk_of(request)
    cid = str(m.compound_id)
    stats = await soft(api(request, "issues", cid).get(f"/v1/compounds/{cid}/issue-stats"))
    return show(request, "desk/home.html", {"stats": stats})

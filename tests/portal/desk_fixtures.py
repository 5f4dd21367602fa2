"""The desk in a real browser: staff of the demo compounds at 1280×800, every page checked like
the residents' pages and photographed into .screenshots/desk-*.png (not committed)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser, Dialog

from tests.e2e.conftest import Http
from tests.portal.conftest import SHOTS, Portal, Resident, Visitor


class Staff(Visitor):
    """A staff member's browser on a desk-sized screen; confirmations are accepted."""

    async def open(self, path: str, shot: str | None = None) -> Any:
        await self.page.goto(self.portal.url + path)
        await self.check(shot)
        return self.page

    async def check(self, shot: str | None = None) -> None:
        await super().check(None)
        if shot:
            SHOTS.mkdir(parents=True, exist_ok=True)
            await self.page.screenshot(path=str(SHOTS / f"desk-{shot}-1280.png"))


async def _accept(dialog: Dialog) -> None:
    await dialog.accept()


@pytest.fixture
async def staff_browsers(browser: Browser, portal: Portal) -> AsyncIterator[Any]:
    """staff_browsers() → a new browser at 1280×800 (own cookies), confirmations accepted."""
    made: list[Staff] = []

    async def new() -> Staff:
        context = await browser.new_context(viewport={"width": 1280, "height": 800},
                                            locale="zh-CN", timezone_id="Asia/Shanghai")
        page = await context.new_page()
        page.on("dialog", _accept)
        who = Staff(portal=portal, context=context, page=page)
        context.on("request", lambda r: who.requests.append(r.url))
        made.append(who)
        return who

    yield new
    for s in made:
        await s.context.close()
    for s in made:
        assert s.foreign_requests() == [], "the browser asked another host"


async def member_of(http: Http, compound_id: str, kind: str) -> Resident:
    """The first person holding a role in the compound's organisation of this kind (1+3+N roster)."""
    staff = http.platform.token(roles=["community"], compounds=["*"])
    roster = await http.get("directory", f"/v1/compounds/{compound_id}/roster", staff)
    for entry in roster:
        if entry["organisation"]["kind"] == kind and entry["roles"]:
            role = entry["roles"][0]
            return Resident(person_id=role["person_id"], name=role["person_name"], phone="",
                            unit_id="", compound_id=compound_id)
    raise AssertionError(f"no {kind} in the demo roster of {compound_id}")

"""The desk in a real browser: staff of the demo compounds at 1280×800, every page checked like
the residents' pages and photographed into .screenshots/desk-*-1280.png (not committed).

`staff_browsers` runs on the portal's platform (no workflows); `council` (tests/portal/conftest.py)
is a second platform with the workflow API and the worker too, for the desk pages that drive a
ProposalWorkflow."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from playwright.async_api import Browser, Dialog

from tests.e2e.conftest import Http
from tests.portal.conftest import SHOTS, Portal, Resident, Visitor


class Staff(Visitor):
    """A browser on a desk-sized screen; confirmations are accepted."""

    async def check(self, shot: str | None = None) -> None:
        await super().check(None)
        if shot:
            SHOTS.mkdir(parents=True, exist_ok=True)
            await self.page.screenshot(path=str(SHOTS / f"desk-{shot}-1280.png"))


async def _accept(dialog: Dialog) -> None:
    await dialog.accept()


@pytest.fixture
async def council_http(council: Portal) -> AsyncIterator[Http]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield Http(council.platform, session)


Browsers = Callable[[], Awaitable[Staff]]


async def _browsers(browser: Browser, portal: Portal) -> AsyncIterator[Browsers]:
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


@pytest.fixture
async def staff_browsers(browser: Browser, portal: Portal) -> AsyncIterator[Browsers]:
    """staff_browsers() → a new browser at 1280×800 on the portal's platform."""
    async for new in _browsers(browser, portal):
        yield new


@pytest.fixture
async def council_browsers(browser: Browser, council: Portal) -> AsyncIterator[Browsers]:
    """council_browsers() → a new browser at 1280×800 on the platform with workflows."""
    async for new in _browsers(browser, council):
        yield new


async def member_of(http: Http, compound_id: str, kind: str) -> Resident:
    """The first person holding a role in the compound's organisation of this kind (1+3+N)."""
    staff = http.platform.token(roles=["community"], compounds=["*"])
    roster = await http.get("directory", f"/v1/compounds/{compound_id}/roster", staff)
    for entry in roster["items"]:
        if entry["organisation"]["kind"] == kind and entry["roles"]:
            role = entry["roles"][0]
            return Resident(person_id=role["person_id"], name=role["person_name"], phone="",
                            unit_id="", compound_id=compound_id)
    raise AssertionError(f"no {kind} in the demo roster of {compound_id}")


async def reload_until(s: Visitor, what: str, text: str, within: float = 60) -> None:
    """Reload the page until `text` shows in its main part (a workflow moving on its own)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while text not in await s.page.inner_text("main"):
        assert loop.time() < deadline, f"{what}: «{text}» never showed on {s.page.url}"
        await asyncio.sleep(0.5)
        await s.page.reload()




async def submit(s: Visitor, button: str, ok: str) -> None:
    """Press a desk form's button: the page then says `ok`, or the test fails with the
    service's refusal shown in place."""
    page = s.page
    async with page.expect_navigation():
        await page.get_by_role("button", name=button, exact=True).click()
    alert = page.get_by_role("alert")
    if await alert.count():
        raise AssertionError(f"{button}: refused: {await alert.first.inner_text()}")
    assert page.url.endswith(f"?ok={ok}"), page.url

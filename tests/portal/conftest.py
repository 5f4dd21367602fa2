"""The portal in a real browser: Debian's chromium driven by Playwright (never `playwright
install`), against every service the pages call, each in its own process as `linli up` runs it,
on the demo compounds.

Every page a test opens is checked (lang, a label on every field, headings in order, no phone
number shown) and photographed at 390×844 and 1280×800 into .screenshots/ (not committed);
every request the browser makes must go to the portal.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from linli.cli import load_demo
from linli.config import Settings
from services.directory.demo import demo_id
from tests.e2e.conftest import Http, Platform, running, until

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / ".screenshots"  # not committed (.gitignore)
SERVICES = ("directory", "issues", "meetings", "volunteers", "notify", "portal")
PHONE = re.compile(r"(?<!\d)1\d{10}(?!\d)")
CHECKS = """() => {
  const problems = [];
  if (document.documentElement.lang !== "zh-CN") problems.push("html lang is not zh-CN");
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (["hidden", "submit", "button"].includes(el.type)) continue;
    const named = (el.labels && el.labels.length) || el.getAttribute("aria-label")
      || el.getAttribute("aria-labelledby");
    if (!named) problems.push("field without a label: " + (el.name || el.id || el.outerHTML));
  }
  let last = 0;
  for (const h of document.querySelectorAll("h1, h2, h3, h4, h5, h6")) {
    const level = Number(h.tagName[1]);
    if (level > last + 1) problems.push("heading skips a level: " + h.tagName + " " + h.textContent.trim());
    last = level;
  }
  if (document.querySelectorAll("h1").length !== 1) problems.push("not exactly one h1");
  return problems;
}"""


# every page reads the person's memberships again from the directory once a second old
# (signed_in.py; a minute by default): every test of the pages then also shows that a person
# who still belongs sees no change from the re-reads
REREAD = {"LINLI_PORTAL_MEMBERSHIPS_FRESH_SECONDS": "1"}


@dataclass
class Portal:
    platform: Platform
    url: str
    db: str

    def token(self, **kw: Any) -> str:
        return self.platform.token(**kw)


# package scope: the processes stop once the portal's tests are done, so their notify (its
# consumers and webhook sender) does not linger beside the test modules that run after them
@pytest.fixture(scope="package")
def portal(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    asyncio.run(load_demo(settings.database_url))
    data = tmp_path_factory.mktemp("portal")
    # the tests' requests come from 127.0.0.1, here a trusted proxy (X-Forwarded-Proto); a
    # person's webhook may be a receiver the test runs on this machine (test_desk_board.py)
    extra = {"LINLI_PORTAL_DEV_LOGIN": "1", "LINLI_ENV": "test",
             "LINLI_PORTAL_MEDIA_DIR": str(data / "media"), "LINLI_TRUSTED_PROXIES": "127.0.0.1",
             "LINLI_NOTIFY_ALLOW_INTERNAL_WEBHOOKS": "1", **REREAD}
    with running(settings, data, SERVICES, worker=False, extra_env=extra) as platform:
        # photo links the issues service keeps point at this portal
        yield Portal(platform=platform, url=platform.urls["portal"], db=settings.database_url)


EVERYTHING = ("directory", "issues", "meetings", "volunteers", "notify", "centre", "workflows",
              "portal")


# One for the package, defined here rather than imported into each test module: an imported
# fixture is a fixture per module, and a session-scoped one kept every module's platform (its
# worker, relays and sweeps) running through the test directories after this one.
@pytest.fixture(scope="package")
def council(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """Every service, the workflow API and the worker, on the demo compounds."""
    asyncio.run(load_demo(settings.database_url))
    data = tmp_path_factory.mktemp("council")
    # its notify shares the deliveries table with the portal platform's, and either sender may
    # claim a delivery: both must reach a test's receiver on this machine (test_desk_board.py),
    # or one refuses it as an internal address, failing it unsent, whenever it claims first
    extra = {"LINLI_PORTAL_DEV_LOGIN": "1", "LINLI_ENV": "test",
             "LINLI_PORTAL_MEDIA_DIR": str(data / "media"),
             "LINLI_NOTIFY_ALLOW_INTERNAL_WEBHOOKS": "1", **REREAD}
    with running(settings, data, EVERYTHING, worker=True, extra_env=extra) as platform:
        yield Portal(platform=platform, url=platform.urls["portal"], db=settings.database_url)


@pytest.fixture
async def http(portal: Portal) -> AsyncIterator[Http]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield Http(portal.platform, session)


@pytest.fixture(scope="package")
async def browser() -> AsyncIterator[Browser]:
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is needed: apt-get install -y chromium fonts-noto-cjk"
    async with async_playwright() as p:
        found = await p.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync", "--lang=zh-CN"])
        yield found
        await found.close()


@dataclass
class Visitor:
    """One person's browser: every page opened is checked and photographed."""

    portal: Portal
    context: BrowserContext
    page: Page
    requests: list[str] = field(default_factory=list)

    async def open(self, path: str, shot: str | None = None) -> Page:
        await self.page.goto(self.portal.url + path)
        await self.check(shot)
        return self.page

    async def check(self, shot: str | None = None) -> None:
        """The page as it is now: accessible, no phone number, photographed if named."""
        await self.page.wait_for_load_state("load")
        problems = await self.page.evaluate(CHECKS)
        assert problems == [], f"{self.page.url}: {problems}"
        text = await self.page.inner_text("body")
        assert not PHONE.search(text), f"{self.page.url} shows a phone number"
        if shot:
            await screenshot(self.page, shot)

    def foreign_requests(self) -> list[str]:
        return [u for u in self.requests if not u.startswith(self.portal.url)
                and not u.startswith("data:")]


async def screenshot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}-390.png"), full_page=True)
    await page.set_viewport_size({"width": 1280, "height": 800})
    await page.screenshot(path=str(SHOTS / f"{name}-1280.png"))
    await page.set_viewport_size({"width": 390, "height": 844})


@contextlib.asynccontextmanager
async def phone_browsers(browser: Browser, portal: Portal) -> AsyncIterator[Any]:
    """new() → a new person's phone-sized browser (own cookies) on `portal`; on leaving, every
    one is closed and checked for requests to any other host."""
    made: list[Visitor] = []

    async def new() -> Visitor:
        context = await browser.new_context(viewport={"width": 390, "height": 844},
                                            locale="zh-CN", timezone_id="Asia/Shanghai")
        page = await context.new_page()
        visitor = Visitor(portal=portal, context=context, page=page)
        context.on("request", lambda r: visitor.requests.append(r.url))
        made.append(visitor)
        return visitor

    yield new
    for v in made:
        await v.context.close()
    for v in made:
        assert v.foreign_requests() == [], "the browser asked another host"


@pytest.fixture
async def visitors(browser: Browser, portal: Portal) -> AsyncIterator[Any]:
    """visitors() → a new person's browser (own cookies); every one checked for foreign hosts."""
    async with phone_browsers(browser, portal) as new:
        yield new


# ---------------------------------------------------------------- the demo people


@dataclass
class Resident:
    person_id: str
    name: str
    phone: str
    unit_id: str
    compound_id: str


async def demo_compound(http: Http, name: str = "阳光花园城") -> str:
    """A demo compound's id (ids of demo rows derive from their names)."""
    return str(demo_id("compound", name))


async def owners(http: Http, compound_id: str, count: int, skip: int = 0) -> list[Resident]:
    """Owners who own one unit alone, from the demo roll (phones only staff may read)."""
    staff = http.platform.token(roles=["community"], compounds=["*"])
    units = (await http.get("directory", f"/v1/compounds/{compound_id}/units?limit=100",
                            staff))["items"]
    found: list[Resident] = []
    seen: set[str] = set()
    for unit in units:
        if len(unit["owner_ids"]) != 1 or unit["owner_ids"][0] in seen:
            continue
        pid = unit["owner_ids"][0]
        seen.add(pid)
        person = await http.get("directory", f"/v1/people/{pid}", staff)
        found.append(Resident(person_id=pid, name=person["name"], phone=person["phone"],
                              unit_id=unit["id"], compound_id=compound_id))
    return found[skip:skip + count]


async def code_from_inbox(http: Http, who: Resident) -> str:
    """The newest sign-in code in the person's inbox (where it goes without an SMS provider)."""
    token = http.platform.token(roles=["resident"], compounds=[who.compound_id], person=who.person_id)

    async def probe() -> str | None:
        inbox = await http.get("notify", "/v1/me/inbox?unread=true", token)
        codes = [re.search(r"\d{6}", n["title"]) for n in inbox["items"] if n["kind"] == "sign_in_code"]
        return codes[0].group(0) if codes and codes[0] else None

    return await until("a sign-in code in the inbox", probe, within=10)


async def dev_sign_in(visitor: Visitor, who: Resident, then: str = "") -> None:
    """The development sign-in (LINLI_PORTAL_DEV_LOGIN=1) as any demo person: the form the
    page shows for each person, posted for this one (the page lists only a few per compound)."""
    page, url = visitor.page, visitor.portal.url
    await page.goto(url + "/sign-in")
    csrf = await page.locator('input[name="csrf"]').first.get_attribute("value")
    answer = await page.request.post(url + "/dev/sign-in", form={
        "csrf": csrf or "", "person_id": who.person_id, "next": then or "/"})
    assert answer.ok, await answer.text()
    await page.goto(answer.url)


def unique(text: str) -> str:
    return f"{text} {uuid.uuid4().hex[:4]}"

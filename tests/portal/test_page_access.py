"""The portal's pages state who may open them in their table (PAGES), like every route table,
and the portal holds to it: a caller outside a page's access gets that page's refusal before
its handler runs (sign in first, or a page that does not exist).

No other service runs here: a handler that did run would have to call one, and answer 502."""

from __future__ import annotations

import re
import uuid

from aiohttp.test_utils import TestClient

from linli.http import POOL
from services.portal import service
from services.portal.app import create_app
from services.portal.models import Identity, Membership, PortalConfig
from services.portal.routes import PAGES
from services.portal.web import COOKIE, PRE_CSRF, Page
from tests.conftest import AppFactory

TEXT_PARAMS = {"kind": "x", "key": "x.jpg", "signature": "x"}


def _path(page: Page, compound_id: uuid.UUID) -> str:
    """The page's path with every parameter filled (a choice by its first alternative)."""

    def fill(m: re.Match[str]) -> str:
        name, _, choices = m.group(1).partition(":")
        if choices:
            return choices.split("|")[0]
        if name == "compound_id":
            return str(compound_id)
        return TEXT_PARAMS.get(name, str(uuid.uuid4()))

    return re.sub(r"{([^{}]+)}", fill, page.path)


def test_every_page_states_its_access_and_the_paths_agree() -> None:
    for page in PAGES:
        where = f"{page.method} {page.path}"
        assert page.access in ("public", "dev", "person", "member", "desk"), where
        if page.path.startswith("/desk/"):
            assert page.access == "desk", where
        elif page.path.startswith(("/c/", "/live/c/")):
            assert page.access == "member", where
        elif page.access in ("member", "desk"):
            raise AssertionError(f"{where}: a compound's page lives under /c/ or /desk/c/")
        if page.access in ("member", "desk"):
            assert "{compound_id}" in page.path, where


async def _session(client: TestClient, memberships: list[Membership]) -> tuple[str, str]:
    """A signed-in person's cookie value and CSRF token."""
    person = Identity(person_id=uuid.uuid4(), name="测试居民", memberships=memberships)
    cookie, session = await service.open_session(client.server.app[POOL], PortalConfig(), person)
    return cookie, session.csrf


async def _open(client: TestClient, page: Page, path: str, cookie: str | None,
                csrf: str) -> tuple[int, str]:
    """Open the page as that caller: the status and where a redirect goes."""
    cookies = f"{COOKIE}={cookie}" if cookie else f"{PRE_CSRF}={csrf}"
    r = await client.request(page.method, path, allow_redirects=False,
                             headers={"Cookie": cookies, "X-CSRF-Token": csrf})
    await r.read()
    return r.status, r.headers.get("Location", "")


async def test_a_caller_outside_a_pages_access_gets_its_refusal(serve: AppFactory) -> None:
    client: TestClient = await serve(lambda s: create_app(s, config=PortalConfig(dev_login=False)))
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    home = Membership(compound_id=mine, compound_name="阳光花园", roles=["resident"], units=[])
    resident, csrf = await _session(client, [home])
    for page in PAGES:
        where = f"{page.method} {page.path}"
        if page.access == "public":
            continue
        if page.access == "dev":  # the development sign-in is off: there is no such page
            assert (await _open(client, page, _path(page, mine), None, "pre"))[0] == 404, where
            continue
        status, location = await _open(client, page, _path(page, mine), None, "pre")
        assert status == 303 and location.startswith("/sign-in?next="), where
        if page.access == "member":  # a resident of another compound: not found
            status, _ = await _open(client, page, _path(page, theirs), resident, csrf)
            assert status == 404, where
        if page.access == "desk":  # a resident of this very compound finds no desk
            status, _ = await _open(client, page, _path(page, mine), resident, csrf)
            assert status == 404, where

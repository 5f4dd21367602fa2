"""Every page names the portal's icon, and a browser or feed reader asking the old address
/favicon.ico is sent to it (before, each first visit logged a 404 in the browser)."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from services.portal.app import create_app
from services.portal.models import PortalConfig
from tests.conftest import AppFactory


async def test_pages_name_the_icon_and_the_old_address_leads_to_it(serve: AppFactory) -> None:
    client: TestClient = await serve(lambda s: create_app(s, config=PortalConfig(dev_login=False)))
    page = await client.get("/sign-in")
    assert page.status == 200
    assert '<link rel="icon" href="/static/icon.svg" type="image/svg+xml">' in await page.text()

    old = await client.get("/favicon.ico", allow_redirects=False)
    assert old.status == 301 and old.headers["Location"] == "/static/icon.svg"

    icon = await client.get("/favicon.ico")  # followed, as a browser does
    assert icon.status == 200 and icon.content_type == "image/svg+xml"
    assert (await icon.text()).startswith("<svg ")

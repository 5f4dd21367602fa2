"""A portal session follows the directory: a resident who moved out, or an owner whose ownership
was removed, can no longer act in that compound through the portal once the session's copy of
their memberships is re-read (services/portal/signed_in.py), while a person who still belongs
sees no change; without the directory the last memberships stay in use for a while, then the
compound's pages say they cannot confirm it, and nobody is signed out.

The portal and the directory run in this process on real ports (the portal asks the directory
over HTTP as it does under `linli up`), with meetings behind the calendar links; the other
services are absent, so the home page shows its blocks as unavailable, which changes nothing
here."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from linli.config import Settings
from linli.http import POOL
from services.directory.app import create_app as directory_app
from services.meetings.app import create_app as meetings_app
from services.portal import service
from services.portal.app import create_app as portal_app
from services.portal.meeting_pages import calendar_signature
from services.portal.models import Identity, Membership, PortalConfig
from tests.conftest import AppFactory, TokenFactory, bearer, eventually
from tests.integration.test_directory import make_compound, post_ok

NOT_HERE = "不属于你所在的小区"
UNCONFIRMED = "暂时无法确认你是否仍登记在这个小区"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Phone:
    """One person's browser: its own cookies, the form token of the last page it read."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session, self.base, self.csrf = session, base, ""

    async def get(self, path: str) -> tuple[int, str]:
        async with self.session.get(self.base + path, allow_redirects=False) as r:
            text = await r.text()
        if found := CSRF.search(text):
            self.csrf = found.group(1)
        return r.status, text

    async def post(self, path: str, data: dict[str, str]) -> tuple[int, str]:
        async with self.session.post(self.base + path, data={"csrf": self.csrf, **data},
                                     allow_redirects=False) as r:
            return r.status, await r.text()

    async def sign_in(self, person_id: str) -> None:
        """The development sign-in (dev_login) as this person."""
        await self.get("/sign-in")
        status, text = await self.post("/dev/sign-in", {"person_id": person_id, "next": "/"})
        assert status == 303, text


@contextlib.asynccontextmanager
async def phones(base: str) -> AsyncIterator[Any]:
    made: list[aiohttp.ClientSession] = []

    def new() -> Phone:
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        made.append(session)
        return Phone(session, base)

    try:
        yield new
    finally:
        for session in made:
            await session.close()


async def serve_portal(serve: AppFactory, tmp_path: Path, fresh_seconds: int) -> str:
    cfg = PortalConfig(dev_login=True, memberships_fresh_seconds=fresh_seconds,
                       media_dir=tmp_path / "media")
    portal = await serve(lambda s: portal_app(s, config=cfg))
    return str(portal.make_url("")).rstrip("/")


async def read_at(settings: Settings, person_id: str) -> dt.datetime:
    """When the portal last read this person's memberships from the directory."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        found: dt.datetime = await conn.fetchval(
            "SELECT max(memberships_read_at) FROM portal.sessions WHERE person_id = $1",
            person_id)
    finally:
        await conn.close()
    return found


async def age_memberships(settings: Settings, person_id: str, minutes: int) -> None:
    """The session's copy as if read `minutes` ago (what a session open that long has), and
    its last failed re-read, if any, as long ago (the pause after it is over)."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute("UPDATE portal.sessions SET memberships_read_at = now() - $2::interval,"
                           " memberships_tried_at = CASE WHEN memberships_tried_at IS NOT NULL"
                           " THEN now() - $2::interval END"
                           " WHERE person_id = $1", person_id, dt.timedelta(minutes=minutes))
    finally:
        await conn.close()


async def tried_at(settings: Settings, person_id: str) -> dt.datetime | None:
    """When a re-read of this person's memberships last failed (None: none since the last
    one that succeeded)."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        found: dt.datetime | None = await conn.fetchval(
            "SELECT max(memberships_tried_at) FROM portal.sessions WHERE person_id = $1",
            person_id)
    finally:
        await conn.close()
    return found


@contextlib.asynccontextmanager
async def silent_directory(port: int) -> AsyncIterator[list[asyncio.StreamWriter]]:
    """The directory's port held by a process that accepts connections and never answers (a
    hung service behind a live socket): a real TCP server; yields the connections it took."""
    taken: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        taken.append(writer)  # read nothing, answer nothing; kept open until the end

    server = await asyncio.start_server(hold, "127.0.0.1", port)
    try:
        yield taken
    finally:
        server.close()
        for writer in taken:
            writer.close()
        await server.wait_closed()


async def one_unit(directory: Any, street: dict[str, str], name: str) -> tuple[str, str]:
    """A compound with one unit: (compound path, unit id)."""
    cid = await make_compound(directory, street, name)
    c = f"/v1/compounds/{cid}"
    building = await post_ok(directory, f"{c}/buildings", {"name": "1号楼", "floors": 6}, street)
    unit = await post_ok(directory, f"{c}/units", {"building_id": building["id"], "floor": 2,
                                                   "number": "201", "area": "90.00"}, street)
    return c, unit["id"]


async def person(directory: Any, street: dict[str, str], name: str) -> str:
    return str((await post_ok(directory, "/v1/people", {"name": name}, street))["id"])


async def an_owner(serve: AppFactory, settings: Settings, token: TokenFactory, compound: str,
                   name: str) -> tuple[Any, str, str]:
    """The directory served, a compound of one unit and its owner: (directory, compound id,
    owner's person id)."""
    directory = await serve(directory_app, port=settings.port("directory"))
    street = bearer(token(roles=["street_office"], compounds=["*"]))
    c, unit = await one_unit(directory, street, compound)
    owner = await person(directory, street, name)
    await post_ok(directory, f"{c}/units/{unit}/owners", {"person_id": owner}, street, status=200)
    return directory, c.rsplit("/", 1)[1], owner


async def test_who_moved_out_or_no_longer_owns_loses_the_compound_and_who_stays_keeps_it(
        serve: AppFactory, settings: Settings, token: TokenFactory, tmp_path: Path) -> None:
    directory = await serve(directory_app, port=settings.port("directory"))
    street = bearer(token(roles=["street_office"], compounds=["*"]))
    c, unit = await one_unit(directory, street, "迁出测试小区")
    cid = c.rsplit("/", 1)[1]
    owner, tenant, stays = [await person(directory, street, n) for n in ("王业主", "李租户", "李家人")]
    await post_ok(directory, f"{c}/units/{unit}/owners", {"person_id": owner}, street, status=200)
    household = await post_ok(directory, f"{c}/households", {"unit_id": unit, "name": "李家"},
                              street)
    hh = f"{c}/households/{household['id']}/residents"
    for who in (tenant, stays):
        await post_ok(directory, hh, {"person_id": who, "relation": "tenant"}, street, status=200)
    await serve(meetings_app, port=settings.port("meetings"))  # the calendar links read it
    base = await serve_portal(serve, tmp_path, fresh_seconds=1)
    async with phones(base) as new:
        owner_p, tenant_p, stays_p = new(), new(), new()
        links = {who: f"/calendar/{who}/{cid}/"
                 f"{calendar_signature(settings.jwt_secret, who, cid)}.ics"
                 for who in (owner, tenant, stays)}
        for link in links.values():
            status, text = await owner_p.get(link)
            assert status == 200 and text.startswith("BEGIN:VCALENDAR"), text
        for phone, who in ((owner_p, owner), (tenant_p, tenant), (stays_p, stays)):
            await phone.sign_in(who)
            assert (await phone.get(f"/c/{cid}"))[0] == 200

        r = await directory.delete(f"{hh}/{tenant}", headers=street)  # 迁出
        assert r.status == 200, await r.text()
        r = await directory.delete(f"{c}/units/{unit}/owners/{owner}", headers=street)
        assert r.status == 200, await r.text()
        moved_at = dt.datetime.now(dt.UTC)

        for phone in (tenant_p, owner_p):
            async def refused(phone: Phone = phone) -> bool:
                status, text = await phone.get(f"/c/{cid}")
                assert status in (200, 404), text  # never a 500 on the way
                return status == 404 and NOT_HERE in text
            await eventually(refused)
            # the actions behind the pages too: a report is refused before anything is sent
            status, text = await phone.post(f"/c/{cid}/issues/new", {"title": "楼道灯坏了"})
            assert status == 404 and NOT_HERE in text
            status, text = await phone.get("/")  # still signed in, in no compound
            assert status == 200 and "尚未登记小区" in text

        for who in (tenant, owner):  # the signed link outlives the session: it asks too
            assert (await stays_p.get(links[who]))[0] == 404
        status, text = await stays_p.get(links[stays])
        assert status == 200 and text.startswith("BEGIN:VCALENDAR"), text

        async def reread_and_still_here() -> bool:
            status, text = await stays_p.get(f"/c/{cid}")
            assert status == 200, text
            return await read_at(settings, stays) > moved_at
        await eventually(reread_and_still_here)


async def test_without_the_directory_memberships_stay_a_while_then_are_unconfirmed_not_signed_out(
        serve: AppFactory, settings: Settings, token: TokenFactory, tmp_path: Path) -> None:
    directory, cid, owner = await an_owner(serve, settings, token, "目录停机测试小区", "周业主")
    base = await serve_portal(serve, tmp_path, fresh_seconds=1)
    async with phones(base) as new:
        me = new()
        await me.sign_in(owner)
        assert (await me.get(f"/c/{cid}"))[0] == 200
        await directory.close()

        await age_memberships(settings, owner, minutes=2)  # due for a re-read, within 15 min
        status, text = await me.get(f"/c/{cid}")
        assert status == 200, text  # the last memberships read stay in use
        assert dt.datetime.now(dt.UTC) - await read_at(settings, owner) > dt.timedelta(minutes=1)

        await age_memberships(settings, owner, minutes=20)  # beyond the 15 minutes kept
        for path in (f"/c/{cid}", "/"):
            status, text = await me.get(path)
            assert status == 503 and UNCONFIRMED in text and "<h1>暂时无法确认</h1>" in text, text
        status, text = await me.post(f"/c/{cid}/issues/new", {"title": "楼道灯坏了"})
        assert status == 503 and UNCONFIRMED in text, text

        await serve(directory_app, port=settings.port("directory"))  # the directory is back
        await age_memberships(settings, owner, minutes=20)  # and the pause after a failed re-read
        status, text = await me.get(f"/c/{cid}")  # the same session, not signed out
        assert status == 200, text
        assert dt.datetime.now(dt.UTC) - await read_at(settings, owner) < dt.timedelta(minutes=1)


async def test_a_directory_that_hangs_costs_one_short_wait_then_the_kept_copy_serves(
        serve: AppFactory, settings: Settings, token: TokenFactory, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    """The directory accepts connections and never answers: the re-read on the page's path
    gives up after about 2 s and the kept memberships serve; the session then does not ask
    again for a while (no new connection to the directory), nor for its stylesheets. Each
    failed re-read is logged once, not every page of the pause after it (an outage would
    otherwise write a warning per page of every session)."""
    directory, cid, owner = await an_owner(serve, settings, token, "目录无应答测试小区", "吴业主")
    base = await serve_portal(serve, tmp_path, fresh_seconds=1)
    async with phones(base) as new:
        me = new()
        await me.sign_in(owner)
        assert (await me.get(f"/c/{cid}"))[0] == 200
        await directory.close()
        caplog.set_level(logging.WARNING, logger="linli.portal")
        async with silent_directory(settings.port("directory")) as taken:
            await age_memberships(settings, owner, minutes=2)  # due for a re-read
            # Before, the page waited the portal's whole client timeout (15 s) for the silent
            # directory, and so did every following page. The bound is generous (the re-read
            # gives up after 2 s) so a slow machine does not fail it; the outcome asserted is
            # the page with the kept memberships, and the connections the directory took.
            async with asyncio.timeout(8):
                status, text = await me.get(f"/c/{cid}")
            assert status == 200 and NOT_HERE not in text and UNCONFIRMED not in text, text
            assert len(taken) == 1 and await tried_at(settings, owner) is not None
            for _ in range(3):  # within the pause after the failed re-read: nobody asks
                async with asyncio.timeout(8):
                    status, text = await me.get(f"/c/{cid}")
                assert status == 200, text
            assert len(taken) == 1 and not_reread(caplog, owner) == 1

            await age_memberships(settings, owner, minutes=3)  # the pause is over
            async with me.session.get(base + "/static/portal.css") as r:
                assert r.status == 200  # a stylesheet reads no session and asks nobody
            assert len(taken) == 1
            async with asyncio.timeout(8):
                status, text = await me.get(f"/c/{cid}")
            assert status == 200 and len(taken) == 2, text  # a page asks again after the pause
            assert not_reread(caplog, owner) == 2


def not_reread(caplog: pytest.LogCaptureFixture, person_id: str) -> int:
    """How many warnings the portal wrote that this person's memberships were not re-read."""
    return sum(1 for r in caplog.records if r.name == "linli.portal"
               and r.levelno == logging.WARNING and "not re-read" in r.getMessage()
               and person_id in r.getMessage())


async def test_an_older_reread_never_overwrites_a_newer_one_nor_revives_a_closed_session(
        serve: AppFactory, settings: Settings, tmp_path: Path) -> None:
    """Two requests of one session renew at once: the one that read the session first may
    get the directory's answer later. Its older answer (still holding the compound the
    person has just left) must not overwrite the newer one, and a session signed out while a
    re-read was on its way stays signed out. Ordered by the requests' reads of the session,
    on the database's clock, as the portal's own requests are."""
    cfg = PortalConfig(media_dir=tmp_path / "media")
    pool = (await serve(lambda s: portal_app(s, config=cfg))).app[POOL]
    here = Membership(compound_id=uuid.uuid4(), compound_name="阳光花园", roles=["resident"],
                      units=[])
    before = Identity(person_id=uuid.uuid4(), name="郑租户", memberships=[here])
    moved = Identity(person_id=before.person_id, name="郑租户", memberships=[])
    token, _ = await service.open_session(pool, cfg, before)
    first, second = [await service.find_session(pool, token) for _ in range(2)]
    assert first is not None and second is not None
    assert await service.renew_memberships(pool, second, moved) is not None  # the newer answer
    assert await service.renew_memberships(pool, first, before) is None  # the older, late
    stored = await service.find_session(pool, token)
    assert stored is not None and stored.memberships == []

    third = await service.find_session(pool, token)
    assert third is not None
    await service.close_session(pool, token)  # signed out while the re-read was on its way
    assert await service.renew_memberships(pool, third, before) is None
    assert await service.find_session(pool, token) is None


async def test_an_outage_is_titled_as_one_and_the_calendar_link_says_when_to_come_back(
        serve: AppFactory, settings: Settings, token: TokenFactory, tmp_path: Path) -> None:
    """Only "cannot confirm you belong here" is titled 暂时无法确认: another 503 (the live
    stream without notify) says the service is unavailable. The signed calendar link, while the
    directory is down or accepts connections and never answers, answers 503 with Retry-After (a
    calendar app reads the header, not the page) after the short wait of a session's re-read
    (2 s), not the portal's whole client timeout (15 s)."""
    directory, cid, owner = await an_owner(serve, settings, token, "订阅停机测试小区", "郑业主")
    await serve(meetings_app, port=settings.port("meetings"))
    base = await serve_portal(serve, tmp_path, fresh_seconds=60)
    link = f"/calendar/{owner}/{cid}/{calendar_signature(settings.jwt_secret, owner, cid)}.ics"
    async with phones(base) as new:
        me = new()
        await me.sign_in(owner)
        status, text = await me.get("/live")  # notify is not running here
        assert status == 503 and "实时更新暂不可用" in text, text
        assert "<h1>服务暂时不可用</h1>" in text and "暂时无法确认" not in text, text
        assert (await me.get(link))[0] == 200
        await directory.close()

        async def subscribed() -> tuple[int, str, str]:
            async with me.session.get(base + link) as r:
                return r.status, await r.text(), r.headers.get("Retry-After", "")

        status, text, retry = await subscribed()  # the directory is down
        assert status == 503 and retry.isdigit() and int(retry) > 0, (status, retry, text)
        assert "<h1>服务暂时不可用</h1>" in text and "暂时无法确认订阅人的登记信息" in text, text
        async with silent_directory(settings.port("directory")) as taken:
            # generous against a slow machine; before, it waited the whole 15 s client timeout
            async with asyncio.timeout(8):
                status, text, retry = await subscribed()
            assert status == 503 and retry.isdigit() and len(taken) == 1, (status, retry, text)

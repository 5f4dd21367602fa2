"""A person's own calendar feed: a secret address a calendar app fetches without a bearer token,
made, listed and revoked by the person; only its hash is stored; a revoked address is 410."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from linli.config import Settings
from linli.http import POOL
from services.directory.app import create_app as directory_app
from services.meetings.app import create_app
from tests.conftest import AppFactory, TokenFactory, assert_problem, bearer
from tests.integration.test_meetings_sessions import organisation
from tests.integration.test_meetings_support import Compound, new_compound, ok

STARTS = dt.datetime(2026, 9, 8, 19, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture
async def apps(serve: AppFactory, settings: Settings) -> tuple[TestClient, TestClient]:
    directory = await serve(directory_app, port=settings.port("directory"))
    return directory, await serve(create_app)


async def convene(meetings: TestClient, c: Compound, secretary: dict[str, str], org: str,
                  title: str, invited: list[str]) -> dict[str, Any]:
    body = {"kind": "party_masses_council", "title": title, "starts_at": STARTS.isoformat(),
            "ends_at": (STARTS + dt.timedelta(hours=2)).isoformat(), "place": "党群服务站二楼",
            "convener_org_id": org, "person_ids": invited}
    meeting: dict[str, Any] = await ok(await meetings.post(
        f"/v1/compounds/{c.id}/meetings", json=body, headers=secretary), 201)
    return meeting


async def fetch(meetings: TestClient, path: str) -> Any:
    """As a calendar app fetches it: no Authorization header at all."""
    return await meetings.get(path)


async def test_a_personal_feed_is_fetched_by_its_secret_and_revoked_for_good(
        apps: tuple[TestClient, TestClient], token: TokenFactory, settings: Settings) -> None:
    directory, meetings = apps
    c, other = await new_compound(directory, token), await new_compound(directory, token, "南山")
    org = await organisation(c, "party_branch", "阳光花园党支部", "王书记", "书记")
    other_org = await organisation(other, "party_branch", "南山党支部", "林书记", "书记")
    secretary = bearer(token(roles=["party_branch"], compounds=[c.id], person=c.people["王书记"]))
    await c.unit("101", "89.50", "陈代表")  # an owner: people invited by id live here
    rep = c.people["陈代表"]
    invited = await convene(meetings, c, secretary, org, "顶楼隔热改造议事会", [rep])
    open_to_all = await convene(meetings, c, secretary, org, "暑期活动安排", [])
    elsewhere = await convene(meetings, other, bearer(token(
        roles=["party_branch"], compounds=[other.id], person=other.people["林书记"])), other_org,
        "南山水泵议事会", [])
    me = bearer(token(roles=["resident"], compounds=[c.id], person=rep))
    await ok(await meetings.post(f"/v1/compounds/{c.id}/meetings/{invited['id']}/rsvp",
                                 json={"answer": "yes"}, headers=me))

    created = await ok(await meetings.post("/v1/me/calendar-feeds", json={"label": "手机日历"},
                                           headers=me), 201)
    path = created["path"]
    secret = path.removeprefix("/v1/calendar-feeds/").removesuffix(".ics")
    assert len(secret) >= 40 and created["url"].endswith(path) and created["label"] == "手机日历"

    response = await fetch(meetings, path)
    assert response.status == 200 and response.content_type == "text/calendar"
    text = (await response.read()).decode().replace("\r\n ", "")  # unfolded
    assert text.startswith("BEGIN:VCALENDAR\r\n") and "X-WR-CALNAME:我的邻里会议" in text
    assert f"UID:{invited['id']}@linli" in text and f"UID:{open_to_all['id']}@linli" in text
    assert f"UID:{elsewhere['id']}@linli" not in text  # not the person's compound nor invitation
    assert "SUMMARY:党群议事会: 顶楼隔热改造议事会" in text and "DTSTART:20260908T113000Z" in text
    event = text.split(f"UID:{invited['id']}@linli", 1)[1].split("END:VEVENT", 1)[0]
    assert "您受邀参加 (您的回复: 参加)" in event
    assert "您受邀参加" not in text.split(f"UID:{open_to_all['id']}@linli", 1)[1].split(
        "END:VEVENT", 1)[0]

    listed = (await ok(await meetings.get("/v1/me/calendar-feeds", headers=me)))["items"]
    assert [(f["id"], f["label"], f["revoked_at"]) for f in listed] == [
        (created["id"], "手机日历", None)]
    assert secret not in str(listed)  # the address is shown once, at creation
    stored = await _stored(settings, created["id"])
    assert stored["token_hash"] == hashlib.sha256(secret.encode()).digest()
    assert secret not in stored["row"]

    # someone else cannot list or revoke it; an app cannot make feeds at all
    stranger = bearer(token(roles=["resident"], compounds=[c.id], person=str(uuid.uuid4())))
    assert await ok(await meetings.get("/v1/me/calendar-feeds", headers=stranger)) == {
        "items": [], "next_cursor": None}
    await assert_problem(await meetings.delete(f"/v1/me/calendar-feeds/{created['id']}",
                                               headers=stranger), 404, "not-found")
    await assert_problem(await meetings.post("/v1/me/calendar-feeds", json={}, headers=bearer(
        token(app="calendar", scopes=["meetings:manage"], compounds=["*"]))), 403, "forbidden")
    await assert_problem(await fetch(meetings, "/v1/calendar-feeds/not-a-feed.ics"), 404,
                         "not-found")

    second = await ok(await meetings.post("/v1/me/calendar-feeds", json={}, headers=me), 201)
    revoked = await ok(await meetings.delete(f"/v1/me/calendar-feeds/{created['id']}",
                                             headers=me))
    assert revoked["revoked_at"] is not None
    gone = await assert_problem(await fetch(meetings, path), 410, "feed-revoked")
    assert "停用" in gone["detail"]
    again = await ok(await meetings.delete(f"/v1/me/calendar-feeds/{created['id']}", headers=me))
    assert again["revoked_at"] == revoked["revoked_at"]  # revoking twice keeps the first time
    assert (await fetch(meetings, second["path"])).status == 200  # the other address still works


async def _stored(settings: Settings, feed_id: str) -> dict[str, Any]:
    conn = await asyncpg.connect(settings.database_url)
    try:
        row = await conn.fetchrow("SELECT token_hash, f::text AS row FROM meetings.calendar_feeds f"
                                  " WHERE id = $1", uuid.UUID(feed_id))
    finally:
        await conn.close()
    assert row is not None
    return dict(row)


async def test_a_feed_leaves_out_a_compound_its_person_left_and_an_officials_feed_stays(
        apps: tuple[TestClient, TestClient], token: TokenFactory) -> None:
    """A feed lists a compound its person belonged to when it was made only while they still
    do (the owner who sold no longer gets its meetings, without revoking the address); a
    street official's feed (never a member there) lists it as before, even while the
    directory is away; a resident's feed then answers 503 with Retry-After, which calendar
    apps retry, keeping the events they have."""
    directory, meetings = apps
    c = await new_compound(directory, token)
    org = await organisation(c, "party_branch", "阳光花园党支部", "王书记", "书记")
    secretary = bearer(token(roles=["party_branch"], compounds=[c.id], person=c.people["王书记"]))
    unit = await c.unit("101", "89.50", "陈业主")
    seller, stays = c.people["陈业主"], await c.tenant("李租户")
    meeting = await convene(meetings, c, secretary, org, "暑期活动安排", [])
    official = str(uuid.uuid4())  # acts in the compound through the token, unknown there
    feeds = {}
    for who, roles in ((seller, ["owner", "resident"]), (stays, ["resident"]),
                       (official, ["street_office"])):
        feeds[who] = (await ok(await meetings.post("/v1/me/calendar-feeds", json={}, headers=bearer(
            token(roles=roles, compounds=[c.id], person=who))), 201))["path"]

    async def listed(who: str) -> bool:
        response = await fetch(meetings, feeds[who])
        text = await response.text()
        assert response.status == 200 and text.startswith("BEGIN:VCALENDAR"), text
        return f"UID:{meeting['id']}@linli" in text

    assert [await listed(w) for w in (seller, stays, official)] == [True, True, True]
    r = await directory.delete(f"/v1/compounds/{c.id}/units/{unit}/owners/{seller}",
                               headers=c.street)  # sold: no longer an owner there
    assert r.status == 200, await r.text()
    assert [await listed(w) for w in (seller, stays, official)] == [False, True, True]

    async with meetings.app[POOL].acquire() as conn:  # a feed made before members were kept
        await conn.execute("UPDATE calendar_feeds SET member_compound_ids = NULL"
                           " WHERE person_id = $1", seller)
    assert await listed(seller)  # listed as before the migration (0018_calendar_feed_members)

    await directory.close()
    down = await fetch(meetings, feeds[stays])
    assert down.status == 503 and down.headers["Retry-After"].isdigit(), await down.text()
    assert down.content_type == "application/problem+json" and (await down.json())["detail"]
    assert await listed(official)  # asks nobody: never a member there

"""Owners vote in the browser; a second browser sees the turnout bar move without reloading;
the result shows every threshold; a secret vote shows nothing before it closes."""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
from typing import Any

from playwright.async_api import Browser, expect

from services.portal.app import create_app
from services.portal.models import PortalConfig
from tests.conftest import AppFactory
from tests.e2e.conftest import Http
from tests.portal.conftest import (
    Portal,
    Visitor,
    demo_compound,
    dev_sign_in,
    owners,
    phone_browsers,
    unique,
)


async def open_vote(http: Http, cid: str, *, secret: bool = False) -> tuple[str, str]:
    staff = http.platform.token(roles=["community"], compounds=[cid])
    proposal = await http.post("meetings", f"/v1/compounds/{cid}/proposals", staff, {
        "title": unique("屋顶隔热与平改坡改造"), "matter": "art278_7",
        "body": "顶层夏季酷热, 拟做屋面隔热层并将平屋顶改为坡屋顶。", "budget_fen": 48_000_000,
        "funding": "maintenance_fund"}, status=201)
    closes = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
    vote = await http.post("meetings", f"/v1/compounds/{cid}/proposals/{proposal['id']}/votes",
                           staff, {"closes_at": closes, "secret": secret}, status=201)
    return str(proposal["id"]), str(vote["id"])


async def test_a_vote_cast_in_one_browser_moves_the_turnout_bar_in_another_without_a_reload(
    portal: Portal, http: Http, visitors: Any
) -> None:
    cid = await demo_compound(http, "南山归侨安置小区")
    watcher, voter = await owners(http, cid, 2)
    _pid, vid = await open_vote(http, cid)
    path = f"/c/{cid}/votes/{vid}"
    staff = http.platform.token(roles=["community"], compounds=[cid])
    title = (await http.get("meetings", f"/v1/compounds/{cid}/proposals/{_pid}", staff))["title"]

    a: Visitor = await visitors()
    await dev_sign_in(a, watcher, then=f"/c/{cid}")
    await a.check("home")
    await a.page.get_by_role("link", name=title).click()  # the home page lists the open vote
    await a.page.wait_for_url(re.compile(rf"{path}$"))
    await a.check("vote-open")
    assert "三分之二" in await a.page.inner_text("main")  # the rule, in plain words
    ballots = a.page.locator('[data-field="ballots"]')
    await expect(ballots).to_have_text("0")
    area_bar = a.page.get_by_role("meter", name=re.compile("参与表决的面积"))
    zero = re.compile(r"^0(\.0)?$")  # as rendered, or as the first live update wrote it
    await expect(area_bar).to_have_attribute("aria-valuenow", zero)
    navigations: list[str] = []
    a.page.on("framenavigated", lambda frame: navigations.append(frame.url))
    polls: list[str] = []
    a.page.on("request", lambda r: polls.append(r.url) if "/live/poll" in r.url else None)

    b: Visitor = await visitors()
    await dev_sign_in(b, voter, then=path)
    await b.page.get_by_label("同意").check()
    await b.page.get_by_role("button", name="投票").click()
    await b.page.wait_for_url(re.compile(r"done=voted-agree$"))
    await b.check("vote-cast")

    # meetings' ballot.cast → notify's live stream → the portal reads the turnout → the page
    await expect(ballots).to_have_text("1", timeout=15_000)
    await expect(area_bar).not_to_have_attribute("aria-valuenow", zero)
    assert navigations == []  # the page did not reload
    assert polls == []  # nor did it poll: the stream carried it
    # the fallback a page uses when its stream fails tells the same
    fallback = await a.page.request.get(f"{portal.url}/live/poll?compound={cid}&vote={vid}")
    assert fallback.ok and json.loads((await fallback.json())["turnout"])["ballots"] == 1
    await a.page.locator("#turnout").scroll_into_view_if_needed()
    await a.check("vote-turnout")

    await http.post("meetings", f"/v1/compounds/{cid}/votes/{vid}/close", staff)
    await expect(a.page.get_by_role("heading", name="表决结果: 未通过")).to_be_visible(timeout=15_000)
    await a.check("vote-result")
    rows = a.page.locator("table tbody tr")
    await expect(rows).to_have_count(4)
    text = await a.page.inner_text("table")
    for label in ("参与表决的专有部分面积", "参与表决的业主人数", "同意的专有部分面积", "同意的业主人数"):
        assert label in text


async def test_a_secret_vote_says_so_and_shows_no_turnout_before_close(
    portal: Portal, http: Http, visitors: Any
) -> None:
    cid = await demo_compound(http, "南山归侨安置小区")
    [me] = await owners(http, cid, 1, skip=3)
    _pid, vid = await open_vote(http, cid, secret=True)
    v: Visitor = await visitors()
    await dev_sign_in(v, me, then=f"/c/{cid}/votes/{vid}")
    await v.check("vote-secret")
    main = await v.page.inner_text("main")
    assert "无记名投票" in main and "表决结束前不公布任何情况" in main
    assert await v.page.get_by_role("meter").count() == 0
    for path in ("/live", "/live/poll"):  # neither the stream nor the fallback tells anything
        live = await v.page.request.get(f"{portal.url}{path}?compound={cid}&vote={vid}")
        assert live.status == 404
    await v.page.get_by_label("反对").check()
    await v.page.get_by_role("button", name="投票").click()
    await v.page.wait_for_url(re.compile(r"done=voted-oppose$"))
    assert await v.page.get_by_role("meter").count() == 0

    # away and back: this browser keeps the ballot's receipt, so it reads the choice back
    await v.open(f"/c/{cid}")
    await v.open(f"/c/{cid}/votes/{vid}", "vote-secret-mine")
    await expect(v.page.get_by_role("status")).to_have_text("你已投票：反对")
    assert await v.page.get_by_role("radio").count() == 0  # a secret ballot is not changed
    # the same owner on another phone: voted, and what is not shown (the service keeps none)
    other: Visitor = await visitors()
    await dev_sign_in(other, me, then=f"/c/{cid}/votes/{vid}")
    await expect(other.page.get_by_role("status")).to_have_text("你已投票。")
    assert "反对" not in await other.page.locator(".voted").inner_text()


async def test_my_ballot_reads_back_after_leaving_and_only_to_me(
    portal: Portal, http: Http, visitors: Any
) -> None:
    cid = await demo_compound(http, "南山归侨安置小区")
    me, neighbour = await owners(http, cid, 2, skip=5)
    _pid, vid = await open_vote(http, cid)
    v: Visitor = await visitors()
    await dev_sign_in(v, me, then=f"/c/{cid}/votes/{vid}")
    assert await v.page.get_by_role("status").count() == 0  # not voted yet
    await v.page.get_by_label("同意").check()
    await v.page.get_by_role("button", name="投票").click()
    await v.page.wait_for_url(re.compile(r"done=voted-agree$"))
    await v.open(f"/c/{cid}/proposals")
    await v.open(f"/c/{cid}/votes/{vid}", "vote-mine")
    await expect(v.page.get_by_role("status")).to_have_text("你已投票：同意")
    await expect(v.page.get_by_label("同意")).to_be_checked()  # and may change it before close
    await v.page.get_by_label("弃权").check()
    await v.page.get_by_role("button", name="改投").click()
    await v.page.wait_for_url(re.compile(r"done=voted-abstain$"))
    await v.open(f"/c/{cid}")
    await v.open(f"/c/{cid}/votes/{vid}")
    await expect(v.page.get_by_role("status")).to_have_text("你已投票：弃权")

    n: Visitor = await visitors()
    await dev_sign_in(n, neighbour, then=f"/c/{cid}/votes/{vid}")
    assert await n.page.get_by_role("status").count() == 0  # my ballot is not theirs
    assert await n.page.get_by_label("弃权").is_checked() is False


async def test_when_the_live_stream_is_refused_the_page_falls_back_to_a_slow_look(
    portal: Portal, http: Http, browser: Browser, serve: AppFactory
) -> None:
    """A second portal whose notify cannot be reached: its stream answers 503, the page looks
    at /live/poll instead (every second here; half a minute by default) and still moves."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"  # nothing listens once the socket closes
    urls = {**portal.platform.urls, "notify": dead}
    config = PortalConfig(dev_login=True, live_poll_seconds=1)
    client = await serve(lambda s: create_app(s.with_overrides(service_urls=urls), config=config))
    lonely = Portal(platform=portal.platform, url=str(client.make_url("")).rstrip("/"), db=portal.db)
    cid = await demo_compound(http, "南山归侨安置小区")
    watcher, voter = await owners(http, cid, 2, skip=8)
    _pid, vid = await open_vote(http, cid)
    async with phone_browsers(browser, lonely) as visitors:
        a: Visitor = await visitors()
        streams: list[int] = []
        a.page.on("response", lambda r: streams.append(r.status) if "/live?" in r.url else None)
        polls: list[str] = []
        a.page.on("request", lambda r: polls.append(r.url) if "/live/poll" in r.url else None)
        await dev_sign_in(a, watcher, then=f"/c/{cid}/votes/{vid}")
        ballots = a.page.locator('[data-field="ballots"]')
        await expect(ballots).to_have_text("0")
        await http.post("meetings", f"/v1/compounds/{cid}/votes/{vid}/ballots",
                        http.platform.token(roles=["owner"], compounds=[cid],
                                            person=voter.person_id), {"choice": "agree"},
                        status=201)
        await expect(ballots).to_have_text("1", timeout=15_000)
        assert 503 in streams and polls  # the stream was refused; the slow look moved it

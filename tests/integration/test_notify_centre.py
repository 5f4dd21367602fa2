"""The centre's events through the real NATS into notify: a person promoted from the waiting
list, everyone of a cancelled activity, a reader whose held book came back, a declined booking,
and a published plan on the notice board."""

from __future__ import annotations

import pytest

from linli.config import Settings
from services.centre.app import create_app as centre_app
from services.directory.app import create_app as directory_app
from tests.conftest import AppFactory, TokenFactory, bearer
from tests.integration.test_centre_support import ALL_DAY, iso, tomorrow_at
from tests.integration.test_notify_support import (
    NotifyFactory,
    People,
    eventually,
    inbox,
    nats_js,
    notices,
    ok,
    start_notify,
)

__all__ = ["nats_js", "start_notify"]  # fixtures


@pytest.fixture
def people(token: TokenFactory) -> People:
    return People(token)


async def test_the_people_concerned_hear_of_the_centre(
    serve: AppFactory, settings: Settings, token: TokenFactory, people: People,
    start_notify: NotifyFactory,
) -> None:
    directory = await serve(directory_app, port=settings.port("directory"))
    centre = await serve(centre_app)
    notify = await start_notify()
    street = bearer(token(roles=["street_office"], compounds=["*"]))
    cid = (await ok(await directory.post("/v1/compounds", json={
        "name": "三盛四季公园", "community": "河市社区", "street": "河市镇"}, headers=street),
        201))["id"]
    base = f"/v1/compounds/{cid}"
    staff, ann, bob, cai = (people(cid, "property"), people(cid), people(cid), people(cid))

    async def post(path: str, who: dict[str, str], status: int = 201, **body: object) -> dict:
        return dict(await ok(await centre.post(f"{base}{path}", headers=who, json=body or None),
                             status))

    room = await post("/venues", staff.headers, name="活动室", kind="room", capacity=30,
                      opening_hours=ALL_DAY, requires_approval=True)
    booking = await post("/bookings", cai.headers, venue_id=room["id"], purpose="生日聚会",
                         starts_at=iso(tomorrow_at(15)), ends_at=iso(tomorrow_at(17)))
    await post(f"/bookings/{booking['id']}/decline", staff.headers, 200, reason="当天有党课")
    plan = await post("/activity-plans", staff.headers, audience="elderly", period="2026-12",
                      title="十二月老年人活动计划")
    a = await post("/activities", staff.headers, title="冬至包饺子", organiser="河市社区",
                   audience="elderly", starts_at=iso(tomorrow_at(9)),
                   ends_at=iso(tomorrow_at(11)), capacity=1, plan_id=plan["id"])
    await post(f"/activity-plans/{plan['id']}/publish", staff.headers, 200)
    first = await post(f"/activities/{a['id']}/signups", ann.headers)
    await post(f"/activities/{a['id']}/signups", bob.headers)
    await post(f"/activities/{a['id']}/signups/{first['id']}/cancel", ann.headers, 200)

    promoted = await eventually(lambda: inbox(notify, bob))
    assert [n["title"] for n in promoted] == ["候补成功：冬至包饺子"]
    declined = await eventually(lambda: inbox(notify, cai))
    assert declined[0]["title"] == "场地预约未通过审核：活动室" and "当天有党课" in declined[0]["body"]
    board = await eventually(lambda: notices(notify, cid, ann))
    assert [n["title"] for n in board] == ["十二月老年人活动计划"]

    app = bearer(token(app="workflows", scopes=["centre:manage"], compounds=["*"]))
    await post(f"/activities/{a['id']}/remind", app, 200)

    async def reminded() -> list[dict]:
        return [n for n in await inbox(notify, bob) if n["title"] == "明天的活动：冬至包饺子"]

    assert len(await eventually(reminded)) == 1
    assert not [n for n in await inbox(notify, ann) if n["title"].startswith("明天的活动")]
    await post(f"/activities/{a['id']}/cancel", staff.headers, 200, reason="寒潮预警")
    book = await post("/books", staff.headers, title="平凡的世界", copies=1)
    loan = await post("/loans", ann.headers, book_id=book["id"])
    await post("/holds", cai.headers, book_id=book["id"])
    await post(f"/loans/{loan['id']}/return", ann.headers, 200)

    async def ready() -> list[dict]:
        return [n for n in await inbox(notify, cai) if "可以借了" in n["title"]]

    assert [n["title"] for n in await eventually(ready)] == ["您预约的《平凡的世界》可以借了"]

    async def cancelled() -> list[dict]:
        return [n for n in await inbox(notify, bob) if n["title"] == "活动取消：冬至包饺子"]

    assert "寒潮预警" in (await eventually(cancelled))[0]["body"]

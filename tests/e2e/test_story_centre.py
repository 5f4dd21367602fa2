"""Story §1: 三盛四季公园's neighbourhood centre, across the running directory, centre, workflow
API and worker processes: the tai chi group is founded and books its weekly practice on the
plaza, an activity fills up and a cancellation promotes the next person (the event reaches
NATS), and a book goes from loan to hold to the next reader. (The e2e worker starts no timelines
from events, as it starts no issue follow-ups: ActivityWorkflow is tested in tests/workflows.)
"""

from __future__ import annotations

import datetime as dt
import uuid

from tests.e2e.conftest import Http, published, until

UTC8 = dt.timezone(dt.timedelta(hours=8))


async def test_the_centre_of_sansheng_four_seasons_park(http: Http) -> None:
    p = http.platform
    since = dt.datetime.now(dt.UTC)
    street = p.token(roles=["street_office"], compounds=["*"])
    compound = await http.post("directory", "/v1/compounds", street, {
        "name": f"三盛四季公园 {uuid.uuid4().hex[:6]}", "community": "河市社区",
        "street": "河市镇", "district": "泉州市洛江区"}, status=201)
    c = f"/v1/compounds/{compound['id']}"
    cid = [compound["id"]]
    prop = p.token(roles=["property"], compounds=cid)
    community = p.token(roles=["community"], compounds=cid)
    people = {name: str(uuid.uuid4()) for name in ("陈阿姨", "林伯", "黄姐", "张老师", "李同学")}

    def resident(name: str) -> str:
        return p.token(roles=["resident"], compounds=cid, person=people[name])

    # the plaza, open 06:00–21:00; the tai chi group is proposed, approved and books its practice
    plaza = await http.post("centre", f"{c}/venues", prop, {
        "name": "中心广场", "kind": "outdoor", "capacity": 60, "opening_hours": [
            {"weekday": d, "opens": "06:00", "closes": "21:00"} for d in range(1, 8)]},
        status=201)
    group = await http.post("centre", f"{c}/interest-groups", resident("陈阿姨"), {
        "name": "太极拳队", "kind": "tai_chi"}, status=201)
    await http.post("centre", f"{c}/interest-groups/{group['id']}/approve", community)
    await http.post("centre", f"{c}/interest-groups/{group['id']}/members", resident("林伯"),
                    status=201)
    first = dt.datetime.now(UTC8).date() + dt.timedelta(days=1)
    series = await http.post("centre", f"{c}/booking-series", resident("陈阿姨"), {
        "venue_id": plaza["id"], "purpose": "太极晨练", "group_id": group["id"],
        "weekdays": [2, 4], "start_time": "07:00", "end_time": "08:00",
        "first_day": first.isoformat(),
        "last_day": (first + dt.timedelta(days=27)).isoformat()}, status=201)
    assert len(series["booked"]) == 8 and series["clashes"] == []

    # an activity of two places fills up; a cancellation promotes the first person waiting
    start = dt.datetime.combine(first + dt.timedelta(days=2), dt.time(9), UTC8)
    activity = await http.post("centre", f"{c}/activities", community, {
        "title": "重阳节登高", "organiser": "河市社区居民委员会", "audience": "elderly",
        "starts_at": start.isoformat(), "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
        "capacity": 2}, status=201)
    a = f"{c}/activities/{activity['id']}"
    ups = [await http.post("centre", f"{a}/signups", resident(n), status=201)
           for n in ("黄姐", "张老师", "李同学")]
    assert [u["status"] for u in ups] == ["confirmed", "confirmed", "waiting"]
    await http.post("centre", f"{a}/signups/{ups[0]['id']}/cancel", resident("黄姐"))
    mine = await http.get("centre", f"{a}/signups", resident("李同学"))
    assert [s["status"] for s in mine["items"]] == ["confirmed"]
    promoted = await until("the promotion reaches NATS", lambda: published(
        p.nats_url, "linli.centre.waitlist.promoted", ups[2]["id"], since))
    assert promoted[0]["data"]["person_id"] == people["李同学"]

    # a book goes from a loan to the hold queue to the next reader
    book = await http.post("centre", f"{c}/books", prop, {
        "title": "平凡的世界", "author": "路遥", "copies": 1, "donated_by": "3号楼 陈阿姨"},
        status=201)
    loan = await http.post("centre", f"{c}/loans", resident("林伯"), {"book_id": book["id"]},
                           status=201)
    await http.post("centre", f"{c}/loans", resident("张老师"), {"book_id": book["id"]},
                    status=409)
    hold = await http.post("centre", f"{c}/holds", resident("张老师"), {"book_id": book["id"]},
                           status=201)
    await http.post("centre", f"{c}/loans/{loan['id']}/return", resident("林伯"))
    ready = await until("the hold is ready", lambda: published(
        p.nats_url, "linli.centre.hold.ready", hold["id"], since))
    assert ready[0]["data"]["person_id"] == people["张老师"]
    await http.post("centre", f"{c}/loans", resident("张老师"), {"book_id": book["id"]},
                    status=201)
    shelf = await http.get("centre", f"{c}/books/{book['id']}", resident("李同学"))
    assert (shelf["on_loan"], shelf["available"], shelf["holds"]) == (1, 0, 0)

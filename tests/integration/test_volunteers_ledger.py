"""The service ledger (服务台账): exact totals per volunteer, skill and compound, the CSV the
community files, and the weekly capacity of a menu item."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import uuid
from zoneinfo import ZoneInfo

from tests.conftest import assert_problem
from tests.integration.test_volunteers_support import (  # noqa: F401
    World,
    later,
    ok,
    world_fixture,
)


async def serve_one(w: World, item: str, vol: dict[str, str], minutes: int,
                    score: int | None) -> str:
    resident = w.who(str(uuid.uuid4()))
    order = await w.order(resident, item)
    await w.act(order["id"], "accept", vol)
    await w.act(order["id"], "start", vol)
    await w.act(order["id"], "complete", vol, minutes=minutes, notes="已完成")
    if score is not None:
        await w.act(order["id"], "rate", resident, score=score)
    return str(order["id"])


async def test_ledger_totals_are_exact(world: World) -> None:
    w = world
    li, li_h = await w.volunteer("李师傅", "appliance_repair", "errands")
    wang, wang_h = await w.volunteer("王大姐", "mediation")
    repair = await w.item(li_h)
    errand = await w.item(li_h, skill="errands", title="代买药品")
    mediate = await w.item(wang_h, skill="mediation", title="邻里纠纷调解")
    await serve_one(w, repair["id"], li_h, 30, 5)
    await serve_one(w, repair["id"], li_h, 45, 4)
    await serve_one(w, errand["id"], li_h, 61, None)
    await serve_one(w, mediate["id"], wang_h, 120, 3)
    cancelled = await w.order(w.who(), repair["id"])
    await w.act(cancelled["id"], "cancel", w.staff(), reason="居民电话取消")
    stats = await ok(await w.app.get(f"{w.base}/service-ledger/stats", headers=w.who()))
    assert (stats["services"], stats["minutes"], stats["hours"]) == (4, 256, "4.27")
    assert stats["average_rating"] == 4.0 and stats["rated"] == 3 and stats["volunteers"] == 2
    assert stats["orders_by_status"] == {"rated": 3, "completed": 1, "cancelled": 1}
    assert [(s["skill"], s["name"], s["services"], s["minutes"], s["hours"])
            for s in stats["by_skill"]] == [
        ("appliance_repair", "家电维修", 2, 75, "1.25"), ("errands", "代购代办", 1, 61, "1.02"),
        ("mediation", "矛盾调解", 1, 120, "2.00")]
    assert [(v["volunteer_id"], v["services"], v["minutes"], v["average_rating"])
            for v in stats["by_volunteer"]] == [(li["id"], 3, 136, 4.5), (wang["id"], 1, 120, 3.0)]
    mine = await ok(await w.app.get(
        f"{w.base}/service-ledger?volunteer_id={wang['id']}&limit=1", headers=w.staff()))
    assert [e["minutes"] for e in mine["items"]] == [120] and mine["next_cursor"] is None
    page = await ok(await w.app.get(f"{w.base}/service-ledger?limit=3", headers=w.staff()))
    rest = await ok(await w.app.get(
        f"{w.base}/service-ledger?limit=3&cursor={page['next_cursor']}", headers=w.staff()))
    assert sum(e["minutes"] for e in page["items"] + rest["items"]) == 256

    r = await w.app.get(f"{w.base}/service-ledger.csv", headers=w.staff("party_branch"))
    assert r.status == 200 and r.content_type == "text/csv"
    rows = list(csv.reader(io.StringIO((await r.read()).decode("utf-8-sig"))))
    assert rows[0][:3] == ["日期", "服务", "技能"] and len(rows) == 5
    assert sorted(int(row[5]) for row in rows[1:]) == [30, 45, 61, 120]
    assert {row[3] for row in rows[1:]} == {"李师傅", "王大姐"}
    local = {e["minutes"]: dt.datetime.fromisoformat(e["served_at"]).astimezone(
        ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M") for e in page["items"] + rest["items"]}
    assert {int(row[5]): row[0] for row in rows[1:]} == local  # the day in Beijing time


async def test_concurrent_orders_never_overbook_a_week(world: World) -> None:
    w = world
    _, vol = await w.volunteer("蒋师傅", "appliance_repair")
    item = await w.item(vol, capacity_per_week=1)
    answers = await asyncio.gather(*[
        w.app.post(f"{w.base}/volunteer-orders", headers=w.who(), json=w.order_body(item["id"]))
        for _ in range(4)])
    assert sorted(r.status for r in answers) == [201, 409, 409, 409]
    for r in answers:
        if r.status == 409:
            await assert_problem(r, 409, "capacity-full")
    assert await w.compound_rows("orders") == 1


async def test_weekly_capacity_and_withdrawn_items(world: World) -> None:
    w = world
    _, vol = await w.volunteer("陈师傅", "appliance_repair")
    item = await w.item(vol, capacity_per_week=2)
    week = {"window_start": later(24 * 7), "window_end": later(24 * 7 + 2)}
    first = await w.order(w.who(), item["id"], **week)
    await w.order(w.who(), item["id"], **week)
    await assert_problem(await w.app.post(f"{w.base}/volunteer-orders", headers=w.who(),
                                          json=w.order_body(item["id"], **week)), 409,
                         "capacity-full")
    await w.act(first["id"], "cancel", w.staff(), reason="居民改期")
    await w.order(w.who(), item["id"], **week)  # a cancelled order frees its place
    await assert_problem(await w.app.post(f"{w.base}/service-menu/{item['id']}/withdraw",
                                          headers=w.who()), 403, "forbidden")
    gone = await ok(await w.app.post(f"{w.base}/service-menu/{item['id']}/withdraw",
                                     headers=vol))
    assert gone["status"] == "withdrawn"
    await assert_problem(await w.app.post(f"{w.base}/volunteer-orders", headers=w.who(),
                                          json=w.order_body(item["id"])), 409, "not-published")
    assert await w.outbox(item["id"]) == ["linli.volunteers.menu.published",
                                          "linli.volunteers.menu.withdrawn"]
    menu = await ok(await w.app.get(f"{w.base}/service-menu", headers=w.who()))
    assert menu["items"] == []


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one Prometheus sample (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{wanted}}} ") or (not labels and line.startswith(f"{name} ")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_metrics_idempotent_orders_and_openapi(world: World) -> None:
    w = world
    _, vol = await w.volunteer("孙师傅", "errands")
    item = await w.item(vol, skill="errands", title="代买菜")
    before = await (await w.app.get("/metrics")).text()
    resident = {**w.who(), "Idempotency-Key": str(uuid.uuid4())}
    body = w.order_body(item["id"])
    first = await ok(await w.app.post(f"{w.base}/volunteer-orders", json=body,
                                      headers=resident), 201)
    again = await ok(await w.app.post(f"{w.base}/volunteer-orders", json=body,
                                      headers=resident), 201)
    assert again["id"] == first["id"] and await w.compound_rows("orders") == 1
    await w.act(first["id"], "accept", vol)
    await w.act(first["id"], "start", vol)
    await w.act(first["id"], "complete", vol, minutes=90)
    after = await (await w.app.get("/metrics")).text()
    for status in ("ordered", "accepted", "in_service", "completed"):
        name = "linli_volunteers_orders_total"
        assert sample(after, name, skill="errands", status=status) \
            - sample(before, name, skill="errands", status=status) == 1, status
    hours = "linli_volunteers_service_hours_total"
    assert sample(after, hours, skill="errands") - sample(before, hours, skill="errands") == 1.5
    acceptance = "linli_volunteers_order_acceptance_seconds_count"
    assert sample(after, acceptance, skill="errands") \
        - sample(before, acceptance, skill="errands") == 1
    assert "linli_volunteers_care_visits_missed_total" in after

    spec = await ok(await w.app.get("/openapi.json"))
    paths = spec["paths"]
    accept = paths["/v1/compounds/{compound_id}/volunteer-orders/{order_id}/accept"]["post"]
    assert "志愿者接单" in accept["summary"]
    assert "requestBody" in paths["/v1/compounds/{compound_id}/volunteer-orders"]["post"]
    assert "/v1/compounds/{compound_id}/care-plans/{plan_id}/visits/{visit_id}/record" in paths

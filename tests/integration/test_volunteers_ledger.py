"""The service ledger (服务台账): exact totals per volunteer, skill and compound, the CSV the
community files, and the weekly capacity of a menu item."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import uuid
from zoneinfo import ZoneInfo

from linli.http import POOL
from services.volunteers import ledger, ledger_store, store
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


AWKWARD = ["修理,调试", '他说"好"', "第一行\n第二行", "回车\r\n换行", "=HYPERLINK(\"http://x\")",
           "-2+3", "+1", "@SUM(A1)", "\t缩进", "\r回车", '"', "", " 空格 ", "上门修理电视机",
           "'已有撇号", "=", ",", "\n"]


async def awkward_ledger(w: World) -> None:
    """Ledger lines with every cell people type made awkward, each source kind, a NULL rating,
    a skill named awkwardly, a skill the compound has no name for, equal service times."""
    assert w.app.app is not None
    pool = w.app.app[POOL]
    cid = uuid.UUID(w.cid)
    await pool.execute("INSERT INTO skills (compound_id, code, name) VALUES ($1, 'sing', $2),"
                       " ($1, 'blank', '')", cid, '=唱歌, "合唱"')
    people = []
    for i, name in enumerate(["王大姐", "Smith, John", '老"李"', "=cmd|' /C calc'!A0", "-张三",
                              "多行\n名字"]):
        people.append(await pool.fetchval(
            "INSERT INTO volunteers (id, compound_id, person_id, name, skills, status,"
            " registered_by) VALUES (gen_random_uuid(), $1, $2, $3, ARRAY['sing'], 'verified',"
            " 'test') RETURNING id", cid, f"p{i}", name))
    noon = dt.datetime(2026, 11, 29, 16, 0, tzinfo=dt.UTC)  # 00:00 of the 30th in Beijing
    skills = ["sing", "yoga", "elder_visit", "blank"]
    for i, title in enumerate(AWKWARD * 2):
        await pool.execute(
            "INSERT INTO ledger (compound_id, volunteer_id, source, source_id, skill, title,"
            " person_id, minutes, rating, served_at) VALUES ($1, $2, $3, gen_random_uuid(), $4,"
            " $5, $6, $7, $8, $9)", cid, people[i % len(people)],
            ("order", "care_visit")[i % 2], skills[i % len(skills)], title,
            ["r1", "", "r,2", "=r3"][i % 4], [1, 59, 61, 90, 1440, 30][i % 6],
            None if i % 3 == 0 else 1 + i % 5, noon - dt.timedelta(minutes=(i // 2) * 7))


async def test_the_csv_streamed_from_postgresql_is_the_csv_python_writes(world: World) -> None:
    """The export is made by PostgreSQL (COPY); every byte of it is what the Python formatting
    (ledger.csv_text) makes of the same entries: the quoting, the neutralised formulas, local
    times, hours, labels, empty cells, CRLF between lines and LF inside a cell."""
    w = world
    await awkward_ledger(w)
    r = await w.app.get(f"{w.base}/service-ledger.csv", headers=w.staff())
    assert r.status == 200 and r.content_type == "text/csv"
    body = (await r.read()).decode("utf-8")
    assert w.app.app is not None
    async with w.app.app[POOL].acquire() as conn:
        rows = await ledger_store.list_entries(conn, compound_id=uuid.UUID(w.cid),
                                               volunteer_id=None, skill=None, after=None,
                                               limit=None)
        names = {s["code"]: s["name"] for s in await store.list_skills(
            conn, compound_id=uuid.UUID(w.cid))}
    expected = ledger.csv_text([ledger.to_entry(row) for row in rows], names)
    assert len(rows) == 2 * len(AWKWARD) and "yoga" not in names
    assert body.split("\r\n") == expected.split("\r\n")  # line for line, then to the byte
    assert body == expected
    parsed = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert [row[1] for row in parsed[1:]] == [
        ledger._cell(row["title"]) for row in rows]
    assert {row[8] for row in parsed[1:]} == {"点单", "定期关爱"}
    assert {row[2] for row in parsed[1:]} == {"'=唱歌, \"合唱\"", "yoga", "elder_visit", ""}

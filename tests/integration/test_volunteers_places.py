"""A menu item's weekly places (week_places) against the real PostgreSQL: an order takes one
in its single statement, a cancel or an expiry gives it back, and the row always equals the
count of the week's orders that are not cancelled."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import msgspec

from linli.events import decode
from linli.http import POOL
from services.volunteers import orders
from tests.conftest import assert_problem, bearer, wait_until_blocked
from tests.integration.test_volunteers_support import (  # noqa: F401
    World,
    later,
    ok,
    world_fixture,
)


def week(n: int) -> dict[str, str]:
    """A two-hour window n weeks ahead (one order body's times)."""
    return {"window_start": later(24 * 7 * n + 1), "window_end": later(24 * 7 * n + 3)}


def pool(w: World) -> Any:
    assert w.app.app is not None
    return w.app.app[POOL]


async def places(w: World, item_id: str) -> dict[dt.date, int]:
    """The item's week rows (weeks whose places all came back show 0)."""
    rows = await pool(w).fetch("SELECT week_start, placed FROM week_places WHERE item_id = $1",
                               uuid.UUID(item_id))
    return {r["week_start"]: r["placed"] for r in rows if r["placed"]}


async def live(w: World, item_id: str) -> dict[dt.date, int]:
    """What week_places stands for: the item's orders per week that are not cancelled."""
    rows = await pool(w).fetch(
        "SELECT week_start, count(*) AS n FROM orders WHERE item_id = $1"
        " AND status <> 'cancelled' GROUP BY week_start", uuid.UUID(item_id))
    return {r["week_start"]: r["n"] for r in rows}


async def post_order(w: World, item_id: str, **changes: Any) -> Any:
    return await w.app.post(f"{w.base}/volunteer-orders", headers=w.who(),
                            json=w.order_body(item_id, **changes))


async def test_concurrent_orders_fill_a_week_exactly(world: World) -> None:
    w = world
    _, vol = await w.volunteer("蒋师傅", "appliance_repair")
    item = await w.item(vol, capacity_per_week=4)
    answers = await asyncio.gather(*[post_order(w, item["id"], **week(1)) for _ in range(20)])
    assert sorted(r.status for r in answers) == [201] * 4 + [409] * 16
    placed = [await r.json() for r in answers if r.status == 201]
    for r in answers:
        if r.status == 409:
            body = await assert_problem(r, 409, "capacity-full")
            assert "这一周已约满" in body["detail"]
    assert await w.compound_rows("orders") == 4
    assert list((await places(w, item["id"])).values()) == [4]
    assert await places(w, item["id"]) == await live(w, item["id"])
    for order in placed:  # each with its history row and its event, the item's skill in it
        assert order["skill"] == "appliance_repair" and order["status"] == "ordered"
        assert await w.outbox(order["id"]) == ["linli.volunteers.order.placed"]
        history = await ok(await w.app.get(
            f"{w.base}/volunteer-orders/{order['id']}/history", headers=w.staff()))
        assert [h["action"] for h in history["items"]] == ["placed"]
    payload = await pool(w).fetchval(
        "SELECT payload FROM outbox WHERE convert_from(payload, 'UTF8')::jsonb->>'subject' = $1",
        placed[0]["id"])
    event = decode(bytes(payload))
    assert event.type == "linli.volunteers.order.placed"
    data = msgspec.convert(event.data, dict)
    assert data["skill"] == "appliance_repair" and data["order_id"] == placed[0]["id"]
    # another week of the same item is not touched by the full one
    assert (await post_order(w, item["id"], **week(2))).status == 201


async def test_a_cancel_frees_exactly_one_place(world: World) -> None:
    w = world
    _, vol = await w.volunteer("陈师傅", "appliance_repair")
    item = await w.item(vol, capacity_per_week=2)
    first = await w.order(w.who(), item["id"], **week(1))
    await w.order(w.who(), item["id"], **week(1))
    await assert_problem(await post_order(w, item["id"], **week(1)), 409, "capacity-full")
    await w.act(first["id"], "cancel", w.staff(), reason="居民改期")
    answers = await asyncio.gather(*[post_order(w, item["id"], **week(1)) for _ in range(6)])
    assert sorted(r.status for r in answers) == [201] + [409] * 5
    assert list((await places(w, item["id"])).values()) == [2]
    assert await places(w, item["id"]) == await live(w, item["id"])


async def test_the_count_follows_places_cancels_and_expiries(world: World) -> None:
    w = world
    _, vol = await w.volunteer("冯师傅", "appliance_repair")
    item = await w.item(vol, capacity_per_week=3)
    made: dict[int, list[dict[str, Any]]] = {}
    for n in (1, 2, 3):
        made[n] = [await w.order(w.who(), item["id"], **week(n)) for _ in range(3)]
        await assert_problem(await post_order(w, item["id"], **week(n)), 409, "capacity-full")
    await w.act(made[1][0]["id"], "cancel", w.staff(), reason="居民电话取消")
    await w.act(made[2][0]["id"], "accept", vol)
    await w.act(made[2][0]["id"], "cancel", w.staff(), reason="志愿者临时有事")  # accepted too
    await w.act(made[3][0]["id"], "accept", vol)
    assert await places(w, item["id"]) == await live(w, item["id"])
    # weeks 1 and 2 end unaccepted: their orders expire and give their places back
    end = dt.datetime.fromisoformat(made[2][-1]["window_end"]) + dt.timedelta(minutes=1)
    assert await orders.expire_stale(pool(w), now=end, compound_id=uuid.UUID(w.cid)) == 4
    assert await places(w, item["id"]) == await live(w, item["id"])
    assert list((await places(w, item["id"])).values()) == [3]  # week 3 untouched
    await w.act(made[3][1]["id"], "cancel", w.who(made[3][1]["resident_id"]), reason="不需要了")
    assert await places(w, item["id"]) == await live(w, item["id"])
    for n, free in ((1, 3), (2, 3), (3, 1)):  # exactly the freed places can be taken again
        for _ in range(free):
            await w.order(w.who(), item["id"], **week(n))
        await assert_problem(await post_order(w, item["id"], **week(n)), 409, "capacity-full")
    assert await places(w, item["id"]) == await live(w, item["id"])
    assert set((await places(w, item["id"])).values()) == {3}


async def test_a_changed_capacity_counts_from_the_next_order(world: World) -> None:
    """Capacity is read in the order's statement: raised, it admits more; lowered below what
    is taken, it admits none until enough are cancelled; a capacity of 1 admits one."""
    w = world
    _, vol = await w.volunteer("郑师傅", "appliance_repair")
    item = await w.item(vol, capacity_per_week=1)
    first = await w.order(w.who(), item["id"], **week(1))
    await assert_problem(await post_order(w, item["id"], **week(1)), 409, "capacity-full")

    async def capacity(n: int) -> None:
        await pool(w).execute("UPDATE menu_items SET capacity_per_week = $2 WHERE id = $1",
                              uuid.UUID(item["id"]), n)

    await capacity(3)
    more = [await w.order(w.who(), item["id"], **week(1)) for _ in range(2)]
    await assert_problem(await post_order(w, item["id"], **week(1)), 409, "capacity-full")
    await capacity(1)
    for order in (first, more[0]):
        await w.act(order["id"], "cancel", w.staff(), reason="改期")
        await assert_problem(await post_order(w, item["id"], **week(1)), 409, "capacity-full")
    await w.act(more[1]["id"], "cancel", w.staff(), reason="改期")
    await w.order(w.who(), item["id"], **week(1))
    await assert_problem(await post_order(w, item["id"], **week(1)), 409, "capacity-full")
    assert await places(w, item["id"]) == await live(w, item["id"])
    assert list((await places(w, item["id"])).values()) == [1]


async def test_refused_orders_say_why_and_write_nothing(world: World) -> None:
    w = world
    _, vol = await w.volunteer("赵师傅", "appliance_repair")
    item = await w.item(vol, capacity_per_week=5)
    await w.order(w.who(), item["id"], **week(1))
    other = (await ok(await w.directory.post("/v1/compounds", json={
        "name": "明月小区", "community": "万安社区", "street": "万安街道"}, headers=w.street),
        201))["id"]
    theirs = await ok(await w.app.post(f"/v1/compounds/{other}/service-menu", headers=bearer(
        w.token(roles=["community"], compounds=[other], person=str(uuid.uuid4()))), json={
            "title": "代买菜", "skill": "errands", "duration_minutes": 30,
            "capacity_per_week": 5}), 201)
    gone = await ok(await w.app.post(f"{w.base}/service-menu/{item['id']}/withdraw",
                                     headers=vol))
    assert gone["status"] == "withdrawn"
    before = (await w.compound_rows("orders"), await w.compound_events(),
              await places(w, item["id"]))
    for item_id in (str(uuid.uuid4()), theirs["id"]):  # no such item here: the same answer
        body = await assert_problem(await post_order(w, item_id, **week(1)), 422,
                                    "validation-error")
        assert "服务菜单中没有这个项目" in body["detail"]
    for n in (1, 2):
        body = await assert_problem(await post_order(w, item["id"], **week(n)), 409,
                                    "not-published")
        assert "已下架" in body["detail"]
    assert (await w.compound_rows("orders"), await w.compound_events(),
            await places(w, item["id"])) == before
    assert await places(w, theirs["id"]) == {}
    assert await pool(w).fetchval("SELECT count(*) FROM orders WHERE item_id = $1",
                                  uuid.UUID(theirs["id"])) == 0


async def test_orders_of_a_week_queue_on_its_row_and_a_withdraw_waits_for_them(
        world: World) -> None:
    w = world
    _, vol = await w.volunteer("孙师傅", "appliance_repair")
    item = await w.item(vol, capacity_per_week=5)
    await w.order(w.who(), item["id"], **week(1))
    async with pool(w).acquire() as conn, conn.transaction():
        await conn.execute("SELECT 1 FROM week_places WHERE item_id = $1 FOR UPDATE",
                           uuid.UUID(item["id"]))
        queued = asyncio.create_task(post_order(w, item["id"], **week(1)))
        await wait_until_blocked(conn)  # the order of week 1 waits for its week's row
        await w.order(w.who(), item["id"], **week(2))  # another week does not wait
        withdraw = asyncio.create_task(w.app.post(
            f"{w.base}/service-menu/{item['id']}/withdraw", headers=vol))
        await wait_until_blocked(conn, waiting=2)  # behind the waiting order's hold on the item
    assert (await queued).status == 201 and (await withdraw).status == 200
    await assert_problem(await post_order(w, item["id"], **week(1)), 409, "not-published")
    assert sorted((await places(w, item["id"])).values()) == [1, 2]
    assert await places(w, item["id"]) == await live(w, item["id"])


async def test_an_order_behind_a_withdraw_is_refused_and_writes_nothing(world: World) -> None:
    w = world
    _, vol = await w.volunteer("钱师傅", "appliance_repair")
    item = await w.item(vol, capacity_per_week=5)
    before = (await w.compound_rows("orders"), await w.compound_events())
    async with pool(w).acquire() as conn, conn.transaction():
        await conn.execute("UPDATE menu_items SET status = 'withdrawn' WHERE id = $1",
                           uuid.UUID(item["id"]))
        late = asyncio.create_task(post_order(w, item["id"], **week(1)))
        await wait_until_blocked(conn)  # the order reads the item once the withdraw commits
    await assert_problem(await late, 409, "not-published")
    assert (await w.compound_rows("orders"), await w.compound_events()) == before
    assert await places(w, item["id"]) == {}

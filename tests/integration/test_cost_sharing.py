"""Cost sharing over HTTP (南山归侨安置小区: the booster pump's electricity, 谁受益谁承担)."""

from __future__ import annotations

from fractions import Fraction

import pytest
from aiohttp.test_utils import TestClient

from linli.config import Settings
from services.directory.app import create_app as directory_app
from services.meetings.app import create_app
from tests.conftest import (
    AppFactory,
    TokenFactory,
    all_pages,
    assert_bad_limit,
    assert_problem,
    bearer,
)
from tests.integration.test_meetings_support import new_compound, ok, outbox

GOOD_CSV = """building,number,period,usage
1号楼,401,2026-07,12.5
1号楼,402,2026-07,10
1号楼,501,2026-07,0
1号楼,502,2026-07,20.25
1号楼,601,2026-07,7.25
"""
BAD_CSV = """building,number,period,usage
1号楼,401,2026-07,12.5
1号楼,402,2026-07,-1
1号楼,101,2026-07,3
1号楼,501,2026-13,1
"""
AREA_HALF_USAGE_HALF = {"method": "weighted", "parts": [
    {"method": "area", "weight": "1/2"}, {"method": "usage", "weight": "0.5"}]}


@pytest.fixture
async def apps(serve: AppFactory, settings: Settings) -> tuple[TestClient, TestClient]:
    # conftest types serve() without its port argument
    directory = await serve(directory_app, port=settings.port("directory"))
    return directory, await serve(create_app)


async def test_pump_electricity_plans_compared_adopted_and_billed(
    apps: tuple[TestClient, TestClient], token: TokenFactory
) -> None:
    directory, meetings = apps
    c = await new_compound(directory, token, "南山归侨安置小区")
    await c.unit("101", "70.00")
    for number, area in (("401", "90.00"), ("402", "80.00"), ("501", "90.00"), ("502", "80.00"),
                         ("601", "100.00")):
        await c.unit(number, area)
    prop = bearer(token(roles=["property"], compounds=[c.id]))
    branch = bearer(token(roles=["party_branch"], compounds=[c.id]))
    resident = bearer(token(roles=["resident"], compounds=[c.id]))
    base = f"/v1/compounds/{c.id}/costs"

    await assert_problem(await meetings.post(base, json={
        "name": "加压泵电费", "beneficiaries": {"floors": [
            {"building_id": c.building, "floors": [9]}]}}, headers=prop), 422, "validation-error")
    cost = await ok(await meetings.post(base, json={
        "name": "二次供水加压泵电费", "usage_unit": "m³", "beneficiaries": {"floors": [
            {"building_id": c.building, "floors": [4, 5, 6]}]}}, headers=prop), 201)
    assert sorted(u["number"] for u in cost["units"]) == ["401", "402", "501", "502", "601"]
    k = f"{base}/{cost['id']}"

    csv_headers = {**prop, "Content-Type": "text/csv"}
    bad = await assert_problem(await meetings.post(f"{k}/readings/import", data=BAD_CSV.encode(),
                                                   headers=csv_headers), 422, "validation-error")
    assert [e["line"] for e in bad["errors"]] == [3, 4, 5] and "第 3 行" in bad["detail"]
    assert await ok(await meetings.get(f"{k}/readings?period=2026-07", headers=prop)) == {
        "items": [], "next_cursor": None}
    imported = await ok(await meetings.post(f"{k}/readings/import", data=GOOD_CSV.encode(),
                                            headers=csv_headers), 201)
    assert (imported["readings"], imported["periods"]) == (5, ["2026-07"])

    plans = {"按户均摊": {"method": "equal"}, "按面积": {"method": "area"},
             "面积用量各半": AREA_HALF_USAGE_HALF,
             "高层多摊": {"method": "floor_band", "bands": [
                 {"from_floor": 4, "to_floor": 5, "weight": "1"},
                 {"from_floor": 6, "to_floor": 6, "weight": "3/2"}]}}
    ids = {}
    for name, method in plans.items():
        ids[name] = (await ok(await meetings.post(f"{k}/plans", json={"name": name,
                                                                      "method": method},
                                                  headers=prop), 201))["id"]
    wrong = {"method": "weighted", "parts": [{"method": "area", "weight": "1/2"},
                                             {"method": "usage", "weight": "1/3"}]}
    body = await assert_problem(await meetings.post(f"{k}/plans", json={
        "name": "权重错误", "method": wrong}, headers=prop), 422, "validation-error")
    assert "权重之和必须等于 1" in body["detail"]
    gap = {"method": "floor_band", "bands": [{"from_floor": 4, "to_floor": 5, "weight": "1"}]}
    await assert_problem(await meetings.post(f"{k}/plans", json={"name": "缺六层", "method": gap},
                                             headers=prop), 422, "validation-error")

    table = await ok(await meetings.get(
        f"{k}/compare?total_fen=10001&period=2026-07&baseline=按面积", headers=resident))
    assert table["totals"] == dict.fromkeys(plans, 10001)
    rows = {r["label"]: r for r in table["rows"]}
    assert {n: rows[f"1号楼 {n}"]["amounts"]["按面积"] for n in ("401", "402", "501", "502", "601")} \
        == {"401": 2046, "402": 1818, "501": 2046, "502": 1818, "601": 2273}
    assert {n: rows[f"1号楼 {n}"]["amounts"]["面积用量各半"] for n in ("401", "402", "501", "502",
                                                                   "601")} \
        == {"401": 2273, "402": 1909, "501": 1023, "502": 2934, "601": 1862}
    assert rows["1号楼 501"]["diff"]["面积用量各半"] == 1023 - 2046
    assert sorted(r["amounts"]["按户均摊"] for r in table["rows"]) == [2000, 2000, 2000, 2000, 2001]
    assert rows["1号楼 601"]["amounts"]["高层多摊"] == 2728

    await assert_problem(await meetings.post(f"{k}/bills", json={"period": "2026-07",
                                                                "total_fen": 10001},
                                             headers=prop), 409, "no-adopted-plan")
    await assert_problem(await meetings.post(f"{k}/plans/{ids['按面积']}/adopt", headers=prop),
                         403, "forbidden")
    await ok(await meetings.post(f"{k}/plans/{ids['按面积']}/adopt", headers=branch))
    adopted = await ok(await meetings.post(f"{k}/plans/{ids['面积用量各半']}/adopt", headers=branch))
    assert adopted["status"] == "adopted"
    plans = await ok(await meetings.get(f"{k}/plans", headers=prop))
    statuses = {p["name"]: p["status"] for p in plans["items"]}
    assert statuses["按面积"] == "superseded" and statuses["按户均摊"] == "candidate"

    await assert_problem(await meetings.post(f"{k}/bills", json={"period": "2026-07",
                                                                "total_fen": -500},
                                             headers=prop), 422, "validation-error")
    bill = await ok(await meetings.post(f"{k}/bills", json={"period": "2026-07",
                                                           "total_fen": 10001}, headers=prop), 201)
    assert {line["label"]: line["amount_fen"] for line in bill["lines"]} == {
        "1号楼 401": 2273, "1号楼 402": 1909, "1号楼 501": 1023, "1号楼 502": 2934,
        "1号楼 601": 1862}
    assert sum(line["amount_fen"] for line in bill["lines"]) == 10001
    await assert_problem(await meetings.post(f"{k}/bills", json={"period": "2026-07",
                                                                "total_fen": 10001},
                                             headers=prop), 409, "bill-exists")
    assert await ok(await meetings.get(f"{k}/bills/2026-07", headers=resident)) == bill
    types = [e["type"] for e in await outbox(meetings, cost["id"])]
    assert types == ["linli.meetings.plan.adopted", "linli.meetings.plan.adopted",
                     "linli.meetings.bills.issued"]

    # each line says how it was reached, exactly: 401 has 90.00 m² of 440.00 m² and read 12.5
    # of 50 m³; half by area, half by usage: 1/2 × 9/44 + 1/2 × 1/4 = 5/22 of 10001 fen,
    # 2272.95… fen, 2273 after rounding
    line = next(x for x in bill["lines"] if x["label"] == "1号楼 401")
    assert bill["plan_name"] == "面积用量各半"
    assert bill["basis"] == {"units": 5, "area_centi": 44000, "usage": "50",
                             "method": {"method": "weighted", "parts": [
                                 {"method": "area", "weight": "1/2"},
                                 {"method": "usage", "weight": "1/2"}]}}
    assert line["basis"] == {
        "area_centi": 9000, "floor": 4, "usage": "12.5", "share": "5/22",
        "exact_fen": "50005/22", "parts": [
            {"method": "area", "weight": "1/2", "share": "9/44", "band_weight": None},
            {"method": "usage", "weight": "1/2", "share": "1/4", "band_weight": None}]}
    assert line["amount_fen"] == 2273
    for x in bill["lines"]:  # every amount is its exact share rounded by less than a fen
        assert abs(x["amount_fen"] - Fraction(x["basis"]["exact_fen"])) < 1
    assert sum(Fraction(x["basis"]["share"]) for x in bill["lines"]) == 1
    # a reading corrected after the bill does not change the issued bill's explanation
    await ok(await meetings.post(f"{k}/readings", json={"period": "2026-07", "readings": [
        {"unit_id": c.units["401"], "usage": "30"}]}, headers=prop), 201)
    again = await ok(await meetings.get(f"{k}/bills/2026-07", headers=resident))
    assert again == bill

async def test_costs_readings_and_bills_page_with_no_gap(
    apps: tuple[TestClient, TestClient], token: TokenFactory
) -> None:
    directory, meetings = apps
    c = await new_compound(directory, token, "分页小区")
    numbers = ["401", "402", "501", "502", "601"]
    for number in numbers:
        await c.unit(number, "80.00")
    prop = bearer(token(roles=["property"], compounds=[c.id]))
    branch = bearer(token(roles=["party_branch"], compounds=[c.id]))
    base = f"/v1/compounds/{c.id}/costs"
    made = [(await ok(await meetings.post(base, json={
        "name": f"费用{n}", "beneficiaries": {"floors": [
            {"building_id": c.building, "floors": [4, 5, 6]}]}}, headers=prop), 201))["id"]
        for n in range(5)]
    pages = await all_pages(meetings, base, prop, limit=2)
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [k["id"] for p in pages for k in p] == made  # oldest first, each once
    assert all(len(k["units"]) == 5 for p in pages for k in p)

    k = f"{base}/{made[0]}"
    await ok(await meetings.post(f"{k}/readings/import", data=GOOD_CSV.encode(),
                                 headers={**prop, "Content-Type": "text/csv"}), 201)
    pages = await all_pages(meetings, f"{k}/readings", prop, limit=2, params={"period": "2026-07"})
    units = [r["unit_id"] for p in pages for r in p]
    assert units == sorted(units) and len(set(units)) == 5
    plan = await ok(await meetings.post(f"{k}/plans", json={"name": "按户均摊", "method": {
        "method": "equal"}}, headers=prop), 201)
    await ok(await meetings.post(f"{k}/plans/{plan['id']}/adopt", headers=branch))
    periods = ["2026-05", "2026-06", "2026-07"]
    for period in periods:
        await ok(await meetings.post(f"{k}/bills", json={"period": period, "total_fen": 10_000},
                                     headers=prop), 201)
    pages = await all_pages(meetings, f"{k}/bills", prop, limit=2)
    assert [b["period"] for p in pages for b in p] == periods[::-1]  # newest first
    for path in (base, f"{k}/bills", f"{k}/readings?period=2026-07"):
        await assert_bad_limit(meetings, path, prop)

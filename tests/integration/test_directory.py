"""The directory over HTTP against the real PostgreSQL and NATS."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from linli.http import POOL
from services.directory.app import create_app
from tests.conftest import (
    AppFactory,
    TokenFactory,
    all_pages,
    assert_bad_limit,
    assert_problem,
    bearer,
)


@pytest.fixture
async def directory(serve: AppFactory) -> TestClient:
    return await serve(create_app)


@pytest.fixture
def street(token: TokenFactory) -> dict[str, str]:
    return bearer(token(roles=["street_office"], compounds=["*"]))


async def make_compound(client: TestClient, headers: dict[str, str], name: str = "测试小区") -> str:
    r = await client.post("/v1/compounds", json={"name": name, "community": "万安社区",
                                                  "street": "万安街道"}, headers=headers)
    assert r.status == 201, await r.text()
    return str((await r.json())["id"])


async def post_ok(client: TestClient, path: str, body: dict[str, Any], headers: dict[str, str],
                  status: int = 201) -> dict[str, Any]:
    r = await client.post(path, json=body, headers=headers)
    assert r.status == status, await r.text()
    return await r.json()




async def test_bad_input_is_problem_json_and_writes_nothing(
    directory: TestClient, street: dict[str, str]
) -> None:
    cid = await make_compound(directory, street)
    units = f"/v1/compounds/{cid}/units"
    await assert_problem(await directory.get("/v1/nowhere", headers=street), 404, "not-found")
    await assert_problem(await directory.delete("/v1/compounds", headers=street), 405,
                         "method-not-allowed")
    r = await directory.post(units, data=b"{not json", headers={**street, "Content-Type": "application/json"})
    await assert_problem(r, 400, "malformed-json")
    b = await post_ok(directory, f"/v1/compounds/{cid}/buildings", {"name": "1号楼", "floors": 6}, street)
    wrong_type = {"building_id": b["id"], "floor": "三", "number": "101", "area": "89.5"}
    body = await assert_problem(await directory.post(units, json=wrong_type, headers=street),
                                422, "validation-error")
    assert "floor" in body["detail"]
    missing = {"building_id": b["id"], "floor": 1, "number": "101"}
    await assert_problem(await directory.post(units, json=missing, headers=street), 422,
                         "validation-error")
    bad_area = {**missing, "area": "89.567"}
    await assert_problem(await directory.post(units, json=bad_area, headers=street), 422,
                         "validation-error")
    too_high = {**missing, "area": "89.50", "floor": 7}
    await assert_problem(await directory.post(units, json=too_high, headers=street), 422,
                         "validation-error")
    huge = {"name": "x" * 100_000, "community": "c", "street": "s"}
    await assert_problem(await directory.post("/v1/compounds", json=huge, headers=street), 413,
                         "body-too-large")
    listing = await (await directory.get(units, headers=street)).json()
    assert listing["items"] == []


async def test_auth_401_and_403(directory: TestClient, street: dict[str, str],
                                token: TokenFactory) -> None:
    cid = await make_compound(directory, street)
    other = await make_compound(directory, street, "别的小区")
    r = await directory.get(f"/v1/compounds/{cid}")
    await assert_problem(r, 401, "unauthorized")
    r = await directory.get(f"/v1/compounds/{cid}", headers=bearer("not-a-jwt"))
    await assert_problem(r, 401, "unauthorized")
    resident = bearer(token(roles=["resident"], compounds=[cid]))
    r = await directory.post(f"/v1/compounds/{cid}/buildings", json={"name": "1号楼", "floors": 6},
                             headers=resident)
    await assert_problem(r, 403, "forbidden")
    assert (await directory.get(f"/v1/compounds/{cid}", headers=resident)).status == 200
    await assert_problem(await directory.get(f"/v1/compounds/{other}", headers=resident), 403,
                         "forbidden")
    community = bearer(token(roles=["community"], compounds=[cid]))
    r = await directory.post(f"/v1/compounds/{other}/buildings", json={"name": "1号楼", "floors": 6},
                             headers=community)
    await assert_problem(r, 403, "forbidden")
    listed = await (await directory.get("/v1/compounds", headers=resident)).json()
    assert [c["id"] for c in listed["items"]] == [cid]


async def _unit(client: TestClient, cid: str, building: str, number: str, area: str,
                headers: dict[str, str], status: str = "delivered") -> str:
    body = {"building_id": building, "floor": int(number[0]), "number": number, "area": area,
            "status": status}
    return str((await post_ok(client, f"/v1/compounds/{cid}/units", body, headers))["id"])


async def _person(client: TestClient, name: str, headers: dict[str, str]) -> str:
    phone = f"137{uuid.uuid4().int % 10**8:08d}"
    return str((await post_ok(client, "/v1/people", {"name": name, "phone": phone}, headers))["id"])


async def test_roll_counts_as_the_judicial_interpretation(
    directory: TestClient, street: dict[str, str]
) -> None:
    cid = await make_compound(directory, street)
    b = (await post_ok(directory, f"/v1/compounds/{cid}/buildings", {"name": "1号楼", "floors": 6},
                       street))["id"]
    investor, wife, husband, single = [await _person(directory, n, street)
                                       for n in ("陈志明", "林淑芬", "黄建国", "张秀英")]
    three = [await _unit(directory, cid, b, n, a, street)
             for n, a in (("101", "89.50"), ("102", "100.25"), ("201", "60.00"))]
    for unit in three:
        await post_ok(directory, f"/v1/compounds/{cid}/units/{unit}/owners",
                      {"person_id": investor}, street, 200)
    shared = await _unit(directory, cid, b, "202", "120.10", street)
    for person in (wife, husband):
        await post_ok(directory, f"/v1/compounds/{cid}/units/{shared}/owners",
                      {"person_id": person}, street, 200)
    own = await _unit(directory, cid, b, "301", "75.05", street)
    await post_ok(directory, f"/v1/compounds/{cid}/units/{own}/owners", {"person_id": single},
                  street, 200)
    await _unit(directory, cid, b, "601", "130.00", street, status="unsold")
    await _unit(directory, cid, b, "602", "131.00", street, status="sold")

    roll = await (await directory.get(f"/v1/compounds/{cid}/roll", headers=street)).json()
    entries = {e["entry_id"]: e for e in roll["entries"]}
    assert entries[f"person:{investor}"]["area_centi"] == 8950 + 10025 + 6000
    assert entries[f"person:{investor}"]["headcount"] == 1
    assert len(entries[f"person:{investor}"]["unit_ids"]) == 3
    co = entries["owners:" + "+".join(sorted([wife, husband]))]
    assert (co["area_centi"], co["headcount"], co["kind"]) == (12010, 1, "co_owners")
    developer = entries["developer"]
    assert (developer["area_centi"], developer["headcount"]) == (26100, 1)
    assert entries[f"person:{single}"]["area_centi"] == 7505
    assert roll["total_headcount"] == 4
    assert roll["total_area_centi"] == 8950 + 10025 + 6000 + 12010 + 7505 + 13000 + 13100
    assert roll["total_area"] == "705.90"


async def test_csv_import_is_all_or_nothing(directory: TestClient, street: dict[str, str]) -> None:
    cid = await make_compound(directory, street)
    path = f"/v1/compounds/{cid}/imports/units"
    header = "building,floors,floor,number,area,status,owners\n"
    p = [f"136{uuid.uuid4().int % 10**8:08d}" for _ in range(4)]
    good = (f"1号楼,6,1,101,89.50,delivered,陈志明:{p[0]}\n"
            f"1号楼,6,1,102,90.00,delivered,陈志明:{p[0]}\n"
            f"2号楼,6,2,201,70.25,delivered,林淑芬:{p[1]};黄建国:{p[2]}\n"
            "2号楼,6,6,601,120.00,unsold,\n")
    bad = header + good + f"2号楼,6,9,901,80.00,delivered,张三:{p[3]}\n"
    csv_headers = {**street, "Content-Type": "text/csv"}
    body = await assert_problem(await directory.post(path, data=bad.encode(), headers=csv_headers),
                                422, "validation-error")
    assert "第 6 行" in body["detail"]
    units = await (await directory.get(f"/v1/compounds/{cid}/units", headers=street)).json()
    assert units["items"] == []
    assert (await directory.get(f"/v1/compounds/{cid}/buildings", headers=street)).status == 200
    assert await (await directory.get(f"/v1/compounds/{cid}/buildings", headers=street)).json() == {
        "items": [], "next_cursor": None}
    r = await directory.post(path, data=(header.replace("owners", "owner") + good).encode(),
                             headers=csv_headers)
    assert "第 1 行" in (await assert_problem(r, 422, "validation-error"))["detail"]
    r = await directory.post(path, data=(header + good).encode(), headers=csv_headers)
    assert r.status == 201, await r.text()
    assert await r.json() == {"buildings_created": 2, "units_created": 4, "people_created": 3,
                              "ownerships_created": 4}
    roll = await (await directory.get(f"/v1/compounds/{cid}/roll", headers=street)).json()
    assert roll["total_headcount"] == 3  # one buyer of two flats, a couple, the developer


async def test_idempotency_key_replays_the_first_answer(
    directory: TestClient, street: dict[str, str]
) -> None:
    headers = {**street, "Idempotency-Key": str(uuid.uuid4())}
    body = {"name": "幂等小区", "community": "c", "street": "s"}
    first = await directory.post("/v1/compounds", json=body, headers=headers)
    second = await directory.post("/v1/compounds", json=body, headers=headers)
    assert first.status == second.status == 201
    assert (await first.json())["id"] == (await second.json())["id"]
    assert second.headers["Idempotent-Replayed"] == "true"
    other = await directory.post("/v1/compounds", json={**body, "name": "另一个"}, headers=headers)
    await assert_problem(other, 422, "validation-error")


async def test_a_person_sees_their_own_phone_and_phones_are_unique(
        directory: TestClient, street: dict[str, str], token: TokenFactory) -> None:
    """(Masking for neighbours: test_directory_privacy.)"""
    phone = f"138{uuid.uuid4().int % 10**8:08d}"
    person = await post_ok(directory, "/v1/people", {"name": "王美玲", "phone": phone}, street)
    resident = bearer(token(roles=["resident"], compounds=["x"]))
    await assert_problem(await directory.get(f"/v1/people/{person['id']}", headers=resident),
                         404, "not-found")  # in none of the caller's compounds
    self_view = bearer(token(roles=["resident"], person=person["id"]))
    own = await (await directory.get(f"/v1/people/{person['id']}", headers=self_view)).json()
    assert own["phone"] == phone
    again = await directory.post("/v1/people", json={"name": "重复", "phone": phone},
                                 headers=street)
    await assert_problem(again, 409, "conflict")


async def test_units_page_with_cursor(directory: TestClient, street: dict[str, str]) -> None:
    cid = await make_compound(directory, street)
    b = (await post_ok(directory, f"/v1/compounds/{cid}/buildings", {"name": "1号楼", "floors": 9},
                       street))["id"]
    created = {await _unit(directory, cid, b, f"{f}0{n}", "80.00", street)
               for f in range(1, 4) for n in (1, 2)}
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "4", **({"cursor": cursor} if cursor else {})}
        page = await (await directory.get(f"/v1/compounds/{cid}/units", params=params,
                                          headers=street)).json()
        seen += [u["id"] for u in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(created) and len(seen) == 6
    r = await directory.get(f"/v1/compounds/{cid}/units", params={"cursor": "@@@"}, headers=street)
    await assert_problem(r, 400, "invalid-cursor")
    r = await directory.get(f"/v1/compounds/{cid}/units", params={"limit": "0"}, headers=street)
    await assert_problem(r, 400, "invalid-limit")


async def test_roster_of_1_3_n(directory: TestClient, street: dict[str, str]) -> None:
    cid = await make_compound(directory, street)
    org = await post_ok(directory, f"/v1/compounds/{cid}/organisations",
                        {"kind": "party_branch", "name": "测试党支部"}, street)
    secretary = await _person(directory, "蔡文华", street)
    role = await post_ok(directory, f"/v1/compounds/{cid}/organisations/{org['id']}/roles",
                         {"person_id": secretary, "title": "党支部书记", "starts_on": "2025-01-01"},
                         street)
    roster = (await (await directory.get(f"/v1/compounds/{cid}/roster", headers=street)).json())["items"]
    assert roster[0]["organisation"]["kind_label"] == "党组织"
    assert roster[0]["roles"][0]["person_name"] == "蔡文华"
    r = await directory.post(f"/v1/compounds/{cid}/roles/{role['id']}/end",
                             json={"ends_on": "2024-12-31"}, headers=street)
    await assert_problem(r, 422, "validation-error")
    await post_ok(directory, f"/v1/compounds/{cid}/roles/{role['id']}/end",
                  {"ends_on": "2025-06-30"}, street, 200)
    current = await (await directory.get(f"/v1/compounds/{cid}/roster", params={"on": "2025-07-01"},
                                         headers=street)).json()
    assert current["items"][0]["roles"] == []


# ---------------------------------------------------------------- the page shape of lists


def _flat(pages: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    return [item for page in pages for item in page]


async def test_households_page_by_name_with_their_residents(
        directory: TestClient, street: dict[str, str]) -> None:
    cid = await make_compound(directory, street)
    c = f"/v1/compounds/{cid}"
    building = (await post_ok(directory, f"{c}/buildings", {"name": "1号楼", "floors": 6},
                              street))["id"]
    unit = await _unit(directory, cid, building, "101", "80.00", street)
    # two households of one name: the page boundary falls between them (name, then id)
    names = ["王家", "李家", "张家", "李家", "陈家"]
    made: list[tuple[str, str, set[str]]] = []
    for n, name in enumerate(names):
        h = await post_ok(directory, f"{c}/households", {"unit_id": unit, "name": name}, street)
        people = {await _person(directory, f"{name}成员{k}", street) for k in range(n % 3)}
        for person in people:
            await post_ok(directory, f"{c}/households/{h['id']}/residents",
                          {"person_id": person, "relation": "family"}, street, 200)
        made.append((name, h["id"], people))

    pages = await all_pages(directory, f"{c}/households", street, limit=2)
    assert [len(p) for p in pages] == [2, 2, 1]
    seen = _flat(pages)
    assert [(h["name"], h["id"]) for h in seen] == sorted((n, i) for n, i, _ in made)
    residents = {h["id"]: {r["person_id"] for r in h["residents"]} for h in seen}
    assert residents == {i: people for _, i, people in made}
    await assert_bad_limit(directory, f"{c}/households", street)


async def test_a_resident_who_moved_out_no_longer_belongs_to_the_compound(
        directory: TestClient, street: dict[str, str], token: TokenFactory) -> None:
    cid, other = await make_compound(directory, street), await make_compound(directory, street, "南山")
    c = f"/v1/compounds/{cid}"
    building = (await post_ok(directory, f"{c}/buildings", {"name": "1号楼", "floors": 6},
                              street))["id"]
    household = await post_ok(directory, f"{c}/households", {
        "unit_id": await _unit(directory, cid, building, "301", "70.00", street),
        "name": "租户刘家"}, street)
    tenant, partner = (await _person(directory, "刘租户", street),
                       await _person(directory, "刘家人", street))
    for person in (tenant, partner):
        await post_ok(directory, f"{c}/households/{household['id']}/residents",
                      {"person_id": person, "relation": "tenant"}, street, 200)
    moved_out = f"{c}/households/{household['id']}/residents/{tenant}"
    left = await directory.delete(moved_out, headers=street)
    assert left.status == 200, await left.text()
    assert [r["person_id"] for r in (await left.json())["residents"]] == [partner]
    notify = bearer(token(app="notify", scopes=["notify:internal"], compounds=["*"]))
    found = await (await directory.post(f"{c}/members/lookup", json={
        "person_ids": [tenant, partner]}, headers=notify)).json()
    assert found["members"] == [partner] and found["outside"] == [tenant]
    async with directory.app[POOL].acquire() as conn:  # the change went out as an event
        payload = await conn.fetchval(
            "SELECT payload FROM outbox WHERE subject = 'linli.directory.household.changed'"
            " ORDER BY created_at DESC, id DESC LIMIT 1")
    assert json.loads(payload)["data"]["resident_ids"] == [partner]
    await assert_problem(await directory.delete(moved_out, headers=street), 404, "not-found")
    elsewhere = f"/v1/compounds/{other}/households/{household['id']}/residents/{partner}"
    await assert_problem(await directory.delete(elsewhere, headers=street), 404, "not-found")
    resident = bearer(token(roles=["resident"], compounds=[cid]))
    await assert_problem(await directory.delete(
        f"{c}/households/{household['id']}/residents/{partner}", headers=resident), 403, "forbidden")


async def test_buildings_and_roster_page(directory: TestClient, street: dict[str, str]) -> None:
    cid = await make_compound(directory, street)
    c = f"/v1/compounds/{cid}"
    for name in ("3号楼", "1号楼", "2号楼"):
        await post_ok(directory, f"{c}/buildings", {"name": name, "floors": 6}, street)
    pages = await all_pages(directory, f"{c}/buildings", street, limit=2)
    assert [b["name"] for b in _flat(pages)] == ["1号楼", "2号楼", "3号楼"]
    for kind, name in [("property", "物业"), ("party_branch", "党支部"), ("community", "居委会")]:
        await post_ok(directory, f"{c}/organisations", {"kind": kind, "name": name}, street)
    pages = await all_pages(directory, f"{c}/roster", street, limit=1)
    assert [e["organisation"]["kind"] for e in _flat(pages)] == [
        "community", "party_branch", "property"]
    for path in ("buildings", "roster"):
        await assert_bad_limit(directory, f"{c}/{path}", street)

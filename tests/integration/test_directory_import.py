"""The CSV import of units and owners against the real PostgreSQL: what it creates, what it
finds already registered, the events it writes (in the order a line-by-line import wrote them),
and that a refused upload writes nothing."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from typing import Any

import msgspec
from aiohttp.test_utils import TestClient

from linli.http import POOL
from services.directory import importing
from services.directory.privacy import mask_phone
from tests.conftest import assert_problem, wait_until_blocked
from tests.integration.test_directory import directory, street

HEADER = "building,floors,floor,number,area,status,owners\n"
DIRECTORY = "linli.directory."
__all__ = ["directory", "street"]  # fixtures


# phones drawn one after another from a random start: never the same twice in a run (2,040
# drawn at random from 10**8 repeated one in about 50 runs, and the repeat was one person)
_NEXT_PHONE = itertools.count(uuid.uuid4().int % 10**8)


def phones(n: int) -> list[str]:
    return [f"137{next(_NEXT_PHONE) % 10**8:08d}" for _ in range(n)]


class Register:
    """One new compound, its imports and what they wrote."""

    def __init__(self, client: TestClient, headers: dict[str, str], cid: str) -> None:
        self.client, self.headers, self.cid = client, headers, cid

    @classmethod
    async def new(cls, client: TestClient, headers: dict[str, str]) -> Register:
        r = await client.post("/v1/compounds", json={"name": "导入小区", "community": "万安社区",
                                                      "street": "万安街道"}, headers=headers)
        assert r.status == 201, await r.text()
        return cls(client, headers, (await r.json())["id"])

    async def upload(self, lines: str) -> Any:
        return await self.client.post(f"/v1/compounds/{self.cid}/imports/units",
                                      data=(HEADER + lines).encode(),
                                      headers={**self.headers, "Content-Type": "text/csv"})

    async def imported(self, lines: str) -> dict[str, int]:
        r = await self.upload(lines)
        assert r.status == 201, await r.text()
        return dict(await r.json())

    async def refused(self, lines: str) -> list[dict[str, Any]]:
        """The upload is a 422 naming its bad lines; their errors."""
        body = await assert_problem(await self.upload(lines), 422, "validation-error")
        assert body["detail"].startswith(f"第 {body['errors'][0]['line']} 行: ")
        return [{"line": e["line"], "detail": e["detail"]} for e in body["errors"]]

    async def units(self) -> dict[str, dict[str, Any]]:
        r = await self.client.get(f"/v1/compounds/{self.cid}/units", params={"limit": "200"},
                                  headers=self.headers)
        assert r.status == 200
        return {u["number"]: u for u in (await r.json())["items"]}

    async def buildings(self) -> dict[str, dict[str, Any]]:
        r = await self.client.get(f"/v1/compounds/{self.cid}/buildings", headers=self.headers)
        return {b["name"]: b for b in (await r.json())["items"]}

    async def mark(self) -> Any:
        assert self.client.app is not None
        return await self.client.app[POOL].fetchval("SELECT clock_timestamp()")

    async def events_since(self, mark: Any) -> list[dict[str, Any]]:
        """The events written since `mark`, in the order the relay sends them."""
        assert self.client.app is not None
        rows = await self.client.app[POOL].fetch(
            "SELECT payload FROM outbox WHERE created_at > $1 ORDER BY created_at, id", mark)
        return [msgspec.json.decode(bytes(r["payload"])) for r in rows]

    async def people(self, numbers: list[str]) -> int:
        assert self.client.app is not None
        return int(await self.client.app[POOL].fetchval(
            "SELECT count(*) FROM people WHERE phone = ANY($1::text[])", numbers))


def kinds(written: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["type"].removeprefix(DIRECTORY), e["subject"]) for e in written]


async def test_an_import_announces_what_it_created_and_a_reimport_writes_nothing(
        directory: TestClient, street: dict[str, str]) -> None:
    reg = await Register.new(directory, street)
    p = phones(3)
    lines = (f"1号楼,6,1,101,89.50,delivered,陈志明:{p[0]}\n"
             f"1号楼,6,1,102,90.00,delivered,陈志明:{p[0]}\n"
             f"2号楼,6,2,201,70.25,sold,林淑芬:{p[1]};黄建国:{p[2]}\n"
             "2号楼,6,6,601,120.00,unsold,\n"
             "2号楼,6,3,301,88.00,,王芳;王芳\n")  # no phone: two people of one name
    mark = await reg.mark()
    assert await reg.imported(lines) == {"buildings_created": 2, "units_created": 5,
                                         "people_created": 5, "ownerships_created": 6}
    written = await reg.events_since(mark)
    units, buildings = await reg.units(), await reg.buildings()
    b1, b2 = buildings["1号楼"]["id"], buildings["2号楼"]["id"]
    u = {number: unit["id"] for number, unit in units.items()}
    chen, = units["101"]["owner_ids"]
    assert units["102"]["owner_ids"] == [chen]
    lin, huang = (e["subject"] for e in written if e["type"].endswith("person.created")
                  and e["data"]["name"] in ("林淑芬", "黄建国"))
    wang = [e["subject"] for e in written if e["type"].endswith("person.created")
            and e["data"]["name"] == "王芳"]
    assert len(set(wang)) == 2 and sorted(units["301"]["owner_ids"]) == sorted(wang)
    # line by line: its building when new, its unit, its new owners, the unit's owners
    assert kinds(written) == [
        ("building.created", b1), ("unit.created", u["101"]), ("person.created", chen),
        ("unit.owners_changed", u["101"]), ("unit.created", u["102"]),
        ("unit.owners_changed", u["102"]), ("building.created", b2),
        ("unit.created", u["201"]), ("person.created", lin), ("person.created", huang),
        ("unit.owners_changed", u["201"]), ("unit.created", u["601"]),
        ("unit.created", u["301"]), ("person.created", wang[0]), ("person.created", wang[1]),
        ("unit.owners_changed", u["301"]), ("units.imported", reg.cid)]
    data = {(e["type"].removeprefix(DIRECTORY), e["subject"]): e["data"] for e in written}
    assert data[("building.created", b2)] == {"building_id": b2, "compound_id": reg.cid,
                                             "name": "2号楼"}
    assert data[("unit.created", u["201"])] == {
        "unit_id": u["201"], "compound_id": reg.cid, "building_id": b2, "number": "201",
        "area_centi": 7025, "status": "sold"}
    assert data[("unit.created", u["301"])]["status"] == "delivered"
    assert data[("person.created", lin)] == {"person_id": lin, "name": "林淑芬"}
    assert data[("unit.owners_changed", u["201"])] == {
        "unit_id": u["201"], "compound_id": reg.cid, "owner_ids": sorted([lin, huang])}
    assert data[("units.imported", reg.cid)] == {"compound_id": reg.cid, "units_created": 5,
                                                 "ownerships_created": 6}
    assert all(e.get("compoundid") == reg.cid for e in written
               if not e["type"].endswith("person.created"))

    again = await reg.mark()
    assert await reg.refused(lines) == [
        {"line": 2, "detail": "1号楼 已有房号 101"}, {"line": 3, "detail": "1号楼 已有房号 102"},
        {"line": 4, "detail": "2号楼 已有房号 201"}, {"line": 5, "detail": "2号楼 已有房号 601"},
        {"line": 6, "detail": "2号楼 已有房号 301"}]
    assert await reg.events_since(again) == []
    assert await reg.units() == units and await reg.people(p) == 3


async def test_one_bad_line_among_good_ones_writes_nothing_and_is_named(
        directory: TestClient, street: dict[str, str]) -> None:
    reg = await Register.new(directory, street)
    p = phones(3)
    good = (f"1号楼,6,1,101,89.50,delivered,陈志明:{p[0]}\n"
            f"2号楼,6,2,201,70.25,delivered,林淑芬:{p[1]}\n")
    mark = await reg.mark()
    # the building's floors are those of the first line naming it: 6, whatever line 4 says
    assert await reg.refused(good + f"1号楼,30,9,901,80.00,delivered,张三:{p[2]}\n") == [
        {"line": 4, "detail": "楼层 9 超过该楼栋的 6 层"}]
    bad_area = await reg.refused(good + "3号楼,6,1,101,0.00,delivered,\n")
    assert [e["line"] for e in bad_area] == [4] and "area" in bad_area[0]["detail"]
    assert await reg.buildings() == {} and await reg.units() == {}
    assert await reg.people(p) == 0 and await reg.events_since(mark) == []

    assert (await reg.imported(good))["units_created"] == 2
    # a registered building keeps its floors: a line cannot raise them
    mark = await reg.mark()
    assert await reg.refused(f"3号楼,6,1,101,80.00,delivered,张三:{p[2]}\n"
                             "1号楼,30,7,701,80.00,delivered,\n") == [
        {"line": 3, "detail": "楼层 7 超过该楼栋的 6 层"}]
    assert set(await reg.buildings()) == {"1号楼", "2号楼"} and set(await reg.units()) == {
        "101", "201"}
    assert await reg.people(p[2:]) == 0 and await reg.events_since(mark) == []


async def test_a_unit_twice_in_one_file_names_the_second_line(
        directory: TestClient, street: dict[str, str]) -> None:
    reg = await Register.new(directory, street)
    p = phones(2)
    line = f"1号楼,6,1,101,89.50,delivered,陈志明:{p[0]}\n"
    mark = await reg.mark()
    assert await reg.refused(line + f"2号楼,6,1,101,80.00,delivered,林淑芬:{p[1]}\n" + line) == [
        {"line": 4, "detail": "1号楼 已有房号 101"}]
    assert await reg.refused(line + line + "2号楼,6,7,701,80.00,delivered,\n") == [
        {"line": 3, "detail": "1号楼 已有房号 101"}, {"line": 4, "detail": "楼层 7 超过该楼栋的 6 层"}]
    # a bad line writes nothing, so the same unit on a later line is not a repeat
    assert await reg.refused("1号楼,6,9,101,80.00,delivered,\n" + line) == [
        {"line": 2, "detail": "楼层 9 超过该楼栋的 6 层"}]
    assert await reg.units() == {} and await reg.people(p) == 0
    assert await reg.events_since(mark) == []


async def test_an_owner_of_several_units_is_one_person(
        directory: TestClient, street: dict[str, str]) -> None:
    reg = await Register.new(directory, street)
    p = phones(2)
    assert await reg.imported(f"1号楼,6,1,101,89.50,delivered,陈志明:{p[0]}\n"
                              f"1号楼,6,1,102,90.00,delivered,陈志明:{p[0]}\n") == {
        "buildings_created": 1, "units_created": 2, "people_created": 1, "ownerships_created": 2}
    chen, = (await reg.units())["101"]["owner_ids"]
    mark = await reg.mark()
    # registered by phone: found, not created again (nor renamed), in a new upload too; the
    # same owner twice on one line owns the unit once
    assert await reg.imported(f"2号楼,6,3,301,70.00,delivered,陈先生:{p[0]}\n"
                              f"2号楼,6,3,302,70.00,delivered,林淑芬:{p[1]};林淑芬:{p[1]}\n") == {
        "buildings_created": 1, "units_created": 2, "people_created": 1, "ownerships_created": 2}
    units = await reg.units()
    assert [units[n]["owner_ids"] for n in ("101", "102", "301")] == [[chen]] * 3
    lin, = units["302"]["owner_ids"]
    written = await reg.events_since(mark)
    assert [e["subject"] for e in written if e["type"].endswith("person.created")] == [lin]
    assert [e["data"]["owner_ids"] for e in written if e["type"].endswith("owners_changed")] == [
        [chen], [lin]]
    r = await directory.get(f"/v1/people/{chen}", headers=street)
    assert (await r.json())["name"] == "陈志明"
    roll = await (await directory.get(f"/v1/compounds/{reg.cid}/roll", headers=street)).json()
    entries = {e["entry_id"]: e for e in roll["entries"]}
    assert entries[f"person:{chen}"]["headcount"] == 1
    assert len(entries[f"person:{chen}"]["unit_ids"]) == 3


async def upload_racing(reg: Register, lines: str, sql: str, *args: Any) -> Any:
    """The upload, while another transaction writes `sql` and commits once the upload waits for
    it (the upload read the register before that row existed)."""
    assert reg.client.app is not None
    async with reg.client.app[POOL].acquire() as holder:
        async with holder.transaction():
            await holder.execute(sql, *args)
            upload = asyncio.create_task(reg.upload(lines))
            await wait_until_blocked(holder)
    return await upload


async def test_a_phone_registered_meanwhile_refuses_the_upload_naming_its_line(
        directory: TestClient, street: dict[str, str]) -> None:
    reg = await Register.new(directory, street)
    p = phones(2)
    mark = await reg.mark()
    r = await upload_racing(reg, f"1号楼,6,1,101,89.50,delivered,陈志明:{p[0]}\n"
                                 f"1号楼,6,1,102,90.00,delivered,林淑芬:{p[1]}\n",
                            "INSERT INTO people (id, name, phone) VALUES ($1, '林女士', $2)",
                            uuid.uuid4(), p[1])
    body = await assert_problem(r, 422, "validation-error")
    assert [(e["line"], e["detail"]) for e in body["errors"]] == [
        (3, f"手机号 {mask_phone(p[1])} 已登记")]
    assert await reg.units() == {} and await reg.buildings() == {}
    assert await reg.people(p) == 1 and await reg.events_since(mark) == []


async def test_a_building_registered_meanwhile_refuses_the_upload(
        directory: TestClient, street: dict[str, str]) -> None:
    reg = await Register.new(directory, street)
    p = phones(1)
    mark = await reg.mark()
    r = await upload_racing(reg, f"1号楼,6,1,101,89.50,delivered,陈志明:{p[0]}\n",
                            "INSERT INTO buildings (id, compound_id, name, floors)"
                            " VALUES ($1, $2, '1号楼', 30)", uuid.uuid4(), uuid.UUID(reg.cid))
    assert "请重新导入" in (await assert_problem(r, 409, "conflict"))["detail"]
    assert set(await reg.buildings()) == {"1号楼"} and await reg.units() == {}
    assert await reg.people(p) == 0 and await reg.events_since(mark) == []


async def test_two_imports_of_the_same_new_units_in_opposite_orders_end_one_written_one_refused(
    directory: TestClient, street: dict[str, str]
) -> None:
    """Both insert the same numbers at once: in the file's order they would each wait for the
    other (PostgreSQL's deadlock error, a 500); in one order one is written, the other refused."""
    for _ in range(3):
        register = await Register.new(directory, street)
        await register.imported("1号楼,30,0,1,90.5,delivered,\n")  # the building is there
        lines = [f"1号楼,30,{n // 100},{n},90.5,delivered,\n" for n in range(100, 1600)]
        answers = await asyncio.gather(register.upload("".join(lines)),
                                       register.upload("".join(reversed(lines))))
        assert sorted(a.status for a in answers) == [201, 422], [a.status for a in answers]
        refused = await assert_problem(next(a for a in answers if a.status == 422), 422,
                                       "validation-error")
        assert "已有房号" in refused["detail"]


def many_lines(numbers: list[str], first: int = 0) -> str:
    """A line a pair of new owners' phones, 100 units a building (short: the tests' 64 KB)."""
    return "".join(f"{(first + i) // 100 + 1}号楼,30,{(first + i) % 100 // 10 + 1},{first + i:05d},80,,"
                   f"甲:{numbers[2 * i]};乙:{numbers[2 * i + 1]}\n"
                   for i in range(len(numbers) // 2))


async def test_an_upload_of_more_events_than_a_statement_writes_them_in_file_order(
        directory: TestClient, street: dict[str, str]) -> None:
    """The events are written a chunk a statement (never all at once); across the chunks they
    keep the file's order, each row at its own time, so their random ids decide nothing."""
    reg = await Register.new(directory, street)
    n = 1020  # 4 events a line and 11 buildings: more than two statements' (in 56 KB)
    numbers = phones(2 * n)
    mark = await reg.mark()
    assert await reg.imported(many_lines(numbers)) == {
        "buildings_created": 11, "units_created": n, "people_created": 2 * n,
        "ownerships_created": 2 * n}
    assert directory.app is not None
    pool = directory.app[POOL]
    buildings = {r["name"]: str(r["id"]) for r in await pool.fetch(
        "SELECT id, name FROM buildings WHERE compound_id = $1", uuid.UUID(reg.cid))}
    units = {r["number"]: str(r["id"]) for r in await pool.fetch(
        "SELECT id, number FROM units WHERE compound_id = $1", uuid.UUID(reg.cid))}
    people = {r["phone"]: str(r["id"]) for r in await pool.fetch(
        "SELECT id, phone FROM people WHERE phone = ANY($1::text[])", numbers)}
    expected = []
    for i in range(n):
        unit, owners = units[f"{i:05d}"], [people[p] for p in numbers[2 * i:2 * i + 2]]
        if i % 100 == 0:
            expected.append(("building.created", buildings[f"{i // 100 + 1}号楼"]))
        expected += [("unit.created", unit), *(("person.created", o) for o in owners),
                     ("unit.owners_changed", unit)]
    expected.append(("units.imported", reg.cid))
    assert len(expected) > 2 * importing.EVENTS_A_STATEMENT
    rows = await pool.fetch("SELECT payload, created_at FROM outbox WHERE created_at > $1"
                            " ORDER BY created_at, id", mark)
    written = [msgspec.json.decode(bytes(r["payload"])) for r in rows]
    assert kinds(written) == expected
    assert len({r["created_at"] for r in rows}) == len(rows)  # none left to its random id
    unit, owners = units[f"{n - 1:05d}"], [people[p] for p in numbers[-2:]]
    assert [e["data"] for e in written[-5:]] == [
        {"unit_id": unit, "compound_id": reg.cid, "building_id": buildings["11号楼"],
         "number": f"{n - 1:05d}", "area_centi": 8000, "status": "delivered"},
        {"person_id": owners[0], "name": "甲"}, {"person_id": owners[1], "name": "乙"},
        {"unit_id": unit, "compound_id": reg.cid, "owner_ids": sorted(owners)},
        {"compound_id": reg.cid, "units_created": n, "ownerships_created": 2 * n}]


async def test_a_unit_number_taken_meanwhile_on_the_last_line_of_a_large_upload_writes_nothing(
        directory: TestClient, street: dict[str, str]) -> None:
    """Found at write time, on the last line of an upload of more events than two statements':
    no unit, person, ownership or event of it is written."""
    reg = await Register.new(directory, street)
    n = 1020
    numbers = phones(2 * n)
    # the buildings are there: the race is on a unit number
    await reg.imported("".join(f"{b}号楼,30,1,x{b},80,,\n" for b in range(1, 12)))
    units, mark = await reg.units(), await reg.mark()
    building = (await reg.buildings())["11号楼"]["id"]
    r = await upload_racing(reg, many_lines(numbers),
                            "INSERT INTO units (id, compound_id, building_id, floor, number,"
                            " area_centi, status) VALUES ($1, $2, $3, 1, $4, 9000, 'delivered')",
                            uuid.uuid4(), uuid.UUID(reg.cid), uuid.UUID(building), f"{n - 1:05d}")
    body = await assert_problem(r, 422, "validation-error")
    assert [(e["line"], e["detail"]) for e in body["errors"]] == [
        (n + 1, f"11号楼 已有房号 {n - 1:05d}")]
    assert await reg.people(numbers) == 0 and await reg.events_since(mark) == []
    assert directory.app is not None
    assert await directory.app[POOL].fetchval(
        "SELECT count(*) FROM units WHERE compound_id = $1", uuid.UUID(reg.cid)) == len(units) + 1

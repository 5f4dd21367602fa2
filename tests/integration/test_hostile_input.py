"""No input gives a 500 and none is silently changed: NUL characters and lone surrogates are
refused before PostgreSQL sees them (naming the field), numbers are ASCII digits to the very
end, values the database would refuse are refused by the schema first, JSON comes as JSON."""

from __future__ import annotations

import gzip
import json
import uuid
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from services.meetings.app import create_app as meetings_app
from tests.conftest import AppFactory, TokenFactory, assert_problem, bearer
from tests.integration.test_directory import directory, make_compound, post_ok, street
from tests.integration.test_issues import World, world
from tests.integration.test_open311 import O, spec_error

__all__ = ["directory", "street", "world"]  # fixtures


async def _field(response: Any, field: str) -> dict[str, Any]:
    body = await assert_problem(response, 422, "validation-error")
    assert body["errors"][0]["field"] == field, body
    return body


async def test_nul_and_lone_surrogates_are_refused_naming_the_field(
    directory: TestClient, street: dict[str, str],
) -> None:
    cid = await make_compound(directory, street)
    body = {"name": "阳光\u0000花园", "community": "万安社区", "street": "万安街道"}
    await _field(await directory.post("/v1/compounds", json=body, headers=street), "name")
    await _field(await directory.patch(f"/v1/compounds/{cid}", json={"address": "1号\u0000"},
                                       headers=street), "address")
    raw = b'{"name": "\\ud800", "community": "c", "street": "s"}'
    r = await directory.post("/v1/compounds", data=raw,
                             headers={**street, "Content-Type": "application/json"})
    await _field(r, "name")  # valid JSON text, but no character: refused, not "malformed"
    r = await directory.get(f"/v1/compounds/{cid}/roster", params={"on": "2026-01-01\u0000"},
                            headers=street)
    await _field(r, "on")
    await assert_problem(await directory.get("/v1/compounds/%00", headers=street), 404, "not-found")
    listed = await (await directory.get("/v1/compounds", headers=street)).json()
    assert all("\u0000" not in c["name"] for c in listed["items"])


async def test_a_csv_with_a_nul_is_refused_naming_the_line(
    directory: TestClient, street: dict[str, str],
) -> None:
    cid = await make_compound(directory, street)
    csv = ("building,floors,floor,number,area,status,owners\n"
           "1号楼,6,1,101,89.50,delivered,\n1号楼,6,1,102,90.00,delivered,王\u0000芳:13900001111\n")
    r = await directory.post(f"/v1/compounds/{cid}/imports/units", data=csv.encode(),
                             headers={**street, "Content-Type": "text/csv"})
    body = await _field(r, "line 3")
    assert "第 3 行" in body["detail"]
    units = await (await directory.get(f"/v1/compounds/{cid}/units", headers=street)).json()
    assert units["items"] == []


async def test_numbers_are_ascii_digits_to_the_very_end(
    directory: TestClient, street: dict[str, str],
) -> None:
    cid = await make_compound(directory, street)
    b = await post_ok(directory, f"/v1/compounds/{cid}/buildings", {"name": "1号楼", "floors": 6},
                      street)
    url = f"/v1/compounds/{cid}/units"
    for i, area in enumerate(["0", "0.00", "00.0", "89.5\n", "89.50\n", "８９.５０", "٨٩.٥٠",
                              "89.5 ", " 89.5", "1e3", "-1"]):
        body = {"building_id": b["id"], "floor": 1, "number": f"10{i}", "area": area}
        await _field(await directory.post(url, json=body, headers=street), "area")
    unit = await post_ok(directory, url, {"building_id": b["id"], "floor": 1, "number": "101",
                                          "area": "89.5"}, street)
    assert (unit["area"], unit["area_centi"]) == ("89.50", 8950)
    await _field(await directory.patch(f"{url}/{unit['id']}", json={"area": "0"}, headers=street),
                 "area")
    for phone in ("13800138000\n", "１３８００１３８０００"):
        await _field(await directory.post("/v1/people", json={"name": "林", "phone": phone},
                                          headers=street), "phone")
    units = await (await directory.get(url, headers=street)).json()
    assert [u["area"] for u in units["items"]] == ["89.50"]


async def test_json_endpoints_refuse_other_content_types(
    directory: TestClient, street: dict[str, str],
) -> None:
    name = f"阳光花园-{uuid.uuid4().hex[:8]}"
    body = json.dumps({"name": name, "community": "万安社区", "street": "万安街道"},
                      ensure_ascii=False).encode()
    for kind in ("text/plain", "application/x-www-form-urlencoded", "text/csv"):
        r = await directory.post("/v1/compounds", data=body, headers={**street, "Content-Type": kind})
        problem = await assert_problem(r, 415, "unsupported-media-type")
        assert "JSON" in problem["detail"]
    r = await directory.post("/v1/compounds", data=body,
                             headers={**street, "Content-Type": "application/json; charset=utf-8"})
    assert r.status == 201, await r.text()
    # the shared test database holds many compounds: read every page, not the first
    names: list[str] = []
    cursor = ""
    while True:
        page = await (await directory.get("/v1/compounds", params={"limit": "200", **(
            {"cursor": cursor} if cursor else {})}, headers=street)).json()
        names += [c["name"] for c in page["items"]]
        if not (cursor := page.get("next_cursor") or ""):
            break
    assert names.count(name) == 1, "a refused body must write nothing; the JSON one writes once"


async def test_a_body_that_is_not_what_its_content_encoding_says_is_a_400(
    directory: TestClient, street: dict[str, str],
) -> None:
    """A body sent as gzip that is none: aiohttp raised while reading it, which left as a 500;
    the JSON routes and the CSV uploads now say so in a 400 and write nothing."""
    cid = await make_compound(directory, street)
    name = f"阳光花园-{uuid.uuid4().hex[:8]}"
    body = json.dumps({"name": name, "community": "万安社区", "street": "万安街道"},
                      ensure_ascii=False).encode()
    json_gzip = {**street, "Content-Type": "application/json", "Content-Encoding": "gzip"}
    r = await directory.post("/v1/compounds", data=body, headers=json_gzip)
    problem = await assert_problem(r, 400, "bad-request")
    assert "Content-Encoding" in problem["detail"] and "压缩" in problem["detail"]
    assert r.headers["Connection"] == "close"  # the rest of that body blocks the connection
    csv = "building,floors,floor,number,area,status,owners\n1号楼,6,1,101,89.50,delivered,\n"
    r = await directory.post(f"/v1/compounds/{cid}/imports/units", data=csv.encode(),
                             headers={**street, "Content-Type": "text/csv", "Content-Encoding": "gzip"})
    await assert_problem(r, 400, "bad-request")
    units = await (await directory.get(f"/v1/compounds/{cid}/units", headers=street)).json()
    assert units["items"] == []
    r = await directory.post("/v1/compounds", data=gzip.compress(body), headers=json_gzip)
    assert r.status == 201, await r.text()  # a body that is gzip is read as before
    assert (await r.json())["name"] == name


async def test_limits_the_database_has_are_in_the_schema(
    serve: AppFactory, token: TokenFactory, directory: TestClient,
) -> None:
    meetings = await serve(meetings_app)
    cid = str(uuid.uuid4())
    branch = bearer(token(roles=["party_branch"], compounds=[cid]))
    created = await meetings.post(f"/v1/compounds/{cid}/proposals", headers=branch, json={
        "title": "加装电梯", "matter": "art278_7", "body": "一号楼加装电梯"})
    assert created.status == 201, await created.text()
    pid = (await created.json())["id"]
    for version in ("4294967296", "2147483648", "0"):
        r = await meetings.get(f"/v1/compounds/{cid}/proposals/{pid}/opinions",
                               params={"version": version}, headers=branch)
        await _field(r, "version")
    for edge in ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"):  # no UTC instant
        r = await meetings.post(f"/v1/compounds/{cid}/proposals/{pid}/consultation",
                                json={"closes_at": edge}, headers=branch)
        await _field(r, "closes_at")
    spec = await (await meetings.get("/openapi.json")).json()
    params = spec["paths"]["/v1/compounds/{compound_id}/proposals/{proposal_id}/opinions"]["get"]
    version = next(p for p in params["parameters"] if p["name"] == "version")
    assert "2147483647" in str(version["schema"])
    directory_spec = await (await directory.get("/openapi.json")).json()
    units = directory_spec["paths"]["/v1/compounds/{compound_id}/units"]["get"]["parameters"]
    limit = next(p for p in units if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 200 and limit["schema"]["minimum"] == 1


async def test_open311_refuses_bad_forms_in_its_own_error_format(world: World) -> None:
    w = world
    resident = w.token(roles=["resident"], compounds=[w.cid])
    form = {"api_key": resident, "jurisdiction_id": w.cid, "service_code": "lift",
            "address_string": "电梯"}
    r = await w.issues.post(f"{O}/requests.json", data=b"--x\r\n",
                            headers={"Content-Type": "multipart/form-data"})
    await spec_error(r, 400)
    for raw, kind in ((b"service_code=lift", "application/x-www-form-urlencoded; charset=nope"),
                      (b"service_code=lift&description=\xe7\x94", "application/x-www-form-urlencoded")):
        r = await w.issues.post(f"{O}/requests.json", data=raw, headers={"Content-Type": kind})
        assert "不是 UTF-8 编码" in await spec_error(r, 400)  # the charset nobody knows: was a 500
    r = await w.issues.post(f"{O}/requests.json", data=b"service_code=lift", headers={
        "Content-Type": "application/x-www-form-urlencoded", "Content-Encoding": "gzip"})
    assert "Content-Encoding" in await spec_error(r, 400) and r.headers["Connection"] == "close"
    with_nul = aiohttp.FormData({**form, "description": "电梯\u0000坏了"})
    assert "description" in await spec_error(await w.issues.post(f"{O}/requests.json",
                                                                 data=with_nul), 400)
    for lat in ("nan", "inf", "1000", "九十"):  # not stored as NaN or as a point off the earth
        assert "lat" in await spec_error(await w.issues.post(f"{O}/requests.json", data={
            **form, "description": "电梯坏了", "lat": lat, "long": "118.6"}), 400)
    await spec_error(await w.issues.get(f"{O}/requests.json",
                                        params={"jurisdiction_id": w.cid, "status": "x\u0000"}),
                     400)
    r = await w.issues.get(f"{w.base}/issues/similar", params={"category": "lift",
                                                               "text": "电梯\u0000"},
                           headers=w.person())
    await _field(r, "text")
    spec = await (await w.issues.get("/openapi.json")).json()
    for path, ops in spec["paths"].items():
        for op in ops.values():
            errors = op["responses"]["default"]["content"]
            if path.startswith(O):
                assert list(errors) == ["application/json"]
                assert errors["application/json"]["schema"]["type"] == "array"
            else:
                assert list(errors) == ["application/problem+json"]


async def test_a_body_or_csv_line_that_fails_its_schema_is_told_why_in_chinese(
    directory: TestClient, street: dict[str, str],
) -> None:
    r = await directory.post("/v1/compounds", json={"name": 5, "community": "万安社区",
                                                    "street": "万安街道"}, headers=street)
    body = await _field(r, "name")
    assert body["detail"] == "请求体字段校验失败: name: 应为文本, 收到的是整数"
    cid = await make_compound(directory, street)
    csv = "building,floors,floor,number,area,status,owners\n1号楼,6,1,101,八十九,delivered,\n"
    r = await directory.post(f"/v1/compounds/{cid}/imports/units", data=csv.encode(),
                             headers={**street, "Content-Type": "text/csv"})
    body = await _field(r, "line 2")
    assert body["errors"][0]["detail"] == "area: 格式不正确"  # not msgspec's English and regex

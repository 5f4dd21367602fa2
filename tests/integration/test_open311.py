"""The Open311 GeoReport v2 façade, driven as an Open311 client would drive it."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import bearer
from tests.integration.test_issues import World, ok, step, world

__all__ = ["world"]
O = "/open311/v2"  # noqa: E741


async def spec_error(response: Any, status: int) -> str:
    """Errors are the spec's array of {code, description}, not problem+json."""
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    body = await response.json()
    assert isinstance(body, list) and body[0]["code"] == status and body[0]["description"]
    return str(body[0]["description"])


async def test_open311_client_from_discovery_to_status(world: World) -> None:
    w = world
    client = w.issues
    discovery = await ok(await client.get(f"{O}/discovery.json"), 200)
    endpoint = discovery["endpoints"][0]
    assert endpoint["url"].endswith(O) and "application/json" in endpoint["formats"]
    services = await ok(await client.get(f"{O}/services.json",
                                         params={"jurisdiction_id": w.cid}), 200)
    lift = next(s for s in services if s["service_code"] == "lift")
    assert lift["metadata"] is True and lift["type"] == "realtime"
    definition = await ok(await client.get(f"{O}/services/lift.json",
                                           params={"jurisdiction_id": w.cid}), 200)
    trapped = definition["attributes"][0]
    assert (trapped["code"], trapped["required"], trapped["order"]) == ("trapped", True, 1)
    assert {v["key"] for v in trapped["values"]} == {"yes", "no"}

    resident = w.token(roles=["resident"], compounds=[w.cid])
    form = {"api_key": resident, "jurisdiction_id": w.cid, "service_code": "lift",
            "description": "2号电梯门关不上，一直报警", "address_string": "电梯",
            "attribute[trapped]": "no", "media_url": "https://img.example.cn/lift.jpg"}
    created = (await ok(await client.post(f"{O}/requests.json", data=form)))[0]
    request_id, token = created["service_request_id"], created["token"]
    assert "物业" in created["service_notice"]
    by_token = await ok(await client.get(f"{O}/tokens/{token}.json"), 200)
    assert by_token == [{"service_request_id": request_id, "token": token}]

    one = f"{O}/requests/{request_id}.json"
    params = {"jurisdiction_id": w.cid}
    (request,) = await ok(await client.get(one, params=params), 200)
    assert (request["status"], request["service_code"], request["address"]) == ("open", "lift", "电梯")
    assert request["media_url"] == "https://img.example.cn/lift.jpg"
    assert request["agency_responsible"] == "物业服务企业" and request["expected_datetime"]

    prop = w.person("property")
    await step(w, request_id, prop, to="accepted")
    await step(w, request_id, prop, to="resolved", note="已更换门机")
    (request,) = await ok(await client.get(one, params=params), 200)
    assert request["status"] == "closed" and request["status_notes"] == "已解决: 已更换门机"

    app = w.token(app="wechat-miniapp", compounds=[w.cid], scopes=["issues:report"])
    second = (await ok(await client.post(f"{O}/requests.json", data={
        "api_key": app, "jurisdiction_id": w.cid, "service_code": "repair",
        "description": "单元门禁坏了", "address_id": w.unit, "first_name": "阿姨",
        "last_name": "王"})))[0]
    (request,) = await ok(await client.get(f"{O}/requests/{second['service_request_id']}.json",
                                           params=params), 200)
    assert request["address_id"] == w.unit and request["status"] == "open"
    staff_view = await ok(await client.get(
        f"/v1/compounds/{w.cid}/issues/{second['service_request_id']}", headers=prop), 200)
    assert staff_view["on_behalf"] is True and staff_view["channel"] == "open311"

    listing = f"{O}/requests.json"
    closed = await ok(await client.get(listing, params={**params, "status": "closed"}), 200)
    assert [r["service_request_id"] for r in closed] == [request_id]
    both = await ok(await client.get(listing, params={**params, "status": "open,closed"}), 200)
    assert len(both) == 2
    assert len(await ok(await client.get(listing, params={**params, "service_code": "repair"}),
                        200)) == 1
    page1 = await ok(await client.get(listing, params={**params, "page_size": "1"}), 200)
    page2 = await ok(await client.get(listing, params={**params, "page_size": "1", "page": "2"}), 200)
    assert {page1[0]["service_request_id"], page2[0]["service_request_id"]} == {
        request_id, second["service_request_id"]}
    future = await ok(await client.get(listing, params={
        **params, "start_date": "2099-01-01T00:00:00Z"}), 200)
    assert future == []
    ids = await ok(await client.get(listing, params={**params, "service_request_id": request_id}),
                   200)
    assert [r["service_request_id"] for r in ids] == [request_id]


async def test_open311_errors_are_the_spec_array(world: World) -> None:
    w = world
    client = w.issues
    params = {"jurisdiction_id": w.cid}
    await spec_error(await client.get(f"{O}/services.json"), 400)
    await spec_error(await client.get(f"{O}/services.json",
                                      params={"jurisdiction_id": str(uuid.uuid4())}), 404)
    await spec_error(await client.get(f"{O}/services/nothing.json", params=params), 404)
    await spec_error(await client.get(f"{O}/requests/{uuid.uuid4()}.json", params=params), 404)
    await spec_error(await client.get(f"{O}/requests/abc.json", params=params), 404)
    await spec_error(await client.get(f"{O}/tokens/{uuid.uuid4()}.json"), 404)
    await spec_error(await client.get(f"{O}/requests/{uuid.uuid4()}.xml", params=params), 404)
    await spec_error(await client.get(f"{O}/nothing-here.json"), 404)
    await spec_error(await client.delete(f"{O}/requests.json"), 404)
    await spec_error(await client.get(f"{O}/requests.json",
                                      params={**params, "start_date": "yesterday"}), 400)
    await spec_error(await client.get(f"{O}/requests.json",
                                      params={**params, "status": "pending"}), 400)
    await spec_error(await client.get(f"{O}/requests.json",
                                      params={**params, "page_size": "100000"}), 400)
    resident = w.token(roles=["resident"], compounds=[w.cid])
    form = {"jurisdiction_id": w.cid, "service_code": "repair", "description": "路灯不亮",
            "address_string": "小区道路"}
    await spec_error(await client.post(f"{O}/requests.json", data=form), 403)
    await spec_error(await client.post(f"{O}/requests.json", data={**form, "api_key": "nope"}),
                     403)
    foreign = w.token(roles=["resident"], compounds=[str(uuid.uuid4())])
    await spec_error(await client.post(f"{O}/requests.json", data={**form, "api_key": foreign}),
                     403)
    no_scope = w.token(app="x", compounds=[w.cid], scopes=["meetings:manage"])
    await spec_error(await client.post(f"{O}/requests.json", data={**form, "api_key": no_scope}),
                     403)
    ok_key = {**form, "api_key": resident}
    await spec_error(await client.post(f"{O}/requests.json", data={**ok_key, "description": ""}),
                     400)
    await spec_error(await client.post(f"{O}/requests.json", data={**ok_key, "service_code": "x"}),
                     400)
    no_place = {k: v for k, v in ok_key.items() if k != "address_string"}
    await spec_error(await client.post(f"{O}/requests.json", data=no_place), 400)
    await spec_error(await client.post(f"{O}/requests.json", data={
        **ok_key, "address_id": str(uuid.uuid4())}), 400)
    assert await spec_error(await client.post(f"{O}/requests.json", data={
        **ok_key, "service_code": "lift"}), 400)  # the required question is unanswered
    assert await ok(await client.get(f"{O}/requests.json", params=params), 200) == []
    listing = await ok(await client.get(f"/v1/compounds/{w.cid}/issues",
                                        headers=bearer(resident)), 200)
    assert listing["items"] == []

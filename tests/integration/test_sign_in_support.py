"""What the portal's sign-in needs from other services, over HTTP against the real servers:
the directory says who a phone number is (app scope only), notify delivers a code to the
person's inbox and, without an SMS provider, to its log."""

from __future__ import annotations

import logging
import uuid

import pytest
from aiohttp.test_utils import TestClient

from services.directory.app import create_app as directory_app
from tests.conftest import AppFactory, TokenFactory, assert_problem, bearer
from tests.integration.test_directory import make_compound, post_ok
from tests.integration.test_notify_support import NotifyFactory, nats_js, start_notify

__all__ = ["nats_js", "start_notify"]  # fixtures


def phone() -> str:
    return f"138{uuid.uuid4().int % 10**8:08d}"


async def test_identity_by_phone_names_compounds_roles_and_units(
    serve: AppFactory, token: TokenFactory
) -> None:
    directory: TestClient = await serve(directory_app)
    street = bearer(token(roles=["street_office"], compounds=["*"]))
    cid = await make_compound(directory, street, "身份测试小区")
    c = f"/v1/compounds/{cid}"
    building = await post_ok(directory, f"{c}/buildings", {"name": "2号楼", "floors": 6}, street)
    unit = await post_ok(directory, f"{c}/units", {"building_id": building["id"], "floor": 3,
                                                   "number": "302", "area": "88.00"}, street)
    number = phone()
    person = await post_ok(directory, "/v1/people", {"name": "林淑芬", "phone": number}, street)
    await post_ok(directory, f"{c}/units/{unit['id']}/owners", {"person_id": person["id"]}, street,
                  status=200)
    org = await post_ok(directory, f"{c}/organisations", {"kind": "owners_committee",
                                                           "name": "业主委员会"}, street)
    await post_ok(directory, f"{c}/organisations/{org['id']}/roles",
                  {"person_id": person["id"], "title": "委员", "starts_on": "2024-01-01"}, street)

    portal = bearer(token(app="portal", scopes=["directory:identify"]))
    r = await directory.get(f"/v1/identities?phone={number}", headers=portal)
    assert r.status == 200, await r.text()
    who = await r.json()
    assert who["person_id"] == person["id"] and who["name"] == "林淑芬"
    assert "phone" not in who
    [member] = who["memberships"]
    assert member["compound_id"] == cid
    assert set(member["roles"]) == {"resident", "owner", "owners_committee"}
    assert member["units"] == [{"id": unit["id"], "label": "2号楼 302", "relation": "owner"}]
    r = await directory.get(f"/v1/identities/{person['id']}", headers=portal)
    assert (await r.json()) == who


async def test_identities_are_for_apps_with_the_scope_and_unknown_phones_are_404(
    serve: AppFactory, token: TokenFactory
) -> None:
    directory: TestClient = await serve(directory_app)
    resident = bearer(token(roles=["resident", "owner"], compounds=["*"]))
    await assert_problem(await directory.get(f"/v1/identities?phone={phone()}", headers=resident),
                         403, "forbidden")
    other_app = bearer(token(app="issues", scopes=["issues:internal"]))
    await assert_problem(await directory.get(f"/v1/identities?phone={phone()}", headers=other_app),
                         403, "forbidden")
    portal = bearer(token(app="portal", scopes=["directory:identify"]))
    await assert_problem(await directory.get(f"/v1/identities?phone={phone()}", headers=portal),
                         404, "not-found")
    await assert_problem(await directory.get("/v1/identities?phone=12345", headers=portal),
                         422, "validation-error")
    spec = await (await directory.get("/openapi.json")).json()
    assert "/v1/identities" in spec["paths"] and "/v1/identities/{person_id}" in spec["paths"]


async def test_a_message_reaches_the_inbox_and_without_sms_the_log(
    start_notify: NotifyFactory, token: TokenFactory, caplog: pytest.LogCaptureFixture
) -> None:
    notify = await start_notify()
    person = str(uuid.uuid4())
    # the portal's own token acts in every compound (a sign-in code is about none)
    portal = bearer(token(app="portal", scopes=["notify:send"], compounds=["*"]))
    body = {"kind": "sign_in_code", "phone": "13900001111",
            "values": {"code": "428913", "minutes": "10"}}
    with caplog.at_level(logging.WARNING, logger="linli.notify.sms"):
        r = await notify.post(f"/v1/people/{person}/messages", json=body, headers=portal)
        assert r.status == 201, await r.text()
    sent = await r.json()
    assert sent["channels"] == ["in_app", "log"]
    assert "428913" in caplog.text and "13900001111" not in caplog.text  # the log masks the phone
    mine = bearer(token(roles=["resident"], compounds=["*"], person=person))
    inbox = await (await notify.get("/v1/me/inbox?unread=true", headers=mine)).json()
    [item] = inbox["items"]
    assert item["title"] == "登录验证码 428913" and "10 分钟" in item["body"]
    assert item["kind_label"] == "登录验证码"


async def test_only_apps_with_the_scope_send_messages_and_bad_bodies_write_nothing(
    start_notify: NotifyFactory, token: TokenFactory
) -> None:
    notify = await start_notify()
    person = str(uuid.uuid4())
    path = f"/v1/people/{person}/messages"
    body = {"kind": "sign_in_code", "values": {"code": "1", "minutes": "1"}}
    staff = bearer(token(roles=["community"], compounds=["*"]))
    await assert_problem(await notify.post(path, json=body, headers=staff), 403, "forbidden")
    portal = bearer(token(app="portal", scopes=["notify:send"], compounds=["*"]))
    await assert_problem(await notify.post(path, json={**body, "kind": "vote_closed"}, headers=portal),
                         422, "validation-error")
    await assert_problem(await notify.post(path, json={**body, "phone": "110"}, headers=portal),
                         422, "validation-error")
    mine = bearer(token(roles=["resident"], compounds=["*"], person=person))
    inbox = await (await notify.get("/v1/me/inbox", headers=mine)).json()
    assert inbox["items"] == []

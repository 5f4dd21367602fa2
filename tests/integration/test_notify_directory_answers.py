"""What notify answers when the directory cannot check the people a message names: its outage (a
database it cannot reach, a proxy's 503) is a 503 with Retry-After; its refusal of notify's own
token, a route it lacks or a page that is no Linli answer (a proxy's HTML) is a 502 whose detail
names no internal path, never the caller's own 401/403/404 nor a 500; its not-found for the
compound stays notify's 404. Nothing is written either way."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from linli.config import Settings
from linli.http import POOL, problem_json
from linli.stack import free_port
from services.directory.app import create_app as directory_app
from tests.conftest import AppFactory, TokenFactory, assert_problem
from tests.integration.test_meetings_support import new_compound
from tests.integration.test_notify_support import (
    NotifyFactory,
    People,
    Person,
    inbox,
    nats_js,
    resident,
    start_notify,
)

__all__ = ["nats_js", "start_notify"]  # fixtures
WATER = {"title": "3号楼明天停水", "body": "明天 9:00–17:00 更换水泵，请提前储水。"}


async def _message(notify: TestClient, cid: str, staff: Person, to: Person) -> Any:
    return await notify.post(f"/v1/compounds/{cid}/messages", headers=staff.headers,
                             json={"person_ids": [to.id], "values": WATER})


async def _failed(r: Any, status: int, kind: str) -> dict[str, Any]:
    """The problem, whose detail names none of the directory's paths."""
    body = await assert_problem(r, status, kind)
    assert "/v1/" not in body["detail"] and "lookup" not in body["detail"], body
    return body


async def test_the_directory_without_its_database_is_a_503_with_retry_after(
    serve: AppFactory, settings: Settings, token: TokenFactory, start_notify: NotifyFactory,
) -> None:
    people = People(token)
    directory = await serve(directory_app, port=settings.port("directory"))
    c = await new_compound(directory, token)
    alice, staff = await resident(c, people, "alice"), people(c.id, "community")
    notify = await start_notify()
    unknown = str(uuid.uuid4())
    body = await assert_problem(await _message(notify, unknown, people(unknown, "community"),
                                               alice), 404, "not-found")
    assert body["detail"] == "小区不存在"
    # the directory's database goes away: its pool's next connection is refused
    pool = directory.app[POOL]
    pool.set_connect_args(dsn=f"postgresql://postgres@127.0.0.1:{free_port()}/gone")
    await pool.expire_connections()
    r = await directory.get(f"/v1/compounds/{c.id}", headers=c.street)
    assert r.status == 503, await r.text()
    r = await _message(notify, c.id, staff, alice)
    await _failed(r, 503, "upstream-unavailable")
    assert r.headers["Retry-After"].isdigit()
    assert await inbox(notify, alice) == []


async def test_the_directory_refusing_notifys_token_is_a_502_not_the_callers_401(
    serve: AppFactory, settings: Settings, token: TokenFactory, start_notify: NotifyFactory,
) -> None:
    people = People(token)
    # a directory that trusts another key: every token notify signs is refused
    await serve(lambda s: directory_app(s.with_overrides(
        jwt_secret="a-key-the-directory-alone-has-of-32-bytes")), port=settings.port("directory"))
    notify = await start_notify()
    cid = str(uuid.uuid4())
    alice = people(cid)
    staff = people(cid, "community")
    body = await _failed(await _message(notify, cid, staff, alice), 502, "upstream-error")
    assert "401" in body["detail"], body
    # the roster of a message to organisations is read the same way
    r = await notify.post(f"/v1/compounds/{cid}/messages", headers=staff.headers,
                          json={"organisations": ["property"], "values": WATER})
    await _failed(r, 502, "upstream-error")
    assert await inbox(notify, alice) == []


GATEWAY_DOWN, PROXY_404, NO_ROUTE, ODD_JSON = (str(uuid.uuid4()) for _ in range(4))


def _proxy(_settings: Settings) -> web.Application:
    """What may stand where notify looks for the directory: a proxy answering HTML, a directory
    not yet having the route (the Linli 404 for an unknown path), JSON of another shape."""

    async def lookup(request: web.Request) -> web.Response:
        cid = request.match_info["cid"]
        if cid == GATEWAY_DOWN:
            return web.Response(status=503, text="<html><h1>503 Service Unavailable</h1></html>",
                                content_type="text/html", headers={"Retry-After": "30"})
        if cid == PROXY_404:
            return web.Response(status=404, text="<html><h1>404 Not Found</h1></html>",
                                content_type="text/html")
        if cid == NO_ROUTE:
            raise web.HTTPNotFound()  # as the directory answers a path it has no route for
        if cid == ODD_JSON:
            return web.json_response(["unexpected"], status=400)
        return web.Response(status=500, text="<html>Internal Server Error</html>",
                            content_type="text/html")

    app = web.Application(middlewares=[problem_json])
    app.router.add_post("/v1/compounds/{cid}/members/lookup", lookup)
    return app


async def test_answers_that_are_no_directory_problem_are_502s_or_the_proxys_503(
    serve: AppFactory, settings: Settings, token: TokenFactory, start_notify: NotifyFactory,
) -> None:
    people = People(token)
    await serve(_proxy, port=settings.port("directory"))
    notify = await start_notify()
    for cid in (PROXY_404, NO_ROUTE, ODD_JSON, str(uuid.uuid4())):  # the last: an HTML 500
        alice = people(cid)
        body = await _failed(await _message(notify, cid, people(cid, "party_branch"), alice), 502,
                             "upstream-error")
        assert "小区不存在" not in body["detail"], body
        assert await inbox(notify, alice) == []
    r = await _message(notify, GATEWAY_DOWN, people(GATEWAY_DOWN, "community"),
                       people(GATEWAY_DOWN))
    await _failed(r, 503, "upstream-unavailable")
    assert r.headers["Retry-After"] == "30"  # the proxy's own estimate

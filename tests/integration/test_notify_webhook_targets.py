"""Webhook targets chosen by residents cannot reach inside the deployment, however the address
is written (full-width, circled or ideographic digits and dots, IPv4-mapped IPv6), neither when
saved nor when sent; a redirect is never followed; the delivery log tells a person only whether
a delivery went through, never why the network said no (no port scanner)."""

from __future__ import annotations

import functools
import uuid
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from linli.http import POOL
from linli.stack import free_port
from services.notify import store
from tests.conftest import TokenFactory, assert_problem
from tests.integration.test_notify_delivery import comment_on_new_issue, my_deliveries
from tests.integration.test_notify_support import (
    FAST,
    NotifyFactory,
    People,
    Publisher,
    Receiver,
    eventually,
    nats_js,
    ok,
    publisher,
    receiver,
    start_notify,
)

__all__ = ["nats_js", "publisher", "receiver", "start_notify"]  # fixtures
CLOSED = replace(FAST, allow_internal=False)


@pytest.fixture
def people(token: TokenFactory) -> People:
    return People(token)


def disguises(port: int) -> list[str]:
    """127.0.0.1 and ::1 written so that a check reading the text sees a name, not loopback."""
    return [f"http://１２７.０.０.１:{port}/hook", f"http://127。0。0。1:{port}/hook",
            f"http://①②⑦.０.０.１:{port}/hook", f"http://127．0．0．1:{port}/hook",
            f"http://[::ffff:127.0.0.1]:{port}/hook", f"http://[::1]:{port}/hook",
            f"http://localhost:{port}/hook", f"http://0x7f.1:{port}/hook",
            f"http://2130706433:{port}/hook"]


async def test_an_inward_webhook_is_refused_when_saved_however_it_is_written(
    people: People, start_notify: NotifyFactory, receiver: Receiver,
) -> None:
    notify = await start_notify(sender=CLOSED)
    alice = people(str(uuid.uuid4()))
    port = receiver.server.port
    assert port is not None
    for url in [receiver.url, *disguises(port)]:
        body = await assert_problem(await notify.put("/v1/me/preferences", headers=alice.headers,
                                                     json={"webhook_url": url}),
                                    422, "validation-error")
        assert body["errors"][0]["field"] == "webhook_url", url
    prefs = await ok(await notify.get("/v1/me/preferences", headers=alice.headers))
    assert prefs["webhook_url"] is None  # nothing was saved


async def test_an_inward_webhook_saved_earlier_is_never_connected_to(
    people: People, publisher: Publisher, start_notify: NotifyFactory, receiver: Receiver,
) -> None:
    """Targets saved before the check existed (or a name that resolved outward then and inward
    now) are checked again on the address actually connected to, and fail for good."""
    notify = await start_notify(sender=CLOSED)
    cid = str(uuid.uuid4())
    port = receiver.server.port
    assert port is not None
    urls = disguises(port)
    everyone = [people(cid) for _ in urls]
    async with notify.app[POOL].acquire() as conn:
        for who, url in zip(everyone, urls, strict=True):
            await store.put_preferences(conn, person_id=who.id, webhook_url=url,
                                        webhook_secret=None, kinds=["issue_commented"],
                                        quiet_start=None, quiet_end=None, compound_ids=[])
    for who in everyone:
        await comment_on_new_issue(publisher, cid, who.id)
    for who in everyone:
        [failed] = await eventually(functools.partial(my_deliveries, notify, who, 1, "failed"))
        assert failed["attempts"] == 1 and "内部网络" in failed["last_error"]
    assert receiver.received == []


async def test_the_delivery_log_does_not_tell_refused_from_rejected(
    people: People, publisher: Publisher, start_notify: NotifyFactory, receiver: Receiver,
) -> None:
    """A receiver answering 500 and a port nobody listens on look the same to the person."""
    receiver.status = 500
    notify = await start_notify()
    cid = str(uuid.uuid4())
    answering, closed = people(cid), people(cid)
    for who, url in ((answering, receiver.url), (closed, f"http://127.0.0.1:{free_port()}/hook")):
        await ok(await notify.put("/v1/me/preferences", headers=who.headers,
                                  json={"webhook_url": url, "kinds": ["issue_commented"]}))
        await comment_on_new_issue(publisher, cid, who.id)
    reasons = set()
    for who in (answering, closed):
        [failed] = await eventually(functools.partial(my_deliveries, notify, who, 1, "failed"))
        assert failed["attempts"] == 3
        reasons.add(failed["last_error"])
    assert len(reasons) == 1 and "500" not in reasons.pop()
    assert len(receiver.received) == 3


async def test_a_redirect_is_not_followed(
    people: People, publisher: Publisher, start_notify: NotifyFactory, receiver: Receiver,
) -> None:
    async def bounce(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(receiver.url)

    app = web.Application()
    app.router.add_post("/hook", bounce)
    redirector = TestServer(app, host="127.0.0.1")
    await redirector.start_server()
    try:
        notify = await start_notify()
        cid = str(uuid.uuid4())
        alice = people(cid)
        await ok(await notify.put("/v1/me/preferences", headers=alice.headers, json={
            "webhook_url": str(redirector.make_url("/hook")), "kinds": ["issue_commented"]}))
        await comment_on_new_issue(publisher, cid, alice.id)
        failed: Any = await eventually(functools.partial(my_deliveries, notify, alice, 1, "failed"))
        assert failed[0]["attempts"] == 3
        assert receiver.received == []
    finally:
        await redirector.close()

"""What a peer's error answer becomes for our caller (linli/clients.py): its outage or rate limit
is our 503 with a Retry-After within reason, its other failures a 502, its 4xx kept."""

from __future__ import annotations

import uuid

import aiohttp
import msgspec
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from linli.clients import RETRY_AFTER_RANGE, ServiceClient, peer_error
from linli.http import RETRY_AFTER_SECONDS
from linli.problems import Problem


class Thing(msgspec.Struct):
    id: uuid.UUID


PROBLEM = b'{"type": "urn:linli:problem:conflict", "detail": "\\u5df2\\u88ab\\u9884\\u7ea6"}'


@pytest.mark.parametrize(("given", "passed_on"), [
    ("30", "30"), ("0", str(RETRY_AFTER_RANGE[0])), ("99999999999", str(RETRY_AFTER_RANGE[1])),
    ("", str(RETRY_AFTER_SECONDS)), ("Wed, 21 Oct 2026 07:28:00 GMT", str(RETRY_AFTER_SECONDS)),
    ("３０", str(RETRY_AFTER_SECONDS)),
])
@pytest.mark.parametrize("status", [429, 503, 504])
def test_a_peer_down_or_limiting_is_our_503_with_a_bounded_wait(
        status: int, given: str, passed_on: str) -> None:
    ours = peer_error("GET", "/v1/x", status, b"<html>busy</html>", given)
    assert (ours.status, ours.kind) == (503, "upstream-unavailable")
    assert ours.headers == {"Retry-After": passed_on}
    assert "/v1/x" not in ours.detail


def test_other_failures_are_a_502_naming_no_path_and_a_refusal_keeps_its_status() -> None:
    failed = peer_error("POST", "/v1/internal/path", 500, b"oops", "")
    assert (failed.status, failed.peer_status) == (502, 500) and "/v1/internal" not in failed.detail
    refused = peer_error("POST", "/v1/venues/1/bookings", 409, PROBLEM, "")
    assert (refused.status, refused.peer_kind, refused.peer_detail) == (409, "conflict", "已被预约")


async def test_a_success_we_cannot_read_is_a_502_naming_no_path() -> None:
    async def html(_: web.Request) -> web.Response:
        return web.Response(text="<html>维护中</html>", content_type="text/html")

    async def other_shape(_: web.Request) -> web.Response:
        return web.json_response({"id": "not-a-uuid"})

    app = web.Application()
    app.router.add_get("/html", html)
    app.router.add_get("/shape", other_shape)
    async with TestServer(app) as server, aiohttp.ClientSession() as session:
        client = ServiceClient(session, base_url=str(server.make_url("")), token="t")
        for path, kind in (("/html", None), ("/shape", Thing)):
            with pytest.raises(Problem) as failed:
                await client.get(path, kind=kind)
            assert (failed.value.status, failed.value.kind) == (502, "upstream-error")
            assert path not in failed.value.detail

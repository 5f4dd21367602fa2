"""The test session: real PostgreSQL, NATS and Temporal, started once on free ports.

Set LINLI_DATABASE_URL, LINLI_NATS_URL and LINLI_TEMPORAL_ADDRESS to use existing servers.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import hypothesis
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from linli.auth import issue_token
from linli.config import Settings
from linli.db import Connection
from linli.stack import EmbeddedStack, Ports, free_port

ROOT = Path(__file__).resolve().parent.parent

# Property tests check rules, not speed: no per-example deadline (the default 200 ms failed a
# test on a busy machine). Loaded by default; --hypothesis-profile or HYPOTHESIS_PROFILE chooses
# another.
hypothesis.settings.register_profile("linli", deadline=None)
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "linli"))


@pytest.fixture(scope="session")
def stack() -> Iterator[EmbeddedStack | None]:
    """The embedded servers, unless the environment names existing ones."""
    wanted = {
        "postgres": "LINLI_DATABASE_URL" not in os.environ,
        "nats": "LINLI_NATS_URL" not in os.environ,
        "temporal": "LINLI_TEMPORAL_ADDRESS" not in os.environ,
    }
    if not any(wanted.values()):
        yield None
        return
    data = Path(tempfile.mkdtemp(prefix="linli-test-"))
    servers = EmbeddedStack(data, Ports.free(), ephemeral=True, temporal_ui=False,
                            run_postgres=wanted["postgres"], run_nats=wanted["nats"],
                            run_temporal=wanted["temporal"])
    servers.start()
    try:
        yield servers
    finally:
        servers.stop()


@pytest.fixture(scope="session")
def settings(stack: EmbeddedStack | None) -> Settings:
    """Settings pointing at the test servers, with free HTTP ports."""
    env = os.environ
    return Settings(
        database_url=env.get("LINLI_DATABASE_URL") or (stack.database_url if stack else ""),
        nats_url=env.get("LINLI_NATS_URL") or (stack.nats_url if stack else ""),
        temporal_address=env.get("LINLI_TEMPORAL_ADDRESS") or (stack.temporal_address if stack else ""),
        jwt_secret="linli-test-secret-of-at-least-32-bytes",
        ports={name: free_port() for name in
               ("portal", "directory", "issues", "meetings", "volunteers", "notify", "workflows",
                "centre")},
        worker_metrics_port=free_port(),
        max_body_bytes=64 * 1024,
        max_deliver=3,
        ack_wait_seconds=5.0,
    )


TokenFactory = Callable[..., str]


@pytest.fixture(scope="session")
def token(settings: Settings) -> TokenFactory:
    """token(roles=[...], compounds=[...], person=..., name=...) → a signed bearer token."""

    def make(*, roles: list[str] | tuple[str, ...] = (), compounds: list[Any] | tuple[Any, ...] = (),
             person: str | None = None, scopes: list[str] | tuple[str, ...] = (),
             app: str | None = None, name: str = "") -> str:
        subject = f"app:{app}" if app else (person or str(uuid.uuid4()))
        return issue_token(settings.jwt_secret, subject=subject, roles=roles,
                           compounds=[str(c) for c in compounds], scopes=scopes, name=name)

    return make


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


PROBLEM = "application/problem+json"


async def assert_problem(response: Any, status: int, kind: str) -> dict[str, Any]:
    """The answer is problem+json of this status and kind, with a readable detail."""
    assert response.status == status, await response.text()
    assert response.content_type == PROBLEM
    body: dict[str, Any] = await response.json()
    assert body["type"] == f"urn:linli:problem:{kind}"
    assert body["status"] == status and body["detail"]
    return body


async def all_pages(client: Any, path: str, headers: dict[str, str], *, limit: int,
                    params: dict[str, str] | None = None) -> list[list[dict[str, Any]]]:
    """Every page of a list, following next_cursor at `limit` items a page (each page full but
    the last, and the last with no next_cursor)."""
    pages: list[list[dict[str, Any]]] = []
    cursor = None
    while True:
        query = {**(params or {}), "limit": str(limit), **({"cursor": cursor} if cursor else {})}
        r = await client.get(path, params=query, headers=headers)
        assert r.status == 200, await r.text()
        page = await r.json()
        assert set(page) == {"items", "next_cursor"}
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
        assert len(page["items"]) == limit, "a page with a next one is full"
        assert len(pages) < 1000, "the cursor goes round in a circle"


async def assert_bad_limit(client: Any, path: str, headers: dict[str, str]) -> None:
    """A limit that is not a whole number from 1 to the maximum: 400 problem+json in Chinese."""
    for bad in ("0", "-1", "201", "abc", "1.5"):
        r = await client.get(path, params={"limit": bad}, headers=headers)
        body = await assert_problem(r, 400, "invalid-limit")
        assert "limit 必须是 1 到 200 之间的整数" in body["detail"], body


class AppFactory(Protocol):
    """serve(create_app, port=None) → a started TestClient."""

    def __call__(self, create_app: Callable[[Settings], web.Application],
                 port: int | None = None) -> Awaitable[TestClient]: ...


@pytest.fixture
async def serve(settings: Settings) -> AsyncIterator[AppFactory]:
    """serve(create_app) → a TestClient on a real port; stopped after the test."""
    clients: list[TestClient] = []

    async def start(create_app: Callable[[Settings], web.Application],
                    port: int | None = None) -> TestClient:
        client = TestClient(TestServer(create_app(settings), host="127.0.0.1", port=port or 0))
        await client.start_server()
        clients.append(client)
        return client

    yield start
    for client in reversed(clients):
        await client.close()


async def eventually(check: Callable[[], Any], *, within: float = 30.0) -> Any:
    """Poll until `check` returns something truthy and return it (events, workflows and
    consumers travel asynchronously). The bound only limits how long a failure takes to show:
    make `check` the very thing the test asserts next, not something narrower."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {within} s (last: {result!r})")
        await asyncio.sleep(0.05)


async def wait_until_blocked(holder: Connection, *, waiting: int = 1, within: float = 30.0) -> None:
    """Wait until `waiting` other transactions wait for a lock behind `holder`'s transaction
    (directly, or behind one that waits for it): the race a test sets up has really begun.

    Reads pg_locks and pg_blocking_pids (live, unlike pg_stat_activity's per-transaction
    snapshot), so `holder` may be the connection holding the locks, in its open transaction.
    """
    me = holder.get_server_pid()

    async def behind() -> bool:
        rows = await holder.fetch("SELECT DISTINCT pid, pg_blocking_pids(pid) AS blockers"
                                  " FROM pg_locks WHERE NOT granted AND pid IS NOT NULL")
        chain, grew = {me}, True
        while grew:
            grew = False
            for row in rows:
                if row["pid"] not in chain and chain & set(row["blockers"]):
                    chain.add(row["pid"])
                    grew = True
        return len(chain) - 1 >= waiting

    await eventually(behind, within=within)

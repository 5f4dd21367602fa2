"""Temporal unavailable (issue 9): the workflow API answers 503 problem+json with Retry-After
and a zh-CN detail on every route that needs Temporal, never a 500; it starts while Temporal
is away and finds it again when it is back. Runs its own Temporal dev server, so stopping it
disturbs no other test."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from linli.config import Settings
from linli.stack import EmbeddedStack, Ports, free_port
from services.directory.app import create_app as directory_app
from tests.conftest import AppFactory, TokenFactory, assert_problem, bearer
from tests.integration.test_directory import post_ok
from workflows.api.app import create_app as workflows_app


@pytest.fixture
def own_temporal(scratch: Path) -> Iterator[EmbeddedStack]:
    servers = EmbeddedStack(scratch, Ports.free(), ephemeral=True, temporal_ui=False,
                            run_postgres=False, run_nats=False, run_temporal=True)
    servers.start()
    yield servers
    servers.stop()


@pytest.fixture
async def compound(serve: AppFactory, settings: Settings, token: TokenFactory) -> str:
    """A compound in the directory (the API asks the directory whose compound it is)."""
    directory = await serve(directory_app, port=settings.port("directory"))
    street = bearer(token(roles=["street_office"], compounds=["*"]))
    created = await post_ok(directory, "/v1/compounds", {
        "name": "流程引擎故障小区", "community": "万安社区", "street": "万安街道"}, street)
    return str(created["id"])


@pytest.fixture
async def api_at(settings: Settings) -> AsyncIterator[Any]:
    clients: list[TestClient] = []

    async def start(temporal_address: str) -> TestClient:
        mine = settings.with_overrides(temporal_address=temporal_address,
                                       temporal_task_queue=f"outage-{uuid.uuid4().hex[:8]}")
        client = TestClient(TestServer(workflows_app(mine), host="127.0.0.1", port=0))
        await client.start_server()  # starts although Temporal is away
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


async def assert_unavailable(response: Any) -> None:
    body = await assert_problem(response, 503, "temporal-unavailable")
    assert response.headers["Retry-After"].isdigit()
    assert "流程引擎" in body["detail"] and "Traceback" not in body["detail"]


def committee(cid: str, key: str) -> dict[str, Any]:
    return {"type": "committee", "key": key, "input": {"compound_id": cid}}


async def calls_needing_temporal(api: TestClient, headers: dict[str, str], cid: str,
                                 workflow_id: str) -> list[Any]:
    """One request of each kind: start, state, signal, update, cancel."""
    w = f"/v1/workflows/{workflow_id}"
    return [
        await api.post("/v1/workflows", json=committee(cid, "again"), headers=headers),
        await api.get(w, headers=headers),
        await api.post(f"{w}/signals/election_closed", json={}, headers=headers),
        await api.post(f"{w}/updates/confirm", json={}, headers=headers),
        await api.post(f"{w}/cancel", json={"reason": "测试"}, headers=headers),
    ]


async def test_temporal_never_reached_gives_503_not_500(
    api_at: Any, compound: str, token: TokenFactory,
) -> None:
    closed = f"127.0.0.1:{free_port()}"  # nothing listens there
    api = await api_at(closed)
    headers = bearer(token(roles=["street_office"], compounds=[compound]))
    for response in await calls_needing_temporal(api, headers, compound, f"committee-{compound}"):
        await assert_unavailable(response)
    assert (await api.get("/livez")).status == 200


async def test_temporal_stopped_under_the_api_gives_503_then_recovers(
    api_at: Any, compound: str, token: TokenFactory, own_temporal: EmbeddedStack,
) -> None:
    api = await api_at(own_temporal.temporal_address)
    headers = bearer(token(roles=["street_office"], compounds=[compound]))
    started = await api.post("/v1/workflows", json=committee(compound, "first"), headers=headers)
    assert started.status == 201, await started.text()
    workflow_id = (await started.json())["workflow_id"]

    process = dict(own_temporal.processes)["Temporal"]
    os.killpg(process.pid, signal.SIGKILL)  # as when its machine dies
    process.wait(10)
    for response in await calls_needing_temporal(api, headers, compound, workflow_id):
        await assert_unavailable(response)

    own_temporal.restart("Temporal")  # in memory: the run is gone, the API connects again
    again = await api.get(f"/v1/workflows/{workflow_id}", headers=headers)
    await assert_problem(again, 404, "not-found")



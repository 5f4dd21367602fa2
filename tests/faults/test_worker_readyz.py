"""The worker's /readyz: a real `linli worker` on its own PostgreSQL, NATS and Temporal (so
stopping them disturbs no other test), ready while all three answer, then a 503 problem+json
naming each one as it is stopped."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from linli.config import Settings
from linli.local import wait_ready
from linli.stack import EmbeddedStack, Ports, free_port, stop_process
from tests.faults.conftest import until


@pytest.fixture
def private_stack(scratch: Path) -> Iterator[EmbeddedStack]:
    stack = EmbeddedStack(scratch / "stack", Ports.free(), ephemeral=True, temporal_ui=False)
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def worker(private_stack: EmbeddedStack, scratch: Path, settings: Settings) -> Iterator[str]:
    """`linli worker` against the private servers; its metrics URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_")}
    port = free_port()
    env.update({"LINLI_DATABASE_URL": private_stack.database_url,
                "LINLI_NATS_URL": private_stack.nats_url,
                "LINLI_TEMPORAL_ADDRESS": private_stack.temporal_address,
                "LINLI_JWT_SECRET": settings.jwt_secret, "LINLI_ENV": "test",
                "LINLI_DATA_DIR": str(scratch), "LINLI_WORKER_METRICS_PORT": str(port)})
    with open(scratch / "worker.log", "ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "linli.cli", "worker"], env=env,
                                   stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url + "/readyz", process, "worker")
        yield url
    finally:
        stop_process(process, timeout=30)


def _server(stack: EmbeddedStack, what: str) -> subprocess.Popen[bytes]:
    return next(process for name, process in stack.processes if name == what)


async def test_worker_readyz_names_each_dependency_that_is_down(
        worker: str, private_stack: EmbeddedStack) -> None:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http:
        async with http.get(worker + "/readyz") as response:
            assert response.status == 200
            assert (await response.json())["checks"] == {
                "Temporal": "ok", "NATS": "ok", "PostgreSQL": "ok", "loops": "ok"}

        async def down_names(*names: str) -> dict[str, Any] | None:
            async with http.get(worker + "/readyz") as response:
                if response.status != 503:
                    return None
                assert response.content_type == "application/problem+json"
                body: dict[str, Any] = await response.json()
                named = {e["field"] for e in body["errors"]}
                return body if set(names) <= named else None

        stop_process(_server(private_stack, "Temporal"))
        body = await until("readyz names Temporal", lambda: down_names("Temporal"))
        assert body["type"] == "urn:linli:problem:service-unavailable"
        assert "Temporal" in body["detail"] and "NATS" not in body["detail"]

        stop_process(_server(private_stack, "NATS"))
        body = await until("readyz names NATS too", lambda: down_names("Temporal", "NATS"))
        assert "PostgreSQL" not in {e["field"] for e in body["errors"]}

        stop_process(_server(private_stack, "PostgreSQL"))
        body = await until("readyz names all three",
                           lambda: down_names("Temporal", "NATS", "PostgreSQL"))
        assert body["status"] == 503 and "PostgreSQL" in body["detail"]

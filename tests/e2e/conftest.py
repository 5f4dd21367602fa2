"""The platform as users run it: every service, the workflow API and the worker in their own
processes (the commands `linli up` starts), against the test session's servers.

Stories drive it over HTTP only, with tokens signed by the platform's JWT secret, and poll
(with a deadline) for what arrives asynchronously through NATS and Temporal.

The processes get their own Temporal task queue and bridge durables, and no automatic issue
follow-ups, so runs beside other tests on shared servers neither steal nor leave work.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import nats
import nats.errors
import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy
from temporalio.client import Client, WorkflowExecutionStatus

from linli.auth import issue_token
from linli.bus import STREAM
from linli.cli import available_services
from linli.config import Settings
from linli.local import wait_ready
from linli.stack import free_port, stop_process

# every process `linli up` starts, so no call leaves the platform under test
SERVICES = (*available_services(), "workflows")
T = TypeVar("T")


@dataclass
class Platform:
    """Where each process listens, and how to act in it as a given person."""

    urls: dict[str, str]
    secret: str
    logs: Path
    nats_url: str
    started: list[str] = field(default_factory=list)  # workflow ids, ended on teardown

    def token(self, *, roles: list[str], compounds: list[str], person: str | None = None,
              scopes: list[str] | None = None) -> str:
        return issue_token(self.secret, subject=person or str(uuid.uuid4()), roles=roles,
                           compounds=compounds, scopes=scopes or [])

    def log_tail(self, lines: int = 40) -> str:
        out = []
        for path in sorted(self.logs.glob("*.log")):
            out.append(f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace")
                                                       .splitlines()[-lines:]))
        return "\n".join(out)


class Http:
    """One aiohttp session; `call` checks the status and returns the decoded JSON."""

    def __init__(self, platform: Platform, session: aiohttp.ClientSession) -> None:
        self.platform = platform
        self.session = session

    async def call(self, method: str, service: str, path: str, auth: str, *, json: Any = None,
                   data: bytes | None = None, content_type: str | None = None,
                   status: int = 200) -> Any:
        headers = {"Authorization": f"Bearer {auth}"}
        if content_type:
            headers["Content-Type"] = content_type
        if method == "POST" and json is not None and "/workflows" not in path:
            headers["Idempotency-Key"] = str(uuid.uuid4())
        url = self.platform.urls[service] + path
        async with self.session.request(method, url, json=json, data=data,
                                        headers=headers) as response:
            text = await response.text()
            assert response.status == status, f"{method} {service}{path}: {response.status} {text}"
            return await response.json(content_type=None) if text else None

    async def get(self, service: str, path: str, auth: str, status: int = 200) -> Any:
        return await self.call("GET", service, path, auth, status=status)

    async def get_if_found(self, service: str, path: str, auth: str) -> Any:
        """The body, or None while the thing does not exist yet (404)."""
        url = self.platform.urls[service] + path
        async with self.session.get(url, headers={"Authorization": f"Bearer {auth}"}) as response:
            if response.status == 404:
                return None
            assert response.status == 200, f"GET {service}{path}: {await response.text()}"
            return await response.json()

    async def post(self, service: str, path: str, auth: str, json: Any = None,
                   status: int = 200) -> Any:
        return await self.call("POST", service, path, auth, json=json, status=status)


async def until(what: str, probe: Callable[[], Awaitable[T | None]], within: float = 30.0) -> T:
    """Poll `probe` until it returns something truthy; fail naming `what` after `within` seconds."""
    deadline = time.monotonic() + within
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(0.25)
    raise AssertionError(f"{what}: not within {within:.0f} s (last seen: {last!r})")


async def published(nats_url: str, event_type: str, subject: str,
                    since: dt.datetime) -> list[dict[str, Any]]:
    """The CloudEvents of one type about one entity that reached NATS since `since`, in order."""
    connection = await nats.connect(nats_url)
    found: list[dict[str, Any]] = []
    try:
        config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_TIME,
                                opt_start_time=since)
        sub = await connection.jetstream().subscribe(event_type, ordered_consumer=True,
                                                     config=config)
        while True:
            try:
                message = await sub.next_msg(timeout=1)
            except nats.errors.TimeoutError:
                break
            event = json.loads(message.data)
            if event["subject"] == subject:
                found.append(event)
        await sub.unsubscribe()
    finally:
        await connection.close()
    return found


# ---------------------------------------------------------------- workflows and meetings


async def workflow_state(http: Http, w: str, token: str) -> dict[str, Any]:
    view: dict[str, Any] = await http.get("workflows", w, token)
    return view


async def close_vote_early(http: Http, w: str, vote_path: str, token: str,
                           reason: str = "全部表决单位已投票, 召集人提前结束表决") -> dict[str, Any]:
    """The convener closes the vote through the workflow that runs the proposal (meetings
    refuses a person's close while the workflow owns it); the counted result from meetings."""
    refused = await http.post("meetings", f"{vote_path}/close", token, status=409)
    assert refused["type"] == "urn:linli:problem:managed-by-workflow" and w.rsplit("/", 1)[-1] \
        in refused["detail"]
    await http.post("workflows", f"{w}/updates/close_vote", token, {"reason": reason})

    async def counted() -> dict[str, Any] | None:
        found: dict[str, Any] = await http.get("meetings", f"{vote_path}/result", token)
        return found if found["final"] else None
    return await until("vote closed by the workflow", counted, within=30)


async def at_step(http: Http, w: str, token: str, step: str,
                  also: Callable[[dict[str, Any]], bool] = lambda state: True) -> dict[str, Any]:
    """The workflow's view once it is at `step` (and `also` holds of its state)."""
    async def probe() -> dict[str, Any] | None:
        view = await workflow_state(http, w, token)
        return view if view["state"]["step"] == step and also(view["state"]) else None
    return await until(f"workflow at step {step}", probe)


async def on_version(http: Http, p: str, token: str, version: int) -> bool:
    found = await http.get_if_found("meetings", f"{p}/consultation", token)
    return bool(found and found["status"] == "open" and found["version"] == version)


def _env(settings: Settings, data_dir: Path, tag: str,
         services: tuple[str, ...] = SERVICES) -> tuple[dict[str, str], dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_")}
    env.update({
        "LINLI_DATABASE_URL": settings.database_url, "LINLI_NATS_URL": settings.nats_url,
        "LINLI_TEMPORAL_ADDRESS": settings.temporal_address, "LINLI_JWT_SECRET": settings.jwt_secret,
        "LINLI_DATA_DIR": str(data_dir), "LINLI_TEMPORAL_TASK_QUEUE": f"linli-{tag}",
        "LINLI_BRIDGE_PREFIX": tag, "LINLI_BRIDGE_FOLLOW_UPS": "0",
        "LINLI_WORKER_METRICS_PORT": str(free_port()),
        "LINLI_BUS_METRICS_SECONDS": "1",  # the worker's JetStream gauges (test_ops_scrape.py)
    })
    urls = {}
    for name in services:
        port = free_port()
        env[f"LINLI_{name.upper()}_PORT"] = str(port)
        urls[name] = f"http://127.0.0.1:{port}"
    urls["worker"] = f"http://127.0.0.1:{env['LINLI_WORKER_METRICS_PORT']}"
    return env, urls


async def _clean_up(settings: Settings, platform: Platform, tag: str) -> None:
    """End workflows a failed story left running; remove this run's bridge durables."""
    client = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
    for workflow_id in platform.started:
        handle = client.get_workflow_handle(workflow_id)
        if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
            await handle.terminate("e2e teardown")
    connection = await nats.connect(settings.nats_url)
    try:
        js = connection.jetstream()
        for info in await js.consumers_info(STREAM):
            if info.name.startswith(f"{tag}-"):
                await js.delete_consumer(STREAM, info.name)
    finally:
        await connection.close()


@contextlib.contextmanager
def running(settings: Settings, data_dir: Path, services: tuple[str, ...] = SERVICES, *,
            worker: bool = True, extra_env: dict[str, str] | None = None) -> Iterator[Platform]:
    """These services (and the worker) in their own processes, as `linli up` runs them."""
    tag = f"e2e-{uuid.uuid4().hex[:8]}"
    (data_dir / "logs").mkdir()
    env, urls = _env(settings, data_dir, tag, services)
    env.update(extra_env or {})
    python = [sys.executable, "-m", "linli.cli"]
    commands = [(name, [*python, "serve", name]) for name in services]
    if worker:
        commands.append(("worker", [*python, "worker"]))
    children: list[tuple[str, subprocess.Popen[bytes]]] = []
    platform = Platform(urls=urls, secret=settings.jwt_secret, logs=data_dir / "logs",
                        nats_url=settings.nats_url)
    try:
        for name, argv in commands:
            with open(data_dir / "logs" / f"{name}.log", "ab") as log:
                children.append((name, subprocess.Popen(
                    argv, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    start_new_session=True)))
        for name, process in children:
            wait_ready(urls[name] + ("/metrics" if name == "worker" else "/readyz"), process, name)
        yield platform
    finally:
        for _name, process in reversed(children):  # as `linli up` stops them, in reverse
            stop_process(process, timeout=30)
        asyncio.run(_clean_up(settings, platform, tag))


# package scope: the processes stop after the stories, before other tests use the same schemas
# (notify's sender and consumers would take their deliveries and events)
@pytest.fixture(scope="package")
def platform(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    with running(settings, tmp_path_factory.mktemp("platform")) as platform:
        yield platform


@pytest.fixture
async def http(platform: Platform) -> AsyncIterator[Http]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield Http(platform, session)

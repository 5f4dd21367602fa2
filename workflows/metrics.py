"""The worker's one /metrics: Linli's registry plus the Temporal SDK's own metrics.

The SDK (Rust core) exports through its Prometheus exporter on a private loopback port with
Prometheus naming (_total counters, durations in seconds with a _seconds suffix); the worker's
/metrics serves the Linli registry followed by that text, so one scrape job sees everything.
Workflow step metrics come from workflow.metric_meter() (replay-safe) and so appear there too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
from aiohttp import web
from prometheus_client import Gauge
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from linli import metrics
from linli.loops import Loops
from linli.problems import Problem
from linli.stack import free_port

log = logging.getLogger("linli.workflows.metrics")

RUNNING = Gauge("linli_workflows_running", "Workflows running, by type (from Temporal visibility).",
                ["workflow"], registry=metrics.REGISTRY)
WORKFLOW_TYPES = {"proposal": "ProposalWorkflow", "issue_follow_up": "IssueFollowUpWorkflow",
                  "activity": "ActivityWorkflow"}
# steps last from minutes (a revision) to months (implementation)
STEP_BUCKETS = [60, 600, 3600, 6 * 3600, 86400, 3 * 86400, 7 * 86400, 14 * 86400, 30 * 86400,
                90 * 86400, 180 * 86400, 365 * 86400]


def sdk_runtime() -> tuple[Runtime, str]:
    """A Temporal runtime exporting to a private port; returns it and the URL to read."""
    address = f"127.0.0.1:{free_port()}"
    config = PrometheusConfig(
        bind_address=address, counters_total_suffix=True, unit_suffix=True, durations_as_seconds=True,
        histogram_bucket_overrides={"linli_workflow_step_duration": STEP_BUCKETS})
    return Runtime(telemetry=TelemetryConfig(metrics=config)), f"http://{address}/metrics"


# a dependency's check: None when it answers, else why not (zh-CN, for the operator)
Check = Callable[[], Awaitable[str | None]]


async def _checked(check: Check) -> str | None:
    try:
        async with asyncio.timeout(3):
            return await check()
    except Exception as exc:  # any failure, a timeout included, means this one is down
        return f"不可达: {type(exc).__name__} {exc}".strip()


async def readiness(dependencies: dict[str, Check], loops: Loops | None) -> dict[str, str]:
    """What is not ready, by name: each dependency (checked side by side) and each loop."""
    answers = await asyncio.gather(*(_checked(c) for c in dependencies.values()))
    down = {name: why for name, why in zip(dependencies, answers, strict=True) if why}
    down.update({f"loop {name}": why for name, why in
                 (loops.not_running() if loops is not None else {}).items()})
    return down


def not_ready(down: dict[str, str]) -> web.Response:
    """503 problem+json naming every dependency or loop that is down, and why."""
    detail = "工作进程未就绪: " + "; ".join(f"{name} {why}" for name, why in down.items())
    return Problem(503, "service-unavailable", "服务暂时不可用", detail,
                   errors=[{"field": name, "detail": why} for name, why in down.items()],
                   headers={"Retry-After": "5"}).response(instance="/readyz")


def metrics_app(sdk_url: str, loops: Loops | None = None,
                dependencies: dict[str, Check] | None = None) -> web.Application:
    """/metrics (both registries), /livez and /readyz for the worker: /readyz checks that
    Temporal, NATS and PostgreSQL answer (`dependencies`) and that its loops run."""
    session_key = web.AppKey("session", aiohttp.ClientSession)

    async def session(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as s:
            app[session_key] = s
            yield

    async def render(request: web.Request) -> web.Response:
        body = metrics.render()
        try:
            async with request.app[session_key].get(sdk_url) as response:
                body += await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("Temporal SDK metrics unavailable: %s", exc)
        return web.Response(body=body, headers={"Content-Type": metrics.CONTENT_TYPE})

    async def livez(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(request: web.Request) -> web.Response:
        down = await readiness(dependencies or {}, loops)
        if down:
            return not_ready(down)
        checks = {name: "ok" for name in (dependencies or {})} | {"loops": "ok"}
        return web.json_response({"status": "ok", "checks": checks})

    app = web.Application()
    app.cleanup_ctx.append(session)
    app.router.add_get("/metrics", render)
    app.router.add_get("/livez", livez)
    app.router.add_get("/readyz", readyz)
    return app


async def count_running(client: Client, task_queue: str, every: float = 15.0) -> None:
    """Keep linli_workflows_running up to date from Temporal's visibility store."""
    while True:
        for name, workflow_type in WORKFLOW_TYPES.items():
            query = (f"WorkflowType = '{workflow_type}' AND ExecutionStatus = 'Running'"
                     f" AND TaskQueue = '{task_queue}'")
            with contextlib.suppress(Exception):  # visibility may lag or be unavailable
                RUNNING.labels(name).set((await client.count_workflows(query)).count)
        await asyncio.sleep(every)

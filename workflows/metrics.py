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
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from prometheus_client import Gauge
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from linli import metrics
from linli.loops import Loops
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


def metrics_app(sdk_url: str, loops: Loops | None = None) -> web.Application:
    """/metrics (both registries), /livez and /readyz (its supervised loops) for the worker."""
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
        down = loops.not_running() if loops is not None else {}
        checks = {"loops": "ok" if not down else f"未运行: {', '.join(sorted(down))}",
                  **{f"loop {name}": why for name, why in down.items()}}
        return web.json_response({"status": "unavailable" if down else "ok", "checks": checks},
                                 status=503 if down else 200)

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

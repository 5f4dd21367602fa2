"""The service factory: one call gives a Linli service its database, bus and HTTP shape."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path

from aiohttp import web

from linli import bus, busmetrics, db, metrics, openapi, pruning
from linli.auth import PUBLIC
from linli.config import Settings
from linli.http import (
    JETSTREAM,
    NATS_CLIENT,
    POOL,
    ROUTES,
    SERVICE,
    SETTINGS,
    Call,
    Route,
    add_routes,
    json_response,
    observe,
    problem_json,
)
from linli.loops import Loops
from linli.relay import OutboxRelay

CleanupContext = Callable[[web.Application], AsyncIterator[None]]
RELAY = web.AppKey("linli.relay", OutboxRelay)
CONSUMERS = web.AppKey("linli.consumers", bus.ConsumerGroup)
LOOPS = web.AppKey("linli.loops", Loops)


def database(schema: str, migrations: Path | None) -> CleanupContext:
    """Pool for the service schema, migrated before the service answers."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        pool = await db.create_pool(settings.database_url, schema=schema)
        async with pool.acquire() as conn:
            await db.migrate(conn, schema=schema, migrations=migrations)
        app[POOL] = pool
        yield
        await pool.close()

    return context


def event_bus(schema: str, subscriptions: Sequence[bus.Subscription]) -> CleanupContext:
    """NATS connection, streams, the outbox relay and the service's durable consumers."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        nc = await bus.connect(settings.nats_url, name=f"linli-{schema}")
        js = nc.jetstream()
        await bus.ensure_streams(js, replicas=settings.stream_replicas)
        app[NATS_CLIENT], app[JETSTREAM] = nc, js
        relay = OutboxRelay(
            pool=app[POOL], js=js, dsn=settings.database_url, schema=schema,
            batch=settings.relay_batch,
        )
        app[RELAY] = relay
        relay_task = app[LOOPS].spawn(f"{schema}-outbox-relay", relay.run)
        consumers = bus.ConsumerGroup(
            pool=app[POOL], js=js, subscriptions=subscriptions,
            max_deliver=settings.max_deliver, ack_wait=settings.ack_wait_seconds,
            loops=app[LOOPS],
        )
        app[CONSUMERS] = consumers
        await consumers.start()
        yield
        await consumers.stop()
        await relay.stop(relay_task)
        # close, not drain: the relay has its PubAcks and the consumers are stopped, and
        # draining idle pull subscriptions waits out its whole timeout
        with contextlib.suppress(Exception):
            async with asyncio.timeout(5):
                await nc.close()

    return context


def periodic(name: str, job: Callable[[db.Pool], Awaitable[object]], *, every: float,
             wait_first: bool = False) -> CleanupContext:
    """Cleanup context running `job(pool)` every `every` seconds while the service runs.

    Every replica runs it, so jobs claim their rows with FOR UPDATE SKIP LOCKED; a failed
    round is logged and the next round retries; the loop itself is supervised (linli.loops).
    """
    log = logging.getLogger(f"linli.{name}")

    async def loop(pool: db.Pool) -> None:
        if wait_first:
            await asyncio.sleep(every)
        while True:
            try:
                await job(pool)
            except Exception:
                log.exception("%s failed, retrying in %.0f s", name, every)
            await asyncio.sleep(every)

    async def context(app: web.Application) -> AsyncIterator[None]:
        pool = app[POOL]
        task = app[LOOPS].spawn(name, lambda: loop(pool))
        yield
        await bus.stop_task(task)

    return context


async def livez(call: Call) -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


async def readyz(call: Call) -> web.Response:
    """The database answers, NATS is connected and every background loop runs."""
    checks: dict[str, str] = {}
    try:
        await db.ping(call.app[POOL])
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready
        checks["database"] = f"unavailable: {exc}"
    nc = call.app.get(NATS_CLIENT)
    checks["nats"] = "ok" if nc is not None and nc.is_connected else "unavailable"
    down = call.app[LOOPS].not_running()
    checks["loops"] = "ok" if not down else f"未运行: {', '.join(sorted(down))}"
    checks.update({f"loop {name}": why for name, why in down.items()})
    ready = all(v == "ok" for v in checks.values())
    return json_response({"status": "ok" if ready else "unavailable", "checks": checks},
                         200 if ready else 503)


async def metrics_text(call: Call) -> web.Response:
    """Prometheus text format."""
    response = web.Response(body=metrics.render())
    response.content_type = "text/plain"
    response.headers["Content-Type"] = metrics.CONTENT_TYPE
    return response


async def openapi_json(call: Call) -> web.Response:
    """OpenAPI 3.1 of this service."""
    title = f"Linli {call.app[SERVICE]} API"
    routes: list[Route] = call.app[ROUTES]
    return json_response(openapi.build(title, "1.0.0", routes))


SYSTEM_ROUTES = [
    Route("GET", "/livez", livez, "存活检查", access=PUBLIC, tags=("system",)),
    Route("GET", "/readyz", readyz, "就绪检查 (数据库、消息总线与后台任务)", access=PUBLIC, tags=("system",)),
    Route("GET", "/metrics", metrics_text, "Prometheus 指标", access=PUBLIC, tags=("system",)),
    Route("GET", "/openapi.json", openapi_json, "OpenAPI 3.1 文档", access=PUBLIC, tags=("system",)),
]


def service_app(
    *, name: str, settings: Settings, routes: Sequence[Route], migrations: Path | None,
    subscriptions: Sequence[bus.Subscription] = (), contexts: Sequence[CleanupContext] = (),
    prune: Sequence[pruning.PruneRule] = (),
) -> web.Application:
    """A Linli service: schema `name`, its routes, consumers and extra cleanup contexts;
    its kernel tables (and the `prune` rules of its own) are pruned every hour."""
    app = web.Application(middlewares=[observe, problem_json], client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[SERVICE] = name
    app[LOOPS] = Loops()
    app.cleanup_ctx.append(database(name, migrations))
    app.cleanup_ctx.append(event_bus(name, subscriptions))
    app.cleanup_ctx.append(busmetrics.nats_dependency(name))
    app.cleanup_ctx.extend(contexts)

    async def prune_all(pool: db.Pool) -> None:
        await pruning.prune(pool, service=name, rules=prune)

    app.cleanup_ctx.append(periodic(f"{name}-pruning", prune_all, every=pruning.EVERY_SECONDS))
    add_routes(app, [*routes, *SYSTEM_ROUTES])
    return app

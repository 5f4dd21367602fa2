"""The second ceiling beside the issue report: the same work without our HTTP framework.

POST /reports: decode the body into the service's IssueIn, then the report's own use case
(services.issues.service._insert against a category read once: the issue, its history row and
its event's outbox row in one statement), answer 201 with the id; the outbox relay runs in this
process and publishes every event to JetStream, as in the service. No auth, no route table,
no middleware, no metrics, no problem+json, a short answer instead of the issue.

Between this and the bare INSERT (bench/bare.py) lies what the report's guarantees cost here
(three rows and their indexes, the outbox, the relay); between the API and this, our framework.
So if this one stays under a ratio, no framework work can bring the API over it.

Run: `python -m bench.same_work --port P --dsn DSN --nats URL --compound ID`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import msgspec
from aiohttp import web

from linli import bus, db
from linli.auth import Principal
from linli.cli import event_loop
from linli.relay import OutboxRelay
from services.issues import service, store
from services.issues.models import IssueIn

SCHEMA = "issues"


def app(dsn: str, nats_url: str, compound: uuid.UUID) -> web.Application:
    encoder = msgspec.json.Encoder()
    decoder = msgspec.json.Decoder(IssueIn)
    reporter = Principal(subject=str(uuid.uuid4()), roles=frozenset({"resident"}),
                         compounds=frozenset({str(compound)}))

    async def create(request: web.Request) -> web.Response:
        data = decoder.decode(await request.read())
        async with request.app["pool"].acquire() as conn:
            issue = await service._insert(conn, request.app["category"], compound, reporter,
                                          data, reporter.subject, False, "", "app", None)
        return web.Response(status=201, body=encoder.encode({"id": str(issue["id"])}),
                            content_type="application/json")

    async def ready(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def running(application: web.Application) -> AsyncIterator[None]:
        pool = await db.create_pool(dsn, schema=SCHEMA)
        async with pool.acquire() as conn:
            row = await store.get_category(conn, compound_id=compound, code="repair")
        application["pool"], application["category"] = pool, (service.to_category(row), row)
        nc = await bus.connect(nats_url, name="bench-same-work")
        relay = OutboxRelay(pool=pool, js=nc.jetstream(), dsn=dsn, schema=SCHEMA)
        relaying = asyncio.create_task(relay.run())
        yield
        await relay.stop(relaying)
        with contextlib.suppress(Exception):
            await nc.close()
        await pool.close()

    application = web.Application()
    application.cleanup_ctx.append(running)
    application.router.add_post("/reports", create)
    application.router.add_get("/readyz", ready)
    return application


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--nats", required=True)
    parser.add_argument("--compound", type=uuid.UUID, required=True)
    args = parser.parse_args()
    web.run_app(app(args.dsn, args.nats, args.compound), host="127.0.0.1", port=args.port,
                access_log=None, print=None, loop=event_loop())


if __name__ == "__main__":
    main()

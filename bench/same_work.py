"""The second ceiling beside an HTTP use case: the same work without our HTTP framework.

POST /reports: decode the body into the service's own request type, call the service's own use
case (an issue report: services.issues.service.report; a volunteer order:
services.volunteers.orders.place) with a resident of the compound, answer 201 with the id. The
outbox relay runs in this process and publishes every event to JetStream, as in the service;
the directory is asked through the service's own client (its answers cached as there). No
auth, no route table, no middleware, no metrics, no problem+json, a short answer.

Between this and the bare INSERT (bench/bare.py) lies what the use case's guarantees cost here
(its rows and their indexes, the outbox, the relay); between the API and this, our framework.
So if this one stays under a ratio, no framework work can bring the API over it.

Run: `python -m bench.same_work --use-case issues|orders --port P --compound ID` with the
service's LINLI_* environment (bench/harness.py service_env).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from aiohttp import web

from linli import bus, db
from linli.auth import Principal
from linli.cli import event_loop
from linli.clients import ServiceClient
from linli.config import load_settings
from linli.directory import Directory, directory_context
from linli.http import SETTINGS
from linli.relay import OutboxRelay
from services.issues import service as issues
from services.issues.models import IssueIn
from services.volunteers import orders
from services.volunteers.models import OrderIn

UseCaseCall = Callable[[db.Pool, Directory, uuid.UUID, Principal, Any], Awaitable[Any]]


@dataclass(frozen=True)
class UseCase:
    schema: str
    body: type
    call: UseCaseCall


USE_CASES = {
    "issues": UseCase("issues", IssueIn, lambda pool, directory, cid, who, data: issues.report(
        pool, directory, compound_id=cid, who=who, data=data)),
    "orders": UseCase("volunteers", OrderIn, lambda pool, directory, cid, who, data: orders.place(
        pool, directory, compound_id=cid, who=who, data=data)),
}
DIRECTORY = web.AppKey("directory", Directory)
DIRECTORY_CLIENT = web.AppKey("directory_client", ServiceClient)
POOL = web.AppKey("pool", db.Pool)


def app(use_case: UseCase, compound: uuid.UUID) -> web.Application:
    settings = load_settings()
    encoder = msgspec.json.Encoder()
    decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(use_case.body)
    resident = Principal(subject=str(uuid.uuid4()), roles=frozenset({"resident"}),
                         compounds=frozenset({str(compound)}))

    async def create(request: web.Request) -> web.Response:
        done = await use_case.call(request.app[POOL], request.app[DIRECTORY], compound, resident,
                                   decoder.decode(await request.read()))
        made = done["id"] if isinstance(done, Mapping) or hasattr(done, "keys") else done.id
        return web.Response(status=201, body=encoder.encode({"id": str(made)}),
                            content_type="application/json")

    async def ready(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def running(application: web.Application) -> AsyncIterator[None]:
        pool = await db.create_pool(settings.database_url, schema=use_case.schema)
        application[POOL] = pool
        nc = await bus.connect(settings.nats_url, name="bench-same-work")
        relay = OutboxRelay(pool=pool, js=nc.jetstream(), dsn=settings.database_url,
                            schema=use_case.schema)
        relaying = asyncio.create_task(relay.run())
        yield
        await relay.stop(relaying)
        with contextlib.suppress(Exception):
            await nc.close()
        await pool.close()

    application = web.Application()
    application[SETTINGS] = settings
    application.cleanup_ctx.extend([
        directory_context(DIRECTORY, DIRECTORY_CLIENT, caller=use_case.schema), running])
    application.router.add_post("/reports", create)
    application.router.add_get("/readyz", ready)
    return application


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--use-case", choices=sorted(USE_CASES), required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--compound", type=uuid.UUID, required=True)
    args = parser.parse_args()
    web.run_app(app(USE_CASES[args.use_case], args.compound), host="127.0.0.1", port=args.port,
                access_log=None, print=None, loop=event_loop())


if __name__ == "__main__":
    main()

"""The ceiling beside a service: a bare aiohttp process doing the same commit through asyncpg.

POST /reports: decode the JSON body, one INSERT of the named columns (taken from the body, text)
with a fresh uuid as id, answer 201 with the id. Same pool size as a service (10), same
PostgreSQL, the same event loop (uvloop), its own process, driven by the same load generator.

Run: `python -m bench.bare --port P --dsn DSN --table schema.table --columns a,b`.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import AsyncIterator

import asyncpg
import msgspec
from aiohttp import web

from linli.cli import event_loop


def app(dsn: str, table: str, columns: list[str]) -> web.Application:
    sql = (f"INSERT INTO {table} (id, {', '.join(columns)})"
           f" VALUES ($1, {', '.join(f'${i + 2}' for i in range(len(columns)))})")
    encoder = msgspec.json.Encoder()

    async def create(request: web.Request) -> web.Response:
        data = msgspec.json.decode(await request.read())
        row_id = uuid.uuid4()
        await request.app["pool"].execute(sql, row_id, *(str(data[c]) for c in columns))
        return web.Response(status=201, body=encoder.encode({"id": str(row_id)}),
                            content_type="application/json")

    async def ready(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def pool(application: web.Application) -> AsyncIterator[None]:
        application["pool"] = await asyncpg.create_pool(dsn, min_size=1, max_size=10)
        yield
        await application["pool"].close()

    application = web.Application()
    application.cleanup_ctx.append(pool)
    application.router.add_post("/reports", create)
    application.router.add_get("/readyz", ready)
    return application


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--table", required=True)
    parser.add_argument("--columns", required=True)
    args = parser.parse_args()
    # the same event loop as `linli serve`, so the ratio compares our code, not two loops
    web.run_app(app(args.dsn, args.table, args.columns.split(",")), host="127.0.0.1",
                port=args.port, access_log=None, print=None, loop=event_loop())


if __name__ == "__main__":
    main()

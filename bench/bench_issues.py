"""Issues reported per second through the HTTP API beside a bare aiohttp INSERT handler.

The API path pays for auth (JWT), validation (msgspec), the transaction (category lookup,
issue row, history row) and the outbox row; the bare handler does one INSERT through the same
pool. Both are measured in the same run, on the same servers, by the same load generator.

Run: `.venv/bin/python -m bench.bench_issues [--requests N] [--concurrency C]`. Uses the servers
named by LINLI_DATABASE_URL / LINLI_NATS_URL when set, otherwise starts embedded ones.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import msgspec
from aiohttp import web

from linli.auth import issue_token
from linli.config import Settings
from linli.http import POOL
from linli.stack import EmbeddedStack, Ports, free_port
from services.issues import service
from services.issues.app import create_app

RESULTS = Path(__file__).parent / "results"
BARE_TABLE = "bench_issues.bare_reports"
BODY = {"category": "repair", "title": "楼道灯不亮", "area": "corridor",
        "description": "1号楼3单元5楼楼道灯不亮，晚上上下楼看不见。"}


@asynccontextmanager
async def servers() -> AsyncIterator[tuple[str, str]]:
    """(database url, nats url): the environment's servers or embedded ones."""
    if os.environ.get("LINLI_DATABASE_URL") and os.environ.get("LINLI_NATS_URL"):
        yield os.environ["LINLI_DATABASE_URL"], os.environ["LINLI_NATS_URL"]
        return
    stack = EmbeddedStack(Path(tempfile.mkdtemp(prefix="linli-bench-")), Ports.free(),
                          ephemeral=True, temporal_ui=False, run_temporal=False)
    stack.start()
    try:
        yield stack.database_url, stack.nats_url
    finally:
        stack.stop()


def bare_app(pool: Any) -> web.Application:
    """The floor: parse JSON, one INSERT through the same pool, answer 201."""

    async def create(request: web.Request) -> web.Response:
        data = msgspec.json.decode(await request.read())
        row_id = uuid.uuid4()
        await pool.execute(f"INSERT INTO {BARE_TABLE} (id, title, description) VALUES ($1, $2, $3)",
                           row_id, data["title"], data["description"])
        return web.json_response({"id": str(row_id)}, status=201)

    app = web.Application()
    app.router.add_post("/reports", create)
    return app


async def load(url: str, headers: dict[str, str], count: int, concurrency: int) -> dict[str, float]:
    """`concurrency` clients post `count` reports in total; every answer must be 201."""
    latencies: list[float] = []
    payload = msgspec.json.encode(BODY)
    async with aiohttp.ClientSession(headers={**headers, "Content-Type": "application/json"},
                                     connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def client(n: int) -> None:
            for _ in range(n):
                started = time.perf_counter()
                async with session.post(url, data=payload) as response:
                    await response.read()
                    assert response.status == 201, response.status
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(client(count // concurrency) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    ordered = sorted(latencies)
    return {"requests": len(latencies), "per_s": round(len(latencies) / elapsed, 1),
            "latency_p50_ms": round(statistics.median(ordered) * 1000, 2),
            "latency_p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))] * 1000, 2)}


async def start(app: web.Application, port: int) -> Callable[[], Any]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner.cleanup


async def run(count: int, concurrency: int) -> dict[str, Any]:
    async with servers() as (database_url, nats_url):
        settings = Settings(database_url=database_url, nats_url=nats_url,
                            jwt_secret="linli-bench-secret-of-at-least-32-bytes",
                            ports={"issues": free_port(), "directory": free_port()})
        issues = create_app(settings)
        stop_issues = await start(issues, settings.port("issues"))
        pool = issues[POOL]
        await pool.execute("CREATE SCHEMA IF NOT EXISTS bench_issues")
        await pool.execute(f"CREATE TABLE IF NOT EXISTS {BARE_TABLE} (id uuid PRIMARY KEY,"
                           " title text NOT NULL, description text NOT NULL,"
                           " created_at timestamptz NOT NULL DEFAULT now())")
        bare_port = free_port()
        stop_bare = await start(bare_app(pool), bare_port)
        compound = uuid.uuid4()
        await service.seed_defaults(pool, compound_id=compound)
        token = issue_token(settings.jwt_secret, subject=str(uuid.uuid4()), roles=["resident"],
                            compounds=[str(compound)])
        api = f"http://127.0.0.1:{settings.port('issues')}/v1/compounds/{compound}/issues"
        bare = f"http://127.0.0.1:{bare_port}/reports"
        auth = {"Authorization": f"Bearer {token}"}
        await load(api, auth, 200, concurrency)  # warm up both paths
        await load(bare, {}, 200, concurrency)
        api_result = await load(api, auth, count, concurrency)
        bare_result = await load(bare, {}, count, concurrency)
        await stop_bare()
        await stop_issues()
        await drop_bench_table(database_url)
    return {
        "benchmark": "issues", "concurrency": concurrency,
        "http_api_report": api_result, "bare_aiohttp_insert": bare_result,
        "api_to_bare_ratio": round(api_result["per_s"] / bare_result["per_s"], 3),
        "note": "same process, pool and PostgreSQL; the load generator shares the CPU",
    }


async def drop_bench_table(database_url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("DROP SCHEMA IF EXISTS bench_issues CASCADE")
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    result = asyncio.run(run(args.requests, args.concurrency))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "issues.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""Issues reported per second over HTTP beside a bare aiohttp INSERT process, measured as
production runs: the issues and directory services as their own `linli serve` processes, the
bare process (bench/bare.py) beside them, both driven by wrk, in the same run, on the same
embedded PostgreSQL (pg_stat_statements on) and NATS.

The API path pays for auth (JWT), validation (msgspec), the category, the issue, history and
outbox rows in one transaction, and the outbox relay publishing the event; the bare process
does one INSERT (one commit) per request. A third process (bench/same_work.py) calls the
report's own use case, with its relay, without our HTTP framework: how far the guarantees alone
let the API come here.

Run: `.venv/bin/python -m bench.bench_issues [--seconds S] [--connections C] [--quick]`.
"""

from __future__ import annotations

import argparse
import asyncio
import uuid
from typing import Any

import msgspec

from bench import harness
from linli import db
from linli.auth import issue_token
from linli.config import DEV_SECRET
from linli.stack import free_port
from services.issues import service

BARE_TABLE = "bench_bare.reports"
BODY = {"category": "repair", "title": "楼道灯不亮", "area": "corridor",
        "description": "1号楼3单元5楼楼道灯不亮，晚上上下楼看不见。"}


async def seed(dsn: str) -> uuid.UUID:
    """A compound with the default categories (as its first report would seed them), and the
    bare process's table."""
    compound = uuid.uuid4()
    pool = await db.create_pool(dsn, schema="issues")
    try:
        await service.seed_defaults(pool, compound_id=compound)
        await pool.execute("CREATE SCHEMA IF NOT EXISTS bench_bare")
        await pool.execute(f"CREATE TABLE IF NOT EXISTS {BARE_TABLE} (id uuid PRIMARY KEY,"
                           " title text NOT NULL, description text NOT NULL,"
                           " created_at timestamptz NOT NULL DEFAULT now())")
    finally:
        await pool.close()
    return compound


async def run(seconds: float, connections: int) -> dict[str, Any]:
    with harness.embedded() as stack:
        procs = harness.Processes()
        try:
            ports = {"issues": free_port(), "directory": free_port()}
            env = harness.service_env(stack, ports)
            directory = procs.serve("directory", env, ports["directory"])
            issues = procs.serve("issues", env, ports["issues"])
            compound = await seed(stack.database_url)
            bare = procs.bare(stack, BARE_TABLE, ["title", "description"])
            await asyncio.sleep(1)
            idle = {p.name: harness.rss_mb(p.pid) for p in (issues, directory, bare)}
            token = issue_token(DEV_SECRET, subject=str(uuid.uuid4()), roles=["resident"],
                                compounds=[str(compound)])
            body = msgspec.json.encode(BODY)
            api = f"{issues.url}/v1/compounds/{compound}/issues"

            def drive(url: str, auth: list[str], span: float) -> Any:
                return lambda: harness.wrk(url, body=body, auth=auth, seconds=span,
                                           connections=connections)

            auth = [f"Bearer {token}"]
            drive(api, auth, 1)()  # warm up both
            drive(f"{bare.url}/reports", [], 1)()
            api_result = await harness.measured(stack, issues.pid, drive(api, auth, seconds),
                                                done="SELECT count(*) FROM issues.issues")
            bare_result = await harness.measured(stack, bare.pid,
                                                 drive(f"{bare.url}/reports", [], seconds),
                                                 done=f"SELECT count(*) FROM {BARE_TABLE}")
            busy = {p.name: harness.rss_mb(p.pid) for p in (issues, bare)}
            procs.stop_one("issues")  # its relay would publish the same outbox's rows
            same = procs.same_work("issues", env, compound)
            drive(f"{same.url}/reports", [], 1)()
            same_result = await harness.measured(stack, same.pid,
                                                 drive(f"{same.url}/reports", [], seconds),
                                                 done="SELECT count(*) FROM issues.issues")
        finally:
            procs.stop()
    return {
        "benchmark": "issues", "http_api_report": api_result, "bare_aiohttp_insert": bare_result,
        "api_to_bare_ratio": round(api_result["per_s"] / bare_result["per_s"], 3),
        "same_work_no_framework": same_result,
        "same_work_to_bare_ratio": round(same_result["per_s"] / bare_result["per_s"], 3),
        "idle_rss_mb": idle, "rss_after_load_mb": busy,
        "note": "services as `linli serve` processes, bare aiohttp+asyncpg process, wrk",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--quick", action="store_true", help="1 s per phase: checks it runs")
    args = parser.parse_args()
    result = asyncio.run(run(1 if args.quick else args.seconds, args.connections))
    harness.write("issues", result)


if __name__ == "__main__":
    main()

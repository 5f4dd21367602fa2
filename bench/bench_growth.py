"""Growth: a page of a compound's issues costs the same at 10,000 and at 1,000,000 issues, and a
vote of 30,000 owners.

Issues: the issues service runs as its own `linli serve` process; the issues schema is filled in
SQL (INSERT … SELECT … generate_series: the issues, their history rows, other compounds' issues
interleaved as background) with the first size, then grown to the next. At each size, wrk times
the first page, a page deep in the list (half way down, reached with the service's own
next_cursor) and a resident's own issues (mine=true) over HTTP, and each page query is taken from
services/issues/store.py and run under `EXPLAIN (ANALYZE, BUFFERS)` with the same arguments, as
a custom plan and as the generic plan a prepared statement may settle on (asyncpg prepares every
statement): node types, rows and buffers. The figure is each page's p50 at the largest size over
its p50 at the first (target: ≤ 1.5).

Vote: bench_meetings's compound (CSV imports of the directory's 20,000 lines at most), a vote
opened on a roll of that many owners, every owner's ballot at once, the close (the tally): each
timed.

Import: the same CSV uploads of `--owners` units (one owner each) into a new compound, the
directory alone as its own `linli serve` process: each upload's milliseconds and lines a second,
CPU and round trips to PostgreSQL per line, and a re-import of the first upload (refused: every
unit already exists; nothing written), timed.

Run: `.venv/bin/python -m bench.bench_growth [--issues 10000 1000000] [--owners 30000]
[--part issues|vote|import] [--quick]`.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import aiohttp

from bench import bench_meetings as meetings_bench
from bench import growth_issues, harness
from linli.stack import free_port


async def vote(owners: int, connections: int) -> dict[str, Any]:
    """A vote of `owners` owners over HTTP: the roll, every ballot at once, the tally."""
    with harness.embedded() as stack:
        procs = harness.Processes()
        try:
            ports = {"directory": free_port(), "meetings": free_port()}
            env = harness.service_env(stack, ports)
            directory = procs.serve("directory", env, ports["directory"])
            meetings = procs.serve("meetings", env, ports["meetings"])
            connector = aiohttp.TCPConnector(limit=connections)
            async with aiohttp.ClientSession(connector=connector,
                                             timeout=aiohttp.ClientTimeout(total=1800)) as session:
                timings: dict[str, float] = {}
                cid, vote_id, people = await meetings_bench.setup(
                    session, directory.url, meetings.url, owners, timings=timings)

                async def drive() -> dict[str, Any]:
                    found = await meetings_bench.cast_all(meetings.url, cid, vote_id, people,
                                                          connections)
                    return {**found, "requests": found["owners"]}

                casting = await harness.measured(
                    stack, meetings.pid, drive, done="SELECT count(*) FROM meetings.ballots")
                branch = meetings_bench.token("bench-branch", ["party_branch"], cid)
                started = time.perf_counter()
                closed = await meetings_bench.post(
                    session, f"{meetings.url}/v1/compounds/{cid}/votes/{vote_id}/close", branch)
                timings["close_and_tally_ms"] = round((time.perf_counter() - started) * 1000, 1)
        finally:
            procs.stop()
    return {**casting, "counted_ballots": closed["result"]["counts"]["ballots"],
            "outcome": closed["result"]["outcome"], "in_flight": connections, **timings}


async def units_import(owners: int) -> dict[str, Any]:
    """`owners` units with their owners imported over HTTP in uploads of MAX_ROWS lines."""
    uploads = meetings_bench.unit_uploads(owners)
    with harness.embedded() as stack:
        procs = harness.Processes()
        try:
            port = free_port()
            directory = procs.serve("directory", harness.service_env(stack, {"directory": port}),
                                    port)
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1800)) as session:
                street = meetings_bench.token("bench-street", ["street_office"], "*")
                compound = await meetings_bench.post(
                    session, f"{directory.url}/v1/compounds", street,
                    json={"name": "导入基准小区", "community": "基准社区", "street": "基准街道"})
                url = f"{directory.url}/v1/compounds/{compound['id']}/imports/units"
                headers = {**street, "Content-Type": "text/csv"}
                each: list[dict[str, Any]] = []

                async def drive() -> dict[str, Any]:
                    started = time.perf_counter()
                    for csv in uploads:
                        t0 = time.perf_counter()
                        await meetings_bench.post(session, url, headers, data=csv)
                        seconds = time.perf_counter() - t0
                        lines = csv.count(b"\n")
                        each.append({"lines": lines, "ms": round(seconds * 1000, 1),
                                     "lines_per_s": round(lines / seconds)})
                    seconds = time.perf_counter() - started
                    return {"lines": owners, "uploads": each, "ms": round(seconds * 1000, 1),
                            "lines_per_s": round(owners / seconds)}

                rss_before = harness.rss_mb(directory.pid)
                found = await harness.measured(stack, directory.pid, drive,
                                               done="SELECT count(*) FROM directory.units")
                t0 = time.perf_counter()
                async with session.post(url, headers=headers, data=uploads[0]) as r:
                    refused = r.status
                found["service_rss_before_mb"] = rss_before
                found["service_rss_after_mb"] = harness.rss_mb(directory.pid)
                found["reimport_first_upload"] = {
                    "status": refused, "ms": round((time.perf_counter() - t0) * 1000, 1)}
        finally:
            procs.stop()
    return found


async def run(sizes: list[int], owners: int, connections: int, parts: list[str],
              seconds: float) -> dict[str, Any]:
    result: dict[str, Any] = {"benchmark": "growth"}
    if "issues" in parts:
        result["issues_pages"] = await growth_issues.run(sizes, seconds)
    if "vote" in parts:
        result["vote_of_many_owners"] = await vote(owners, connections)
    if "import" in parts:
        result["units_import"] = await units_import(owners)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--issues", type=int, nargs="+", default=[10_000, 1_000_000],
                        help="the compound's issues at each step (the first is the base)")
    parser.add_argument("--owners", type=int, default=30_000)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5, help="wrk per page kind and size")
    parser.add_argument("--part", choices=["issues", "vote", "import"], action="append")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks it runs")
    args = parser.parse_args()
    if args.quick:
        args.issues, args.owners, args.connections, args.seconds = [2000, 8000], 60, 20, 1
    parts = args.part or ["issues", "vote", "import"]
    harness.write("growth", asyncio.run(run(args.issues, args.owners, args.connections, parts,
                                            args.seconds)))


if __name__ == "__main__":
    main()

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

Run: `.venv/bin/python -m bench.bench_growth [--issues 10000 1000000] [--owners 30000]
[--part issues|vote] [--quick]`.
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


async def run(sizes: list[int], owners: int, connections: int, parts: list[str],
              seconds: float) -> dict[str, Any]:
    result: dict[str, Any] = {"benchmark": "growth"}
    if "issues" in parts:
        result["issues_pages"] = await growth_issues.run(sizes, seconds)
    if "vote" in parts:
        result["vote_of_many_owners"] = await vote(owners, connections)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--issues", type=int, nargs="+", default=[10_000, 1_000_000],
                        help="the compound's issues at each step (the first is the base)")
    parser.add_argument("--owners", type=int, default=30_000)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5, help="wrk per page kind and size")
    parser.add_argument("--part", choices=["issues", "vote"], action="append")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks it runs")
    args = parser.parse_args()
    if args.quick:
        args.issues, args.owners, args.connections, args.seconds = [2000, 8000], 60, 20, 1
    parts = args.part or ["issues", "vote"]
    harness.write("growth", asyncio.run(run(args.issues, args.owners, args.connections, parts,
                                            args.seconds)))


if __name__ == "__main__":
    main()

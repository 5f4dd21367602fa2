"""An owners' vote under load: 3,000 owners cast ballots concurrently through the HTTP API
(ballots per second, p50/p99 latency, CPU and round trips per ballot), the same owners in a
secret vote and in committee elections, secret and open (bench/ballot_kinds.py), and the tally of
100,000 and 1,000,000 ballots loaded from PostgreSQL (milliseconds).

Run: `.venv/bin/python -m bench.bench_meetings [--owners N] [--connections C] [--rate R]
[--tally N ...] [--quick]`: the owners' ballots flat out (C in flight), then a second vote's
at a steady R a second (p99 at that rate), then the tallies (`--tally` alone: none).
The directory and meetings services run as separate `linli serve` processes on embedded
PostgreSQL and NATS (bench/harness.py); the owners' requests go out from this process
through raw keep-alive connections (bench/lean_http.py).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import time
import uuid
from typing import Any

import aiohttp

from bench import ballot_kinds, harness, lean_http
from linli import db
from linli.auth import issue_token
from linli.config import DEV_SECRET
from linli.stack import free_port
from linli.uploads import MAX_ROWS
from services.meetings.votes import service as voting
from services.meetings.votes import tally


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def token(subject: str, roles: list[str], cid: str) -> dict[str, str]:
    tok = issue_token(DEV_SECRET, subject=subject, roles=roles, compounds=[cid])
    return {"Authorization": f"Bearer {tok}"}


async def post(session: aiohttp.ClientSession, url: str, headers: dict[str, str],
               **kwargs: Any) -> Any:
    async with session.post(url, headers=headers, **kwargs) as r:
        body = await r.json()
        if r.status >= 300:
            raise RuntimeError(f"{url}: {r.status} {body}")
        return body


def unit_uploads(owners: int) -> list[bytes]:
    """CSV uploads of `owners` units with one owner each, MAX_ROWS lines at most an upload (what
    the directory takes a request), 300 units a building of 30 floors."""
    rows = []
    # phone numbers consecutive from a random one: one person per unit (random numbers collide
    # at 30,000, and an owner of two units is one entry on the roll)
    phones = uuid.uuid4().int % 10**9
    for i in range(owners):
        building, floor = f"{i // 300 + 1}号楼", (i % 300) // 10 + 1
        rows.append(f"{building},30,{floor},{i % 300 + 1:04d},{80 + i % 50}.{i % 100:02d},"
                    f"delivered,业主{i}:15{(phones + i) % 10**9:09d}")
    return ["\n".join(["building,floors,floor,number,area,status,owners",
                       *rows[first:first + MAX_ROWS]]).encode()
            for first in range(0, owners, MAX_ROWS)]


async def setup(session: aiohttp.ClientSession, directory: str, meetings: str, owners: int,
                timings: dict[str, float] | None = None) -> tuple[str, str, list[str]]:
    """A compound of `owners` units with one owner each (CSV imports of MAX_ROWS lines), a
    proposal, a vote;
    `timings` gets the milliseconds of the import and of opening the vote (the roll frozen)."""
    timings = {} if timings is None else timings
    street = token("bench-street", ["street_office"], "*")
    compound = await post(session, f"{directory}/v1/compounds", street, json={
        "name": f"基准小区{uuid.uuid4().hex[:6]}", "community": "基准社区", "street": "基准街道"})
    cid = compound["id"]
    started = time.perf_counter()
    for csv in unit_uploads(owners):
        await post(session, f"{directory}/v1/compounds/{cid}/imports/units",
                   {**street, "Content-Type": "text/csv"}, data=csv)
    timings["units_import_ms"] = round((time.perf_counter() - started) * 1000, 1)
    branch = token("bench-branch", ["party_branch"], cid)
    proposal = await post(session, f"{meetings}/v1/compounds/{cid}/proposals", branch, json={
        "title": "加装电梯", "matter": "art278_7", "body": "基准测试议案"})
    closes = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    started = time.perf_counter()
    vote = await post(session, f"{meetings}/v1/compounds/{cid}/proposals/{proposal['id']}/votes",
                      branch, json={"closes_at": closes})
    timings["open_vote_with_roll_ms"] = round((time.perf_counter() - started) * 1000, 1)
    async with session.get(f"{directory}/v1/compounds/{cid}/roll", headers=street) as r:
        roll = await r.json()
    people = [str(e["owner_ids"][0]) for e in roll["entries"]]
    assert vote["roll"]["entries"] == owners == len(people)
    return cid, vote["id"], people


async def cast_all(meetings: str, cid: str, vote_id: str, people: list[str], connections: int,
                   rate: float | None = None, bodies: list[bytes] | None = None,
                   path: str = "ballots") -> dict[str, Any]:
    """Every owner's ballot submitted at once, `connections` of them in flight at a time; or,
    with `rate`, owner i's ballot due at i/rate seconds (a steady arrival rate), its latency
    counted from when it was due (a late start is the service's delay too). The requests go
    out through bench/lean_http.py, so the generator leaves the cores to the service."""
    url = f"{meetings}/v1/compounds/{cid}/votes/{vote_id}/{path}"
    choices = ("agree", "agree", "agree", "oppose", "abstain")
    bodies = bodies or [f'{{"choice": "{choices[i % 5]}"}}'.encode() for i in range(len(people))]
    requests = [lean_http.post_request(url, body, token(person, ["owner"], cid))
                for body, person in zip(bodies, people, strict=True)]
    answers = await lean_http.send_all(url, requests, connections=connections, rate=rate)
    latencies = answers.latencies
    return {"owners": len(people), "statuses": {str(k): v for k, v in answers.statuses.items()},
            "seconds": round(answers.seconds, 2),
            "ballots_per_s": round(len(people) / answers.seconds),
            "latency_p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
            "latency_p99_ms": round(percentile(latencies, 0.99) * 1000, 1)}


async def another_vote(session: aiohttp.ClientSession, meetings: str, cid: str,
                       secret: bool = False) -> str:
    """Another proposal's vote in the same compound (its roll frozen anew: nobody voted)."""
    branch = token("bench-branch", ["party_branch"], cid)
    proposal = await post(session, f"{meetings}/v1/compounds/{cid}/proposals", branch, json={
        "title": "无记名表决" if secret else "更换门禁", "matter": "art278_4",
        "body": "基准测试议案"})
    closes = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    vote = await post(session, f"{meetings}/v1/compounds/{cid}/proposals/{proposal['id']}/votes",
                      branch, json={"closes_at": closes, "secret": secret})
    return str(vote["id"])


async def counted(session: aiohttp.ClientSession, meetings: str, cid: str,
                  vote_id: str) -> dict[str, Any]:
    """Close the vote: its result counts each ballot once."""
    branch = token("bench-branch", ["party_branch"], cid)
    return dict(await post(session, f"{meetings}/v1/compounds/{cid}/votes/{vote_id}/close",
                           branch))


def tally_pure(n: int) -> dict[str, Any]:
    roll = tally.Roll.of(tally.RollEntry(f"e{i}", 8000 + i % 5000) for i in range(n))
    ballots = {f"e{i}": tally.CHOICES[i % 3] for i in range(n)}
    started = time.perf_counter()
    result = tally.tally(roll, ballots, tally.CIVIL_CODE_MAJOR)
    ms = (time.perf_counter() - started) * 1000
    return {"ballots": n, "ms": round(ms, 1), "outcome": result.outcome}


async def tally_from_db(dsn: str, proposal_cid: tuple[str, str], n: int) -> dict[str, Any]:
    """Load a vote of n ballots from PostgreSQL and tally it, as closing a vote does."""
    cid, proposal_id = (uuid.UUID(x) for x in proposal_cid)
    pool = await db.create_pool(dsn, schema="meetings")
    vote_id = uuid.uuid4()
    try:
        async with db.transaction(pool) as conn:  # generated in SQL: 1,000,000 rows in seconds
            await conn.execute(
                "INSERT INTO votes (id, compound_id, proposal_id, version, rule, closes_at,"
                " opened_by, total_area_centi, total_headcount, status)"
                " SELECT $1, $2, $3, 1, 'civil_code_major', now(), 'bench', sum(8000 + g % 5000),"
                " $4, 'closed' FROM generate_series(0, $4 - 1) g", vote_id, cid, proposal_id, n)
            await conn.execute(
                "INSERT INTO roll_entries (vote_id, entry_id, kind, owner_ids, unit_ids,"
                " area_centi, headcount) SELECT $1, 'e' || g, 'owner', '{}', '{}',"
                " 8000 + g % 5000, 1 FROM generate_series(0, $2 - 1) g", vote_id, n)
            await conn.execute(
                "INSERT INTO ballots (vote_id, entry_id, choice, channel, cast_by)"
                " SELECT $1, 'e' || g, ($3::text[])[1 + g % 3], 'online', 'bench'"
                " FROM generate_series(0, $2 - 1) g", vote_id, n, list(tally.CHOICES))
            await conn.execute("ANALYZE roll_entries; ANALYZE ballots")
        async with pool.acquire() as conn:
            vote = await conn.fetchrow("SELECT * FROM votes WHERE id = $1", vote_id)
            timings = []
            for _ in range(3):  # the first also plans the query and reads the pages in
                started = time.perf_counter()
                result = await voting.count(conn, vote)
                timings.append((time.perf_counter() - started) * 1000)
            assert result.counts.ballots == n, result.counts.ballots
        return {"ballots": n, "ms": round(sorted(timings)[1], 1), "first_ms": round(timings[0], 1),
                "outcome": result.outcome}
    finally:
        await pool.close()


async def tally_both(dsn: str, proposal: tuple[str, str], sizes: list[int]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for n in sizes:
        found[f"tally_{n}_loaded_from_postgres"] = await tally_from_db(dsn, proposal, n)
    return found


async def run(owners: int, connections: int, tallies: list[int],
              rate: float | None) -> dict[str, Any]:
    with harness.embedded() as stack:
        procs = harness.Processes()
        try:
            ports = {"directory": free_port(), "meetings": free_port()}
            env = harness.service_env(stack, ports)
            directory = procs.serve("directory", env, ports["directory"])
            meetings = procs.serve("meetings", env, ports["meetings"])
            await asyncio.sleep(1)
            idle = {p.name: harness.rss_mb(p.pid) for p in (directory, meetings)}
            connector = aiohttp.TCPConnector(limit=connections)
            async with aiohttp.ClientSession(connector=connector,
                                             timeout=aiohttp.ClientTimeout(total=600)) as session:
                cid, vote_id, people = await setup(session, directory.url, meetings.url, owners)

                async def drive() -> dict[str, Any]:
                    found = await cast_all(meetings.url, cid, vote_id, people, connections)
                    return {**found, "requests": found["owners"]}

                casting = await harness.measured(
                    stack, meetings.pid, drive, done="SELECT count(*) FROM meetings.ballots")
                closed = await counted(session, meetings.url, cid, vote_id)
                casting["counted_ballots"] = closed["result"]["counts"]["ballots"]
                casting["in_flight"] = connections
                proposal = (cid, closed["proposal_id"])
                steady = {}
                if rate:
                    second = await another_vote(session, meetings.url, cid)

                    async def paced() -> dict[str, Any]:
                        found = await cast_all(meetings.url, cid, second, people, connections,
                                               rate)
                        return {**found, "requests": found["owners"], "rate_per_s": rate}

                    arriving = await harness.measured(
                        stack, meetings.pid, paced, done="SELECT count(*) FROM meetings.ballots")
                    arriving.pop("statements")
                    closed = await counted(session, meetings.url, cid, second)
                    arriving["counted_ballots"] = closed["result"]["counts"]["ballots"]
                    steady = {"steady_ballots_over_http": arriving}
                kinds = await ballot_kinds.measure(stack, session, meetings, cid, people,
                                                   connections)
            tallied = {"tally_pure_python": tally_pure(tallies[0]),
                       **await tally_both(stack.database_url, proposal, tallies)} if tallies else {}
            return {"benchmark": "meetings", "concurrent_ballots_over_http": casting, **steady,
                    **kinds,
                    **tallied, "idle_rss_mb": idle, "cpu_cores": os.cpu_count()}
        finally:
            procs.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--owners", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--tally", type=int, nargs="*", default=[100_000, 1_000_000],
                        help="sizes of the tallies loaded from PostgreSQL; none: ballots only")
    parser.add_argument("--rate", type=float, default=1000.0,
                        help="the steady arrival rate of a second vote's ballots; 0: none")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks it runs")
    args = parser.parse_args()
    if args.quick:
        args.owners, args.connections, args.tally, args.rate = 60, 20, [2000], 100.0
    harness.write("meetings", asyncio.run(run(args.owners, args.connections, args.tally,
                                              args.rate or None)))


if __name__ == "__main__":
    main()

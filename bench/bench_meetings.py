"""An owners' vote under load: 3,000 owners cast ballots concurrently through the HTTP API
(ballots per second, p50/p99 latency), and the tally of 100,000 ballots (milliseconds).

Run: `.venv/bin/python -m bench.bench_meetings [--owners N] [--connections C]`.
The directory and meetings services run as separate `linli serve` processes; PostgreSQL and
NATS are the ones named by LINLI_DATABASE_URL / LINLI_NATS_URL, or embedded ones started here.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

from linli import db
from linli.auth import issue_token
from linli.config import DEV_SECRET
from linli.stack import EmbeddedStack, Ports, free_port
from services.meetings.votes import service as voting
from services.meetings.votes import tally

RESULTS = Path(__file__).parent / "results"
ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def token(subject: str, roles: list[str], cid: str) -> dict[str, str]:
    tok = issue_token(DEV_SECRET, subject=subject, roles=roles, compounds=[cid])
    return {"Authorization": f"Bearer {tok}"}


def start_services(env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    procs = []
    for name in ("directory", "meetings"):
        procs.append(subprocess.Popen([str(ROOT / ".venv/bin/linli"), "serve", name], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return procs


async def wait_ready(session: aiohttp.ClientSession, url: str) -> None:
    for _ in range(300):
        try:
            async with session.get(f"{url}/readyz") as r:
                if r.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not become ready")


async def post(session: aiohttp.ClientSession, url: str, headers: dict[str, str],
               **kwargs: Any) -> Any:
    async with session.post(url, headers=headers, **kwargs) as r:
        body = await r.json()
        if r.status >= 300:
            raise RuntimeError(f"{url}: {r.status} {body}")
        return body


async def setup(session: aiohttp.ClientSession, directory: str, meetings: str,
                owners: int) -> tuple[str, str, list[str]]:
    """A compound of `owners` units with one owner each (one CSV import), a proposal, a vote."""
    street = token("bench-street", ["street_office"], "*")
    compound = await post(session, f"{directory}/v1/compounds", street, json={
        "name": f"基准小区{uuid.uuid4().hex[:6]}", "community": "基准社区", "street": "基准街道"})
    cid = compound["id"]
    rows = ["building,floors,floor,number,area,status,owners"]
    for i in range(owners):
        building, floor = f"{i // 300 + 1}号楼", (i % 300) // 10 + 1
        rows.append(f"{building},30,{floor},{i % 300 + 1:04d},{80 + i % 50}.{i % 100:02d},"
                    f"delivered,业主{i}:15{uuid.uuid4().int % 10**9:09d}")
    await post(session, f"{directory}/v1/compounds/{cid}/imports/units",
               {**street, "Content-Type": "text/csv"}, data="\n".join(rows).encode())
    branch = token("bench-branch", ["party_branch"], cid)
    proposal = await post(session, f"{meetings}/v1/compounds/{cid}/proposals", branch, json={
        "title": "加装电梯", "matter": "art278_7", "body": "基准测试议案"})
    closes = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    vote = await post(session, f"{meetings}/v1/compounds/{cid}/proposals/{proposal['id']}/votes",
                      branch, json={"closes_at": closes})
    async with session.get(f"{directory}/v1/compounds/{cid}/roll", headers=street) as r:
        roll = await r.json()
    people = [str(e["owner_ids"][0]) for e in roll["entries"]]
    assert vote["roll"]["entries"] == owners == len(people)
    return cid, vote["id"], people


async def cast_all(session: aiohttp.ClientSession, meetings: str, cid: str, vote_id: str,
                   people: list[str], connections: int) -> dict[str, Any]:
    """Every owner's ballot submitted at once; `connections` of them in flight at a time."""
    url = f"{meetings}/v1/compounds/{cid}/votes/{vote_id}/ballots"
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    in_flight = asyncio.Semaphore(connections)
    tokens = [token(person, ["owner"], cid) for person in people]

    async def one(i: int) -> None:
        choice = ("agree", "agree", "agree", "oppose", "abstain")[i % 5]
        async with in_flight:  # latency counts from sending, not from waiting for a socket
            started = time.perf_counter()
            async with session.post(url, json={"choice": choice}, headers=tokens[i]) as r:
                await r.read()
                statuses[r.status] = statuses.get(r.status, 0) + 1
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(len(people))))
    elapsed = time.perf_counter() - started
    return {"owners": len(people), "statuses": {str(k): v for k, v in statuses.items()},
            "seconds": round(elapsed, 2), "ballots_per_s": round(len(people) / elapsed),
            "latency_p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
            "latency_p99_ms": round(percentile(latencies, 0.99) * 1000, 1)}


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
        async with db.transaction(pool) as conn:
            await conn.execute(
                "INSERT INTO votes (id, compound_id, proposal_id, version, rule, closes_at,"
                " opened_by, total_area_centi, total_headcount, status)"
                " VALUES ($1, $2, $3, 1, 'civil_code_major', now(), 'bench', $4, $5, 'closed')",
                vote_id, cid, proposal_id, sum(8000 + i % 5000 for i in range(n)), n)
            await conn.copy_records_to_table("roll_entries", records=[
                (vote_id, f"e{i}", "owner", [], [], 8000 + i % 5000, 1) for i in range(n)],
                columns=["vote_id", "entry_id", "kind", "owner_ids", "unit_ids", "area_centi",
                         "headcount"])
            await conn.copy_records_to_table("ballots", records=[
                (vote_id, f"e{i}", tally.CHOICES[i % 3], "online", "bench") for i in range(n)],
                columns=["vote_id", "entry_id", "choice", "channel", "cast_by"])
        async with pool.acquire() as conn:
            vote = await conn.fetchrow("SELECT * FROM votes WHERE id = $1", vote_id)
            started = time.perf_counter()
            result = await voting.count(conn, vote)
            ms = (time.perf_counter() - started) * 1000
        return {"ballots": n, "ms": round(ms, 1), "outcome": result.outcome}
    finally:
        await pool.close()


async def run(owners: int, connections: int, tally_n: int) -> dict[str, Any]:
    stack = None
    dsn, nats_url = os.environ.get("LINLI_DATABASE_URL"), os.environ.get("LINLI_NATS_URL")
    if not (dsn and nats_url):
        stack = EmbeddedStack(Path(tempfile.mkdtemp(prefix="linli-bench-")), Ports.free(),
                              ephemeral=True, temporal_ui=False, run_temporal=False)
        stack.start()
        dsn, nats_url = stack.database_url, stack.nats_url
    ports = {"directory": free_port(), "meetings": free_port()}
    env = {**os.environ, "LINLI_DATABASE_URL": dsn, "LINLI_NATS_URL": nats_url,
           "LINLI_JWT_SECRET": DEV_SECRET, "LINLI_ENV": "development",
           "LINLI_MAX_BODY_BYTES": str(8 * 1024 * 1024),
           "LINLI_DIRECTORY_PORT": str(ports["directory"]),
           "LINLI_MEETINGS_PORT": str(ports["meetings"])}
    procs = start_services(env)
    try:
        directory, meetings = (f"http://127.0.0.1:{ports[s]}" for s in ("directory", "meetings"))
        connector = aiohttp.TCPConnector(limit=connections)
        async with aiohttp.ClientSession(connector=connector,
                                         timeout=aiohttp.ClientTimeout(total=600)) as session:
            await wait_ready(session, directory)
            await wait_ready(session, meetings)
            cid, vote_id, people = await setup(session, directory, meetings, owners)
            casting = await cast_all(session, meetings, cid, vote_id, people, connections)
            branch = token("bench-branch", ["party_branch"], cid)
            closed = await post(session, f"{meetings}/v1/compounds/{cid}/votes/{vote_id}/close",
                                branch)
            casting["counted_ballots"] = closed["result"]["counts"]["ballots"]
            casting["in_flight"] = connections
            proposal = (cid, closed["proposal_id"])
        return {"benchmark": "meetings", "concurrent_ballots_over_http": casting,
                "tally_pure_python": tally_pure(tally_n),
                "tally_loaded_from_postgres": await tally_from_db(dsn, proposal, tally_n),
                "cpu_cores": os.cpu_count()}
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if stack is not None:
            stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--owners", type=int, default=3000)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--tally", type=int, default=100_000)
    args = parser.parse_args()
    result = asyncio.run(run(args.owners, args.connections, args.tally))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "meetings.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

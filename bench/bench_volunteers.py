"""Volunteer orders per second over HTTP, the concurrent-accept race, and the ledger at scale.

- orders: residents place orders through the API (auth, validation, the directory's unit
  check over HTTP, the item lock for weekly capacity, the order, history and outbox rows), all
  for ONE menu item in one week: the worst case, every order waits on that item's row lock;
- race: 8 volunteers accept the same order at once, for many orders; exactly one must win each;
- ledger: statistics and the CSV export of a compound with 100,000 ledger lines.

Run: `.venv/bin/python -m bench.bench_volunteers [--orders N] [--concurrency C]`. Uses the
servers named by LINLI_DATABASE_URL / LINLI_NATS_URL when set, otherwise starts embedded ones.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import statistics
import time
import uuid
from typing import Any

import aiohttp

from bench.bench_issues import servers, start
from linli.auth import issue_token
from linli.config import Settings
from linli.http import POOL
from linli.stack import free_port
from services.directory.app import create_app as directory_app
from services.volunteers.app import create_app as volunteers_app

RESULTS_NAME = "volunteers.json"
RACERS = 8


def figures(latencies: list[float], elapsed: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {"count": len(ordered), "per_s": round(len(ordered) / elapsed, 1),
            "latency_p50_ms": round(statistics.median(ordered) * 1000, 2),
            "latency_p99_ms": round(ordered[int(0.99 * (len(ordered) - 1))] * 1000, 2)}


class Bench:
    def __init__(self, settings: Settings, session: aiohttp.ClientSession) -> None:
        self.settings, self.session = settings, session
        self.directory = f"http://127.0.0.1:{settings.port('directory')}"
        self.api = f"http://127.0.0.1:{settings.port('volunteers')}"
        self.cid = ""

    def auth(self, *roles: str, person: str | None = None) -> dict[str, str]:
        token = issue_token(self.settings.jwt_secret, subject=person or str(uuid.uuid4()),
                            roles=roles or ("resident",), compounds=[self.cid or "*"])
        return {"Authorization": f"Bearer {token}"}

    async def post(self, url: str, body: Any, headers: dict[str, str], status: int = 201) -> Any:
        async with self.session.post(url, json=body, headers=headers) as r:
            assert r.status == status, await r.text()
            return await r.json()

    async def setup(self) -> tuple[str, list[str], list[dict[str, str]]]:
        """A compound with one unit, two menu items and RACERS verified volunteers."""
        street = self.auth("street_office")
        self.cid = (await self.post(f"{self.directory}/v1/compounds", {
            "name": "阳光花园城", "community": "万安社区", "street": "万安街道"}, street))["id"]
        c = f"{self.directory}/v1/compounds/{self.cid}"
        b = (await self.post(f"{c}/buildings", {"name": "1号楼", "floors": 6}, street))["id"]
        unit = (await self.post(f"{c}/units", {"building_id": b, "floor": 1, "number": "101",
                                               "area": "80.00", "status": "delivered"},
                                street))["id"]
        staff = self.auth("community")
        base = f"{self.api}/v1/compounds/{self.cid}"
        items = [(await self.post(f"{base}/service-menu", {
            "title": title, "skill": "appliance_repair", "duration_minutes": 60,
            "capacity_per_week": 1000}, staff))["id"] for title in ("上门修理家电", "试用")]
        crew = []
        for i in range(RACERS):
            person = (await self.post(f"{self.directory}/v1/people", {"name": f"志愿者{i}"},
                                      street))["id"]
            await self.post(f"{base}/volunteers", {"skills": ["appliance_repair"],
                                                   "person_id": person}, staff)
            crew.append(self.auth(person=person))
        return unit, items, crew

    async def orders(self, unit: str, item: str, count: int, concurrency: int) -> Any:
        url = f"{self.api}/v1/compounds/{self.cid}/volunteer-orders"
        start_at = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
        body = {"item_id": item, "unit_id": unit, "window_start": start_at.isoformat(),
                "window_end": (start_at + dt.timedelta(hours=2)).isoformat()}
        latencies: list[float] = []
        ids: list[str] = []

        async def client(n: int) -> None:
            headers = self.auth()
            for _ in range(n):
                began = time.perf_counter()
                ids.append((await self.post(url, body, headers))["id"])
                latencies.append(time.perf_counter() - began)

        began = time.perf_counter()
        await asyncio.gather(*(client(count // concurrency) for _ in range(concurrency)))
        return figures(latencies, time.perf_counter() - began), ids

    async def race(self, ids: list[str], crew: list[dict[str, str]]) -> dict[str, Any]:
        base = f"{self.api}/v1/compounds/{self.cid}/volunteer-orders"
        latencies: list[float] = []
        wins = 0

        async def accept(order: str, headers: dict[str, str]) -> int:
            async with self.session.post(f"{base}/{order}/accept", headers=headers) as r:
                await r.read()
                return r.status

        began = time.perf_counter()
        for order in ids:
            t0 = time.perf_counter()
            statuses = await asyncio.gather(*(accept(order, h) for h in crew))
            latencies.append(time.perf_counter() - t0)
            assert sorted(statuses) == [200] + [409] * (len(crew) - 1), statuses
            wins += 1
        return {**figures(latencies, time.perf_counter() - began), "racers": len(crew),
                "orders_with_exactly_one_winner": wins}


async def ledger_at_scale(bench: Bench, pool: Any, lines: int) -> dict[str, Any]:
    """100,000 ledger lines for one compound (SQL), then the stats and CSV over HTTP."""
    cid = uuid.uuid4()
    await pool.execute(
        "INSERT INTO volunteers (id, compound_id, person_id, name, skills, status, registered_by)"
        " SELECT gen_random_uuid(), $1, 'p' || g, '志愿者' || g, ARRAY['elder_visit'],"
        " 'verified', 'bench' FROM generate_series(1, 50) g", cid)
    await pool.execute(
        "INSERT INTO ledger (compound_id, volunteer_id, source, source_id, skill, title,"
        " person_id, minutes, rating, served_at) SELECT $1, v.id, 'order', gen_random_uuid(),"
        " (ARRAY['elder_visit','appliance_repair','mediation'])[1 + g % 3], '服务', 'r' || g,"
        " 15 + g % 120, CASE WHEN g % 4 = 0 THEN NULL ELSE 1 + g % 5 END,"
        " now() - (g || ' minutes')::interval FROM generate_series(1, $2) g"
        " JOIN LATERAL (SELECT id FROM volunteers WHERE compound_id = $1"
        " ORDER BY id OFFSET g % 50 LIMIT 1) v ON true", cid, lines)
    bench.cid = str(cid)
    headers = bench.auth("community")
    base = f"{bench.api}/v1/compounds/{cid}"
    timings, services = [], 0
    for _ in range(5):
        t0 = time.perf_counter()
        async with bench.session.get(f"{base}/service-ledger/stats", headers=headers) as r:
            services = (await r.json())["services"]
        timings.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    async with bench.session.get(f"{base}/service-ledger.csv", headers=headers) as r:
        size = len(await r.read())
    csv_s = time.perf_counter() - t0
    await pool.execute("DELETE FROM ledger WHERE compound_id = $1", cid)
    await pool.execute("DELETE FROM volunteers WHERE compound_id = $1", cid)
    return {"lines": services, "stats_median_ms": round(statistics.median(timings) * 1000, 1),
            "csv_export_ms": round(csv_s * 1000, 1), "csv_bytes": size}


async def run(count: int, concurrency: int, races: int) -> dict[str, Any]:
    async with servers() as (database_url, nats_url):
        settings = Settings(database_url=database_url, nats_url=nats_url,
                            jwt_secret="linli-bench-secret-of-at-least-32-bytes",
                            ports={"volunteers": free_port(), "directory": free_port()})
        volunteers = volunteers_app(settings)
        stops = [await start(directory_app(settings), settings.port("directory")),
                 await start(volunteers, settings.port("volunteers"))]
        try:
            async with aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(limit=64)) as session:
                bench = Bench(settings, session)
                unit, (item, warm), crew = await bench.setup()
                await bench.orders(unit, warm, 64, 16)  # warm up on another item
                placed, ids = await bench.orders(unit, item, count, concurrency)
                raced = await bench.race(ids[:races], crew)
                ledger = await ledger_at_scale(bench, volunteers[POOL], 100_000)
        finally:
            for stop in reversed(stops):
                await stop()
    return {"benchmark": "volunteers", "concurrency": concurrency, "place_order_http": placed,
            "concurrent_accept_race": raced, "ledger_100k": ledger,
            "note": "directory and volunteers in one process with the load generator, 2 cores"}


def main() -> None:
    from bench.bench_bus import RESULTS

    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--races", type=int, default=200)
    args = parser.parse_args()
    result = asyncio.run(run(args.orders, args.concurrency, args.races))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / RESULTS_NAME).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""Volunteer orders per second over HTTP beside the bare process, the concurrent-accept race,
and the ledger at scale, measured as production runs (bench/harness.py).

- orders: residents place orders through the API (auth, validation, the directory's unit
  check, then ONE autocommitted statement: the item held, a place of its week taken from the
  week's row in week_places, the order, history and outbox rows), all for ONE menu item, spread
  over 52 weeks so the weekly capacity never refuses one (orders for the same week queue on
  that week's row, ~1 in 52 here; other weeks do not); driven by wrk beside the bare
  aiohttp+asyncpg process (one INSERT), and by the order's own use case called without our HTTP
  framework (bench/same_work.py, after the rest: the service is stopped for it);
- race: 8 volunteers accept the same order at once, for many orders; exactly one must win each;
- ledger: statistics and the CSV export of a compound with 100,000 and 1,000,000 ledger lines,
  with the service's RSS sampled while the CSV streams.

Run: `.venv/bin/python -m bench.bench_volunteers [--seconds S] [--quick]`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import time
import uuid
from typing import Any

import aiohttp
import asyncpg
import msgspec

from bench import harness
from linli import db
from linli.auth import issue_token
from linli.config import DEV_SECRET, Settings
from linli.stack import free_port

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
        """A compound with one unit, three menu items (the API's, the warm-up's and the same
        work's) and RACERS verified volunteers."""
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
            "capacity_per_week": 1000}, staff))["id"] for title in ("上门修理家电", "试用", "同工")]
        # staff register people of the compound: each serves in its volunteer team
        team = (await self.post(f"{c}/organisations", {"kind": "volunteer_team",
                                                        "name": "志愿服务队"}, street))["id"]
        crew = []
        for i in range(RACERS):
            person = (await self.post(f"{self.directory}/v1/people", {"name": f"志愿者{i}"},
                                      street))["id"]
            await self.post(f"{c}/organisations/{team}/roles", {
                "person_id": person, "title": "队员", "starts_on": "2026-01-01"}, street)
            await self.post(f"{base}/volunteers", {"skills": ["appliance_repair"],
                                                   "person_id": person}, staff)
            crew.append(self.auth(person=person))
        return unit, items, crew

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


async def ledger_at_scale(bench: Bench, dsn: str, pid: int, lines: int) -> dict[str, Any]:
    """`lines` ledger lines for one compound (SQL), then the stats and CSV over HTTP."""
    cid = uuid.uuid4()
    pool = await db.create_pool(dsn, schema="volunteers")
    try:
        await fill_ledger(pool, cid, lines)
        bench.cid = str(cid)
        headers = bench.auth("community")
        base = f"{bench.api}/v1/compounds/{cid}"
        timings, services = [], 0
        for _ in range(5):
            t0 = time.perf_counter()
            async with bench.session.get(f"{base}/service-ledger/stats", headers=headers) as r:
                services = (await r.json())["services"]
            timings.append(time.perf_counter() - t0)
        rss = [harness.rss_mb(pid)]
        size, newlines = 0, 0
        t0 = time.perf_counter()
        async with bench.session.get(f"{base}/service-ledger.csv", headers=headers) as r:
            assert r.status == 200, r.status
            async for chunk in r.content.iter_chunked(1 << 16):
                size, newlines = size + len(chunk), newlines + chunk.count(b"\n")
                rss.append(harness.rss_mb(pid))
        csv_s = time.perf_counter() - t0
        assert newlines == lines + 1, (newlines, lines)  # the header and every line
        await pool.execute("DELETE FROM ledger WHERE compound_id = $1", cid)
        await pool.execute("DELETE FROM volunteers WHERE compound_id = $1", cid)
    finally:
        await pool.close()
    return {"lines": services, "stats_median_ms": round(statistics.median(timings) * 1000, 1),
            "csv_export_ms": round(csv_s * 1000, 1), "csv_bytes": size,
            "service_rss_before_mb": rss[0], "service_rss_peak_during_csv_mb": max(rss)}


async def fill_ledger(pool: Any, cid: uuid.UUID, lines: int) -> None:
    await pool.execute(
        "INSERT INTO volunteers (id, compound_id, person_id, name, skills, status, registered_by)"
        " SELECT gen_random_uuid(), $1, 'p' || g, '志愿者' || g, ARRAY['elder_visit'],"
        " 'verified', 'bench' FROM generate_series(1, 50) g", cid)
    await pool.execute(
        "INSERT INTO ledger (compound_id, volunteer_id, source, source_id, skill, title,"
        " person_id, minutes, rating, served_at) SELECT $1, v.ids[1 + g % 50], 'order',"
        " gen_random_uuid(), (ARRAY['elder_visit','appliance_repair','mediation'])[1 + g % 3],"
        " '服务', 'r' || g, 15 + g % 120, CASE WHEN g % 4 = 0 THEN NULL ELSE 1 + g % 5 END,"
        " now() - (g || ' minutes')::interval FROM generate_series(1, $2) g,"
        " (SELECT array_agg(id ORDER BY id) AS ids FROM volunteers WHERE compound_id = $1) v",
        cid, lines)


BARE_TABLE = "bench_bare.orders"
BARE_COLUMNS = ["item_id", "unit_id", "window_start", "window_end"]


async def bare_table(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE SCHEMA IF NOT EXISTS bench_bare")
        await conn.execute(f"CREATE TABLE IF NOT EXISTS {BARE_TABLE} (id uuid PRIMARY KEY, "
                           + ", ".join(f"{c} text NOT NULL" for c in BARE_COLUMNS) + ")")
    finally:
        await conn.close()


def order_bodies(unit: str, item: str, weeks: int = 52) -> list[bytes]:
    """One order body per week ahead: the weekly capacity (1,000) never refuses the load."""
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    return [msgspec.json.encode({
        "item_id": item, "unit_id": unit,
        "window_start": (start + dt.timedelta(weeks=w)).isoformat(),
        "window_end": (start + dt.timedelta(weeks=w, hours=2)).isoformat()})
        for w in range(weeks)]


async def run(seconds: float, connections: int, races: int, ledgers: list[int]) -> dict[str, Any]:
    with harness.embedded() as stack:
        procs = harness.Processes()
        try:
            ports = {"volunteers": free_port(), "directory": free_port()}
            env = harness.service_env(stack, ports)
            directory = procs.serve("directory", env, ports["directory"])
            volunteers = procs.serve("volunteers", env, ports["volunteers"])
            await bare_table(stack.database_url)
            bare = procs.bare(stack, BARE_TABLE, BARE_COLUMNS)
            await asyncio.sleep(1)
            idle = {p.name: harness.rss_mb(p.pid) for p in (volunteers, directory, bare)}
            settings = Settings(jwt_secret=DEV_SECRET, ports=ports)
            async with aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(limit=64)) as session:
                bench = Bench(settings, session)
                unit, (item, warm, same_item), crew = await bench.setup()
                compound = bench.cid  # the ledger runs below use compounds of their own
                auth = [bench.auth()["Authorization"]]
                url = f"{volunteers.url}/v1/compounds/{bench.cid}/volunteer-orders"

                def drive(target: str, bodies: list[bytes], span: float) -> Any:
                    return lambda: harness.wrk(target, body=None, bodies=bodies, auth=auth,
                                               seconds=span, connections=connections)

                drive(url, order_bodies(unit, warm), 1)()  # warm up on another item
                drive(f"{bare.url}/reports", order_bodies(unit, warm), 1)()
                placed = await harness.measured(
                    stack, volunteers.pid, drive(url, order_bodies(unit, item), seconds),
                    done=f"SELECT count(*) FROM volunteers.orders WHERE item_id = '{item}'")
                floor = await harness.measured(
                    stack, bare.pid, drive(f"{bare.url}/reports", order_bodies(unit, item), seconds),
                    done=f"SELECT count(*) FROM {BARE_TABLE}")
                ids = [str(r["id"]) for r in await harness.rows(
                    stack.database_url, "SELECT id FROM volunteers.orders WHERE item_id = $1"
                    " LIMIT $2", uuid.UUID(item), races)]
                raced = await bench.race(ids[:races], crew)
                ledger = {f"ledger_{n}": await ledger_at_scale(bench, stack.database_url,
                                                               volunteers.pid, n) for n in ledgers}
                procs.stop_one("volunteers")  # its relay would publish the same outbox's rows
                same = procs.same_work("orders", env, compound)
                drive(f"{same.url}/reports", order_bodies(unit, warm), 1)()
                same_work = await harness.measured(
                    stack, same.pid, drive(f"{same.url}/reports", order_bodies(unit, same_item),
                                           seconds),
                    done=f"SELECT count(*) FROM volunteers.orders WHERE item_id = '{same_item}'")
        finally:
            procs.stop()
    return {"benchmark": "volunteers", "place_order_http": placed, "bare_aiohttp_insert": floor,
            "orders_to_bare_ratio": round(placed["per_s"] / floor["per_s"], 3),
            "same_work_no_framework": same_work,
            "same_work_to_bare_ratio": round(same_work["per_s"] / floor["per_s"], 3),
            "concurrent_accept_race": raced, **ledger, "idle_rss_mb": idle,
            "note": "services as `linli serve` processes, bare aiohttp+asyncpg process, wrk"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--races", type=int, default=100)
    parser.add_argument("--ledger", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks it runs")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.races, args.ledger = 1, 5, [2000]
    harness.write("volunteers", asyncio.run(run(args.seconds, args.connections, args.races,
                                                args.ledger)))


if __name__ == "__main__":
    main()

"""The sign-up rush at the neighbourhood centre: many residents signing up for few places at once.

- rush: N residents (default 2,000) sign up through the HTTP API for activities of 30 places,
  C at a time (auth, validation, the activity row lock every sign-up of one activity queues on,
  the sign-up and outbox rows), in rounds of 200 per activity; then the count check: exactly 30
  confirmed and the rest waiting, numbered 1.. in arrival order, nobody twice.

Run: `.venv/bin/python -m bench.bench_centre [--people N] [--concurrency C] [--quick]`. The
directory and centre run as `linli serve` processes on embedded servers (bench/harness.py).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import time
import uuid
from typing import Any

import aiohttp

from bench import harness
from bench.bench_volunteers import figures
from linli.auth import issue_token
from linli.config import DEV_SECRET, Settings
from linli.stack import free_port

PLACES = 30
ROUND = 200


class Bench:
    def __init__(self, settings: Settings, session: aiohttp.ClientSession) -> None:
        self.settings, self.session = settings, session
        self.directory = f"http://127.0.0.1:{settings.port('directory')}"
        self.api = f"http://127.0.0.1:{settings.port('centre')}"
        self.cid = ""

    def auth(self, *roles: str, person: str | None = None) -> dict[str, str]:
        token = issue_token(self.settings.jwt_secret, subject=person or str(uuid.uuid4()),
                            roles=roles or ("resident",), compounds=[self.cid or "*"])
        return {"Authorization": f"Bearer {token}"}

    async def post(self, url: str, body: Any, headers: dict[str, str], status: int = 201) -> Any:
        async with self.session.post(url, json=body, headers=headers) as r:
            assert r.status == status, await r.text()
            return await r.json()

    async def activity(self, n: int) -> str:
        if not self.cid:
            self.cid = (await self.post(f"{self.directory}/v1/compounds", {
                "name": "三盛四季公园", "community": "河市社区", "street": "河市镇"},
                self.auth("street_office")))["id"]
        start_at = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
        return str((await self.post(f"{self.api}/v1/compounds/{self.cid}/activities", {
            "title": f"社区电影夜 {n}", "organiser": "河市社区", "audience": "everyone",
            "starts_at": start_at.isoformat(),
            "ends_at": (start_at + dt.timedelta(hours=2)).isoformat(), "capacity": PLACES},
            self.auth("community")))["id"])

    async def rush(self, people: int, concurrency: int) -> dict[str, Any]:
        rounds = [(await self.activity(i), min(ROUND, people - i * ROUND))
                  for i in range((people + ROUND - 1) // ROUND)]
        jobs = [(a, self.auth()) for a, n in rounds for _ in range(n)]
        latencies: list[float] = []
        answers: dict[str, list[dict[str, Any]]] = {a: [] for a, _ in rounds}
        queue = iter(jobs)

        async def client() -> None:
            for activity, headers in queue:
                began = time.perf_counter()
                url = f"{self.api}/v1/compounds/{self.cid}/activities/{activity}/signups"
                answers[activity].append(await self.post(url, None, headers))
                latencies.append(time.perf_counter() - began)

        began = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(concurrency)))
        result = figures(latencies, time.perf_counter() - began)
        checked = sum(self.check(ups) for ups in answers.values())
        return {**result, "activities": len(rounds), "places_each": PLACES,
                "activities_counted_exactly": checked}

    @staticmethod
    def check(ups: list[dict[str, Any]]) -> bool:
        confirmed = [u for u in ups if u["status"] == "confirmed"]
        waiting = sorted(u["position"] for u in ups if u["status"] == "waiting")
        assert len(confirmed) == min(PLACES, len(ups)), len(confirmed)
        assert waiting == list(range(1, len(ups) - len(confirmed) + 1))
        assert len({u["person_id"] for u in ups}) == len(ups)
        return True


async def run(people: int, concurrency: int) -> dict[str, Any]:
    with harness.embedded() as stack:
        procs = harness.Processes()
        try:
            ports = {"centre": free_port(), "directory": free_port()}
            env = harness.service_env(stack, ports)
            procs.serve("directory", env, ports["directory"])
            centre = procs.serve("centre", env, ports["centre"])
            await asyncio.sleep(1)
            idle = {"centre": harness.rss_mb(centre.pid)}
            settings = Settings(jwt_secret=DEV_SECRET, ports=ports)
            async with aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(limit=64)) as session:
                bench = Bench(settings, session)
                await bench.rush(ROUND, 16)  # warm up

                async def drive() -> dict[str, Any]:
                    found = await bench.rush(people, concurrency)
                    return {**found, "requests": found["count"]}

                rushed = await harness.measured(stack, centre.pid, drive,
                                                done="SELECT count(*) FROM centre.signups")
                rows = (await harness.rows(stack.database_url,
                                           "SELECT count(*) AS n FROM centre.signups"))[0]["n"]
        finally:
            procs.stop()
    return {"benchmark": "centre", "concurrency": concurrency, "signup_rush_http": rushed,
            "signup_rows": rows, "idle_rss_mb": idle,
            "note": "services as `linli serve` processes; the residents' clients in the bench"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--quick", action="store_true", help="one round: checks it runs")
    args = parser.parse_args()
    harness.write("centre", asyncio.run(run(ROUND if args.quick else args.people,
                                            args.concurrency)))


if __name__ == "__main__":
    main()

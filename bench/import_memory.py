"""Memory of the directory service around CSV imports of units and owners.

The directory runs as its own `linli serve directory` process (as in bench_growth), on embedded
PostgreSQL and NATS; for each scenario a fresh process: its RSS (/proc/<pid>/status VmRSS) once
ready, after a warm-up upload of a few lines, sampled every few milliseconds while the uploads
run (the peak; VmHWM too), and once the relay has sent every outbox row and the process has been
idle for a few seconds ("after").

Scenarios: `20000` is one upload of 20,000 lines (MAX_ROWS); `30000` is bench_growth's import of
30,000 owners (uploads of MAX_ROWS lines: 20,000 then 10,000).

Run: `.venv/bin/python -m bench.import_memory [--scenario 20000 30000] [--repeat 1]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench import bench_meetings as meetings_bench
from bench import harness
from linli.stack import free_port


def status_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


class PeakRss:
    """The highest VmRSS of a process, read every `every` seconds in a thread."""

    def __init__(self, pid: int, every: float = 0.005) -> None:
        self.pid, self.every, self.peak = pid, every, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, harness.rss_mb(self.pid))
            self._stop.wait(self.every)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join()


async def relayed(dsn: str) -> None:
    """Until the relay has sent every outbox row of the directory (a few minutes at most)."""
    for _ in range(1500):
        if not await harness.count(
                dsn, "SELECT count(*) FROM directory.outbox WHERE sent_at IS NULL"):
            return
        await asyncio.sleep(0.2)
    raise RuntimeError("the directory's relay did not send its outbox")


async def scenario(lines: int) -> dict[str, Any]:
    uploads = meetings_bench.unit_uploads(lines)
    warm_up = meetings_bench.unit_uploads(10)[0].replace("号楼".encode(), "号预热楼".encode())
    with harness.embedded() as stack:
        procs = harness.Processes()
        try:
            port = free_port()
            directory = procs.serve("directory", harness.service_env(stack, {"directory": port}),
                                    port)
            pid = directory.pid
            found: dict[str, Any] = {"lines": lines, "uploads": [u.count(b"\n") for u in uploads],
                                     "rss_ready_mb": harness.rss_mb(pid)}
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1800)) as session:
                street = meetings_bench.token("bench-street", ["street_office"], "*")
                compound = await meetings_bench.post(
                    session, f"{directory.url}/v1/compounds", street,
                    json={"name": "导入内存小区", "community": "基准社区", "street": "基准街道"})
                url = f"{directory.url}/v1/compounds/{compound['id']}/imports/units"
                headers = {**street, "Content-Type": "text/csv"}
                await meetings_bench.post(session, url, headers, data=warm_up)
                await relayed(stack.database_url)
                await asyncio.sleep(3)
                found["rss_before_mb"] = harness.rss_mb(pid)
                found["hwm_before_mb"] = status_mb(pid, "VmHWM")
                started = time.perf_counter()
                with PeakRss(pid) as peak:
                    for csv in uploads:
                        await meetings_bench.post(session, url, headers, data=csv)
                    found["import_ms"] = round((time.perf_counter() - started) * 1000)
                    found["rss_right_after_mb"] = harness.rss_mb(pid)
                    await relayed(stack.database_url)
                    found["relayed_ms"] = round((time.perf_counter() - started) * 1000)
                found["rss_peak_mb"] = peak.peak
                found["hwm_mb"] = status_mb(pid, "VmHWM")
                await asyncio.sleep(5)
                found["rss_after_mb"] = harness.rss_mb(pid)
                found["outbox_rows"] = await harness.count(
                    stack.database_url, "SELECT count(*) FROM directory.outbox")
        finally:
            procs.stop()
    return found


async def run(scenarios: list[int], repeat: int) -> list[dict[str, Any]]:
    results = []
    for lines in scenarios:
        for _ in range(repeat):
            result = await scenario(lines)
            print(json.dumps(result, ensure_ascii=False), flush=True)
            results.append(result)
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", type=int, nargs="+", default=[20_000, 30_000])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(run(args.scenario, args.repeat))


if __name__ == "__main__":
    main()

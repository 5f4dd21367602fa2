"""How every HTTP benchmark measures: the way production runs.

- the servers: embedded PostgreSQL (with pg_stat_statements preloaded) and NATS (and Temporal
  when asked), on free ports, in a temporary folder;
- each service under test is its own `linli serve NAME` process; the ceiling beside it is a bare
  aiohttp process (bench/bare.py) doing the same commits through asyncpg on the same PostgreSQL;
- the load comes from `wrk` (a separate process; installed from Debian when absent) with a Lua
  script that reports p50/p99 and every non-2xx answer;
- beside throughput: CPU milliseconds per request of the service process (/proc/<pid>/stat),
  of PostgreSQL's backends, the statements each request costs PostgreSQL (pg_stat_statements
  calls / requests, with the heaviest statements named) and idle RSS of each process.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp import web

from linli.config import DEV_SECRET
from linli.stack import EmbeddedStack, Ports, free_port

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"
TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")
PG_SETTINGS = {"shared_preload_libraries": "pg_stat_statements", "pg_stat_statements.max": "5000"}


# ---------------------------------------------------------------- servers and processes


@contextlib.contextmanager
def embedded(*, temporal: bool = False) -> Iterator[EmbeddedStack]:
    """Embedded PostgreSQL with pg_stat_statements, and NATS (and Temporal), stopped after."""
    stack = EmbeddedStack(Path(tempfile.mkdtemp(prefix="linli-bench-")), Ports.free(),
                          ephemeral=True, temporal_ui=False, run_temporal=temporal,
                          postgres_settings=PG_SETTINGS)
    stack.start()
    try:
        psql(stack, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        yield stack
    finally:
        stack.stop()
        shutil.rmtree(stack.data_dir, ignore_errors=True)


def psql(stack: EmbeddedStack, sql: str) -> str:
    from linli.stack import postgres_bin

    out = subprocess.run([str(postgres_bin("psql")), stack.database_url, "-tAc", sql],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def service_env(stack: EmbeddedStack, ports: dict[str, int]) -> dict[str, str]:
    env = {**os.environ, "LINLI_DATABASE_URL": stack.database_url, "LINLI_NATS_URL": stack.nats_url,
           "LINLI_TEMPORAL_ADDRESS": stack.temporal_address,
           "LINLI_JWT_SECRET": DEV_SECRET, "LINLI_ENV": "development",
           "LINLI_MAX_BODY_BYTES": str(8 * 1024 * 1024)}
    env.update({f"LINLI_{name.upper()}_PORT": str(port) for name, port in ports.items()})
    return env


@dataclass
class Process:
    """A process under test: its pid, where it answers, its log."""

    name: str
    popen: subprocess.Popen[bytes]
    url: str
    log: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


@dataclass
class Processes:
    """Processes started by one benchmark, stopped together."""

    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="linli-bench-proc-")))
    running: dict[str, Process] = field(default_factory=dict)

    def start(self, name: str, args: list[str], env: dict[str, str], port: int,
              ready: str = "/readyz") -> Process:
        log = self.workdir / f"{name}.log"
        popen = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL,
                                 stderr=open(log, "ab"), cwd=ROOT)
        process = Process(name, popen, f"http://127.0.0.1:{port}", log)
        self.running[name] = process
        wait_ready(process, ready)
        return process

    def serve(self, name: str, env: dict[str, str], port: int) -> Process:
        # `-m` from ROOT: the tree this bench belongs to is the one served
        return self.start(name, [sys.executable, "-m", "linli.cli", "serve", name], env, port)

    def bare(self, stack: EmbeddedStack, table: str, columns: list[str]) -> Process:
        port = free_port()
        return self.start("bare", [sys.executable, "-m", "bench.bare", "--port", str(port),
                                   "--dsn", stack.database_url, "--table", table,
                                   "--columns", ",".join(columns)], dict(os.environ), port)

    def same_work(self, use_case: str, env: dict[str, str], compound: uuid.UUID | str) -> Process:
        """A use case's own work without our HTTP framework (bench/same_work.py), with the
        service's environment `env`."""
        port = free_port()
        return self.start("same_work", [
            sys.executable, "-m", "bench.same_work", "--use-case", use_case, "--port", str(port),
            "--compound", str(compound)], env, port)

    def stop_one(self, name: str) -> None:
        self.running.pop(name).stop()

    def stop(self) -> None:
        for process in reversed(list(self.running.values())):
            process.stop()
        self.running.clear()


def wait_ready(process: Process, path: str) -> None:
    for _ in range(600):
        if process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited: {process.log.read_text()[-2000:]}")
        with contextlib.suppress(urllib.error.URLError, OSError):
            with urllib.request.urlopen(process.url + path, timeout=2) as answer:
                if answer.status == 200:
                    return
        time.sleep(0.1)
    raise RuntimeError(f"{process.name} did not become ready")


@contextlib.asynccontextmanager
async def servers() -> AsyncIterator[tuple[str, str]]:
    """(database url, nats url) for a bench that runs its service in its own process (notify's
    live streams): the environment's servers, or embedded ones."""
    if os.environ.get("LINLI_DATABASE_URL") and os.environ.get("LINLI_NATS_URL"):
        yield os.environ["LINLI_DATABASE_URL"], os.environ["LINLI_NATS_URL"]
        return
    with embedded() as stack:
        yield stack.database_url, stack.nats_url


async def start(app: web.Application, port: int) -> Callable[[], Awaitable[None]]:
    """Serve `app` in this process on `port`; returns its cleanup."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner.cleanup


# ---------------------------------------------------------------- /proc


def cpu_ms(pid: int) -> float:
    """User + system CPU of a process so far, in milliseconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_MS


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def postgres_cpu_ms(stack: EmbeddedStack) -> float:
    """CPU of the postmaster's children (backends, WAL writer, checkpointer) so far; a
    backend that exited in between is missed, so the services keep their pools open."""
    postmaster = next(p for name, p in stack.processes if name == "PostgreSQL").pid
    total = 0.0
    for pid in children(postmaster):
        with contextlib.suppress(OSError):
            total += cpu_ms(pid)
    return total


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


# ---------------------------------------------------------------- pg_stat_statements


async def statements_reset(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SELECT pg_stat_statements_reset()")
    finally:
        await conn.close()


async def statements(dsn: str) -> list[tuple[str, int]]:
    """(query, calls) since the last reset, most called first; the bench's own reads left out."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT query, calls FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'"
            " ORDER BY calls DESC")
    finally:
        await conn.close()
    return [(r["query"], r["calls"]) for r in rows]


# asyncpg resets a connection it takes back into its pool with ONE simple query of these four
# statements (pg_stat_statements counts each): one round trip, not four
RESET_PARTS = ("SELECT pg_advisory_unlock_all()", "CLOSE ALL", "UNLISTEN *", "RESET ALL")


def per_request(found: list[tuple[str, int]], requests: int, top: int = 20) -> dict[str, Any]:
    """Round trips and statements per request, and the statements by name."""
    total = sum(calls for _, calls in found)
    resets = sum(calls for q, calls in found if q.strip() == "RESET ALL")
    named = [{"per_request": round(calls / requests, 3), "query": " ".join(q.split())[:160]}
             for q, calls in found[:top] if calls / requests >= 0.005]
    return {"round_trips_per_request": round((total - 3 * resets) / max(requests, 1), 2),
            "statements_per_request": round(total / max(requests, 1), 2), "statements": named}


# ---------------------------------------------------------------- wrk

LUA = r"""
local body_file = os.getenv("BENCH_BODY_FILE")
local auth_file = os.getenv("BENCH_AUTH_FILE")
wrk.method = os.getenv("BENCH_METHOD") or "POST"
wrk.headers["Content-Type"] = "application/json"
if body_file then local f = io.open(body_file, "rb"); wrk.body = f:read("*a"); f:close() end
local auths = {}
if auth_file then for line in io.lines(auth_file) do auths[#auths + 1] = line end end
local bodies = {}
local bodies_file = os.getenv("BENCH_BODIES_FILE")
if bodies_file then for line in io.lines(bodies_file) do bodies[#bodies + 1] = line end end
local n = 0
local thread_no = 0
function setup(thread) thread_no = thread_no + 1; thread:set("me", thread_no) end
request = function()
  n = n + 1
  if #auths > 0 then wrk.headers["Authorization"] = auths[(n * 7 + (me or 1)) % #auths + 1] end
  if #bodies > 0 then return wrk.format(nil, nil, nil, bodies[n % #bodies + 1]) end
  return wrk.format()
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "non_2xx": %d, "connect_errors": %d,' ..
    ' "read_errors": %d, "write_errors": %d, "timeouts": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def wrk_binary() -> str:
    """wrk, installed from Debian when absent (the bench runs as root on the bench machine)."""
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, capture_output=True)
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk 未安装且无法安装: apt-get install -y wrk")
    return found


def wrk(url: str, *, body: bytes | None, auth: list[str], seconds: float, connections: int,
        threads: int = 1, bodies: list[bytes] | None = None,
        method: str = "POST") -> dict[str, Any]:
    """Drive `url` for `seconds` with `connections` open, sending `body` (or `bodies` in turn,
    one JSON a line) with `method`; every answer must be 2xx."""
    folder = Path(tempfile.mkdtemp(prefix="linli-wrk-"))
    script = folder / "bench.lua"
    script.write_text(LUA)
    env = {**os.environ, "BENCH_METHOD": method}
    if body is not None:
        (folder / "body.json").write_bytes(body)
        env["BENCH_BODY_FILE"] = str(folder / "body.json")
    if bodies:
        (folder / "bodies.jsonl").write_bytes(b"\n".join(bodies) + b"\n")
        env["BENCH_BODIES_FILE"] = str(folder / "bodies.jsonl")
    if auth:
        (folder / "auth.txt").write_text("\n".join(auth) + "\n")
        env["BENCH_AUTH_FILE"] = str(folder / "auth.txt")
    out = subprocess.run([wrk_binary(), "-t", str(threads), "-c", str(connections),
                          "-d", f"{max(1, round(seconds))}s", "--timeout", "10s", "-s", str(script),
                          url], env=env, capture_output=True, text=True, check=True)
    shutil.rmtree(folder, ignore_errors=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("WRKJSON "))
    raw = json.loads(line.removeprefix("WRKJSON "))
    failed = raw["non_2xx"] + raw["connect_errors"] + raw["read_errors"] + raw["write_errors"]
    if failed:
        raise RuntimeError(f"wrk: {failed} failed requests on {url}: {raw}")
    return {"requests": raw["requests"], "seconds": round(raw["duration_us"] / 1e6, 2),
            "per_s": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
            "latency_p50_ms": round(raw["p50_us"] / 1000, 2),
            "latency_p99_ms": round(raw["p99_us"] / 1000, 2), "connections": connections}


# ---------------------------------------------------------------- one measured phase


async def count(dsn: str, sql: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval(sql))
    finally:
        await conn.close()


async def rows(dsn: str, sql: str, *args: Any) -> list[Any]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def measured(stack: EmbeddedStack, pid: int, drive: Callable[[], Any], *,
                   done: str, settle: float = 1.5) -> dict[str, Any]:
    """Run `drive` with CPU and statements counted around it, per request done (`done`: SQL
    counting what the requests wrote, so requests still in flight when wrk stopped count too);
    `settle` lets the last ones (and the relay's publishing of their events) finish."""
    import asyncio

    before = await count(stack.database_url, done)
    await statements_reset(stack.database_url)
    cpu, pg = cpu_ms(pid), postgres_cpu_ms(stack)
    if asyncio.iscoroutinefunction(drive):  # a generator in this process (not the service's)
        result = await drive()
    else:
        result = await asyncio.to_thread(drive)
    await asyncio.sleep(settle)
    cpu, pg = cpu_ms(pid) - cpu, postgres_cpu_ms(stack) - pg
    found = await statements(stack.database_url)
    requests = max(await count(stack.database_url, done) - before, 1)
    result["requests_done"] = requests
    return {**result, "service_cpu_ms_per_request": round(cpu / requests, 3),
            "postgres_cpu_ms_per_request": round(pg / requests, 3),
            **per_request(found, requests)}


def write(name: str, result: dict[str, Any]) -> None:
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=2, ensure_ascii=False), flush=True)

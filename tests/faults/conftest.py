"""Fault tests: real `linli serve` processes killed, their database connections cut, their
database stopped, while requests are in flight. Each waits on the real condition (a backend
waiting on a lock, a port answering), never on a sleep."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import asyncpg
import pytest

from linli import db
from linli.config import Settings
from linli.local import wait_ready
from linli.stack import free_port, stop_process

T = TypeVar("T")


@dataclass
class ServiceProcess:
    """One `linli serve <name>` child with its own port and log; restartable."""

    name: str
    env: dict[str, str]
    log: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {**self.env, f"LINLI_{self.name.upper()}_PORT": str(self.port)}
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "linli.cli", "serve", self.name], env=env, stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        wait_ready(self.url + "/readyz", self.process, self.name)

    def kill(self) -> None:
        """SIGKILL: no cleanup, no goodbye to the database, as when a machine dies."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, timeout=20)


def service_env(settings: Settings, data_dir: Path, database_url: str | None = None
                ) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_")}
    env.update({"LINLI_DATABASE_URL": database_url or settings.database_url,
                "LINLI_NATS_URL": settings.nats_url, "LINLI_JWT_SECRET": settings.jwt_secret,
                "LINLI_DATA_DIR": str(data_dir), "LINLI_ENV": "test"})
    return env


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A private folder for servers' data and logs. Not pytest's tmp_path: pytest sessions
    of other checkouts on this machine prune /tmp/pytest-of-<user>/ as they start, and a
    server whose store vanishes mid-test would fail for a reason that is not ours."""
    folder = Path(tempfile.mkdtemp(prefix="linli-fault-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
async def applied_log(settings: Settings) -> AsyncIterator[db.Pool]:
    """A scratch schema (with an inbox) and a table of what a test consumer applied."""
    schema = f"natsfault_{uuid.uuid4().hex[:8]}"
    pool = await db.create_pool(settings.database_url, schema=schema, max_size=4)
    async with pool.acquire() as conn:
        await db.migrate(conn, schema=schema, migrations=None)
        await conn.execute("CREATE TABLE applied (compound_id text NOT NULL)")
    yield pool
    async with pool.acquire() as conn:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    await pool.close()


@pytest.fixture
def spawn(settings: Settings, scratch: Path) -> Iterator[Callable[..., ServiceProcess]]:
    """spawn(name, database_url=None) → a started service process, stopped after the test."""
    started: list[ServiceProcess] = []

    def make(name: str, database_url: str | None = None) -> ServiceProcess:
        service = ServiceProcess(name, service_env(settings, scratch, database_url),
                                 scratch / f"{name}.log")
        service.start()
        started.append(service)
        return service

    yield make
    for service in started:
        service.stop()


async def until(what: str, probe: Callable[[], Awaitable[T | None]], within: float = 60.0) -> T:
    """Poll `probe` until it returns something truthy; fail naming `what` after `within` s."""
    deadline = time.monotonic() + within
    last: T | None = None
    while time.monotonic() < deadline:
        last = await probe()
        if last:
            return last
        await asyncio.sleep(0.1)
    raise AssertionError(f"{what}: not within {within:.0f} s (last seen: {last!r})")


async def blocked_backend(conn: asyncpg.Connection, application: str) -> int:
    """The pid of the service's backend once it waits on a lock the test holds."""
    async def probe() -> int | None:
        pid: int | None = await conn.fetchval(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1"
            " AND wait_event_type = 'Lock' LIMIT 1", application)
        return pid
    return await until(f"a {application} backend waiting on the lock", probe)

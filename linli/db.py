"""PostgreSQL: one pool per service, its own schema, ordered checksummed migrations."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeAlias

import asyncpg

KERNEL_MIGRATIONS = Path(__file__).parent / "migrations"
_SCHEMA_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")

Pool: TypeAlias = asyncpg.Pool
Connection: TypeAlias = asyncpg.Connection


class MigrationError(RuntimeError):
    """A migration already applied was changed afterwards, or failed."""


def quote_schema(schema: str) -> str:
    """Validate and quote a schema name (names come from code, never from users)."""
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"invalid schema name {schema!r}")
    return f'"{schema}"'


async def create_pool(dsn: str, *, schema: str, min_size: int = 1, max_size: int = 10) -> Pool:
    """A pool whose connections see the service schema first."""
    quote_schema(schema)
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        server_settings={"search_path": f"{schema},public", "application_name": f"linli-{schema}"},
    )
    assert pool is not None
    return pool


@asynccontextmanager
async def transaction(pool: Pool) -> AsyncIterator[Connection]:
    """One use case, one transaction: yields a connection inside BEGIN … COMMIT."""
    async with pool.acquire() as conn, conn.transaction():
        yield conn


async def drain(pool: Pool, *, claim: Callable[[Connection, int], Awaitable[Sequence[Any]]],
                apply: Callable[[Connection, Any], Awaitable[object]],
                after: Callable[[Any], object] = lambda row: None, batch: int = 100) -> int:
    """Handle every claimable row, a batch per transaction, until a batch comes back short.

    `claim(conn, limit)` takes rows with FOR UPDATE SKIP LOCKED, so replicas share the work and
    never handle one row twice; `apply` handles a row inside the batch's transaction; `after`
    runs for each row once the batch committed (metrics). Returns how many rows were handled.
    """
    total = 0
    while True:
        async with transaction(pool) as conn:
            rows = await claim(conn, batch)
            for row in rows:
                await apply(conn, row)
        for row in rows:
            after(row)
        total += len(rows)
        if len(rows) < batch:
            return total


def _migration_files(dirs: Sequence[tuple[str, Path]]) -> list[tuple[str, str]]:
    files: list[tuple[str, str]] = []
    for prefix, folder in dirs:
        for path in sorted(folder.glob("*.sql")):
            files.append((f"{prefix}{path.name}", path.read_text(encoding="utf-8")))
    return files


async def migrate(conn: Connection, *, schema: str, migrations: Path | None) -> list[str]:
    """Apply the kernel's and the service's migrations once, in order, under an advisory lock.

    Safe when several replicas start at once; a changed, already-applied file raises
    MigrationError. Returns the names applied by this call.
    """
    quoted = quote_schema(schema)
    dirs: list[tuple[str, Path]] = [("linli/", KERNEL_MIGRATIONS)]
    if migrations is not None:
        dirs.append(("", migrations))
    applied: list[str] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"linli-migrate:{schema}")
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quoted}")
        await conn.execute(f"SET LOCAL search_path TO {quoted}, public")
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY,"
            " checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["name"]: r["checksum"] for r in await conn.fetch("SELECT * FROM schema_migrations")}
        for name, sql in _migration_files(dirs):
            checksum = hashlib.sha256(sql.encode()).hexdigest()
            if name in done:
                if done[name] != checksum:
                    raise MigrationError(f"migration {schema}/{name} changed after it was applied")
                continue
            await conn.execute(sql)
            await conn.execute(
                "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)", name, checksum
            )
            applied.append(name)
    return applied


async def ping(pool: Pool) -> None:
    """Raise unless the database answers."""
    async with pool.acquire(timeout=2) as conn:
        await conn.fetchval("SELECT 1")


def record_to_dict(record: Any) -> dict[str, Any]:
    """An asyncpg Record as a plain dict."""
    return dict(record.items())

"""PostgreSQL: one pool per service, its own schema, ordered checksummed migrations."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
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


# a request that must commit as one (an Idempotency-Key and the writes it answers for) binds
# its connection here; every acquire() of that pool in the request then gets it back
_BOUND: contextvars.ContextVar[tuple[asyncpg.Pool, Connection] | None] = contextvars.ContextVar(
    "linli_bound_connection", default=None)
ACQUIRE_TIMEOUT = 10.0  # a pool that stays exhausted this long answers 503, not a hung request


class _Savepoint:
    """acquire() of a bound pool: the bound connection, inside a savepoint, never released.

    The savepoint keeps a failed block (a caught unique violation) from poisoning the
    request's transaction, as a fresh connection would not have been poisoned either.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.savepoint = conn.transaction()

    async def __aenter__(self) -> Connection:
        await self.savepoint.start()
        return self.conn

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if kind is None:
            await self.savepoint.commit()
        elif not self.conn.is_closed():
            await self.savepoint.rollback()


# errors after which a connection is not to be trusted again
BROKEN_CONNECTION = (
    OSError, asyncpg.InterfaceError, asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError, asyncpg.OperatorInterventionError,
)


class DatabaseUnavailable(ConnectionError):
    """No connection could be had: the server refuses, is unreachable, or the pool stayed full."""


class _Acquire:
    """asyncpg's acquire in turn (first come, first served), with "could not get a connection"
    told apart from other errors. Only as `async with pool.acquire()`: the turn is given back
    when the block ends (no `await pool.acquire()` … `pool.release()`)."""

    def __init__(self, pool: LinliPool, timeout: float) -> None:
        self.pool, self.timeout = pool, timeout
        self.inner: Any = None
        self.conn: Connection | None = None

    async def __aenter__(self) -> Connection:
        turns = self.pool.turns
        if turns.locked():  # others are waiting: wait in line, for as long as the timeout
            try:
                async with asyncio.timeout(self.timeout):
                    await turns.acquire()
            except TimeoutError as exc:
                raise DatabaseUnavailable("数据库连接池已满") from exc
        else:
            await turns.acquire()  # free: taken at once
        try:
            # with a turn a connection is free, though it may have to connect first; asyncpg
            # also keeps this timeout for the release (closing or rolling back): the whole
            # budget for each, not what the wait in line left
            self.inner = asyncpg.Pool.acquire(self.pool, timeout=self.timeout)
            self.conn = await self.inner.__aenter__()
        except BaseException as exc:
            self.pool.turns.release()
            if isinstance(exc, TimeoutError):
                raise DatabaseUnavailable("数据库连接池已满") from exc
            if isinstance(exc, OSError):
                raise DatabaseUnavailable(f"无法连接数据库: {exc}") from exc
            raise
        return self.conn

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        try:
            if self.conn is not None and _broke(exc):
                # asyncpg may put a connection cut mid-operation back in the pool still "busy"
                # (MagicStack/asyncpg#784); closing it makes the pool open a fresh one instead.
                # One asyncpg already gave back (its server gone) is not ours to close.
                with contextlib.suppress(asyncpg.InterfaceError):
                    self.conn.terminate()
            await self.inner.__aexit__(kind, exc, tb)
        finally:  # the turn comes back whatever happened above, or the pool shrinks for good
            self.pool.turns.release()


def _broke(exc: BaseException | None) -> bool:
    """The error says the connection itself failed. Some that look so say nothing of it: a
    deadline (asyncio.timeout, or a query's own timeout: a TimeoutError, an OSError), a query
    the server cancelled (statement_timeout: 57014, filed under operator intervention) and
    another pool refusing a connection inside the block (DatabaseUnavailable, an OSError).
    asyncpg waits out a cancelled query and rolls back on release: the connection is handed on."""
    return isinstance(exc, BROKEN_CONNECTION) and not isinstance(
        exc, TimeoutError | asyncpg.QueryCanceledError | DatabaseUnavailable)


class LinliPool(asyncpg.Pool):
    """asyncpg's pool with a bounded acquire, the request-bound connection (see bind) and the
    wake-ups of the outbox relays serving it in this process (see relay_woken_on_release)."""

    relay_wakes: set[Callable[[], None]]
    # asyncpg hands a released connection to whichever acquire runs next, so under load a
    # waiting request can lose its turn again and again to newer ones (ballots: p99 four times
    # the mean); a fair semaphore with one permit per connection serves them in order
    turns: asyncio.Semaphore

    def acquire(self, *, timeout: float | None = None) -> Any:
        bound = _BOUND.get()
        if bound is not None and bound[0] is self:
            return _Savepoint(bound[1])
        return _Acquire(self, ACQUIRE_TIMEOUT if timeout is None else timeout)


# The outbox relay of a schema usually runs in the process that writes the schema's events. A
# NOTIFY per commit would wake it across PostgreSQL, at the price of the server's global notify
# lock held through every notifying commit and a message per commit to the listener. Instead a
# writer on a pool with a relay here marks its connection, and the relay is woken when that
# connection goes back to the pool (after COMMIT, as a NOTIFY would have been) or is closed.
class LinliConnection(asyncpg.Connection):
    """asyncpg's connection, knowing its pool's relays and whether it wrote events for them."""

    __slots__ = ("relay_wakes", "wrote_events")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.relay_wakes: set[Callable[[], None]] = set()
        self.wrote_events = False

    def will_wake_relay(self) -> bool:
        """Mark that this connection wrote events; True when a relay of its pool runs here."""
        if not self.relay_wakes:
            return False
        self.wrote_events = True
        return True

    def wake_relay(self) -> None:
        """Wake the pool's relays if the connection wrote events since it was last woken."""
        if self.wrote_events:
            self.wrote_events = False
            for wake in tuple(self.relay_wakes):
                wake()


def relay_woken_on_release(conn: Connection) -> bool:
    """True when an outbox relay of this connection's pool runs in this process: it is woken
    when the connection goes back to the pool, and the writer sends no NOTIFY. False for any
    other connection (a bare one, a pool whose relay runs elsewhere): the writer notifies."""
    mark = getattr(conn, "will_wake_relay", None)  # a pool's proxy passes it on
    return bool(mark is not None and mark())


async def keep_session(conn: Connection) -> None:
    """The pool's reset on release: nothing to send. asyncpg's default sends CLOSE ALL, UNLISTEN *,
    RESET ALL and pg_advisory_unlock_all() on every release, one round trip per use case for
    state we never leave on a pooled connection: settings are SET LOCAL, advisory locks are
    transaction locks, cursors live inside transactions, LISTEN runs on connections of its own.
    asyncpg still rolls back a transaction left open and drops the connection's listeners
    (tests/integration/test_kernel_db.py). A connection that wrote events wakes the relay."""
    if isinstance(conn, LinliConnection):
        conn.wake_relay()


async def create_pool(dsn: str, *, schema: str, min_size: int = 1, max_size: int = 10) -> Pool:
    """A pool whose connections see the service schema first."""
    quote_schema(schema)

    async def joined(conn: LinliConnection) -> None:
        conn.relay_wakes = pool.relay_wakes
        # closed instead of reset (max_queries, broken): its events still wake the relay
        conn.add_termination_listener(lambda _: conn.wake_relay())

    pool = LinliPool(
        dsn, min_size=min_size, max_size=max_size, max_queries=50000,
        max_inactive_connection_lifetime=300.0, loop=None,
        connection_class=LinliConnection, record_class=asyncpg.Record,
        server_settings={"search_path": f"{schema},public", "application_name": f"linli-{schema}"},
        init=joined, reset=keep_session,
    )
    pool.relay_wakes = set()
    pool.turns = asyncio.Semaphore(max_size)
    await pool
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


@asynccontextmanager
async def bind(pool: Pool) -> AsyncIterator[Connection]:
    """One transaction for everything the current task does with `pool` until the block ends.

    Inside the block every `pool.acquire()` (so every use case's `transaction(pool)`) gets
    this connection in a savepoint: the block commits all of it or none. Code inside must
    not use the pool from two coroutines at once (asyncpg runs one query per connection).
    """
    async with pool.acquire() as conn, conn.transaction():
        token = _BOUND.set((pool, conn))
        try:
            yield conn
        finally:
            _BOUND.reset(token)


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

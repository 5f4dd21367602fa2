"""A scratch kernel for the bus tests: a schema of its own with the kernel tables (outbox,
inbox), a pool on it and a NATS connection with the streams; all gone after the test."""

from __future__ import annotations

import random
import string
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from nats.aio.client import Client as NATS
from nats.js import JetStreamContext

from linli import bus, db
from linli.config import Settings


def fresh(prefix: str) -> str:
    """A name no other test uses (schemas, durables, event types)."""
    return prefix + "".join(random.choices(string.ascii_lowercase, k=8))


@dataclass
class Scratch:
    schema: str
    pool: db.Pool
    nc: NATS
    js: JetStreamContext


@asynccontextmanager
async def scratch_bus(settings: Settings, prefix: str, *, name: str,
                      max_size: int = 10) -> AsyncIterator[Scratch]:
    schema = fresh(prefix)
    pool = await db.create_pool(settings.database_url, schema=schema, max_size=max_size)
    try:
        async with pool.acquire() as conn:
            await db.migrate(conn, schema=schema, migrations=None)
        nc = await bus.connect(settings.nats_url, name=name)
        try:
            js = nc.jetstream()
            await bus.ensure_streams(js)
            yield Scratch(schema=schema, pool=pool, nc=nc, js=js)
        finally:
            await nc.drain()
        async with pool.acquire() as conn:
            await conn.execute(f"DROP SCHEMA {db.quote_schema(schema)} CASCADE")
    finally:
        await pool.close()

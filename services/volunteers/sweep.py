"""The periodic sweep every replica runs: care visits past due (backstop of CarePlanWorkflow)
and orders nobody accepted before their window ended. Both claim rows with FOR UPDATE SKIP
LOCKED, so replicas never handle one row twice and never wait on each other."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from linli.db import Pool
from linli.http import POOL
from services.volunteers import care, orders

log = logging.getLogger("linli.volunteers.sweep")
SWEEP_SECONDS = 300.0


async def sweep_once(pool: Pool) -> int:
    return await care.sweep_missed(pool) + await orders.expire_stale(pool)


def sweeper(interval: float = SWEEP_SECONDS) -> Callable[[web.Application], AsyncIterator[None]]:
    """Cleanup context running sweep_once every `interval` seconds."""

    async def loop(pool: Pool) -> None:
        while True:
            try:
                await sweep_once(pool)
            except Exception:  # keep sweeping after a transient failure; the next round retries
                log.exception("volunteers sweep failed")
            await asyncio.sleep(interval)

    async def context(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(loop(app[POOL]), name="volunteers-sweep")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return context

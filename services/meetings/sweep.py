"""The periodic sweep: closes votes and consultations whose deadline has passed.

Every replica runs it; each item is claimed with FOR UPDATE SKIP LOCKED, so two replicas
never close the same vote twice and never wait on each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from linli.db import Pool, transaction
from linli.http import POOL
from services.meetings import service, store, vote_store, voting

log = logging.getLogger("linli.meetings.sweep")
SWEEP_SECONDS = 2.0
BATCH = 50


async def _close_due_consultation(pool: Pool, proposal_id: object) -> bool:
    async with transaction(pool) as conn:
        row = await store.claim_due_consultation(conn, proposal_id=proposal_id)
        if row is None:
            return False
        await service.end_consultation(conn, proposal=await store.get_proposal(conn, id=row["id"]))
    return True


async def sweep_once(pool: Pool) -> int:
    """Close what is due now; returns how many votes and consultations were closed."""
    async with pool.acquire() as conn:
        votes = await vote_store.due_votes(conn, limit=BATCH)
        consultations = await store.due_consultations(conn, limit=BATCH)
    closed = 0
    for v in votes:
        closed += await voting.close_due(pool, vote_id=v["id"], proposal_id=v["proposal_id"])
    for c in consultations:
        closed += await _close_due_consultation(pool, c["proposal_id"])
    return closed


def sweeper(interval: float = SWEEP_SECONDS) -> Callable[[web.Application], AsyncIterator[None]]:
    """Cleanup context running sweep_once every `interval` seconds."""

    async def loop(pool: Pool) -> None:
        while True:
            try:
                await sweep_once(pool)
            except Exception:  # keep sweeping; the next round retries
                log.exception("sweep failed")
            await asyncio.sleep(interval)

    async def context(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(loop(app[POOL]), name="meetings-sweep")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return context

"""The periodic sweep every replica runs: care visits past due (backstop of CarePlanWorkflow)
and orders nobody accepted before their window ended. Both claim rows with FOR UPDATE SKIP
LOCKED, so replicas never handle one row twice and never wait on each other."""

from __future__ import annotations

from linli.app import CleanupContext, periodic
from linli.db import Pool
from services.volunteers import care, orders

SWEEP_SECONDS = 300.0


async def sweep_once(pool: Pool) -> int:
    return await care.sweep_missed(pool) + await orders.expire_stale(pool)


def sweeper(interval: float = SWEEP_SECONDS) -> CleanupContext:
    """Cleanup context running sweep_once every `interval` seconds."""
    return periodic("volunteers-sweep", sweep_once, every=interval)

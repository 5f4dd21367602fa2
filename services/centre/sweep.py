"""The periodic sweep every replica runs: loans past their due day are reported once
(loan.overdue). Rows are claimed with FOR UPDATE SKIP LOCKED, so replicas never report one
loan twice and never wait on each other."""

from __future__ import annotations

from linli.app import CleanupContext, periodic
from linli.db import Pool
from services.centre import library

SWEEP_SECONDS = 600.0


async def sweep_once(pool: Pool) -> int:
    return await library.sweep_overdue(pool)


def sweeper(interval: float = SWEEP_SECONDS) -> CleanupContext:
    """Cleanup context running sweep_once every `interval` seconds."""
    return periodic("centre-sweep", sweep_once, every=interval)

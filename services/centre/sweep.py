"""The periodic sweep every replica runs: loans about to fall due are reminded once
(loan.due) and loans past their due day reported once (loan.overdue), rows claimed with
FOR UPDATE SKIP LOCKED so replicas never report one loan twice; and places of people promoted
near the start who did not confirm in time pass on to the next person waiting (re-checked
under the activity lock, so each is released once)."""

from __future__ import annotations

from linli.app import CleanupContext, periodic
from linli.db import Pool
from services.centre import library, signups

SWEEP_SECONDS = 60.0


async def sweep_once(pool: Pool) -> int:
    return (await library.remind_due(pool) + await library.sweep_overdue(pool)
            + await signups.release_unconfirmed(pool))


def sweeper(interval: float = SWEEP_SECONDS) -> CleanupContext:
    """Cleanup context running sweep_once every `interval` seconds."""
    return periodic("centre-sweep", sweep_once, every=interval)

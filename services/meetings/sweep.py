"""The periodic sweep: closes votes and consultations whose deadline has passed.

Every replica runs it; each item is claimed with FOR UPDATE SKIP LOCKED, so two replicas
never close the same vote twice and never wait on each other.
"""

from __future__ import annotations

from linli.app import CleanupContext, periodic
from linli.db import Pool, transaction
from services.meetings.proposals import service, store
from services.meetings.votes import service as voting
from services.meetings.votes import store as vote_store

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


def sweeper(interval: float = SWEEP_SECONDS) -> CleanupContext:
    """Cleanup context running sweep_once every `interval` seconds."""
    return periodic("meetings-sweep", sweep_once, every=interval)

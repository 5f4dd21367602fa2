"""Cancelling an open vote (e.g. its proposal's process was cancelled by the convener).

A cancelled vote has no tally and no result; its ballots stay for audit. The proposal goes back
to draft, so it can be revised, consulted on or voted on again.
"""

from __future__ import annotations

import uuid
from typing import Any

from linli import problems
from linli.bus import emit
from linli.db import Connection, Pool, transaction
from services.meetings import events
from services.meetings.proposals.models import Proposal
from services.meetings.proposals.service import (
    end_consultation,
    proposal_in,
    require_driver,
    to_proposal,
)
from services.meetings.proposals.store import get_proposal, set_managed_by, set_proposal
from services.meetings.votes import store
from services.meetings.votes.models import Vote
from services.meetings.votes.service import to_vote, vote_in


async def cancel(pool: Pool, *, compound_id: uuid.UUID, vote_id: uuid.UUID, reason: str,
                 by: str, by_app: bool = True) -> Vote:
    """Cancel while open; idempotent (a cancelled vote is returned as it is); 409 once closed."""
    async with transaction(pool) as conn:
        vote = await vote_in(conn, compound_id, vote_id)
        # lock order everywhere: proposal, then vote
        proposal = await proposal_in(conn, compound_id, vote["proposal_id"], lock=True)
        vote = await vote_in(conn, compound_id, vote_id, lock="update")
        if vote["status"] == "closed":
            raise problems.conflict("表决已经结束并计票, 不能再取消", "vote-closed")
        if vote["status"] == "open":
            require_driver(proposal, by_app=by_app)
            vote = await _cancel_open(conn, vote, reason, by)
        return to_vote(vote, await store.roll_size(conn, vote_id=vote_id))


async def _cancel_open(conn: Connection, vote: Any, reason: str, by: str) -> Any:
    """Cancel an open vote inside the caller's transaction (proposal locked); the proposal goes
    back to draft."""
    vote_id, compound_id = vote["id"], vote["compound_id"]
    await store.guard(conn, vote_id=vote_id, exclusive=True)  # in-flight ballots land
    if vote["secret"]:
        await store.seal_secret_tallies(conn, vote_id=vote_id)
        await store.seal_election_tallies(conn, vote_id=vote_id)
    vote = await store.cancel_vote(conn, id=vote_id, cancelled_by=by, reason=reason.strip())
    await set_proposal(conn, id=vote["proposal_id"], status="draft")
    await emit(conn, events.VOTE_CANCELLED, subject=str(vote["proposal_id"]),
               compound_id=str(compound_id),
               data=events.VoteCancelled(
                   vote_id=vote_id, proposal_id=vote["proposal_id"],
                   compound_id=compound_id, version=vote["version"],
                   reason=vote["cancel_reason"], cancelled_by=by))
    return vote


async def withdraw(pool: Pool, *, compound_id: uuid.UUID, proposal_id: uuid.UUID, reason: str,
                   by: str, by_app: bool) -> Proposal:
    """Withdraw a proposal (e.g. its workflow was cancelled): an open consultation closes, an
    open vote is cancelled (no tally), the workflow's mark is cleared. Idempotent; 409 once
    passed."""
    async with transaction(pool) as conn:
        row = await proposal_in(conn, compound_id, proposal_id, lock=True)
        require_driver(row, by_app=by_app)
        if row["status"] == "passed":
            raise problems.conflict("议案已经表决通过, 不能撤回", "proposal-passed")
        if row["status"] != "withdrawn":
            await end_consultation(conn, proposal=row)
            open_vote = await store.open_vote_of(conn, proposal_id=proposal_id)
            if open_vote is not None:
                await _cancel_open(conn, await vote_in(conn, compound_id, open_vote["id"],
                                                       lock="update"), reason, by)
            await set_proposal(conn, id=proposal_id, status="withdrawn")
        await set_managed_by(conn, id=proposal_id, workflow_id=None)
        return to_proposal(await get_proposal(conn, id=proposal_id))

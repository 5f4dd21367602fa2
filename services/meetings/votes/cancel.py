"""Cancelling an open vote (e.g. its proposal's process was cancelled by the convener).

A cancelled vote has no tally and no result; its ballots stay for audit. The proposal goes back
to draft, so it can be revised, consulted on or voted on again.
"""

from __future__ import annotations

import uuid

from linli import problems
from linli.bus import emit
from linli.db import Pool, transaction
from services.meetings import events
from services.meetings.proposals.service import proposal_in
from services.meetings.proposals.store import set_proposal
from services.meetings.votes import store
from services.meetings.votes.models import Vote
from services.meetings.votes.service import to_vote, vote_in


async def cancel(pool: Pool, *, compound_id: uuid.UUID, vote_id: uuid.UUID, reason: str,
                 by: str) -> Vote:
    """Cancel while open; idempotent (a cancelled vote is returned as it is); 409 once closed."""
    async with transaction(pool) as conn:
        vote = await vote_in(conn, compound_id, vote_id)
        # lock order everywhere: proposal, then vote
        await proposal_in(conn, compound_id, vote["proposal_id"], lock=True)
        vote = await vote_in(conn, compound_id, vote_id, lock="update")
        if vote["status"] == "closed":
            raise problems.conflict("表决已经结束并计票, 不能再取消", "vote-closed")
        if vote["status"] == "open":
            await store.guard(conn, vote_id=vote_id, exclusive=True)  # in-flight ballots land
            if vote["secret"]:
                await store.seal_secret_tallies(conn, vote_id=vote_id)
                await store.seal_election_tallies(conn, vote_id=vote_id)
            vote = await store.cancel_vote(conn, id=vote_id, cancelled_by=by,
                                                reason=reason.strip())
            await set_proposal(conn, id=vote["proposal_id"], status="draft")
            await emit(conn, events.VOTE_CANCELLED, subject=str(vote["proposal_id"]),
                       compound_id=str(compound_id),
                       data=events.VoteCancelled(
                           vote_id=vote_id, proposal_id=vote["proposal_id"],
                           compound_id=compound_id, version=vote["version"],
                           reason=vote["cancel_reason"], cancelled_by=by))
        return to_vote(vote, await store.roll_size(conn, vote_id=vote_id))

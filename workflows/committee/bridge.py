"""linli.meetings.vote.closed of a committee election, or of an ordinary Art. 278 vote (the
rules of procedure and the statute are adopted so) → the compound's founding workflow."""

from __future__ import annotations

from typing import Any

from temporalio.client import Client

from linli.bus import Subscription, effect_subscription
from linli.events import CloudEvent
from services.meetings import events as meetings
from workflows.bridge import signal
from workflows.committee.types import AdoptionClosed, ElectionClosed, workflow_id

COMMITTEE_ELECTION = "committee_election"
# the rules of procedure (item 1) and the statute (item 2) are ordinary Art. 278 votes
ADOPTION_RULE = "civil_code_ordinary"


def election_closed(data: meetings.VoteClosed) -> ElectionClosed:
    result = data.result
    return ElectionClosed(vote_id=str(data.vote_id), outcome=str(result.get("outcome", "")),
                          elected=[str(p) for p in result.get("elected", [])],
                          tied=[str(p) for p in result.get("tied", [])],
                          open_seats=int(result.get("open_seats", 0)),
                          proposal_id=str(data.proposal_id))


def on_vote_closed(client: Client) -> Any:
    async def handle(event: CloudEvent) -> None:
        data = meetings.VOTE_CLOSED.parse(event)
        founding = workflow_id(str(data.compound_id))
        if data.rule == COMMITTEE_ELECTION:
            await signal(client, founding, "election_closed", election_closed(data))
        elif data.rule == ADOPTION_RULE:  # the workflow keeps it if it is its rules or statute
            await signal(client, founding, "adoption_closed",
                         AdoptionClosed(str(data.proposal_id), data.outcome))

    return handle


def subscriptions(client: Client, *, prefix: str) -> list[Subscription]:
    return [effect_subscription(f"{prefix}-committee-election-closed", meetings.VOTE_CLOSED,
                                on_vote_closed(client))]

"""Events issues reacts to: the proposals its issues led to (services/issues/council.py)."""

from __future__ import annotations

from linli.bus import Subscription
from services.issues.council import proposal_created, proposal_step
from services.meetings.events import PROPOSAL_CREATED
from workflows.events import PROPOSAL_STEP_CHANGED

SUBSCRIPTIONS: list[Subscription] = [
    Subscription(durable="issues-proposal-created", event=PROPOSAL_CREATED,
                 handler=proposal_created),
    Subscription(durable="issues-proposal-steps", event=PROPOSAL_STEP_CHANGED,
                 handler=proposal_step),
]

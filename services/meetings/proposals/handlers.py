"""HTTP views of proposals, consultation and opinions: parse → use case → response; no SQL.

Votes: votes/handlers.py; cost sharing: costs/handlers.py; council meetings: councils/handlers.py.
"""

from __future__ import annotations

import uuid

from linli.http import POOL, Call
from linli.pagination import Page
from services.meetings.proposals import service
from services.meetings.proposals.models import (
    Consultation,
    Opinion,
    OpinionSummary,
    Proposal,
    ProposalVersion,
)


def compound(call: Call) -> uuid.UUID:
    return call.uuid_param("compound_id", "小区")


def proposal(call: Call) -> uuid.UUID:
    return call.uuid_param("proposal_id", "议案")


async def create_proposal(call: Call) -> Proposal:
    return await service.create_proposal(call.app[POOL], compound_id=compound(call),
                                         data=call.body, by=call.who.subject)


async def list_proposals(call: Call) -> Page[Proposal]:
    return await service.list_proposals(call.app[POOL], compound_id=compound(call),
                                        query=call.query)


async def get_proposal(call: Call) -> Proposal:
    return await service.get_proposal(call.app[POOL], compound_id=compound(call),
                                      proposal_id=proposal(call))


async def revise(call: Call) -> ProposalVersion:
    return await service.revise(call.app[POOL], compound_id=compound(call),
                                proposal_id=proposal(call), data=call.body, by=call.who.subject,
                                by_app=call.who.is_app)


async def list_versions(call: Call) -> Page[ProposalVersion]:
    return await service.list_versions(call.app[POOL], compound_id=compound(call),
                                       proposal_id=proposal(call))


async def open_consultation(call: Call) -> Consultation:
    return await service.open_consultation(call.app[POOL], compound_id=compound(call),
                                           proposal_id=proposal(call),
                                           closes_at=call.body.closes_at,
                                           by_app=call.who.is_app)


async def close_consultation(call: Call) -> Consultation:
    return await service.close_consultation(call.app[POOL], compound_id=compound(call),
                                            proposal_id=proposal(call), by_app=call.who.is_app)


async def set_managed_by(call: Call) -> Proposal:
    return await service.set_managed_by(call.app[POOL], compound_id=compound(call),
                                        proposal_id=proposal(call),
                                        workflow_id=call.body.workflow_id)


async def get_consultation(call: Call) -> Consultation:
    return await service.get_consultation(call.app[POOL], compound_id=compound(call),
                                          proposal_id=proposal(call))


async def give_opinion(call: Call) -> Opinion:
    return await service.give_opinion(call.app[POOL], compound_id=compound(call),
                                      proposal_id=proposal(call), data=call.body,
                                      by=call.who.subject)


async def list_opinions(call: Call) -> Page[Opinion]:
    return await service.list_opinions(call.app[POOL], compound_id=compound(call),
                                       proposal_id=proposal(call), query=call.query)


async def opinion_summary(call: Call) -> OpinionSummary:
    return await service.opinion_summary(call.app[POOL], compound_id=compound(call),
                                         proposal_id=proposal(call))

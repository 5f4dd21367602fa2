"""HTTP views of votes and ballots: parse → use case → response; no SQL."""

from __future__ import annotations

import uuid

from linli import problems
from linli.http import POOL, SETTINGS, Call
from linli.pagination import Page
from services.meetings.keys import DIRECTORY
from services.meetings.proposals.handlers import compound, proposal
from services.meetings.proposals.models import Proposal
from services.meetings.votes import cancel as cancelling
from services.meetings.votes import elections, receipts, service
from services.meetings.votes.models import (
    Ballot,
    Candidate,
    Election,
    EnteredBallot,
    MyBallots,
    NonVoters,
    Turnout,
    Vote,
    VoteResult,
)


def vote(call: Call) -> uuid.UUID:
    return call.uuid_param("vote_id", "表决")


async def open_vote(call: Call) -> Vote:
    return await service.open_vote(call.app[POOL], call.app[DIRECTORY], compound_id=compound(call),
                                  proposal_id=proposal(call), data=call.body, by=call.who.subject,
                                  by_app=call.who.is_app)


async def list_votes(call: Call) -> Page[Vote]:
    return await service.list_votes(call.app[POOL], compound_id=compound(call),
                                   proposal_id=proposal(call))


async def get_vote(call: Call) -> Vote:
    return await service.get_vote(call.app[POOL], compound_id=compound(call), vote_id=vote(call))


def _person(call: Call) -> uuid.UUID:
    person = call.who.person_id
    try:
        person_id = uuid.UUID(person) if person else None
    except ValueError:
        person_id = None
    if person_id is None:
        raise problems.Problem(403, "not-on-roll", "不在表决名册上", "只有名册上的业主本人可以在线投票")
    return person_id


async def cast_online(call: Call) -> Ballot:
    person_id = _person(call)
    return await service.cast(call.app[POOL], compound_id=compound(call), vote_id=vote(call),
                             choice=call.body.choice, person_id=person_id,
                             entry_id=call.body.entry_id, channel="online")


async def my_ballots(call: Call) -> MyBallots:
    receipt = call.request.headers.get("X-Ballot-Receipt", "").strip()[:100] or None
    return await receipts.my_ballots(call.app[POOL], compound_id=compound(call), vote_id=vote(call),
                                     person_id=_person(call), receipt=receipt)


async def cast_paper(call: Call) -> Ballot:
    body = call.body
    if body.person_id is None and body.entry_id is None:
        raise problems.validation("纸质或代理投票须给出 person_id 或 entry_id", field="person_id")
    return await service.cast(call.app[POOL], compound_id=compound(call), vote_id=vote(call),
                             choice=body.choice, person_id=body.person_id,
                             entry_id=body.entry_id,
                             channel="proxy" if body.proxy_name else "paper",
                             entered_by=call.who.subject, proxy_name=body.proxy_name)


async def entered_ballots(call: Call) -> Page[EnteredBallot]:
    return await service.entered_ballots(call.app[POOL], compound_id=compound(call),
                                        vote_id=vote(call), query=call.query)


async def turnout(call: Call) -> Turnout:
    return await service.turnout(call.app[POOL], compound_id=compound(call), vote_id=vote(call))


async def non_voters(call: Call) -> NonVoters:
    return await service.non_voters(call.app[POOL], compound_id=compound(call), vote_id=vote(call))


async def close(call: Call) -> VoteResult:
    return await service.close(call.app[POOL], compound_id=compound(call), vote_id=vote(call),
                              by=call.who.subject, by_app=call.who.is_app)


async def result(call: Call) -> VoteResult:
    return await service.result(call.app[POOL], compound_id=compound(call), vote_id=vote(call))


async def cancel(call: Call) -> Vote:
    return await cancelling.cancel(call.app[POOL], compound_id=compound(call),
                                    vote_id=vote(call), reason=call.body.reason, by=call.who.subject,
                                    by_app=call.who.is_app)


async def withdraw(call: Call) -> Proposal:
    return await cancelling.withdraw(call.app[POOL], compound_id=compound(call),
                                     proposal_id=proposal(call), reason=call.body.reason,
                                     by=call.who.subject, by_app=call.who.is_app)


async def open_election(call: Call) -> Election:
    return await elections.open_election(
        call.app[POOL], call.app[DIRECTORY], call.app[SETTINGS], compound_id=compound(call),
        proposal_id=proposal(call), data=call.body, by=call.who.subject, by_app=call.who.is_app)


async def candidates(call: Call) -> Page[Candidate]:
    return await elections.candidates(call.app[POOL], compound_id=compound(call),
                                      vote_id=vote(call))


async def cast_election_online(call: Call) -> Ballot:
    person_id = _person(call)
    return await elections.cast_election(
        call.app[POOL], compound_id=compound(call), vote_id=vote(call),
        approve=call.body.approve, oppose=call.body.oppose, person_id=person_id,
        entry_id=call.body.entry_id, channel="online")


async def cast_election_paper(call: Call) -> Ballot:
    body = call.body
    if body.person_id is None and body.entry_id is None:
        raise problems.validation("纸质或代理选票须给出 person_id 或 entry_id", field="person_id")
    return await elections.cast_election(
        call.app[POOL], compound_id=compound(call), vote_id=vote(call), approve=body.approve,
        oppose=body.oppose, person_id=body.person_id, entry_id=body.entry_id,
        channel="proxy" if body.proxy_name else "paper", entered_by=call.who.subject,
        proxy_name=body.proxy_name)

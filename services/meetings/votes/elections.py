"""Committee elections (民法典第278条第3项): open with seats and candidates, cast, candidates.

Opening, closing, cancelling, turnout and results are the votes' own (service.py); the count is
counting.count_election. Who voted is `participation` (one row per roll entry: the database
keeps one ballot per entry); an open election keeps each ballot's marks, a secret one only the
per-candidate, per-choice totals.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from linli import problems
from linli.clients import ServiceClient
from linli.config import Settings
from linli.db import Connection, Pool, transaction
from linli.pagination import Page, whole
from linli.values import now_utc
from services.meetings import metrics
from services.meetings.proposals.service import proposal_in
from services.meetings.votes import casting, counting, election, store, store_ballots
from services.meetings.votes.models import (
    Ballot,
    Candidate,
    Election,
    ElectionIn,
    RollIn,
)
from services.meetings.votes.service import (
    ballot_cast,
    open_on_version,
    roll_entry_for,
    vote_in,
)

ELECTION_MATTER = "art278_3"


def _check(data: ElectionIn, settings: Settings) -> None:
    try:
        if data.by_election:
            if not 1 <= data.seats <= settings.committee_seats_max:
                raise ValueError(f"补选的席位数必须在 1 到 {settings.committee_seats_max} 之间")
        else:
            election.validate_seats(data.seats, settings.committee_seats_min,
                                    settings.committee_seats_max)
    except ValueError as exc:
        raise problems.validation(str(exc), field="seats") from None
    try:
        election.validate_candidates([str(c.person_id) for c in data.candidates], data.seats)
    except ValueError as exc:
        raise problems.validation(str(exc), field="candidates") from None


def _owners_on(roll: RollIn) -> set[uuid.UUID]:
    return {person for entry in roll.entries for person in entry.owner_ids}


async def open_election(pool: Pool, directory: ServiceClient, settings: Settings, *,
                        compound_id: uuid.UUID, proposal_id: uuid.UUID, data: ElectionIn,
                        by: str, by_app: bool = True) -> Election:
    """Open the election on a proposal of matter art278_3; candidates must be owners on the
    frozen roll (a committee member is an owner of the compound)."""
    _check(data, settings)
    async with pool.acquire() as conn:
        row = await proposal_in(conn, compound_id, proposal_id)
    if row["matter"] != ELECTION_MATTER:
        raise problems.validation("只有 “选举业主委员会或者更换业主委员会成员” (art278_3) 的议案"
                                  "可以进行委员选举", field="matter")

    async def prepare(conn: Connection, vote_id: uuid.UUID, roll: RollIn) -> None:
        strangers = [c.name for c in data.candidates if c.person_id not in _owners_on(roll)]
        if strangers:
            raise problems.validation(f"候选人须是本小区业主 (在冻结名册上): {'、'.join(strangers)}",
                                      field="candidates")
        await store.set_seats(conn, vote_id=vote_id, seats=data.seats)
        await store.insert_candidates(conn, vote_id=vote_id, candidates=[
            (c.person_id, c.name.strip()) for c in data.candidates])

    vote = await open_on_version(
        pool, directory, compound_id=compound_id, proposal_id=proposal_id, version=data.version,
        rule=election.COMMITTEE_ELECTION, quorum=None, secret=data.secret,
        closes_at=data.closes_at, by=by, by_app=by_app, prepare=prepare)
    return Election(vote=vote, seats=data.seats, candidates=[
        Candidate(person_id=c.person_id, name=c.name.strip(), position=i)
        for i, c in enumerate(data.candidates, start=1)])


async def candidates(pool: Pool, *, compound_id: uuid.UUID, vote_id: uuid.UUID) -> Page[Candidate]:
    """An election's candidates (at most a few times its seats), as one page."""
    async with pool.acquire() as conn:
        vote = await vote_in(conn, compound_id, vote_id)
        if not counting.is_election(vote):
            raise problems.not_found("选举")
        rows = await store.candidates(conn, vote_id=vote_id)
    return whole([Candidate(person_id=r["candidate_id"], name=r["name"], position=r["position"])
                  for r in rows])


def _marks(approve: Sequence[uuid.UUID], oppose: Sequence[uuid.UUID], names: list[uuid.UUID],
           seats: int) -> dict[uuid.UUID, str]:
    """The ballot's mark for every candidate, checked by the election rule (422 if not)."""
    if len(set(approve)) != len(approve) or len(set(oppose)) != len(oppose):
        raise problems.validation("同一候选人在选票上重复出现", field="approve")
    if set(approve) & set(oppose):
        raise problems.validation("同一候选人不能既赞成又反对", field="oppose")
    marks = {str(c): "agree" for c in approve} | {str(c): "oppose" for c in oppose}
    try:
        full = election.complete_ballot(marks, [str(c) for c in names], seats)
    except ValueError as exc:
        raise problems.validation(str(exc), field="approve") from None
    return {uuid.UUID(c): choice for c, choice in full.items()}


async def cast_election(pool: Pool, *, compound_id: uuid.UUID, vote_id: uuid.UUID,
                        approve: Sequence[uuid.UUID], oppose: Sequence[uuid.UUID],
                        person_id: uuid.UUID | None, entry_id: str | None, channel: str,
                        entered_by: str | None = None, proxy_name: str | None = None) -> Ballot:
    """One ballot per roll entry. Open elections: a second ballot replaces the first;
    secret: 409. A person's ballot is one statement; an entry's (paper) one transaction."""
    facts = await casting.vote_facts(pool, compound_id, vote_id)
    if not facts.election:
        raise problems.validation("这不是委员选举, 请用普通选票 (ballots) 投票", field="approve")
    if person_id is not None:
        marks = _marks(approve, oppose, list(facts.candidates), facts.seats)
        return await _cast_persons(pool, facts, marks, person_id=person_id, entry_id=entry_id,
                                   channel=channel, entered_by=entered_by, proxy_name=proxy_name)
    async with transaction(pool) as conn:
        await store.guard(conn, vote_id=vote_id, exclusive=False)
        vote = await vote_in(conn, compound_id, vote_id)
        if not counting.is_election(vote):
            raise problems.validation("这不是委员选举, 请用普通选票 (ballots) 投票", field="approve")
        if vote["status"] != "open" or vote["closes_at"] <= now_utc():
            raise problems.conflict("选举已经结束或已取消, 不能再投票", "vote-closed")
        names = [r["candidate_id"] for r in await store.candidates(conn, vote_id=vote_id)]
        marks = _marks(approve, oppose, names, vote["seats"])
        entry = await roll_entry_for(conn, vote_id, person_id, entry_id)
        cast_by = str(person_id) if person_id else f"entry:{entry['entry_id']}"
        key = dict(vote_id=vote_id, entry_id=entry["entry_id"], channel=channel,
                   cast_by=cast_by, entered_by=entered_by, proxy_name=proxy_name)
        if not vote["secret"]:
            cast_first = await store.upsert_participation(conn, **key)
            if cast_first is None:
                await _online_already(conn, vote_id, entry["entry_id"])
            first = bool(cast_first)
            await store.replace_marks(conn, vote_id=vote_id, entry_id=entry["entry_id"],
                                      marks=marks)
        else:
            if not await store.insert_participation(conn, **key):
                raise problems.conflict("该名册条目已经投过票; 无记名选举不能改票", "already-voted")
            await store.add_secret_marks(conn, vote_id=vote_id, marks=marks,
                                         area_centi=entry["area_centi"],
                                         headcount=entry["headcount"])
            first = True
        await ballot_cast(conn, vote, channel=channel, changed=not first)
    (metrics.BALLOTS_CAST.labels(channel) if first else metrics.BALLOTS_CHANGED).inc()
    return Ballot(vote_id=vote_id, entry_id=entry["entry_id"], channel=channel,
                  changed=not first,
                  marks=None if vote["secret"] else {str(c): m for c, m in marks.items()})


async def _cast_persons(pool: Pool, facts: casting.VoteFacts, marks: dict[uuid.UUID, str], *,
                        person_id: uuid.UUID, entry_id: str | None, channel: str,
                        entered_by: str | None, proxy_name: str | None) -> Ballot:
    """A person's election ballot in one statement (store_ballots.cast_election_ballot)."""
    event, cast_payload, changed_payload = casting.payloads(facts, channel)
    async with pool.acquire() as conn:
        row = await store_ballots.cast_election_ballot(
            conn, vote_id=facts.id, person_id=person_id, entry_id=entry_id, secret=facts.secret,
            marks=marks, channel=channel, cast_by=str(person_id), entered_by=entered_by,
            proxy_name=proxy_name, event_id=uuid.UUID(event.id), event_type=event.type,
            cast_payload=cast_payload, changed_payload=changed_payload)
    casting.refused(row, "选举")
    if row["first"] is None and facts.secret:
        raise problems.conflict("该名册条目已经投过票; 无记名选举不能改票", "already-voted")
    first = await casting.counted(pool, facts, row, channel, _online_already)
    return Ballot(vote_id=facts.id, entry_id=row["entry_id"], channel=channel,
                  changed=not first,
                  marks=None if facts.secret else {str(c): m for c, m in marks.items()})


async def _online_already(conn: Connection, vote_id: uuid.UUID, entry_id: str) -> None:
    """As for a vote: the entry's owner voted online, an officer's paper or proxy ballot does not
    replace it."""
    online = await store.get_participation(conn, vote_id=vote_id, entry_id=entry_id)
    raise casting.voted_online(vote_id, entry_id, online["cast_at"], election=True)

"""Casting a ballot of an open vote: one statement, one round trip (store.cast_open_ballot).

Thousands of owners vote in the last minutes; each ballot used to be a transaction of six
round trips (BEGIN, the guard, the vote, the roll, the ballot, the outbox row, COMMIT). What a
ballot needs of its vote besides its status never changes once the vote is open (compound,
proposal, version, rule, secrecy), so it is read once per process and kept; the status is read
in the ballot's statement, after the guard (migration 0016), so a close always wins or waits.
A person's secret ballot and election ballot are one statement too (store_ballots.py: who
voted, the seal of the receipt, the running totals or the marks); a ballot an officer enters for
an entry alone keeps its transaction (service.cast_guarded, elections.cast_election)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from linli import problems
from linli.db import Connection, Pool
from linli.events import encode
from linli.loops import detached
from services.meetings import events, metrics
from services.meetings.votes import counting, receipts, store, store_ballots
from services.meetings.votes.models import Ballot

CHINA = dt.timezone(dt.timedelta(hours=8))  # what people read: one zone, no daylight saving
KEPT_VOTES = 1024  # a process serves few votes at once; the oldest read is dropped past this


@dataclass(frozen=True)
class VoteFacts:
    """What a ballot needs of its vote that cannot change while it is open."""

    id: uuid.UUID
    compound_id: uuid.UUID
    proposal_id: uuid.UUID
    version: int
    by_ballot: bool  # an open vote of ballots (not secret, not an election)
    secret_ballot: bool  # a secret vote of ballots (not an election)
    election: bool = False
    secret: bool = False
    seats: int = 0  # an election's
    candidates: tuple[uuid.UUID, ...] = ()  # an election's, in ballot order (fixed at open)


_facts: dict[uuid.UUID, VoteFacts] = {}
_reading: dict[uuid.UUID, asyncio.Future[VoteFacts | None]] = {}


async def _read_facts(pool: Pool, vote_id: uuid.UUID) -> VoteFacts | None:
    async with pool.acquire() as conn:
        row = await store.get_vote(conn, id=vote_id)
        election = row is not None and counting.is_election(row)
        names = await store.candidates(conn, vote_id=vote_id) if election else []
    if row is None:
        return None
    facts = VoteFacts(id=row["id"], compound_id=row["compound_id"],
                      proposal_id=row["proposal_id"], version=row["version"],
                      by_ballot=not counting.keeps_participation(row),
                      secret_ballot=row["secret"] and not election, election=election,
                      secret=row["secret"], seats=row["seats"] or 0,
                      candidates=tuple(r["candidate_id"] for r in names))
    if len(_facts) >= KEPT_VOTES:
        del _facts[next(iter(_facts))]
    _facts[vote_id] = facts
    return facts


async def vote_facts(pool: Pool, compound_id: uuid.UUID, vote_id: uuid.UUID) -> VoteFacts:
    """The vote's fixed facts (404 unless it is a vote of this compound). The first ballots
    of a vote arrive together: they wait for one read, not one read each."""
    facts = _facts.get(vote_id)
    if facts is None:
        reading = _reading.get(vote_id)
        if reading is None:
            reading = _reading[vote_id] = detached(_read_facts(pool, vote_id))
            reading.add_done_callback(lambda _: _reading.pop(vote_id, None))
        facts = await asyncio.shield(reading)  # a caller that gives up leaves it to the rest
    if facts is None or facts.compound_id != compound_id:
        raise problems.not_found("表决")
    return facts


def refused(row: Any, what: str = "表决") -> None:
    """The ballot statement wrote nothing because the vote (or election) is not open or the
    person has no single entry on its roll: the problem that says which."""
    if not row["open"]:
        raise problems.conflict(f"{what}已经结束或已取消, 不能再投票", "vote-closed")
    if row["entries"] == 0:
        raise problems.Problem(403, "not-on-roll", "不在表决名册上",
                               "只有冻结名册上的业主 (或其代理人) 可以投票")
    if row["entries"] > 1:
        raise problems.validation("你在名册上有多个条目, 请用 entry_id 指明为哪一条投票",
                                  field="entry_id")


def payloads(facts: VoteFacts, channel: str) -> tuple[Any, bytes, bytes]:
    """The ballot's event, and its payload as a first ballot and as a changed one (which one
    is written is known only in the statement)."""
    event = events.BALLOT_CAST.new(
        subject=str(facts.proposal_id), compound_id=str(facts.compound_id),
        data=events.BallotCast(vote_id=facts.id, proposal_id=facts.proposal_id,
                               compound_id=facts.compound_id, version=facts.version,
                               channel=channel, changed=False))
    changed = msgspec.structs.replace(event, data={**event.data, "changed": True})
    return event, encode(event), encode(changed)


async def cast_open(pool: Pool, facts: VoteFacts, *, choice: str, person_id: uuid.UUID,
                    entry_id: str | None, channel: str, entered_by: str | None,
                    proxy_name: str | None) -> Ballot:
    """A person's ballot in an open vote (a second one changes the first)."""
    event, cast_payload, changed_payload = payloads(facts, channel)
    async with pool.acquire() as conn:
        row = await store.cast_open_ballot(
            conn, vote_id=facts.id, person_id=person_id, entry_id=entry_id, choice=choice,
            channel=channel, cast_by=str(person_id), entered_by=entered_by,
            proxy_name=proxy_name, event_id=uuid.UUID(event.id), event_type=event.type,
            cast_payload=cast_payload, changed_payload=changed_payload)
    refused(row)
    first = await counted(pool, facts, row, channel, online_already)
    return Ballot(vote_id=facts.id, entry_id=row["entry_id"], channel=channel,
                  changed=not first, choice=choice, receipt=None)


async def counted(pool: Pool, facts: VoteFacts, row: Any, channel: str,
                  already: Callable[[Connection, uuid.UUID, str], Awaitable[None]]) -> bool:
    """Whether the statement's ballot was its entry's first (a second one changed it), counted
    in the metrics; `already` refuses a paper or proxy ballot that met the owner's own online
    ballot (the statement wrote nothing then)."""
    if row["first"] is None:
        async with pool.acquire() as conn:
            await already(conn, facts.id, row["entry_id"])
    first = bool(row["first"])
    (metrics.BALLOTS_CAST.labels(channel) if first else metrics.BALLOTS_CHANGED).inc()
    return first


async def cast_secret(pool: Pool, facts: VoteFacts, *, choice: str, person_id: uuid.UUID,
                      entry_id: str | None, channel: str, entered_by: str | None,
                      proxy_name: str | None) -> Ballot:
    """A person's ballot in a secret vote: once (409 already-voted after), never changed; an
    online voter gets the receipt whose seal participation keeps (receipts.py)."""
    event, payload, _ = payloads(facts, channel)
    receipt = receipts.new_receipt() if channel == "online" else None
    async with pool.acquire() as conn:
        row = await store_ballots.cast_secret_ballot(
            conn, vote_id=facts.id, person_id=person_id, entry_id=entry_id, choice=choice,
            channel=channel, cast_by=str(person_id), entered_by=entered_by,
            proxy_name=proxy_name, receipt=receipt, event_id=uuid.UUID(event.id),
            event_type=event.type, payload=payload)
    refused(row)
    if not row["cast"]:
        raise problems.conflict("该名册条目已经投过票; 无记名表决不能改票", "already-voted")
    metrics.BALLOTS_CAST.labels(channel).inc()
    return Ballot(vote_id=facts.id, entry_id=row["entry_id"], channel=channel, changed=False,
                  choice=None, receipt=receipt)


async def online_already(conn: Connection, vote_id: uuid.UUID, entry_id: str) -> None:
    """The entry's owner voted online: an officer's paper or proxy ballot does not replace it
    (only the owner changes their own ballot)."""
    online = await store.get_ballot(conn, vote_id=vote_id, entry_id=entry_id)
    raise voted_online(vote_id, entry_id, online["cast_at"], election=False)


def voted_online(vote_id: uuid.UUID, entry_id: str, cast_at: dt.datetime, *,
                 election: bool) -> problems.Problem:
    """409 naming the owner's online ballot and when it was cast, in a vote or an election."""
    at = cast_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M (北京时间)")
    what, paper = ("选举", "选票") if election else ("表决", "投票")
    return problems.conflict(
        f"名册条目 {entry_id} 的业主已于 {at} 在线投票 (记录: {what} {vote_id} / 条目 {entry_id},"
        f" 在线); 纸质或代理{paper}不能覆盖业主本人的在线投票, 只有业主本人可以改票",
        "voted-online")

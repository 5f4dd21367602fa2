"""Vote use cases: open on a version (freezing the roll), ballots, turnout, close, results.

The rules are exact (tally.py); the database enforces one ballot per roll entry (primary keys
of `ballots` and `participation`), so concurrent ballots for one entry cannot both count.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from fractions import Fraction
from typing import Any

from linli import problems
from linli.bus import emit
from linli.clients import ServiceClient
from linli.db import Connection, Pool, transaction
from linli.pagination import Page, PageQuery, page_of, time_keyset, whole
from linli.values import now_utc
from services.meetings import events, metrics
from services.meetings.proposals.service import end_consultation, proposal_in, require_driver
from services.meetings.proposals.store import get_proposal, set_proposal, try_lock_proposal
from services.meetings.votes import casting, counting, receipts, store, tally, turnouts
from services.meetings.votes.election import COMPLETE
from services.meetings.votes.models import (
    Ballot,
    EnteredBallot,
    NonVoters,
    RollIn,
    RollSummary,
    Turnout,
    Vote,
    VoteIn,
    VoteResult,
)

CHINA = casting.CHINA
MAJOR_ITEMS = ("art278_6", "art278_7", "art278_8")


def lawful_rule(matter: str, asked: str | None) -> str:
    """Art. 278 items take their statutory rule; community matters default to a majority."""
    if matter in MAJOR_ITEMS:
        rule = tally.CIVIL_CODE_MAJOR
    elif matter.startswith("art278_"):
        rule = tally.CIVIL_CODE_ORDINARY
    else:
        return asked or tally.SIMPLE_MAJORITY
    if asked is not None and asked != rule:
        raise problems.validation(f"民法典第278条事项必须按法定规则 {rule} 表决", field="rule")
    return rule


def _quorum(text: str | None, rule: str) -> Fraction | None:
    if text is None:
        return None
    num, den = (int(x) for x in text.split("/"))
    if den == 0 or num > den:
        raise problems.validation("参与比例必须是 0 到 1 之间的分数, 如 1/2", field="quorum")
    if rule != tally.SIMPLE_MAJORITY:
        raise problems.validation("只有简单多数规则可以另设参与比例", field="quorum")
    return Fraction(num, den)


def to_vote(row: Any, entries: int) -> Vote:
    return Vote(id=row["id"], proposal_id=row["proposal_id"], compound_id=row["compound_id"],
                version=row["version"], rule=row["rule"], quorum=row["quorum"],
                status=row["status"], opens_at=row["opens_at"], closes_at=row["closes_at"],
                closed_at=row["closed_at"], secret=row["secret"], outcome=row["outcome"],
                roll=RollSummary(entries=entries, area_centi=row["total_area_centi"],
                                 headcount=row["total_headcount"]),
                cancelled_at=row["cancelled_at"], cancel_reason=row["cancel_reason"],
                seats=row["seats"])


def _frozen_roll(roll: RollIn) -> tally.Roll:
    try:
        return tally.Roll(tuple(tally.RollEntry(e.entry_id, e.area_centi, e.headcount)
                                for e in roll.entries), roll.total_area_centi,
                          roll.total_headcount)
    except ValueError as exc:
        raise problems.validation(f"无法冻结业主名册: {exc}") from None


async def open_vote(pool: Pool, directory: ServiceClient, *, compound_id: uuid.UUID,
                    proposal_id: uuid.UUID, data: VoteIn, by: str, by_app: bool = True) -> Vote:
    """Open a vote on one version; the roll is fetched from the directory and frozen."""
    async with pool.acquire() as conn:
        row = await proposal_in(conn, compound_id, proposal_id)
    rule = lawful_rule(row["matter"], data.rule)
    quorum = _quorum(data.quorum, rule)
    return await open_on_version(
        pool, directory, compound_id=compound_id, proposal_id=proposal_id,
        version=data.version, rule=rule, quorum=None if quorum is None else str(quorum),
        secret=data.secret, closes_at=data.closes_at, by=by, by_app=by_app)


Prepare = Callable[[Connection, uuid.UUID, RollIn], Awaitable[None]]


async def open_on_version(pool: Pool, directory: ServiceClient, *, compound_id: uuid.UUID,
                          proposal_id: uuid.UUID, version: int | None, rule: str,
                          quorum: str | None, secret: bool, closes_at: dt.datetime, by: str,
                          by_app: bool = True, prepare: Prepare | None = None) -> Vote:
    """Freeze the roll and open the vote; `prepare` adds to it in the same transaction."""
    if closes_at.tzinfo is None or closes_at <= now_utc():
        raise problems.validation("表决截止时间必须带时区且晚于现在", field="closes_at")
    roll = await directory.get_or(f"/v1/compounds/{compound_id}/roll", problems.not_found("小区"),
                                  kind=RollIn)
    _frozen_roll(roll)
    vote_id = uuid.uuid4()
    async with transaction(pool) as conn:
        row = await proposal_in(conn, compound_id, proposal_id, lock=True)
        require_driver(row, by_app=by_app)
        if row["status"] == "withdrawn":
            raise problems.conflict("议案已撤回, 不能表决", "proposal-withdrawn")
        if row["status"] in ("voting", "passed"):
            raise problems.conflict("该议案正在表决或已经通过", "vote-exists")
        # the latest version as of the lock: a revision committed meanwhile is the one voted on
        version = version or row["current_version"]
        if version > row["current_version"]:
            raise problems.validation(f"议案没有第 {version} 版", field="version")
        vote = await store.insert_vote(
            conn, id=vote_id, compound_id=compound_id, proposal_id=proposal_id, version=version,
            rule=rule, quorum=quorum, secret=secret, closes_at=closes_at, opened_by=by,
            total_area_centi=roll.total_area_centi, total_headcount=roll.total_headcount)
        if vote is None:  # another open vote of this proposal (the partial unique index)
            raise problems.conflict("该议案已有进行中的表决", "vote-exists")
        await store.insert_roll(conn, vote_id=vote_id, entries=roll.entries)
        if prepare is not None:
            await prepare(conn, vote_id, roll)
            vote = await store.get_vote(conn, id=vote_id)
        await end_consultation(conn, proposal=row)
        await set_proposal(conn, id=proposal_id, status="voting")
        await emit(conn, events.VOTE_OPENED, subject=str(proposal_id), compound_id=str(compound_id),
                   data=events.VoteOpened(
                       vote_id=vote_id, proposal_id=proposal_id, compound_id=compound_id,
                       version=version, rule=rule, secret=secret,
                       closes_at=closes_at.isoformat(), roll_entries=len(roll.entries),
                       total_area_centi=roll.total_area_centi,
                       total_headcount=roll.total_headcount, title=row["title"]))
    return to_vote(vote, len(roll.entries))


async def vote_in(conn: Connection, compound_id: uuid.UUID, vote_id: uuid.UUID,
                  lock: str = "") -> Any:
    return problems.owned(await store.get_vote(conn, id=vote_id, lock=lock), compound_id, "表决")


async def get_vote(pool: Pool, *, compound_id: uuid.UUID, vote_id: uuid.UUID) -> Vote:
    async with pool.acquire() as conn:
        row = await vote_in(conn, compound_id, vote_id)
        return to_vote(row, await store.roll_size(conn, vote_id=vote_id))


async def list_votes(pool: Pool, *, compound_id: uuid.UUID, proposal_id: uuid.UUID) -> Page[Vote]:
    """A proposal's votes: the few of its versions and re-votes, as one page."""
    async with pool.acquire() as conn:
        await proposal_in(conn, compound_id, proposal_id)
        rows = await store.list_votes(conn, proposal_id=proposal_id)
        return whole([to_vote(r, await store.roll_size(conn, vote_id=r["id"])) for r in rows])


async def roll_entry_for(conn: Connection, vote_id: uuid.UUID, person_id: uuid.UUID | None,
                 entry_id: str | None) -> Any:
    """The roll entry a ballot is for: the person's entry (or the one named among theirs)."""
    if person_id is None:
        entry = None if entry_id is None else await store.get_entry(
            conn, vote_id=vote_id, entry_id=entry_id)
        if entry is None:
            raise problems.Problem(403, "not-on-roll", "不在表决名册上", "该名册条目不在冻结名册上")
        return entry
    entries = await store.entries_of(conn, vote_id=vote_id, person_id=person_id)
    if entry_id is not None:
        entries = [e for e in entries if e["entry_id"] == entry_id]
    if not entries:
        raise problems.Problem(403, "not-on-roll", "不在表决名册上",
                               "只有冻结名册上的业主 (或其代理人) 可以投票")
    if len(entries) > 1:
        raise problems.validation("你在名册上有多个条目, 请用 entry_id 指明为哪一条投票",
                                  field="entry_id")
    return entries[0]


async def cast(pool: Pool, *, compound_id: uuid.UUID, vote_id: uuid.UUID, choice: str,
               person_id: uuid.UUID | None, entry_id: str | None, channel: str,
               entered_by: str | None = None, proxy_name: str | None = None) -> Ballot:
    """One ballot per roll entry. Open votes: a second ballot changes the first. Secret: 409.
    A person's ballot is one statement (casting.py); an entry's or an election's (422 here) one
    transaction."""
    facts = await casting.vote_facts(pool, compound_id, vote_id)
    if person_id is not None and (facts.by_ballot or facts.secret_ballot):
        one = casting.cast_open if facts.by_ballot else casting.cast_secret
        return await one(pool, facts, choice=choice, person_id=person_id, entry_id=entry_id,
                         channel=channel, entered_by=entered_by, proxy_name=proxy_name)
    return await cast_guarded(pool, compound_id=compound_id, vote_id=vote_id, choice=choice,
                              person_id=person_id, entry_id=entry_id, channel=channel,
                              entered_by=entered_by, proxy_name=proxy_name)


async def cast_guarded(pool: Pool, *, compound_id: uuid.UUID, vote_id: uuid.UUID, choice: str,
                       person_id: uuid.UUID | None, entry_id: str | None, channel: str,
                       entered_by: str | None = None, proxy_name: str | None = None) -> Ballot:
    """A ballot as one transaction: the guard, the vote, the roll entry, the ballot (or the
    secret vote's participation and running totals), its event."""
    async with transaction(pool) as conn:
        await store.guard(conn, vote_id=vote_id, exclusive=False)
        vote = await vote_in(conn, compound_id, vote_id)
        if vote["status"] != "open" or vote["closes_at"] <= now_utc():
            raise problems.conflict("表决已经结束或已取消, 不能再投票", "vote-closed")
        if counting.is_election(vote):
            raise problems.validation("这是业主委员会选举, 请用选举选票 (election-ballots) 投票",
                                      field="choice")
        entry = await roll_entry_for(conn, vote_id, person_id, entry_id)
        cast_by = str(person_id) if person_id else f"entry:{entry['entry_id']}"
        receipt: str | None = None
        key = dict(vote_id=vote_id, entry_id=entry["entry_id"], channel=channel,
                   cast_by=cast_by, entered_by=entered_by, proxy_name=proxy_name)
        if not vote["secret"]:
            cast_first = await store.upsert_ballot(conn, choice=choice, **key)
            if cast_first is None:
                await casting.online_already(conn, vote_id, entry["entry_id"])
            first = bool(cast_first)
        else:
            receipt = receipts.new_receipt() if channel == "online" else None
            sealed = receipt and receipts.seal(vote_id, entry["entry_id"], receipt, choice)
            if not await store.insert_participation(conn, **key, seal=sealed):
                raise problems.conflict("该名册条目已经投过票; 无记名表决不能改票", "already-voted")
            await store.add_secret_ballot(conn, vote_id=vote_id, choice=choice,
                                               area_centi=entry["area_centi"],
                                               headcount=entry["headcount"])
            first = True
        await ballot_cast(conn, vote, channel=channel, changed=not first)
    (metrics.BALLOTS_CAST.labels(channel) if first else metrics.BALLOTS_CHANGED).inc()
    return Ballot(vote_id=vote_id, entry_id=entry["entry_id"], channel=channel,
                  changed=not first, choice=None if vote["secret"] else choice,
                  receipt=receipt if vote["secret"] else None)


async def ballot_cast(conn: Connection, vote: Any, *, channel: str, changed: bool) -> None:
    """Tell the live pages the turnout may have moved (no voter, no choice)."""
    await emit(conn, events.BALLOT_CAST, subject=str(vote["proposal_id"]),
               compound_id=str(vote["compound_id"]),
               data=events.BallotCast(vote_id=vote["id"], proposal_id=vote["proposal_id"],
                                      compound_id=vote["compound_id"], version=vote["version"],
                                      channel=channel, changed=changed))


async def _turnout_now(pool: Pool, vote_id: uuid.UUID) -> tuple[Any, list[Any]]:
    async with pool.acquire() as conn:
        vote = await store.get_vote(conn, id=vote_id)
        rows = [] if vote is None else await store.turnout(
            conn, vote_id=vote_id, secret=counting.keeps_participation(vote))
    return vote, rows


async def turnout(pool: Pool, *, compound_id: uuid.UUID, vote_id: uuid.UUID) -> Turnout:
    """Who has taken part so far; pages reading it together after a ballot share one count
    (turnouts.py), each still seeing every ballot committed before it asked."""
    vote, rows = await turnouts.shared(vote_id, lambda: _turnout_now(pool, vote_id))
    problems.owned(vote, compound_id, "表决")
    return Turnout(vote_id=vote_id, status=vote["status"], ballots=sum(r["n"] for r in rows),
                   participating_area_centi=int(sum(r["area"] for r in rows)),
                   participating_headcount=int(sum(r["heads"] for r in rows)),
                   total_area_centi=vote["total_area_centi"],
                   total_headcount=vote["total_headcount"],
                   by_channel={r["channel"]: r["n"] for r in rows})


async def entered_ballots(pool: Pool, *, compound_id: uuid.UUID, vote_id: uuid.UUID,
                          query: PageQuery) -> Page[EnteredBallot]:
    """A page of the ballots officers entered, in the order cast."""
    after = time_keyset(query.cursor, str)
    async with pool.acquire() as conn:
        vote = await vote_in(conn, compound_id, vote_id)
        rows = await store.entered_ballots(conn, vote_id=vote_id,
                                           secret=counting.keeps_participation(vote),
                                           after=after, limit=query.limit + 1)
    return page_of([EnteredBallot(**dict(r)) for r in rows], query.limit,
                   lambda b: [b.cast_at.isoformat(), b.entry_id])


async def non_voters(pool: Pool, *, compound_id: uuid.UUID, vote_id: uuid.UUID) -> NonVoters:
    """Owners on entries that have not voted yet (to remind them); entries without owners too."""
    async with pool.acquire() as conn:
        vote = await vote_in(conn, compound_id, vote_id)
        rows = await store.non_voters(conn, vote_id=vote_id,
                                 secret=counting.keeps_participation(vote))
    people = sorted({p for r in rows for p in r["owner_ids"]}, key=str)
    return NonVoters(vote_id=vote_id, person_ids=people, entry_ids=[r["entry_id"] for r in rows])


async def count(conn: Connection, vote: Any) -> tally.TallyResult:
    """Tally a vote: sums by choice of the frozen roll's area and headcount, added up in SQL
    (exact integers) and judged by tally.decide. Open votes join each ballot to its roll entry;
    secret votes read their per-choice running totals."""
    quorum = Fraction(vote["quorum"]) if vote["quorum"] else None
    sums = {r["choice"]: r for r in await store.sums_by_choice(
        conn, vote_id=vote["id"], secret=vote["secret"])}

    def part(choice: str, column: str) -> int:
        return int(sums[choice][column]) if choice in sums else 0

    counts = tally.Counts(
        total_area_centi=vote["total_area_centi"], total_headcount=vote["total_headcount"],
        **{f"{c}_area_centi": part(c, "area") for c in tally.CHOICES},
        **{f"{c}_headcount": part(c, "heads") for c in tally.CHOICES},
        ballots=sum(int(r["n"]) for r in sums.values()))
    return tally.decide(counts, vote["rule"], quorum)


def public_outcome(result: tally.TallyResult) -> str:
    return "passed" if result.passed else "rejected"


def to_result(vote: Any, result: dict[str, Any], final: bool) -> VoteResult:
    return VoteResult(vote_id=vote["id"], proposal_id=vote["proposal_id"],
                      compound_id=vote["compound_id"], version=vote["version"],
                      rule=vote["rule"], secret=vote["secret"], status=vote["status"],
                      final=final, outcome="passed" if result["outcome"] in (
                          tally.PASSED, COMPLETE) else "rejected",
                      result=result, closed_at=vote["closed_at"])


async def judge(conn: Connection, vote: Any) -> tuple[str, str, dict[str, Any]]:
    """(public outcome, rule's outcome, result dict) of a vote or a committee election.
    An election "passes" only when every seat is filled; its result says why not."""
    if counting.is_election(vote):
        elected, result = await counting.count_election(conn, vote)
        return ("passed" if elected.complete else "rejected"), elected.outcome, result
    counted = await count(conn, vote)
    return public_outcome(counted), counted.outcome, counted.to_dict()


async def close_locked(conn: Connection, vote: Any, by: str) -> VoteResult:
    """Close an open vote whose proposal and vote rows this transaction has locked."""
    await store.guard(conn, vote_id=vote["id"], exclusive=True)  # in-flight ballots land
    if vote["secret"]:
        await store.seal_secret_tallies(conn, vote_id=vote["id"])
        await store.seal_election_tallies(conn, vote_id=vote["id"])
    started = time.perf_counter()
    outcome, detail, result = await judge(conn, vote)
    metrics.TALLY_DURATION.observe(time.perf_counter() - started)
    closed = await store.close_vote(conn, id=vote["id"], closed_by=by, outcome=outcome,
                                         result=result)
    await set_proposal(conn, id=vote["proposal_id"], status=outcome)
    proposal = await get_proposal(conn, id=vote["proposal_id"])
    await emit(conn, events.VOTE_CLOSED, subject=str(vote["proposal_id"]),
               compound_id=str(vote["compound_id"]),
               data=events.VoteClosed(vote_id=vote["id"], proposal_id=vote["proposal_id"],
                                      compound_id=vote["compound_id"], version=vote["version"],
                                      rule=vote["rule"], outcome=outcome, result=result,
                                      title=proposal["title"] if proposal else ""))
    metrics.VOTES_CLOSED.labels(vote["rule"], detail).inc()
    return to_result(closed, result, final=True)


async def close(pool: Pool, *, compound_id: uuid.UUID, vote_id: uuid.UUID, by: str,
                by_app: bool = True) -> VoteResult:
    """Close now (idempotent: a closed vote returns its stored result)."""
    async with transaction(pool) as conn:
        vote = await vote_in(conn, compound_id, vote_id)
        # lock order everywhere: proposal, then vote
        row = await proposal_in(conn, compound_id, vote["proposal_id"], lock=True)
        if vote["status"] == "open":
            require_driver(row, by_app=by_app)
        vote = await vote_in(conn, compound_id, vote_id, lock="update")
        if vote["status"] == "closed":
            return to_result(vote, json.loads(vote["result"]), final=True)
        if vote["status"] == "cancelled":
            raise problems.conflict("表决已被取消, 没有计票结果", "vote-cancelled")
        return await close_locked(conn, vote, by)


async def result(pool: Pool, *, compound_id: uuid.UUID, vote_id: uuid.UUID) -> VoteResult:
    """The final result; a provisional count of an open vote; nothing of an open secret vote."""
    async with pool.acquire() as conn:
        vote = await vote_in(conn, compound_id, vote_id)
        if vote["status"] == "closed":
            return to_result(vote, json.loads(vote["result"]), final=True)
        if vote["status"] == "cancelled":
            raise problems.conflict("表决已被取消, 没有计票结果", "vote-cancelled")
        if vote["secret"]:
            raise problems.conflict("无记名表决在结束前不公布结果", "secret-vote-open")
        return to_result(vote, (await judge(conn, vote))[2], final=False)


async def close_due(pool: Pool, *, vote_id: uuid.UUID, proposal_id: uuid.UUID) -> bool:
    """Close one vote past its deadline unless another replica is on it (SKIP LOCKED)."""
    async with transaction(pool) as conn:
        if not await try_lock_proposal(conn, id=proposal_id):
            return False
        vote = await store.get_vote(conn, id=vote_id, lock="update")
        if vote["status"] != "open" or vote["closes_at"] > now_utc():
            return False
        await close_locked(conn, vote, "system:deadline")
    return True


"""Votes under concurrency: what a use case reads before it takes its locks, and lock order."""

from __future__ import annotations

import asyncio
import uuid

from aiohttp.test_utils import TestClient

from linli.http import POOL
from services.meetings.proposals import store
from services.meetings.votes import store as vote_store
from tests.conftest import TokenFactory, assert_problem, bearer, wait_until_blocked
from tests.integration.test_meetings_support import later, ok, outbox
from tests.integration.test_votes import (  # noqa: F401  (apps is a fixture)
    A,
    B,
    apps,
    open_vote,
    proposal,
    sunny_garden,
)


async def test_vote_opens_on_the_version_current_when_it_locks_the_proposal(
    apps: tuple[TestClient, TestClient], token: TokenFactory  # noqa: F811
) -> None:
    """A revision committed while a vote is being opened (roll fetched, proposal not yet
    locked) is the version voted on, never the one read before it."""
    directory, meetings = apps
    c = await sunny_garden(directory, token)
    branch = bearer(token(roles=["party_branch"], compounds=[c.id]))
    pid = await proposal(meetings, c, branch, "community")
    async with meetings.app[POOL].acquire() as conn, conn.transaction():
        await store.insert_version(conn, proposal_id=uuid.UUID(pid), number=2, body="第二版",
                                   change_summary="修订", budget_fen=None, created_by="t")
        await store.set_proposal(conn, id=uuid.UUID(pid), current_version=2)
        opening = asyncio.ensure_future(meetings.post(
            f"/v1/compounds/{c.id}/proposals/{pid}/votes", json={"closes_at": later()},
            headers=branch))
        await wait_until_blocked(conn)  # it read version 1 and waits for the proposal's lock
    vote = await ok(await opening, 201)
    assert vote["version"] == 2


async def test_close_waits_for_a_secret_ballot_in_flight_without_deadlock(
    apps: tuple[TestClient, TestClient], token: TokenFactory  # noqa: F811
) -> None:
    """A close holding the vote row waits (guard) for a secret ballot in flight; the ballot's
    totals row must not wait for the vote row in turn: both finish, the ballot counted."""
    directory, meetings = apps
    c = await sunny_garden(directory, token)
    branch = bearer(token(roles=["party_branch"], compounds=[c.id]))
    pid = await proposal(meetings, c, branch, "community")
    vote = await open_vote(meetings, c, pid, branch, secret=True)
    vid = uuid.UUID(vote["id"])
    async with meetings.app[POOL].acquire() as conn, conn.transaction():
        # the ballot's own steps (voting.cast), with the close arriving in the middle
        await vote_store.guard(conn, vote_id=vid, exclusive=False)
        (entry,) = await vote_store.entries_of(conn, vote_id=vid, person_id=uuid.UUID(c.people[A]))
        await vote_store.insert_participation(conn, vote_id=vid, entry_id=entry["entry_id"],
                                              channel="online", cast_by=c.people[A],
                                              entered_by=None, proxy_name=None)
        closing = asyncio.ensure_future(meetings.post(
            f"/v1/compounds/{c.id}/votes/{vid}/close", headers=branch))
        await wait_until_blocked(conn)  # the close holds the vote row and waits for the guard
        await vote_store.add_secret_ballot(conn, vote_id=vid, choice="agree",
                                           area_centi=entry["area_centi"], headcount=1)
    result = await ok(await closing)
    assert result["result"]["counts"]["agree_area_centi"] == 24975


async def test_a_ballot_waiting_for_a_close_is_refused_not_left_uncounted(
    apps: tuple[TestClient, TestClient], token: TokenFactory  # noqa: F811
) -> None:
    """An open vote's ballot is one statement whose snapshot predates its wait for the guard:
    when the close it waited for commits, the ballot must see the vote closed (409) and write
    nothing, never land after the count."""
    directory, meetings = apps
    c = await sunny_garden(directory, token)
    branch = bearer(token(roles=["party_branch"], compounds=[c.id]))
    pid = await proposal(meetings, c, branch, "community")
    vote = await open_vote(meetings, c, pid, branch)
    vid = uuid.UUID(vote["id"])
    url = f"/v1/compounds/{c.id}/votes/{vid}/ballots"
    await ok(await meetings.post(url, json={"choice": "agree"}, headers=c.as_owner(token, A)), 201)
    async with meetings.app[POOL].acquire() as conn, conn.transaction():
        # a close's steps: the guard taken exclusive, the vote closed, then the commit
        await vote_store.guard(conn, vote_id=vid, exclusive=True)
        casting = asyncio.ensure_future(meetings.post(
            url, json={"choice": "oppose"}, headers=c.as_owner(token, B)))
        await wait_until_blocked(conn)  # the ballot's statement began and waits for the guard
        await vote_store.close_vote(conn, id=vid, closed_by="t", outcome="passed", result={})
    await assert_problem(await casting, 409, "vote-closed")
    async with meetings.app[POOL].acquire() as conn:
        cast = await conn.fetch("SELECT cast_by FROM ballots WHERE vote_id = $1", vid)
    assert [r["cast_by"] for r in cast] == [c.people[A]]
    cast_events = [e for e in await outbox(meetings, pid) if e["type"] == "linli.meetings.ballot.cast"]
    assert len(cast_events) == 1  # the refused ballot left no event either

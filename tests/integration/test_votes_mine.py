"""An owner reads back their own ballot: an open vote's choice; a secret vote's only with the
receipt given when it was cast; never anybody else's."""

from __future__ import annotations

import asyncpg
from aiohttp.test_utils import TestClient

from linli.config import Settings
from tests.conftest import TokenFactory, assert_problem, bearer
from tests.integration.test_meetings_support import new_compound, ok
from tests.integration.test_votes import A, B, C, D, E, apps, open_vote, proposal, sunny_garden

__all__ = ["apps"]  # the fixture, imported to be used here


async def test_an_owner_sees_their_own_ballot_of_an_open_vote_and_nobody_elses(
    apps: tuple[TestClient, TestClient], token: TokenFactory
) -> None:
    directory, meetings = apps
    c = await sunny_garden(directory, token)
    branch = bearer(token(roles=["party_branch"], compounds=[c.id]))
    vote = await open_vote(meetings, c, await proposal(meetings, c, branch, "art278_4"), branch)
    v = f"/v1/compounds/{c.id}/votes/{vote['id']}"

    mine = await ok(await meetings.get(f"{v}/ballots/mine", headers=c.as_owner(token, A)))
    # A owns three units: one owner, one entry on the roll with their area summed, not voted
    assert mine["secret"] is False
    assert [(e["area_centi"], e["voted"], e["choice"]) for e in mine["entries"]] == [
        (24975, False, None)]

    await ok(await meetings.post(f"{v}/ballots", json={"choice": "agree"},
                                 headers=c.as_owner(token, B)), 201)
    await ok(await meetings.post(f"{v}/ballots", json={"choice": "oppose"},
                                 headers=c.as_owner(token, D)), 201)
    b = await ok(await meetings.get(f"{v}/ballots/mine", headers=c.as_owner(token, B)))
    assert [(e["voted"], e["choice"], e["channel"]) for e in b["entries"]] == [
        (True, "agree", "online")]
    # the co-owner of B's unit sees the unit's one ballot; D sees only D's own
    co = await ok(await meetings.get(f"{v}/ballots/mine", headers=c.as_owner(token, C)))
    assert [e["choice"] for e in co["entries"]] == ["agree"]
    d = await ok(await meetings.get(f"{v}/ballots/mine", headers=c.as_owner(token, D)))
    assert [e["choice"] for e in d["entries"]] == ["oppose"]
    # the co-owner changes it; the read-back follows
    await ok(await meetings.post(f"{v}/ballots", json={"choice": "abstain"},
                                 headers=c.as_owner(token, C)), 201)
    b = await ok(await meetings.get(f"{v}/ballots/mine", headers=c.as_owner(token, B)))
    assert [e["choice"] for e in b["entries"]] == ["abstain"]

    # someone not on the roll has no ballot; staff and apps have no "mine"
    tenant = c.people["租户"]
    await assert_problem(await meetings.get(f"{v}/ballots/mine", headers=bearer(token(
        roles=["resident"], compounds=[c.id], person=tenant))), 403, "not-on-roll")
    await assert_problem(await meetings.get(f"{v}/ballots/mine", headers=bearer(token(
        scopes=["meetings:manage"], compounds=[c.id]))), 403, "not-on-roll")
    # another compound's owner gets no answer about this vote
    await assert_problem(await meetings.get(f"{v}/ballots/mine", headers=bearer(token(
        roles=["owner"], compounds=["00000000-0000-0000-0000-000000000001"],
        person=c.people[B]))), 403, "forbidden")


async def test_a_secret_ballot_reads_back_only_with_its_receipt(
    apps: tuple[TestClient, TestClient], token: TokenFactory, settings: Settings
) -> None:
    directory, meetings = apps
    c = await sunny_garden(directory, token)
    branch = bearer(token(roles=["party_branch"], compounds=[c.id]))
    vote = await open_vote(meetings, c, await proposal(meetings, c, branch, "art278_4"), branch,
                           secret=True)
    v = f"/v1/compounds/{c.id}/votes/{vote['id']}"
    cast = await ok(await meetings.post(f"{v}/ballots", json={"choice": "oppose"},
                                        headers=c.as_owner(token, E)), 201)
    assert cast["choice"] is None and len(cast["receipt"]) >= 32
    other = await ok(await meetings.post(f"{v}/ballots", json={"choice": "agree"},
                                         headers=c.as_owner(token, D)), 201)

    def asking(name: str, receipt: str | None = None) -> dict[str, str]:
        extra = {"X-Ballot-Receipt": receipt} if receipt else {}
        return {**c.as_owner(token, name), **extra}

    plain = await ok(await meetings.get(f"{v}/ballots/mine", headers=asking(E)))
    assert plain["secret"] is True
    assert [(e["voted"], e["choice"]) for e in plain["entries"]] == [(True, None)]
    with_receipt = await ok(await meetings.get(f"{v}/ballots/mine", headers=asking(E, cast["receipt"])))
    assert [e["choice"] for e in with_receipt["entries"]] == ["oppose"]
    # D's receipt opens nothing of E's, and E's receipt nothing of D's
    wrong = await ok(await meetings.get(f"{v}/ballots/mine", headers=asking(E, other["receipt"])))
    assert [e["choice"] for e in wrong["entries"]] == [None]
    crossed = await ok(await meetings.get(f"{v}/ballots/mine", headers=asking(D, cast["receipt"])))
    assert [e["choice"] for e in crossed["entries"]] == [None]
    # the service keeps no choice per ballot: only a seal that names none of the choices
    conn = await asyncpg.connect(settings.database_url)
    try:
        rows = await conn.fetch("SELECT * FROM meetings.participation WHERE vote_id = $1",
                                vote["id"])
    finally:
        await conn.close()
    assert len(rows) == 2 and all(len(r["seal"]) == 64 for r in rows)
    assert not any(word in str(dict(r)) for r in rows for word in ("agree", "oppose", cast["receipt"]))


async def test_an_owner_on_two_entries_names_the_one_each_ballot_is_for(
    apps: tuple[TestClient, TestClient], token: TokenFactory
) -> None:
    """An owner alone on one unit and co-owner of another is on two roll entries: a ballot
    without entry_id is refused (nothing written), each named entry takes its own ballot,
    and an entry that is not theirs is not on their roll."""
    directory, meetings = apps
    c = await new_compound(directory, token)
    await c.unit("101", "90.00", A)
    await c.unit("102", "60.00", A, B)
    branch = bearer(token(roles=["party_branch"], compounds=[c.id]))
    vote = await open_vote(meetings, c, await proposal(meetings, c, branch, "art278_4"), branch)
    v = f"/v1/compounds/{c.id}/votes/{vote['id']}"
    entries = [e["entry_id"] for e in (await ok(await meetings.get(
        f"{v}/ballots/mine", headers=c.as_owner(token, A))))["entries"]]
    assert len(entries) == 2
    await assert_problem(await meetings.post(f"{v}/ballots", json={"choice": "agree"},
                                             headers=c.as_owner(token, A)), 422, "validation-error")
    assert (await ok(await meetings.get(f"{v}/turnout", headers=branch)))["ballots"] == 0
    for entry, choice in zip(entries, ("agree", "oppose"), strict=True):
        cast = await ok(await meetings.post(f"{v}/ballots", json={
            "choice": choice, "entry_id": entry}, headers=c.as_owner(token, A)), 201)
        assert (cast["entry_id"], cast["changed"]) == (entry, False)
    await assert_problem(await meetings.post(f"{v}/ballots", json={
        "choice": "agree", "entry_id": "developer"}, headers=c.as_owner(token, A)), 403, "not-on-roll")
    mine = await ok(await meetings.get(f"{v}/ballots/mine", headers=c.as_owner(token, A)))
    assert sorted((e["entry_id"], e["choice"]) for e in mine["entries"]) == sorted(
        zip(entries, ("agree", "oppose"), strict=True))

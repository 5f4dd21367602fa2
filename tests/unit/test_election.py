"""Electing the owners' committee: exact edges of the item-3 rule, per candidate, and the seats."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.meetings.votes.election import (
    COMPLETE,
    ELECTED,
    NOT_QUALIFIED,
    RUNNER_UP,
    TIE,
    TIED,
    TOO_FEW_QUALIFIED,
    ElectionResult,
    complete_ballot,
    elect,
    validate_seats,
)
from services.meetings.votes.tally import Roll, RollEntry, Threshold

CANDIDATES = [f"c{i}" for i in range(1, 8)]


def even_roll(n: int, area: int = 10000) -> Roll:
    return Roll.of(RollEntry(f"e{i}", area) for i in range(n))


def approving(*names: str, oppose: tuple[str, ...] = ()) -> dict[str, str]:
    return {**{n: "agree" for n in names}, **{n: "oppose" for n in oppose}}


def thresholds(result: ElectionResult, candidate: str) -> dict[str, Threshold]:
    (one,) = [c for c in result.candidates if c.candidate == candidate]
    return {t.name: t for t in one.judgement.thresholds}


def status(result: ElectionResult) -> dict[str, str]:
    return {c.candidate: c.status for c in result.candidates}


def test_exactly_two_thirds_participation_qualifies() -> None:
    roll = even_roll(3)
    ballots = {"e0": approving("c1", "c2"), "e1": approving("c1", "c2")}
    result = elect(roll, ballots, ["c1", "c2", "c3", "c4", "c5"], seats=5)
    t = thresholds(result, "c1")
    area, heads = t["participation_area"], t["participation_headcount"]
    assert (area.base, area.needed, area.reached, area.met) == (30000, 20000, 20000, True)
    assert (heads.base, heads.needed, heads.reached, heads.met) == (3, 2, 2, True)
    assert result.elected == ("c1", "c2")
    assert (result.outcome, result.open_seats) == (TOO_FEW_QUALIFIED, 3)


def test_one_hundredth_short_of_two_thirds_area_qualifies_nobody() -> None:
    roll = Roll.of([RollEntry("e0", 10000), RollEntry("e1", 9999), RollEntry("e2", 10001)])
    ballots = {"e0": approving("c1"), "e1": approving("c1")}
    result = elect(roll, ballots, ["c1", "c2", "c3", "c4", "c5"], seats=5)
    area = thresholds(result, "c1")["participation_area"]
    assert (area.base, area.needed, area.reached, area.met) == (30000, 20000, 19999, False)
    assert result.elected == ()
    assert status(result)["c1"] == NOT_QUALIFIED
    assert (result.outcome, result.open_seats) == (TOO_FEW_QUALIFIED, 5)


def test_exactly_half_approval_does_not_qualify() -> None:
    roll = even_roll(4)
    all_five = ["c1", "c2", "c3", "c4", "c5"]
    ballots = {"e0": approving(*all_five), "e1": approving(*all_five),
               "e2": approving("c1", "c2", "c3", "c4"), "e3": approving("c1", "c2", "c3", "c4")}
    result = elect(roll, ballots, all_five, seats=5)
    t = thresholds(result, "c5")
    assert (t["approval_headcount"].base, t["approval_headcount"].needed,
            t["approval_headcount"].reached, t["approval_headcount"].met) == (4, 3, 2, False)
    assert (t["approval_area"].base, t["approval_area"].needed,
            t["approval_area"].reached, t["approval_area"].met) == (40000, 20001, 20000, False)
    assert result.elected == ("c1", "c2", "c3", "c4")
    assert (result.outcome, result.open_seats, result.tied) == (TOO_FEW_QUALIFIED, 1, ())


def test_tie_across_the_last_seat_is_reported_not_broken() -> None:
    # 10 owners of equal area: all approve c1–c3, then two of c4–c6 each (4x c4+c5,
    # 4x c4+c6, 2x c5+c6): c4 8, c5 6, c6 6 for the fifth seat; c7 nobody.
    roll = even_roll(10)
    pairs = [("c4", "c5")] * 4 + [("c4", "c6")] * 4 + [("c5", "c6")] * 2
    ballots = {f"e{i}": approving("c1", "c2", "c3", *p) for i, p in enumerate(pairs)}
    result = elect(roll, ballots, CANDIDATES, seats=5)
    assert result.elected == ("c1", "c2", "c3", "c4")
    assert result.tied == ("c5", "c6")
    assert (result.outcome, result.open_seats) == (TIE, 1)
    assert status(result) == {"c1": ELECTED, "c2": ELECTED, "c3": ELECTED, "c4": ELECTED,
                              "c5": TIED, "c6": TIED, "c7": NOT_QUALIFIED}
    five = next(c for c in result.candidates if c.candidate == "c5")
    assert five.rank_key == (6, 60000)


def test_a_tie_below_the_last_seat_is_no_tie() -> None:
    roll = even_roll(10)
    pairs = [("c4", "c5")] * 4 + [("c4", "c6")] * 4 + [("c5", "c6")] * 2
    ballots = {f"e{i}": approving("c1", "c2", "c3", *p) for i, p in enumerate(pairs)}
    result = elect(roll, ballots, CANDIDATES[:6], seats=7 - 2)  # c5 and c6 tie for the 5th
    assert result.outcome == TIE
    # with seven seats there is room for both tied candidates: no tie to report
    result = elect(roll, ballots, CANDIDATES, seats=7)
    assert (result.outcome, result.tied) == (TOO_FEW_QUALIFIED, ())
    assert result.elected == ("c1", "c2", "c3", "c4", "c5", "c6")


def test_approving_headcount_ranks_before_area() -> None:
    # 90000 in all, 6 heads: c1 5 heads 60000; c2 4 heads 70000; c3 4 heads 60000
    roll = Roll.of([RollEntry("big", 30000), RollEntry("mid", 20000)]
                   + [RollEntry(f"s{i}", 10000) for i in range(4)])
    ballots = {"big": approving("c2", "c3"), "mid": approving("c1", "c2"),
               "s0": approving("c1", "c2", "c3"), "s1": approving("c1", "c2", "c3"),
               "s2": approving("c1", "c3"), "s3": approving("c1")}
    result = elect(roll, ballots, ["c3", "c2", "c1"], seats=3, lowest=3)
    order = [(c.candidate, c.rank_key, c.status) for c in result.candidates]
    assert order == [("c1", (5, 60000), ELECTED), ("c2", (4, 70000), ELECTED),
                     ("c3", (4, 60000), ELECTED)]
    assert (result.outcome, result.elected) == (COMPLETE, ("c1", "c2", "c3"))


def test_every_seat_filled() -> None:
    roll = even_roll(6)
    ballots = {f"e{i}": approving("c1", "c2", "c3", "c4", "c5", oppose=("c6", "c7"))
               for i in range(6)}
    result = elect(roll, ballots, CANDIDATES, seats=5)
    assert (result.outcome, result.elected, result.open_seats) == (
        COMPLETE, ("c1", "c2", "c3", "c4", "c5"), 0)
    assert status(result)["c6"] == NOT_QUALIFIED


def test_more_approvals_than_seats_are_refused() -> None:
    with pytest.raises(ValueError, match="最多赞成 5 名"):
        complete_ballot(approving("c1", "c2", "c3", "c4", "c5", "c6"), CANDIDATES, 5)
    with pytest.raises(ValueError, match="不在候选人名单"):
        complete_ballot(approving("x"), CANDIDATES, 5)
    with pytest.raises(ValueError, match="无效的表决意见"):
        complete_ballot({"c1": "yes"}, CANDIDATES, 5)
    marks = complete_ballot(approving("c1", oppose=("c2",)), CANDIDATES, 5)
    assert marks == {"c1": "agree", "c2": "oppose", **{c: "abstain" for c in CANDIDATES[2:]}}


@pytest.mark.parametrize("seats", [4, 3, 13, 6, 0, -5])
def test_seats_are_odd_within_the_range(seats: int) -> None:
    with pytest.raises(ValueError):
        validate_seats(seats)


def test_seat_range_is_configurable() -> None:
    validate_seats(13, 3, 15)
    validate_seats(3, 3, 15)
    with pytest.raises(ValueError, match="3 到 9"):
        validate_seats(11, 3, 9)
    with pytest.raises(ValueError, match="不能少于席位数"):
        elect(even_roll(3), {}, ["c1", "c2"], seats=5)


def test_result_is_plain_json() -> None:
    result = elect(even_roll(3), {"e0": approving("c1"), "e1": approving("c1")},
                   CANDIDATES[:5], seats=5).to_dict()
    assert result["candidates"][0]["thresholds"][0] == {
        "name": "participation_area", "comparison": ">=", "ratio": "2/3", "base": 30000,
        "needed": 20000, "reached": 20000, "met": True}
    assert result["elected"] == ["c1"] and result["open_seats"] == 4


# --- property: the election equals an independent brute-force recount -----------------------

def qualifies(roll: Roll, ballots: dict[str, dict[str, str]], candidate: str) -> bool:
    """From the statute, with Fractions: 2/3 participation, then > 1/2 of those taking part."""
    voters = [e for e in roll.entries if e.entry_id in ballots]
    area, heads = sum(e.area_centi for e in voters), sum(e.headcount for e in voters)
    if Fraction(area, roll.total_area_centi) < Fraction(2, 3):
        return False
    if Fraction(heads, roll.total_headcount) < Fraction(2, 3):
        return False
    yes = [e for e in voters if ballots[e.entry_id].get(candidate) == "agree"]
    return (Fraction(sum(e.area_centi for e in yes), area) > Fraction(1, 2)
            and Fraction(sum(e.headcount for e in yes), heads) > Fraction(1, 2))


def recount(roll: Roll, ballots: dict[str, dict[str, str]], candidates: list[str],
            seats: int) -> dict[str, str]:
    """Seat by comparing every pair: elected when all candidates at least as good fit."""
    def key(c: str) -> tuple[int, int]:
        yes = [e for e in roll.entries if ballots.get(e.entry_id, {}).get(c) == "agree"]
        return sum(e.headcount for e in yes), sum(e.area_centi for e in yes)

    ok = [c for c in candidates if qualifies(roll, ballots, c)]
    out = {c: NOT_QUALIFIED for c in candidates}
    for c in ok:
        better = sum(1 for d in ok if key(d) > key(c))
        level = sum(1 for d in ok if key(d) == key(c))
        out[c] = (ELECTED if better + level <= seats else
                  RUNNER_UP if better >= seats else TIED)
    return out


@st.composite
def elections(draw: st.DrawFn) -> tuple[Roll, dict[str, dict[str, str]], list[str], int]:
    sizes = draw(st.lists(st.tuples(st.integers(1, 30000), st.integers(1, 2)),
                          min_size=1, max_size=10))
    roll = Roll.of(RollEntry(f"e{i}", a, h) for i, (a, h) in enumerate(sizes))
    seats = draw(st.sampled_from([5, 7]))
    candidates = [f"c{i}" for i in range(draw(st.integers(seats, seats + 3)))]
    ballots: dict[str, dict[str, str]] = {}
    for entry in roll.entries:
        if not draw(st.booleans()) and draw(st.booleans()):
            continue  # a quarter stay home
        yes = draw(st.lists(st.sampled_from(candidates), max_size=seats, unique=True))
        no = draw(st.lists(st.sampled_from(candidates), unique=True))
        ballots[entry.entry_id] = {**{c: "oppose" for c in no}, **{c: "agree" for c in yes}}
    return roll, ballots, candidates, seats


@given(elections())
def test_election_equals_brute_force_recount(
    case: tuple[Roll, dict[str, dict[str, str]], list[str], int]
) -> None:
    roll, ballots, candidates, seats = case
    result = elect(roll, ballots, candidates, seats)
    assert status(result) == recount(roll, ballots, candidates, seats)
    assert len(result.elected) + result.open_seats == seats
    assert result.open_seats == 0 or result.outcome in (TIE, TOO_FEW_QUALIFIED)
    assert (result.outcome == TIE) == bool(result.tied)
    for c in result.candidates:
        for t in c.judgement.thresholds:
            assert t.met == (t.reached >= t.needed)

"""The owners' vote tally: the exact edges of 民法典 Art. 278 and the counting rules."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.meetings.votes.tally import (
    CIVIL_CODE_MAJOR,
    CIVIL_CODE_ORDINARY,
    CONSENSUS,
    RULES,
    SIMPLE_MAJORITY,
    Counts,
    Roll,
    RollEntry,
    Threshold,
    check,
    decide,
    tally,
    turnout,
)


def roll_of(*entries: tuple[str, int] | tuple[str, int, int]) -> Roll:
    return Roll.of(RollEntry(*e) for e in entries)


def by_name(result_thresholds: tuple[Threshold, ...]) -> dict[str, Threshold]:
    return {t.name: t for t in result_thresholds}


def even_roll(n: int, area: int = 10000) -> Roll:
    return Roll.of(RollEntry(f"u{i}", area) for i in range(n))


def test_quorum_met_by_area_but_not_by_headcount() -> None:
    roll = roll_of(("big", 70000), ("b", 10000), ("c", 10000), ("d", 10000), ("e", 10000))
    result = tally(roll, {"big": "agree", "b": "agree"}, CIVIL_CODE_ORDINARY)
    t = by_name(result.thresholds)
    assert result.outcome == "failed_quorum"
    assert t["participation_area"].met  # 80000 of 110000 >= 2/3
    assert not t["participation_headcount"].met  # 2 of 5 < 2/3
    assert (t["participation_headcount"].needed, t["participation_headcount"].reached) == (4, 2)


def test_major_item_approved_by_headcount_but_not_by_area() -> None:
    roll = roll_of(("a", 10000), ("b", 10000), ("c", 10000), ("d", 10000), ("big", 60000))
    ballots = {"a": "agree", "b": "agree", "c": "agree", "d": "agree", "big": "oppose"}
    result = tally(roll, ballots, CIVIL_CODE_MAJOR)
    t = by_name(result.thresholds)
    assert result.outcome == "failed_approval"
    assert t["approval_headcount"].met  # 4 of 5 >= 3/4
    assert not t["approval_area"].met  # 40000 of 100000 < 3/4
    assert (t["approval_area"].needed, t["approval_area"].base) == (75000, 100000)


def test_exactly_two_thirds_participation_passes() -> None:
    result = tally(even_roll(3), {"u0": "agree", "u1": "agree"}, CIVIL_CODE_MAJOR)
    t = by_name(result.thresholds)
    assert result.outcome == "passed"
    assert (t["participation_area"].reached, t["participation_area"].needed) == (20000, 20000)


def test_one_hundredth_of_a_square_metre_short_fails() -> None:
    roll = roll_of(("a", 10000), ("b", 9999), ("c", 10001))
    result = tally(roll, {"a": "agree", "b": "agree"}, CIVIL_CODE_ORDINARY)
    t = by_name(result.thresholds)
    assert result.outcome == "failed_quorum"
    assert (t["participation_area"].reached, t["participation_area"].needed) == (19999, 20000)


def test_needed_rounds_up_on_an_area_not_divisible_by_three() -> None:
    t = check("participation_area", ">=", Fraction(2, 3), 20000, 30001)
    assert (t.needed, t.met) == (20001, False)


def test_exactly_half_approval_fails_an_ordinary_item() -> None:
    ballots = {"u0": "agree", "u1": "agree", "u2": "oppose", "u3": "oppose"}
    result = tally(even_roll(4), ballots, CIVIL_CODE_ORDINARY)
    t = by_name(result.thresholds)
    assert result.outcome == "failed_approval"
    assert (t["approval_area"].comparison, t["approval_area"].needed) == (">", 20001)
    assert t["approval_headcount"].needed == 3


def test_exactly_three_quarters_approval_passes_a_major_item() -> None:
    ballots = {"u0": "agree", "u1": "agree", "u2": "agree", "u3": "oppose"}
    assert tally(even_roll(4), ballots, CIVIL_CODE_MAJOR).outcome == "passed"


def test_one_owner_of_three_units_counts_once_with_all_three_areas() -> None:
    zhang_units = [9000, 9000, 9000]
    roll = Roll.of(
        [RollEntry("zhang", sum(zhang_units), headcount=1)]
        + [RollEntry(name, 9000) for name in ("b", "c", "d", "e")]
    )
    assert (roll.total_area_centi, roll.total_headcount) == (63000, 5)
    result = tally(roll, {"zhang": "agree", "b": "agree", "c": "agree"}, CIVIL_CODE_ORDINARY)
    counts = result.counts
    assert (counts.participating_area_centi, counts.participating_headcount) == (45000, 3)
    # Counted per unit it would be 5 of 7 people; counted once it is 3 of 5, short of 2/3.
    assert result.outcome == "failed_quorum"
    assert by_name(result.thresholds)["participation_area"].met


def test_co_owners_of_one_unit_are_one_entry_and_one_head() -> None:
    roll = roll_of(("101-wang-and-li", 12000), ("102", 12000), ("103", 12000))
    assert roll.total_headcount == 3
    result = tally(roll, {"101-wang-and-li": "agree", "102": "agree"}, CIVIL_CODE_ORDINARY)
    assert result.counts.agree_headcount == 2
    assert result.outcome == "passed"


def test_developer_unsold_units_are_one_entry() -> None:
    owners = [(f"o{i}", 10000) for i in range(5)]
    roll = roll_of(("developer", 50000), *owners)
    assert (roll.total_area_centi, roll.total_headcount) == (100000, 6)
    ballots = {"developer": "agree", "o0": "agree", "o1": "agree", "o2": "agree"}
    assert tally(roll, ballots, CIVIL_CODE_MAJOR).outcome == "passed"
    alone = {"developer": "agree"} | {name: "oppose" for name, _ in owners}
    result = tally(roll, alone, CIVIL_CODE_ORDINARY)
    assert result.outcome == "failed_approval"
    assert not by_name(result.thresholds)["approval_headcount"].met


def test_abstentions_count_for_participation_not_approval() -> None:
    result = tally(even_roll(3), {"u0": "agree", "u1": "abstain"}, CIVIL_CODE_ORDINARY)
    t = by_name(result.thresholds)
    assert t["participation_area"].met and t["participation_headcount"].met
    assert result.outcome == "failed_approval"  # 1 of 2 participating is not > 1/2
    assert result.counts.abstain_headcount == 1


def test_consensus() -> None:
    roll = even_roll(3)
    assert tally(roll, {"u0": "agree", "u1": "oppose"}, CONSENSUS).outcome == "failed_approval"
    assert tally(roll, {"u0": "agree", "u1": "abstain"}, CONSENSUS).outcome == "passed"
    assert tally(roll, {}, CONSENSUS).outcome == "failed_quorum"


def test_simple_majority_with_quorum() -> None:
    roll, half = even_roll(6), Fraction(1, 2)
    two = {"u0": "agree", "u1": "agree"}
    assert tally(roll, two, SIMPLE_MAJORITY, half).outcome == "failed_quorum"
    assert tally(roll, two | {"u2": "oppose"}, SIMPLE_MAJORITY, half).outcome == "passed"
    tied = two | {"u2": "oppose", "u3": "oppose"}
    assert tally(roll, tied, SIMPLE_MAJORITY, half).outcome == "failed_approval"
    assert tally(roll, {"u0": "agree"}, SIMPLE_MAJORITY).outcome == "passed"
    assert tally(roll, {}, SIMPLE_MAJORITY).outcome == "failed_approval"


@pytest.mark.parametrize(
    ("ballots", "rule", "quorum", "match"),
    [
        ({"nobody": "agree"}, CIVIL_CODE_MAJOR, None, "不在冻结名册上"),
        ({"u0": "yes"}, CIVIL_CODE_MAJOR, None, "无效的表决意见"),
        ({}, "plurality", None, "未知的表决规则"),
        ({}, CIVIL_CODE_ORDINARY, Fraction(1, 2), "只有简单多数"),
        ({}, SIMPLE_MAJORITY, Fraction(3, 2), "0 到 1"),
        ({}, SIMPLE_MAJORITY, 0.5, "精确分数"),
    ],
)
def test_invalid_input_is_rejected(
    ballots: dict[str, str], rule: str, quorum: Fraction | None, match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        tally(even_roll(2), ballots, rule, quorum)


def test_roll_is_checked() -> None:
    with pytest.raises(ValueError, match="不一致"):
        Roll((RollEntry("a", 100),), total_area_centi=200, total_headcount=1)
    with pytest.raises(ValueError, match="重复"):
        Roll.of([RollEntry("a", 100), RollEntry("a", 100)])
    with pytest.raises(ValueError, match="不能为空"):
        Roll.of([])
    with pytest.raises(ValueError, match="人数"):
        RollEntry("a", 100, headcount=0)
    with pytest.raises(ValueError, match="面积"):
        RollEntry("a", -1)


def test_result_is_a_plain_json_dict() -> None:
    result = tally(even_roll(4), {"u0": "agree", "u1": "agree", "u2": "abstain"}, CIVIL_CODE_MAJOR)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["rule"] == "civil_code_major" and data["quorum"] is None
    assert data["outcome"] == "failed_approval"
    assert data["thresholds"][0] == {
        "name": "participation_area", "comparison": ">=", "ratio": "2/3",
        "base": 40000, "needed": 26667, "reached": 30000, "met": True,
    }
    assert data["counts"]["participating_headcount"] == 3
    assert data["counts"]["abstain_area_centi"] == 10000
    assert data["counts"]["ballots"] == 3


def test_turnout() -> None:
    roll = roll_of(("a", 10000), ("b", 20000, 1), ("c", 30000))
    live = turnout(roll, {"a": "agree", "c": "oppose"})
    assert live.to_dict() == {
        "ballots": 2, "participating_area_centi": 40000, "participating_headcount": 2,
        "total_area_centi": 60000, "total_headcount": 3,
    }
    assert turnout(roll, ["b"]).participating_area_centi == 20000
    with pytest.raises(ValueError, match="重复"):
        turnout(roll, ["a", "a"])
    with pytest.raises(ValueError, match="不在冻结名册上"):
        turnout(roll, ["z"])


def test_decide_on_counts_without_entry_ids() -> None:
    counts = Counts(total_area_centi=300, total_headcount=3, agree_area_centi=200,
                    agree_headcount=2)
    assert decide(counts, CIVIL_CODE_MAJOR).outcome == "passed"
    with pytest.raises(ValueError, match="不能超过"):
        Counts(total_area_centi=100, total_headcount=1, agree_area_centi=101, agree_headcount=1)


# --- property: the tally equals an independent brute-force recount ---------------------------

def recount(roll: Roll, ballots: dict[str, str], rule: str, quorum: Fraction | None) -> str:
    """Written from the statute, with Fractions and divisions, not the module's cross-products."""
    voters = [e for e in roll.entries if e.entry_id in ballots]
    area = sum(e.area_centi for e in voters)
    heads = sum(e.headcount for e in voters)
    yes = [e for e in voters if ballots[e.entry_id] == "agree"]
    no_heads = sum(e.headcount for e in voters if ballots[e.entry_id] == "oppose")
    yes_area, yes_heads = sum(e.area_centi for e in yes), sum(e.headcount for e in yes)
    if rule in (CIVIL_CODE_MAJOR, CIVIL_CODE_ORDINARY):
        if not (Fraction(area, roll.total_area_centi) >= Fraction(2, 3)
                and Fraction(heads, roll.total_headcount) >= Fraction(2, 3)):
            return "failed_quorum"
        area_share = Fraction(yes_area, area) if area else Fraction(0)
        if rule == CIVIL_CODE_MAJOR:
            ok = area_share >= Fraction(3, 4) and Fraction(yes_heads, heads) >= Fraction(3, 4)
        else:
            ok = area_share > Fraction(1, 2) and Fraction(yes_heads, heads) > Fraction(1, 2)
        return "passed" if ok else "failed_approval"
    if rule == SIMPLE_MAJORITY:
        if quorum is not None and Fraction(heads, roll.total_headcount) < quorum:
            return "failed_quorum"
        ok = heads > 0 and Fraction(yes_heads, heads) > Fraction(1, 2)
        return "passed" if ok else "failed_approval"
    if heads == 0:
        return "failed_quorum"
    return "passed" if no_heads == 0 else "failed_approval"


entries_st = st.lists(
    st.tuples(st.integers(1, 50000), st.integers(1, 3)), min_size=1, max_size=12
)
choice_st = st.sampled_from([None, "agree", "oppose", "abstain"])


@st.composite
def votes(draw: st.DrawFn) -> tuple[Roll, dict[str, str], str, Fraction | None]:
    roll = Roll.of(RollEntry(f"e{i}", a, h) for i, (a, h) in enumerate(draw(entries_st)))
    picks = draw(st.lists(choice_st, min_size=len(roll.entries), max_size=len(roll.entries)))
    ballots = {e.entry_id: c for e, c in zip(roll.entries, picks, strict=True) if c}
    rule = draw(st.sampled_from(RULES))
    quorum = None
    if rule == SIMPLE_MAJORITY:
        quorum = draw(st.none() | st.fractions(0, 1, max_denominator=12))
    return roll, ballots, rule, quorum


@given(votes())
def test_tally_equals_brute_force_recount(vote: tuple[Roll, dict[str, str], str, Fraction | None]
                                          ) -> None:
    roll, ballots, rule, quorum = vote
    result = tally(roll, ballots, rule, quorum)
    assert result.outcome == recount(roll, ballots, rule, quorum)
    voters = [e for e in roll.entries if e.entry_id in ballots]
    assert result.counts.participating_area_centi == sum(e.area_centi for e in voters)
    assert result.counts.participating_headcount == sum(e.headcount for e in voters)
    assert result.counts.ballots == len(ballots)
    for t in result.thresholds:
        # `needed` is the least integer that meets the threshold.
        assert t.met == (t.reached >= t.needed)
        assert check(t.name, t.comparison, t.ratio, t.needed, t.base).met
        assert t.needed == 0 or not check(t.name, t.comparison, t.ratio, t.needed - 1, t.base).met

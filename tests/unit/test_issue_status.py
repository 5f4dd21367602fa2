"""The issue status machine and the pure rules beside it."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from services.issues import rules

NOW = dt.datetime(2026, 7, 1, 12, tzinfo=dt.UTC)


def test_happy_path_is_allowed() -> None:
    for current, target in itertools.pairwise(["submitted", "accepted", "in_progress", "resolved"]):
        rules.check_transition(current, target)
    rules.check_transition("accepted", "resolved")  # a quick fix may skip in_progress


@pytest.mark.parametrize("current", sorted(rules.STATUSES))
@pytest.mark.parametrize("target", sorted(rules.STATUSES))
def test_every_pair_follows_the_table(current: str, target: str) -> None:
    allowed = target in rules.TRANSITIONS[current]
    if allowed:
        rules.check_transition(current, target)
    else:
        with pytest.raises(rules.IllegalTransition):
            rules.check_transition(current, target)


def test_closed_statuses_are_terminal_and_nothing_returns_to_submitted() -> None:
    for status in rules.CLOSED:
        assert rules.TRANSITIONS[status] == frozenset()
    assert all("submitted" not in targets for targets in rules.TRANSITIONS.values())
    with pytest.raises(rules.IllegalTransition, match="不予受理"):
        rules.check_transition("rejected", "resolved")
    with pytest.raises(rules.IllegalTransition):
        rules.check_transition("submitted", "unknown")


def test_reopen_only_resolved_within_the_window() -> None:
    resolved_at = NOW - dt.timedelta(hours=71)
    rules.check_reopen("resolved", resolved_at, NOW, 72)
    with pytest.raises(rules.IllegalTransition, match="72"):
        rules.check_reopen("resolved", NOW - dt.timedelta(hours=73), NOW, 72)
    for status in rules.STATUSES - {"resolved"}:
        with pytest.raises(rules.IllegalTransition):
            rules.check_reopen(status, resolved_at, NOW, 72)


def test_open311_status_and_bounded_metric_labels() -> None:
    assert {rules.open311_status(s) for s in rules.OPEN} == {"open"}
    assert {rules.open311_status(s) for s in rules.CLOSED} == {"closed"}
    assert rules.metric_category("lift") == "lift"
    assert rules.metric_category("my_own_category_7") == "custom"


def test_defaults_route_to_the_right_party_with_sane_targets() -> None:
    parties = {code: party for code, _, party, *_ in rules.DEFAULT_CATEGORIES}
    assert parties["repair"] == "property"
    assert parties["common_funds"] == parties["common_parts"] == "owners_committee"
    assert parties["neighbour"] == parties["governance"] == "community"
    assert parties["cross_compound"] == "street_office"
    for _, _, party, respond, resolve, _ in rules.DEFAULT_CATEGORIES:
        assert party in rules.PARTIES and 1 <= respond <= resolve


def test_similarity_of_chinese_titles() -> None:
    assert rules.similarity("电梯坏了", "3号楼电梯坏了好几天") > 0.3
    assert rules.similarity("电梯坏了", "绿化带杂草太多") == 0.0
    assert rules.similarity("", "任何") == 0.0
    assert rules.similarity("水泵噪音", "水泵噪音") == 1.0

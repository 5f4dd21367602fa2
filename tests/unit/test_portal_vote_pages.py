"""What the vote and proposal pages compute: the rule in words, the bars, what changed."""

from __future__ import annotations

from services.portal.vote_pages import changes, quorum_marks, rule_text, thresholds, turnout_bars


def test_changes_between_versions_are_runs_of_kept_added_and_removed_text() -> None:
    assert changes("按户平均分摊。", "按用水量分摊。") == [
        ("same", "按"), ("removed", "户平均"), ("added", "用水量"), ("same", "分摊。")]
    assert changes("同样", "同样") == [("same", "同样")]


def test_the_rule_is_said_in_plain_chinese_with_abstention_explained() -> None:
    major = rule_text({"rule": "civil_code_major", "quorum": None})
    assert "四分之三" in major and "三分之二" in major and "弃权算作参与表决, 但不算同意" in major
    ordinary = rule_text({"rule": "civil_code_ordinary", "quorum": None})
    assert "超过参与表决面积的一半" in ordinary
    assert "1/3" in rule_text({"rule": "simple_majority", "quorum": "1/3"})


def test_bars_are_percentages_with_the_participation_threshold_marked() -> None:
    vote = {"rule": "civil_code_major", "quorum": None}
    bars = turnout_bars({"status": "open", "ballots": 2, "participating_area_centi": 15_000,
                         "total_area_centi": 60_000, "participating_headcount": 2,
                         "total_headcount": 3}, vote)
    assert bars["area"]["pct"] == 25.0 and bars["headcount"]["pct"] == 66.7
    assert bars["area"]["text"] == "150.00 / 600.00 m² (25.0%)"
    assert round(bars["area"]["mark"], 2) == 66.67
    assert quorum_marks({"rule": "consensus", "quorum": None}) == {}
    empty = turnout_bars({"status": "open", "ballots": 0, "participating_area_centi": 0,
                          "total_area_centi": 0, "participating_headcount": 0,
                          "total_headcount": 0}, vote)
    assert empty["area"]["pct"] == 0.0  # an empty roll divides nothing by zero


def test_each_threshold_reads_as_words_and_exact_amounts() -> None:
    [row] = thresholds({"result": {"thresholds": [{
        "name": "approval_area", "comparison": ">=", "ratio": "3/4", "base": 52_000,
        "needed": 39_000, "reached": 44_000, "met": True}]}})
    assert row["label"] == "同意的专有部分面积"
    assert row["rule"] == "不少于 3/4 × 520.00 m²"
    assert (row["needed_text"], row["reached_text"]) == ("390.00 m²", "440.00 m²")

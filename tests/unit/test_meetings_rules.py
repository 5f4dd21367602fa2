"""Pure rules of the meetings service: lawful vote rules, readings CSV, iCalendar text."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linli.problems import Problem
from services.meetings.costs.readings import parse_csv
from services.meetings.councils.calendar import _fold, icalendar
from services.meetings.votes.service import _quorum, lawful_rule

UNITS = {("1号楼", "401"): uuid.uuid4(), ("1号楼", "402"): uuid.uuid4()}


@pytest.mark.parametrize(("matter", "rule"), [
    ("art278_6", "civil_code_major"), ("art278_7", "civil_code_major"),
    ("art278_8", "civil_code_major"), ("art278_1", "civil_code_ordinary"),
    ("art278_5", "civil_code_ordinary"), ("art278_9", "civil_code_ordinary"),
    ("community", "simple_majority"),
])
def test_default_rule_follows_the_matter(matter: str, rule: str) -> None:
    assert lawful_rule(matter, None) == rule


def test_statutory_matters_cannot_take_another_rule() -> None:
    with pytest.raises(Problem) as raised:
        lawful_rule("art278_7", "civil_code_ordinary")
    assert raised.value.status == 422
    assert lawful_rule("art278_7", "civil_code_major") == "civil_code_major"
    assert lawful_rule("community", "consensus") == "consensus"


def test_quorum_is_an_exact_fraction_for_simple_majority_only() -> None:
    assert _quorum("2/3", "simple_majority") == Fraction(2, 3)
    assert _quorum(None, "civil_code_major") is None
    for text, rule in (("3/2", "simple_majority"), ("1/0", "simple_majority"),
                       ("1/2", "civil_code_ordinary"), ("1/2", "consensus")):
        with pytest.raises(Problem):
            _quorum(text, rule)


def test_readings_csv_reports_every_bad_line_and_keeps_exact_usage() -> None:
    good = "building,number,period,usage\n1号楼,401,2026-07,12.125\n\n1号楼,402,2026-07,0\n"
    rows = parse_csv(good, UNITS)
    assert rows == [(UNITS[("1号楼", "401")], "2026-07", Decimal("12.125")),
                    (UNITS[("1号楼", "402")], "2026-07", Decimal("0"))]
    bad = ("building,number,period,usage\n1号楼,401,2026-07,1\n1号楼,401,2026-07,2\n"
           "1号楼,999,2026-07,1\n1号楼,402,2026-7,1\n1号楼,402,2026-07,1e3\n1号楼,402\n")
    with pytest.raises(Problem) as raised:
        parse_csv(bad, UNITS)
    assert [e["line"] for e in raised.value.errors or []] == [3, 4, 5, 6, 7]
    with pytest.raises(Problem):
        parse_csv("unit,usage\n", UNITS)


@given(st.text(alphabet=st.sampled_from("a中,;\\é🙂 "), max_size=300))
def test_ics_lines_fold_at_75_octets_and_unfold_to_the_original(text: str) -> None:
    folded = _fold("SUMMARY:" + text)
    assert all(len(line.encode()) <= 75 for line in folded)
    assert "".join([folded[0], *(line[1:] for line in folded[1:])]) == "SUMMARY:" + text


def test_icalendar_feed_escapes_text_and_uses_utc() -> None:
    start = dt.datetime(2026, 7, 3, 19, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    meeting = {"id": uuid.uuid4(), "kind": "hearing", "title": "收费标准, 听证; 第一次",
               "starts_at": start, "ends_at": start + dt.timedelta(hours=1), "place": None,
               "online_url": "https://meet.example.cn/123", "convener_name": "社区居委会",
               "status": "convened"}
    text = icalendar([meeting])
    assert text.endswith("END:VCALENDAR\r\n") and "\n" not in text.replace("\r\n", "")
    unfolded = text.replace("\r\n ", "")
    assert "DTSTART:20260703T113000Z\r\n" in unfolded
    assert "SUMMARY:听证会: 收费标准\\, 听证\\; 第一次\r\n" in unfolded
    assert "URL:https://meet.example.cn/123\r\n" in unfolded

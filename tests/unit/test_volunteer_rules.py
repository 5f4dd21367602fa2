"""Pure rules of volunteers: the order flow, weeks for capacity, care schedules, exact hours."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.volunteers import rules
from services.volunteers.ledger import _CrLf, csv_text
from services.volunteers.models import LedgerEntry

HAPPY = [("ordered", "accept"), ("accepted", "start"), ("in_service", "complete"),
         ("completed", "rate")]


def test_the_happy_path_ends_rated() -> None:
    status = "ordered"
    for expected, action in HAPPY:
        assert status == expected
        status = rules.next_status(status, action)
    assert status == "rated"


@pytest.mark.parametrize(("status", "action"), [
    ("ordered", "start"), ("ordered", "complete"), ("ordered", "rate"), ("ordered", "decline"),
    ("accepted", "accept"), ("accepted", "assign"), ("accepted", "complete"),
    ("in_service", "cancel"), ("in_service", "decline"), ("completed", "cancel"),
    ("rated", "rate"), ("cancelled", "accept"), ("cancelled", "cancel"),
])
def test_illegal_moves_are_refused(status: str, action: str) -> None:
    with pytest.raises(rules.IllegalTransition, match="不能"):
        rules.next_status(status, action)


def test_decline_goes_back_to_ordered_and_cancel_only_before_service() -> None:
    assert rules.next_status("accepted", "decline") == "ordered"
    assert rules.next_status("ordered", "cancel") == "cancelled"
    assert rules.next_status("accepted", "cancel") == "cancelled"


@given(st.sampled_from(sorted(rules.STATUS_LABELS)), st.sampled_from(sorted(rules.ACTIONS)))
def test_every_move_leads_to_a_known_status(status: str, action: str) -> None:
    try:
        target = rules.next_status(status, action)
    except rules.IllegalTransition:
        return
    assert target in rules.STATUS_LABELS and target != status


def test_terminal_statuses_have_no_moves() -> None:
    for status in ("rated", "cancelled"):
        assert not any(status in sources for sources, _ in rules.ACTIONS.values())


def test_weeks_start_on_monday_in_local_time() -> None:
    # Sunday 23:30 in Shanghai is Sunday 15:30 UTC: still the week that began on Monday 23rd
    sunday_night = dt.datetime(2026, 11, 29, 15, 30, tzinfo=dt.UTC)
    assert rules.week_start(sunday_night) == dt.date(2026, 11, 23)
    # Sunday 16:30 UTC is already Monday 00:30 in Shanghai
    assert rules.week_start(sunday_night + dt.timedelta(hours=1)) == dt.date(2026, 11, 30)


@given(st.integers(min_value=1, max_value=500), st.integers(min_value=1, max_value=90))
def test_care_visits_never_drift(seq: int, interval: int) -> None:
    first = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
    due = rules.visit_due(first, interval, seq)
    assert due - first == dt.timedelta(days=interval * (seq - 1))
    assert rules.visit_due(first, interval, seq + 1) - due == dt.timedelta(days=interval)


def test_hours_are_exact_to_the_hundredth() -> None:
    assert [rules.hours(m) for m in (0, 1, 30, 45, 61, 90, 136, 6000)] == [
        "0.00", "0.02", "0.50", "0.75", "1.02", "1.50", "2.27", "100.00"]


@given(st.lists(st.integers(min_value=1, max_value=1440), max_size=50))
def test_hours_of_a_total_match_the_minutes(minutes: list[int]) -> None:
    total = sum(minutes)
    assert abs(float(rules.hours(total)) - total / 60) <= 0.005 + 1e-9


def test_metric_labels_are_bounded() -> None:
    assert rules.metric_skill("elder_visit") == "elder_visit"
    assert rules.metric_skill("yoga_for_kids") == "other"


def test_csv_has_a_bom_a_chinese_header_and_local_dates() -> None:
    import uuid

    entry = LedgerEntry(id=1, volunteer_id=uuid.uuid4(), volunteer_name="李师傅", source="order",
                        source_id=uuid.uuid4(), skill="appliance_repair", title="修电视",
                        person_id="p1", minutes=90, hours="1.50", rating=5,
                        served_at=dt.datetime(2026, 11, 29, 16, 0, tzinfo=dt.UTC))
    text = csv_text([entry], {"appliance_repair": "家电维修"})
    lines = text.lstrip("\ufeff").splitlines()
    assert text.startswith("\ufeff") and lines[0].startswith("日期,服务,技能")
    assert lines[1].startswith("2026-11-30 00:00,修电视,家电维修,李师傅,p1,90,1.50,5,点单,")


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://x.example\",\"点我\")", "+1+2", "-2+3",
                                  "@SUM(A1)", "\t=1"])
def test_csv_cells_people_typed_never_run_as_spreadsheet_formulas(text: str) -> None:
    import csv
    import io
    import uuid

    entry = LedgerEntry(id=1, volunteer_id=uuid.uuid4(), volunteer_name=text, source="order",
                        source_id=uuid.uuid4(), skill="x", title=text, person_id="p1",
                        minutes=30, hours="0.50", rating=None,
                        served_at=dt.datetime(2026, 11, 29, 16, 0, tzinfo=dt.UTC))
    [_, row] = list(csv.reader(io.StringIO(csv_text([entry], {"x": text}).lstrip("\ufeff"))))
    assert row[1] == row[2] == row[3] == "'" + text
    assert row[5] == "30"  # numbers stay numbers


def test_csv_rows_from_postgresql_end_in_crlf_wherever_the_pieces_break() -> None:
    """COPY ends rows with LF; the file ends them with CRLF and keeps an LF inside a quoted
    cell, even when a piece ends inside that cell."""
    rows = b'a,"x\ny",1\n"""q""\n",,2\n"\n",b\n'
    want = b'a,"x\ny",1\r\n"""q""\n",,2\r\n"\n",b\r\n'
    for cut in range(len(rows) + 1):
        crlf = _CrLf()
        assert crlf(rows[:cut]) + crlf(rows[cut:]) == want, cut

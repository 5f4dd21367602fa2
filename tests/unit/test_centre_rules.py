"""Pure rules of the centre: opening hours, series expansion with exceptions, due dates,
renewals and the waiting-list order."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from services.centre import rules

UTC8 = dt.timezone(dt.timedelta(hours=8))
COURT = rules.parse_hours([{"weekday": d, "opens": "06:00", "closes": "22:00"}
                           for d in range(1, 8)])
WEEKDAYS_ONLY = rules.parse_hours([{"weekday": d, "opens": "08:30", "closes": "17:30"}
                                   for d in range(1, 6)])


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A time in the week of Monday 2026-06-01 (local)."""
    return dt.datetime(2026, 6, day, hour, minute, tzinfo=UTC8)


def test_a_booking_lies_within_one_opening_interval_of_its_local_day() -> None:
    assert rules.within_hours(COURT, at(1, 20), at(1, 22))
    assert not rules.within_hours(COURT, at(1, 21), at(1, 22, 30))  # the lights go off at 22:00
    assert not rules.within_hours(COURT, at(1, 5, 30), at(1, 7))
    assert not rules.within_hours(COURT, at(1, 21), at(2, 7))  # never past midnight
    assert rules.within_hours(WEEKDAYS_ONLY, at(5, 9), at(5, 10))
    assert not rules.within_hours(WEEKDAYS_ONLY, at(6, 9), at(6, 10))  # Saturday closed


def test_hours_are_read_in_local_time_whatever_zone_the_caller_used() -> None:
    start = at(1, 20).astimezone(dt.UTC)  # 12:00 UTC is 20:00 in Quanzhou
    assert rules.within_hours(COURT, start, start + dt.timedelta(hours=1))


def test_hours_problems_and_their_description() -> None:
    assert rules.hours_problem([]) == "请至少给出一个开放时段"
    bad = rules.parse_hours([{"weekday": 1, "opens": "22:00", "closes": "06:00"}])
    assert rules.hours_problem(bad) is not None
    assert rules.hours_problem(COURT) is None
    split = rules.parse_hours([{"weekday": 2, "opens": "14:00", "closes": "18:00"},
                               {"weekday": 2, "opens": "08:00", "closes": "12:00"}])
    assert rules.describe_hours(split) == "周二 08:00–12:00；周二 14:00–18:00"
    assert rules.within_hours(split, at(2, 9), at(2, 11))
    assert not rules.within_hours(split, at(2, 11), at(2, 15))  # across the lunch break


def test_a_series_expands_to_its_weekdays_minus_the_exceptions() -> None:
    slots = rules.expand_series(weekdays=[2, 4], start_time=dt.time(7), end_time=dt.time(8),
                                first_day=dt.date(2026, 6, 1), last_day=dt.date(2026, 6, 30),
                                exceptions=[dt.date(2026, 6, 16)])
    days = [s.date() for s, _ in slots]
    assert days == [dt.date(2026, 6, d) for d in (2, 4, 9, 11, 18, 23, 25, 30)]
    assert all(s.hour == 7 and e.hour == 8 and s.utcoffset() == dt.timedelta(hours=8)
               for s, e in slots)


@given(st.sets(st.integers(1, 7), min_size=1), st.integers(0, 120),
       st.sets(st.integers(0, 120), max_size=20))
def test_series_occurrences_fall_on_the_days_asked_and_skip_each_exception(
        weekdays: set[int], length: int, skipped: set[int]) -> None:
    first = dt.date(2026, 3, 2)
    exceptions = {first + dt.timedelta(days=n) for n in skipped}
    slots = rules.expand_series(weekdays=weekdays, start_time=dt.time(19),
                                end_time=dt.time(20, 30), first_day=first,
                                last_day=first + dt.timedelta(days=length), exceptions=exceptions)
    days = [s.date() for s, _ in slots]
    assert days == sorted(set(days))
    expected = [first + dt.timedelta(days=n) for n in range(length + 1)
                if (first + dt.timedelta(days=n)).isoweekday() in weekdays
                and first + dt.timedelta(days=n) not in exceptions]
    assert days == expected


def test_due_dates_and_renewals_count_local_days() -> None:
    # 16:30 UTC on 1 June is already 00:30 on 2 June in Quanzhou: 21 days from the 2nd
    assert rules.due_on(dt.datetime(2026, 6, 1, 16, 30, tzinfo=dt.UTC)) == dt.date(2026, 6, 23)
    assert rules.due_on(dt.datetime(2026, 6, 1, 15, 30, tzinfo=dt.UTC)) == dt.date(2026, 6, 22)
    assert rules.renewed_due(dt.date(2026, 6, 22), today=dt.date(2026, 6, 10)) == \
        dt.date(2026, 7, 6)
    assert rules.renewed_due(dt.date(2026, 6, 22), today=dt.date(2026, 6, 25)) == \
        dt.date(2026, 7, 9)  # renewing late extends from today


def test_places_then_waiting_in_arrival_order() -> None:
    assert [rules.place_for(n, 2) for n in range(4)] == ["confirmed", "confirmed", "waiting",
                                                         "waiting"]
    assert rules.waiting_order([(7, "c"), (3, "a"), (5, "b")]) == ["a", "b", "c"]


def test_venue_use_counts_open_minutes_and_rounds_shares_half_up() -> None:
    assert rules.weekly_open_minutes(COURT) == 7 * 16 * 60
    assert rules.weekly_open_minutes(WEEKDAYS_ONLY) == 5 * 9 * 60
    assert rules.share(1, 8) == "12.5" and rules.share(1, 3) == "33.3"
    assert rules.share(2, 3) == "66.7" and rules.share(0, 0) == "0.0"
    assert rules.week_of(dt.datetime(2026, 6, 7, 17, tzinfo=dt.UTC)) == dt.date(2026, 6, 8)


def test_people_promoted_near_the_start_confirm_within_two_hours_never_past_it() -> None:
    starts = at(10, 9)
    assert rules.confirm_by(starts - dt.timedelta(hours=30), starts) is None
    assert rules.confirm_by(starts - dt.timedelta(hours=20), starts) == \
        starts - dt.timedelta(hours=18)
    assert rules.confirm_by(starts - dt.timedelta(hours=1), starts) == starts

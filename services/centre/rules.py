"""Pure rules of the neighbourhood centre: opening hours, series expansion, due dates, the
waiting-list order. No I/O, so they are unit-tested directly (tests/unit/test_centre_rules.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final
from zoneinfo import ZoneInfo

# Opening hours, series and due dates are read in the compound's local time.
LOCAL: Final = ZoneInfo("Asia/Shanghai")

# Who runs the centre: they approve bookings, manage venues, the library and activities.
STAFF: Final = ("community", "party_branch", "owners_committee", "property", "street_office")

AUDIENCES: Final = {"elderly": "老年人", "families": "亲子家庭", "young_workers": "青年上班族",
                    "everyone": "全体居民"}
VENUE_KINDS: Final = {"room": "活动室", "court": "球场", "library": "图书角", "outdoor": "户外场地"}
BOOKERS: Final = {"resident": "居民", "group": "兴趣小组", "organisation": "1+3+N 组织"}
LOAN_DAYS: Final = 21
RENEW_DAYS: Final = 14
DUE_REMINDER_DAYS: Final = 2  # readers are reminded this many days before a loan falls due
MAX_SERIES_OCCURRENCES: Final = 200


@dataclass(frozen=True)
class Opening:
    """One opening interval of a weekday (1 = Monday … 7 = Sunday), local wall time."""

    weekday: int
    opens: dt.time
    closes: dt.time


def parse_hours(hours: Iterable[dict[str, object]]) -> list[Opening]:
    """The stored JSON form ({"weekday", "opens": "HH:MM", "closes"}) as Openings."""
    return [Opening(int(str(h["weekday"])), dt.time.fromisoformat(str(h["opens"])),
                    dt.time.fromisoformat(str(h["closes"]))) for h in hours]


def hours_problem(hours: Sequence[Opening]) -> str | None:
    """Why these opening hours are not usable, or None."""
    if not hours:
        return "请至少给出一个开放时段"
    for h in hours:
        if not 1 <= h.weekday <= 7:
            return "weekday 须为 1 (周一) 到 7 (周日)"
        if h.closes <= h.opens:
            return f"周{h.weekday} 的关门时间须晚于开门时间"
    return None


def within_hours(hours: Sequence[Opening], starts_at: dt.datetime, ends_at: dt.datetime) -> bool:
    """True when [starts_at, ends_at) lies inside one opening interval of its local day."""
    start, end = starts_at.astimezone(LOCAL), ends_at.astimezone(LOCAL)
    if start.date() != end.date():
        return False  # bookings never run past midnight
    return any(h.weekday == start.isoweekday() and h.opens <= start.time()
               and end.time() <= h.closes for h in hours)


def describe_hours(hours: Sequence[Opening]) -> str:
    names = "一二三四五六日"
    return "；".join(f"周{names[h.weekday - 1]} {h.opens:%H:%M}–{h.closes:%H:%M}"
                    for h in sorted(hours, key=lambda h: (h.weekday, h.opens)))


def expand_series(*, weekdays: Iterable[int], start_time: dt.time, end_time: dt.time,
                  first_day: dt.date, last_day: dt.date,
                  exceptions: Iterable[dt.date] = ()) -> list[tuple[dt.datetime, dt.datetime]]:
    """Every occurrence of a weekly series (local times), skipping the exception days."""
    days = set(weekdays)
    skip = set(exceptions)
    out = []
    day = first_day
    while day <= last_day:
        if day.isoweekday() in days and day not in skip:
            out.append((dt.datetime.combine(day, start_time, LOCAL),
                        dt.datetime.combine(day, end_time, LOCAL)))
        day += dt.timedelta(days=1)
    return out


def due_on(lent_at: dt.datetime, days: int = LOAN_DAYS) -> dt.date:
    """The local day a loan is due back."""
    return lent_at.astimezone(LOCAL).date() + dt.timedelta(days=days)


def renewed_due(due: dt.date, today: dt.date, days: int = RENEW_DAYS) -> dt.date:
    """A renewal extends from the later of the due day and today."""
    return max(due, today) + dt.timedelta(days=days)


def place_for(confirmed: int, capacity: int) -> str:
    """A new sign-up is confirmed while places remain, otherwise it waits."""
    return "confirmed" if confirmed < capacity else "waiting"


def waiting_order(entries: Iterable[tuple[int, str]]) -> list[str]:
    """People waiting, first come first: (arrival seq, person) sorted by arrival."""
    return [person for _, person in sorted(entries)]


def weekly_open_minutes(hours: Sequence[Opening]) -> int:
    """Minutes a venue is open in a week (closures aside): the denominator of venue use."""
    return sum((h.closes.hour * 60 + h.closes.minute) - (h.opens.hour * 60 + h.opens.minute)
               for h in hours)


def week_of(moment: dt.datetime) -> dt.date:
    """Monday of the local week `moment` falls in."""
    day = moment.astimezone(LOCAL).date()
    return day - dt.timedelta(days=day.weekday())


def share(part: int, whole: int) -> str:
    """part/whole as a percentage with one decimal, rounded half up ('37.5'); '0.0' for none."""
    if whole <= 0:
        return "0.0"
    tenths = (part * 1000 * 2 + whole) // (whole * 2)
    return f"{tenths // 10}.{tenths % 10}"


# A person promoted within this time of the start may no longer be expecting to come: they are
# asked to confirm within CONFIRM_WINDOW (never past the start), or the place passes on.
PROMOTION_CUTOFF: Final = dt.timedelta(hours=24)
CONFIRM_WINDOW: Final = dt.timedelta(hours=2)


def confirm_by(promoted_at: dt.datetime, starts_at: dt.datetime) -> dt.datetime | None:
    """By when a person promoted at `promoted_at` must confirm; None before the cut-off."""
    if promoted_at < starts_at - PROMOTION_CUTOFF:
        return None
    return min(promoted_at + CONFIRM_WINDOW, starts_at)

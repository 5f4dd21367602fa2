"""Pure delivery rules: quiet hours (China Standard Time) and retry backoff."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")  # China has one zone and no daylight saving
MAX_BACKOFF_SECONDS = 3600.0


def quiet_until(now: datetime, start: time | None, end: time | None) -> datetime | None:
    """When `now` falls in the quiet hours [start, end) (local time, may cross midnight),
    the moment they end (UTC); otherwise None."""
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(CST)
    clock = local.time().replace(tzinfo=None)
    overnight = start > end
    inside = (clock >= start or clock < end) if overnight else (start <= clock < end)
    if not inside:
        return None
    ends = datetime.combine(local.date(), end, tzinfo=CST)
    if ends <= local:
        ends += timedelta(days=1)
    return ends.astimezone(UTC)


def backoff(attempts: int, base: float) -> float:
    """Seconds before retry number `attempts` + 1: base, 2·base, 4·base … capped at an hour."""
    return min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)


# vote deadlines go through quiet hours (and reach SMS when a person left its kinds empty)
CRITICAL_KINDS = frozenset({"proposal_reminder", "vote_opened"})
SMS_LIMIT = 70  # characters in one Chinese SMS segment


def held_until(now: datetime, kind: str, start: time | None, end: time | None) -> datetime | None:
    """Quiet hours hold non-critical kinds until they end; critical kinds go at once."""
    return None if kind in CRITICAL_KINDS else quiet_until(now, start, end)


def sms_text(title: str, brand: str = "【邻里】") -> str:
    """One segment: the brand and the title, cut with an ellipsis to 70 characters."""
    text = f"{brand}{title}"
    return text if len(text) <= SMS_LIMIT else text[:SMS_LIMIT - 1] + "…"

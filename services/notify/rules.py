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

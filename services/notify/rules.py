"""Pure delivery rules: quiet hours (China Standard Time) and the retry schedule."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")  # China has one zone and no daylight saving
# Seconds before each retry of a delivery the receiver did not take: the Standard Webhooks
# (Svix) pattern of quick retries for a blip, then hours apart for an outage, 8 attempts over
# about 23.6 hours; then it is marked failed in the delivery log. Kept in the deliveries table
# (next_attempt_at), so a restart or another replica carries on where this one stopped.
RETRY_SCHEDULE: tuple[float, ...] = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 28800.0, 28800.0)


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


def retry_delay(attempts: int, schedule: tuple[float, ...] = RETRY_SCHEDULE) -> float:
    """Seconds to wait after attempt number `attempts` failed (the last step repeats when
    more attempts are allowed than the schedule names)."""
    return schedule[min(max(attempts, 1), len(schedule)) - 1]


# vote deadlines go through quiet hours (and reach SMS when a person left its kinds empty)
CRITICAL_KINDS = frozenset({"proposal_reminder", "vote_opened"})
SMS_LIMIT = 70  # characters in one Chinese SMS segment
SMS_MIN_TITLE = 8  # what an SMS keeps of its title at least, before it gives room to a link


def held_until(now: datetime, kind: str, start: time | None, end: time | None) -> datetime | None:
    """Quiet hours hold non-critical kinds until they end; critical kinds go at once."""
    return None if kind in CRITICAL_KINDS else quiet_until(now, start, end)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def sms_text(title: str, link: str | None = None, brand: str = "【邻里】") -> str:
    """One segment: the brand and the title, cut with an ellipsis, then the portal link when
    it leaves the title at least SMS_MIN_TITLE characters (a long link is left out)."""
    if link and len(brand) + SMS_MIN_TITLE + 1 + len(link) <= SMS_LIMIT:
        return f"{_cut(brand + title, SMS_LIMIT - len(link) - 1)} {link}"
    return _cut(brand + title, SMS_LIMIT)

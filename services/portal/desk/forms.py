"""Reading the desk's form fields into what the services take: Beijing time to ISO instants,
yuan to fen, one item a line."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_YUAN_DIGITS = 15  # 10^16 yuan and more are no amount (Decimal.adjusted: its exponent)


def instant(text: Any) -> str | None:
    """A datetime-local field (Beijing time) as an ISO instant; None when it is not one."""
    try:
        moment = dt.datetime.fromisoformat(str(text or "").strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    return moment.isoformat()


def seconds_until(text: Any) -> float:
    """Seconds from now to a datetime-local field; -1 (refused by the service) when unreadable."""
    at = instant(text)
    if at is None:
        return -1.0
    return round((dt.datetime.fromisoformat(at) - dt.datetime.now(dt.UTC)).total_seconds(), 1)


def fen(text: Any) -> int | None:
    """An amount in yuan (元, two decimals) as fen; None when blank or unreadable: also "NaN",
    "Infinity" and a number past any budget (1e999999), which Decimal reads but no int or
    service holds (the services refuse more than 10^13 fen: room is left for their words)."""
    raw = str(text or "").strip().replace(",", "")
    if not raw:
        return None
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount.adjusted() > MAX_YUAN_DIGITS:
        return None
    return int((amount * 100).to_integral_value())


def lines(text: Any) -> list[str]:
    return [line.strip() for line in str(text or "").splitlines() if line.strip()]


def number(text: Any) -> float:
    """A number field; -1 (which every service refuses with its own words) when unreadable,
    "NaN" and "inf" included (no int holds them, and JSON has no such number)."""
    try:
        value = float(str(text or "").strip())
    except ValueError:
        return -1.0
    return value if math.isfinite(value) else -1.0


def whole(text: Any) -> int:
    """A whole-number field; -1 (which every service refuses with its own words) when it is
    not one."""
    raw = str(text or "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else -1

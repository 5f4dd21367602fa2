"""Small rules every service shares: the clock every record is stamped with, China's date
(the day roles start and end on), and the codes compounds give their own categories and skills."""

from __future__ import annotations

import datetime as dt
import re

from linli import problems

_CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


def now_utc() -> dt.datetime:
    """Now, timezone-aware in UTC (what the database stores; people read it in UTC+8)."""
    return dt.datetime.now(dt.UTC)


# China has one time zone and no daylight saving; the day a role starts or ends is China's
CHINA = dt.timezone(dt.timedelta(hours=8), "CST")


def china_today() -> dt.date:
    """Today's date in China, which the database's current_date (UTC) is not before 08:00."""
    return dt.datetime.now(CHINA).date()


def valid_code(code: str) -> bool:
    """A code is 2 to 40 lower-case letters, digits and underscores, starting with a letter."""
    return bool(_CODE.match(code))


def require_code(code: str, *, what: str, field: str = "code") -> str:
    """The code, or a 422 on `field` naming `what` (e.g. 类别代码)."""
    if not valid_code(code):
        raise problems.validation(f"{what}须为小写字母、数字和下划线", field=field)
    return code

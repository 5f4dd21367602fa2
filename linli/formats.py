"""Text formats the services accept, written once: ASCII digits only, anchored at the very end.

Python's `re` takes `\\d` for any Unicode digit (`８`, `٨`) and lets `$` match before a final
newline, so `"89.5\\n"` passed `^\\d{1,7}(\\.\\d{1,2})?$` and was stored as 89.05. These
patterns mean the same to Python (msgspec checks them) and to ECMA-262 (the OpenAPI document
states them): `[0-9]`, and `$(?!\\n)`, which is `\\Z` in both dialects.
"""

from __future__ import annotations

import re

END = r"$(?!\n)"
INT32_MAX = 2**31 - 1  # the largest value of a PostgreSQL int column


def exact(body: str) -> str:
    """A pattern the whole text must match, to its very last character."""
    return f"^(?:{body}){END}"


def fullmatch(body: str) -> re.Pattern[str]:
    """The same as a compiled pattern for parsers (use .fullmatch)."""
    return re.compile(body, re.ASCII)

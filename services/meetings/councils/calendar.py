"""The compound's meetings as an iCalendar feed (RFC 5545, text/calendar), for residents'
calendar apps."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from linli.db import Pool
from linli.values import now_utc
from services.meetings.councils import store
from services.meetings.councils.models import KIND_LABELS


async def feed(pool: Pool, *, compound_id: uuid.UUID) -> str:
    """Every meeting of the compound, cancelled ones marked so."""
    async with pool.acquire() as conn:
        rows = await store.list_meetings(conn, compound_id=compound_id)
    return icalendar(list(rows))


def _ics_text(value: str) -> str:
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\n", "\\n"))


def _ics_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> list[str]:
    """RFC 5545 §3.1: lines longer than 75 octets continue on the next line after a space."""
    parts, current = [], ""
    for char in line:
        if len((current + char).encode()) > 75:
            parts.append(current)
            current = " "
        current += char
    return [*parts, current]


def icalendar(meetings: list[Any]) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Linli//meetings//ZH", "CALSCALE:GREGORIAN",
             f"X-WR-CALNAME:{_ics_text('邻里议事会议')}"]
    stamp = _ics_time(now_utc())
    for m in meetings:
        lines += ["BEGIN:VEVENT", f"UID:{m['id']}@linli", f"DTSTAMP:{stamp}",
                  f"DTSTART:{_ics_time(m['starts_at'])}", f"DTEND:{_ics_time(m['ends_at'])}",
                  f"SUMMARY:{_ics_text(KIND_LABELS[m['kind']] + ': ' + m['title'])}",
                  f"LOCATION:{_ics_text(m['place'] or m['online_url'] or '')}",
                  f"DESCRIPTION:{_ics_text('召集: ' + m['convener_name'])}",
                  "STATUS:" + ("CANCELLED" if m["status"] == "cancelled" else "CONFIRMED")]
        if m["online_url"]:
            lines.append(f"URL:{m['online_url']}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(part + "\r\n" for line in lines for part in _fold(line))


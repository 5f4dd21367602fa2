"""Statistics of a compound's centre: venue use (hours booked of hours open) per venue and week,
participation per resident group and per interest group, loans per month."""

from __future__ import annotations

import datetime as dt
import uuid

from linli.db import Pool
from services.centre import rules, stats_store, store
from services.centre.models import (
    CentreStats,
    LoanMonth,
    Participation,
    StatsQuery,
    VenueWeek,
)
from services.centre.service import hours_of, now_utc


async def centre_stats(pool: Pool, *, compound_id: uuid.UUID, query: StatsQuery) -> CentreStats:
    now = now_utc()
    last = (query.last_week - dt.timedelta(days=query.last_week.weekday()) if query.last_week
            else rules.week_of(now))
    first_week = last - dt.timedelta(weeks=query.weeks - 1)
    since = dt.datetime.combine(first_week, dt.time(0), rules.LOCAL)
    until = since + dt.timedelta(weeks=query.weeks)
    year_ago = now - dt.timedelta(days=366)
    async with pool.acquire() as conn:
        venues = await store.list_venues(conn, compound_id=compound_id)
        booked = await stats_store.booked_minutes(conn, compound_id=compound_id, since=since,
                                                  until=until)
        audiences = await stats_store.participation_by_audience(conn, compound_id=compound_id,
                                                                since=since)
        groups = await stats_store.participation_by_group(conn, compound_id=compound_id,
                                                          since=since)
        loans = await stats_store.loans_by_month(conn, compound_id=compound_id, since=year_ago)
    minutes = {(r["venue_id"], r["week"]): int(r["minutes"]) for r in booked}
    use = []
    for venue in venues:
        open_minutes = rules.weekly_open_minutes(hours_of(venue))
        for n in range(query.weeks):
            week = first_week + dt.timedelta(weeks=n)
            used = minutes.get((venue["id"], week), 0)
            use.append(VenueWeek(venue_id=venue["id"], venue=venue["name"], week=week,
                                 hours_booked=round(used / 60, 2),
                                 hours_open=round(open_minutes / 60, 2),
                                 use_percent=rules.share(used, open_minutes)))
    return CentreStats(
        since=since, venue_use=use,
        by_audience=[Participation(key=r["key"], label=rules.AUDIENCES.get(r["key"], r["key"]),
                                   activities=r["activities"], signed_up=r["signed_up"],
                                   attended=r["attended"]) for r in audiences],
        by_group=[Participation(key=r["key"], label=r["key"], activities=r["activities"],
                                signed_up=r["signed_up"], attended=r["attended"],
                                members=r["members"]) for r in groups],
        loans_by_month=[LoanMonth(month=r["month"], loans=r["loans"], lost=r["lost"])
                        for r in loans])

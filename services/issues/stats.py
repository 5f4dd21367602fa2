"""Per-compound statistics of issues: counts, median times, satisfaction, most co-signed."""

from __future__ import annotations

import uuid

from linli.db import Pool
from linli.values import now_utc
from services.issues import store
from services.issues.models import CountBy, SimilarIssue, Stats


async def stats(pool: Pool, *, compound_id: uuid.UUID) -> Stats:
    async with pool.acquire() as conn:
        summary = await store.stats_summary(conn, compound_id=compound_id, now=now_utc())
        by_status = await store.stats_counts(conn, compound_id=compound_id, column="status")
        by_category = await store.stats_counts(conn, compound_id=compound_id, column="category")
        top = await store.top_cosigned(conn, compound_id=compound_id, limit=5)

    def hours(seconds: float | None) -> float | None:
        return None if seconds is None else round(seconds / 3600, 2)

    satisfaction = summary["satisfaction"]
    return Stats(
        compound_id=compound_id, total=summary["total"],
        by_status=[CountBy(key=r["key"], count=r["count"]) for r in by_status],
        by_category=[CountBy(key=r["key"], count=r["count"]) for r in by_category],
        median_first_response_hours=hours(summary["median_response"]),
        median_resolution_hours=hours(summary["median_resolution"]),
        overdue=summary["overdue"], escalated=summary["escalated"],
        satisfaction_average=None if satisfaction is None else round(satisfaction, 2),
        top_cosigned_open=[SimilarIssue(id=r["id"], title=r["title"], status=r["status"],
                                        cosign_count=r["cosign_count"], score=1.0) for r in top],
    )

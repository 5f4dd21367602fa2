"""The overdue sweep: an issue past its response or resolution target is published as overdue
once; every replica runs it and shares the work (FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from linli.app import CleanupContext, periodic
from linli.bus import emit
from linli.db import Connection, Pool, drain
from linli.values import now_utc
from services.issues import events, metrics, rules, store

SWEEP_INTERVAL_SECONDS = 60.0


async def sweep_overdue(pool: Pool, *, now: dt.datetime | None = None,
                        compound_id: uuid.UUID | None = None, batch: int = 100) -> int:
    """Publish `overdue` once per issue past a target; replicas share the work (SKIP LOCKED)."""
    now = now or now_utc()

    async def mark(conn: Connection, row: Any) -> None:
        await store.update_issue(conn, id=row["id"], fields={"overdue_at": now})
        await store.insert_history(conn, issue_id=row["id"], action="overdue",
                                   from_status=row["status"], to_status=row["status"],
                                   actor=None, note="超过处理时限")
        await emit(conn, events.ISSUE_OVERDUE, subject=str(row["id"]),
                   compound_id=str(row["compound_id"]),
                   data=events.IssueOverdue(
                       issue_id=row["id"], compound_id=row["compound_id"],
                       category=row["category"], status=row["status"],
                       responsible=row["responsible"], respond_by=row["respond_by"],
                       resolve_by=row["resolve_by"]))

    return await drain(
        pool, claim=lambda conn, limit: store.claim_overdue(conn, now=now, compound_id=compound_id,
                                                            limit=limit),
        apply=mark, after=lambda row: metrics.OVERDUE.labels(
            rules.metric_category(row["category"])).inc(), batch=batch)


def overdue_sweeper(interval: float = SWEEP_INTERVAL_SECONDS) -> CleanupContext:
    """Cleanup context: the periodic sweep runs while the service runs."""
    return periodic("issues-overdue-sweep", sweep_overdue, every=interval, wait_first=True)

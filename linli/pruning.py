"""Kernel tables stay small: rows nobody needs any more are deleted in batches, counted in
`linli_rows_pruned_total{service,table}` (every service runs this hourly, see linli/app.py).

- outbox rows a day after they were sent (JetStream has them; a day is left to look at);
- inbox rows after seven days. Not after the stream's two-minute duplicate window: an event
  applied but never acked is redelivered whenever its consumer comes back, and an event the
  relay published but could not mark sent is published again after any outage; the inbox
  row is what makes those count once, so it must outlive any outage we mean to survive;
- Idempotency-Keys after a day (clients retry within minutes, not days);
- whatever a service adds (notify: notifications read half a year ago).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from linli import metrics
from linli.db import Pool, quote_schema

BATCH = 1000
EVERY_SECONDS = 3600.0


class PruneRule(NamedTuple):
    """Delete rows of `table` matching `condition`, where $1 is now() minus `older_than`."""

    table: str
    condition: str
    older_than: dt.timedelta


KERNEL_RULES = (
    PruneRule("outbox", "sent_at IS NOT NULL AND sent_at < $1", dt.timedelta(days=1)),
    PruneRule("inbox", "processed_at < $1", dt.timedelta(days=7)),
    PruneRule("idempotency", "created_at < $1", dt.timedelta(days=1)),
)


async def prune_table(pool: Pool, *, service: str, rule: PruneRule, batch: int = BATCH) -> int:
    """Delete in batches of `batch` (short transactions, rows locked elsewhere are skipped)."""
    table = quote_schema(rule.table)  # names come from code; quoting checks them anyway
    total = 0
    while True:
        async with pool.acquire() as conn:
            status = await conn.execute(
                f"DELETE FROM {table} WHERE ctid = ANY(ARRAY(SELECT ctid FROM {table}"
                f" WHERE {rule.condition} LIMIT $2 FOR UPDATE SKIP LOCKED))",
                dt.datetime.now(dt.UTC) - rule.older_than, batch,
            )
        deleted = int(status.rsplit(" ", 1)[-1])
        total += deleted
        metrics.ROWS_PRUNED.labels(service, rule.table).inc(deleted)
        if deleted < batch:
            return total


async def prune(pool: Pool, *, service: str, rules: Sequence[PruneRule] = (),
                batch: int = BATCH) -> dict[str, int]:
    """One pruning round over the kernel tables and `rules`: table → rows deleted."""
    return {rule.table: await prune_table(pool, service=service, rule=rule, batch=batch)
            for rule in (*KERNEL_RULES, *rules)}

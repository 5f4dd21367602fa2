"""The activity every workflow uses to publish: it writes the event to the workflows schema's
outbox (once per event id, fixed by the workflow), and the worker's relay publishes it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from temporalio import activity
from temporalio.exceptions import ApplicationError

import workflows.events  # noqa: F401  (registers the event types in the catalogue)
from linli import bus
from linli.db import Pool, transaction
from linli.events import CATALOGUE
from workflows import common_types as t


class OutboxActivities:
    """Writes workflow events to the workflows schema's outbox; the worker's relay publishes them."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    def all(self) -> list[Callable[..., Any]]:
        return [self.record_event]

    @activity.defn(name=t.RECORD_EVENT)
    async def record_event(self, record: t.EventRecord) -> bool:
        """Write the event once (its id is fixed by the workflow); False if already written."""
        kind = CATALOGUE.get(record.type)
        if kind is None:
            raise ApplicationError(f"unknown event type {record.type}", non_retryable=True)
        try:
            data = msgspec.convert(record.data, kind.data, strict=False)
        except msgspec.ValidationError as exc:
            raise ApplicationError(f"{record.type}: {exc}", non_retryable=True) from None
        event = msgspec.structs.replace(
            kind.new(subject=record.subject, data=data, compound_id=record.compound_id),
            id=record.event_id)
        async with transaction(self.pool) as conn:
            return await bus.write_event_once(conn, event)

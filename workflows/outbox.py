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
from linli.db import Pool
from linli.events import CATALOGUE, CloudEvent
from workflows import common_types as t


class OutboxActivities:
    """Writes workflow events to the workflows schema's outbox; the worker's relay publishes them."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    def all(self) -> list[Callable[..., Any]]:
        return [self.record_event, self.record_events]

    @activity.defn(name=t.RECORD_EVENT)
    async def record_event(self, record: t.EventRecord) -> bool:
        """Write the event once (its id is fixed by the workflow); False if already written.
        One statement, so one round trip without BEGIN and COMMIT around it."""
        event = to_event(record)
        async with self.pool.acquire() as conn:
            return await bus.write_event_once(conn, event)

    @activity.defn(name=t.RECORD_EVENTS)
    async def record_events(self, records: list[t.EventRecord]) -> None:
        """Write events the workflow published one after another, in their order, each once,
        in one statement (a retry, when the first attempt's answer was lost, writes nothing)."""
        events = [to_event(record) for record in records]
        async with self.pool.acquire() as conn:
            await bus.write_events(conn, events, once=True)


def to_event(record: t.EventRecord) -> CloudEvent:
    """The outbox event of a record: its type's payload checked, its id the workflow's."""
    kind = CATALOGUE.get(record.type)
    if kind is None:
        raise ApplicationError(f"unknown event type {record.type}", non_retryable=True)
    try:
        data = msgspec.convert(record.data, kind.data, strict=False)
    except msgspec.ValidationError as exc:
        raise ApplicationError(f"{record.type}: {exc}", non_retryable=True) from None
    return msgspec.structs.replace(
        kind.new(subject=record.subject, data=data, compound_id=record.compound_id),
        id=record.event_id)

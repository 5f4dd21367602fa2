"""Plain dataclasses and names every workflow shares across the Temporal boundary: the step
record, a cancel request, an event to write to the outbox, and the steps that end a run.

Kept free of heavy imports: the workflow sandbox re-imports this module for every run.

Annotations are real objects here, not strings (no `from __future__ import annotations`, in
every workflow's types module): the data converter looks up a dataclass's type hints for every
payload it decodes, and a string annotation is compiled again each time (py-spy on the worker
with 100 proposals' votes closing together: 3% of its samples in get_type_hints; decoding two
EventRecords took 207 µs with string annotations, 79 µs without).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

DAY = 86400.0
RECORD_EVENT = "record_event"  # the outbox activity (workflows/outbox.py)
RECORD_EVENTS = "record_events"  # the same for events published one after another

# Steps that end a run, whatever the workflow.
COMPLETED, ABANDONED, CANCELLED = "completed", "abandoned", "cancelled"
FINAL_STEPS = (COMPLETED, ABANDONED, CANCELLED)


@dataclass
class StepRecord:
    step: str
    entered_at: datetime
    left_at: datetime | None = None
    outcome: str = ""
    note: str = ""
    by: str = ""  # who made the move happen (a decision, a cancellation), if a person or app did


@dataclass
class CancelRequest:
    reason: str
    by: str = ""


@dataclass
class EventRecord:
    """An event to write to the workflows outbox; the id is fixed by the workflow (replay-safe)."""

    event_id: str
    type: str
    subject: str
    compound_id: str
    data: dict[str, Any]

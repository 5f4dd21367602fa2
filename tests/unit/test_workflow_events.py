"""Workflow events are typed where the workflow builds them, not first in the outbox activity."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from workflows import events
from workflows.steps import checked

STEP = "linli.workflows.proposal.step_changed"


def _step(**changes: object) -> events.StepChanged:
    fields: dict[str, object] = dict(workflow_id="proposal-1", entity_id="1", compound_id="c",
                                     step="consultation", previous="draft", outcome="", round=1,
                                     at=datetime(2026, 7, 1, tzinfo=UTC))
    return events.StepChanged(**{**fields, **changes})  # type: ignore[arg-type]


def test_a_payload_of_the_event_types_own_struct_becomes_its_json() -> None:
    payload = checked(STEP, _step())
    assert payload["step"] == "consultation" and payload["at"].startswith("2026-07-01T00:00:00")
    assert msgspec.convert(payload, events.StepChanged) == _step()


def test_another_struct_or_a_wrong_field_type_fails_where_it_is_built() -> None:
    reminder = events.ReminderDue(workflow_id="w", entity_id="e", compound_id="c", kind="k",
                                  audience="residents")
    with pytest.raises(TypeError):
        checked(STEP, reminder)
    with pytest.raises(msgspec.ValidationError):
        checked(STEP, _step(round="first"))

"""Workflow-side bookkeeping shared by every workflow: step history, metrics, events, waiting.

Runs inside the workflow sandbox: deterministic (workflow.now, workflow.uuid4) and replay-safe
(workflow.metric_meter() drops recordings while replaying; event ids are fixed by history, and
the record_event activity writes each id once).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    import msgspec

    import workflows.events as events
    from linli.events import CATALOGUE
    from workflows.common_types import FINAL_STEPS, RECORD_EVENT, RECORD_EVENTS, EventRecord, StepRecord

ACTIVITY_TIMEOUT = timedelta(seconds=20)  # above the worker's 10 s HTTP timeout
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))


class Cancelled(Exception):
    """Raised out of any wait once a cancel request arrived; the run ends as cancelled."""


def checked(kind: str, data: msgspec.Struct) -> dict[str, Any]:
    """The payload of a `kind` event, typed where it is built: it must be the event type's own
    Struct (workflows/events.py) and convert back to it; a mistake fails here, in the workflow,
    not later in the outbox activity."""
    expected = CATALOGUE[kind].data
    if type(data) is not expected:
        raise TypeError(f"{kind} carries {expected.__name__}, not {type(data).__name__}")
    payload: dict[str, Any] = msgspec.to_builtins(data)
    msgspec.convert(payload, expected)
    return payload


# workflow.patched: the calls of the path between steps that take milliseconds and change nothing
# twice (the outbox write of a step's event, fixed id; a read of another service) run as local
# activities: in the worker, inside the workflow task that asks for them, instead of a round trip
# each through the server's activity queue (schedule, poll, complete, one more workflow task).
# Calls that may wait long (publishing a version, opening a vote) stay regular activities, so
# timers and updates are seen while they run. Runs recorded before replay as they ran.
LOCAL_STEPS = "local-steps"
# a local activity waiting longer than this to retry (the other service down for a while) waits
# on a server timer: retried inside the workflow task instead, the task is kept alive every few
# seconds and each keep-alive adds events to the run's history for as long as the outage lasts
LOCAL_RETRY_THRESHOLD = timedelta(seconds=10)
# workflow.patched (asked by each workflow at its start, where it uses it): events a run publishes
# one right after another, with no wait or call between them (entering a step it passes straight
# through, a step and its reminder), are written by one local activity instead of one each. Each
# local activity is an activation of the workflow, a marker in its history and an outbox write:
# with 100 proposals' votes closing together, a third of the step that follows the vote.
# A proposal since it also takes every older patch without asking (ProposalWorkflow._since).
ONE_WRITE = "one-write"


async def run_activity(name: str, arg: Any, result_type: type | None = None, *,
                       local: bool = False, local_patched: bool = False) -> Any:
    """An activity by name with the common timeout and retry policy; `local` for the quick
    calls described above. `local_patched`: the run is known to have LOCAL_STEPS (a proposal
    since ONE_WRITE), so it is not asked again (an ask is a marker and an upsert in history)."""
    if local and (local_patched or workflow.patched(LOCAL_STEPS)):
        return await workflow.execute_local_activity(
            name, arg, result_type=result_type, start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY, local_retry_threshold=LOCAL_RETRY_THRESHOLD)
    return await workflow.execute_activity(
        name, arg, result_type=result_type, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY
    )


def instant(value: str) -> datetime:
    """An ISO-8601 instant from an input; one without an offset is taken as UTC."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


class Steps:
    """Named steps with timestamps, measured and published as events on every transition."""

    def __init__(self, *, workflow_name: str, entity_id: str, compound_id: str, event_prefix: str) -> None:
        self.workflow_name, self.entity_id, self.compound_id = workflow_name, entity_id, compound_id
        self.event_prefix = event_prefix
        self.history: list[StepRecord] = []
        self.cancel_reason: str | None = None
        self.title = ""  # the entity's title once known: step_changed events name it
        self.unwritten: list[EventRecord] = []  # published with write=False, not yet written
        self.local_patched = False  # run_activity's local_patched for the outbox writes
        meter = workflow.metric_meter().with_additional_attributes({"workflow": workflow_name})
        self._duration = meter.create_histogram_float(
            "linli_workflow_step_duration", "Time spent in a workflow step.", "seconds")
        self._count = meter.create_counter(
            "linli_workflow_steps", "Workflow steps finished, by how they ended.")

    @property
    def current(self) -> str:
        return self.history[-1].step if self.history else ""

    async def move(self, step: str, *, outcome: str = "", note: str = "", round_: int = 1,
                   by: str = "", write: bool = True) -> None:
        """Leave the current step with `outcome`, enter `step` (`by` whom), publish step_changed
        (`write`: see publish)."""
        now = workflow.now()
        previous = self.history[-1] if self.history else None
        if previous is not None:
            previous.left_at, previous.outcome = now, outcome
            self._duration.record((now - previous.entered_at).total_seconds(), {"step": previous.step})
            self._count.add(1, {"step": previous.step, "outcome": outcome or "done"})
        self.history.append(StepRecord(step=step, entered_at=now, note=note, by=by))
        await self.publish("step_changed", events.StepChanged(
            workflow_id=workflow.info().workflow_id, entity_id=self.entity_id,
            compound_id=self.compound_id, step=step, previous=previous.step if previous else None,
            outcome=outcome, round=round_, at=now, note=note, title=self.title), write=write)

    def failed(self) -> None:
        """The run is failing (an activity failed for good): count the step as failed."""
        if self.history:
            current, now = self.history[-1], workflow.now()
            current.left_at, current.outcome = now, "failed"
            self._duration.record((now - current.entered_at).total_seconds(), {"step": current.step})
            self._count.add(1, {"step": current.step, "outcome": "failed"})

    def blocked(self) -> None:
        """Another service refused the step's call for good: counted per step (the step goes on
        once staff retry), so an alert sees runs waiting for people."""
        if self.history:
            self._count.add(1, {"step": self.history[-1].step, "outcome": "blocked"})

    async def publish(self, verb: str, data: msgspec.Struct, *, write: bool = True) -> None:
        """Write an event through the outbox activity; its id comes from the workflow's history.
        With write=False it is written with the next event published (one outbox write for
        both, in their order): for a caller that publishes again before it waits or calls out."""
        kind = f"{self.event_prefix}.{verb}"
        self.unwritten.append(EventRecord(
            event_id=str(workflow.uuid4()), type=kind, subject=self.entity_id,
            compound_id=self.compound_id, data=checked(kind, data)))
        if write:
            await self.write_unwritten()

    async def write_unwritten(self) -> None:
        """Write the events published and not yet written (none but under workflow.patched
        ONE_WRITE), one outbox write for all, in their order."""
        records, self.unwritten = self.unwritten, []
        if len(records) == 1:
            await run_activity(RECORD_EVENT, records[0], local=True,
                               local_patched=self.local_patched)
        elif records:
            await run_activity(RECORD_EVENTS, records, local=True, local_patched=self.local_patched)

    def check_cancel(self, reason: str) -> None:
        """The validator of every workflow's cancel update: not after the end, not twice, and
        only with a reason (the caller gets the ValueError's text)."""
        if self.current in FINAL_STEPS or self.cancel_reason is not None:
            raise ValueError("流程已结束或已取消")
        if not reason.strip():
            raise ValueError("取消需要说明原因")

    async def wait(self, ready: Callable[[], bool], until: datetime | None = None) -> bool:
        """Wait for `ready()` or the deadline; a cancel request interrupts any wait."""

        def woken() -> bool:
            return ready() or self.cancel_reason is not None

        await self.write_unwritten()  # never held over a wait

        if until is None:
            await workflow.wait_condition(woken)
        else:
            remaining = (until - workflow.now()).total_seconds()
            if remaining > 0 and not woken():
                try:
                    await workflow.wait_condition(woken, timeout=timedelta(seconds=remaining))
                except TimeoutError:
                    pass
        if self.cancel_reason is not None:
            raise Cancelled(self.cancel_reason)
        return ready()

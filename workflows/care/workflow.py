"""CarePlanWorkflow: the timer of one recurring care plan (定期关爱).

The plan and its visits live in the volunteers service; this workflow only keeps time. For each
open visit it sleeps until the visit's due time, then asks the service to mark it missed (the
service leaves a visit already recorded as it is, and schedules the next one either way). So a
missed visit is flagged at its due time, not at the next sweep. After `visits_per_run` visits
it continues as new, so the history stays short however long the plan runs. It starts from
linli.volunteers.care_plan.created (workflows/care/bridge.py) and stops when the plan has ended (a
care_plan.ended signal wakes it at once). The service's own sweep is the backstop.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.care.types import (
        CLOSE_CARE_VISIT,
        NEXT_CARE_VISIT,
        CarePlanInput,
        CareRef,
        CareState,
        NextVisit,
    )

TIMEOUT = timedelta(seconds=20)
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5))


@workflow.defn(name="CarePlanWorkflow")
class CarePlanWorkflow:
    @workflow.init
    def __init__(self, data: CarePlanInput) -> None:
        self.input = data
        self.next = NextVisit(active=True)
        self.closed: dict[str, int] = {}
        self.ended = False
        meter = workflow.metric_meter().with_additional_attributes({"workflow": "care_plan"})
        self._steps = meter.create_counter("linli_workflow_steps",
                                           "Workflow steps finished, by how they ended.")

    @workflow.run
    async def run(self, data: CarePlanInput) -> CareState:
        for _ in range(max(1, data.visits_per_run)):
            self.next = await self._call(NEXT_CARE_VISIT, CareRef(data.compound_id, data.plan_id),
                                         NextVisit)
            if not self.next.active or self.ended:
                return self.state()
            due = datetime.fromisoformat(self.next.due_at).astimezone(UTC)
            remaining = (due - workflow.now()).total_seconds()
            if remaining > 0:
                try:
                    await workflow.wait_condition(lambda: self.ended,
                                                  timeout=timedelta(seconds=remaining))
                except TimeoutError:
                    pass
            if self.ended:
                return self.state()
            outcome = await self._call(CLOSE_CARE_VISIT, CareRef(
                data.compound_id, data.plan_id, self.next.visit_id), str)
            self.closed[outcome] = self.closed.get(outcome, 0) + 1
            self._steps.add(1, {"step": "visit", "outcome": outcome})
        workflow.continue_as_new(data)

    @staticmethod
    async def _call(name: str, arg: Any, result_type: type) -> Any:
        return await workflow.execute_activity(name, arg, result_type=result_type,
                                               start_to_close_timeout=TIMEOUT, retry_policy=RETRY)

    @workflow.signal(name="plan_ended")
    def plan_ended(self, reason: str = "") -> None:
        self.ended = True

    @workflow.query
    def state(self) -> CareState:
        return CareState(plan_id=self.input.plan_id, compound_id=self.input.compound_id,
                         active=self.next.active and not self.ended,
                         visit_id=self.next.visit_id, seq=self.next.seq,
                         due_at=self.next.due_at, closed=dict(self.closed))



"""CarePlanWorkflow: the timer of one recurring care plan (定期关爱).

The plan and its visits live in the volunteers service; this workflow only keeps time. For each
open visit it sleeps until the visit's due time, then asks the service to mark it missed (the
service leaves a visit already recorded as it is, and schedules the next one either way). So a
missed visit is flagged at its due time, not at the next sweep. After `visits_per_run` visits
it continues as new, so the history stays short however long the plan runs. It starts from
linli.volunteers.care_plan.created (bridge below) and stops when the plan has ended (a
care_plan.ended signal wakes it at once). The service's own sweep is the backstop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    import msgspec
    from temporalio.client import Client
    from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
    from temporalio.exceptions import WorkflowAlreadyStartedError
    from temporalio.service import RPCError, RPCStatusCode

    from linli import problems
    from linli.auth import allow
    from linli.bus import Subscription
    from linli.clients import ServiceClient
    from linli.db import Connection
    from linli.events import CloudEvent
    from linli.http import Call, Route
    from linli.problems import Problem
    from services.volunteers import events as volunteers
    from workflows.bridge import signal
    from workflows.handlers import TEMPORAL

NEXT_CARE_VISIT = "next_care_visit"
CLOSE_CARE_VISIT = "close_care_visit"
TIMEOUT = timedelta(seconds=20)
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5))


@dataclass
class CarePlanInput:
    compound_id: str
    plan_id: str
    visits_per_run: int = 26  # half a year of weekly visits per run, then continue-as-new


@dataclass
class CareRef:
    compound_id: str
    plan_id: str
    visit_id: str = ""


@dataclass
class NextVisit:
    """The plan's open visit; due_at is ISO-8601 (datetimes do not cross into the sandbox)."""

    active: bool
    visit_id: str = ""
    seq: int = 0
    due_at: str = ""


@dataclass
class CareState:
    plan_id: str
    compound_id: str
    active: bool
    visit_id: str
    seq: int
    due_at: str
    closed: dict[str, int]  # outcome (recorded, missed, cancelled) -> visits this run


def workflow_id(plan_id: str) -> str:
    return f"care-plan-{plan_id}"


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


class CareActivities:
    """The volunteers service's care API, with an app token holding volunteers:manage."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def all(self) -> list[Any]:
        return [self.next_care_visit, self.close_care_visit]

    async def _send(self, method: str, path: str) -> Any:
        try:
            return await self.client.request(method, path)
        except Problem as exc:  # 409 "not due yet" (clock skew) is worth retrying, other 4xx not
            retry = exc.status >= 500 or exc.status in (408, 409, 429)
            raise ApplicationError(f"{exc.status} {exc.detail}", type=exc.kind,
                                   non_retryable=not retry) from None

    @activity.defn(name=NEXT_CARE_VISIT)
    async def next_care_visit(self, ref: CareRef) -> NextVisit:
        plan = await self._send("GET", f"/v1/compounds/{ref.compound_id}/care-plans/{ref.plan_id}")
        visit = plan.get("next_visit")
        if plan["status"] != "active" or not visit:
            return NextVisit(active=False)
        return NextVisit(active=True, visit_id=visit["id"], seq=visit["seq"],
                         due_at=visit["due_at"])

    @activity.defn(name=CLOSE_CARE_VISIT)
    async def close_care_visit(self, ref: CareRef) -> str:
        """Mark the visit missed unless it was recorded (or cancelled); its status after."""
        visit = await self._send("POST", f"/v1/compounds/{ref.compound_id}/care-plans/"
                                 f"{ref.plan_id}/visits/{ref.visit_id}/miss")
        return str(visit["status"])


# ---------------------------------------------------------------- the bridge from events


def on_plan_created(client: Client, task_queue: str) -> Any:
    """A new plan starts its workflow once (the id is the plan's, reused only after a run that
    failed or was terminated)."""

    async def handle(conn: Connection, event: CloudEvent) -> None:
        data = volunteers.CARE_PLAN_CREATED.parse(event)
        try:
            await client.start_workflow(
                CarePlanWorkflow.run, CarePlanInput(str(data.compound_id), str(data.plan_id)),
                id=workflow_id(str(data.plan_id)), task_queue=task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                memo={"key": f"event:{event.id}", "compound_id": str(data.compound_id),
                      "type": "care_plan", "started_by": "app:volunteers"})
        except WorkflowAlreadyStartedError:
            pass

    return handle


def on_plan_ended(client: Client) -> Any:
    async def handle(conn: Connection, event: CloudEvent) -> None:
        data = volunteers.CARE_PLAN_ENDED.parse(event)
        await signal(client, workflow_id(str(data.plan_id)), "plan_ended", "计划已结束")

    return handle


def subscriptions(client: Client, task_queue: str, *, prefix: str) -> list[Subscription]:
    return [
        Subscription(f"{prefix}-care-plan-created", volunteers.CARE_PLAN_CREATED,
                     on_plan_created(client, task_queue)),
        Subscription(f"{prefix}-care-plan-ended", volunteers.CARE_PLAN_ENDED,
                     on_plan_ended(client)),
    ]


# ---------------------------------------------------------------- the workflow HTTP API


class CareWorkflowView(msgspec.Struct):
    workflow_id: str
    run_id: str | None
    status: str
    state: CareState


async def care_state(call: Call) -> CareWorkflowView:
    """The timer of one care plan: which visit it waits for, and visits closed this run."""
    compound_id = call.uuid_param("compound_id", "小区")
    handle = call.app[TEMPORAL].get_workflow_handle(
        workflow_id(str(call.uuid_param("plan_id", "关爱计划"))))
    try:
        desc = await handle.describe()
        state = await handle.query(CarePlanWorkflow.state)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise problems.not_found("关爱计划的流程") from None
        raise
    if state.compound_id != str(compound_id):
        raise problems.not_found("关爱计划的流程")
    status = desc.status.name.lower() if desc.status is not None else "unknown"
    return CareWorkflowView(workflow_id=desc.id, run_id=desc.run_id, status=status, state=state)


ROUTES = [
    Route("GET", "/v1/compounds/{compound_id}/care-plans/{plan_id}/workflow", care_state,
          "定期关爱计划的流程状态 (正在等待的探访、本轮已处理的探访)", response=CareWorkflowView,
          access=allow("community", "party_branch", scopes=["workflows:start"]),
          tags=("workflows", "care")),
]

"""ActivityWorkflow: the timeline of one activity at the neighbourhood centre (邻里中心).

The activity, its sign-ups and check-ins live in the centre service; this workflow keeps time and
asks the service for each step when it is due: the reminder the day before (to those signed up),
sign-up closing, the check-in window, the feedback request after the end (to those who came), and
closing with the attendance some days later. Each step is measured like every other workflow's
(linli_workflow_step_duration_seconds / linli_workflow_steps_total, workflow="activity") and
published as linli.workflows.activity.step_changed. It starts from linli.centre.activity.created
and ends early on linli.centre.activity.cancelled (a signal); the service does each step once, so
a retried activity changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    import msgspec
    from temporalio.client import Client
    from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
    from temporalio.exceptions import WorkflowAlreadyStartedError
    from temporalio.service import RPCError, RPCStatusCode

    from linli import problems
    from linli.auth import STAFF_ROLES, allow
    from linli.bus import Subscription
    from linli.clients import ServiceClient
    from linli.db import Connection
    from linli.events import CloudEvent
    from linli.http import Call, Route
    from linli.problems import Problem
    from services.centre import events as centre
    from workflows.bridge import signal
    from workflows.handlers import TEMPORAL
    from workflows.steps import Cancelled, Steps, instant, run_activity
    from workflows.types import StepRecord

ACTIVITY_TIMELINE = "activity_timeline"
REMIND_ACTIVITY = "remind_activity"
REQUEST_ACTIVITY_FEEDBACK = "request_activity_feedback"
CLOSE_ACTIVITY = "close_activity"
CHECK_IN_EARLY = timedelta(hours=1)  # the centre opens check-in an hour before the start
REMIND_BEFORE = timedelta(days=1)


@dataclass
class ActivityInput:
    compound_id: str
    activity_id: str
    feedback_days: int = 3  # how long after the end feedback is collected before closing


@dataclass
class ActivityRef:
    compound_id: str
    activity_id: str


@dataclass
class Timeline:
    """The activity's times as ISO-8601 (datetimes do not cross into the sandbox)."""

    status: str
    starts_at: str = ""
    ends_at: str = ""
    signup_closes_at: str = ""


@dataclass
class ActivityState:
    activity_id: str
    compound_id: str
    step: str
    history: list[StepRecord] = field(default_factory=list)


def schedule(timeline: Timeline, feedback_days: int) -> list[tuple[str, datetime, str]]:
    """(step entered, when, service call or '') in time order; ties keep this order."""
    starts, ends = instant(timeline.starts_at), instant(timeline.ends_at)
    moments = [
        ("reminder", starts - REMIND_BEFORE, REMIND_ACTIVITY),
        ("signup_closed", instant(timeline.signup_closes_at), ""),
        ("check_in", starts - CHECK_IN_EARLY, ""),
        ("feedback", ends, REQUEST_ACTIVITY_FEEDBACK),
        ("closed", ends + timedelta(days=feedback_days), CLOSE_ACTIVITY),
    ]
    return sorted(moments, key=lambda m: m[1])


def workflow_id(activity_id: str) -> str:
    return f"activity-{activity_id}"


@workflow.defn(name="ActivityWorkflow")
class ActivityWorkflow:
    @workflow.init
    def __init__(self, data: ActivityInput) -> None:
        self.input = data
        self.steps = Steps(workflow_name="activity", entity_id=data.activity_id,
                           compound_id=data.compound_id,
                           event_prefix="linli.workflows.activity")

    @workflow.run
    async def run(self, data: ActivityInput) -> ActivityState:
        ref = ActivityRef(data.compound_id, data.activity_id)
        timeline = await run_activity(ACTIVITY_TIMELINE, ref, Timeline)
        if timeline.status != "open":
            return self.state()
        try:
            await self.steps.move("signup")
            for step, at, call in schedule(timeline, data.feedback_days):
                await self.steps.wait(lambda: False, until=at)
                outcome = await run_activity(call, ref, str) if call else "done"
                if outcome == "cancelled":
                    raise Cancelled("活动已在邻里中心取消")
                await self.steps.move(step, outcome=outcome)
        except Cancelled as exc:
            await self.steps.move("cancelled", outcome="cancelled", note=str(exc))
        except Exception:
            self.steps.failed()
            raise
        return self.state()

    @workflow.signal(name="activity_cancelled")
    def activity_cancelled(self, reason: str = "") -> None:
        self.steps.cancel_reason = reason or "活动已取消"

    @workflow.query
    def state(self) -> ActivityState:
        return ActivityState(activity_id=self.input.activity_id,
                             compound_id=self.input.compound_id, step=self.steps.current,
                             history=list(self.steps.history))


class CentreActivities:
    """The centre's activity API, with an app token holding centre:manage."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def all(self) -> list[Any]:
        return [self.activity_timeline, self.remind_activity, self.request_activity_feedback,
                self.close_activity]

    async def _send(self, method: str, ref: ActivityRef, tail: str = "") -> Any:
        path = f"/v1/compounds/{ref.compound_id}/activities/{ref.activity_id}{tail}"
        try:
            return await self.client.request(method, path)
        except Problem as exc:
            retry = exc.status >= 500 or exc.status in (408, 429)
            raise ApplicationError(f"{exc.status} {exc.detail}", type=exc.kind,
                                   non_retryable=not retry) from None

    @activity.defn(name=ACTIVITY_TIMELINE)
    async def activity_timeline(self, ref: ActivityRef) -> Timeline:
        a = await self._send("GET", ref)
        return Timeline(status=a["status"], starts_at=a["starts_at"], ends_at=a["ends_at"],
                        signup_closes_at=a["signup_closes_at"])

    async def _step(self, ref: ActivityRef, name: str) -> str:
        answer = await self._send("POST", ref, f"/{name}")
        return "cancelled" if answer["status"] == "cancelled" else "done"

    @activity.defn(name=REMIND_ACTIVITY)
    async def remind_activity(self, ref: ActivityRef) -> str:
        return await self._step(ref, "remind")

    @activity.defn(name=REQUEST_ACTIVITY_FEEDBACK)
    async def request_activity_feedback(self, ref: ActivityRef) -> str:
        return await self._step(ref, "request-feedback")

    @activity.defn(name=CLOSE_ACTIVITY)
    async def close_activity(self, ref: ActivityRef) -> str:
        return await self._step(ref, "close")


# ---------------------------------------------------------------- the bridge from events


def on_activity_created(client: Client, task_queue: str) -> Any:
    """A new activity starts its timeline once (the id is the activity's, reused only after a run
    that failed or was terminated)."""

    async def handle(conn: Connection, event: CloudEvent) -> None:
        data = centre.ACTIVITY_CREATED.parse(event)
        try:
            await client.start_workflow(
                ActivityWorkflow.run, ActivityInput(str(data.compound_id), str(data.activity_id)),
                id=workflow_id(str(data.activity_id)), task_queue=task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                memo={"key": f"event:{event.id}", "compound_id": str(data.compound_id),
                      "type": "activity", "started_by": "app:centre"})
        except WorkflowAlreadyStartedError:
            pass

    return handle


def on_activity_cancelled(client: Client) -> Any:
    async def handle(conn: Connection, event: CloudEvent) -> None:
        data = centre.ACTIVITY_CANCELLED.parse(event)
        await signal(client, workflow_id(str(data.activity_id)), "activity_cancelled",
                     data.reason or "活动已取消")

    return handle


def subscriptions(client: Client, task_queue: str, *, prefix: str) -> list[Subscription]:
    return [
        Subscription(f"{prefix}-activity-created", centre.ACTIVITY_CREATED,
                     on_activity_created(client, task_queue)),
        Subscription(f"{prefix}-activity-cancelled", centre.ACTIVITY_CANCELLED,
                     on_activity_cancelled(client)),
    ]


# ---------------------------------------------------------------- the workflow HTTP API


class ActivityWorkflowView(msgspec.Struct):
    workflow_id: str
    run_id: str | None
    status: str
    state: dict[str, Any]


async def activity_state(call: Call) -> ActivityWorkflowView:
    """An activity's timeline: the step it is in and the steps behind it."""
    compound_id = call.uuid_param("compound_id", "小区")
    handle = call.app[TEMPORAL].get_workflow_handle(
        workflow_id(str(call.uuid_param("activity_id", "活动"))))
    try:
        desc = await handle.describe()
        state: dict[str, Any] = await handle.query("state")
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise problems.not_found("活动的流程") from None
        raise
    if state.get("compound_id") != str(compound_id):
        raise problems.not_found("活动的流程")
    status = desc.status.name.lower() if desc.status is not None else "unknown"
    return ActivityWorkflowView(workflow_id=desc.id, run_id=desc.run_id, status=status,
                                state=state)


ROUTES = [
    Route("GET", "/v1/compounds/{compound_id}/activities/{activity_id}/workflow", activity_state,
          "邻里中心活动的流程状态 (当前阶段和已走过的阶段)", response=ActivityWorkflowView,
          access=allow(*sorted(STAFF_ROLES), scopes=["workflows:start"]),
          tags=("workflows", "centre")),
]

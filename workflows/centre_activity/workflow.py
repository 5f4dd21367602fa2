"""ActivityWorkflow: the timeline of one activity at the neighbourhood centre (邻里中心).

The activity, its sign-ups and check-ins live in the centre service; this workflow keeps time and
asks the service for each step when it is due: the reminder the day before (to those signed up),
sign-up closing, the check-in window, the feedback request after the end (to those who came), and
closing with the attendance some days later. Each step is measured like every other workflow's
(linli_workflow_step_duration_seconds / linli_workflow_steps_total, workflow="activity") and
published as linli.workflows.activity.step_changed. It starts from linli.centre.activity.created
and ends early on linli.centre.activity.cancelled (a signal; both in bridge.py beside it); the
service does each step once, so a retried activity changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from workflows.centre_activity.types import (
        ACTIVITY_TIMELINE,
        CLOSE_ACTIVITY,
        REMIND_ACTIVITY,
        REQUEST_ACTIVITY_FEEDBACK,
        ActivityInput,
        ActivityRef,
        ActivityState,
        Timeline,
    )
    from workflows.steps import Cancelled, Steps, instant, run_activity

CHECK_IN_EARLY = timedelta(hours=1)  # the centre opens check-in an hour before the start
REMIND_BEFORE = timedelta(days=1)


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



"""IssueFollowUpWorkflow: from an issue's acceptance to the reporter's satisfaction.

Watches the target times (respond_by, resolve_by): one that passes without a response or a
resolution escalates the issue through the issues API. After the `resolved` signal (bridged from
linli.issues.issue.resolved) the reporter is asked whether they are satisfied; a "no" reopens
the issue and the watch starts again.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import FailureError

from workflows.follow_up import types as t

with workflow.unsafe.imports_passed_through():
    import workflows.events as events
from workflows.steps import Cancelled, Steps, instant, run_activity

WATCHING, ESCALATED, SATISFACTION, REOPENED = "watching", "escalated", "satisfaction", "reopened"
OVERDUE_REASON = "超过处理时限, 由跟踪流程自动提交议事会"


class Closed(Exception):
    """The issue was closed without a resolution (rejected, duplicate): nothing to follow."""


@workflow.defn(name="IssueFollowUpWorkflow")
class IssueFollowUpWorkflow:
    @workflow.init
    def __init__(self, data: t.IssueFollowUpInput) -> None:
        self.input = data
        self.steps = Steps(workflow_name="issue_follow_up", entity_id=data.issue_id,
                           compound_id=data.compound_id, event_prefix="linli.workflows.issue_follow_up")
        self.deadlines: dict[str, datetime] = {}
        if data.respond_by:
            self.deadlines["respond_by"] = instant(data.respond_by)
        if data.resolve_by:
            self.deadlines["resolve_by"] = instant(data.resolve_by)
        self.resolved: t.IssueResolved | None = None
        self.resolutions: set[str] = set()  # event ids of the resolutions signalled so far
        self.answer: t.SatisfactionAnswer | None = None
        self.escalated = False
        self.reopened = 0

    @workflow.run
    async def run(self, data: t.IssueFollowUpInput) -> t.FollowUpState:
        try:
            await self.steps.move(WATCHING)
            while True:
                await self._watch()
                self.answer = None  # reset before each move: a signal may arrive while it publishes
                await self.steps.move(SATISFACTION, outcome="resolved")
                if await self._ask():
                    break
                self.reopened += 1
                await run_activity(t.REOPEN_ISSUE, self._ref())
                self.resolved = None
                await self.steps.move(REOPENED, outcome="unsatisfied", round_=self.reopened + 1)
            await self.steps.move(t.COMPLETED, outcome=self._satisfaction_outcome())
        except FailureError:
            self.steps.failed()  # e.g. meetings refused a call for good: ops see it per step
            raise
        except Closed as closed:
            await self.steps.move(t.COMPLETED, outcome=str(closed))
        except (Cancelled, asyncio.CancelledError) as exc:
            await self.steps.move(t.CANCELLED, outcome="cancelled",
                                  note=self.steps.cancel_reason or "已通过 Temporal 取消")
            if isinstance(exc, asyncio.CancelledError):
                raise
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.state()

    async def _watch(self) -> None:
        """Wait for the resolution; escalate once when a target time passes unmet.

        The issue's status is read first and at each target time: the `resolved` event may have
        been handled before this workflow existed (the bridge takes event types in parallel).
        """
        if await self._issue_resolved():
            return
        for name in ("respond_by", "resolve_by"):
            due = self.deadlines.get(name)
            if due is None or self.escalated:
                continue
            if await self.steps.wait(lambda: self.resolved is not None, due):
                return
            issue = await run_activity(t.GET_ISSUE, self._ref(), t.IssueInfo)
            if issue.status == "resolved":
                self.resolved = t.IssueResolved()
                return
            if issue.status in ("rejected", "duplicate"):
                raise Closed(issue.status)
            if (name == "respond_by" and issue.first_response_at):
                continue
            await run_activity(t.ESCALATE_ISSUE, t.Escalation(
                self.input.compound_id, self.input.issue_id, OVERDUE_REASON))
            self.escalated = True
            await self.steps.move(ESCALATED, outcome=f"overdue:{name}")
        await self.steps.wait(lambda: self.resolved is not None)

    async def _issue_resolved(self) -> bool:
        issue = await run_activity(t.GET_ISSUE, self._ref(), t.IssueInfo)
        if issue.status in ("rejected", "duplicate"):
            raise Closed(issue.status)
        if issue.status == "resolved" and self.resolved is None:
            self.resolved = t.IssueResolved()
        return self.resolved is not None

    async def _ask(self) -> bool:
        """Ask the reporter; True unless they answer "no" within the period."""
        until = workflow.now() + timedelta(seconds=self.input.satisfaction_seconds)
        self.deadlines["satisfaction_closes"] = until
        reporter = self.resolved.reporter_id if self.resolved else None
        await self.steps.publish("reminder_due", events.ReminderDue(
            workflow_id=workflow.info().workflow_id, entity_id=self.input.issue_id,
            compound_id=self.input.compound_id, kind="satisfaction_requested",
            audience="reporter", deadline=until, person_ids=[reporter] if reporter else []))
        await self.steps.wait(lambda: self.answer is not None, until)
        return self.answer is None or self.answer.satisfied

    def _satisfaction_outcome(self) -> str:
        if self.answer is None:
            return "no_answer"
        return "satisfied" if self.answer.satisfied else "unsatisfied"

    def _ref(self) -> t.IssueRef:
        return t.IssueRef(self.input.compound_id, self.input.issue_id)

    @workflow.signal(name="resolved")
    def resolved_signal(self, event: t.IssueResolved) -> None:
        if event.event_id is not None:
            # the bridge may deliver one event twice (a redelivery after a crash): after a
            # reopen it must not count as the new resolution the reporter is waiting for
            if event.event_id in self.resolutions:
                return
            self.resolutions.add(event.event_id)
        if self.steps.current in (WATCHING, ESCALATED, REOPENED):
            self.resolved = event

    @workflow.signal
    def satisfaction(self, answer: t.SatisfactionAnswer) -> None:
        if self.steps.current == SATISFACTION and self.answer is None:
            self.answer = answer

    @workflow.update
    def cancel(self, request: t.CancelRequest) -> str:
        self.steps.cancel_reason = request.reason
        return t.CANCELLED

    @cancel.validator
    def _check_cancel(self, request: t.CancelRequest) -> None:
        self.steps.check_cancel(request.reason)

    @workflow.query
    def state(self) -> t.FollowUpState:
        return t.FollowUpState(
            workflow="issue_follow_up", issue_id=self.input.issue_id,
            compound_id=self.input.compound_id, step=self.steps.current, deadlines=self.deadlines,
            history=self.steps.history, escalated=self.escalated,
            satisfied=None if self.answer is None else self.answer.satisfied,
            reopened=self.reopened, cancel_reason=self.steps.cancel_reason)

"""ProposalWorkflow: proposal → consultation → vote → implementation → acceptance → satisfaction.

Runs for weeks or months on Temporal. Meetings keeps the data (proposal, consultation, vote);
this workflow keeps time: windows, reminders, re-votes, milestones, sign-off. Every transition is
an event through the worker's outbox (workflows/steps.py). Cancellable at any step with a reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

from workflows.proposal import types as t

with workflow.unsafe.imports_passed_through():
    import workflows.events as events
from workflows.steps import LOCAL_STEPS, ONE_WRITE, Cancelled, Steps, instant, run_activity

STANCES = ("support", "oppose", "suggest")
EVENTS = "linli.workflows.proposal"
CANCEL_OPEN_VOTE = "cancel-open-vote"  # workflow.patched: a cancelled run cancels its open vote
# workflow.patched: a revision still being published at the deadline restarts the consultation
REVISION_IN_FLIGHT = "revision-in-flight"
# workflow.patched: a revise decision still publishing its version at the deadline is awaited
DECISION_IN_FLIGHT = "decision-in-flight"
# workflow.patched: the run marks its proposal in meetings (managed_by), so meetings refuses the
# steps it drives to anyone else; a cancelled run withdraws the proposal; the mark is cleared at
# the end. The convener ends or extends the consultation through the workflow instead.
MANAGED = "managed-by"
# workflow.patched: a vote_closed signal only says that the vote closed; the result is re-read
REREAD_VOTE = "reread-vote-result"
# workflow.patched: a person's second rating no longer replaces the first
ONE_RATING = "one-rating-per-person"
# workflow.patched: a call meetings refuses for good (a 4xx) blocks the run visibly until staff
# retry or abandon, instead of failing it; asked only when such a refusal happens, so runs
# recorded before (which failed there) replay as they ran
BLOCKED = "blocked-on-refusal"
# workflow.patched: the quick writes to meetings (types.QUICK_WRITES) run as local activities;
# with 100 proposals in flight a regular one each cost the worker and the server a workflow task
# and an activity task more (bench/bench_workflows.py). Runs recorded before replay as they ran.
LOCAL_WRITES = "local-writes"
# The patches older than ONE_WRITE (workflows/steps.py): a run since ONE_WRITE has every one of
# them, so it takes them as given instead of asking (_since). A patch added later must be asked
# with workflow.patched, or runs started before it would replay as if they had it.
OLDER_PATCHES = frozenset({CANCEL_OPEN_VOTE, REVISION_IN_FLIGHT, DECISION_IN_FLIGHT, MANAGED,
                           REREAD_VOTE, ONE_RATING, BLOCKED, LOCAL_WRITES, LOCAL_STEPS})


def taken_as_given(patch: str, one_write: bool) -> bool:
    """Whether a run takes `patch` as given without asking: only the OLDER_PATCHES, and only
    since ONE_WRITE. Any other patch raises (a mistake of the code, not of the run)."""
    if patch not in OLDER_PATCHES:
        raise ValueError(f"{patch} is not older than {ONE_WRITE}: ask it with workflow.patched")
    return one_write


class Abandoned(Exception):
    """Staff gave up a blocked run: it ends as abandoned."""

    def __init__(self, reason: str, by: str) -> None:
        super().__init__(reason)
        self.reason, self.by = reason, by


def refusal(exc: FailureError) -> ApplicationError | None:
    """Meetings' answer when it was a 4xx that no retry changes (workflows/service_calls.py): a
    regular activity's failure carries it as its cause, a local activity's failure is that error."""
    cause = exc.cause if isinstance(exc, ActivityError) else exc
    return cause if isinstance(cause, ApplicationError) and cause.non_retryable else None


@workflow.defn(name="ProposalWorkflow")
class ProposalWorkflow:
    @workflow.init
    def __init__(self, data: t.ProposalInput) -> None:
        self.input = data
        self.steps = Steps(workflow_name="proposal", entity_id=data.proposal_id,
                           compound_id=data.compound_id, event_prefix=EVENTS)
        self.round = 1
        self.version = 0
        self.deadlines: dict[str, datetime] = {}
        self.opinions: dict[str, str] = {}  # opinion id → stance (redelivery counts once)
        self.vote_id: str | None = None
        self.vote_status: str | None = None  # "cancelled" once the compensation cancelled it
        self.cancelled_by: str | None = None
        self.title = ""
        self.reviews: list[t.ReviewScheduled] = []
        self.votes: dict[str, t.VoteClosed] = {}
        self.revision: t.Revision | None = None
        self.revising = False  # a revise update is publishing its version in meetings
        self.closing_consultation = False
        self.deciding = False  # a decide update is publishing its revised version in meetings
        self.decision: t.Decision | None = None
        self.report: t.AcceptanceReport | None = None
        self.milestones = [t.MilestoneStatus(name=m.name, due_at=instant(m.due_at), owner=m.owner)
                           for m in data.milestones]
        self.progress_seen = 0
        self.defects = 0
        self.ratings: dict[str, int] = {}
        self.managed = False  # this run marked the proposal in meetings as its own
        self.ending: t.ConsultationEnd | None = None  # the convener ends the consultation early
        self.extension: t.ConsultationExtension | None = None
        self.closing_vote: t.VoteCloseEarly | None = None  # the convener closes the vote now
        self.blocked: t.Blocked | None = None  # meetings refused a call for good
        self.unblocking: t.Unblock | None = None  # staff's answer to the block
        self.was_blocked = False  # compensations tolerate a refusal once a run was blocked
        # workflow.patched ONE_WRITE (workflows/steps.py), asked first thing: since it, a run
        # takes every older patch without asking (_since)
        self.one_write = False

    # ------------------------------------------------------------ the process

    @workflow.run
    async def run(self, data: t.ProposalInput) -> t.ProposalSummary:
        outcome, reason = t.COMPLETED, ""
        self.one_write = workflow.patched(ONE_WRITE)
        # the outbox writes of steps.py: LOCAL_STEPS without asking since ONE_WRITE (_since)
        self.steps.local_patched = taken_as_given(LOCAL_STEPS, self.one_write)
        try:
            await self.steps.move(t.DRAFT, round_=self.round)
            info = await self._meetings(t.GET_PROPOSAL, self._ref(), t.ProposalInfo)
            self.version, self.title = info.current_version, info.title
            self.steps.title = info.title
            if self._since(MANAGED):
                await self._meetings(t.MARK_PROPOSAL, t.ProposalMark(
                    self.input.compound_id, self.input.proposal_id, workflow.info().workflow_id))
                self.managed = True
            if not await self._until_passed():
                outcome, reason = t.ABANDONED, self.decision.reason if self.decision else ""
                await self._unmark()
                await self.steps.move(t.ABANDONED, outcome="abandon", note=reason, round_=self.round,
                                      by=self.decision.by if self.decision else "")
            else:
                await self._carry_out()
                await self._satisfaction()
                await self._unmark()
                await self.steps.move(t.COMPLETED, outcome="closed", round_=self.round)
        except Abandoned as exc:  # staff gave up a blocked run
            outcome, reason = t.ABANDONED, exc.reason
            await self._unmark()
            await self.steps.move(t.ABANDONED, outcome="abandon", note=reason, round_=self.round,
                                  by=exc.by)
        except FailureError:
            self.steps.failed()  # e.g. meetings refused a call for good: ops see it per step
            raise
        except (Cancelled, asyncio.CancelledError) as exc:
            outcome, reason = t.CANCELLED, self.steps.cancel_reason or "已通过 Temporal 取消"
            await self._wind_down(reason)
            if isinstance(exc, asyncio.CancelledError):
                raise
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._summary(outcome, reason)

    async def _until_passed(self) -> bool:
        """Consultation and vote, round after round, until passed (True) or abandoned (False)."""
        while True:
            await self._consultation()
            result = await self._vote()
            if result.outcome == "passed":
                return True
            self.decision = None  # before the move: a decision may arrive while it publishes
            # queries during the move already show the decision deadline, not the vote's
            self.deadlines = {"decision": workflow.now() + timedelta(seconds=self.input.decision_seconds)}
            await self.steps.move(t.REJECTED, outcome="rejected", round_=self.round)
            until = workflow.now() + timedelta(seconds=self.input.decision_seconds)
            self.deadlines = {"decision": until}
            await self._await_decision(until)
            if self.decision is None:
                self.decision = t.Decision(action="abandon", reason="召集人逾期未决定, 自动放弃")
            if self.decision.action != "revise":
                return False
            self.round += 1

    async def _unmark(self) -> None:
        """The run ends: people drive the proposal in meetings again."""
        if self.managed:
            await self._compensate(t.MARK_PROPOSAL, t.ProposalMark(
                self.input.compound_id, self.input.proposal_id, ""))
            self.managed = False

    async def _meetings(self, name: str, arg: Any, result_type: type | None = None) -> Any:
        """A call to meetings on the run's own path. One it refuses for good blocks the run in
        a visible state (query, event, metric) until staff retry the call or abandon."""
        attempts, local = 0, self._local(name)
        while True:
            try:
                return await run_activity(name, arg, result_type, local=local,
                                          local_patched=self.one_write)
            except FailureError as exc:
                refused = refusal(exc)
                if refused is None or not self._since(BLOCKED):
                    raise
                attempts += 1
                await self._wait_unblocked(name, refused.message, attempts)

    def _local(self, name: str) -> bool:
        """Whether a call to meetings runs as a local activity (workflows/steps.py)."""
        return name in t.READS or (name in t.QUICK_WRITES and self._since(LOCAL_WRITES))

    def _since(self, patch: str) -> bool:
        """workflow.patched(patch), for the patches older than ONE_WRITE: a run since ONE_WRITE
        has every one of them and asks none (each ask is a marker and a search-attribute upsert
        in the run's history, so a visibility write on the server, one of them in the step after
        the vote closes); a run from before asks each as it did, so it replays as it ran.
        A patch not in OLDER_PATCHES raises: it cannot be taken as given."""
        return taken_as_given(patch, self.one_write) or workflow.patched(patch)

    async def _wait_unblocked(self, call: str, answer: str, attempts: int) -> None:
        status, _, said = answer.partition(" ")  # "409 POST /v1/…: 议案已撤回, 不能表决"
        reason = f"议事服务拒绝{t.CALL_LABELS.get(call, call)} ({status}): {said.split(': ', 1)[-1]}"
        self.was_blocked, self.unblocking = True, None
        self.blocked = t.Blocked(step=self.steps.current, call=call,
                                 call_label=t.CALL_LABELS.get(call, call), reason=reason,
                                 since=workflow.now(), attempts=attempts)
        self.steps.blocked()
        await self.steps.publish("blocked", events.WorkflowBlocked(
            workflow_id=workflow.info().workflow_id, entity_id=self.input.proposal_id,
            compound_id=self.input.compound_id, step=self.blocked.step, call=call,
            reason=reason, title=self.title, audience=self.input.convener_org,
            attempts=attempts))
        try:
            await self.steps.wait(lambda: self.unblocking is not None)
        finally:
            self.blocked = None
        decided, self.unblocking = self.unblocking, None
        assert decided is not None
        if decided.action == "abandon":
            raise Abandoned(decided.reason, decided.by)

    async def _compensate(self, name: str, arg: Any, result_type: type | None = None) -> Any:
        """A compensation while the run ends; once the run was blocked, meetings may refuse it
        for good too (the proposal is gone or withdrawn), and the run still ends."""
        try:
            return await run_activity(name, arg, result_type, local=self._local(name),
                                      local_patched=self.one_write)
        except FailureError as exc:
            if not (self.was_blocked and refusal(exc)):
                raise
            return None

    async def _await_decision(self, until: datetime) -> None:
        """Wait for the convener's decision until the deadline; a revise decision accepted before
        it but still publishing its version is awaited, never overtaken by an abandon."""
        aware = self._since(DECISION_IN_FLIGHT)
        while True:
            await self.steps.wait(
                lambda: self.decision is not None or (aware and self.deciding), until)
            if not (aware and self.deciding):
                return
            await self.steps.wait(lambda: not self.deciding)
            if self.decision is not None or workflow.now() >= until:
                return  # decided; or publishing failed after the deadline: abandon

    async def _consultation(self) -> None:
        step_outcome = "revise" if self.steps.current == t.REJECTED else "started"
        by = self.decision.by if self.decision is not None and step_outcome == "revise" else ""
        self.revision = None
        self.closing_consultation = False
        self.ending = self.extension = None
        closes_at = workflow.now() + timedelta(seconds=self.input.consultation_seconds)
        self.deadlines = {"consultation_closes": closes_at}  # before the move: queries see both
        await self.steps.move(t.CONSULTATION, outcome=step_outcome, round_=self.round, by=by)
        await self._open_consultation(closes_at)
        await self._remind(t.CONSULTATION, "consultation_opened", "residents", closes_at)
        reminded: set[float] = set()
        in_flight_aware = self._since(REVISION_IN_FLIGHT)
        while True:
            due = [o for o in self.input.consultation_reminders
                   if o not in reminded and closes_at - timedelta(seconds=o) > workflow.now()]
            until = min([closes_at, *(closes_at - timedelta(seconds=o) for o in due)])
            woke = await self.steps.wait(
                lambda: self.revision is not None or (in_flight_aware and self.revising)
                or self.ending is not None or self.extension is not None, until)
            if self.ending is not None:
                break  # the convener ended it early (the reason is in the next step's record)
            if self.extension is not None:
                closes_at += timedelta(seconds=self.extension.extend_seconds)
                self.extension = None
                reminded.clear()
                await self._open_consultation(closes_at)
                continue
            if in_flight_aware and self.revising:
                # a revision accepted before the deadline is consulted on, never voted on unseen
                await self.steps.wait(lambda: not self.revising)
                if self.revision is None:
                    continue  # publishing failed: the window stays as it was
            if woke or (in_flight_aware and self.revision is not None):
                closes_at = self._revised_window(closes_at)
                reminded.clear()
                await self._open_consultation(closes_at)
                await self._remind(t.CONSULTATION, "consultation_revised", "residents", closes_at)
                continue
            if workflow.now() >= closes_at:
                break
            reminded.update(o for o in due if closes_at - timedelta(seconds=o) <= workflow.now())
            await self._remind(t.CONSULTATION, "consultation_ending", "residents", closes_at)
        self.closing_consultation = True
        await self._meetings(t.CLOSE_CONSULTATION, self._ref())

    def _revised_window(self, closes_at: datetime) -> datetime:
        revision, self.revision = self.revision, None
        assert revision is not None
        if revision.window == "extend":
            return closes_at + timedelta(seconds=revision.extend_seconds)
        return workflow.now() + timedelta(seconds=self.input.consultation_seconds)

    async def _open_consultation(self, closes_at: datetime) -> None:
        self.deadlines = {"consultation_closes": closes_at}
        await self._meetings(t.OPEN_CONSULTATION, t.OpenWindow(
            self.input.compound_id, self.input.proposal_id, closes_at))

    async def _vote(self) -> t.VoteClosed:
        closes_at = workflow.now() + timedelta(seconds=self.input.vote_seconds)
        self.deadlines = {"vote_closes": closes_at}
        self.vote_id = None  # the last round's vote is closed; the new one opens after the move
        ending = self.ending
        await self.steps.move(t.VOTE, outcome="ended_early" if ending else "closed",
                              note=ending.reason if ending else "", by=ending.by if ending else "",
                              round_=self.round)
        self.vote_id = await self._meetings(t.OPEN_VOTE, t.OpenWindow(
            self.input.compound_id, self.input.proposal_id, closes_at), str)
        vote_ref = t.VoteRef(self.input.compound_id, self.input.proposal_id, self.vote_id)

        self.closing_vote = None

        def closed() -> bool:
            return self.vote_id in self.votes or self.closing_vote is not None

        for offset in sorted(self.input.vote_reminders, reverse=True):
            at = closes_at - timedelta(seconds=offset)
            if at <= workflow.now():
                continue
            if await self.steps.wait(closed, at):
                break
            people = await self._meetings(t.VOTE_NON_VOTERS, vote_ref, list[str])
            if people:
                await self._remind(t.VOTE, "vote_ending", "non_voters", closes_at, people)
        grace = closes_at + timedelta(seconds=self.input.vote_grace_seconds)
        if not await self.steps.wait(closed, grace) or self.vote_id not in self.votes:
            # the vote_closed event never came, or the convener closes the vote now: close it
            # through the API (idempotent there)
            result = await self._meetings(t.CLOSE_VOTE, vote_ref, t.VoteClosed)
            self.votes.setdefault(self.vote_id, result)
        elif self._since(REREAD_VOTE):
            # the signal says that it closed; what it decided is what meetings holds
            self.votes[self.vote_id] = await self._meetings(t.GET_VOTE_RESULT, vote_ref, t.VoteClosed)
        return self.votes[self.vote_id]

    async def _carry_out(self) -> None:
        """Implementation and acceptance until the works are signed off."""
        outcome = "passed"
        while True:
            # state read during a move already describes the step entered (deadlines at once)
            self.deadlines = self._milestone_deadlines()
            # no milestone to wait for: acceptance follows at once, both moves in one write
            passing = self.one_write and not self.deadlines
            await self.steps.move(t.IMPLEMENTATION, outcome=outcome, round_=self.round,
                                  write=not passing)
            await self._implementation()
            self.report = None  # before the move: a report may arrive while it publishes
            self.deadlines = {"acceptance_due": workflow.now()
                              + timedelta(seconds=self.input.acceptance_seconds)}
            await self.steps.move(t.ACCEPTANCE, outcome="done", round_=self.round)
            report = await self._acceptance()
            if report.approved:
                return
            outcome = "defects"
            due = workflow.now() + timedelta(seconds=self.input.defect_fix_seconds)
            self.defects += len(report.defects)
            self.milestones += [t.MilestoneStatus(name=f"整改: {d}", due_at=due) for d in report.defects]

    def _milestone_deadlines(self) -> dict[str, datetime]:
        return {f"milestone:{m.name}": m.due_at for m in self.milestones if m.done_at is None}

    async def _implementation(self) -> None:
        while pending := [m for m in self.milestones if m.done_at is None]:
            waiting = [m.due_at for m in pending if m.escalated_at is None]
            self.deadlines = {f"milestone:{m.name}": m.due_at for m in pending}
            await self.steps.wait(self._progress_after(self.progress_seen), min(waiting, default=None))
            for m in pending:
                if m.done_at is None and m.escalated_at is None and workflow.now() >= m.due_at:
                    m.escalated_at = workflow.now()
                    await self.steps.publish("milestone_overdue", events.MilestoneOverdue(
                        workflow_id=workflow.info().workflow_id,
                        proposal_id=self.input.proposal_id, compound_id=self.input.compound_id,
                        milestone=m.name, due_at=m.due_at, owner=m.owner, percent=m.percent,
                        escalate_to=["owners_committee", "party_branch"], title=self.title))

    def _progress_after(self, seen: int) -> Callable[[], bool]:
        return lambda: self.progress_seen != seen

    async def _acceptance(self) -> t.AcceptanceReport:
        until = self.deadlines["acceptance_due"]  # set before the move into acceptance
        if not await self.steps.wait(lambda: self.report is not None, until):
            await self._remind(t.ACCEPTANCE, "acceptance_due", "owners_committee", until)
            await self.steps.wait(lambda: self.report is not None)
        assert self.report is not None
        return self.report

    async def _satisfaction(self) -> None:
        until = workflow.now() + timedelta(seconds=self.input.satisfaction_seconds)
        self.deadlines = {"satisfaction_closes": until}  # before the move: queries see it at once
        # the step and its reminder in one write (workflows/steps.py ONE_WRITE)
        await self.steps.move(t.SATISFACTION, outcome="approved", round_=self.round,
                              write=not self.one_write)
        await self._remind(t.SATISFACTION, "satisfaction_open", "residents", until)
        await self.steps.wait(lambda: False, until)

    async def _wind_down(self, reason: str) -> None:
        """Cancelled: compensate in meetings (close an open consultation, cancel an open vote),
        then publish the final step."""
        was = self.steps.current
        self.blocked = None
        if was == t.CONSULTATION:
            await self._compensate(t.CLOSE_CONSULTATION, self._ref())
        open_vote = was == t.VOTE and self.vote_id is not None and self.vote_id not in self.votes
        # runs recorded before this compensation existed replay without it
        if open_vote and self._since(CANCEL_OPEN_VOTE):
            assert self.vote_id is not None
            self.vote_status = await self._compensate(t.CANCEL_VOTE, t.VoteCancel(
                self.input.compound_id, self.vote_id, reason), str)
        if self.managed:  # the proposal is withdrawn (whatever is open in meetings cancelled)
            await self._compensate(t.WITHDRAW_PROPOSAL, t.ProposalWithdrawal(
                self.input.compound_id, self.input.proposal_id, reason), str)
            self.managed = False
        self.deadlines = {}
        await self.steps.move(t.CANCELLED, outcome="cancelled", note=reason, round_=self.round,
                              by=self.cancelled_by or "")

    async def _remind(self, step: str, kind: str, audience: str, deadline: datetime,
                      people: list[str] | None = None) -> None:
        await self.steps.publish("reminder_due", events.ReminderDue(
            workflow_id=workflow.info().workflow_id, entity_id=self.input.proposal_id,
            compound_id=self.input.compound_id, kind=kind, audience=audience, deadline=deadline,
            person_ids=people or [], title=self.title))

    def _ref(self) -> t.ProposalRef:
        return t.ProposalRef(self.input.compound_id, self.input.proposal_id)

    def _summary(self, outcome: str, reason: str) -> t.ProposalSummary:
        scores = list(self.ratings.values())
        return t.ProposalSummary(
            proposal_id=self.input.proposal_id, outcome=outcome, rounds=self.round,
            opinions=self._opinion_counts(), votes=list(self.votes.values()),
            overdue_milestones=sum(1 for m in self.milestones if m.escalated_at is not None),
            defects=self.defects, ratings=len(scores),
            satisfaction=round(sum(scores) / len(scores), 2) if scores else None,
            reason=reason, history=self.steps.history)

    def _opinion_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STANCES, 0)
        for stance in self.opinions.values():
            counts[stance] = counts.get(stance, 0) + 1
        return counts

    # ------------------------------------------------------------ signals

    @workflow.signal
    def opinion_recorded(self, opinion: t.OpinionRecorded) -> None:
        self.opinions.setdefault(opinion.opinion_id, opinion.stance)

    @workflow.signal
    def vote_closed(self, result: t.VoteClosed) -> None:
        self.votes.setdefault(result.vote_id, result)

    @workflow.signal
    def milestone_progress(self, progress: t.MilestoneProgress) -> None:
        for m in self.milestones:
            if m.name == progress.milestone and m.done_at is None:
                m.percent, m.note = max(m.percent, min(progress.percent, 100)), progress.note
                if m.percent >= 100:
                    m.done_at = workflow.now()
                self.progress_seen += 1

    @workflow.signal
    def rating(self, rating: t.Rating) -> None:
        if self.steps.current == t.SATISFACTION and 1 <= rating.score <= 5:
            if self._since(ONE_RATING):  # one rating per person; the first one stands
                self.ratings.setdefault(rating.person_id, rating.score)
            else:
                self.ratings[rating.person_id] = rating.score

    # ------------------------------------------------------------ updates

    @workflow.update
    async def revise(self, revision: t.Revision) -> int:
        """Publish a revised version in meetings; the consultation window restarts or extends."""
        self.revising = True
        try:
            self.version = await self._publish_version(revision)
        finally:
            self.revising = False
        self.revision = revision
        return self.version

    @revise.validator
    def _check_revise(self, revision: t.Revision) -> None:
        if (self.steps.current != t.CONSULTATION or self.revision is not None or self.revising
                or self.closing_consultation):
            raise ValueError("只有在征求意见阶段才能发布修订版本 (征求意见已截止或另一修订正在发布)")
        if revision.window not in ("restart", "extend"):
            raise ValueError("window 必须是 restart 或 extend")

    @workflow.update
    async def decide(self, decision: t.Decision) -> str:
        """After a rejected vote: revise and vote again (back to consultation) or abandon."""
        if decision.action == "revise" and decision.revision is not None:
            self.deciding = True
            try:
                self.version = await self._publish_version(decision.revision)
            finally:
                self.deciding = False
        self.decision = decision
        return decision.action

    @decide.validator
    def _check_decide(self, decision: t.Decision) -> None:
        if self.steps.current != t.REJECTED or self.decision is not None or self.deciding:
            raise ValueError("只有在表决未通过后才能决定修订或放弃")
        if decision.action not in ("revise", "abandon"):
            raise ValueError("action 必须是 revise 或 abandon")
        if decision.action == "revise" and decision.revision is None:
            raise ValueError("修订后重新表决需要提供修订版本 (revision)")
        if decision.action == "revise" and self.round >= self.input.max_rounds:
            raise ValueError(f"已达到最多 {self.input.max_rounds} 轮表决, 只能放弃")

    @workflow.update
    async def schedule_review(self, request: t.ReviewMeeting) -> str:
        """A council meeting (党群议事会) to review the opinions, convened in meetings by the
        convener's organisation with the proposal on its agenda; kept in the state."""
        starts_at = instant(request.starts_at)
        meeting_id: str = await run_activity(t.SCHEDULE_REVIEW, t.ReviewRequest(
            self.input.compound_id, self.input.proposal_id, self.input.convener_org,
            f"议案意见审议: {self.title}" if self.title else "议案意见审议", starts_at,
            starts_at + timedelta(hours=request.hours), request.place, request.online_url), str)
        self.reviews.append(t.ReviewScheduled(
            meeting_id=meeting_id, starts_at=starts_at, place=request.place or request.online_url,
            round=self.round, scheduled_at=workflow.now(), by=request.by))
        return meeting_id

    @schedule_review.validator
    def _check_review(self, request: t.ReviewMeeting) -> None:
        if self.steps.current != t.CONSULTATION:
            raise ValueError("只有在征求意见阶段才能安排议事会审议意见")
        if not (request.place.strip() or request.online_url.strip()):
            raise ValueError("请给出会议地点 (place) 或线上会议链接 (online_url)")
        if not 0 < request.hours <= 12:
            raise ValueError("hours 必须在 0 到 12 之间")
        try:
            starts_at = instant(request.starts_at)
        except ValueError:
            raise ValueError("starts_at 不是 ISO-8601 时间") from None
        if starts_at <= workflow.now():
            raise ValueError("议事会时间必须晚于现在")

    @workflow.update
    def end_consultation(self, request: t.ConsultationEnd) -> str:
        """The convener ends the consultation before its deadline; the vote opens."""
        self.ending = request
        return t.VOTE

    @end_consultation.validator
    def _check_end(self, request: t.ConsultationEnd) -> None:
        self._check_consultation_change(request.reason)

    @workflow.update
    def extend_consultation(self, request: t.ConsultationExtension) -> str:
        """The convener extends the open consultation (meetings' deadline moves with it)."""
        self.extension = request
        return t.CONSULTATION

    @extend_consultation.validator
    def _check_extend(self, request: t.ConsultationExtension) -> None:
        self._check_consultation_change(request.reason)
        if not 0 < request.extend_seconds <= 3650 * t.DAY:
            raise ValueError("extend_seconds 必须大于 0 且不超过十年")

    def _check_consultation_change(self, reason: str) -> None:
        if (self.steps.current != t.CONSULTATION or self.closing_consultation or self.revising
                or self.revision is not None or self.ending is not None
                or self.extension is not None):
            raise ValueError("只有在征求意见进行中才能提前结束或延长 (征求意见已截止或另一操作正在进行)")
        if not reason.strip():
            raise ValueError("请说明原因 (reason)")

    @workflow.update
    def close_vote(self, request: t.VoteCloseEarly) -> str:
        """The convener closes the open vote before its deadline; it is counted in meetings."""
        self.closing_vote = request
        return t.VOTE

    @close_vote.validator
    def _check_close_vote(self, request: t.VoteCloseEarly) -> None:
        if (self.steps.current != t.VOTE or self.vote_id is None or self.vote_id in self.votes
                or self.closing_vote is not None):
            raise ValueError("只有在表决进行中才能提前结束表决")
        if not request.reason.strip():
            raise ValueError("请说明原因 (reason)")

    @workflow.update
    def unblock(self, answer: t.Unblock) -> str:
        """Staff answer a blocked run: retry the refused call, or abandon the proposal."""
        self.unblocking = answer
        return self.steps.current if answer.action == "retry" else t.ABANDONED

    @unblock.validator
    def _check_unblock(self, answer: t.Unblock) -> None:
        if self.blocked is None or self.unblocking is not None:
            raise ValueError("流程没有受阻, 无需处理")
        if answer.action not in ("retry", "abandon"):
            raise ValueError("action 必须是 retry 或 abandon")
        if answer.action == "abandon" and not answer.reason.strip():
            raise ValueError("放弃议案请说明原因 (reason)")

    @workflow.update
    def accept(self, report: t.AcceptanceReport) -> str:
        """验收: sign-off, or defects that send the works back to implementation."""
        self.report = report
        return t.SATISFACTION if report.approved else t.IMPLEMENTATION

    @accept.validator
    def _check_accept(self, report: t.AcceptanceReport) -> None:
        if self.steps.current != t.ACCEPTANCE or self.report is not None:
            raise ValueError("只有在验收阶段才能提交验收结论")
        if report.approved and not report.signed_by:
            raise ValueError("验收通过需要签字人 (signed_by)")
        if not report.approved and not report.defects:
            raise ValueError("验收不通过时需要列出问题 (defects)")

    @workflow.update
    def cancel(self, request: t.CancelRequest) -> str:
        """Cancel at any step with a reason; the run ends as cancelled."""
        self.steps.cancel_reason, self.cancelled_by = request.reason, request.by
        return t.CANCELLED

    @cancel.validator
    def _check_cancel(self, request: t.CancelRequest) -> None:
        self.steps.check_cancel(request.reason)

    async def _publish_version(self, revision: t.Revision) -> int:
        new = t.NewVersion(self.input.compound_id, self.input.proposal_id, revision.body,
                           revision.change_summary, revision.budget_fen, revision.by)
        version: int = await run_activity(t.PUBLISH_VERSION, new, int)
        return version

    # ------------------------------------------------------------ queries

    @workflow.query
    def state(self) -> t.ProposalState:
        scores = list(self.ratings.values())
        return t.ProposalState(
            workflow="proposal", proposal_id=self.input.proposal_id,
            compound_id=self.input.compound_id, step=self.steps.current, round=self.round,
            version=self.version, vote_id=self.vote_id, deadlines=self.deadlines,
            history=self.steps.history, opinions=self._opinion_counts(),
            votes=list(self.votes.values()), milestones=self.milestones, ratings=len(scores),
            satisfaction=round(sum(scores) / len(scores), 2) if scores else None,
            cancel_reason=self.steps.cancel_reason, vote_status=self._vote_status(),
            convener_org=self.input.convener_org, cancelled_by=self.cancelled_by,
            reviews=self.reviews, managed=self.managed, rated=sorted(self.ratings),
            blocked=self.blocked)

    def _vote_status(self) -> str | None:
        """The round's vote, said outright: "opening" while meetings opens it (no id yet)."""
        if self.vote_status is not None:
            return self.vote_status  # cancelled by the run's cancellation
        if self.vote_id is None:
            return "opening" if self.steps.current == t.VOTE else None
        return "closed" if self.vote_id in self.votes else "open"

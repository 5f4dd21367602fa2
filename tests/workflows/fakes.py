"""A stand-in for the meetings service's side of the activities, registered under the same names.

The workflow tests on the time-skipping server use it instead of the real services (the worker
tests and tests/workflows/council.py run those): it records every call so tests can assert that
nothing was done twice. Events still go to the real outbox (OutboxActivities).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from workflows.follow_up import types as ft
from workflows.proposal import types as t


class FakeMeetings:
    def __init__(self, *, close_outcomes: list[str] | None = None,
                 non_voters: list[str] | None = None) -> None:
        self.calls: Counter[str] = Counter()
        self.close_outcomes = list(close_outcomes or [])
        self.non_voters = non_voters if non_voters is not None else ["owner-a", "owner-b"]
        self.version = 1
        self.votes: list[str] = []
        self.consultation_closes: list[Any] = []
        self.marks: list[str] = []  # the workflow ids marked ("" when cleared), in order
        self.results: dict[str, t.VoteClosed] = {}  # what meetings holds, by vote id
        # activity name → how many more calls meetings refuses for good, and in which words
        self.refusals: Counter[str] = Counter()
        self.refusal = "409 POST /v1/compounds/c/proposals/p/consultation: 议案已撤回, 不能再征求意见"

    def _refuse(self, name: str) -> None:
        """Answer as workflows/service_calls.py does for a 4xx: not retryable."""
        if self.refusals[name] > 0:
            self.refusals[name] -= 1
            raise ApplicationError(self.refusal, type="upstream-error", non_retryable=True)

    def all(self) -> list[Callable[..., Any]]:
        return [self.get_proposal, self.open_consultation, self.close_consultation,
                self.publish_version, self.open_vote, self.vote_non_voters, self.close_vote,
                self.cancel_vote, self.schedule_review, self.mark_proposal,
                self.withdraw_proposal, self.get_vote_result]

    @activity.defn(name=t.GET_PROPOSAL)
    async def get_proposal(self, ref: t.ProposalRef) -> t.ProposalInfo:
        self.calls[t.GET_PROPOSAL] += 1
        return t.ProposalInfo(title="屋顶隔热改造", matter="art278_7", current_version=self.version,
                              status="draft")

    @activity.defn(name=t.OPEN_CONSULTATION)
    async def open_consultation(self, req: t.OpenWindow) -> None:
        self.calls[t.OPEN_CONSULTATION] += 1
        self._refuse(t.OPEN_CONSULTATION)
        self.consultation_closes.append(req.closes_at)

    @activity.defn(name=t.CLOSE_CONSULTATION)
    async def close_consultation(self, ref: t.ProposalRef) -> None:
        self.calls[t.CLOSE_CONSULTATION] += 1

    @activity.defn(name=t.PUBLISH_VERSION)
    async def publish_version(self, req: t.NewVersion) -> int:
        self.calls[t.PUBLISH_VERSION] += 1
        self.version += 1
        return self.version

    @activity.defn(name=t.OPEN_VOTE)
    async def open_vote(self, req: t.OpenWindow) -> str:
        self.calls[t.OPEN_VOTE] += 1
        self.votes.append(str(uuid.uuid4()))
        return self.votes[-1]

    @activity.defn(name=t.VOTE_NON_VOTERS)
    async def vote_non_voters(self, ref: t.VoteRef) -> list[str]:
        self.calls[t.VOTE_NON_VOTERS] += 1
        return list(self.non_voters)

    @activity.defn(name=t.CLOSE_VOTE)
    async def close_vote(self, ref: t.VoteRef) -> t.VoteClosed:
        self.calls[t.CLOSE_VOTE] += 1
        outcome = self.close_outcomes.pop(0) if self.close_outcomes else "passed"
        return t.VoteClosed(vote_id=ref.vote_id, outcome=outcome, version=self.version,
                            rule="civil_code_major")

    @activity.defn(name=t.CANCEL_VOTE)
    async def cancel_vote(self, req: t.VoteCancel) -> str:
        self.calls[t.CANCEL_VOTE] += 1
        return "cancelled"

    @activity.defn(name=t.MARK_PROPOSAL)
    async def mark_proposal(self, req: t.ProposalMark) -> None:
        self.calls[t.MARK_PROPOSAL] += 1
        self.marks.append(req.workflow_id)

    @activity.defn(name=t.WITHDRAW_PROPOSAL)
    async def withdraw_proposal(self, req: t.ProposalWithdrawal) -> str:
        self.calls[t.WITHDRAW_PROPOSAL] += 1
        self.marks.append("")
        return "withdrawn"

    @activity.defn(name=t.GET_VOTE_RESULT)
    async def get_vote_result(self, ref: t.VoteRef) -> t.VoteClosed:
        self.calls[t.GET_VOTE_RESULT] += 1
        return self.results.get(ref.vote_id) or t.VoteClosed(
            vote_id=ref.vote_id, outcome="passed", version=self.version, rule="civil_code_major")

    @activity.defn(name=t.SCHEDULE_REVIEW)
    async def schedule_review(self, req: t.ReviewRequest) -> str:
        self.calls[t.SCHEDULE_REVIEW] += 1
        return str(uuid.uuid4())


class FakeIssues:
    """The issues service's side: a status the test sets, escalations and reopenings counted."""

    def __init__(self, status: str = "accepted") -> None:
        self.status = status
        self.first_response_at: str | None = None
        self.calls: Counter[str] = Counter()

    def all(self) -> list[Callable[..., Any]]:
        return [self.get_issue, self.escalate_issue, self.reopen_issue]

    @activity.defn(name=ft.GET_ISSUE)
    async def get_issue(self, ref: ft.IssueRef) -> ft.IssueInfo:
        self.calls[ft.GET_ISSUE] += 1
        return ft.IssueInfo(status=self.status, first_response_at=self.first_response_at)

    @activity.defn(name=ft.ESCALATE_ISSUE)
    async def escalate_issue(self, req: ft.Escalation) -> bool:
        self.calls[ft.ESCALATE_ISSUE] += 1
        return True

    @activity.defn(name=ft.REOPEN_ISSUE)
    async def reopen_issue(self, ref: ft.IssueRef) -> None:
        self.calls[ft.REOPEN_ISSUE] += 1
        self.status = "in_progress"

"""Activities: verbs on classes that receive their clients. Workflows call them by name.

Meetings and issues are reached only through their HTTP APIs with app tokens
(meetings:manage, issues:manage); events leave through the workflows schema's outbox.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec
from temporalio import activity
from temporalio.exceptions import ApplicationError

import workflows.events  # noqa: F401  (registers the event types in the catalogue)
from linli import bus
from linli.clients import ServiceClient
from linli.db import Pool, transaction
from linli.events import CATALOGUE
from linli.problems import Problem
from workflows import types as t

RETRYABLE = {408, 425, 429}


def _key() -> dict[str, str]:
    """Idempotency-Key stable across retries of one activity, so a retry creates nothing twice."""
    info = activity.info()
    return {"Idempotency-Key": f"{info.workflow_id}/{info.workflow_run_id}/{info.activity_id}"}


async def _call(send: Callable[[], Any]) -> Any:
    """A client call; a 4xx answer (other than timeouts/throttling) is not worth retrying."""
    try:
        return await send()
    except Problem as exc:
        if 400 <= exc.status < 500 and exc.status not in RETRYABLE:
            raise ApplicationError(f"{exc.status} {exc.detail}", type=exc.kind, non_retryable=True) from None
        raise ApplicationError(f"{exc.status} {exc.detail}", type=exc.kind) from None


class MeetingsActivities:
    """Proposals, consultations and votes in the meetings service."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def all(self) -> list[Callable[..., Any]]:
        return [self.get_proposal, self.open_consultation, self.close_consultation,
                self.publish_version, self.open_vote, self.vote_non_voters, self.close_vote,
                self.cancel_vote, self.schedule_review]

    @staticmethod
    def _base(compound_id: str, proposal_id: str = "") -> str:
        base = f"/v1/compounds/{compound_id}"
        return f"{base}/proposals/{proposal_id}" if proposal_id else base

    @activity.defn(name=t.GET_PROPOSAL)
    async def get_proposal(self, ref: t.ProposalRef) -> t.ProposalInfo:
        p = await _call(lambda: self.client.get(self._base(ref.compound_id, ref.proposal_id)))
        return t.ProposalInfo(title=p["title"], matter=p["matter"],
                              current_version=int(p.get("current_version") or 1), status=p["status"])

    @activity.defn(name=t.OPEN_CONSULTATION)
    async def open_consultation(self, req: t.OpenWindow) -> None:
        path = self._base(req.compound_id, req.proposal_id) + "/consultation"
        await _call(lambda: self.client.post(path, {"closes_at": req.closes_at.isoformat()}))

    @activity.defn(name=t.CLOSE_CONSULTATION)
    async def close_consultation(self, ref: t.ProposalRef) -> None:
        path = self._base(ref.compound_id, ref.proposal_id) + "/consultation/close"
        await _call(lambda: self.client.request("POST", path))

    @activity.defn(name=t.PUBLISH_VERSION)
    async def publish_version(self, req: t.NewVersion) -> int:
        body: dict[str, Any] = {"body": req.body, "change_summary": req.change_summary}
        if req.budget_fen is not None:
            body["budget_fen"] = req.budget_fen
        path = self._base(req.compound_id, req.proposal_id) + "/versions"
        version = await _call(lambda: self.client.request("POST", path, json=body, headers=_key()))
        return int(version["number"])

    @activity.defn(name=t.OPEN_VOTE)
    async def open_vote(self, req: t.OpenWindow) -> str:
        path = self._base(req.compound_id, req.proposal_id) + "/votes"
        vote = await _call(lambda: self.client.request(
            "POST", path, json={"closes_at": req.closes_at.isoformat()}, headers=_key()))
        return str(vote["id"])

    @activity.defn(name=t.VOTE_NON_VOTERS)
    async def vote_non_voters(self, ref: t.VoteRef) -> list[str]:
        path = f"{self._base(ref.compound_id)}/votes/{ref.vote_id}/non-voters"
        answer = await _call(lambda: self.client.get(path))
        return [str(p) for p in answer.get("person_ids", [])]

    @activity.defn(name=t.CLOSE_VOTE)
    async def close_vote(self, ref: t.VoteRef) -> t.VoteClosed:
        path = f"{self._base(ref.compound_id)}/votes/{ref.vote_id}/close"
        r = await _call(lambda: self.client.request("POST", path))
        return vote_result(ref.vote_id, r)

    @activity.defn(name=t.CANCEL_VOTE)
    async def cancel_vote(self, req: t.VoteCancel) -> str:
        """Cancel the open vote (idempotent there); one closed meanwhile (409) stays closed."""
        path = f"{self._base(req.compound_id)}/votes/{req.vote_id}/cancel"

        async def send() -> str:
            try:
                vote = await self.client.post(path, {"reason": req.reason})
            except Problem as exc:
                if exc.status == 409:  # closed and counted before the cancel came
                    return "closed"
                raise
            return str(vote["status"])

        status: str = await _call(send)
        return status

    @activity.defn(name=t.SCHEDULE_REVIEW)
    async def schedule_review(self, req: t.ReviewRequest) -> str:
        """Convene a 党群议事会 with the proposal on its agenda; a retry convenes nothing twice
        (Idempotency-Key) and adds the item only if the meeting does not have it yet."""
        base = self._base(req.compound_id)
        body: dict[str, Any] = {
            "kind": "party_masses_council", "title": req.title, "convener_kind": req.convener_org,
            "starts_at": req.starts_at.isoformat(), "ends_at": req.ends_at.isoformat()}
        body |= {k: v for k, v in (("place", req.place), ("online_url", req.online_url)) if v}
        meeting = await _call(lambda: self.client.request("POST", f"{base}/meetings", json=body,
                                                          headers=_key()))
        path = f"{base}/meetings/{meeting['id']}"
        meeting = await _call(lambda: self.client.get(path))
        if not any(i.get("proposal_id") == req.proposal_id for i in meeting.get("agenda", [])):
            await _call(lambda: self.client.post(f"{path}/agenda", {"proposal_id": req.proposal_id}))
        return str(meeting["id"])


def vote_result(vote_id: str, r: dict[str, Any]) -> t.VoteClosed:
    """A meetings VoteResult (or VoteClosed event data) as the workflow's VoteClosed."""
    result = r.get("result") if isinstance(r.get("result"), dict) else r
    outcome = r.get("outcome") or (result or {}).get("outcome")
    return t.VoteClosed(vote_id=vote_id, outcome="passed" if outcome == "passed" else "rejected",
                        version=int(r.get("version") or 0), rule=str(r.get("rule") or ""),
                        result=dict(result or {}))


class IssuesActivities:
    """Issues in the issues service."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def all(self) -> list[Callable[..., Any]]:
        return [self.get_issue, self.escalate_issue, self.reopen_issue]

    @activity.defn(name=t.GET_ISSUE)
    async def get_issue(self, ref: t.IssueRef) -> t.IssueInfo:
        path = f"/v1/compounds/{ref.compound_id}/issues/{ref.issue_id}"
        issue = await _call(lambda: self.client.get(path))
        return msgspec.convert({k: issue.get(k) for k in ("status", "first_response_at", "resolved_at")},
                               t.IssueInfo)

    @activity.defn(name=t.ESCALATE_ISSUE)
    async def escalate_issue(self, req: t.Escalation) -> bool:
        """Escalate; an issue already escalated (409) counts as done."""
        path = f"/v1/compounds/{req.compound_id}/issues/{req.issue_id}/escalate"

        async def send() -> bool:
            try:
                await self.client.post(path, {"reason": req.reason})
            except Problem as exc:
                if exc.status == 409:
                    return False
                raise
            return True

        escalated: bool = await _call(send)
        return escalated

    @activity.defn(name=t.REOPEN_ISSUE)
    async def reopen_issue(self, ref: t.IssueRef) -> None:
        """The reporter is not satisfied: reopen (issues records reason "unsatisfied")."""
        path = f"/v1/compounds/{ref.compound_id}/issues/{ref.issue_id}/reopen"
        body = {"reason": "上报人对处理结果不满意 (回访)"}
        await _call(lambda: self.client.request("POST", path, json=body, headers=_key()))


class OutboxActivities:
    """Writes workflow events to the workflows schema's outbox; the worker's relay publishes them."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    def all(self) -> list[Callable[..., Any]]:
        return [self.record_event]

    @activity.defn(name=t.RECORD_EVENT)
    async def record_event(self, record: t.EventRecord) -> bool:
        """Write the event once (its id is fixed by the workflow); False if already written."""
        kind = CATALOGUE.get(record.type)
        if kind is None:
            raise ApplicationError(f"unknown event type {record.type}", non_retryable=True)
        try:
            data = msgspec.convert(record.data, kind.data, strict=False)
        except msgspec.ValidationError as exc:
            raise ApplicationError(f"{record.type}: {exc}", non_retryable=True) from None
        event = msgspec.structs.replace(
            kind.new(subject=record.subject, data=data, compound_id=record.compound_id),
            id=record.event_id)
        async with transaction(self.pool) as conn:
            return await bus.write_event_once(conn, event)

"""ProposalWorkflow's activities: proposals, consultations and votes in the meetings service,
reached only through its HTTP API with an app token (meetings:manage). The workflow calls them
by name (workflows/proposal/types.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity

from linli.clients import ServiceClient
from linli.problems import Problem
from workflows.proposal import types as t
from workflows.service_calls import call as _call
from workflows.service_calls import idempotency_key as _key


class MeetingsActivities:
    """Proposals, consultations and votes in the meetings service."""

    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def all(self) -> list[Callable[..., Any]]:
        return [self.get_proposal, self.open_consultation, self.close_consultation,
                self.publish_version, self.open_vote, self.vote_non_voters, self.close_vote,
                self.cancel_vote, self.schedule_review, self.mark_proposal,
                self.withdraw_proposal, self.get_vote_result]

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
        if req.by and not req.by.startswith("app:"):
            body["on_behalf_of"] = req.by  # the version is the deciding person's, not the app's
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

    @activity.defn(name=t.MARK_PROPOSAL)
    async def mark_proposal(self, req: t.ProposalMark) -> None:
        """Mark (or clear) the proposal as run by this workflow: meetings then refuses the steps
        the workflow drives when anyone else asks (idempotent)."""
        path = self._base(req.compound_id, req.proposal_id) + "/managed-by"
        body = {"workflow_id": req.workflow_id or None}
        await _call(lambda: self.client.request("PUT", path, json=body))

    @activity.defn(name=t.WITHDRAW_PROPOSAL)
    async def withdraw_proposal(self, req: t.ProposalWithdrawal) -> str:
        """Withdraw the proposal (closes its consultation, cancels its open vote, clears the
        mark); a proposal already passed stays passed and only loses the mark."""
        path = self._base(req.compound_id, req.proposal_id)

        async def send() -> str:
            try:
                p = await self.client.post(f"{path}/withdraw", {"reason": req.reason})
            except Problem as exc:
                if exc.status != 409:
                    raise
                await self.client.request("PUT", f"{path}/managed-by", json={"workflow_id": None})
                return "passed"
            return str(p["status"])

        status: str = await _call(send)
        return status

    @activity.defn(name=t.GET_VOTE_RESULT)
    async def get_vote_result(self, ref: t.VoteRef) -> t.VoteClosed:
        """The vote's stored result in meetings (the signal only says that it closed)."""
        path = f"{self._base(ref.compound_id)}/votes/{ref.vote_id}/result"
        r = await _call(lambda: self.client.get(path))
        return vote_result(ref.vote_id, r)

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

"""CommitteeFoundingWorkflow's activities: the directory over HTTP (the roll, and recording the
committee on the 1+3+N roster), with an app token holding directory:write."""

from __future__ import annotations

from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from linli.clients import ServiceClient
from linli.problems import Problem
from workflows.committee.types import (
    CHECK_CANDIDATES,
    COMPOUND_QUALIFICATION,
    RECORD_COMMITTEE,
    CandidateCheck,
    CommitteeRecord,
    CompoundRef,
    Qualification,
)
from workflows.service_calls import call

OWNERS_COMMITTEE = "owners_committee"


def organisation_name(term: int) -> str:
    return f"第{term}届业主委员会"


class CommitteeActivities:
    def __init__(self, directory: ServiceClient) -> None:
        self.directory = directory

    def all(self) -> list[Any]:
        return [self.compound_qualification, self.check_candidates, self.record_committee]

    async def _send(self, method: str, path: str, body: Any = None) -> Any:
        try:
            return await self.directory.request(method, path, json=body)
        except Problem as exc:
            retry = exc.status >= 500 or exc.status in (408, 429)
            raise ApplicationError(f"{exc.status} {exc.detail}", type=exc.kind,
                                   non_retryable=not retry) from None

    @activity.defn(name=COMPOUND_QUALIFICATION)
    async def compound_qualification(self, ref: CompoundRef) -> Qualification:
        """Total and delivered exclusive area from the roll: the developer's entry holds the
        unsold and undelivered units (司法解释 Art. 9), everything else is sold and delivered."""
        roll = await self._send("GET", f"/v1/compounds/{ref.compound_id}/roll")
        delivered = sum(e["area_centi"] for e in roll["entries"] if e["kind"] != "developer")
        owners = sum(e["headcount"] for e in roll["entries"] if e["kind"] != "developer")
        return Qualification(total_area_centi=roll["total_area_centi"],
                             delivered_area_centi=delivered, owners=owners)

    @activity.defn(name=CHECK_CANDIDATES)
    async def check_candidates(self, check: CandidateCheck) -> list[str]:
        """The candidates who are not owners of the compound (empty when all are)."""
        roll = await self._send("GET", f"/v1/compounds/{check.compound_id}/roll")
        owners = {str(p) for e in roll["entries"] for p in e["owner_ids"]}
        return [p for p in check.person_ids if p not in owners]

    @activity.defn(name=RECORD_COMMITTEE)
    async def record_committee(self, record: CommitteeRecord) -> str:
        """The committee as the compound's owners_committee organisation, each member with a
        role for the term; once only (a retry finds what an earlier attempt recorded)."""
        base = f"/v1/compounds/{record.compound_id}"
        name = organisation_name(record.term)
        roster = await call(lambda: self.directory.get_all(f"{base}/roster?on={record.starts_on}"))
        found = [r for r in roster if r["organisation"]["kind"] == OWNERS_COMMITTEE
                 and r["organisation"]["name"] == name]
        if found:
            org_id, seated = found[0]["organisation"]["id"], {
                str(role["person_id"]) for role in found[0]["roles"]}
        else:
            org = await self._send("POST", f"{base}/organisations",
                                   {"kind": OWNERS_COMMITTEE, "name": name})
            org_id, seated = org["id"], set()
        for member in record.members:
            if member.person_id in seated:
                continue
            title = ("主任" if member.person_id == record.chair else
                     "副主任" if member.person_id in record.vice_chairs else "委员")
            await self._send("POST", f"{base}/organisations/{org_id}/roles", {
                "person_id": member.person_id, "title": title,
                "starts_on": record.starts_on, "ends_on": record.ends_on})
        return str(org_id)

"""CommitteeFoundingWorkflow's activities: the directory over HTTP (the roll, and recording the
committee on the 1+3+N roster, ending a member's role) with an app token holding
directory:write; meetings (the unpaid bills of candidates' units) with meetings:manage."""

from __future__ import annotations

import functools
from typing import Any

from temporalio import activity

from linli.clients import ServiceClient
from linli.problems import Problem
from workflows.committee.types import (
    CHECK_CANDIDATES,
    CHECK_ELIGIBILITY,
    COMPOUND_QUALIFICATION,
    END_ROLE,
    RECORD_COMMITTEE,
    CandidateCheck,
    CommitteeRecord,
    CompoundRef,
    EligibilityCheck,
    Ineligible,
    Qualification,
    RoleEnding,
)
from workflows.service_calls import call, failure

OWNERS_COMMITTEE = "owners_committee"
UNITS_PER_ASK = 150


def organisation_name(term: int) -> str:
    return f"第{term}届业主委员会"


def owed_text(lines: list[dict[str, Any]]) -> str:
    """The unpaid bill lines in words: 电梯电费 2026-07 1.00 元、…, and the sum."""
    total = sum(int(line["amount_fen"]) for line in lines)
    each = "、".join(f"{line['cost_name']} {line['period']} {int(line['amount_fen']) / 100:.2f} 元"
                    for line in lines[:3])
    more = f" 等 {len(lines)} 笔" if len(lines) > 3 else ""
    return f"有未缴的费用 {total / 100:.2f} 元 ({each}{more})"


class CommitteeActivities:
    def __init__(self, directory: ServiceClient, meetings: ServiceClient) -> None:
        self.directory, self.meetings = directory, meetings

    def all(self) -> list[Any]:
        return [self.compound_qualification, self.check_candidates, self.record_committee,
                self.check_eligibility, self.end_role]

    async def _send(self, method: str, path: str, body: Any = None,
                    service: ServiceClient | None = None) -> Any:
        try:
            return await (service or self.directory).request(method, path, json=body)
        except Problem as exc:
            raise failure(exc) from None

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

    @activity.defn(name=CHECK_ELIGIBILITY)
    async def check_eligibility(self, check: EligibilityCheck) -> list[Ineligible]:
        """The candidates who may not stand, each with the reason: not an owner on the roll, or
        (where the compound requires it) a bill of one of their units never recorded paid."""
        base = f"/v1/compounds/{check.compound_id}"
        roll = await self._send("GET", f"{base}/roll")
        units: dict[str, list[str]] = {}
        for entry in roll["entries"]:
            for person in entry["owner_ids"]:
                units.setdefault(str(person), []).extend(str(u) for u in entry["unit_ids"])
        refused = [Ineligible(p, "不是本小区业主") for p in check.person_ids if p not in units]
        owners = [p for p in check.person_ids if p in units]
        if not (check.no_unpaid_fees and owners):
            return refused
        asked = sorted({u for p in owners for u in units[p]})
        lines: list[Any] = []
        for start in range(0, len(asked), UNITS_PER_ASK):  # meetings takes 150 ids a request
            url = f"{base}/unpaid-bills?unit_ids={','.join(asked[start:start + UNITS_PER_ASK])}"
            lines += await call(functools.partial(self.meetings.get_all, url))
        for person in owners:
            owed = [line for line in lines if str(line["unit_id"]) in units[person]]
            if owed:
                refused.append(Ineligible(person, owed_text(owed)))
        return refused

    @activity.defn(name=END_ROLE)
    async def end_role(self, ending: RoleEnding) -> None:
        """The member's role in the committee ends on ends_on (not before it began); once only:
        a role already ended by then is left as it is."""
        base = f"/v1/compounds/{ending.compound_id}"
        roster = await call(lambda: self.directory.get_all(f"{base}/roster"))
        roles = [role for entry in roster if str(entry["organisation"]["id"]) ==
                 ending.organisation_id for role in entry["roles"]
                 if str(role["person_id"]) == ending.person_id]
        for role in roles:
            if role["ends_on"] is not None and role["ends_on"] <= ending.ends_on:
                continue
            await self._send("POST", f"{base}/roles/{role['id']}/end",
                             {"ends_on": max(ending.ends_on, str(role["starts_on"]))})

"""The committee in office: a member leaves mid-term (resignation, eligibility lost, removal by
the owners' assembly) and the open seats are filled by a by-election (补选) for the rest of the
term. One change at a time; each is a member_change step and back to in_office, both published
on the notice board (step_changed), with the roster in the directory updated.

A mixin of CommitteeFoundingWorkflow (its updates and its term loop); runs in the sandbox.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    import workflows.committee.types as t
    from workflows.steps import Steps, instant, run_activity

CHINA = timezone(timedelta(hours=8))
Change = t.Vacancy | t.Removal | t.ByElection


def refusal(candidates: list[t.Member], refused: list[t.Ineligible]) -> str:
    """Why candidates may not stand, by name: 候选人须是本小区业主: 甲; 候选人不符合资格: 乙 有未缴…"""
    names = {c.person_id: c.name for c in candidates}
    strangers = [names[r.person_id] for r in refused if r.reason == "不是本小区业主"]
    others = [f"{names[r.person_id]} {r.reason}" for r in refused if r.reason != "不是本小区业主"]
    parts = ([f"候选人须是本小区业主: {'、'.join(strangers)}"] if strangers else []) + (
        [f"候选人不符合资格: {'; '.join(others)}"] if others else [])
    return "; ".join(parts)


async def check_candidates(compound_id: str, candidates: list[t.Member],
                           no_unpaid_fees: bool) -> None:
    """Raise (the update is refused) unless every candidate may stand."""
    refused = await run_activity(t.CHECK_ELIGIBILITY, t.EligibilityCheck(
        compound_id, [c.person_id for c in candidates], no_unpaid_fees), list[t.Ineligible])
    if refused:
        raise ApplicationError(refusal(candidates, refused))


class MemberChanges:
    """The in-office part of CommitteeFoundingWorkflow (its state lives on the workflow)."""

    steps: Steps
    s: t.CommitteeState
    input: t.CommitteeInput
    changes_open: bool
    change: Change | None
    removal_outcome: str | None
    by_result: t.ElectionClosed | None

    def _init_changes(self) -> None:
        self.changes_open, self.change = False, None
        self.removal_outcome, self.by_result = None, None

    async def _serve_term(self, remind_at: datetime) -> None:
        """In office until remind_at, taking each member change as it comes."""
        while await self.steps.wait(lambda: self.change is not None, until=remind_at):
            change, self.change = self.change, None
            if isinstance(change, t.Vacancy):
                await self._vacate(change)
            elif isinstance(change, t.Removal):
                await self._remove(change, remind_at)
            elif isinstance(change, t.ByElection):
                await self._by_elect(change, remind_at)
        self.changes_open = False

    def _member(self, person_id: str) -> t.Member:
        return next(m for m in self.s.members if m.person_id == person_id)

    @staticmethod
    def _today() -> str:
        return workflow.now().astimezone(CHINA).date().isoformat()

    def _seats_text(self) -> str:
        return (f"任期至 {self.s.term_ends_on}; 现有委员 {len(self.s.members)} 名"
                + (f", 空缺 {self.s.open_seats} 席, 待业主大会补选" if self.s.open_seats else ""))

    async def _leave(self, member: t.Member, reason: str) -> str:
        """The member's role ends today in the directory; the seat is open."""
        today = self._today()
        await run_activity(t.END_ROLE, t.RoleEnding(self.input.compound_id,
                                                    self.s.organisation_id, member.person_id,
                                                    today))
        self.s.members = [m for m in self.s.members if m.person_id != member.person_id]
        self.s.open_seats += 1
        if self.s.chair == member.person_id:
            self.s.chair = ""
        self.s.vice_chairs = [p for p in self.s.vice_chairs if p != member.person_id]
        return f"委员 {member.name} {t.LEAVING[reason]}, 职务于 {today} 终止; {self._seats_text()}"

    async def _vacate(self, vacancy: t.Vacancy) -> None:
        member = self._member(vacancy.person_id)
        await self.steps.move(t.MEMBER_CHANGE, outcome=vacancy.reason, by=vacancy.by,
                              note=f"委员 {member.name} {t.LEAVING[vacancy.reason]}"
                                   + (f": {vacancy.note}" if vacancy.note else ""))
        note = await self._leave(member, vacancy.reason)
        await self.steps.move(t.IN_OFFICE, outcome="left", note=note)

    async def _remove(self, removal: t.Removal, remind_at: datetime) -> None:
        """The owners vote on it (an ordinary Art. 278 vote); the term's end overtakes it."""
        member = self._member(removal.person_id)
        self.s.removal, self.removal_outcome = removal, None
        await self.steps.move(t.MEMBER_CHANGE, outcome="removal_proposed", by=removal.by, note=(
            f"业主大会表决是否罢免委员 {member.name} (民法典第二百七十八条第三项: 参与表决的面积与"
            "人数均不少于三分之二, 同意的面积与人数均超过参与表决的一半)"))
        decided = await self.steps.wait(lambda: self.removal_outcome is not None, until=remind_at)
        self.s.removal = None
        if not decided:
            await self.steps.move(t.IN_OFFICE, outcome="term_ending",
                                  note=f"罢免委员 {member.name} 的表决未在任期内结束")
        elif self.removal_outcome == "passed":
            await self.steps.move(t.IN_OFFICE, outcome="removed",
                                  note=await self._leave(member, "removal"))
        else:
            await self.steps.move(t.IN_OFFICE, outcome="removal_rejected",
                                  note=f"罢免委员 {member.name} 未获业主大会通过, 继续任职")

    async def _by_elect(self, by_election: t.ByElection, remind_at: datetime) -> None:
        """The elected take the open seats (委员) for the rest of the term."""
        self.s.by_election, self.by_result = by_election, None
        names = "、".join(c.name for c in by_election.candidates)
        await self.steps.move(t.MEMBER_CHANGE, outcome="by_election", by=by_election.by, note=(
            f"补选 {self.s.open_seats} 名委员, 业主大会 {by_election.meeting_at}; 候选人: {names}"))
        done = await self.steps.wait(lambda: self.by_result is not None, until=remind_at)
        self.s.by_election, result = None, self.by_result
        if not done or result is None:
            await self.steps.move(t.IN_OFFICE, outcome="term_ending",
                                  note=f"补选未在任期内结束; {self._seats_text()}")
            return
        elected = [c for c in by_election.candidates if c.person_id in result.elected]
        elected = elected[:self.s.open_seats]
        if elected:
            await run_activity(t.RECORD_COMMITTEE, t.CommitteeRecord(
                compound_id=self.input.compound_id, term=self.input.term, members=elected,
                chair="", vice_chairs=[], starts_on=self._today(),
                ends_on=self.s.term_ends_on), str)
        self.s.members += elected
        self.s.open_seats -= len(elected)
        who = "、".join(m.name for m in elected) or "无人"
        await self.steps.move(t.IN_OFFICE, outcome="by_elected" if elected else result.outcome,
                              note=f"补选当选: {who}; {self._seats_text()}")

    # ------------------------------------------------------------------ updates

    def _check_change(self, person_id: str | None) -> None:
        if self.steps.current != t.IN_OFFICE:
            raise ValueError(f"当前阶段 {self.steps.current or '未开始'} 不能变更委员")
        if not self.changes_open:  # a run in office since before member changes existed
            raise ValueError("本届委员会的流程早于委员变更功能, 换届后才能在流程中办理")
        if self.change is not None:
            raise ValueError("另一项委员变更正在办理")
        if person_id is not None and person_id not in {m.person_id for m in self.s.members}:
            raise ValueError("此人不是现任委员")

    @workflow.update
    def vacate(self, vacancy: t.Vacancy) -> str:
        """A member resigned, or is no longer eligible (recorded by the street office)."""
        self.change = vacancy
        return t.MEMBER_CHANGE

    @vacate.validator
    def _check_vacate(self, vacancy: t.Vacancy) -> None:
        self._check_change(vacancy.person_id)
        if vacancy.reason not in ("resignation", "ineligible"):
            raise ValueError("reason 须为 resignation (辞职) 或 ineligible (不再具备资格); "
                             "罢免须经业主大会表决 (propose_removal)")

    @workflow.update
    def propose_removal(self, removal: t.Removal) -> str:
        self.change = removal
        return t.MEMBER_CHANGE

    @propose_removal.validator
    def _check_removal(self, removal: t.Removal) -> None:
        self._check_change(removal.person_id)
        if not removal.proposal_id:
            raise ValueError("须附罢免委员的议案 (art278_3)")

    @workflow.update
    async def schedule_by_election(self, by_election: t.ByElection) -> str:
        """补选 of the open seats; the candidates are checked as at the founding."""
        await check_candidates(self.input.compound_id, by_election.candidates,
                               self.input.no_unpaid_fees)
        if self.change is not None:
            raise ApplicationError("另一项委员变更正在办理")
        self.change = by_election
        return t.MEMBER_CHANGE

    @schedule_by_election.validator
    def _check_by_election(self, by_election: t.ByElection) -> None:
        self._check_change(None)
        if self.s.open_seats < 1:
            raise ValueError("没有空缺的委员席位")
        ids = [c.person_id for c in by_election.candidates]
        if len(ids) < self.s.open_seats or len(set(ids)) != len(ids):
            raise ValueError(f"候选人不能重复, 且不能少于空缺席位 ({self.s.open_seats})")
        if set(ids) & {m.person_id for m in self.s.members}:
            raise ValueError("现任委员不能作为补选候选人")
        if not by_election.election_proposal_id:
            raise ValueError("须附补选的选举议案 (art278_3)")
        try:
            at = instant(by_election.meeting_at)
        except ValueError:
            raise ValueError("meeting_at 须是带时区的时间") from None
        if at < workflow.now() + timedelta(days=self.input.notice_days):
            raise ValueError(f"业主大会须至少提前 {self.input.notice_days} 天通知全体业主")

"""CommitteeFoundingWorkflow: founding the owners' committee (业主委员会) lawfully, and its term.

request → the compound qualifies (share of the exclusive area sold and delivered, from the
directory's roll) and the street office confirms → preparatory group (筹备组, owner
representatives a majority) formed and published (公示) → rules of procedure and statute as
proposals, candidates nominated and checked (owners of the compound), the list published → the
general meeting's notice (≥ notice_days) → the election (a committee_election vote in meetings;
its result comes from linli.meetings.vote.closed through the bridge) → chair and vice-chairs
chosen by the members → registration (备案) with the street office within registration_days →
the committee recorded in the directory with roles and term dates → in office until
reminder_days before the term ends, when the committee and the street office are reminded and
the re-election (换届) starts the same way (continue-as-new, term + 1).

A failed election (a seat left open: too few qualify, or a tie across the last seat) is its own
step naming the next one: a supplementary election (back to the meeting notice) or a property
management committee (物业管理委员会), which ends the run. A rules of procedure or statute the
general meeting rejected stops the founding until revised and adopted (adoption.py); candidates
must be owners owing no fees where the compound says so; in office, members leave (resignation,
lost eligibility, removal by the owners' vote) and by-elections fill their seats (members.py).
Every step is measured and published as linli.workflows.committee.step_changed
(workflows/steps.py).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from fractions import Fraction

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    import workflows.committee.types as t
    import workflows.events as events
    from workflows.committee.adoption import Adoptions
    from workflows.committee.members import MemberChanges, check_candidates
    from workflows.common_types import CANCELLED, CancelRequest
    from workflows.steps import Cancelled, Steps, instant, run_activity

EVENTS = "linli.workflows.committee"
DAY = timedelta(days=1)
# workflow.patched ids: runs recorded before a change keep their old path when replayed
ADOPTIONS_BLOCK = "committee-adoptions-block"
ELIGIBILITY = "committee-eligibility"  # owners with no unpaid fees, with the reason
MEMBER_CHANGES = "committee-member-changes"  # resignation, removal, by-election in office


def qualifies(q: t.Qualification, share: str) -> bool:
    """Exact: delivered area ≥ share × total area, by integer cross-multiplication."""
    ratio = Fraction(share)
    return q.delivered_area_centi * ratio.denominator >= q.total_area_centi * ratio.numerator


def term_end(starts: date, years: int) -> date:
    """The same day `years` later (29 February ends on 28 February)."""
    try:
        return starts.replace(year=starts.year + years)
    except ValueError:
        return starts.replace(year=starts.year + years, day=28)


@workflow.defn(name="CommitteeFoundingWorkflow")
class CommitteeFoundingWorkflow(Adoptions, MemberChanges):
    @workflow.init
    def __init__(self, data: t.CommitteeInput) -> None:
        self.input = data
        self.steps = Steps(workflow_name="committee", entity_id=data.compound_id,
                           compound_id=data.compound_id, event_prefix=EVENTS)
        self.s = t.CommitteeState(compound_id=data.compound_id, term=data.term, step="")
        self.confirmation: t.Confirmation | None = None
        self.group: t.PreparatoryGroup | None = None
        self.nominated: t.Candidates | None = None
        self.meeting: t.Meeting | None = None
        self.next_step: t.NextStep | None = None
        self.officers: t.Officers | None = None
        self.registration: t.Registration | None = None
        self.resubmission: t.Resubmission | None = None
        self._init_changes()

    @workflow.run
    async def run(self, data: t.CommitteeInput) -> t.CommitteeState:
        try:
            if not await self._found(data):
                return self.state()
            await self._in_office(data)
        except Cancelled as exc:
            await self.steps.move(CANCELLED, outcome="cancelled", note=str(exc))
            return self.state()
        except Exception:
            self.steps.failed()
            raise
        workflow.continue_as_new(t.CommitteeInput(**{**vars(data), "term": data.term + 1}))

    async def _found(self, data: t.CommitteeInput) -> bool:
        """Every step up to the committee recorded; False when the run ended before it."""
        await self.steps.move(t.REQUESTED, note=f"申请人: {data.requested_by}; 第 {data.term} 届")
        self.s.qualification = await run_activity(
            t.COMPOUND_QUALIFICATION, t.CompoundRef(data.compound_id), t.Qualification)
        if not qualifies(self.s.qualification, data.qualifying_share):
            await self.steps.move(t.NOT_QUALIFIED, outcome="not_qualified", note=(
                f"已出售并交付的专有部分面积未达到 {data.qualifying_share}; "
                "下一步: 待交付达到条件后重新申请"))
            return False
        await self.steps.wait(lambda: self.confirmation is not None)
        await self.steps.move(t.PREPARATORY_GROUP, outcome="confirmed", by=self._by(
            self.confirmation))
        await self.steps.wait(lambda: self.group is not None)
        await self._publicise(t.GROUP_PUBLICITY, "formed", data.publicity_days, self.group)
        await self.steps.move(t.RULES_AND_CANDIDATES, outcome="published")
        await self.steps.wait(lambda: self.nominated is not None)
        await self._publicise(t.CANDIDATE_PUBLICITY, "nominated", data.publicity_days,
                              self.nominated)
        if not await self._elect(data):
            return False
        await self.steps.wait(lambda: self.officers is not None)
        await self._register(data)
        return True

    async def _publicise(self, step: str, outcome: str, days: float, source: object) -> None:
        until = workflow.now() + days * DAY
        self.s.deadline = until.isoformat()
        await self.steps.move(step, outcome=outcome, by=self._by(source),
                              note=f"公示 {days:g} 天, 至 {until.date().isoformat()}")
        await self.steps.wait(lambda: False, until=until)

    async def _elect(self, data: t.CommitteeInput) -> bool:
        """Notice, meeting, election; after a failed one, a supplementary election or a
        property management committee (False: the run ends there)."""
        round_ = 1
        while True:
            self.meeting, self.s.election, self.next_step = None, None, None
            await self.steps.move(t.MEETING_NOTICE, outcome="published", round_=round_)
            await self.steps.wait(lambda: self.meeting is not None)
            await self.steps.move(t.ELECTION, outcome="noticed", round_=round_,
                                  by=self._by(self.meeting), note=f"业主大会 {self.s.meeting_at}")
            await self.steps.wait(lambda: self.s.election is not None)
            result = self.s.election
            assert result is not None
            if result.outcome == "complete":
                outcome = "elected"
                if workflow.patched(ADOPTIONS_BLOCK):
                    outcome = await self._adopted()
                await self.steps.move(t.OFFICERS, outcome=outcome, round_=round_)
                return True
            note = ("末位席位得票完全相同, 按议事规则处理并列后补选" if result.outcome == "tie"
                    else f"{result.open_seats} 个席位无人当选")
            await self.steps.move(t.ELECTION_FAILED, outcome=result.outcome, round_=round_,
                                  note=f"{note}; 下一步: 补选, 或由街道决定成立物业管理委员会")
            await self.steps.wait(lambda: self.next_step is not None)
            assert self.next_step is not None
            if self.next_step.next == t.PROPERTY_MANAGEMENT_COMMITTEE:
                await self.steps.move(t.PROPERTY_MANAGEMENT_COMMITTEE, outcome="decided",
                                      by=self.next_step.by, note=self.next_step.note)
                return False
            round_ += 1

    async def _register(self, data: t.CommitteeInput) -> None:
        """备案 within registration_days (a reminder when late), then the directory record."""
        due = workflow.now() + data.registration_days * DAY
        self.s.deadline = due.isoformat()
        await self.steps.move(t.REGISTRATION, outcome="chosen", by=self._by(self.officers))
        if not await self.steps.wait(lambda: self.registration is not None, until=due):
            await self._remind("committee_registration_overdue", "street_office", due.isoformat())
            await self.steps.wait(lambda: self.registration is not None)
        assert self.registration is not None and self.officers is not None
        starts = date.fromisoformat(self.registration.registered_on)
        ends = term_end(starts, data.term_years)
        elected = set(self.s.election.elected if self.s.election else [])
        members = [c for c in self.s.candidates if c.person_id in elected]
        self.s.members = list(members)
        self.s.organisation_id = await run_activity(t.RECORD_COMMITTEE, t.CommitteeRecord(
            compound_id=data.compound_id, term=data.term, members=members,
            chair=self.officers.chair, vice_chairs=self.officers.vice_chairs,
            starts_on=starts.isoformat(), ends_on=ends.isoformat()), str)
        self.s.term_ends_on = ends.isoformat()

    async def _in_office(self, data: t.CommitteeInput) -> None:
        """In office until reminder_days before the term ends; then remind and re-elect."""
        ends = instant(f"{self.s.term_ends_on}T00:00:00+08:00")
        remind_at = ends - data.reminder_days * DAY
        self.s.deadline = remind_at.isoformat()
        # open before in_office shows, so a change asked for there is never refused
        self.changes_open = workflow.patched(MEMBER_CHANGES)
        await self.steps.move(t.IN_OFFICE, outcome="registered", by=self._by(self.registration),
                              note=f"任期至 {self.s.term_ends_on}")
        if self.changes_open:
            await self._serve_term(remind_at)
        else:
            await self.steps.wait(lambda: False, until=remind_at)
        await self._remind("committee_term_ending", "owners_committee", ends.isoformat())
        await self._remind("committee_term_ending", "street_office", ends.isoformat())
        await self.steps.move(t.RE_ELECTION, outcome="term_ending",
                              note=f"任期将于 {self.s.term_ends_on} 届满, 开始换届")

    async def _remind(self, kind: str, audience: str, deadline: str) -> None:
        await self.steps.publish("reminder_due", events.ReminderDue(
            workflow_id=workflow.info().workflow_id, entity_id=self.input.compound_id,
            compound_id=self.input.compound_id, kind=kind, audience=audience,
            deadline=instant(deadline)))

    # ------------------------------------------------------------------ updates and signals

    @workflow.update
    def confirm(self, confirmation: t.Confirmation) -> str:
        """The street office confirms the compound qualifies and founding may begin."""
        self.confirmation = confirmation
        return t.PREPARATORY_GROUP

    @confirm.validator
    def _check_confirm(self, confirmation: t.Confirmation) -> None:
        self._at(t.REQUESTED, "确认成立条件")
        if self.s.qualification is None or self.confirmation is not None:
            raise ValueError("尚未核对成立条件, 或已经确认")

    @workflow.update
    def form_group(self, group: t.PreparatoryGroup) -> str:
        self.group, self.s.group = group, list(group.members)
        return t.GROUP_PUBLICITY

    @form_group.validator
    def _check_group(self, group: t.PreparatoryGroup) -> None:
        self._at(t.PREPARATORY_GROUP, "组建筹备组")
        if self.group is not None:
            raise ValueError("筹备组已经组建")
        if any(m.represents not in t.REPRESENTS for m in group.members):
            raise ValueError(f"筹备组成员的代表身份须为 {', '.join(t.REPRESENTS)}")
        owners = sum(1 for m in group.members if m.represents == "owner")
        if owners * 2 <= len(group.members):
            raise ValueError("筹备组中业主代表须超过半数")

    @workflow.update
    async def nominate(self, nominated: t.Candidates) -> str:
        """Rules, statute and candidates; every candidate must be an owner of the compound (and
        owe no fees, where the compound requires it)."""
        if workflow.patched(ELIGIBILITY):
            await check_candidates(self.input.compound_id, nominated.candidates,
                                   self.input.no_unpaid_fees)
            if self.nominated is not None:
                raise ApplicationError("候选人名单已经公示")
            return self._nominated(nominated)
        strangers = await run_activity(t.CHECK_CANDIDATES, t.CandidateCheck(
            self.input.compound_id, [c.person_id for c in nominated.candidates]), list[str])
        if strangers or self.nominated is not None:
            names = [c.name for c in nominated.candidates if c.person_id in strangers]
            raise ApplicationError(f"候选人须是本小区业主: {'、'.join(names)}"
                                   if names else "候选人名单已经公示")
        return self._nominated(nominated)

    def _nominated(self, nominated: t.Candidates) -> str:
        self.nominated = nominated
        self.s.candidates = list(nominated.candidates)
        self.s.rules_proposal_id = nominated.rules_proposal_id
        self.s.statute_proposal_id = nominated.statute_proposal_id
        return t.CANDIDATE_PUBLICITY

    @nominate.validator
    def _check_nominate(self, nominated: t.Candidates) -> None:
        self._at(t.RULES_AND_CANDIDATES, "提名候选人")
        ids = [c.person_id for c in nominated.candidates]
        if not ids or len(set(ids)) != len(ids):
            raise ValueError("候选人名单不能为空, 也不能重复")
        if not (nominated.rules_proposal_id and nominated.statute_proposal_id):
            raise ValueError("须附议事规则与管理规约的议案")

    @workflow.update
    def schedule_meeting(self, meeting: t.Meeting) -> str:
        self.meeting, self.s.meeting_at = meeting, meeting.meeting_at
        return t.ELECTION

    @schedule_meeting.validator
    def _check_meeting(self, meeting: t.Meeting) -> None:
        self._at(t.MEETING_NOTICE, "安排业主大会")
        if self.meeting is not None:
            raise ValueError("业主大会已经安排")
        try:
            at = instant(meeting.meeting_at)
        except ValueError:
            raise ValueError("meeting_at 须是带时区的时间") from None
        if at < workflow.now() + self.input.notice_days * DAY:
            raise ValueError(f"业主大会须至少提前 {self.input.notice_days} 天通知全体业主")

    @workflow.signal(name="election_closed")
    def election_closed(self, result: t.ElectionClosed) -> None:
        if self.steps.current == t.ELECTION and self.s.election is None:
            self.s.election = result
        elif (self.s.by_election is not None and self.by_result is None
              and result.proposal_id == self.s.by_election.election_proposal_id):
            self.by_result = result

    @workflow.signal(name="adoption_closed")
    def adoption_closed(self, closed: t.AdoptionClosed) -> None:
        """The general meeting's vote on the rules of procedure or the statute."""
        which = {self.s.rules_proposal_id: "rules", self.s.statute_proposal_id: "statute"}
        if closed.proposal_id and closed.proposal_id in which:
            self.s.adoptions[which[closed.proposal_id]] = closed.outcome
        elif self.s.removal is not None and closed.proposal_id == self.s.removal.proposal_id:
            self.removal_outcome = self.removal_outcome or closed.outcome

    @workflow.update
    def decide_next(self, decision: t.NextStep) -> str:
        self.next_step = decision
        return decision.next

    @decide_next.validator
    def _check_next(self, decision: t.NextStep) -> None:
        self._at(t.ELECTION_FAILED, "决定下一步")
        if decision.next not in ("supplementary_election", t.PROPERTY_MANAGEMENT_COMMITTEE):
            raise ValueError("下一步须为 supplementary_election 或 property_management_committee")

    @workflow.update
    def choose_officers(self, officers: t.Officers) -> str:
        self.officers, self.s.chair = officers, officers.chair
        self.s.vice_chairs = list(officers.vice_chairs)
        return t.REGISTRATION

    @choose_officers.validator
    def _check_officers(self, officers: t.Officers) -> None:
        self._at(t.OFFICERS, "推选主任、副主任")
        elected = set(self.s.election.elected if self.s.election else [])
        chosen = [officers.chair, *officers.vice_chairs]
        if len(set(chosen)) != len(chosen) or not set(chosen) <= elected:
            raise ValueError("主任、副主任须从当选委员中推选, 且不能重复")

    @workflow.update
    def register(self, registration: t.Registration) -> str:
        self.registration = registration
        return t.IN_OFFICE

    @register.validator
    def _check_register(self, registration: t.Registration) -> None:
        self._at(t.REGISTRATION, "备案")
        try:
            date.fromisoformat(registration.registered_on)
        except ValueError:
            raise ValueError("registered_on 须是日期, 如 2026-12-01") from None

    @workflow.update
    def cancel(self, request: CancelRequest) -> str:
        self.steps.cancel_reason = request.reason
        return CANCELLED

    @cancel.validator
    def _check_cancel(self, request: CancelRequest) -> None:
        self.steps.check_cancel(request.reason)
        if self.steps.current in (t.NOT_QUALIFIED, t.PROPERTY_MANAGEMENT_COMMITTEE):
            raise ValueError("流程已结束")

    @workflow.query
    def state(self) -> t.CommitteeState:
        return replace(self.s, step=self.steps.current, history=list(self.steps.history))

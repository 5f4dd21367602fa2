"""CommitteeFoundingWorkflow's plain dataclasses crossing the Temporal boundary, its activity
names, steps and workflow id (instants are ISO-8601 strings; datetimes stay out of the sandbox).

Annotations stay real objects, not strings (see workflows/common_types.py).
"""

from dataclasses import dataclass, field

from workflows.common_types import StepRecord

# Activity names (workflows/committee/activities.py registers under these).
COMPOUND_QUALIFICATION = "committee_compound_qualification"
CHECK_CANDIDATES = "committee_check_candidates"
RECORD_COMMITTEE = "committee_record"
CHECK_ELIGIBILITY = "committee_check_eligibility"
END_ROLE = "committee_end_role"

# Steps, in order; the last four end a run (with cancelled).
REQUESTED = "requested"
PREPARATORY_GROUP = "preparatory_group"
GROUP_PUBLICITY = "group_publicity"
RULES_AND_CANDIDATES = "rules_and_candidates"
CANDIDATE_PUBLICITY = "candidate_publicity"
MEETING_NOTICE = "meeting_notice"
ELECTION = "election"
ELECTION_FAILED = "election_failed"
# the general meeting rejected the rules of procedure or the statute: revised and voted again
ADOPTION_FAILED = "adoption_failed"
ADOPTION_VOTE = "adoption_vote"
OFFICERS = "officers"
REGISTRATION = "registration"
IN_OFFICE = "in_office"
NOT_QUALIFIED = "not_qualified"
PROPERTY_MANAGEMENT_COMMITTEE = "property_management_committee"
RE_ELECTION = "re_election"
# in office: a member leaves (resignation, lost eligibility, removed by the owners) and the open
# seats are filled by a by-election (补选) for the rest of the term
MEMBER_CHANGE = "member_change"
LEAVING = {"resignation": "辞职", "ineligible": "不再具备委员资格", "removal": "被业主大会罢免"}
REPRESENTS = ("owner", "developer", "street_office", "residents_committee")


@dataclass
class CommitteeInput:
    compound_id: str
    requested_by: str = "owners"  # owners | developer | property
    term: int = 1  # the first committee, or the n-th after re-elections (换届)
    # the compound qualifies when at least qualifying_share ("p/q") of the exclusive area is
    # sold and delivered (off the developer's roll entry)
    qualifying_share: str = "1/2"
    publicity_days: float = 7  # 公示 of the group and of the candidate list (e2e: a fraction)
    notice_days: int = 15  # the general meeting's notice to every owner
    registration_days: int = 30  # 备案 with the street office after the election
    term_years: int = 5  # at most five years
    reminder_days: int = 90  # before the term ends: remind, and the re-election starts
    # candidates must owe nothing of the compound's billed shared costs (the compound's rule)
    no_unpaid_fees: bool = True


@dataclass
class CompoundRef:
    compound_id: str


@dataclass
class Qualification:
    total_area_centi: int
    delivered_area_centi: int
    owners: int


@dataclass
class Member:
    person_id: str
    name: str
    represents: str = "owner"  # preparatory group: owner | developer | street_office | ...


@dataclass
class PreparatoryGroup:
    members: list[Member]
    by: str = ""


@dataclass
class Confirmation:
    note: str = ""
    by: str = ""


@dataclass
class Candidates:
    """The rules of procedure and the statute as proposals (versions in meetings), and the
    candidates nominated; the candidate list is published once they are all owners."""

    rules_proposal_id: str
    statute_proposal_id: str
    candidates: list[Member]
    by: str = ""


@dataclass
class CandidateCheck:
    compound_id: str
    person_ids: list[str]


@dataclass
class EligibilityCheck:
    compound_id: str
    person_ids: list[str]
    no_unpaid_fees: bool = True


@dataclass
class Ineligible:
    """A candidate who may not stand, and why (zh-CN, shown to whoever nominated them)."""

    person_id: str
    reason: str


@dataclass
class Meeting:
    """The owners' general meeting: its time, and the election proposal voted on there."""

    meeting_at: str
    election_proposal_id: str = ""
    by: str = ""


@dataclass
class ElectionClosed:
    """From linli.meetings.vote.closed of a committee_election (the bridge), or an app."""

    vote_id: str
    outcome: str  # complete | tie | too_few_qualified
    elected: list[str]
    tied: list[str] = field(default_factory=list)
    open_seats: int = 0
    proposal_id: str = ""  # the election's proposal (a by-election is told apart by it)


@dataclass
class AdoptionClosed:
    """From linli.meetings.vote.closed of an ordinary Art. 278 vote in the compound (the bridge):
    kept when it is the rules' or the statute's."""

    proposal_id: str
    outcome: str  # passed | rejected


@dataclass
class Resubmission:
    """After the general meeting rejected the rules of procedure or the statute: the proposal
    (revised; the same id with a new version, or a new one) put to the owners again."""

    rules_proposal_id: str = ""
    statute_proposal_id: str = ""
    by: str = ""


@dataclass
class NextStep:
    """After a failed election: a supplementary election, or a property management committee
    (物业管理委员会) where the street office decides one is needed."""

    next: str  # supplementary_election | property_management_committee
    note: str = ""
    by: str = ""


@dataclass
class Officers:
    chair: str
    vice_chairs: list[str]
    by: str = ""


@dataclass
class Registration:
    registered_on: str  # ISO date the street office confirmed the filing
    by: str = ""


@dataclass
class Vacancy:
    """A member leaves mid-term: resignation, or eligibility lost (no longer an owner, …)."""

    person_id: str
    reason: str  # resignation | ineligible
    note: str = ""
    by: str = ""


@dataclass
class Removal:
    """The owners' assembly votes on removing a member (Art. 278 item 3: an ordinary vote on
    an art278_3 proposal; its result comes through the bridge as adoption_closed)."""

    person_id: str
    proposal_id: str
    by: str = ""


@dataclass
class ByElection:
    """补选: the open seats filled by a committee_election on this proposal, for the rest of
    the term; the candidates are checked as at the founding."""

    election_proposal_id: str
    candidates: list[Member]
    meeting_at: str
    by: str = ""


@dataclass
class RoleEnding:
    compound_id: str
    organisation_id: str
    person_id: str
    ends_on: str


@dataclass
class CommitteeRecord:
    compound_id: str
    term: int
    members: list[Member]
    chair: str
    vice_chairs: list[str]
    starts_on: str
    ends_on: str


@dataclass
class CommitteeState:
    compound_id: str
    term: int
    step: str
    deadline: str = ""
    convener_org: str = "street_office"
    qualification: Qualification | None = None
    group: list[Member] = field(default_factory=list)
    candidates: list[Member] = field(default_factory=list)
    rules_proposal_id: str = ""
    statute_proposal_id: str = ""
    meeting_at: str = ""
    election: ElectionClosed | None = None
    adoptions: dict[str, str] = field(default_factory=dict)  # rules | statute -> outcome
    chair: str = ""
    vice_chairs: list[str] = field(default_factory=list)
    organisation_id: str = ""
    term_ends_on: str = ""
    members: list[Member] = field(default_factory=list)  # in office now
    open_seats: int = 0  # left by members who went, until a by-election fills them
    removal: Removal | None = None  # the owners' vote under way
    by_election: ByElection | None = None  # under way
    history: list[StepRecord] = field(default_factory=list)


def workflow_id(compound_id: str) -> str:
    return f"committee-{compound_id}"

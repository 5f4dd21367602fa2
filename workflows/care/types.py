"""CarePlanWorkflow's plain dataclasses crossing the Temporal boundary, its activity names and
its workflow id (instants are ISO-8601 strings: datetimes do not cross into the sandbox).

Annotations stay real objects, not strings (see workflows/common_types.py).
"""

from dataclasses import dataclass

# Activity names (workflows/care/activities.py registers under these).
NEXT_CARE_VISIT = "next_care_visit"
CLOSE_CARE_VISIT = "close_care_visit"


@dataclass
class CarePlanInput:
    compound_id: str
    plan_id: str
    visits_per_run: int = 26  # half a year of weekly visits per run, then continue-as-new


@dataclass
class CareRef:
    compound_id: str
    plan_id: str
    visit_id: str = ""


@dataclass
class NextVisit:
    """The plan's open visit; due_at is ISO-8601 (datetimes do not cross into the sandbox)."""

    active: bool
    visit_id: str = ""
    seq: int = 0
    due_at: str = ""


@dataclass
class CareState:
    plan_id: str
    compound_id: str
    active: bool
    visit_id: str
    seq: int
    due_at: str
    closed: dict[str, int]  # outcome (recorded, missed, cancelled) -> visits this run


def workflow_id(plan_id: str) -> str:
    return f"care-plan-{plan_id}"

"""ActivityWorkflow's plain dataclasses crossing the Temporal boundary, its activity names and
its workflow id (instants going in are ISO-8601 strings).

Annotations stay real objects, not strings (see workflows/common_types.py).
"""

from dataclasses import dataclass, field

from workflows.common_types import StepRecord

# Activity names (workflows/centre_activity/activities.py registers under these).
ACTIVITY_TIMELINE = "activity_timeline"
REMIND_ACTIVITY = "remind_activity"
REQUEST_ACTIVITY_FEEDBACK = "request_activity_feedback"
CLOSE_ACTIVITY = "close_activity"


@dataclass
class ActivityInput:
    compound_id: str
    activity_id: str
    feedback_days: int = 3  # how long after the end feedback is collected before closing


@dataclass
class ActivityRef:
    compound_id: str
    activity_id: str


@dataclass
class Timeline:
    """The activity's times as ISO-8601 (datetimes do not cross into the sandbox)."""

    status: str
    starts_at: str = ""
    ends_at: str = ""
    signup_closes_at: str = ""


@dataclass
class ActivityState:
    activity_id: str
    compound_id: str
    step: str
    history: list[StepRecord] = field(default_factory=list)


def workflow_id(activity_id: str) -> str:
    return f"activity-{activity_id}"

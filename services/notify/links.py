"""Links to the resident portal's page of what a message is about (the issue, the proposal, the
vote, the meetings, the booking …), under the portal's address (`LINLI_PORTAL_URL`, the kernel's
setting for where the portal is; `http://127.0.0.1:8100` on a local stack).

A message names what it is about in its payload (`about`, `about_id`: set by the consumer, or
by the app that sent it); the sender turns that into the page's URL when it sends, so every
channel says the same link: the webhook's `link` field, a link in the email, a Markdown link
in a group bot's message, and the bare URL after a shortened text in an SMS. Pages that list
rather than show one entity (meetings, bills, the centre) are linked as the list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import msgspec

# what a message may be about → the portal page (under /c/{compound_id}); {id} is about_id
PAGES: Final = {
    "issue": "/issues/{id}",
    "proposal": "/proposals/{id}",
    "vote": "/votes/{id}",
    "meeting": "/meetings",
    "bills": "/bills",
    "booking": "/centre",
    "activity": "/centre/activities",
    "library": "/centre/library",
}
# what each kind of notification is about (its subject is that entity's id)
KIND_ABOUT: Final = {
    "issue_status_changed": "issue", "issue_resolved": "issue", "issue_escalated": "issue",
    "issue_overdue": "issue", "issue_commented": "issue", "issue_follow_up": "issue",
    "issue_with_council": "issue", "issue_returned": "issue", "proposal_blocked": "proposal",
    "proposal_reminder": "proposal", "proposal_step_changed": "proposal",
    "proposal_milestone_overdue": "proposal", "consultation_opened": "proposal",
    "vote_opened": "vote", "vote_closed": "vote",
    "meeting_convened": "meeting", "minutes_published": "meeting", "bills_issued": "bills",
    "centre_booking": "booking", "centre_plan_published": "activity",
    "centre_waitlist_promoted": "activity", "centre_activity_cancelled": "activity",
    "centre_activity_reminder": "activity", "centre_feedback_requested": "activity",
    "centre_hold_ready": "library", "centre_loan_due": "library", "centre_loan_overdue": "library",
}


def about(kind: str, subject: str, *, kind_of: str | None = None,
          entity_id: str | None = None) -> dict[str, str | None]:
    """The payload's `about` and `about_id`: given explicitly, else from the kind."""
    page = kind_of or KIND_ABOUT.get(kind)
    return {"about": page, "about_id": (entity_id or subject) if page else None}


@dataclass(frozen=True)
class PortalLinks:
    """The portal's public address; none configured means messages carry no link."""

    base: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "base", (self.base or "").rstrip("/") or None)

    def link(self, payload: Mapping[str, Any]) -> str | None:
        page = PAGES.get(str(payload.get("about")))
        compound = payload.get("compound_id")
        if self.base is None or page is None or not compound:
            return None
        entity = str(payload.get("about_id") or "")
        if "{id}" in page and not entity:
            return None
        return f"{self.base}/c/{compound}{page.format(id=entity)}"

    def add_to(self, payload: str) -> str:
        """The payload (JSON) with its `link`, when it has one."""
        decoded = msgspec.json.decode(payload)
        link = self.link(decoded) if isinstance(decoded, dict) else None
        if link is None:
            return payload
        return msgspec.json.encode({**decoded, "link": link}).decode()

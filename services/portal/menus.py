"""Which item of the menu a page belongs to, marked aria-current by base.html (the resident's
menu) and desk/_layout.html (the desk's): one answer for both, from the page's path."""

from __future__ import annotations

# pages under another item than their first path part: a vote belongs to the proposals, an
# order to the service menu; at the desk also the pages shown again after a refused action
RESIDENT_ALIASES = {"votes": "proposals", "orders": "menu"}
# the centre's own tabs (_centre_nav.html): a booking's cancel is under 预约场地
CENTRE_TABS = {"": "", "book": "book", "bookings": "book", "activities": "activities",
               "groups": "groups", "library": "library"}
DESK_ALIASES = {"votes": "proposals", "orders": "volunteers", "care-visits": "volunteers",
                "templates": "notices", "bookings": "centre", "groups": "centre"}


def section(path: str) -> str | None:
    """The menu item of a compound's page ("" for its home), None outside a compound:
    /c/{id}/votes/… → "proposals", /desk/c/{id}/templates/… → "notices"."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    if parts[:2] == ["desk", "c"] and len(parts) >= 3:
        rest, aliases = parts[3:], DESK_ALIASES
    elif parts[:1] == ["c"] and len(parts) >= 2:
        rest, aliases = parts[2:], RESIDENT_ALIASES
        if rest[:2] == ["issues", "new"]:  # its own item (反映问题), not 我的问题
            return "issues/new"
    else:
        return None
    return aliases.get(rest[0], rest[0]) if rest else ""


def centre_tab(path: str) -> str | None:
    """The centre tab of a resident's centre page ("" for its overview), None elsewhere:
    /c/{id}/centre/activities/9/signups → "activities"."""
    parts = [p for p in path.split("?")[0].split("/") if p]
    if parts[:1] != ["c"] or parts[2:3] != ["centre"]:
        return None
    return CENTRE_TABS.get(parts[3] if len(parts) > 3 else "")

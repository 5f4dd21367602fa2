"""Which menu item a page is marked under (aria-current), for the resident's menu and the
desk's alike: the pages shown again after a refused action included (their address is the
action's, not the page's)."""

from __future__ import annotations

import pytest

from services.portal.menus import centre_tab, section

C = "/c/5b0c7f0e-0000-4000-8000-000000000001"
D = "/desk" + C


@pytest.mark.parametrize(("path", "item"), [
    (C, ""), (C + "/issues/new", "issues/new"), (C + "/issues/42", "issues"),
    (C + "/votes/7", "proposals"), (C + "/orders/3/rate", "menu"),
    (C + "/centre/bookings/1/cancel", "centre"), (C + "/bills?done=saved", "bills"),
    (D, ""), (D + "/issues/42/reassign", "issues"), (D + "/votes/7/close", "proposals"),
    (D + "/orders/3/accept", "volunteers"), (D + "/care-visits/5/acknowledge", "volunteers"),
    (D + "/templates/issue_status_changed/save", "notices"),
    (D + "/bookings/9/approve", "centre"), (D + "/groups/2/approve", "centre"),
    (D + "/costs/1/plan", "costs"),
])
def test_a_page_is_marked_under_its_menu_item(path: str, item: str) -> None:
    assert section(path) == item


@pytest.mark.parametrize("path", ["/", "/inbox", "/preferences", "/sign-in", "/desk"])
def test_a_page_outside_a_compound_marks_no_item(path: str) -> None:
    assert section(path) is None


@pytest.mark.parametrize(("path", "tab"), [
    (C + "/centre", ""), (C + "/centre/book", "book"), (C + "/centre/bookings/1/cancel", "book"),
    (C + "/centre/activities", "activities"), (C + "/centre/activities/9/signups", "activities"),
    (C + "/centre/groups/2/join", "groups"), (C + "/centre/library?done=renewed", "library"),
    (C + "/menu", None), (D + "/centre", None), ("/inbox", None),
])
def test_a_centre_page_is_marked_under_its_tab(path: str, tab: str | None) -> None:
    assert centre_tab(path) == tab

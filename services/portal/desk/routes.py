"""The desk's pages: (method, path, handler), every one for a signed-in person; the handlers
then open only for a staff role in the compound of the path (desk_of)."""

from __future__ import annotations

from services.portal.desk import home
from services.portal.desk import issues as i

D = "/desk/c/{compound_id}"
ISSUE = f"{D}/issues/{{issue_id}}"
ISSUE_ACTIONS = "accept|start|resolve|reject|duplicate|respond|reassign|escalate"

ROUTES = [
    ("GET", D, home.home),
    ("GET", f"{D}/issues", i.queue),
    ("GET", ISSUE, i.issue),
    ("POST", f"{ISSUE}/{{action:{ISSUE_ACTIONS}}}", i.issue_action),
]

"""Who sees what of the register: people only within the caller's compounds, whole phone
numbers only for staff where the person owns or lives, owners only for those keeping the roll."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from linli import problems
from linli.auth import ALL_COMPOUNDS, STAFF_ROLES, Principal

# the register and the roll: staff of 1+3+N and the officers who count votes; apps by scope
OWNER_READERS = (*sorted(STAFF_ROLES), "officer")
# (directory:identify, the portal's sign-in, already learns a person's units from /v1/identities)
OWNER_SCOPES = frozenset({"directory:read", "directory:write", "directory:identify",
                          "meetings:internal"})


def mask_phone(phone: str | None) -> str | None:
    """138****8000: enough to recognise, not enough to call."""
    if phone is None or len(phone) < 7:
        return phone
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def owners_seen_by(who: Principal) -> Callable[[list[uuid.UUID]], list[uuid.UUID]]:
    """Staff and vote officers keep the register and see every owner; anyone else sees only
    themselves (who owns which flat, with a closed secret vote's per-choice areas, could tell
    how a small group voted)."""
    if who.has_role(*OWNER_READERS) or (who.is_app and who.scopes & OWNER_SCOPES):
        return list
    return lambda owners: [o for o in owners if str(o) == who.person_id]


def phone_for(who: Principal, person_id: uuid.UUID, row: Any, where: Any) -> str | None:
    """The person's own number, or staff of a compound where they own or live, see it whole;
    anyone else sharing a compound with them sees it masked; nobody else sees them at all."""
    home = [str(c) for c in where["home"]]
    if who.person_id == str(person_id):
        return str(row["phone"]) if row["phone"] is not None else None
    everywhere = ALL_COMPOUNDS in who.compounds  # the platform's own services, the street office
    if not everywhere and not any(who.may_act_in(c) for c in [*home, *map(str, where["roles"])]):
        raise problems.not_found("人员")
    if STAFF_ROLES & who.roles and (everywhere or any(who.may_act_in(c) for c in home)):
        return str(row["phone"]) if row["phone"] is not None else None
    return mask_phone(row["phone"])



"""The owners' roll as the judicial interpretation counts it (建筑物区分所有权解释 Arts. 8–9).

Area is each exclusive part's registered area. Headcount is one per exclusive part, except
that one buyer (or the same set of co-owners) owning several parts counts once, and the
developer's unsold or undelivered parts count once together.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from services.directory.models import RollEntry

DEVELOPER = "developer"


@dataclass(frozen=True)
class RollUnit:
    """What the roll needs of one exclusive part."""

    unit_id: uuid.UUID
    area_centi: int
    status: str
    owner_ids: tuple[uuid.UUID, ...]


def _entry_key(unit: RollUnit) -> tuple[str, str]:
    if unit.status != "delivered":
        return DEVELOPER, DEVELOPER
    owners = sorted(str(o) for o in unit.owner_ids)
    if not owners:
        # delivered but nobody registered yet: still one voter, reachable on paper only
        return "unregistered", f"unit:{unit.unit_id}"
    if len(owners) == 1:
        return "owner", f"person:{owners[0]}"
    return "co_owners", "owners:" + "+".join(owners)


def build_roll(units: Iterable[RollUnit]) -> list[RollEntry]:
    """Group exclusive parts into voters, each with its summed area and headcount 1."""
    entries: dict[str, RollEntry] = {}
    for unit in sorted(units, key=lambda u: str(u.unit_id)):
        kind, entry_id = _entry_key(unit)
        entry = entries.get(entry_id)
        if entry is None:
            owners = [] if kind == DEVELOPER else sorted(unit.owner_ids, key=str)
            entry = RollEntry(entry_id=entry_id, kind=kind,  # type: ignore[arg-type]
                              owner_ids=owners, unit_ids=[], area_centi=0, headcount=1)
            entries[entry_id] = entry
        entry.unit_ids.append(unit.unit_id)
        entry.area_centi += unit.area_centi
    return sorted(entries.values(), key=lambda e: e.entry_id)

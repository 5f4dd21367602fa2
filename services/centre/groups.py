"""Interest groups (yoga, tai chi, running): proposed by residents, approved by the community,
with leaders and members who join (with the leaders' approval where the group asks) and leave."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from linli import problems
from linli.auth import Principal
from linli.bus import emit
from linli.db import Connection, Pool, transaction
from linli.pagination import Page, PageQuery, instant, keyset, page_of, time_cursor, time_keyset
from services.centre import activity_store, events, group_store, store
from services.centre.activities import to_activity
from services.centre.models import Group, GroupIn, JoinIn, Member
from services.centre.service import is_staff

NEXT_ACTIVITIES = 5


def to_group(row: Any, next_activities: list[Any] | None = None) -> Group:
    data = {**dict(row), "leaders": list(row.get("leaders") or []),
            "members": row.get("members") or 0,
            "next_activities": [to_activity(r) for r in next_activities or []]}
    return msgspec.convert(data, Group)


async def _event(conn: Connection, kind: Any, group: Any, who: Principal,
                 person_id: str | None = None, status: str | None = None) -> None:
    await emit(conn, kind, subject=str(group["id"]), compound_id=str(group["compound_id"]),
               data=events.GroupEvent(group_id=group["id"], compound_id=group["compound_id"],
                                      name=group["name"], kind=group["kind"], by=who.subject,
                                      person_id=person_id, status=status))


async def group_row(conn: Connection, compound_id: uuid.UUID, group_id: uuid.UUID,
                    lock: bool = False) -> Any:
    row = await group_store.group_of(conn, group_id=group_id, compound_id=compound_id, lock=lock)
    if row is None:
        raise problems.not_found("兴趣小组")
    return row


async def propose(pool: Pool, *, compound_id: uuid.UUID, who: Principal, data: GroupIn) -> Group:
    """A resident proposes a group and leads it; the community's own groups start approved."""
    if not who.person_id:
        raise problems.validation("兴趣小组须由一位居民发起")
    staff = is_staff(who)
    async with transaction(pool) as conn:
        row = await store.insert(conn, table="interest_groups", fields={
            "id": uuid.uuid4(), "compound_id": compound_id, "name": data.name, "kind": data.kind,
            "description": data.description, "status": "approved" if staff else "proposed",
            "requires_approval": data.requires_approval, "proposed_by": who.subject,
            "approved_by": who.subject if staff else None},
            tail="ON CONFLICT DO NOTHING RETURNING *")
        if row is None:
            raise problems.conflict(f"本小区已有“{data.name}”兴趣小组", "duplicate-group")
        await group_store.put_member(conn, group_id=row["id"], person_id=who.person_id,
                                     name=who.name, role="leader", status="active")
        await _event(conn, events.GROUP_PROPOSED, row, who, who.person_id)
        if staff:
            await _event(conn, events.GROUP_APPROVED, row, who)
    return to_group({**dict(row), "members": 1, "leaders": [who.name]})


async def approve(pool: Pool, *, compound_id: uuid.UUID, group_id: uuid.UUID,
                  who: Principal) -> Group:
    async with transaction(pool) as conn:
        row = await group_row(conn, compound_id, group_id, lock=True)
        if row["status"] != "proposed":
            raise problems.conflict("该兴趣小组不在待审核状态", "illegal-transition")
        row = await store.update(conn, table="interest_groups", id=group_id,
                                 fields={"status": "approved", "approved_by": who.subject})
        await _event(conn, events.GROUP_APPROVED, row, who)
    return await get_group(pool, compound_id=compound_id, group_id=group_id)


async def get_group(pool: Pool, *, compound_id: uuid.UUID, group_id: uuid.UUID) -> Group:
    """The group's page: members count, leaders, next activities."""
    async with pool.acquire() as conn:
        rows = await group_store.list_groups(conn, compound_id=compound_id, status=None)
        row = next((r for r in rows if r["id"] == group_id), None)
        if row is None:
            raise problems.not_found("兴趣小组")
        upcoming = await activity_store.next_for_group(conn, group_id=group_id,
                                                       limit=NEXT_ACTIVITIES)
    return to_group(row, upcoming)


async def list_groups(pool: Pool, *, compound_id: uuid.UUID, status: str | None,
                      query: PageQuery) -> Page[Group]:
    """A page of the compound's interest groups, oldest first."""
    async with pool.acquire() as conn:
        rows = await group_store.list_groups(conn, compound_id=compound_id, status=status,
                                             after=time_keyset(query.cursor),
                                             limit=query.limit + 1)
    return page_of([to_group(r) for r in rows], query.limit, time_cursor)


async def join(pool: Pool, *, compound_id: uuid.UUID, group_id: uuid.UUID, who: Principal,
               data: JoinIn) -> Member:
    if not who.person_id:
        raise problems.validation("只有居民本人可以加入兴趣小组")
    async with transaction(pool) as conn:
        group = await group_row(conn, compound_id, group_id)
        if group["status"] != "approved":
            raise problems.conflict("兴趣小组尚未成立，暂不能加入", "group-not-approved")
        status = "pending" if group["requires_approval"] else "active"
        row = await group_store.put_member(conn, group_id=group_id, person_id=who.person_id,
                                           name=data.name or who.name, role="member",
                                           status=status)
        if row is None:
            raise problems.conflict("你已经是该小组成员（或已申请加入）", "already-member")
        await _event(conn, events.GROUP_JOINED, group, who, who.person_id, status)
    return msgspec.convert(dict(row), Member)


async def accept(pool: Pool, *, compound_id: uuid.UUID, group_id: uuid.UUID, person_id: str,
                 who: Principal) -> Member:
    """A leader (or staff) accepts a pending member."""
    async with transaction(pool) as conn:
        group = await group_row(conn, compound_id, group_id)
        if not is_staff(who) and not await group_store.is_leader(conn, group_id=group_id,
                                                                 person_id=who.person_id):
            raise problems.forbidden("只有组长或工作人员可以同意入组")
        row = await group_store.member(conn, group_id=group_id, person_id=person_id, lock=True)
        if row is None or row["status"] != "pending":
            raise problems.conflict("此人没有待同意的入组申请", "illegal-transition")
        row = await group_store.set_member(conn, group_id=group_id, person_id=person_id,
                                           status="active")
        await _event(conn, events.GROUP_JOINED, group, who, person_id, "active")
    return msgspec.convert(dict(row), Member)


async def leave(pool: Pool, *, compound_id: uuid.UUID, group_id: uuid.UUID, person_id: str,
                who: Principal) -> Member:
    if person_id != who.person_id and not is_staff(who):
        raise problems.forbidden("只能自己退出兴趣小组")
    async with transaction(pool) as conn:
        group = await group_row(conn, compound_id, group_id)
        row = await group_store.member(conn, group_id=group_id, person_id=person_id, lock=True)
        if row is None or row["status"] == "left":
            raise problems.conflict("此人不是该小组成员", "not-a-member")
        row = await group_store.set_member(conn, group_id=group_id, person_id=person_id,
                                           status="left")
        await _event(conn, events.GROUP_LEFT, group, who, person_id, "left")
    return msgspec.convert(dict(row), Member)


async def members(pool: Pool, *, compound_id: uuid.UUID, group_id: uuid.UUID,
                  query: PageQuery) -> Page[Member]:
    """A page of the group's members: leaders first, then in the order they joined."""
    after = keyset(query.cursor, str, instant, str)
    async with pool.acquire() as conn:
        await group_row(conn, compound_id, group_id)
        rows = await group_store.members(conn, group_id=group_id,
                                         after=(after[0], after[1], after[2]) if after else None,
                                         limit=query.limit + 1)
    return page_of([msgspec.convert(dict(r), Member) for r in rows], query.limit,
                   lambda m: [m.role, m.joined_at.isoformat(), m.person_id])



"""Use cases of skills, volunteers and the menu: one transaction each, events via the outbox.

The order flow lives in orders.py, the ledger in ledger.py, recurring care in care.py.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec

from linli import problems
from linli.auth import Principal
from linli.bus import emit
from linli.db import Connection, Pool, transaction
from linli.directory import Directory
from linli.pagination import Page, page_of, time_cursor, time_keyset, whole
from linli.values import now_utc, require_code
from services.volunteers import events, rules, store
from services.volunteers.models import (
    MenuItem,
    MenuItemIn,
    MenuQuery,
    Skill,
    SkillIn,
    Volunteer,
    VolunteerIn,
    VolunteerPatch,
    VolunteerQuery,
)

MANAGE_SCOPE = rules.MANAGE_SCOPE


def is_staff(who: Principal) -> bool:
    """Community workers and the party branch (and apps with volunteers:manage)."""
    return who.acts_as_staff(MANAGE_SCOPE, rules.STAFF)


def to_volunteer(row: Any) -> Volunteer:
    return msgspec.convert({**dict(row), "skills": list(row["skills"])}, Volunteer)


def to_item(row: Any) -> MenuItem:
    return msgspec.convert(dict(row), MenuItem)


async def volunteer_row(conn: Connection, compound_id: uuid.UUID, volunteer_id: uuid.UUID,
                        *, lock: bool = False) -> Any:
    row = await store.get_volunteer(conn, id=volunteer_id, lock=lock)
    return problems.owned(row, compound_id, "志愿者")


async def acting_volunteer(conn: Connection, compound_id: uuid.UUID, who: Principal,
                           skill: str) -> Any:
    """The caller as a verified volunteer of this compound with `skill` (403 otherwise)."""
    row = await store.volunteer_of(conn, compound_id=compound_id, person_id=who.person_id)
    if row is None or row["status"] != "verified":
        raise problems.forbidden("只有本小区已审核的志愿者可以这样做")
    if skill not in row["skills"]:
        raise problems.forbidden("你没有登记这项服务技能")
    return row


async def named_volunteer(conn: Connection, compound_id: uuid.UUID, volunteer_id: uuid.UUID,
                          skill: str) -> Any:
    """The volunteer staff name for a service (an assignment, a care plan): of this compound,
    verified, with the skill (422 on the field otherwise)."""
    try:
        row = await volunteer_row(conn, compound_id, volunteer_id)
    except problems.Problem:
        raise problems.validation("本小区没有这位志愿者", field="volunteer_id") from None
    if row["status"] != "verified" or skill not in row["skills"]:
        raise problems.validation("该志愿者未通过审核或没有这项技能", field="volunteer_id")
    return row


# ---------------------------------------------------------------- skills


async def is_seeded(pool: Pool, *, compound_id: uuid.UUID) -> bool:
    async with pool.acquire() as conn:
        return bool(await store.list_skills(conn, compound_id=compound_id))


async def seed_skills(pool: Pool, *, compound_id: uuid.UUID) -> None:
    async with transaction(pool) as conn:
        await store.insert_skills(conn, compound_id=compound_id, skills=rules.DEFAULT_SKILLS)


async def ensure_seeded(pool: Pool, directory: Directory, *, compound_id: uuid.UUID) -> None:
    """The compound exists in the directory; its default skills exist here (first use)."""
    await directory.first_use.ensure(
        compound_id, seeded=lambda: is_seeded(pool, compound_id=compound_id),
        confirm=lambda: directory.compound(compound_id),
        seed=lambda: seed_skills(pool, compound_id=compound_id))


async def check_team(directory: Directory, compound_id: uuid.UUID, team_id: uuid.UUID) -> None:
    """The team is one of the compound's volunteer_team organisations in the directory."""
    if str(team_id) not in await directory.organisations(compound_id, "volunteer_team"):
        raise problems.validation("该小区没有这支志愿服务队", field="team_id")


async def list_skills(pool: Pool, directory: Directory, *, compound_id: uuid.UUID) -> Page[Skill]:
    """The compound's skills: a set its staff configure, answered as one page."""
    await ensure_seeded(pool, directory, compound_id=compound_id)
    async with pool.acquire() as conn:
        rows = await store.list_skills(conn, compound_id=compound_id)
    return whole([Skill(code=r["code"], name=r["name"], active=r["active"]) for r in rows])


async def put_skill(pool: Pool, directory: Directory, *, compound_id: uuid.UUID, code: str,
                    data: SkillIn) -> Skill:
    require_code(code, what="技能代码")
    await ensure_seeded(pool, directory, compound_id=compound_id)
    async with transaction(pool) as conn:
        row = await store.upsert_skill(conn, compound_id=compound_id, code=code, name=data.name,
                                       active=data.active)
    return Skill(code=row["code"], name=row["name"], active=row["active"])


async def check_skills(conn: Connection, compound_id: uuid.UUID, skills: list[str]) -> None:
    unknown = sorted(set(skills) - await store.active_skills(conn, compound_id=compound_id))
    if unknown:
        raise problems.validation(f"本小区没有这些服务技能: {', '.join(unknown)}", field="skills")


# ---------------------------------------------------------------- volunteers


def registrant(who: Principal, data: VolunteerIn) -> str:
    """Whom the registration is for: yourself, or anyone when staff register them."""
    if data.person_id is not None and str(data.person_id) != who.person_id:
        if not is_staff(who):
            raise problems.forbidden("只能登记自己为志愿者；代他人登记须由社区或党组织办理")
        return str(data.person_id)
    if not who.person_id:
        raise problems.validation("请给出要登记的人员 person_id", field="person_id")
    return who.person_id


async def register(pool: Pool, directory: Directory, *, compound_id: uuid.UUID, who: Principal,
                   data: VolunteerIn) -> Volunteer:
    """A new volunteer (a person the directory knows, in one of the compound's teams); staff
    registrations are verified at once, others wait for review."""
    await ensure_seeded(pool, directory, compound_id=compound_id)
    person_id = registrant(who, data)
    names: dict[str, str] = {}
    if person_id != who.person_id:
        # staff name someone else: a person of this compound (owner, resident, or serving today
        # in one of its organisations), else a 422 naming them and nothing written; the same
        # answer gives their name. Registering oneself needs no lookup: the token already says
        # the caller acts in the compound.
        names = await directory.require_members(compound_id, [person_id], field="person_id")
    # a directory answering without names (one not yet updated) is asked for the person
    name = names.get(person_id) or (
        await directory.person(person_id, field="person_id", detail="该人员不存在"))["name"]
    if data.team_id is not None:
        await check_team(directory, compound_id, data.team_id)
    by_staff = is_staff(who)
    now = now_utc()
    async with transaction(pool) as conn:
        await check_skills(conn, compound_id, data.skills)
        row = await store.insert_volunteer(conn, fields={
            "id": uuid.uuid4(), "compound_id": compound_id, "person_id": person_id, "name": name,
            "skills": sorted(set(data.skills)), "availability": data.availability,
            "team_id": data.team_id, "party_member": data.party_member,
            "status": "verified" if by_staff else "pending", "registered_by": who.subject,
            "verified_by": who.subject if by_staff else None, "verified_at": now if by_staff else None,
        })
        if row is None:
            raise problems.conflict("此人已是本小区的志愿者", "already-registered")
        await emit(conn, events.VOLUNTEER_REGISTERED, subject=str(row["id"]),
                   compound_id=str(compound_id),
                   data=events.VolunteerRegistered(
                       volunteer_id=row["id"], compound_id=compound_id, person_id=person_id,
                       skills=list(row["skills"]), party_member=data.party_member,
                       registered_by=who.subject))
        if by_staff:
            await _verified(conn, row, who)
    return to_volunteer(row)


async def _verified(conn: Connection, row: Any, who: Principal) -> None:
    await emit(conn, events.VOLUNTEER_VERIFIED, subject=str(row["id"]),
               compound_id=str(row["compound_id"]),
               data=events.VolunteerVerified(volunteer_id=row["id"],
                                             compound_id=row["compound_id"],
                                             person_id=row["person_id"], verified_by=who.subject))


async def verify(pool: Pool, *, compound_id: uuid.UUID, volunteer_id: uuid.UUID,
                 who: Principal) -> Volunteer:
    async with transaction(pool) as conn:
        row = await volunteer_row(conn, compound_id, volunteer_id, lock=True)
        if row["status"] == "verified":
            raise problems.conflict("该志愿者已通过审核", "already-verified")
        row = await store.update_volunteer(conn, id=volunteer_id, fields={
            "status": "verified", "verified_by": who.subject, "verified_at": now_utc()})
        await _verified(conn, row, who)
    return to_volunteer(row)


async def _changed(conn: Connection, kind: Any, row: Any, who: Principal,
                   reason: str | None = None) -> None:
    await emit(conn, kind, subject=str(row["id"]), compound_id=str(row["compound_id"]),
               data=events.VolunteerChanged(
                   volunteer_id=row["id"], compound_id=row["compound_id"],
                   person_id=row["person_id"], skills=list(row["skills"]), status=row["status"],
                   by=who.subject, reason=reason))


async def update(pool: Pool, directory: Directory, *, compound_id: uuid.UUID,
                 volunteer_id: uuid.UUID, who: Principal, data: VolunteerPatch) -> Volunteer:
    """The volunteer or staff change skills, availability, team or the party member flag."""
    if data.team_id is not None:
        await check_team(directory, compound_id, data.team_id)
    fields = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not None}
    if "skills" in fields:
        fields["skills"] = sorted(set(fields["skills"]))
    if not fields:
        raise problems.validation("没有要修改的内容")
    async with transaction(pool) as conn:
        row = await volunteer_row(conn, compound_id, volunteer_id, lock=True)
        if row["person_id"] != who.person_id and not is_staff(who):
            raise problems.forbidden("只有志愿者本人或社区可以修改志愿者信息")
        if "skills" in fields:
            await check_skills(conn, compound_id, fields["skills"])
        row = await store.update_volunteer(conn, id=volunteer_id, fields=fields)
        await _changed(conn, events.VOLUNTEER_UPDATED, row, who)
    return to_volunteer(row)


async def suspend(pool: Pool, *, compound_id: uuid.UUID, volunteer_id: uuid.UUID,
                  who: Principal, reason: str) -> Volunteer:
    async with transaction(pool) as conn:
        row = await volunteer_row(conn, compound_id, volunteer_id, lock=True)
        if row["status"] == "suspended":
            raise problems.conflict("该志愿者已暂停服务", "illegal-transition")
        row = await store.update_volunteer(conn, id=volunteer_id, fields={"status": "suspended"})
        await _changed(conn, events.VOLUNTEER_SUSPENDED, row, who, reason)
    return to_volunteer(row)


async def get_volunteer(pool: Pool, *, compound_id: uuid.UUID,
                        volunteer_id: uuid.UUID) -> Volunteer:
    async with pool.acquire() as conn:
        return to_volunteer(await volunteer_row(conn, compound_id, volunteer_id))


async def list_volunteers(pool: Pool, *, compound_id: uuid.UUID,
                          query: VolunteerQuery) -> Page[Volunteer]:
    async with pool.acquire() as conn:
        rows = await store.list_volunteers(conn, compound_id=compound_id, skill=query.skill,
                                           status=query.status, after=time_keyset(query.cursor),
                                           limit=query.limit + 1)
    return page_of([to_volunteer(r) for r in rows], query.limit, time_cursor)


# ---------------------------------------------------------------- the menu


async def _menu_event(conn: Connection, kind: Any, row: Any, who: Principal) -> None:
    await emit(conn, kind, subject=str(row["id"]), compound_id=str(row["compound_id"]),
               data=events.MenuItemChanged(item_id=row["id"], compound_id=row["compound_id"],
                                           title=row["title"], skill=row["skill"],
                                           volunteer_id=row["volunteer_id"], by=who.subject))


async def publish(pool: Pool, directory: Directory, *, compound_id: uuid.UUID, who: Principal,
                  data: MenuItemIn) -> MenuItem:
    """A verified volunteer publishes what they can do; the community publishes for a team."""
    await ensure_seeded(pool, directory, compound_id=compound_id)
    async with transaction(pool) as conn:
        await check_skills(conn, compound_id, [data.skill])
        volunteer = None if is_staff(who) else await acting_volunteer(conn, compound_id, who,
                                                                      data.skill)
        row = await store.insert_item(conn, fields={
            "id": uuid.uuid4(), "compound_id": compound_id, "title": data.title,
            "skill": data.skill, "description": data.description,
            "duration_minutes": data.duration_minutes,
            "capacity_per_week": data.capacity_per_week,
            "volunteer_id": volunteer["id"] if volunteer else None,
            "published_by": who.subject, "status": "published"})
        await _menu_event(conn, events.MENU_PUBLISHED, row, who)
    return to_item(row)


async def withdraw(pool: Pool, *, compound_id: uuid.UUID, item_id: uuid.UUID,
                   who: Principal) -> MenuItem:
    async with transaction(pool) as conn:
        row = problems.owned(await store.get_item(conn, id=item_id, lock=True), compound_id,
                             "服务项目")
        if row["published_by"] != who.subject and not is_staff(who):
            raise problems.forbidden("只有发布者或社区可以下架服务")
        if row["status"] != "published":
            raise problems.conflict("该服务已下架", "illegal-transition")
        row = await store.set_item_status(conn, id=item_id, status="withdrawn")
        await _menu_event(conn, events.MENU_WITHDRAWN, row, who)
    return to_item(row)


async def get_item(pool: Pool, *, compound_id: uuid.UUID, item_id: uuid.UUID) -> MenuItem:
    async with pool.acquire() as conn:
        row = await store.get_item(conn, id=item_id)
    return to_item(problems.owned(row, compound_id, "服务项目"))


async def list_menu(pool: Pool, *, compound_id: uuid.UUID, query: MenuQuery) -> Page[MenuItem]:
    async with pool.acquire() as conn:
        rows = await store.list_items(conn, compound_id=compound_id, skill=query.skill,
                                      status=query.status, after=time_keyset(query.cursor),
                                      limit=query.limit + 1)
    return page_of([to_item(r) for r in rows], query.limit, time_cursor)

"""Meeting use cases: convene from the 1+3+N roster, agenda, RSVP, check-in, quorum.

Opinions per speaker, outcomes, follow-up actions and minutes are in minutes.py.
Only the convener's organisation (its members on the roster when the meeting was convened)
manages a meeting; apps holding meetings:manage and admins may too.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import msgspec

from linli import problems
from linli.auth import Principal
from linli.bus import emit
from linli.clients import ServiceClient
from linli.db import Connection, Pool, transaction
from linli.directory import Directory
from linli.pagination import Page, PageQuery, page_of, time_keyset
from linli.values import china_today
from services.meetings import events
from services.meetings.councils import store
from services.meetings.councils.models import (
    KIND_LABELS,
    AgendaItem,
    AgendaItemIn,
    FollowUp,
    InvitedOrganisation,
    Invitee,
    ItemOpinion,
    Meeting,
    MeetingIn,
    Quorum,
)
from services.meetings.proposals.service import proposal_in
from services.meetings.votes import tally

MANAGE_SCOPE = "meetings:manage"
# kind → (rule, comparison, share of invitees present, may the meeting decide at all)
QUORUM: dict[str, tuple[str, str, Fraction, bool]] = {
    "party_masses_council": ("半数受邀者到会且每个受邀组织均有人到会", ">=", Fraction(1, 2), True),
    "residents_council": ("过半数受邀者到会", ">", Fraction(1, 2), True),
    "owners_general_meeting": ("三分之二受邀业主到会 (面积由表决计算)", ">=", Fraction(2, 3), True),
    "hearing": ("听证会只听取意见, 不作决定", ">", Fraction(0), False),
}


class _Org(msgspec.Struct):
    id: uuid.UUID
    kind: str
    name: str


class _Role(msgspec.Struct):
    person_id: uuid.UUID
    person_name: str


class _RosterEntry(msgspec.Struct):
    organisation: _Org
    roles: list[_Role]


async def _roster(directory: ServiceClient, compound_id: uuid.UUID) -> list[_RosterEntry]:
    today = china_today().isoformat()  # roles change on China's days, as the lookup checks
    path = f"/v1/compounds/{compound_id}/roster?on={today}"
    result: list[_RosterEntry] = await directory.get_all_or(path, problems.not_found("小区"),
                                                            kind=_RosterEntry)
    return result


def _convener(data: MeetingIn, roster: dict[uuid.UUID, _RosterEntry]) -> uuid.UUID:
    """The convener organisation: by id, or the compound's one organisation of a kind."""
    if data.convener_org_id is not None:
        return data.convener_org_id
    if data.convener_kind is None:
        raise problems.validation("请给出召集组织 convener_org_id 或 convener_kind",
                                  field="convener_org_id")
    found = [o for o, e in roster.items() if e.organisation.kind == data.convener_kind]
    if len(found) != 1:
        what = "没有" if not found else "有多个"
        raise problems.validation(f"该小区的 1+3+N 名册上{what} {data.convener_kind} 类组织,"
                                  " 请用 convener_org_id 指明召集组织", field="convener_kind")
    return found[0]


class _Booking(msgspec.Struct):
    id: uuid.UUID


class _Venue(msgspec.Struct):
    name: str


async def _book_venue(centre: ServiceClient, *, compound_id: uuid.UUID, meeting_id: uuid.UUID,
                      data: MeetingIn, by: str) -> tuple[uuid.UUID, str]:
    """Book the centre venue for the meeting's time: its booking id and the venue's name.

    The meeting id is the Idempotency-Key, so a retried convene never books twice; the centre's
    refusal (a clash naming the other booking, outside opening hours) is the caller's error."""
    base = f"/v1/compounds/{compound_id}"
    try:
        booker = uuid.UUID(by)  # the person convening holds the booking
    except ValueError:
        raise problems.validation("由应用召集的会议不能预约场地, 请填写会议地点 place",
                                  field="venue_id") from None
    try:
        venue = await centre.get(f"{base}/venues/{data.venue_id}", kind=_Venue)
        booking = await centre.request(
            "POST", f"{base}/bookings", kind=_Booking,
            headers={"Idempotency-Key": f"meeting-{meeting_id}"},
            json={"venue_id": str(data.venue_id), "person_id": str(booker),
                  "starts_at": data.starts_at.isoformat(), "ends_at": data.ends_at.isoformat(),
                  "purpose": f"{KIND_LABELS[data.kind]}：{data.title}"[:100]})
    except problems.Problem as exc:
        reason = str(exc).split(": ", 1)[-1]
        if exc.status == 404:
            raise problems.validation("本小区的邻里中心没有这个场地", field="venue_id") from None
        if exc.status == 409:
            raise problems.conflict(f"场地已被占用: {reason}", "venue-taken") from None
        if exc.status in (400, 403, 422):
            raise problems.validation(f"邻里中心不接受该预约: {reason}", field="venue_id") from None
        raise
    return booking.id, venue.name


async def _release_venue(centre: ServiceClient, compound_id: uuid.UUID,
                         booking_id: uuid.UUID) -> None:
    """Undo a booking whose meeting was not written, so a failed convene holds no venue."""
    await centre.post(f"/v1/compounds/{compound_id}/bookings/{booking_id}/cancel",
                      {"reason": "议事会召集未成功, 释放场地"})


async def convene(pool: Pool, directory: Directory, *, compound_id: uuid.UUID,
                  data: MeetingIn, by: str, centre: ServiceClient) -> Meeting:
    """Invite organisations (all their current members) and named people of the compound;
    a meeting at a centre venue books it first (and releases it if the meeting is not written)."""
    if data.starts_at.tzinfo is None or data.ends_at <= data.starts_at:
        raise problems.validation("会议时间须带时区, 且结束晚于开始", field="ends_at")
    if data.place is None and data.online_url is None and data.venue_id is None:
        raise problems.validation("请给出会议地点、邻里中心场地或线上会议链接", field="place")
    # people invited by name belong to the compound (own or live there, or serve today in one of
    # its organisations, as guests from the street office or a partner unit do): the convened
    # event has notify message every invitee, so nobody of another compound is reached or
    # learns of the meeting; refused whole, before a venue is booked or anything written.
    # The same answer names them: invitations and the meeting show who is invited, not ids
    names = await directory.require_members(compound_id, [str(p) for p in data.person_ids],
                                            field="person_ids")
    meeting_id = uuid.uuid4()
    roster = {e.organisation.id: e for e in await _roster(directory.client, compound_id)}
    people = _invited(data, roster, names)
    if data.venue_id is None:
        return await _write_meeting(pool, compound_id, meeting_id, data, roster, people, by,
                                    None, data.place)
    booking_id, venue_name = await _book_venue(centre, compound_id=compound_id,
                                               meeting_id=meeting_id, data=data, by=by)
    try:
        return await _write_meeting(pool, compound_id, meeting_id, data, roster, people, by,
                                    booking_id, data.place or venue_name)
    except BaseException:
        with contextlib.suppress(problems.Problem):  # the original failure is what matters
            await _release_venue(centre, compound_id, booking_id)
        raise


def _invited(data: MeetingIn, roster: dict[uuid.UUID, _RosterEntry], names: dict[str, str],
             ) -> list[tuple[uuid.UUID, uuid.UUID | None, str]]:
    """Everyone invited: the current members of the invited organisations, then named people."""
    convener = _convener(data, roster)
    wanted = [convener, *data.organisation_ids]
    unknown = [str(o) for o in wanted if o not in roster]
    if unknown:
        raise problems.validation(f"以下组织不在该小区的 1+3+N 名册上: {', '.join(unknown)}",
                                  field="organisation_ids")
    orgs = [roster[o] for o in dict.fromkeys(wanted)]
    people: list[tuple[uuid.UUID, uuid.UUID | None, str]] = [
        (r.person_id, e.organisation.id, r.person_name) for e in orgs for r in e.roles]
    people += [(p, None, names.get(str(p), "")) for p in data.person_ids]
    return people


async def _write_meeting(pool: Pool, compound_id: uuid.UUID, meeting_id: uuid.UUID,
                         data: MeetingIn, roster: dict[uuid.UUID, _RosterEntry],
                         people: list[tuple[uuid.UUID, uuid.UUID | None, str]], by: str,
                         booking_id: uuid.UUID | None, place: str | None) -> Meeting:
    convener = _convener(data, roster)
    orgs = [roster[o] for o in dict.fromkeys([convener, *data.organisation_ids])]
    async with transaction(pool) as conn:
        await store.insert_meeting(
            conn, id=meeting_id, compound_id=compound_id, kind=data.kind, title=data.title,
            starts_at=data.starts_at, ends_at=data.ends_at, place=place,
            online_url=data.online_url, convener_org_id=convener,
            convener_name=roster[convener].organisation.name, created_by=by,
            venue_booking_id=booking_id)
        await store.insert_organisations(conn, meeting_id=meeting_id,
                                                 orgs=[e.organisation for e in orgs])
        await store.insert_invitees(conn, meeting_id=meeting_id, people=people)
        await emit(conn, events.MEETING_CONVENED, subject=str(meeting_id),
                   compound_id=str(compound_id),
                   data=events.MeetingConvened(
                       meeting_id=meeting_id, compound_id=compound_id, kind=data.kind,
                       title=data.title, starts_at=data.starts_at.isoformat(),
                       invitee_ids=list(dict.fromkeys(p for p, _, _ in people)),
                       invitee_names=_named(people), place=place or data.online_url or ""))
        return await detail(conn, await meeting_in(conn, compound_id, meeting_id))


def _named(people: list[tuple[uuid.UUID, uuid.UUID | None, str]]) -> list[str]:
    """Each invitee's name once, in invitation order (people without a name left out)."""
    seen: dict[uuid.UUID, str] = {}
    for person_id, _, name in people:
        seen.setdefault(person_id, name)
    return [n for n in seen.values() if n]


async def meeting_in(conn: Connection, compound_id: uuid.UUID, meeting_id: uuid.UUID) -> Any:
    return problems.owned(await store.get_meeting(conn, id=meeting_id), compound_id, "会议")


async def require_manager(conn: Connection, meeting: Any, who: Principal) -> None:
    """Only the convener's organisation manages a meeting (and apps with meetings:manage)."""
    if who.acts_as_staff(MANAGE_SCOPE, roles=()):  # the app scope, or a platform admin
        return
    try:
        person = uuid.UUID(who.person_id)
    except ValueError:
        person = None
    row = None if person is None else await store.invitee(
        conn, meeting_id=meeting["id"], person_id=person)
    if row is None or row["organisation_id"] != meeting["convener_org_id"]:
        raise problems.forbidden(f"只有召集组织 ({meeting['convener_name']}) 的成员可以管理该会议")


def require_convened(meeting: Any) -> None:
    """A cancelled meeting takes no more agenda, answers, check-ins or records."""
    if meeting["status"] != "convened":
        raise problems.conflict("会议已取消", "meeting-cancelled")


def to_item(row: Any, opinions: Sequence[Any] = (), actions: Sequence[Any] = ()) -> AgendaItem:
    fields = {k: row[k] for k in AgendaItem.__struct_fields__ if k not in ("opinions", "actions")}
    return AgendaItem(**fields,
                      opinions=[ItemOpinion(**{k: o[k] for k in ItemOpinion.__struct_fields__})
                                for o in opinions],
                      actions=[FollowUp(**{k: a[k] for k in FollowUp.__struct_fields__})
                               for a in actions])


async def agenda(conn: Connection, meeting_id: uuid.UUID) -> list[AgendaItem]:
    items = await store.items(conn, meeting_id=meeting_id)
    ids = [i["id"] for i in items]
    opinions = await store.opinions(conn, item_ids=ids)
    actions = await store.actions(conn, item_ids=ids)
    return [to_item(i, [o for o in opinions if o["item_id"] == i["id"]],
                    [a for a in actions if a["item_id"] == i["id"]]) for i in items]


async def detail(conn: Connection, row: Any) -> Meeting:
    orgs = await store.organisations(conn, meeting_id=row["id"])
    people = await store.invitees(conn, meeting_id=row["id"])
    return Meeting(
        id=row["id"], compound_id=row["compound_id"], kind=row["kind"],
        kind_label=KIND_LABELS[row["kind"]], title=row["title"], starts_at=row["starts_at"],
        ends_at=row["ends_at"], place=row["place"], online_url=row["online_url"],
        convener_org_id=row["convener_org_id"], convener_name=row["convener_name"],
        status=row["status"],
        organisations=[InvitedOrganisation(organisation_id=o["organisation_id"], kind=o["kind"],
                                           name=o["name"]) for o in orgs],
        invitees=[Invitee(person_id=p["person_id"], name=p["name"],
                          organisation_id=p["organisation_id"], rsvp=p["rsvp"],
                          present=p["present"]) for p in people],
        agenda=await agenda(conn, row["id"]), cancelled_at=row["cancelled_at"],
        cancel_reason=row["cancel_reason"], venue_booking_id=row["venue_booking_id"])


async def get_meeting(pool: Pool, *, compound_id: uuid.UUID, meeting_id: uuid.UUID) -> Meeting:
    async with pool.acquire() as conn:
        return await detail(conn, await meeting_in(conn, compound_id, meeting_id))


async def list_meetings(pool: Pool, *, compound_id: uuid.UUID,
                        query: PageQuery) -> Page[Meeting]:
    """A page of the compound's meetings by start time."""
    async with pool.acquire() as conn:
        rows = await store.meetings_page(conn, compound_id=compound_id,
                                         after=time_keyset(query.cursor), limit=query.limit + 1)
        page = page_of(rows, query.limit, _row_starts)
        return Page(items=[await detail(conn, r) for r in page.items],
                    next_cursor=page.next_cursor)


def _row_starts(row: Any) -> list[str]:
    return [row["starts_at"].isoformat(), str(row["id"])]


def _row_created(row: Any) -> list[str]:
    return [row["created_at"].isoformat(), str(row["id"])]


async def add_item(pool: Pool, *, compound_id: uuid.UUID, meeting_id: uuid.UUID,
                   data: AgendaItemIn, who: Principal) -> AgendaItem:
    """Schedule a proposed item (item_id), or add an item for a proposal, or a free item."""
    async with transaction(pool) as conn:
        meeting = await meeting_in(conn, compound_id, meeting_id)
        await require_manager(conn, meeting, who)
        await store.lock_meeting(conn, id=meeting_id)
        require_convened(await meeting_in(conn, compound_id, meeting_id))
        if data.item_id is not None:
            problems.owned(await store.get_item(conn, id=data.item_id), compound_id, "议程事项")
            row = await store.schedule_item(conn, id=data.item_id, meeting_id=meeting_id,
                                                    presenter=data.presenter, minutes=data.minutes)
            if row is None:
                raise problems.conflict("该议程事项已经排入会议")
            return to_item(row)
        title, source = data.title, "free"
        if data.proposal_id is not None:
            proposal = await proposal_in(conn, compound_id, data.proposal_id)
            title, source = title or f"审议议案: {proposal['title']}", "proposal"
        if title is None:
            raise problems.validation("自由议程事项须给出标题", field="title")
        row = await store.insert_item(
            conn, id=uuid.uuid4(), compound_id=compound_id, meeting_id=meeting_id, title=title,
            source=source, proposal_id=data.proposal_id, presenter=data.presenter,
            minutes=data.minutes)
        await emit_item(conn, row)
        return to_item(row)


async def emit_item(conn: Connection, row: Any) -> None:
    await emit(conn, events.AGENDA_ITEM_PROPOSED, subject=str(row["id"]),
               compound_id=str(row["compound_id"]),
               data=events.AgendaItemProposed(
                   item_id=row["id"], compound_id=row["compound_id"], title=row["title"],
                   source=row["source"], meeting_id=row["meeting_id"], issue_id=row["issue_id"],
                   proposal_id=row["proposal_id"]))


async def unscheduled(pool: Pool, *, compound_id: uuid.UUID,
                      query: PageQuery) -> Page[AgendaItem]:
    """A page of the items waiting for a meeting (e.g. escalated issues), oldest first."""
    async with pool.acquire() as conn:
        rows = await store.unscheduled_items(conn, compound_id=compound_id,
                                             after=time_keyset(query.cursor),
                                             limit=query.limit + 1)
    page = page_of(rows, query.limit, _row_created)
    return Page(items=[to_item(r) for r in page.items], next_cursor=page.next_cursor)


async def rsvp(pool: Pool, *, compound_id: uuid.UUID, meeting_id: uuid.UUID, answer: str,
               person: str) -> Invitee:
    async with transaction(pool) as conn:
        require_convened(await meeting_in(conn, compound_id, meeting_id))
        person_id = _person(person)
        if not await store.set_rsvp(conn, meeting_id=meeting_id, person_id=person_id,
                                            answer=answer):
            raise problems.forbidden("你不在该会议的受邀名单上")
        return await _invitee(conn, meeting_id, person_id)


def _person(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise problems.forbidden("该操作须以个人身份进行") from None


async def _invitee(conn: Connection, meeting_id: uuid.UUID, person_id: uuid.UUID) -> Invitee:
    row = next(p for p in await store.invitees(conn, meeting_id=meeting_id)
               if p["person_id"] == person_id)
    return Invitee(person_id=person_id, name=row["name"], organisation_id=row["organisation_id"],
                   rsvp=row["rsvp"], present=row["present"])


async def check_in(pool: Pool, *, compound_id: uuid.UUID, meeting_id: uuid.UUID,
                   person_id: uuid.UUID | None, who: Principal) -> Invitee:
    """Check in oneself, or (the convener's secretary) someone invited; twice is harmless."""
    async with transaction(pool) as conn:
        meeting = await meeting_in(conn, compound_id, meeting_id)
        require_convened(meeting)
        if person_id is None:
            person_id = _person(who.person_id)
        elif str(person_id) != who.person_id:
            await require_manager(conn, meeting, who)
        if await store.invitee(conn, meeting_id=meeting_id, person_id=person_id) is None:
            raise problems.forbidden("该人员不在会议的受邀名单上")
        await store.check_in(conn, meeting_id=meeting_id, person_id=person_id,
                                     by=who.subject)
        return await _invitee(conn, meeting_id, person_id)


async def quorum(pool: Pool, *, compound_id: uuid.UUID, meeting_id: uuid.UUID) -> Quorum:
    async with pool.acquire() as conn:
        meeting = await meeting_in(conn, compound_id, meeting_id)
        people = await store.invitees(conn, meeting_id=meeting_id)
        orgs = await store.organisations(conn, meeting_id=meeting_id)
    rule, comparison, share, decides = QUORUM[meeting["kind"]]
    present = [p for p in people if p["present"]]
    check = tally.check("attendance", comparison, share, len(present), len(people))
    missing: list[str] = []
    if meeting["kind"] == "party_masses_council":
        here = {p["organisation_id"] for p in present}
        missing = [o["name"] for o in orgs if o["organisation_id"] not in here]
    met = check.met and not missing and bool(people)
    return Quorum(meeting_id=meeting_id, kind=meeting["kind"], rule=rule, invited=len(people),
                  present=len(present), needed=check.needed, met=met,
                  organisations_missing=missing, may_decide=met and decides)

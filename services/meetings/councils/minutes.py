"""During and after a meeting: opinions per speaker, item outcomes, follow-up actions, minutes
(draft → approved by the convener → published (公示) for a number of days), and the iCalendar
feed of a compound's meetings (RFC 5545, written by hand: it is a few lines of text).
"""

from __future__ import annotations

import uuid
from typing import Any

from linli import problems
from linli.auth import Principal
from linli.bus import emit
from linli.db import Connection, Pool, transaction
from linli.directory import Directory
from services.meetings import events, metrics
from services.meetings.councils import store
from services.meetings.councils.models import (
    KIND_LABELS,
    AgendaItem,
    FollowUpIn,
    ItemOpinionIn,
    Minutes,
    OutcomeIn,
)
from services.meetings.councils.service import agenda, meeting_in, require_convened, require_manager
from services.meetings.votes import store as vote_store

STANCES = {"support": "支持", "oppose": "反对", "suggest": "建议"}
OUTCOMES = {"consensus": "达成共识", "vote": "付诸表决", "deferred": "暂缓", "referred": "转交办理"}


async def _item(conn: Connection, compound_id: uuid.UUID, meeting_id: uuid.UUID,
                item_id: uuid.UUID, who: Principal) -> Any:
    meeting = await meeting_in(conn, compound_id, meeting_id)
    await require_manager(conn, meeting, who)
    require_convened(meeting)
    item = await store.get_item(conn, id=item_id)
    if item is None or item["meeting_id"] != meeting_id:
        raise problems.not_found("议程事项")
    return item


async def _full_item(conn: Connection, meeting_id: uuid.UUID, item_id: uuid.UUID) -> AgendaItem:
    return next(i for i in await agenda(conn, meeting_id) if i.id == item_id)


async def record_opinion(pool: Pool, directory: Directory, *, compound_id: uuid.UUID,
                         meeting_id: uuid.UUID, item_id: uuid.UUID, data: ItemOpinionIn,
                         who: Principal) -> AgendaItem:
    """The speaker belongs to the compound (owns or lives there, or serves today in one of its
    organisations, as invited guests do), or is the caller or the meeting's convener, who act
    in it (a street official convenes without a role there): the minutes are published to the
    compound under the speaker's name, so nobody of another compound is recorded there;
    refused (422) before anything is written. Without a name given, the one recorded is the
    caller's own (from their token) when they speak, else the directory's."""
    async with pool.acquire() as conn:
        meeting = await meeting_in(conn, compound_id, meeting_id)
        # who may not record opinions is refused before the directory is asked: else a 422
        # or not would tell any caller whether a person id belongs to the compound
        await require_manager(conn, meeting, who)
    speaker_name = await _speaker_name(directory, compound_id, meeting, data, who)
    async with transaction(pool) as conn:
        await _item(conn, compound_id, meeting_id, item_id, who)
        await store.insert_opinion(
            conn, item_id=item_id, speaker_id=data.speaker_id, speaker_name=speaker_name,
            organisation_id=data.organisation_id, stance=data.stance, text=data.text,
            by=who.subject)
        return await _full_item(conn, meeting_id, item_id)


async def _speaker_name(directory: Directory, compound_id: uuid.UUID, meeting: Any,
                        data: ItemOpinionIn, who: Principal) -> str:
    """The name the minutes show: the one given; the caller's own when they speak; else the
    directory's. Anyone but the caller and the convener must belong to the compound (422);
    those two act in it without belonging (a street official), so for them the directory's
    name is only looked up, and "" when it knows none."""
    speaker = str(data.speaker_id)
    if speaker not in (who.person_id, meeting["created_by"]):
        names = await directory.require_members(compound_id, [speaker], field="speaker_id")
        return data.speaker_name or names.get(speaker, "")
    if data.speaker_name:
        return data.speaker_name
    if speaker == who.person_id and who.name:
        return who.name
    return (await directory.names(compound_id, [speaker])).get(speaker, "")


async def set_outcome(pool: Pool, *, compound_id: uuid.UUID, meeting_id: uuid.UUID,
                      item_id: uuid.UUID, data: OutcomeIn, who: Principal) -> AgendaItem:
    if data.outcome == "vote" and data.vote_id is None:
        raise problems.validation("付诸表决的事项须给出 vote_id", field="vote_id")
    if data.outcome != "vote" and data.vote_id is not None:
        raise problems.validation("只有付诸表决的事项才能给出 vote_id", field="vote_id")
    async with transaction(pool) as conn:
        item = await _item(conn, compound_id, meeting_id, item_id, who)
        if data.vote_id is not None:
            await _check_vote(conn, compound_id, item, data.vote_id)
        await store.set_outcome(conn, id=item_id, outcome=data.outcome, note=data.note,
                                        vote_id=data.vote_id)
        return await _full_item(conn, meeting_id, item_id)


async def _check_vote(conn: Connection, compound_id: uuid.UUID, item: Any,
                      vote_id: uuid.UUID) -> None:
    """"Decided by vote" names a vote of this compound (of the item's proposal, if it has one)."""
    vote = problems.owned(await vote_store.get_vote(conn, id=vote_id), compound_id, "表决",
                          missing=problems.validation("vote_id 不是本小区的表决", field="vote_id"))
    if item["proposal_id"] is not None and vote["proposal_id"] != item["proposal_id"]:
        raise problems.validation("vote_id 不是该议程事项所审议议案的表决", field="vote_id")


async def add_action(pool: Pool, *, compound_id: uuid.UUID, meeting_id: uuid.UUID,
                     item_id: uuid.UUID, data: FollowUpIn, who: Principal) -> AgendaItem:
    async with transaction(pool) as conn:
        await _item(conn, compound_id, meeting_id, item_id, who)
        await store.insert_action(conn, item_id=item_id, title=data.title,
                                          organisation_id=data.organisation_id,
                                          due_on=data.due_on)
        return await _full_item(conn, meeting_id, item_id)


def to_minutes(row: Any) -> Minutes:
    return Minutes(**{k: row[k] for k in Minutes.__struct_fields__})


def draft_text(meeting: Any, orgs: list[Any], people: list[Any], items: list[AgendaItem]) -> str:
    """Minutes drafted from what was recorded: who came, each item, its opinions and outcome."""
    present = [p["name"] or str(p["person_id"]) for p in people if p["present"]]
    lines = [f"# {meeting['title']} 会议纪要", "",
             f"- 会议类型: {KIND_LABELS[meeting['kind']]}",
             f"- 时间: {meeting['starts_at'].isoformat()} 至 {meeting['ends_at'].isoformat()}",
             f"- 地点: {meeting['place'] or meeting['online_url']}",
             f"- 召集: {meeting['convener_name']}",
             f"- 参会组织: {'、'.join(o['name'] for o in orgs) or '无'}",
             f"- 到会 {len(present)} 人 (受邀 {len(people)} 人): {'、'.join(present) or '无'}", ""]
    names = {o["organisation_id"]: o["name"] for o in orgs}
    for item in items:
        lines += [f"## {item.position}. {item.title}", ""]
        for o in item.opinions:
            org = f" ({names.get(o.organisation_id, '')})" if o.organisation_id else ""
            lines.append(f"- {o.speaker_name or o.speaker_id}{org} [{STANCES[o.stance]}]: {o.text}")
        outcome = OUTCOMES.get(item.outcome or "", "未形成结论")
        lines += ["", f"结论: {outcome}{'; ' + item.outcome_note if item.outcome_note else ''}"]
        for a in item.actions:
            org = names.get(a.organisation_id, str(a.organisation_id))
            lines.append(f"- 后续事项: {a.title} (责任单位: {org}, 完成期限: {a.due_on.isoformat()})")
        lines.append("")
    return "\n".join(lines)


async def draft(pool: Pool, *, compound_id: uuid.UUID, meeting_id: uuid.UUID,
                who: Principal, text: str | None = None) -> Minutes:
    """Draft from the record (text None), or save an edited draft; 409 once approved."""
    async with transaction(pool) as conn:
        meeting = await meeting_in(conn, compound_id, meeting_id)
        await require_manager(conn, meeting, who)
        if text is None:
            orgs = await store.organisations(conn, meeting_id=meeting_id)
            people = await store.invitees(conn, meeting_id=meeting_id)
            text = draft_text(meeting, list(orgs), list(people), await agenda(conn, meeting_id))
        row = await store.save_draft(conn, meeting_id=meeting_id, text=text,
                                             by=who.subject)
        if row is None:
            raise problems.conflict("纪要已经批准, 不能再修改", "minutes-approved")
    return to_minutes(row)


async def approve(pool: Pool, *, compound_id: uuid.UUID, meeting_id: uuid.UUID,
                  who: Principal) -> Minutes:
    async with transaction(pool) as conn:
        meeting = await meeting_in(conn, compound_id, meeting_id)
        await require_manager(conn, meeting, who)
        row = await store.get_minutes(conn, meeting_id=meeting_id, lock=True)
        if row is None:
            raise problems.conflict("还没有纪要草稿", "no-minutes")
        if row["status"] != "draft":
            return to_minutes(row)
        row = await store.approve_minutes(conn, meeting_id=meeting_id, by=who.subject)
    metrics.MEETINGS_HELD.labels(meeting["kind"]).inc()
    return to_minutes(row)


async def publish(pool: Pool, *, compound_id: uuid.UUID, meeting_id: uuid.UUID, days: int,
                  who: Principal) -> Minutes:
    """公示: residents of the compound can read the approved minutes for `days` days."""
    async with transaction(pool) as conn:
        meeting = await meeting_in(conn, compound_id, meeting_id)
        await require_manager(conn, meeting, who)
        row = await store.get_minutes(conn, meeting_id=meeting_id, lock=True)
        if row is None or row["status"] == "draft":
            raise problems.conflict("纪要须先经召集人批准才能公示", "minutes-not-approved")
        if row["status"] == "published":
            return to_minutes(row)
        row = await store.publish_minutes(conn, meeting_id=meeting_id, days=days)
        await emit(conn, events.MINUTES_PUBLISHED, subject=str(meeting_id),
                   compound_id=str(compound_id),
                   data=events.MinutesPublished(
                       meeting_id=meeting_id, compound_id=compound_id, title=meeting["title"],
                       published_at=row["published_at"].isoformat(),
                       notice_until=row["notice_until"].isoformat()))
    return to_minutes(row)


async def read(pool: Pool, *, compound_id: uuid.UUID, meeting_id: uuid.UUID,
               who: Principal) -> Minutes:
    """Everyone in the compound reads published minutes; drafts only the convener's side."""
    async with pool.acquire() as conn:
        meeting = await meeting_in(conn, compound_id, meeting_id)
        row = await store.get_minutes(conn, meeting_id=meeting_id)
        if row is None or row["status"] != "published":
            try:
                await require_manager(conn, meeting, who)
            except problems.Problem:
                raise problems.not_found("已公示的会议纪要") from None
            if row is None:
                raise problems.not_found("会议纪要")
    return to_minutes(row)

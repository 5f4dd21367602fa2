"""Issue use cases: categories, reporting, reading, similar issues, comments.

One transaction each; every change is an event through the outbox. The status flow lives in
flow.py; co-signs and escalation in escalation.py, the overdue sweep in sweep.py, statistics in
stats.py. The compound's defaults are seeded on its first use, after the directory confirms it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import uuid
from typing import Any

import msgspec

from linli import problems
from linli.auth import Principal
from linli.bus import emit
from linli.db import Connection, Pool, transaction
from linli.directory import Directory
from linli.pagination import Page, PageQuery, page_of, time_cursor, time_keyset, whole
from linli.problems import Problem
from linli.values import now_utc, require_code
from services.issues import events, metrics, rules, store
from services.issues.models import (
    Attribute,
    Category,
    CategoryIn,
    Comment,
    CommentIn,
    CompoundSettings,
    Issue,
    IssueIn,
    IssueQuery,
    SettingsIn,
    SimilarIssue,
    SimilarQuery,
)

SIMILAR_MIN_SCORE = 0.2
SIMILAR_SHOWN = 5


def is_staff(who: Principal) -> bool:
    """Staff of the platform's parties, or an app with issues:manage (never any app)."""
    return who.acts_as_staff("issues:manage")


def to_issue(row: Any, *, reveal: bool) -> Issue:
    """The issue; an anonymous reporter stays hidden unless `reveal` (staff or the reporter)."""
    attributes = row["attributes"]
    council = row["council_since"] is not None  # the council works on it: no target runs out
    overdue = row["status"] in rules.OPEN and not council and (
        row["resolve_by"] < now_utc()
        or (row["first_response_at"] is None and row["respond_by"] < now_utc()))
    return Issue(
        id=row["id"], compound_id=row["compound_id"], category=row["category"], title=row["title"],
        description=row["description"], unit_id=row["unit_id"], area=row["area"],
        location_note=row["location_note"], photos=list(row["photos"]),
        attributes=json.loads(attributes) if isinstance(attributes, str) else attributes,
        anonymous=row["anonymous"],
        reporter_id=row["reporter_id"] if reveal or not row["anonymous"] else None,
        on_behalf=row["on_behalf"], channel=row["channel"], responsible=row["responsible"],
        status=row["status"], status_label=rules.STATUS_LABELS[row["status"]],
        status_note=row["status_note"], duplicate_of=row["duplicate_of"],
        cosign_count=row["cosign_count"], created_at=row["created_at"],
        updated_at=row["updated_at"], respond_by=row["respond_by"], resolve_by=row["resolve_by"],
        first_response_at=row["first_response_at"], resolved_at=row["resolved_at"],
        escalated_at=row["escalated_at"], escalation_reason=row["escalation_reason"],
        overdue=overdue, proposal_id=row["proposal_id"], proposal_title=row["proposal_title"],
        with_council=council, council_label="议事中" if council else "",
    )


def reveals(row: Any, who: Principal) -> bool:
    """Staff and the reporter see who reported an anonymous issue."""
    return is_staff(who) or row["reporter_id"] == who.person_id


def view(row: Any, who: Principal) -> Issue:
    return to_issue(row, reveal=reveals(row, who))


def named(row: Any, who: Principal, person: str | None) -> str | None:
    """A person on the issue's record (comment author, history actor), hidden when it is the
    anonymous reporter and the viewer may not know who reported."""
    if row["anonymous"] and person is not None and person == row["reporter_id"] \
            and not reveals(row, who):
        return None
    return person


async def issue_row(conn: Connection, compound_id: uuid.UUID, issue_id: uuid.UUID,
                    *, lock: bool = False) -> Any:
    return problems.owned(await store.get_issue(conn, id=issue_id, lock=lock), compound_id, "问题")


def to_category(row: Any) -> Category:
    attributes = row["attributes"]
    return Category(
        code=row["code"], name=row["name"], description=row["description"],
        responsible=row["responsible"], responsible_label=rules.PARTIES[row["responsible"]],
        respond_hours=row["respond_hours"], resolve_hours=row["resolve_hours"],
        attributes=msgspec.convert(json.loads(attributes) if isinstance(attributes, str)
                                   else attributes, list[Attribute]),
        active=row["active"],
    )


# ---------------------------------------------------------------- categories and settings


async def is_seeded(pool: Pool, *, compound_id: uuid.UUID) -> bool:
    async with pool.acquire() as conn:
        return await store.get_settings(conn, compound_id=compound_id) is not None


async def ensure_seeded(pool: Pool, directory: Directory, *, compound_id: uuid.UUID) -> None:
    """Default categories and settings on the compound's first use."""
    await directory.first_use.ensure(
        compound_id, seeded=lambda: is_seeded(pool, compound_id=compound_id),
        confirm=lambda: directory.compound(compound_id),
        seed=lambda: seed_defaults(pool, compound_id=compound_id))


async def reseed(pool: Pool, directory: Directory, *, compound_id: uuid.UUID) -> list[Category]:
    """Seeding asked for: the default categories that are missing come back."""
    await directory.compound(compound_id)
    directory.first_use.forget(compound_id)
    return await seed_defaults(pool, compound_id=compound_id)


async def seed_defaults(pool: Pool, *, compound_id: uuid.UUID) -> list[Category]:
    """The compound's settings and default categories; existing ones are left as they are."""
    async with transaction(pool) as conn:
        await store.insert_settings(conn, compound_id=compound_id)
        for code, name, party, respond, resolve, attributes in rules.DEFAULT_CATEGORIES:
            await store.upsert_category(
                conn, compound_id=compound_id, code=code, replace=False,
                fields={"name": name, "responsible": party, "respond_hours": respond,
                        "resolve_hours": resolve, "attributes": attributes},
            )
        rows = await store.list_categories(conn, compound_id=compound_id)
    return [to_category(r) for r in rows]


async def list_categories(pool: Pool, directory: Directory, *,
                          compound_id: uuid.UUID) -> Page[Category]:
    """The compound's categories: a set its staff configure, answered as one page."""
    await ensure_seeded(pool, directory, compound_id=compound_id)
    async with pool.acquire() as conn:
        return whole([to_category(r)
                      for r in await store.list_categories(conn, compound_id=compound_id)])


async def put_category(pool: Pool, directory: Directory, *,
                       compound_id: uuid.UUID, code: str, data: CategoryIn) -> Category:
    require_code(code, what="类别代码")
    await ensure_seeded(pool, directory, compound_id=compound_id)
    if data.resolve_hours < data.respond_hours:
        raise problems.validation("解决时限不能短于首次响应时限", field="resolve_hours")
    async with transaction(pool) as conn:
        row = await store.upsert_category(conn, compound_id=compound_id, code=code,
                                          fields=msgspec.to_builtins(data))
    return to_category(row)


async def get_settings(pool: Pool, directory: Directory, *,
                       compound_id: uuid.UUID) -> CompoundSettings:
    await ensure_seeded(pool, directory, compound_id=compound_id)
    async with pool.acquire() as conn:
        row = await store.get_settings(conn, compound_id=compound_id)
    return msgspec.convert(dict(row), CompoundSettings)


async def put_settings(pool: Pool, directory: Directory, *,
                       compound_id: uuid.UUID, data: SettingsIn) -> CompoundSettings:
    await ensure_seeded(pool, directory, compound_id=compound_id)
    async with transaction(pool) as conn:
        row = await store.update_settings(conn, compound_id=compound_id,
                                          threshold=data.cosign_threshold,
                                          window=data.reopen_window_hours)
    return msgspec.convert(dict(row), CompoundSettings)


# ---------------------------------------------------------------- reporting


def check_attributes(category: Category, answers: dict[str, str]) -> None:
    """Every required question answered, list answers among the offered values."""
    asked = {a.code: a for a in category.attributes}
    for code, value in answers.items():
        attribute = asked.get(code)
        if attribute is None:
            raise problems.validation(f"类别 {category.code} 没有问题 {code}", field="attributes")
        if attribute.values and value not in {v.key for v in attribute.values}:
            raise problems.validation(f"{attribute.description}: 不支持的选项 {value}",
                                      field="attributes")
    for attribute in category.attributes:
        if attribute.required and not answers.get(attribute.code):
            raise problems.validation(f"请回答: {attribute.description}", field="attributes")


def reporter_of(who: Principal, data: IssueIn) -> tuple[str | None, bool, str]:
    """(reporter id, on behalf?, contact name): staff may report for a resident, and so may
    an app that reports (issues:report, e.g. an Open311 client passing on a citizen's report)."""
    if data.on_behalf_of is None:
        return (None if who.is_app else who.person_id), False, ""
    if not (is_staff(who) or who.acts_as_staff("issues:report", roles=())):
        raise problems.forbidden("只有工作人员可以代居民上报问题")
    person = data.on_behalf_of.person_id
    return (str(person) if person else None), True, data.on_behalf_of.name


async def report(pool: Pool, directory: Directory, *,
                 compound_id: uuid.UUID, who: Principal, data: IssueIn, channel: str = "app",
                 extra: dict[str, Any] | None = None) -> Any:
    """A new issue, routed to the category's responsible party with its target times."""
    await ensure_seeded(pool, directory, compound_id=compound_id)
    if data.unit_id is not None:
        await directory.unit(compound_id, data.unit_id, "该小区没有这个专有部分 (房屋)")
    if (data.unit_id is None) == (data.area is None):
        raise problems.validation("请给出 unit_id (房屋) 或 area (公共区域) 之一", field="area")
    reporter, on_behalf, contact = reporter_of(who, data)
    if on_behalf and reporter is not None:
        # the reporter staff name is told of every step (notify) and asked for satisfaction:
        # a person of this compound, else a 422 naming them and nothing written
        await directory.require_members(compound_id, [reporter], field="on_behalf_of.person_id")
    key = (compound_id, data.category)
    args = (compound_id, who, data, reporter, on_behalf, contact, channel, extra)
    async with pool.acquire() as conn:
        issue, known = None, _categories.get(key)
        if known is not None:  # one round trip: it inserts only while the row is as seen
            with contextlib.suppress(Problem):  # refused by what this process saw: read the row
                issue = await _insert(conn, known, *args)
        if issue is None:
            _categories.pop(key, None)
            async with conn.transaction():  # the row held (FOR SHARE) until the issue is in
                row = await store.get_category(conn, compound_id=compound_id,
                                               code=data.category, share=True)
                if row is None or not row["active"]:
                    raise problems.validation(f"问题类别 {data.category} 不存在", field="category")
                issue = await _insert(conn, _remember(compound_id, row), *args)
    metrics.REPORTED.labels(rules.metric_category(data.category)).inc()
    return issue


# the categories reports were last checked against, per (compound, code): a report then costs
# one statement, which inserts only while the category row is still exactly this one (store.
# insert_reported's guard); a category changed since is read afresh, so nothing reports against
# a stale or inactive category. Bounded; correctness never rests on it.
_categories: dict[tuple[uuid.UUID, str], tuple[Category, Any]] = {}
MAX_CATEGORIES = 10_000


def _remember(compound_id: uuid.UUID, row: Any) -> tuple[Category, Any]:
    if len(_categories) >= MAX_CATEGORIES:
        _categories.clear()
    known = (to_category(row), row)
    _categories[(compound_id, row["code"])] = known
    return known


async def _insert(conn: Connection, known: tuple[Category, Any], compound_id: uuid.UUID,
                  who: Principal, data: IssueIn, reporter: str | None, on_behalf: bool,
                  contact: str, channel: str, extra: dict[str, Any] | None) -> Any:
    """The issue, its history and its event in ONE statement (the use case's transaction),
    if the category row is still `known`; None when it changed since."""
    category, row = known
    check_attributes(category, data.attributes)
    now = now_utc()
    fields = {
        "id": uuid.uuid4(), "compound_id": compound_id, "category": data.category,
        "title": data.title, "description": data.description, "unit_id": data.unit_id,
        "area": data.area, "location_note": data.location_note, "photos": data.photos,
        "attributes": data.attributes, "anonymous": data.anonymous, "reporter_id": reporter,
        "reported_by": who.subject, "on_behalf": on_behalf, "contact_name": contact,
        "channel": "staff" if on_behalf and channel == "app" else channel,
        "responsible": category.responsible, "status": "submitted", "created_at": now,
        "updated_at": now, "respond_by": now + dt.timedelta(hours=category.respond_hours),
        "resolve_by": now + dt.timedelta(hours=category.resolve_hours), **(extra or {}),
    }
    event = events.ISSUE_REPORTED.new(
        subject=str(fields["id"]), compound_id=str(compound_id), data=events.IssueReported(
            issue_id=fields["id"], compound_id=compound_id, category=data.category,
            title=data.title, responsible=category.responsible,
            reporter_id=None if data.anonymous else reporter,
            on_behalf_by=who.subject if on_behalf else None, unit_id=data.unit_id,
            area=data.area))
    return await store.insert_reported(conn, fields=fields, actor=who.subject, event=event,
                                       note="代居民上报" if on_behalf else "", category=row)


# ---------------------------------------------------------------- reading


async def list_issues(pool: Pool, *, compound_id: uuid.UUID, who: Principal,
                      query: IssueQuery) -> Page[Issue]:
    key = time_keyset(query.cursor)
    async with pool.acquire() as conn:
        rows = await store.list_issues(conn, compound_id=compound_id, status=query.status,
                                       category=query.category, after=key, limit=query.limit + 1,
                                       reporter=(who.person_id or "-") if query.mine else None,
                                       responsible=query.responsible, overdue=query.overdue,
                                       now=now_utc(), text=(query.q or "").strip() or None)
    items = [view(r, who) for r in rows]
    return page_of(items, query.limit, time_cursor)


async def get_issue(pool: Pool, *, compound_id: uuid.UUID, issue_id: uuid.UUID,
                    who: Principal) -> Issue:
    async with pool.acquire() as conn:
        return view(await issue_row(conn, compound_id, issue_id), who)


async def similar(pool: Pool, *, compound_id: uuid.UUID, query: SimilarQuery) -> Page[SimilarIssue]:
    """Open issues of the same category that read alike: co-sign instead of duplicating (the
    best five, as one page)."""
    async with pool.acquire() as conn:
        rows = await store.open_in_category(conn, compound_id=compound_id,
                                            category=query.category, limit=300)
    text = f"{query.title} {query.description}"
    scored = []
    for r in rows:
        score = max(rules.similarity(query.title, r["title"]),
                    rules.similarity(text, f"{r['title']} {r['description']}"))
        if score >= SIMILAR_MIN_SCORE:
            scored.append(SimilarIssue(id=r["id"], title=r["title"], status=r["status"],
                                       cosign_count=r["cosign_count"], score=round(score, 3)))
    return whole(sorted(scored, key=lambda s: (-s.score, -s.cosign_count))[:SIMILAR_SHOWN])


# ---------------------------------------------------------------- comments


async def add_comment(pool: Pool, *, compound_id: uuid.UUID, issue_id: uuid.UUID,
                      who: Principal, data: CommentIn) -> Comment:
    """A comment; a staff comment is an official update and counts as the first response."""
    text = " ".join(t for t in (rules.RESPONSE_TEMPLATES.get(data.template or ""),
                                data.body.strip()) if t)
    if not text:
        raise problems.validation("留言内容不能为空", field="body")
    official = is_staff(who)
    if data.template and not official:
        raise problems.forbidden("只有工作人员可以使用回复模板")
    async with transaction(pool) as conn:
        row = await issue_row(conn, compound_id, issue_id, lock=official)
        comment = await store.insert_comment(conn, issue_id=issue_id, author_id=who.subject,
                                             body=text, official=official, template=data.template)
        responded = official and row["first_response_at"] is None
        if responded:
            await store.update_issue(conn, id=issue_id, fields={"first_response_at": now_utc()})
        await emit(conn, events.ISSUE_COMMENTED, subject=str(issue_id), compound_id=str(compound_id),
                   data=events.IssueCommented(issue_id=issue_id, compound_id=compound_id,
                                              comment_id=comment["id"], author_id=who.subject,
                                              official=official))
    if responded:
        metrics.FIRST_RESPONSE.labels(rules.metric_category(row["category"])).observe(
            (now_utc() - row["created_at"]).total_seconds())
    return msgspec.convert(dict(comment), Comment)


async def list_comments(pool: Pool, *, compound_id: uuid.UUID, issue_id: uuid.UUID,
                        who: Principal, query: PageQuery) -> Page[Comment]:
    """A page of the issue's comments, oldest first."""
    after = time_keyset(query.cursor)
    async with pool.acquire() as conn:
        row = await issue_row(conn, compound_id, issue_id)
        rows = await store.list_comments(conn, issue_id=issue_id, after=after,
                                         limit=query.limit + 1)
    comments = [msgspec.convert({**dict(r), "author_id": named(row, who, r["author_id"])},
                                Comment) for r in rows]
    return page_of(comments, query.limit, time_cursor)


# ---------------------------------------------------------------- reading for Open311


async def search_issues(pool: Pool, *, compound_id: uuid.UUID, ids: list[uuid.UUID] | None,
                        category: str | None, start: dt.datetime | None, end: dt.datetime | None,
                        open_: bool | None, offset: int, limit: int) -> list[Any]:
    """Issues as Open311 lists them: by ids, category, time window and open/closed, a page."""
    async with pool.acquire() as conn:
        return list(await store.search_issues(conn, compound_id=compound_id, ids=ids,
                                              category=category, start=start, end=end,
                                              open_=open_, offset=offset, limit=limit))


async def find_issue(pool: Pool, *, compound_id: uuid.UUID, issue_id: uuid.UUID) -> Any | None:
    """The issue's row when it is in this compound, else None."""
    async with pool.acquire() as conn:
        row = await store.get_issue(conn, id=issue_id)
    return row if row is not None and row["compound_id"] == compound_id else None


async def issue_by_token(pool: Pool, *, token: uuid.UUID) -> Any | None:
    async with pool.acquire() as conn:
        return await store.get_issue_by_token(conn, token=token)

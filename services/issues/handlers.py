"""HTTP views of issues: parse → use case → response; no SQL here."""

from __future__ import annotations

import uuid

from aiohttp import web

from linli import problems
from linli.clients import ServiceClient
from linli.http import POOL, Call
from linli.pagination import Page
from services.issues import escalation, flow, service
from services.issues.models import (
    Category,
    Comment,
    CompoundSettings,
    Cosign,
    Feedback,
    HistoryEntry,
    Issue,
    SimilarIssue,
    Stats,
)

DIRECTORY = web.AppKey("issues.directory", ServiceClient)
SEEDED = web.AppKey("issues.seeded", set[uuid.UUID])


def _compound(call: Call) -> uuid.UUID:
    return call.uuid_param("compound_id", "小区")


def _issue(call: Call) -> uuid.UUID:
    return call.uuid_param("issue_id", "问题")


async def check_compound(app: web.Application, compound_id: uuid.UUID) -> None:
    """The compound is in the directory (asked once, before its categories are seeded)."""
    await app[DIRECTORY].get_or(f"/v1/compounds/{compound_id}", problems.not_found("小区"))


async def check_unit(app: web.Application, compound_id: uuid.UUID, unit_id: uuid.UUID) -> None:
    """The unit exists in this compound according to the directory."""
    await app[DIRECTORY].get_or(f"/v1/compounds/{compound_id}/units/{unit_id}",
                                problems.validation("该小区没有这个专有部分 (房屋)", field="unit_id"))


async def ensure_seeded(app: web.Application, compound_id: uuid.UUID) -> None:
    """Default categories and settings on the compound's first use."""
    seen = app[SEEDED]
    if compound_id in seen:
        return
    pool = app[POOL]
    if not await service.is_seeded(pool, compound_id=compound_id):
        await check_compound(app, compound_id)
        await service.seed_defaults(pool, compound_id=compound_id)
    seen.add(compound_id)


async def list_categories(call: Call) -> list[Category]:
    cid = _compound(call)
    await ensure_seeded(call.app, cid)
    return await service.list_categories(call.app[POOL], compound_id=cid)


async def seed_categories(call: Call) -> list[Category]:
    cid = _compound(call)
    await check_compound(call.app, cid)
    call.app[SEEDED].discard(cid)
    return await service.seed_defaults(call.app[POOL], compound_id=cid)


async def put_category(call: Call) -> Category:
    cid = _compound(call)
    code = call.param("code")
    if not service.valid_code(code):
        raise problems.validation("类别代码须为小写字母、数字和下划线", field="code")
    await ensure_seeded(call.app, cid)
    return await service.put_category(call.app[POOL], compound_id=cid, code=code, data=call.body)


async def get_settings(call: Call) -> CompoundSettings:
    cid = _compound(call)
    await ensure_seeded(call.app, cid)
    return await service.get_settings(call.app[POOL], compound_id=cid)


async def put_settings(call: Call) -> CompoundSettings:
    cid = _compound(call)
    await ensure_seeded(call.app, cid)
    return await service.put_settings(call.app[POOL], compound_id=cid, data=call.body)


async def report(call: Call) -> Issue:
    cid = _compound(call)
    await ensure_seeded(call.app, cid)
    if call.body.unit_id is not None:
        await check_unit(call.app, cid, call.body.unit_id)
    row = await service.report(call.app[POOL], compound_id=cid, who=call.who, data=call.body)
    return service.view(row, call.who)


async def list_issues(call: Call) -> Page[Issue]:
    return await service.list_issues(call.app[POOL], compound_id=_compound(call), who=call.who,
                                     query=call.query)


async def similar(call: Call) -> list[SimilarIssue]:
    return await service.similar(call.app[POOL], compound_id=_compound(call), query=call.query)


async def get_issue(call: Call) -> Issue:
    return await service.get_issue(call.app[POOL], compound_id=_compound(call),
                                   issue_id=_issue(call), who=call.who)


async def history(call: Call) -> list[HistoryEntry]:
    return await flow.history(call.app[POOL], compound_id=_compound(call), issue_id=_issue(call),
                              who=call.who)


async def cosign(call: Call) -> Cosign:
    return await escalation.cosign(call.app[POOL], compound_id=_compound(call),
                                   issue_id=_issue(call), who=call.who)


async def add_comment(call: Call) -> Comment:
    return await service.add_comment(call.app[POOL], compound_id=_compound(call),
                                     issue_id=_issue(call), who=call.who, data=call.body)


async def list_comments(call: Call) -> list[Comment]:
    return await service.list_comments(call.app[POOL], compound_id=_compound(call),
                                       issue_id=_issue(call), who=call.who)


async def change_status(call: Call) -> Issue:
    return await flow.transition(call.app[POOL], compound_id=_compound(call),
                                 issue_id=_issue(call), who=call.who, step=call.body)


async def reopen(call: Call) -> Issue:
    return await flow.reopen(call.app[POOL], compound_id=_compound(call), issue_id=_issue(call),
                             who=call.who, reason=call.body.reason)


async def reassign(call: Call) -> Issue:
    return await flow.reassign(call.app[POOL], compound_id=_compound(call),
                               issue_id=_issue(call), who=call.who, data=call.body)


async def escalate(call: Call) -> Issue:
    return await escalation.escalate(call.app[POOL], compound_id=_compound(call),
                                     issue_id=_issue(call), who=call.who,
                                     reason=call.body.reason)


async def feedback(call: Call) -> Feedback:
    return await flow.feedback(call.app[POOL], compound_id=_compound(call), issue_id=_issue(call),
                               who=call.who, data=call.body)


async def stats(call: Call) -> Stats:
    return await escalation.stats(call.app[POOL], compound_id=_compound(call))

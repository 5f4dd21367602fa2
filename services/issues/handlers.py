"""HTTP views of issues: parse → use case → response; no SQL here."""

from __future__ import annotations

import uuid

from linli.http import POOL, Call
from linli.pagination import Page
from services.issues import escalation, flow, service, stats
from services.issues.keys import DIRECTORY
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


def _compound(call: Call) -> uuid.UUID:
    return call.uuid_param("compound_id", "小区")


def _issue(call: Call) -> uuid.UUID:
    return call.uuid_param("issue_id", "问题")


async def list_categories(call: Call) -> Page[Category]:
    return await service.list_categories(call.app[POOL], call.app[DIRECTORY],
                                         compound_id=_compound(call))


async def seed_categories(call: Call) -> list[Category]:
    return await service.reseed(call.app[POOL], call.app[DIRECTORY], compound_id=_compound(call))


async def put_category(call: Call) -> Category:
    return await service.put_category(call.app[POOL], call.app[DIRECTORY],
                                      compound_id=_compound(call), code=call.param("code"),
                                      data=call.body)


async def get_settings(call: Call) -> CompoundSettings:
    return await service.get_settings(call.app[POOL], call.app[DIRECTORY],
                                      compound_id=_compound(call))


async def put_settings(call: Call) -> CompoundSettings:
    return await service.put_settings(call.app[POOL], call.app[DIRECTORY],
                                      compound_id=_compound(call), data=call.body)


async def report(call: Call) -> Issue:
    row = await service.report(call.app[POOL], call.app[DIRECTORY], compound_id=_compound(call),
                               who=call.who, data=call.body)
    return service.view(row, call.who)


async def list_issues(call: Call) -> Page[Issue]:
    return await service.list_issues(call.app[POOL], compound_id=_compound(call), who=call.who,
                                     query=call.query)


async def similar(call: Call) -> Page[SimilarIssue]:
    return await service.similar(call.app[POOL], compound_id=_compound(call), query=call.query)


async def get_issue(call: Call) -> Issue:
    return await service.get_issue(call.app[POOL], compound_id=_compound(call),
                                   issue_id=_issue(call), who=call.who)


async def history(call: Call) -> Page[HistoryEntry]:
    return await flow.history(call.app[POOL], compound_id=_compound(call), issue_id=_issue(call),
                              who=call.who, query=call.query)


async def cosign(call: Call) -> Cosign:
    return await escalation.cosign(call.app[POOL], compound_id=_compound(call),
                                   issue_id=_issue(call), who=call.who)


async def add_comment(call: Call) -> Comment:
    return await service.add_comment(call.app[POOL], compound_id=_compound(call),
                                     issue_id=_issue(call), who=call.who, data=call.body)


async def list_comments(call: Call) -> Page[Comment]:
    return await service.list_comments(call.app[POOL], compound_id=_compound(call),
                                       issue_id=_issue(call), who=call.who, query=call.query)


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


async def compound_stats(call: Call) -> Stats:
    return await stats.stats(call.app[POOL], compound_id=_compound(call))

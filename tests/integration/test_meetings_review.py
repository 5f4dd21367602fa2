"""Meetings convened by the convener's kind (how workflows schedule a review), and the
agenda, outcome and consultation rules the council relies on."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import TokenFactory, assert_problem, bearer
from tests.integration.test_meetings_sessions import apps, organisation  # noqa: F401  (fixture)
from tests.integration.test_meetings_support import Compound, new_compound, ok

CST = dt.timezone(dt.timedelta(hours=8))


def meeting_body(**extra: Any) -> dict[str, Any]:
    starts = dt.datetime(2027, 7, 3, 19, 30, tzinfo=CST)
    return {"kind": "party_masses_council", "title": "议案意见审议",
            "starts_at": starts.isoformat(), "ends_at": (starts + dt.timedelta(hours=2)).isoformat(),
            "place": "党群服务站", **extra}


async def council(directory: TestClient, token: TokenFactory) -> tuple[Compound, str, str]:
    c = await new_compound(directory, token)
    branch = await organisation(c, "party_branch", "阳光花园党支部", "王书记", "书记")
    community = await organisation(c, "community", "万安社区居委会", "李主任", "主任")
    return c, branch, community


async def test_convene_by_convener_kind(apps: tuple[TestClient, TestClient],  # noqa: F811
                                        token: TokenFactory) -> None:
    directory, meetings = apps
    c, branch, _ = await council(directory, token)
    app = bearer(token(app="workflows", scopes=["meetings:manage"], compounds=["*"]))
    base = f"/v1/compounds/{c.id}"
    meeting = await ok(await meetings.post(f"{base}/meetings", headers=app, json=meeting_body(
        convener_kind="party_branch")), 201)
    assert (meeting["convener_org_id"], meeting["convener_name"]) == (branch, "阳光花园党支部")
    await assert_problem(await meetings.post(f"{base}/meetings", headers=app, json=meeting_body(
        convener_kind="owners_committee")), 422, "validation-error")  # none of that kind
    await assert_problem(await meetings.post(f"{base}/meetings", headers=app, json=meeting_body()),
                         422, "validation-error")  # neither id nor kind
    await organisation(c, "party_branch", "第二党支部", "刘书记", "书记")
    await assert_problem(await meetings.post(f"{base}/meetings", headers=app, json=meeting_body(
        convener_kind="party_branch")), 422, "validation-error")  # two: name it by id
    await assert_problem(await meetings.post(f"{base}/meetings", headers=app, json=meeting_body(
        convener_kind="nobody")), 422, "validation-error")
    assert uuid.UUID(meeting["id"])

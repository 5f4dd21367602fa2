"""App tokens are staff only through their scope, by the kernel's one rule (issue 9): an
Open311 client with issues:report is not staff of issues, so an anonymous reporter stays
hidden from it; the workflows app with issues:manage is."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import bearer
from tests.integration.test_issues import World, ok, report
from tests.integration.test_issues import world as world_fixture  # noqa: F401


@pytest.fixture
def world(world_fixture: World) -> World:  # noqa: F811
    return world_fixture


async def test_an_app_without_the_manage_scope_does_not_see_anonymous_reporters(
    world: World,
) -> None:
    w = world
    alice = str(uuid.uuid4())
    issue = await report(w, w.person(person=alice), anonymous=True)
    path = f"{w.base}/issues/{issue['id']}"
    reporter_app = bearer(w.token(app="open311-client", scopes=["issues:report"],
                                  compounds=[w.cid]))
    seen = await ok(await w.issues.get(path, headers=reporter_app), 200)
    assert seen["anonymous"] is True and seen["reporter_id"] is None
    manager_app = bearer(w.token(app="workflows", scopes=["issues:manage"], compounds=["*"]))
    managed = await ok(await w.issues.get(path, headers=manager_app), 200)
    assert managed["reporter_id"] == alice

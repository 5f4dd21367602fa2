"""The real directory and meetings services for workflow tests, and the real activities on them.

Serves both apps on the settings' ports (the activities find meetings there, meetings finds the
directory there), registers a compound with three owners of equal area, and offers what the
tests do as people: put a proposal, cast ballots, close a vote, look at what meetings holds.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from linli.clients import ServiceClient, app_token
from linli.config import Settings
from services.directory.app import create_app as directory_app
from services.meetings.app import create_app as meetings_app
from tests.conftest import AppFactory, TokenFactory, bearer
from tests.integration.test_meetings_support import Compound, new_compound, ok
from workflows.proposal import types as t
from workflows.proposal.activities import MeetingsActivities, vote_result

OWNERS = ("陈志明", "林淑芬", "黄建国")


@dataclass
class Council:
    meetings: TestClient
    compound: Compound
    token: TokenFactory
    activities: list[Callable[..., Any]]

    @property
    def branch(self) -> dict[str, str]:
        return bearer(self.token(roles=["party_branch"], compounds=[self.compound.id]))

    def url(self, path: str) -> str:
        return f"/v1/compounds/{self.compound.id}{path}"

    async def proposal(self) -> str:
        created = await ok(await self.meetings.post(self.url("/proposals"), headers=self.branch, json={
            "title": "顶楼隔热改造", "matter": "art278_7", "body": "屋面加隔热层并平改坡",
            "budget_fen": 10_000_000}), 201)
        return str(created["id"])

    async def ballots(self, vote_id: str, *choices: str) -> None:
        for name, choice in zip(OWNERS, choices, strict=False):
            await ok(await self.meetings.post(self.url(f"/votes/{vote_id}/ballots"), json={
                "choice": choice}, headers=self.compound.as_owner(self.token, name)), 201)

    async def close(self, vote_id: str) -> t.VoteClosed:
        """Close in meetings and hand back what the bridge would signal."""
        # by an app (meetings' deadline sweep would do the same): a person may not close the
        # vote of a proposal the workflow runs
        app = bearer(self.token(app="meetings", scopes=["meetings:manage"], compounds=["*"]))
        result = await ok(await self.meetings.post(self.url(f"/votes/{vote_id}/close"),
                                                   headers=app))
        return vote_result(vote_id, result)

    async def get(self, path: str) -> Any:
        return await ok(await self.meetings.get(self.url(path), headers=self.branch))

    def person(self, name: str) -> str:
        return self.compound.people[name]


@pytest.fixture
async def council(settings: Settings, serve: AppFactory, token: TokenFactory) -> AsyncIterator[Council]:
    directory = await serve(directory_app, port=settings.port("directory"))
    meetings = await serve(meetings_app, port=settings.port("meetings"))
    compound = await new_compound(directory, token, name=f"阳光花园{uuid.uuid4().hex[:4]}")
    for i, name in enumerate(OWNERS):
        await compound.unit(f"{i + 1}01", "90.00", name)
    async with aiohttp.ClientSession() as session:
        client = ServiceClient(session, base_url=settings.service_url("meetings"),
                               token=app_token(settings, "workflows", ["meetings:manage"]))
        yield Council(meetings, compound, token, MeetingsActivities(client).all())

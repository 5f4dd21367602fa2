"""Rules across fields are in the OpenAPI schemas where JSON Schema can state them (issue 9):
a body the document calls invalid for such a rule is one the service refuses (422), and one it
calls valid passes that rule. Checked with a JSON Schema validator nobody here wrote
(jsonschema_rs, which schemathesis uses) against the served documents."""

from __future__ import annotations

import uuid
from typing import Any

import jsonschema_rs

from linli.config import Settings
from services.issues.app import create_app as issues_app
from services.meetings.app import create_app as meetings_app
from services.notify.app import create_app as notify_app
from tests.conftest import AppFactory, TokenFactory, assert_problem, bearer


async def body_schema(client: Any, path: str, method: str) -> Any:
    """A validator of the operation's JSON body, refs resolved within its document."""
    document = await (await client.get("/openapi.json")).json()
    content = document["paths"][path][method]["requestBody"]["content"]
    schema = next(iter(content.values()))["schema"]
    return jsonschema_rs.validator_for({**schema, "components": document["components"]})


async def test_notification_preferences_state_both_or_neither(
    serve: AppFactory, token: TokenFactory,
) -> None:
    notify = await serve(notify_app)
    valid = await body_schema(notify, "/v1/me/preferences", "put")
    me = bearer(token(roles=["resident"], compounds=[str(uuid.uuid4())]))
    refused = [{"quiet_start": "22:00"}, {"quiet_end": "07:00", "quiet_start": None},
               {"webhook_secret": "a-secret-of-enough-length-0123"},
               {"webhook_secret": "a-secret-of-enough-length-0123", "webhook_url": None}]
    for body in refused:
        assert not valid.is_valid(body), body
        await assert_problem(await notify.put("/v1/me/preferences", json=body, headers=me),
                             422, "validation-error")
    for body in ({}, {"quiet_start": "22:00", "quiet_end": "07:00"}, {"kinds": []}):
        assert valid.is_valid(body), body
        assert (await notify.put("/v1/me/preferences", json=body, headers=me)).status == 200


async def test_an_issue_names_its_flat_or_a_common_area_not_both(
    serve: AppFactory, settings: Settings, token: TokenFactory,
) -> None:
    issues = await serve(issues_app)
    path = "/v1/compounds/{compound_id}/issues"
    valid = await body_schema(issues, path, "post")
    base = {"category": "repair", "title": "电梯坏了", "description": "三号电梯停在五楼"}
    assert not valid.is_valid(base)  # neither
    assert not valid.is_valid({**base, "area": "lift", "unit_id": str(uuid.uuid4())})  # both
    assert valid.is_valid({**base, "area": "lift"})
    assert valid.is_valid({**base, "unit_id": str(uuid.uuid4()), "area": None})


async def test_meeting_bodies_state_which_fields_go_together(serve: AppFactory) -> None:
    meetings = await serve(meetings_app)
    m = "/v1/compounds/{compound_id}/meetings/{meeting_id}"
    outcome = await body_schema(meetings, f"{m}/agenda/{{item_id}}/outcome", "post")
    vote = str(uuid.uuid4())
    assert outcome.is_valid({"outcome": "vote", "vote_id": vote})
    assert not outcome.is_valid({"outcome": "vote"})
    assert not outcome.is_valid({"outcome": "consensus", "vote_id": vote})
    assert outcome.is_valid({"outcome": "deferred"})
    item = await body_schema(meetings, f"{m}/agenda", "post")
    assert not item.is_valid({"presenter": "王主任"})
    assert item.is_valid({"title": "加装电梯"}) and item.is_valid({"item_id": vote})

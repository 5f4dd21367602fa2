"""What meetings answers when the directory refuses its reads of the compound (the units of a
cost, the roster of a meeting, the roll of a vote): a 502 whose detail names no internal path,
never the caller's own 401/403 with the directory's path; nothing is written."""

from __future__ import annotations

import uuid

from linli.config import Settings
from linli.http import POOL
from services.directory.app import create_app as directory_app
from services.meetings.app import create_app
from tests.conftest import AppFactory, TokenFactory, assert_problem, bearer


async def test_the_directory_refusing_meetings_token_is_a_502_naming_no_path(
    serve: AppFactory, settings: Settings, token: TokenFactory,
) -> None:
    # a directory that trusts another key: every token meetings signs is refused (401)
    await serve(lambda s: directory_app(s.with_overrides(
        jwt_secret="a-key-the-directory-alone-has-of-32-bytes")), port=settings.port("directory"))
    meetings = await serve(create_app)
    cid = str(uuid.uuid4())
    staff = bearer(token(roles=["property", "party_branch"], compounds=[cid]))
    asks = [("costs", {"name": "电梯电费", "beneficiaries": {"unit_ids": [str(uuid.uuid4())]}}),
            ("meetings", {"kind": "party_masses_council", "title": "议事会",
                          "starts_at": "2030-05-01T19:00:00+08:00",
                          "ends_at": "2030-05-01T21:00:00+08:00", "place": "活动室",
                          "convener_kind": "party_branch"})]
    for path, body in asks:
        r = await meetings.post(f"/v1/compounds/{cid}/{path}", json=body, headers=staff)
        problem = await assert_problem(r, 502, "upstream-error")
        assert "/v1/" not in problem["detail"], problem
    async with meetings.app[POOL].acquire() as conn:
        for table in ("shared_costs", "meetings"):
            found = f"SELECT count(*) FROM {table} WHERE compound_id = $1"
            assert await conn.fetchval(found, uuid.UUID(cid)) == 0

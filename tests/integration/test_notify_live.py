"""The live inbox: a Server-Sent Events stream per person that any replica serves (fan-out
through NATS core), with the unread count, notice-board posts and Last-Event-ID replay."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from services.issues import events as issue_events
from services.meetings import events as meeting_events
from services.notify.live import LiveConfig
from tests.conftest import TokenFactory, assert_problem
from tests.integration.test_notify_delivery import comment_on_new_issue
from tests.integration.test_notify_support import (
    LIVE_FAST,
    NotifyFactory,
    People,
    Person,
    Publisher,
    nats_js,
    ok,
    publisher,
    start_notify,
)

__all__ = ["nats_js", "publisher", "start_notify"]  # fixtures
STREAM_ONLY = LiveConfig(idle_seconds=0.2, ping_seconds=1.0, push=False)


@pytest.fixture
def people(token: TokenFactory) -> People:
    return People(token)


@dataclass
class Stream:
    """An open EventSource-like reader of /v1/me/inbox/stream."""

    response: ClientResponse
    events: list[tuple[str, str | None, dict[str, Any]]] = field(default_factory=list)

    async def next(self, within: float = 10.0) -> tuple[str, str | None, dict[str, Any]]:
        """The next event (name, id, data), skipping pings; bounded by `within` seconds."""
        name, ident, data = "message", None, ""
        async with asyncio.timeout(within):
            while True:
                line = (await self.response.content.readline()).decode().rstrip("\r\n")
                if line.startswith(":"):
                    continue
                if line == "":
                    if data:
                        event = (name, ident, json.loads(data))
                        self.events.append(event)
                        return event
                    continue
                key, _, value = line.partition(": ")
                name = value if key == "event" else name
                ident = value if key == "id" else ident
                data = value if key == "data" else data

    async def until(self, name: str, within: float = 10.0) -> tuple[str, str | None, dict[str, Any]]:
        while True:
            event = await self.next(within)
            if event[0] == name:
                return event


async def open_stream(notify: TestClient, who: Person, last_id: str | None = None) -> Stream:
    headers = {**who.headers, "Accept": "text/event-stream"}
    if last_id is not None:
        headers["Last-Event-ID"] = last_id
    response = await notify.get("/v1/me/inbox/stream", headers=headers)
    assert response.status == 200, await response.text()
    assert response.headers["Content-Type"].startswith("text/event-stream")
    return Stream(response)


async def test_a_stream_on_one_replica_gets_what_another_replica_pushes(
    people: People, publisher: Publisher, start_notify: NotifyFactory,
) -> None:
    a = await start_notify(live=STREAM_ONLY)  # A never publishes: everything comes via NATS
    b = await start_notify(replica_of=a, live=LIVE_FAST)
    cid = str(uuid.uuid4())
    alice = people(cid)
    stream = await open_stream(a, alice)
    assert await stream.next() == ("unread", None, {"unread": 0})
    await comment_on_new_issue(publisher, cid, alice.id, title="电梯停运")
    first = await stream.until("notification")
    second = await stream.until("notification")
    titles = {first[2]["notification"]["title"], second[2]["notification"]["title"]}
    assert "问题“电梯停运”有新回复" in titles
    # each push carries the unread count when it was sent: the two notifications of one event
    # are stored concurrently, so both pushes may already count both (never 0, never 3)
    counts = [first[2]["unread"], second[2]["unread"]]
    assert set(counts) <= {1, 2} and max(counts) == 2
    assert first[1] is not None and second[1] is not None and first[1] != second[1]
    await ok(await b.post("/v1/me/inbox/read-all", headers=alice.headers))
    assert await stream.until("unread") == ("unread", None, {"unread": 0})
    stream.response.close()


async def test_a_reconnect_with_last_event_id_replays_what_was_missed(
    people: People, publisher: Publisher, start_notify: NotifyFactory,
) -> None:
    notify = await start_notify()
    cid = str(uuid.uuid4())
    alice = people(cid)
    stream = await open_stream(notify, alice)
    await stream.until("unread")
    await comment_on_new_issue(publisher, cid, alice.id, title="第一件")
    seen = [await stream.until("notification"), await stream.until("notification")]
    last = max(int(e[1] or 0) for e in seen)
    stream.response.close()
    # while away: two more notifications and a notice-board post of the compound
    await comment_on_new_issue(publisher, cid, alice.id, title="第二件")
    pid, closes = uuid.uuid4(), dt.datetime.now(dt.UTC) + dt.timedelta(days=3)
    await publisher.emit(meeting_events.VOTE_OPENED, meeting_events.VoteOpened(
        vote_id=uuid.uuid4(), proposal_id=pid, compound_id=uuid.UUID(cid), version=1,
        rule="civil_code_major", secret=False, closes_at=closes.isoformat(),
        roll_entries=120, total_area_centi=1_000_000, total_headcount=118),
        subject=str(pid), compound_id=cid)
    await _until_stored(notify, alice, cid)
    again = await open_stream(notify, alice, last_id=str(last))
    replayed = [await again.next() for _ in range(4)]
    names = [e[0] for e in replayed]
    assert sorted(names) == ["notice", "notification", "notification", "unread"]
    assert names[-1] == "unread" and replayed[-1][2] == {"unread": 4}
    ids = [int(e[1] or 0) for e in replayed[:3]]
    assert ids == sorted(ids) and min(ids) > last  # nothing already seen comes again
    titles = _titles(replayed)
    assert "问题“第二件”有新回复" in titles and not any("第一件" in t for t in titles)
    [notice] = [e[2]["notice"] for e in replayed if e[0] == "notice"]
    assert notice["kind"] == "vote_opened" and notice["compound_id"] == cid
    again.response.close()


def _titles(events: list[tuple[str, str | None, dict[str, Any]]]) -> list[str]:
    return [e[2]["notification"]["title"] for e in events if e[0] == "notification"]


async def _until_stored(notify: TestClient, who: Person, cid: str) -> None:
    """Wait (bounded) until the missed notifications and the notice are in the database."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while True:
        page = await ok(await notify.get("/v1/me/inbox", headers=who.headers))
        board = await ok(await notify.get(f"/v1/compounds/{cid}/notices", headers=who.headers))
        if len(page["items"]) >= 4 and board["items"]:
            return
        assert loop.time() < deadline, "the missed events never arrived"
        await asyncio.sleep(0.1)


async def test_the_stream_needs_an_event_stream_request_and_a_person(
    people: People, start_notify: NotifyFactory, token: TokenFactory,
) -> None:
    notify = await start_notify(live=LIVE_FAST)
    alice = people(str(uuid.uuid4()))
    await assert_problem(await notify.get("/v1/me/inbox/stream", headers=alice.headers),
                         406, "not-acceptable")
    app = {"Authorization": f"Bearer {token(app='property-system', scopes=['notify:manage'])}",
           "Accept": "text/event-stream"}
    await assert_problem(await notify.get("/v1/me/inbox/stream", headers=app), 403, "forbidden")


async def test_a_ballot_or_an_issue_change_is_signalled_to_the_compounds_streams_only(
    people: People, publisher: Publisher, start_notify: NotifyFactory,
) -> None:
    notify = await start_notify()
    mine, theirs = str(uuid.uuid4()), str(uuid.uuid4())
    alice = people(mine)
    stream = await open_stream(notify, alice)
    await stream.until("unread")

    def cast(cid: str, vote: uuid.UUID) -> meeting_events.BallotCast:
        return meeting_events.BallotCast(vote_id=vote, proposal_id=uuid.uuid4(),
                                         compound_id=uuid.UUID(cid), version=1, channel="online",
                                         changed=False)
    other_vote, my_vote = uuid.uuid4(), uuid.uuid4()
    # another compound's ballot first, on the same durable: it must not reach alice's stream
    for cid, vote in ((theirs, other_vote), (mine, my_vote)):
        await publisher.emit(meeting_events.BALLOT_CAST, cast(cid, vote), subject=str(vote),
                             compound_id=cid)
    assert (await stream.until("changed"))[1:] == (
        None, {"kind": "vote", "id": str(my_vote), "what": "ballot"})
    issue = uuid.uuid4()
    await publisher.emit(issue_events.ISSUE_COSIGNED, issue_events.IssueCosigned(
        issue_id=issue, compound_id=uuid.UUID(mine), person_id=alice.id, cosign_count=2),
        subject=str(issue), compound_id=mine)
    # what changed, never who co-signed: the page reads the issue with its own token
    assert (await stream.until("changed"))[2] == {"kind": "issue", "id": str(issue),
                                                  "what": "cosigned"}
    stream.response.close()

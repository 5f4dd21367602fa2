"""A webhook whose address refuses the connection and one whose receiver never answers read
the same in the delivery log (issue 9): the same status, attempts and neutral reason, and times
that count from when the attempt began, so how long it took (at once, or the whole timeout)
cannot tell a person which addresses listen."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from linli.stack import free_port
from services.notify.sender import NOT_RECEIVED, SenderConfig
from tests.conftest import TokenFactory, eventually
from tests.integration.test_notify_delivery import comment_on_new_issue, my_deliveries
from tests.integration.test_notify_support import (
    NotifyFactory,
    People,
    Publisher,
    nats_js,
    ok,
    publisher,
    start_notify,
)

__all__ = ["nats_js", "publisher", "start_notify"]  # fixtures
# one attempt each, a short timeout: the silent receiver costs the sender the whole second
ONE_TRY = SenderConfig(max_attempts=1, retry_schedule=(0.2,), timeout_seconds=1, idle_seconds=0.2,
                       allow_internal=True)
TIMES = ("next_attempt_at", "created_at", "finished_at")


@pytest.fixture
def people(token: TokenFactory) -> People:
    return People(token)


@pytest.fixture
async def silent() -> AsyncIterator[tuple[str, list[dt.datetime]]]:
    """A receiver that accepts the connection and never answers; when each connection came."""
    accepted: list[dt.datetime] = []
    held: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(dt.datetime.now(dt.UTC))
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}/hook", accepted
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


def _moment(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


async def test_a_refused_and_a_silent_webhook_read_the_same(
    people: People, publisher: Publisher, start_notify: NotifyFactory,
    silent: tuple[str, list[dt.datetime]],
) -> None:
    notify = await start_notify(sender=ONE_TRY)
    cid = str(uuid.uuid4())
    refused_url = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    silent_url, accepted = silent
    logs: dict[str, Any] = {}
    for name, url in (("refused", refused_url), ("silent", silent_url)):
        who = people(cid)
        await ok(await notify.put("/v1/me/preferences", headers=who.headers,
                                  json={"webhook_url": url, "kinds": ["issue_commented"]}))
        await comment_on_new_issue(publisher, cid, who.id)
        [logs[name]] = await eventually(lambda w=who: my_deliveries(notify, w, 1, "failed"))
    refused, quiet = logs["refused"], logs["silent"]
    assert len(accepted) == 1, repr((quiet, refused))  # the silent receiver did get the connection
    for entry in (refused, quiet):
        assert entry["status"] == "failed" and entry["attempts"] == 1
        assert entry["last_error"] == NOT_RECEIVED
    same = {k for k in refused if k not in ("id", "notification_id", "person_id", "target", *TIMES)}
    assert {k: refused[k] for k in same} == {k: quiet[k] for k in same}
    # the silent attempt is logged as of when it began: before the receiver even had the
    # connection, so the second the sender waited shows nowhere
    assert _moment(quiet["finished_at"]) <= accepted[0]
    assert _after_finish(refused) == _after_finish(quiet)  # both from when the attempt began


def _after_finish(entry: dict[str, Any]) -> dt.timedelta:
    return _moment(entry["next_attempt_at"]) - _moment(entry["finished_at"])

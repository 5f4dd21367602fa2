"""The live inbox under load: how soon an event reaches a person's open inbox, and how soon a
compound-wide notice reaches every resident watching.

- event-to-inbox: events (a vote deadline reminder to one person) are published to JetStream at
  a steady rate; each is timed from its PubAck to the `notification` event on the person's open
  Server-Sent Events stream (consumer, inbox row, live pusher, NATS core, the stream): p50/p99.
- compound-wide notice: C residents (default 1,000) hold `/v1/me/inbox/stream` open; staff post
  one broadcast (POST /v1/compounds/{cid}/broadcasts); timed until each stream has the `notice`
  event, and until the last one has it.

Run: `.venv/bin/python -m bench.bench_notify [--events N] [--rate R] [--clients C]`. Uses the
servers named by LINLI_DATABASE_URL / LINLI_NATS_URL when set, otherwise starts embedded ones;
notify runs in the same process as the load generator.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import resource
import time
import uuid
from typing import Any

import aiohttp

from bench.bench_bus import RESULTS, percentile
from bench.harness import servers, start
from linli import bus
from linli.auth import issue_token
from linli.config import Settings
from linli.events import CloudEvent, encode
from linli.stack import free_port
from services.notify.app import create_app as notify_app
from workflows import events as wf_events

RESULTS_NAME = "notify.json"
SECRET = "linli-bench-secret-of-at-least-32-bytes"


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def summary(latencies: list[float]) -> dict[str, float]:
    return {"count": len(latencies), "p50_ms": _ms(percentile(latencies, 0.5)),
            "p99_ms": _ms(percentile(latencies, 0.99)), "max_ms": _ms(max(latencies))}


class Stream:
    """One resident's open live inbox: records when each event of a kind arrives."""

    def __init__(self, session: aiohttp.ClientSession, url: str, token: str) -> None:
        self.session, self.url, self.token = session, url, token
        self.connected = asyncio.Event()
        self.arrived: dict[str, float] = {}  # subject → monotonic time
        self.wanted: dict[str, asyncio.Event] = {}

    async def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"}
        async with self.session.get(self.url, headers=headers) as response:
            assert response.status == 200, await response.text()
            kind = ""
            async for raw in response.content:
                line = raw.decode().rstrip("\r\n")
                if line.startswith("event:"):
                    kind = line.removeprefix("event:").strip()
                elif line.startswith("data:"):
                    self.seen(kind, json.loads(line.removeprefix("data:").strip()))

    def seen(self, kind: str, data: dict[str, Any]) -> None:
        if kind == "unread":
            self.connected.set()
            return
        item = data.get("notification") or data.get("notice") or {}
        subject = str(item.get("subject", ""))
        self.arrived.setdefault(subject, time.monotonic())
        if subject in self.wanted:
            self.wanted[subject].set()

    async def wait_for(self, subject: str) -> float:
        if subject not in self.arrived:
            self.wanted[subject] = asyncio.Event()
            await self.wanted[subject].wait()
        return self.arrived[subject]


def _token(person: str, cid: str, *roles: str) -> str:
    return issue_token(SECRET, subject=person, roles=roles or ("resident",), compounds=[cid])


def _reminder(cid: str, person: str, entity: str) -> CloudEvent:
    data = wf_events.ReminderDue(workflow_id=f"proposal-{entity}", entity_id=entity,
                                 compound_id=cid, kind="vote_ending", audience="non_voters",
                                 deadline=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
                                 person_ids=[person])
    return wf_events.PROPOSAL_REMINDER_DUE.new(subject=entity, data=data, compound_id=cid)


async def event_to_inbox(js: Any, api: str, session: aiohttp.ClientSession, events: int,
                         rate: float) -> dict[str, Any]:
    cid, person = str(uuid.uuid4()), str(uuid.uuid4())
    stream = Stream(session, f"{api}/v1/me/inbox/stream", _token(person, cid))
    task = asyncio.create_task(stream.run())
    await asyncio.wait_for(stream.connected.wait(), 30)
    latencies: list[float] = []

    async def one(entity: str) -> None:
        event = _reminder(cid, person, entity)
        await js.publish(event.type, encode(event), headers={"Nats-Msg-Id": event.id})
        published = time.monotonic()
        latencies.append(await asyncio.wait_for(stream.wait_for(entity), 60) - published)

    began = time.monotonic()
    pending = []
    for n in range(events):
        await asyncio.sleep(max(0.0, began + n / rate - time.monotonic()))  # a steady rate
        pending.append(asyncio.create_task(one(str(uuid.uuid4()))))
    await asyncio.gather(*pending)
    task.cancel()
    return {"rate_per_s": rate, **summary(latencies)}


async def compound_notice(api: str, session: aiohttp.ClientSession, clients: int) -> dict[str, Any]:
    cid = str(uuid.uuid4())
    streams = [Stream(session, f"{api}/v1/me/inbox/stream", _token(str(uuid.uuid4()), cid))
               for _ in range(clients)]
    tasks = []
    for batch in range(0, clients, 100):  # connect in waves, as a compound wakes up
        tasks += [asyncio.create_task(s.run()) for s in streams[batch:batch + 100]]
        await asyncio.gather(*(asyncio.wait_for(s.connected.wait(), 60)
                               for s in streams[batch:batch + 100]))
    staff = {"Authorization": f"Bearer {_token(str(uuid.uuid4()), cid, 'community')}"}
    vote = str(uuid.uuid4())
    began = time.monotonic()
    async with session.post(f"{api}/v1/compounds/{cid}/broadcasts", headers=staff, json={
            "about": "vote", "about_id": vote,
            "values": {"title": "电梯加装表决今晚截止", "body": "尚未投票的业主请尽快投票。"}}) as r:
        assert r.status == 201, await r.text()
    arrivals = await asyncio.gather(*(asyncio.wait_for(s.wait_for(vote), 120) for s in streams))
    for task in tasks:
        task.cancel()
    latencies = [a - began for a in arrivals]
    return {"clients": clients, "last_has_it_ms": _ms(max(latencies)), **summary(latencies)}


def _more_files(clients: int) -> None:
    """Both ends of every stream live in this process: two descriptors per client."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, 2 * clients + 512))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


async def run(events: int, rate: float, clients: int) -> dict[str, Any]:
    _more_files(clients)
    async with servers() as (database_url, nats_url):
        settings = Settings(database_url=database_url, nats_url=nats_url, jwt_secret=SECRET,
                            ports={"notify": free_port(), "directory": free_port()})
        app = notify_app(settings, prefix=f"bench-notify-{uuid.uuid4().hex[:8]}")
        stop = await start(app, settings.port("notify"))
        nc = await bus.connect(nats_url, name="bench-notify")
        api = f"http://127.0.0.1:{settings.port('notify')}"
        try:
            async with aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(limit=0),
                    timeout=aiohttp.ClientTimeout(total=None, sock_read=None)) as session:
                await event_to_inbox(nc.jetstream(), api, session, min(events, 20), rate)  # warm up
                inbox = await event_to_inbox(nc.jetstream(), api, session, events, rate)
                notice = await compound_notice(api, session, clients)
        finally:
            await nc.close()
            await stop()
    return {"benchmark": "notify", "event_to_inbox_sse": inbox, "compound_notice_sse": notice,
            "note": "notify (one replica) in one process with the load generator, 2 cores"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0, help="events per second")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks it runs")
    args = parser.parse_args()
    if args.quick:
        args.events, args.clients = 50, 20
    result = asyncio.run(run(args.events, args.rate, args.clients))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / RESULTS_NAME).write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

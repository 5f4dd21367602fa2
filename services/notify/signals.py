"""Live signals: what changed on a page residents may have open (a vote's turnout, a vote
closing, an issue's status), pushed on the live inbox streams of the compound's people.

A signal names only the thing that changed ({"kind": "vote", "id": …, "what": "ballot"}); the
page's own app (the portal) then reads the thing from its owning service with the person's
token, so nobody learns through notify what their token would not show them. Signals go out
on NATS core (the compound's live subject, no id: nothing is replayed), straight from the
consumer: a redelivered event repeats a signal, which only makes a page look again. Events
older than a few minutes (a fresh durable replaying history) tell nobody.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from nats.aio.client import Client as NATS

from linli.bus import Subscription
from linli.db import Connection
from linli.events import CloudEvent, EventType
from linli.values import now_utc
from services.issues import events as issues
from services.meetings import events as meetings
from services.notify.live import compound_subject

log = logging.getLogger("linli.notify.signals")
FRESH = dt.timedelta(minutes=5)


class LiveSignals:
    """The NATS client the signals go out on, set once the service is connected."""

    def __init__(self) -> None:
        self.nc: NATS | None = None

    async def send(self, event: CloudEvent, kind: str, ident: Any, what: str) -> None:
        sent = dt.datetime.fromisoformat(event.time.replace("Z", "+00:00"))
        if self.nc is None or now_utc() - sent > FRESH or not event.compoundid:
            return  # a live hint: nobody is waiting for an old one
        body = {"event": "changed", "id": None,
                "data": {"kind": kind, "id": str(ident), "what": what}}
        await self.nc.publish(compound_subject(event.compoundid), msgspec.json.encode(body))


Signal = Callable[[LiveSignals, CloudEvent], Awaitable[None]]


def _vote(what: str, kind: EventType[Any]) -> Signal:
    async def signal(live: LiveSignals, event: CloudEvent) -> None:
        await live.send(event, "vote", kind.parse(event).vote_id, what)
    return signal


def _issue(what: str, kind: EventType[Any]) -> Signal:
    async def signal(live: LiveSignals, event: CloudEvent) -> None:
        await live.send(event, "issue", kind.parse(event).issue_id, what)
    return signal


ROUTING: list[tuple[str, EventType[Any], Signal]] = [
    ("live-ballot-cast", meetings.BALLOT_CAST, _vote("ballot", meetings.BALLOT_CAST)),
    ("live-vote-closed", meetings.VOTE_CLOSED, _vote("closed", meetings.VOTE_CLOSED)),
    ("live-vote-cancelled", meetings.VOTE_CANCELLED, _vote("cancelled", meetings.VOTE_CANCELLED)),
    *((f"live-issue-{name}", kind, _issue(name, kind)) for name, kind in (
        ("accepted", issues.ISSUE_ACCEPTED), ("status-changed", issues.ISSUE_STATUS_CHANGED),
        ("resolved", issues.ISSUE_RESOLVED), ("reopened", issues.ISSUE_REOPENED),
        ("cosigned", issues.ISSUE_COSIGNED), ("escalated", issues.ISSUE_ESCALATED))),
]


def subscriptions(live: LiveSignals, *, prefix: str = "notify") -> list[Subscription]:
    def bind(signal: Signal) -> Callable[[Connection, CloudEvent], Awaitable[None]]:
        async def handler(conn: Connection, event: CloudEvent) -> None:
            await signal(live, event)
        return handler

    return [Subscription(f"{prefix}-{name}", kind, bind(signal)) for name, kind, signal in ROUTING]

"""JetStream's publish and pull spoken over plain NATS messages, for the bus's two hot paths.

nats.py's publish_async and fetch cost 35 to 60 µs of CPU per message (a task and a timer per
awaited message, a dataclass built from every PubAck); this speaks the same protocol with one
subscription and one future per batch: about 14 µs per message published and 12 µs per
message pulled and acked (bench/bench_bus.py). Every message still gets its own PubAck, and
every pulled message its own ack, nak or term.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import weakref
from collections.abc import Sequence
from typing import Any

import msgspec
import nats.errors
import nats.js.errors
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription


class _PubAck(msgspec.Struct):
    """What the relay reads of a PubAck: only whether the stream refused the message."""

    error: dict[str, Any] | None = None


_decode_ack = msgspec.json.Decoder(_PubAck).decode


def _status(msg: Msg) -> str | None:
    """A status message's code (100, 404, 408, 409, 503…); None for a message of the stream."""
    return msg.headers.get("Status") if msg.headers else None


class PubAcks:
    """The PubAcks of one batch of publishes: wait() returns once JetStream stored every one,
    raises the stream's refusal of any, or TimeoutError."""

    def __init__(self, publisher: Publisher, key: str, count: int) -> None:
        self.publisher, self.key = publisher, key
        self.pending = {str(i) for i in range(count)}
        self.stored: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if not count:
            self.stored.set_result(None)

    def arrived(self, index: str, error: Exception | None) -> None:
        if self.stored.done():
            return
        if error is not None:
            self.stored.set_exception(error)
            return
        self.pending.discard(index)
        if not self.pending:
            self.stored.set_result(None)

    async def wait(self) -> None:
        try:
            await self.stored
        finally:
            self.publisher.waiting.pop(self.key, None)


class Publisher:
    """Publishes batches to JetStream with every PubAck awaited, many batches in flight.

    One per NATS connection (`for_client`): its replies come to one wildcard inbox
    (`<inbox>.<batch>.<index>`), which the client subscribes again after a reconnect; a PubAck
    lost with the connection makes its batch time out, and the caller sends it again (the
    Nats-Msg-Id header makes JetStream store it once).
    """

    def __init__(self, nc: NATS) -> None:
        # weak: the registry (_PUBLISHERS) is keyed weakly by the client, so a closed client
        # and its inbox subscription are freed
        self._nc = weakref.ref(nc)
        self.prefix = ""
        self.waiting: dict[str, PubAcks] = {}
        self.batches = 0
        self._subscribed = asyncio.Lock()

    @property
    def nc(self) -> NATS:
        nc = self._nc()
        if nc is None:
            raise nats.errors.ConnectionClosedError
        return nc

    @classmethod
    def for_client(cls, nc: NATS) -> Publisher:
        publisher = _PUBLISHERS.get(nc)
        if publisher is None:
            publisher = _PUBLISHERS[nc] = cls(nc)
        return publisher

    async def send(self, messages: Sequence[tuple[str, bytes, str]]) -> PubAcks:
        """Publish (subject, payload, message id) in this order; await .wait() for the acks.

        Nothing awaits between two messages unless the client's buffer is full, so batches
        sent by callers that take turns (a lock) reach the stream in the order they were sent.
        """
        await self._subscribe()
        self.batches += 1
        key = str(self.batches)
        acks = self.waiting[key] = PubAcks(self, key, len(messages))
        reply = f"{self.prefix}{key}."
        try:
            for index, (subject, payload, msg_id) in enumerate(messages):
                await self.nc.publish(subject, payload, reply=f"{reply}{index}",
                                      headers={"Nats-Msg-Id": msg_id})
        except BaseException:
            self.waiting.pop(key, None)
            raise
        return acks

    async def _subscribe(self) -> None:
        if self.prefix:
            return
        async with self._subscribed:
            if not self.prefix:
                prefix = self.nc.new_inbox() + "."
                await self.nc.subscribe(prefix + "*.*", cb=self._arrived)
                self.prefix = prefix

    async def _arrived(self, msg: Msg) -> None:
        key, _, index = msg.subject[len(self.prefix):].partition(".")
        acks = self.waiting.get(key)
        if acks is not None:
            acks.arrived(index, _refusal(msg))


_PUBLISHERS: weakref.WeakKeyDictionary[NATS, Publisher] = weakref.WeakKeyDictionary()


def _status_error(msg: Msg) -> nats.js.errors.APIError:
    headers = msg.headers or {}
    return nats.js.errors.APIError(code=int(headers.get("Status", 0)),
                                   description=headers.get("Description", ""))


def _refusal(msg: Msg) -> Exception | None:
    """Why JetStream did not store a message, from its PubAck (None: stored)."""
    status = _status(msg)
    if status == "503":  # no stream takes the subject
        return nats.js.errors.NoStreamResponseError()
    if status is not None:
        return _status_error(msg)
    try:
        ack = _decode_ack(msg.data)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        return nats.errors.Error(f"unreadable PubAck: {exc}")
    if ack.error is None:
        return None
    try:
        nats.js.errors.APIError.from_error(ack.error)  # raises the error nats.py would raise
    except nats.errors.Error as exc:
        return exc
    return nats.js.errors.APIError(description=str(ack.error))


# 409 descriptions that the next request would get again (others: leader change, shutdown)
_LASTING_409 = ("Deleted", "push based", "Exceeded MaxRequest")


class Puller:
    """The messages of one durable pull consumer, asked for ahead of need.

    One pull request of `batch` messages is open at a time; the next goes out as soon as the
    open one is used up or expired, before the caller applies what came, so the next batch
    travels while this one is applied. Messages are taken in the order they arrived.
    """

    def __init__(self, nc: NATS, *, stream: str, durable: str, batch: int,
                 expires: float = 2.0) -> None:
        self.nc, self.batch, self.expires = nc, batch, expires
        self.api = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self.inbox = nc.new_inbox()
        self.ready: list[Msg] = []
        self.owed = 0  # messages the open request may still bring
        self.deadline = 0.0  # when the open request counts as over even if no 408 came
        self.failed: Exception | None = None
        self.arrival = asyncio.Event()
        self._sub: Subscription | None = None

    async def start(self) -> None:
        self._sub = await self.nc.subscribe(self.inbox, cb=self._arrived)

    async def stop(self) -> None:
        """Unsubscribe; messages fetched ahead and not taken are handed back at once (nak), so
        they come again now rather than after the ack wait, and before later ones."""
        if self._sub is not None:
            with contextlib.suppress(Exception):  # a lost connection: they come back anyway
                await self._sub.unsubscribe()
            self._sub = None
        ready, self.ready = self.ready, []
        for msg in ready:
            with contextlib.suppress(Exception):
                await msg.nak()

    async def take(self) -> list[Msg]:
        """Up to `batch` messages; waits for the first until the open request expires (then
        returns none)."""
        if not self.ready:
            await self._ask()
            self.arrival.clear()
            remaining = self.deadline - time.monotonic()
            if not self.ready and self.failed is None and remaining > 0:
                try:
                    async with asyncio.timeout(remaining):
                        await self.arrival.wait()
                except TimeoutError:
                    pass
            if not self.ready and self.owed <= 0 and self.deadline - time.monotonic() > 1.0:
                await asyncio.sleep(0.25)  # ended early, empty (409…): do not ask in a tight loop
        if self.failed is not None:
            raise self.failed
        taken, self.ready = self.ready[:self.batch], self.ready[self.batch:]
        if len(self.ready) < self.batch:
            # travels while the caller applies `taken`; if it cannot be sent, `taken` is still
            # applied and the next take asks again
            with contextlib.suppress(nats.errors.Error, OSError):
                await self._ask()
        return taken

    async def _ask(self) -> None:
        if self.owed > 0 and time.monotonic() < self.deadline:
            return  # the open request may still bring messages
        request = {"batch": self.batch, "expires": int(self.expires * 1e9)}
        deadline = time.monotonic() + self.expires + 1.0
        await self.nc.publish(self.api, json.dumps(request).encode(), reply=self.inbox)
        self.owed, self.deadline = self.batch, deadline  # only once it is sent

    async def _arrived(self, msg: Msg) -> None:
        status = _status(msg)
        if status is None:
            self.ready.append(msg)
            self.owed -= 1
        elif status in ("404", "408"):  # nothing there, or the request expired
            self.owed = 0
        elif status == "409":  # the request ended early (leader change, too many waiting)
            self.owed = 0
            description = (msg.headers or {}).get("Description", "")
            if any(word in description for word in _LASTING_409):
                # the consumer is gone or refuses every request like ours: the run ends, a
                # restart subscribes afresh (and logs why) instead of asking again for ever
                self.failed = _status_error(msg)
        elif status != "100":
            self.failed = _status_error(msg)
        self.arrival.set()

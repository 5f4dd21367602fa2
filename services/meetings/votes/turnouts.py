"""Live turnout read by many at once. Every ballot signals each open page of its vote, and
each page then reads the turnout afresh: a count over all the vote's ballots, per ballot per
page. Reads of one vote that arrive together share one count, and a count is only shared with
reads that arrived before it began: a read arriving while a count runs waits for the next one
(which it shares with every read arriving meanwhile), so every answer includes each ballot
committed before its request came in, as a count of its own would."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from linli.loops import detached

Count = Callable[[], Coroutine[Any, Any, Any]]

_running: dict[uuid.UUID, asyncio.Future[Any]] = {}
_next: dict[uuid.UUID, asyncio.Future[Any]] = {}


def _begin(vote_id: uuid.UUID, count: Count) -> asyncio.Future[Any]:
    running = _running[vote_id] = detached(count())
    running.add_done_callback(lambda _: _finished(vote_id, running))
    return running


def _finished(vote_id: uuid.UUID, done: asyncio.Future[Any]) -> None:
    if _running.get(vote_id) is done:
        del _running[vote_id]
    _retrieved(done)


def _retrieved(done: asyncio.Future[Any]) -> None:
    if not done.cancelled():
        done.exception()  # its readers have it; retrieved so asyncio does not log it again


async def _after(vote_id: uuid.UUID, running: asyncio.Future[Any], count: Count) -> Any:
    """The next count, begun once the running one ended, for the reads that waited for it."""
    await asyncio.wait({running})
    del _next[vote_id]
    return await _begin(vote_id, count)


async def shared(vote_id: uuid.UUID, count: Count) -> Any:
    """`count()` of this vote, begun after this call, shared with concurrent callers."""
    waiting = _next.get(vote_id)
    if waiting is None:
        running = _running.get(vote_id)
        if running is None:
            return await asyncio.shield(_begin(vote_id, count))
        waiting = _next[vote_id] = detached(_after(vote_id, running, count))
        waiting.add_done_callback(_retrieved)
    return await asyncio.shield(waiting)

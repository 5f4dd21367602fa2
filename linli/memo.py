"""What one process remembers between requests, so another service is asked once, not per call.

`FirstUse` seeds a compound's defaults the first time the compound is used; `Confirmed` keeps the
keys a peer confirmed (the directory never deletes a compound or a unit). Both are only caches:
a fresh process asks again and gets the same answer.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Hashable

MAX_CONFIRMED = 100_000


class FirstUse:
    """Seed the defaults on a compound's first use: when the database has none yet, confirm the
    compound (the directory's 404 becomes ours) and seed; once per compound per process."""

    def __init__(self) -> None:
        self._done: set[uuid.UUID] = set()

    async def ensure(self, compound_id: uuid.UUID, *, seeded: Callable[[], Awaitable[bool]],
                     confirm: Callable[[], Awaitable[object]],
                     seed: Callable[[], Awaitable[object]]) -> None:
        if compound_id in self._done:
            return
        if not await seeded():
            await confirm()
            await seed()
        self._done.add(compound_id)

    def forget(self, compound_id: uuid.UUID) -> None:
        """Seeding again was asked for explicitly; the next use checks the database again."""
        self._done.discard(compound_id)


class Confirmed:
    """Keys a peer confirmed exist; bounded, since a miss only costs one more call."""

    def __init__(self, limit: int = MAX_CONFIRMED) -> None:
        self._known: set[Hashable] = set()
        self._limit = limit

    async def check(self, key: Hashable, ask: Callable[[], Awaitable[object]]) -> None:
        """Ask the peer unless it confirmed `key` already; `ask` raises when it does not exist."""
        if key in self._known:
            return
        await ask()
        if len(self._known) >= self._limit:
            self._known.clear()
        self._known.add(key)

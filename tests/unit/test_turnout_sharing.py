"""Live turnout reads of one vote share a count, but never one that began before they asked."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from services.meetings.votes import turnouts


class Counter:
    """A count whose every run waits until the test lets it finish; it answers with how
    many ballots were "committed" when it began."""

    def __init__(self) -> None:
        self.committed = 0
        self.began: list[int] = []
        self.release: list[asyncio.Event] = []
        self.fail = False

    async def __call__(self) -> int:
        seen = self.committed
        self.began.append(seen)
        gate = asyncio.Event()
        self.release.append(gate)
        await gate.wait()
        if self.fail:
            raise ConnectionError("数据库暂时不可用")
        return seen


async def started(counter: Counter, runs: int) -> None:
    """Until `runs` counts began (each pass lets the loop run the waiting tasks once)."""
    for _ in range(1000):
        if len(counter.began) >= runs:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"count {runs} never began: {counter.began}")


async def read_alone(vote: uuid.UUID, counter: Counter, run: int) -> int:
    """A read with nothing else in flight: it begins its own count, the `run`-th."""
    reading = asyncio.ensure_future(turnouts.shared(vote, counter))
    await started(counter, run)
    counter.release[run - 1].set()
    return int(await reading)


async def test_reads_arriving_during_a_count_share_the_next_one_begun_after_them() -> None:
    vote, counter = uuid.uuid4(), Counter()
    first = asyncio.ensure_future(turnouts.shared(vote, counter))
    await started(counter, 1)
    counter.committed = 1  # a ballot commits while the first count runs
    later = [asyncio.ensure_future(turnouts.shared(vote, counter)) for _ in range(5)]
    await asyncio.sleep(0)
    assert len(counter.began) == 1  # they wait for the running count to end, not join it
    counter.release[0].set()
    assert await first == 0
    await started(counter, 2)
    counter.release[1].set()
    assert await asyncio.gather(*later) == [1] * 5  # each sees the ballot it came after
    assert counter.began == [0, 1]  # six reads, two counts
    assert await read_alone(vote, counter, 3) == 1  # nothing left behind


async def test_a_failed_count_reaches_its_readers_and_the_next_read_counts_afresh() -> None:
    vote, counter = uuid.uuid4(), Counter()
    counter.fail = True
    first = asyncio.ensure_future(turnouts.shared(vote, counter))
    await started(counter, 1)
    waiting = asyncio.ensure_future(turnouts.shared(vote, counter))
    await asyncio.sleep(0)
    counter.release[0].set()
    with pytest.raises(ConnectionError):
        await first
    await started(counter, 2)
    counter.release[1].set()
    with pytest.raises(ConnectionError):
        await waiting
    counter.fail, counter.committed = False, 3
    assert await read_alone(vote, counter, 3) == 3


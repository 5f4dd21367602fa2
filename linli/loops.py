"""Background loops under supervision: a relay, consumer, sender or sweep that fails is logged,
counted and restarted with backoff, and `/readyz` names the one that is not running.

A loop that returns has stopped on purpose (its service is shutting down) and is let go;
one that raises is restarted. After a failure it counts as not running until it has run
again for `settle` seconds, so a loop that fails over and over stays visible.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from linli import metrics

log = logging.getLogger("linli.loops")

T = TypeVar("T")


def detached(work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
    """A task shared by several requests: it runs in a fresh context, not in the one of the
    request that happened to start it (that request's bound connection, its identity)."""
    return asyncio.get_running_loop().create_task(work, context=contextvars.Context())


@dataclass
class LoopState:
    running: bool = False
    started: float = 0.0  # monotonic time of the last (re)start
    failures: int = 0  # consecutive failures, reset once it has run `settle` seconds
    error: str = ""


class Loops:
    """The supervised background loops of one process."""

    def __init__(self, *, settle: float = 10.0, first_delay: float = 0.5,
                 max_delay: float = 15.0) -> None:
        self.settle, self.first_delay, self.max_delay = settle, first_delay, max_delay
        self.states: dict[str, LoopState] = {}

    def spawn(self, name: str, run: Callable[[], Awaitable[None]]) -> asyncio.Task[None]:
        """Run `run()` in a task, restarting it whenever it raises; cancel the task to stop."""
        return asyncio.create_task(self._supervise(name, run), name=name)

    def not_running(self) -> dict[str, str]:
        """Loops that are down or just restarted after a failure: name → why (zh-CN)."""
        now = time.monotonic()
        down = {}
        for name, state in self.states.items():
            if not state.running:
                down[name] = f"已停止, 等待重启 (上次错误: {state.error})"
            elif state.failures and now - state.started < self.settle:
                down[name] = f"刚重启 {state.failures} 次 (上次错误: {state.error})"
        return down

    async def _supervise(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        state = self.states[name] = LoopState()
        try:
            while True:
                state.running, state.started = True, time.monotonic()
                metrics.LOOP_UP.labels(name).set(1)
                try:
                    await run()
                    return  # stopped on purpose
                except Exception as exc:
                    state.running = False
                    metrics.LOOP_UP.labels(name).set(0)
                    delay = self._after_failure(state, exc)
                    metrics.LOOP_RESTARTS.labels(name).inc()
                    log.error("后台任务 %s 异常退出, %.1f 秒后重启 (第 %d 次): %r",
                              name, delay, state.failures, exc, exc_info=exc)
                    await asyncio.sleep(delay)
        finally:
            metrics.LOOP_UP.labels(name).set(0)
            self.states.pop(name, None)

    def _after_failure(self, state: LoopState, exc: Exception) -> float:
        if time.monotonic() - state.started >= self.settle:
            state.failures = 0  # it had been healthy: start the backoff over
        state.failures += 1
        state.error = f"{type(exc).__name__}: {exc}"[:300]
        return float(min(self.first_delay * 2 ** (state.failures - 1), self.max_delay))

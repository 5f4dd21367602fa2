"""`linli up` keeps its children running: a server or service that dies is started again
with backoff and the console says so; after `limit` deaths within `window` seconds of one
child it gives up, and `linli up` stops the platform with the reason."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from linli.stack import StackError

Process = subprocess.Popen[bytes]


class GiveUp(Exception):
    """A child keeps dying: restarting it again would only hide the problem."""


@dataclass
class Child:
    """One supervised process: how to start it again and where its log is."""

    name: str
    process: Process
    restart: Callable[[], Process]
    log: str
    deaths: list[float] = field(default_factory=list)  # monotonic times within the window
    due: float | None = None  # when a restart is due (None: running, or not yet noticed)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@dataclass
class Supervisor:
    children: list[Child]
    pid_dir: Path | None = None
    limit: int = 5
    window: float = 60.0
    first_delay: float = 1.0
    max_delay: float = 16.0
    say: Callable[[str], None] = _say

    def __post_init__(self) -> None:
        for child in self.children:
            self._record_pid(child)

    def processes(self) -> list[tuple[str, Process]]:
        return [(child.name, child.process) for child in self.children]

    def check(self) -> None:
        """One look at every child: notice deaths, start the due ones; GiveUp if one keeps dying."""
        for child in self.children:
            now = time.monotonic()
            if child.due is None and child.process.poll() is not None:
                self._died(child, now)
            elif child.due is not None and now >= child.due:
                self._restart(child, now)

    def _died(self, child: Child, now: float) -> None:
        child.deaths = [t for t in child.deaths if now - t < self.window] + [now]
        count = len(child.deaths)
        if count >= self.limit:
            raise GiveUp(f"{child.name} 在 {self.window:.0f} 秒内退出了 {count} 次, 不再重启,"
                         f" 见 {child.log}")
        delay = min(self.first_delay * 2 ** (count - 1), self.max_delay)
        child.due = now + delay
        self.say(f"{child.name} 意外退出 (退出码 {child.process.returncode}), {delay:.0f} 秒后"
                 f"重启 ({self.window:.0f} 秒内第 {count} 次), 见 {child.log}")

    def _restart(self, child: Child, now: float) -> None:
        child.due = None
        try:
            child.process = child.restart()
        except (StackError, OSError) as exc:
            self.say(f"{child.name} 重启失败: {exc}")
            self._died(child, now)
            return
        self._record_pid(child)
        self.say(f"{child.name} 已重启 (pid {child.process.pid})")

    def _record_pid(self, child: Child) -> None:
        """<data>/run/<name>.pid: which process is the child now (for ops, and for tests)."""
        if self.pid_dir is not None:
            self.pid_dir.mkdir(parents=True, exist_ok=True)
            (self.pid_dir / f"{child.name}.pid").write_text(f"{child.process.pid}\n")

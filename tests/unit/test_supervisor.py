"""`linli up`'s supervisor: a dying child is restarted with backoff, and one that keeps dying
is given up on with a reason (real child processes, no mocks)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from linli.supervisor import Child, GiveUp, Supervisor


def crashing() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])


def test_a_child_that_keeps_dying_is_restarted_then_given_up(tmp_path: Path) -> None:
    said: list[str] = []
    starts: list[int] = []

    def restart() -> subprocess.Popen[bytes]:
        process = crashing()
        starts.append(process.pid)
        return process

    child = Child("issues", crashing(), restart=restart, log="logs/issues.log")
    supervisor = Supervisor([child], pid_dir=tmp_path, limit=3, first_delay=0.01,
                            max_delay=0.05, say=said.append)
    deadline = time.monotonic() + 60
    with pytest.raises(GiveUp, match="issues 在 60 秒内退出了 3 次"):
        while time.monotonic() < deadline:
            supervisor.check()
            time.sleep(0.01)
    assert len(starts) == 2  # restarted twice, the third death gives up
    assert (tmp_path / "issues.pid").read_text().strip() == str(starts[-1])
    assert said[0].startswith("issues 意外退出 (退出码 3)")
    assert sum("已重启" in line for line in said) == 2


def test_a_death_long_ago_does_not_count_towards_giving_up(tmp_path: Path) -> None:
    child = Child("NATS", crashing(), restart=crashing, log="logs/nats.log")
    child.deaths = [time.monotonic() - 120] * 4  # four deaths, but two minutes ago
    supervisor = Supervisor([child], limit=5, first_delay=0.01, say=lambda _: None)
    child.process.wait()
    supervisor.check()
    assert child.due is not None and len(child.deaths) == 1

"""`make run` as a newcomer meets it: `linli up` starts everything, answers, and stops clean."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from linli.cli import available_services, has_workflows
from linli.config import SERVICE_PORTS as PORTS
from linli.stack import free_port

# every service the config knows gets a free port, so a new service never starts on its default
SERVICE_PORTS = list(PORTS)


def platform_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_")}
    env["LINLI_DATA_DIR"] = str(data_dir)
    for name in ["POSTGRES", "NATS", "NATS_MONITOR", "TEMPORAL", "TEMPORAL_UI", "WORKER_METRICS",
                 *(s.upper() for s in SERVICE_PORTS)]:
        env[f"LINLI_{name}_PORT"] = str(free_port())
    return env


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for_line(process: subprocess.Popen[str], marker: str, timeout: float) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        lines.append(line)
        if marker in line:
            return lines
    raise AssertionError(f"no '{marker}' within {timeout}s: {''.join(lines)}")


def test_linli_up_serves_every_readyz_and_stops_clean(tmp_path: Path) -> None:
    env = platform_env(tmp_path / "data")
    process = subprocess.Popen([sys.executable, "-m", "linli.cli", "up", "--no-demo"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        printed = "".join(wait_for_line(process, "Ctrl-C", timeout=180))
        assert "PostgreSQL" in printed and "demo token" in printed
        # the first thing a newcomer reads is where to open the resident pages
        table = printed.split("Linli is up", 1)[1].strip().splitlines()
        assert table[0].strip().startswith(f"打开 http://127.0.0.1:{env['LINLI_PORTAL_PORT']}")
        names = available_services() + (["workflows"] if has_workflows() else [])
        for name in names:
            url = f"http://127.0.0.1:{env[f'LINLI_{name.upper()}_PORT']}/readyz"
            with urllib.request.urlopen(url, timeout=5) as response:
                assert response.status == 200, name
        if has_workflows():
            url = f"http://127.0.0.1:{env['LINLI_WORKER_METRICS_PORT']}/metrics"
            with urllib.request.urlopen(url, timeout=5) as response:
                assert response.status == 200
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=90) == 0
    for name in ["POSTGRES", "NATS", "TEMPORAL", *(s.upper() for s in SERVICE_PORTS)]:
        assert not port_open(int(env[f"LINLI_{name}_PORT"])), f"{name} still listening"


def test_a_taken_port_is_named_not_a_traceback(tmp_path: Path) -> None:
    env = platform_env(tmp_path / "data")
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", int(env["LINLI_NATS_PORT"])))
        blocker.listen()
        result = subprocess.run([sys.executable, "-m", "linli.cli", "up", "--no-demo"], env=env,
                                capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert f"端口 {env['LINLI_NATS_PORT']}" in result.stderr
    assert "Traceback" not in result.stderr


def pid_of(data_dir: Path, name: str) -> int:
    return int((data_dir / "run" / f"{name}.pid").read_text())


def readyz_ok(port: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
            return bool(response.status == 200)
    except OSError:  # refused while down, 503 (an HTTPError) while NATS is away
        return False


def wait_until(what: str, check: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def test_linli_up_restarts_a_killed_service_and_a_killed_nats() -> None:
    # not tmp_path: other checkouts' pytest sessions prune /tmp/pytest-of-<user>/ as they
    # start, and a store vanishing under the restarted NATS is not the failure we test
    data_dir = Path(tempfile.mkdtemp(prefix="linli-up-restart-"))
    env = platform_env(data_dir)
    process = subprocess.Popen([sys.executable, "-m", "linli.cli", "up", "--no-demo"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    issues_port = env["LINLI_ISSUES_PORT"]
    try:
        wait_for_line(process, "Ctrl-C", timeout=180)
        assert readyz_ok(env["LINLI_WORKER_METRICS_PORT"])  # the worker's loops run too
        first = pid_of(data_dir, "issues")
        os.killpg(first, signal.SIGKILL)  # as the OOM killer would
        wait_until("issues restarted under a new pid",
                   lambda: pid_of(data_dir, "issues") != first and readyz_ok(issues_port))
        nats = pid_of(data_dir, "NATS")
        os.killpg(nats, signal.SIGKILL)
        wait_until("NATS restarted", lambda: pid_of(data_dir, "NATS") != nats)
        wait_until("issues ready again over the restarted NATS", lambda: readyz_ok(issues_port))
        assert process.poll() is None, "linli up must keep running"
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=90)
    assert process.stderr is not None
    console = process.stderr.read()
    assert "issues 意外退出" in console and "issues 已重启" in console
    assert "NATS 意外退出" in console and "NATS 已重启" in console
    assert code == 0
    for name in ["POSTGRES", "NATS", "TEMPORAL", *(s.upper() for s in SERVICE_PORTS)]:
        assert not port_open(int(env[f"LINLI_{name}_PORT"])), f"{name} still listening"
    shutil.rmtree(data_dir, ignore_errors=True)

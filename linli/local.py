"""`linli up`: the whole platform on one machine, in the foreground, stopped by Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import aiohttp

from linli.auth import issue_token
from linli.config import Settings, load_settings
from linli.demo import DemoError, start_running_demo
from linli.registry import available_services, has_workflows, load_demo
from linli.stack import EmbeddedStack, Ports, StackError, ensure_port_free, stop_process
from linli.supervisor import Child, GiveUp, Supervisor


def stack_ports(env: dict[str, str]) -> Ports:
    """Fixed local ports, each overridable (LINLI_POSTGRES_PORT, LINLI_NATS_PORT, …)."""
    base = Ports()
    return Ports(
        postgres=int(env.get("LINLI_POSTGRES_PORT", base.postgres)),
        nats=int(env.get("LINLI_NATS_PORT", base.nats)),
        nats_monitor=int(env.get("LINLI_NATS_MONITOR_PORT", base.nats_monitor)),
        temporal=int(env.get("LINLI_TEMPORAL_PORT", base.temporal)),
        temporal_ui=int(env.get("LINLI_TEMPORAL_UI_PORT", base.temporal_ui)),
    )


def processes_to_run() -> list[tuple[str, list[str]]]:
    """Each service in its own process, as in production, then the workflow API and worker."""
    python = [sys.executable, "-m", "linli.cli"]
    procs = [(name, [*python, "serve", name]) for name in available_services()]
    if has_workflows():
        procs.append(("workflows", [*python, "serve", "workflows"]))
        procs.append(("worker", [*python, "worker"]))
    return procs


def wait_ready(url: str, process: subprocess.Popen[bytes], what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StackError(f"{what} 已退出 (退出码 {process.returncode}), 见 .linli/logs/{what}.log")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise StackError(f"{what} 在 {timeout:.0f} 秒内没有就绪 ({url})")


def _health_url(name: str, settings: Settings) -> str:
    port = settings.worker_metrics_port if name == "worker" else settings.port(name)
    return f"http://{settings.host}:{port}/{'metrics' if name == 'worker' else 'readyz'}"


def print_table(settings: Settings, stack: EmbeddedStack, names: list[str], token: str) -> None:
    rows = [("PostgreSQL", settings.database_url), ("NATS JetStream", settings.nats_url),
            ("Temporal", settings.temporal_address)]
    if stack.run_temporal:
        rows.append(("Temporal UI", f"http://127.0.0.1:{stack.ports.temporal_ui}"))
    rows += [(name, _health_url(name, settings).rsplit("/", 1)[0]) for name in names]
    width = max(len(r[0]) for r in rows) + 2
    print("\n邻里 Linli 已启动 / Linli is up\n")
    if "portal" in names:
        print(f"  打开 http://127.0.0.1:{settings.port('portal')}  (居民端 / the portal)\n")
    for name, where in rows:
        print(f"  {name:<{width}}{where}")
    print("\n演示令牌 (平台管理员, 全部小区) / demo token:\n")
    print(f"  {token}\n")
    print("例如 / try:  curl -H 'Authorization: Bearer <token>' "
          f"http://127.0.0.1:{settings.port('directory')}/v1/compounds\n")
    print("按 Ctrl-C 停止 / Ctrl-C stops everything.", flush=True)


def run_platform(*, demo: bool) -> int:
    """Start everything, print where it runs, keep it running (restarting a child that dies)
    until SIGINT/SIGTERM, stop in order."""
    env = dict(os.environ)
    env.setdefault("LINLI_ENV", "development")  # the development secret is fine on this machine
    settings = load_settings(env)
    stack = EmbeddedStack(
        settings.data_dir, stack_ports(env),
        run_postgres="LINLI_DATABASE_URL" not in env, run_nats="LINLI_NATS_URL" not in env,
        run_temporal="LINLI_TEMPORAL_ADDRESS" not in env,
    )
    children: list[Child] = []
    stop = _install_signal_handlers()
    try:
        for name, _ in processes_to_run():
            port = settings.worker_metrics_port if name == "worker" else settings.port(name)
            ensure_port_free(port, name)
        stack.start()
        env.setdefault("LINLI_DATABASE_URL", stack.database_url)
        env.setdefault("LINLI_NATS_URL", stack.nats_url)
        env.setdefault("LINLI_TEMPORAL_ADDRESS", stack.temporal_address)
        env.setdefault("LINLI_PORTAL_DEV_LOGIN", "1")  # the demo sign-in page, local only
        settings = load_settings(env)
        children = _start_children(env, settings.data_dir)
        for child in children:
            wait_ready(_health_url(child.name, settings), child.process, child.name)
        marker = settings.data_dir / "demo-loaded"
        if demo and not marker.exists():
            asyncio.run(load_demo(settings.database_url))
            if _start_running_demo(settings):
                marker.touch()
        token = issue_token(settings.jwt_secret, subject="demo-admin", name="演示管理员",
                            roles=["admin"], compounds=["*"])
        supervisor = Supervisor([*_stack_children(stack), *children],
                                pid_dir=settings.data_dir / "run")
        print_table(settings, stack, [child.name for child in children], token)
        return _wait(stop, supervisor)
    except StackError as exc:
        print(f"启动失败: {exc}", file=sys.stderr)
        return 1
    finally:
        print("正在停止 / stopping …", file=sys.stderr, flush=True)
        for child in reversed(children):
            stop_process(child.process, timeout=20)
        stack.stop()


def _start_running_demo(settings: Settings) -> bool:
    """The demo's processes (a workflow, a cost billed) through the APIs; a refusal is told
    and the platform runs on (the next start tries again: the loaders repeat safely)."""
    try:
        for line in asyncio.run(start_running_demo(settings)):
            print(f"演示: {line}", flush=True)
    except (DemoError, aiohttp.ClientError, OSError, TimeoutError) as exc:
        print(f"演示流程未能启动 (下次启动时重试): {exc}", file=sys.stderr, flush=True)
        return False
    return True


def _start_child(name: str, argv: list[str], env: dict[str, str], data_dir: Path
                 ) -> subprocess.Popen[bytes]:
    with open(data_dir / "logs" / f"{name}.log", "ab") as log:  # the child keeps its own copy
        return subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)


def _start_children(env: dict[str, str], data_dir: Path) -> list[Child]:
    (data_dir / "logs").mkdir(parents=True, exist_ok=True)
    children = []
    for name, argv in processes_to_run():
        children.append(Child(
            name, _start_child(name, argv, env, data_dir),
            restart=lambda name=name, argv=argv: _start_child(name, argv, env, data_dir),  # type: ignore[misc]
            log=str(data_dir / "logs" / f"{name}.log")))
    return children


STACK_LOGS = {"PostgreSQL": "postgres.log", "NATS": "nats.log", "Temporal": "temporal.log"}


def _stack_children(stack: EmbeddedStack) -> list[Child]:
    """The embedded servers, restarted in place (same data, same ports) when they die."""
    return [Child(what, process, restart=lambda what=what: stack.restart(what),  # type: ignore[misc]
                  log=str(stack.data_dir / "logs" / STACK_LOGS[what]))
            for what, process in stack.processes]


def _install_signal_handlers() -> list[int]:
    received: list[int] = []

    def handler(signum: int, _frame: object) -> None:
        received.append(signum)

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return received


def _wait(stop: list[int], supervisor: Supervisor) -> int:
    """Until a signal: restart what dies; 1 if a child keeps dying (the platform then stops)."""
    while not stop:
        try:
            supervisor.check()
        except GiveUp as exc:
            print(f"放弃: {exc}", file=sys.stderr, flush=True)
            return 1
        time.sleep(0.3)
    return 0

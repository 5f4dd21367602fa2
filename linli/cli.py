"""The `linli` command line: up, serve, worker, migrate, token, demo."""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
from collections.abc import Sequence
from typing import Any

from linli import logs
from linli.auth import ROLES, issue_token
from linli.config import ConfigError, Settings, check_secret, load_settings
from linli.registry import (
    available_services,
    has_workflows,
    load_demo,
    service_module,
    workflows_module,
)

__all__ = ["available_services", "has_workflows", "load_demo", "main"]


def _settings_or_refuse() -> Settings | None:
    """The settings, or None (said on stderr) when they must not serve anyone."""
    settings = load_settings()
    try:
        check_secret(settings)
    except ConfigError as exc:
        print(f"拒绝启动: {exc}", file=sys.stderr)
        return None
    return settings


def event_loop() -> asyncio.AbstractEventLoop:
    """The loop a service runs on: uvloop (libuv), whose transports and callbacks cost a
    fraction of asyncio's own per request (bench/bench_issues.py); asyncio's where uvloop is
    not built (Windows)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


async def freeze_startup_objects(app: Any) -> None:
    """What startup built (modules, routes, pools) lives as long as the process: kept out of
    the collector's full passes, which walked all of it under load (a 27-31 ms pause each
    while 3,000 ballots came in; 7-14 ms frozen)."""
    gc.collect()
    gc.freeze()


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    settings = _settings_or_refuse()
    if settings is None:
        return 2
    if args.service == "workflows":
        module = workflows_module("api")
    elif args.service in available_services():
        module = service_module(args.service)
    else:
        print(f"未知服务 {args.service}; 可用: {', '.join(available_services())}", file=sys.stderr)
        return 2
    logs.configure(args.service, logs.level_of(settings.log_level))
    port = args.port or settings.port(args.service)
    try:
        app = module.create_app(settings)
        app.on_startup.append(freeze_startup_objects)
        web.run_app(app, host=settings.host, port=port,
                    access_log=None, print=None, handle_signals=True, loop=event_loop())
    except OSError as exc:
        print(f"无法在 {settings.host}:{port} 上启动 {args.service}: {exc.strerror}", file=sys.stderr)
        return 1
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    if not has_workflows():
        print("workflows.worker 尚不存在", file=sys.stderr)
        return 2
    settings = _settings_or_refuse()
    if settings is None:
        return 2
    logs.configure("worker", logs.level_of(settings.log_level))
    worker = workflows_module("worker")
    # the same loop as the services: the worker's own CPU goes much to callbacks and transports
    # (activity and workflow completions, the bridge, the relay; bench/bench_workflows.py)
    with asyncio.Runner(loop_factory=event_loop) as runner:
        return int(runner.run(worker.main(settings)) or 0)


async def _migrate_all() -> None:
    from linli import db

    settings = load_settings()
    for name in available_services():
        module = service_module(name)
        pool = await db.create_pool(settings.database_url, schema=name, max_size=1)
        async with pool.acquire() as conn:
            applied = await db.migrate(conn, schema=name, migrations=module.MIGRATIONS)
        await pool.close()
        print(f"{name}: {len(applied)} 个迁移已执行" if applied else f"{name}: 已是最新")


def cmd_migrate(args: argparse.Namespace) -> int:
    asyncio.run(_migrate_all())
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    count = asyncio.run(load_demo(load_settings().database_url))
    print(f"演示数据已就绪: {count} 个小区")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    unknown = set(args.role) - set(ROLES)
    if unknown:
        print(f"未知角色 {sorted(unknown)}; 可用: {', '.join(ROLES)}", file=sys.stderr)
        return 2
    if args.person == "demo":
        return _demo_token(args)
    subject = f"app:{args.app}" if args.app else args.person
    if not subject:
        print("需要 --person 或 --app (或 --person demo 选一位演示人员)", file=sys.stderr)
        return 2
    print(issue_token(load_settings().jwt_secret, subject=subject, roles=args.role,
                      compounds=args.compound, scopes=args.scope, name=args.name,
                      ttl_seconds=args.days * 86400))
    if not args.app and not args.compound and "admin" not in args.role:
        print("注意: 没有 --compound, 这个令牌看不到任何小区的数据", file=sys.stderr)
    return 0


def _demo_token(args: argparse.Namespace) -> int:
    """A token for the demo person holding --role in the --compound (a name), or the list."""
    from linli.registry import demo_cast

    where = args.compound[0] if args.compound else "阳光花园"
    fits = [p for p in demo_cast() if p.compound == where and p.role in (args.role or [p.role])]
    if len(args.role) != 1 or not fits:
        lines = [f"  --person demo --role {p.role} --compound {p.compound}   # {p.name}, {p.title}"
                 for p in demo_cast() if p.title != "志愿者" and not p.title.endswith("委员")]
        print("请用 --role 与 --compound (小区名) 选一位演示人员:\n" + "\n".join(lines),
              file=sys.stderr)
        return 2
    person = fits[0]
    roles = [person.role, "resident"] if person.role == "owner" else [person.role]
    print(issue_token(load_settings().jwt_secret, subject=str(person.person_id), roles=roles,
                      compounds=[str(person.compound_id)], scopes=args.scope, name=person.name,
                      ttl_seconds=args.days * 86400))
    print(f"{person.name} ({person.title}, {person.compound})", file=sys.stderr)
    return 0


def cmd_catalogue(args: argparse.Namespace) -> int:
    from linli.events import catalogue_markdown

    sys.stdout.write(catalogue_markdown())
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from linli.local import run_platform

    return run_platform(demo=not args.no_demo)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="linli", description="邻里 Linli 命令行")
    sub = p.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="启动整个平台 (内嵌 PostgreSQL、NATS、Temporal 与全部服务)")
    up.add_argument("--no-demo", action="store_true", help="不加载演示数据")
    up.set_defaults(func=cmd_up)
    serve = sub.add_parser("serve", help="运行一个服务")
    serve.add_argument("service")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("worker", help="运行 Temporal worker").set_defaults(func=cmd_worker)
    sub.add_parser("migrate", help="执行全部服务的数据库迁移").set_defaults(func=cmd_migrate)
    sub.add_parser("demo", help="加载演示数据 (可重复执行)").set_defaults(func=cmd_demo)
    sub.add_parser("catalogue", help="输出事件目录 (docs/events.md)").set_defaults(func=cmd_catalogue)
    roles = "; ".join(f"{k} {v}" for k, v in ROLES.items())
    token = sub.add_parser(
        "token", help="签发本地使用的 JWT (人员或应用)",
        description="签发本地开发使用的 JWT, 打印到标准输出。人员令牌: --person ID 加 --role 与"
                    " --compound; 演示人员: --person demo --role 角色 --compound 小区名"
                    " (不带 --role 则列出可选的演示人员); 应用令牌: --app 名称 加 --scope。"
                    " 没有 --compound 的人员令牌看不到任何小区的数据 (admin 除外)。",
        epilog=f"角色: {roles}", formatter_class=argparse.RawDescriptionHelpFormatter)
    token.add_argument("--person", default="", metavar="ID",
                       help="人员 id (令牌的 subject); 'demo' 选一位演示人员")
    token.add_argument("--app", default="", metavar="NAME",
                       help="应用名称 (subject 为 app:NAME), 权限来自 --scope")
    token.add_argument("--name", default="", help="显示名称 (写入令牌)")
    token.add_argument("--role", action="append", default=[], metavar="ROLE",
                       help="角色, 可重复 (见下方角色表)")
    token.add_argument("--compound", action="append", default=[], metavar="ID",
                       help="可访问的小区 id, 可重复; '*' 为全部; 与 --person demo 一起时为小区名")
    token.add_argument("--scope", action="append", default=[], metavar="SCOPE",
                       help="应用权限, 可重复, 例如 meetings:manage, workflows:start")
    token.add_argument("--days", type=int, default=30, help="有效天数 (默认 30)")
    token.set_defaults(func=cmd_token)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())

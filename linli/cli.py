"""The `linli` command line: up, serve, worker, migrate, token, demo."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import sys
from collections.abc import Sequence

from linli import logs
from linli.auth import ROLES, issue_token
from linli.config import ConfigError, Settings, check_secret, load_settings

SERVICES = ("directory", "issues", "meetings", "volunteers", "notify", "centre", "portal")


def _exists(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def available_services() -> list[str]:
    """The services that exist in this checkout, in start order."""
    return [s for s in SERVICES if _exists(f"services.{s}.app")]


def has_workflows() -> bool:
    return _exists("workflows.worker") and _exists("workflows.api")


def _settings_or_refuse() -> Settings | None:
    """The settings, or None (said on stderr) when they must not serve anyone."""
    settings = load_settings()
    try:
        check_secret(settings)
    except ConfigError as exc:
        print(f"拒绝启动: {exc}", file=sys.stderr)
        return None
    return settings


def cmd_serve(args: argparse.Namespace) -> int:
    from aiohttp import web

    settings = _settings_or_refuse()
    if settings is None:
        return 2
    if args.service == "workflows":
        module = importlib.import_module("workflows.api")
    elif args.service in available_services():
        module = importlib.import_module(f"services.{args.service}.app")
    else:
        print(f"未知服务 {args.service}; 可用: {', '.join(available_services())}", file=sys.stderr)
        return 2
    logs.configure(args.service)
    port = args.port or settings.port(args.service)
    try:
        web.run_app(module.create_app(settings), host=settings.host, port=port,
                    access_log=None, print=None, handle_signals=True)
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
    logs.configure("worker")
    worker = importlib.import_module("workflows.worker")
    return int(asyncio.run(worker.main(settings)) or 0)


async def _migrate_all() -> None:
    from linli import db

    settings = load_settings()
    for name in available_services():
        module = importlib.import_module(f"services.{name}.app")
        pool = await db.create_pool(settings.database_url, schema=name, max_size=1)
        async with pool.acquire() as conn:
            applied = await db.migrate(conn, schema=name, migrations=module.MIGRATIONS)
        await pool.close()
        print(f"{name}: {len(applied)} 个迁移已执行" if applied else f"{name}: 已是最新")


def cmd_migrate(args: argparse.Namespace) -> int:
    asyncio.run(_migrate_all())
    return 0


async def load_demo(database_url: str) -> int:
    """Load the demo compounds through the directory's own code; safe to repeat."""
    from linli import db
    from services.directory.app import MIGRATIONS
    from services.directory.demo import load_demo as load

    pool = await db.create_pool(database_url, schema="directory", max_size=2)
    try:
        async with pool.acquire() as conn:
            await db.migrate(conn, schema="directory", migrations=MIGRATIONS)
        count = len(await load(pool))
        if "centre" in available_services():
            await _load_centre_demo(database_url, pool)
        return count
    finally:
        await pool.close()


async def _load_centre_demo(database_url: str, directory: object) -> None:
    """The neighbourhood centre of 三盛四季公园, with the compound's residents as members."""
    from linli import db
    from services.centre.app import MIGRATIONS
    from services.centre.demo import COMPOUND, load_demo
    from services.directory.demo import demo_id, demo_people

    people = await demo_people(directory, COMPOUND)
    pool = await db.create_pool(database_url, schema="centre", max_size=2)
    try:
        async with pool.acquire() as conn:
            await db.migrate(conn, schema="centre", migrations=MIGRATIONS)
        await load_demo(pool, compound_id=demo_id("compound", COMPOUND), people=people)
    finally:
        await pool.close()


def cmd_demo(args: argparse.Namespace) -> int:
    count = asyncio.run(load_demo(load_settings().database_url))
    print(f"演示数据已就绪: {count} 个小区")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    unknown = set(args.role) - set(ROLES)
    if unknown:
        print(f"未知角色 {sorted(unknown)}; 可用: {', '.join(ROLES)}", file=sys.stderr)
        return 2
    subject = f"app:{args.app}" if args.app else args.person
    if not subject:
        print("需要 --person 或 --app", file=sys.stderr)
        return 2
    print(issue_token(load_settings().jwt_secret, subject=subject, roles=args.role,
                      compounds=args.compound, scopes=args.scope, name=args.name,
                      ttl_seconds=args.days * 86400))
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
    token = sub.add_parser("token", help="签发本地使用的 JWT")
    token.add_argument("--person", default="")
    token.add_argument("--app", default="")
    token.add_argument("--name", default="")
    token.add_argument("--role", action="append", default=[])
    token.add_argument("--compound", action="append", default=[])
    token.add_argument("--scope", action="append", default=[])
    token.add_argument("--days", type=int, default=30)
    token.set_defaults(func=cmd_token)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())

"""Idempotency-Key on creating POSTs: the same key and body replay the first answer.

The key, the writes of the use case and the stored answer commit in one transaction
(db.bind), so a crash, a killed process or a broken connection leaves either all of
them or none: a retry then gets the committed answer, or runs as if for the first time.
Nothing is ever left "in progress" for a dead request to hold for ever.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable

import asyncpg
from aiohttp import web

from linli import db, problems
from linli.auth import Principal
from linli.keys import POOL

MAX_KEY_LENGTH = 200
# a retry arriving while the first request still runs waits this long for it, then gets 409
IN_PROGRESS_WAIT_MS = 3000
# a request whose client vanished mid-transaction (a partitioned process) lets go after this
IDLE_IN_TRANSACTION_MS = 60_000


async def replay_or_run(
    request: web.Request, who: Principal | None, raw_body: bytes,
    run: Callable[[], Awaitable[web.StreamResponse]],
) -> web.StreamResponse:
    """Claim the key, run once, store the answer, all in one transaction.

    A key reused with a different body is a 422; a retry while the first call still runs
    is a 409 after a short wait. A failed first call keeps nothing, so the client may retry.
    """
    key = request.headers["Idempotency-Key"].strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise problems.bad_request(f"Idempotency-Key 必须是 1 到 {MAX_KEY_LENGTH} 个字符")
    scope = f"{who.subject if who else '-'} {request.method} {request.path}"
    digest = hashlib.sha256(raw_body).hexdigest()
    async with db.bind(request.app[POOL]) as conn:
        if not await _claim(conn, scope, key, digest):
            return await _replay(conn, scope, key, digest)
        response = await run()
        if isinstance(response, web.Response) and response.status < 300:
            await conn.execute(
                "UPDATE idempotency SET status = $3, body = $4 WHERE scope = $1 AND key = $2",
                scope, key, response.status, response.body,
            )
        else:  # nothing to replay: keep the writes, not a key that would answer 409 for ever
            await conn.execute("DELETE FROM idempotency WHERE scope = $1 AND key = $2", scope, key)
    return response


async def _claim(conn: db.Connection, scope: str, key: str, digest: str) -> bool:
    """Insert the key in this transaction; False when a committed request already holds it.

    A request still running with the same key holds the row lock: wait for its outcome a
    little, then answer 409 (its commit or rollback decides what the next retry gets).
    """
    await conn.execute(f"SET LOCAL lock_timeout = {IN_PROGRESS_WAIT_MS}")
    await conn.execute(f"SET LOCAL idle_in_transaction_session_timeout = {IDLE_IN_TRANSACTION_MS}")
    try:
        claimed = await conn.fetchval(
            "INSERT INTO idempotency (scope, key, request_hash) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING RETURNING true",
            scope, key, digest,
        )
    except asyncpg.LockNotAvailableError:
        raise problems.conflict("使用该 Idempotency-Key 的请求仍在处理中",
                                "idempotency-in-progress") from None
    await conn.execute("SET LOCAL lock_timeout TO DEFAULT")
    return bool(claimed)


async def _replay(conn: db.Connection, scope: str, key: str, digest: str) -> web.StreamResponse:
    row = await conn.fetchrow(
        "SELECT request_hash, status, body FROM idempotency WHERE scope = $1 AND key = $2",
        scope, key,
    )
    if row["request_hash"] != digest:
        raise problems.validation("该 Idempotency-Key 已用于另一个请求体")
    if row["status"] is None:  # only rows written before keys committed with their answer
        raise problems.conflict("使用该 Idempotency-Key 的请求仍在处理中", "idempotency-in-progress")
    return web.Response(
        status=row["status"], body=bytes(row["body"]), content_type="application/json",
        headers={"Idempotent-Replayed": "true"},
    )

"""Idempotency-Key on creating POSTs: the same key and body replay the first answer."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable

from aiohttp import web

from linli import problems
from linli.auth import Principal
from linli.keys import POOL

MAX_KEY_LENGTH = 200


async def replay_or_run(
    request: web.Request, who: Principal | None, raw_body: bytes,
    run: Callable[[], Awaitable[web.StreamResponse]],
) -> web.StreamResponse:
    """Claim the key, run once, store the answer; a retry gets the stored answer back.

    A key reused with a different body is a 422; a retry while the first call still runs
    is a 409. A failed first call releases the key so the client may retry.
    """
    key = request.headers["Idempotency-Key"].strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise problems.bad_request(f"Idempotency-Key 必须是 1 到 {MAX_KEY_LENGTH} 个字符")
    scope = f"{who.subject if who else '-'} {request.method} {request.path}"
    digest = hashlib.sha256(raw_body).hexdigest()
    pool = request.app[POOL]
    async with pool.acquire() as conn:
        claimed = await conn.fetchval(
            "INSERT INTO idempotency (scope, key, request_hash) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING RETURNING true",
            scope, key, digest,
        )
        if not claimed:
            return await _replay(conn, scope, key, digest)
    try:
        response = await run()
    except BaseException:
        async with pool.acquire() as conn:
            await conn.execute("DELETE FROM idempotency WHERE scope = $1 AND key = $2", scope, key)
        raise
    if isinstance(response, web.Response) and response.status < 300:
        async with pool.acquire() as conn:
            await conn.execute(
                "UPDATE idempotency SET status = $3, body = $4 WHERE scope = $1 AND key = $2",
                scope, key, response.status, response.body,
            )
    return response


async def _replay(conn: object, scope: str, key: str, digest: str) -> web.StreamResponse:
    row = await conn.fetchrow(  # type: ignore[attr-defined]
        "SELECT request_hash, status, body FROM idempotency WHERE scope = $1 AND key = $2",
        scope, key,
    )
    if row["request_hash"] != digest:
        raise problems.validation("该 Idempotency-Key 已用于另一个请求体")
    if row["status"] is None:
        raise problems.conflict("使用该 Idempotency-Key 的请求仍在处理中", "idempotency-in-progress")
    return web.Response(
        status=row["status"], body=bytes(row["body"]), content_type="application/json",
        headers={"Idempotent-Replayed": "true"},
    )

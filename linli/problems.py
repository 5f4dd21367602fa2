"""RFC 9457 problem details: every error a Linli endpoint returns."""

from __future__ import annotations

from typing import Any

import msgspec
from aiohttp import web

CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:linli:problem:"


class ProblemBody(msgspec.Struct, omit_defaults=True):
    """The problem+json document (RFC 9457)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[dict[str, Any]] | None = None


class Problem(Exception):
    """Raise anywhere in a request to answer with problem+json."""

    def __init__(
        self, status: int, kind: str, title: str, detail: str,
        *, errors: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.kind, self.title, self.detail = status, kind, title, detail
        self.errors = errors
        self.headers = headers or {}

    def response(self, *, instance: str | None = None, request_id: str | None = None) -> web.Response:
        body = ProblemBody(
            type=TYPE_PREFIX + self.kind,
            title=self.title,
            status=self.status,
            detail=self.detail,
            instance=instance,
            request_id=request_id,
            errors=self.errors,
        )
        return web.Response(
            status=self.status,
            body=msgspec.json.encode(body),
            content_type=CONTENT_TYPE,
            headers=self.headers,
        )


def bad_request(detail: str, kind: str = "bad-request") -> Problem:
    return Problem(400, kind, "请求有误", detail)


def validation(detail: str, *, field: str | None = None) -> Problem:
    """422: the request is well-formed but breaks a rule."""
    errors = [{"field": field, "detail": detail}] if field else None
    return Problem(422, "validation-error", "请求内容不合规", detail, errors=errors)


def not_found(what: str) -> Problem:
    return Problem(404, "not-found", "未找到", f"{what}不存在")


def owned(row: Any, compound_id: object, what: str, *, missing: Problem | None = None) -> Any:
    """The row when it belongs to this compound; else `missing` (a 404 naming `what`), so
    another compound's rows are not even known to exist."""
    if row is None or row["compound_id"] != compound_id:
        raise missing or not_found(what)
    return row


def conflict(detail: str, kind: str = "conflict") -> Problem:
    return Problem(409, kind, "与当前状态冲突", detail)


def forbidden(detail: str) -> Problem:
    return Problem(403, "forbidden", "无权操作", detail)


def unauthorized(detail: str) -> Problem:
    return Problem(
        401, "unauthorized", "需要登录", detail, headers={"WWW-Authenticate": "Bearer"}
    )


# aiohttp's own HTTP errors, mapped to stable kinds and Chinese texts.
HTTP_EXCEPTIONS: dict[int, tuple[str, str, str]] = {
    404: ("not-found", "未找到", "没有这个地址"),
    405: ("method-not-allowed", "不支持的方法", "该地址不支持此 HTTP 方法"),
    413: ("body-too-large", "请求体过大", "请求体超过了允许的大小"),
    415: ("unsupported-media-type", "不支持的内容类型", "请求体必须是 JSON"),
}


def from_http_exception(exc: web.HTTPException) -> Problem:
    """Turn aiohttp's 404/405/413/… into a Problem."""
    kind, title, detail = HTTP_EXCEPTIONS.get(
        exc.status, ("http-error", exc.reason or "请求错误", exc.text or exc.reason or "")
    )
    headers = {}
    if exc.status == 405 and "Allow" in exc.headers:
        headers["Allow"] = exc.headers["Allow"]
        detail = f"{detail}; 允许的方法: {exc.headers['Allow']}"
    return Problem(exc.status, kind, title, detail, headers=headers)

"""CSV uploads, handled one way in every service: the body must be UTF-8 text/csv, the header
must match, and every bad line is reported (by its line number) before anything is written."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from typing import Any

from aiohttp import web

from linli import problems
from linli.http import read_body
from linli.inputs import refuse_unstorable_text

MAX_ROWS = 20_000


async def csv_text(request: web.Request) -> str:
    """The uploaded CSV as text (415 for another content type, 400 when not UTF-8, 422 for
text PostgreSQL cannot store)."""
    if request.content_type not in ("text/csv", "text/plain"):
        raise problems.Problem(415, "unsupported-media-type", "不支持的内容类型",
                               "请以 Content-Type: text/csv 上传 CSV 文件")
    try:
        text = (await read_body(request)).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise problems.bad_request("CSV 必须是 UTF-8 编码") from None
    refuse_unstorable_text(text)  # nothing PostgreSQL refuses (a NUL) reaches a store
    return text


def data_lines(text: str, header: Sequence[str]) -> Iterator[tuple[int, list[str]]]:
    """(line number, stripped cells) of each non-blank line after the header (line 1), which
    must be `header`; at most MAX_ROWS lines."""
    reader = csv.reader(io.StringIO(text))
    if [h.strip() for h in next(reader, [])] != list(header):
        raise problems.validation(f"CSV 第 1 行的表头必须是: {','.join(header)}", field="line 1")
    count = 0
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        count += 1
        if count > MAX_ROWS:
            raise problems.validation(f"一次最多导入 {MAX_ROWS} 行")
        yield reader.line_num, [c.strip() for c in cells]


class BadLines:
    """Every bad line of one upload; `check()` turns them into one 422 listing each of them."""

    def __init__(self, *, unwritten: str) -> None:
        self.unwritten = unwritten  # what was not written, e.g. 读数
        self.errors: list[dict[str, Any]] = []

    def add(self, line: int, detail: str) -> None:
        self.errors.append({"line": line, "field": f"line {line}", "detail": detail})

    def check(self) -> None:
        if self.errors:
            first = self.errors[0]
            raise problems.Problem(
                422, "validation-error", "请求内容不合规",
                f"第 {first['line']} 行: {first['detail']} (共 {len(self.errors)} 行有误,"
                f" 未写入任何{self.unwritten})", errors=self.errors)

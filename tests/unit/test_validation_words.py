"""A request that fails its schema is told why in Chinese, the field first; a check of our own
that already speaks Chinese is passed on as it is (linli.inputs.explain)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import msgspec
import pytest

from linli.inputs import explain


class Form(msgspec.Struct, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=3, pattern="^[a-z]+$")] = "a"
    count: Annotated[int, msgspec.Meta(ge=1, le=5)] = 1
    area: Annotated[float, msgspec.Meta(gt=0)] = 1.0
    unit_id: uuid.UUID | None = None
    starts_at: dt.datetime | None = None
    photos: Annotated[list[str], msgspec.Meta(max_length=2)] = []
    window: Literal["restart", "extend"] = "restart"
    floor: int | None = None

    def __post_init__(self) -> None:
        if self.count == 4:
            raise ValueError("人数不能是 4")


class Needs(msgspec.Struct):
    name: str


@pytest.mark.parametrize(("sent", "told"), [
    ({"title": ""}, "title: 至少 1 个字符"),
    ({"title": "abcd"}, "title: 最多 3 个字符"),
    ({"title": "ABC"}, "title: 格式不正确"),  # the pattern itself is not shown
    ({"count": 0}, "count: 不能小于 1"),
    ({"count": 9}, "count: 不能大于 5"),
    ({"area": 0}, "area: 须大于 0.0"),
    ({"unit_id": "12"}, "unit_id: 不是有效的 UUID"),
    ({"starts_at": "明天"}, "starts_at: 不是有效的时间 (如 2026-12-01T09:00:00+08:00)"),
    ({"photos": ["a", "b", "c"]}, "photos: 最多 2 项"),
    ({"window": "later"}, "window: 取值 'later' 不在允许的范围内"),
    ({"count": "two"}, "count: 应为整数, 收到的是文本"),
    ({"floor": "3F"}, "floor: 应为整数或null, 收到的是文本"),
    ({"colour": "red"}, "不认识的字段 colour"),
    ({"count": 4}, "人数不能是 4"),
])
def test_each_schema_failure_reads_in_chinese(sent: dict[str, Any], told: str) -> None:
    with pytest.raises(msgspec.ValidationError) as failed:
        msgspec.convert(sent, Form)
    assert explain(failed.value) == told


def test_a_missing_field_and_a_wrong_shape_are_named() -> None:
    with pytest.raises(msgspec.ValidationError) as missing:
        msgspec.convert({}, Needs)
    assert explain(missing.value) == "缺少必填字段 name"
    with pytest.raises(msgspec.ValidationError) as shape:
        msgspec.json.decode(b"[1]", type=Needs)
    assert explain(shape.value) == "应为对象, 收到的是列表"

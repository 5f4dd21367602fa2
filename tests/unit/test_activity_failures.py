"""Which answers of a service an activity retries (workflows/service_calls.py): outages, timeouts,
throttling and its own first attempt still in progress; never a refusal that a retry repeats."""

from __future__ import annotations

import pytest

from linli.clients import peer_error
from linli.problems import Problem
from workflows.service_calls import failure

CONFLICT = b'{"type": "urn:linli:problem:conflict", "detail": "x"}'
IN_PROGRESS = b'{"type": "urn:linli:problem:idempotency-in-progress", "detail": "x"}'


@pytest.mark.parametrize(("answer", "retried"), [
    (peer_error("POST", "/v1/x", 409, IN_PROGRESS, ""), True),  # the first attempt still runs
    (peer_error("POST", "/v1/x", 409, CONFLICT, ""), False),
    (peer_error("POST", "/v1/x", 422, b"", ""), False),
    (peer_error("POST", "/v1/x", 503, b"", ""), True),
    (peer_error("POST", "/v1/x", 429, b"", ""), True),
    (peer_error("POST", "/v1/x", 500, b"", ""), True),
    (Problem(408, "timeout", "超时", "超时"), True),
])
def test_an_activity_retries_what_a_retry_can_change(answer: Problem, retried: bool) -> None:
    assert failure(answer).non_retryable is not retried

"""Calling a Linli service from an activity: a retry of the activity sends the same
Idempotency-Key, and a 4xx answer (other than timeouts and throttling) is not retried."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from linli.problems import Problem

RETRYABLE = {408, 425, 429}


def idempotency_key() -> dict[str, str]:
    """Idempotency-Key stable across retries of one activity, so a retry creates nothing twice."""
    info = activity.info()
    return {"Idempotency-Key": f"{info.workflow_id}/{info.workflow_run_id}/{info.activity_id}"}


async def call(send: Callable[[], Any]) -> Any:
    """A client call; a 4xx answer (other than timeouts/throttling) is not worth retrying."""
    try:
        return await send()
    except Problem as exc:
        if 400 <= exc.status < 500 and exc.status not in RETRYABLE:
            raise ApplicationError(f"{exc.status} {exc.detail}", type=exc.kind, non_retryable=True) from None
        raise ApplicationError(f"{exc.status} {exc.detail}", type=exc.kind) from None

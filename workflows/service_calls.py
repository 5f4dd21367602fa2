"""Calling a Linli service from an activity: a retry of the activity sends the same
Idempotency-Key, and a 4xx answer (other than timeouts and throttling) is not retried."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from linli.problems import Problem

RETRYABLE = {408, 425, 429}
# the first attempt of this activity, cut off by its timeout, still holds its Idempotency-Key:
# a retry later replays its answer, so this 409 is worth waiting out
IN_PROGRESS = "idempotency-in-progress"


def idempotency_key() -> dict[str, str]:
    """Idempotency-Key stable across retries of one activity, so a retry creates nothing twice."""
    info = activity.info()
    return {"Idempotency-Key": f"{info.workflow_id}/{info.workflow_run_id}/{info.activity_id}"}


def failure(exc: Problem) -> ApplicationError:
    """A service's error answer as the activity's failure: a 4xx (other than timeouts,
    throttling and a request still in progress) is not worth retrying."""
    kind = getattr(exc, "peer_kind", "") or exc.kind
    retry = not 400 <= exc.status < 500 or exc.status in RETRYABLE or kind == IN_PROGRESS
    return ApplicationError(f"{exc.status} {exc.detail}", type=exc.kind, non_retryable=not retry)


async def call(send: Callable[[], Any]) -> Any:
    """A client call; its error answer fails the activity as `failure` says."""
    try:
        return await send()
    except Problem as exc:
        raise failure(exc) from None

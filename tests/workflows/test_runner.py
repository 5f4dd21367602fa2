"""The production workflow runner (workflows/runner.py) still sandboxes workflow code, and
answers payload contexts itself only while no codec or storage driver would read them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Sequence

from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter, PayloadCodec
from temporalio.testing import WorkflowEnvironment
from temporalio.worker.workflow_sandbox import RestrictedWorkflowAccessError

with workflow.unsafe.imports_passed_through():  # the sandbox re-imports this module
    from workflows.runner import payloads_untouched
    from workflows.worker import temporal_worker


@workflow.defn(name="TestRunnerSandboxWorkflow")
class ReadsTheClock:
    @workflow.run
    async def run(self) -> str:
        try:
            dt.date.today()  # non-deterministic: the sandbox refuses it
        except RestrictedWorkflowAccessError:
            return "refused"
        return "allowed"


async def test_workflow_code_still_runs_in_the_sandbox(time_env: WorkflowEnvironment) -> None:
    queue = f"test-{uuid.uuid4()}"
    async with temporal_worker(time_env.client, queue, [ReadsTheClock], []):
        answer = await time_env.client.execute_workflow(
            ReadsTheClock.run, id=f"sandbox-{uuid.uuid4()}", task_queue=queue)
    assert answer == "refused"


class Reversing(PayloadCodec):
    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [Payload(metadata=p.metadata, data=p.data[::-1]) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return await self.encode(payloads)


def test_contexts_are_answered_outside_only_without_a_codec() -> None:
    assert payloads_untouched(DataConverter.default)
    assert not payloads_untouched(dataclasses.replace(DataConverter.default,
                                                      payload_codec=Reversing()))

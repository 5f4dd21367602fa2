"""The workflow runner of `linli worker`: the SDK's sandbox, minus one cost that buys us nothing.

For every payload of every activation and completion (six passes over each), the SDK asks the
workflow instance for the payload's serialization context and store context, so that a payload
codec or an external storage driver may encrypt or offload it per activity or child workflow.
In the sandbox each question is an `exec` of a code string inside it: py-spy on the worker with
100 proposals in flight put a tenth of its CPU there, on the event loop every activation waits
on. We configure neither a codec nor external storage (the client's data converter is checked
when the worker is built), and without them the answer chooses between converters that do the
same nothing. So the runner answers those two questions itself; activations, and so every
workflow's code, still run in the sandbox exactly as before (same determinism checks).
"""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.converter import DataConverter, SerializationContext, StorageDriverStoreContext
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions
from temporalio.workflow import Info, _Definition

NO_STORE = StorageDriverStoreContext(target=None)


def payloads_untouched(converter: DataConverter) -> bool:
    """True when no codec or storage driver sees payloads: contexts then change nothing."""
    return converter.payload_codec is None and converter.external_storage is None


class _Instance(WorkflowInstance):
    """A sandboxed workflow instance whose payload contexts are answered outside the sandbox."""

    def __init__(self, sandboxed: WorkflowInstance) -> None:
        self.sandboxed = sandboxed

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        return self.sandboxed.activate(act)

    def get_serialization_context(self, command_info: object) -> SerializationContext | None:
        return None  # the context-free converter: identical without a codec

    def get_external_store_context(self, command_info: object) -> StorageDriverStoreContext:
        return NO_STORE  # read only by a storage driver, and there is none

    def get_info(self) -> Info:
        return self.sandboxed.get_info()

    def get_thread_id(self) -> int | None:
        return self.sandboxed.get_thread_id()  # the deadlock detector's stack dump


class SandboxRunner(WorkflowRunner):
    """SandboxedWorkflowRunner with the restrictions given; see the module's docstring."""

    def __init__(self, restrictions: SandboxRestrictions) -> None:
        self.sandbox = SandboxedWorkflowRunner(restrictions=restrictions)

    def prepare_workflow(self, defn: _Definition) -> None:
        self.sandbox.prepare_workflow(defn)

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _Instance(self.sandbox.create_instance(det))

    def set_worker_level_failure_exception_types(
            self, types: Sequence[type[BaseException]]) -> None:
        self.sandbox.set_worker_level_failure_exception_types(types)

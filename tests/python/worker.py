"""A worker written with the real Temporal Python SDK, hosting the workflows that the Rust
end-to-end tests drive with our client (see tests/src/lib.rs for the Rust side of each type).

Usage: python worker.py --address HOST:PORT --task-queue QUEUE [--namespace default]
Prints "WORKER READY" once polling, runs until SIGTERM/SIGINT.
"""

import argparse
import asyncio
import base64
import os
import signal
import sys
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, List, Optional

from temporalio import activity, workflow
from temporalio.workflow import ActivityCancellationType
from temporalio.client import Client
from temporalio.common import RawValue, RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, CancelledError
from temporalio.worker import Worker


@dataclass
class GreetingInput:
    name: str
    greeting: str
    times: int


@dataclass
class GreetingOutput:
    message: str
    length: int
    words: List[str]


@dataclass
class AccumulatorResult:
    items: List[str]
    count: int


@activity.defn
async def compose_greeting(input: GreetingInput) -> str:
    return " ".join([f"{input.greeting}, {input.name}!"] * input.times)


@activity.defn
async def failing_activity() -> str:
    raise ApplicationError("activity blew up", type="ActivityBoom")


@activity.defn
async def async_completed_activity() -> str:
    info = activity.info()
    token = base64.b64encode(info.task_token).decode()
    await activity.client().get_workflow_handle(info.workflow_id).signal(
        "activity_token", token
    )
    activity.raise_complete_async()


@workflow.defn(name="GreetingWorkflow")
class GreetingWorkflow:
    @workflow.run
    async def run(self, input: GreetingInput) -> GreetingOutput:
        message = await workflow.execute_activity(
            compose_greeting, input, start_to_close_timeout=timedelta(seconds=10)
        )
        return GreetingOutput(message=message, length=len(message), words=message.split(" "))


@workflow.defn(name="MultiArgWorkflow")
class MultiArgWorkflow:
    @workflow.run
    async def run(self, a: str, b: int, c: Optional[str]) -> str:
        return f"{a}|{b}|{c}"


@workflow.defn(name="NoArgWorkflow")
class NoArgWorkflow:
    @workflow.run
    async def run(self) -> None:
        return None


@workflow.defn(name="EchoWorkflow")
class EchoWorkflow:
    @workflow.run
    async def run(self, value: Any) -> Any:
        return value


@workflow.defn(name="RawEchoWorkflow")
class RawEchoWorkflow:
    """Returns the payload it received as base64, so tests see the exact bytes sent."""

    @workflow.run
    async def run(self, value: RawValue) -> list:
        payload = value.payload
        return [
            {
                "metadata": {
                    k: base64.b64encode(v).decode() for k, v in payload.metadata.items()
                },
                "data": base64.b64encode(payload.data).decode(),
            }
        ]


@workflow.defn(name="AccumulatorWorkflow")
class AccumulatorWorkflow:
    def __init__(self) -> None:
        self._items: List[str] = []
        self._done = False

    @workflow.run
    async def run(self) -> AccumulatorResult:
        await workflow.wait_condition(lambda: self._done)
        return AccumulatorResult(items=list(self._items), count=len(self._items))

    @workflow.signal
    def add_item(self, item: str) -> None:
        self._items.append(item)

    @workflow.signal
    def finish(self) -> None:
        self._done = True

    @workflow.query
    def items(self) -> List[str]:
        return self._items

    @workflow.query
    def count_with_prefix(self, prefix: str) -> int:
        return sum(1 for item in self._items if item.startswith(prefix))

    @workflow.query
    def fail_query(self) -> str:
        raise ValueError("query exploded")

    @workflow.update
    async def add_and_count(self, item: str) -> int:
        self._items.append(item)
        return len(self._items)

    @add_and_count.validator
    def check_item(self, item: str) -> None:
        if not item:
            raise ValueError("an empty item")


@workflow.defn(name="FailingWorkflow")
class FailingWorkflow:
    @workflow.run
    async def run(self, mode: str) -> str:
        if mode == "application":
            try:
                raise ApplicationError("the root cause", type="RootCause")
            except ApplicationError as cause:
                raise ApplicationError(
                    "workflow failed on purpose",
                    {"code": 7},
                    type="PurposefulError",
                    non_retryable=True,
                ) from cause
        if mode == "activity":
            return await workflow.execute_activity(
                failing_activity,
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=RetryPolicy(maximum_attempts=1),
            )
        if mode == "retry-once":
            attempt = workflow.info().attempt
            if attempt < 2:
                raise ApplicationError("first attempt fails", type="Transient")
            return f"succeeded on attempt {attempt}"
        raise ApplicationError(f"unknown mode {mode!r}", type="BadMode", non_retryable=True)


@workflow.defn(name="WaitForeverWorkflow")
class WaitForeverWorkflow:
    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)


@workflow.defn(name="ContinueAsNewWorkflow")
class ContinueAsNewWorkflow:
    @workflow.run
    async def run(self, remaining: int) -> str:
        if remaining > 0:
            workflow.continue_as_new(remaining - 1)
        return f"finished in run {workflow.info().run_id}"


@workflow.defn(name="AsyncCompletionWorkflow")
class AsyncCompletionWorkflow:
    def __init__(self) -> None:
        self._token: Optional[str] = None

    @workflow.run
    async def run(self) -> str:
        return await workflow.execute_activity(
            async_completed_activity,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=RetryPolicy(maximum_attempts=1),
        )

    @workflow.signal
    def activity_token(self, token: str) -> None:
        self._token = token


@dataclass
class RustActivityCall:
    activity: str
    task_queue: str
    args: List[Any]
    maximum_attempts: int = 1
    heartbeat_timeout_ms: int = 0
    start_to_close_ms: int = 30000
    cancel_on_signal: bool = False


@workflow.defn(name="RunRustActivity")
class RunRustActivity:
    """Runs an activity by name on another task queue (a Rust worker's) and returns its result;
    optionally cancels it when signalled and then returns "cancelled"."""

    def __init__(self) -> None:
        self._cancel = False

    @workflow.signal
    def cancel_activity(self) -> None:
        self._cancel = True

    @workflow.run
    async def run(self, call: RustActivityCall) -> Any:
        handle = workflow.start_activity(
            call.activity,
            args=call.args,
            task_queue=call.task_queue,
            start_to_close_timeout=timedelta(milliseconds=call.start_to_close_ms),
            heartbeat_timeout=(
                timedelta(milliseconds=call.heartbeat_timeout_ms)
                if call.heartbeat_timeout_ms
                else None
            ),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(milliseconds=100),
                maximum_attempts=call.maximum_attempts,
            ),
            cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )
        if call.cancel_on_signal:
            await workflow.wait_condition(lambda: self._cancel)
            handle.cancel()
        try:
            return await handle
        except ActivityError as err:
            if isinstance(err.cause, CancelledError):
                return "cancelled"
            raise


async def connect(address: str, namespace: str) -> Client:
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        try:
            return await Client.connect(address, namespace=namespace)
        except Exception:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--address", required=True)
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--namespace", default="default")
    args = parser.parse_args()

    client = await connect(args.address, args.namespace)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    worker = Worker(
        client,
        task_queue=args.task_queue,
        workflows=[
            GreetingWorkflow,
            MultiArgWorkflow,
            NoArgWorkflow,
            EchoWorkflow,
            RawEchoWorkflow,
            AccumulatorWorkflow,
            FailingWorkflow,
            WaitForeverWorkflow,
            ContinueAsNewWorkflow,
            AsyncCompletionWorkflow,
            RunRustActivity,
        ],
        activities=[compose_greeting, failing_activity, async_completed_activity],
    )
    async with worker:
        print("WORKER READY", flush=True)
        await stop.wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        # The SDK's native runtime can crash while the interpreter exits; skip that phase.
        os._exit(0)

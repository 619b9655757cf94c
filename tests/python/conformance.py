"""The Temporal Python SDK, client and worker, against one server: the guide's hello workflow,
signals and queries, timers, activity retries, child workflows, continue-as-new and
cancellation. Prints one line per check and `CONFORMANCE OK` at the end.

Usage: conformance.py ADDRESS
"""

import asyncio
import os
import sys
import uuid
from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import CancelledError
from temporalio.worker import Worker

TASK_QUEUE = "python-conformance"


@dataclass
class YourParams:
    greeting: str
    name: str


@activity.defn(name="your_activity")
async def your_activity(params: YourParams) -> str:
    return f"{params.greeting}, {params.name}!"


@activity.defn
async def flaky(times_to_fail: int) -> int:
    attempt = activity.info().attempt
    if attempt <= times_to_fail:
        raise RuntimeError(f"attempt {attempt} fails")
    return attempt


@workflow.defn(name="YourWorkflow")
class YourWorkflow:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(
            your_activity,
            YourParams("Hello", name),
            start_to_close_timeout=timedelta(seconds=10),
        )


@workflow.defn
class Tally:
    def __init__(self) -> None:
        self.total = 0
        self.closed = False

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.closed)
        return self.total

    @workflow.signal
    def add(self, n: int) -> None:
        self.total += n

    @workflow.signal
    def close(self) -> None:
        self.closed = True

    @workflow.query
    def value(self) -> int:
        return self.total


@workflow.defn
class Napper:
    @workflow.run
    async def run(self) -> str:
        await asyncio.sleep(0.2)
        return "rested"


@workflow.defn
class Retrier:
    @workflow.run
    async def run(self) -> int:
        return await workflow.execute_activity(
            flaky,
            2,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=50)),
        )


@workflow.defn
class Parent:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_child_workflow(
            YourWorkflow.run, name, id=f"{workflow.info().workflow_id}-child"
        )


@workflow.defn
class Countdown:
    @workflow.run
    async def run(self, n: int) -> str:
        if n > 0:
            workflow.continue_as_new(n - 1)
        return "liftoff"


@workflow.defn
class Patient:
    @workflow.run
    async def run(self) -> str:
        await asyncio.sleep(3600)
        return "woke up"


def check(what: str, ok: bool, detail: object) -> None:
    print(f"{'ok' if ok else 'FAILED'}: {what}: {detail}", flush=True)
    if not ok:
        raise SystemExit(1)


async def main(address: str) -> None:
    client = await Client.connect(address)
    unique = uuid.uuid4().hex[:8]
    async with Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=[YourWorkflow, Tally, Napper, Retrier, Parent, Countdown, Patient],
        activities=[your_activity, flaky],
    ):
        result = await client.execute_workflow(
            YourWorkflow.run, "Python", id=f"hello-{unique}", task_queue=TASK_QUEUE
        )
        check("hello", result == "Hello, Python!", result)

        tally = await client.start_workflow(Tally.run, id=f"tally-{unique}", task_queue=TASK_QUEUE)
        for n in (1, 2, 3):
            await tally.signal(Tally.add, n)
        value = await tally.query(Tally.value)
        check("signals then a query", value == 6, value)
        await tally.signal(Tally.close)
        result = await tally.result()
        check("signals close the workflow", result == 6, result)

        result = await client.execute_workflow(Napper.run, id=f"nap-{unique}", task_queue=TASK_QUEUE)
        check("a timer", result == "rested", result)

        result = await client.execute_workflow(
            Retrier.run, id=f"retry-{unique}", task_queue=TASK_QUEUE
        )
        check("an activity retried until its third attempt", result == 3, result)

        result = await client.execute_workflow(
            Parent.run, "child", id=f"parent-{unique}", task_queue=TASK_QUEUE
        )
        check("a child workflow", result == "Hello, child!", result)

        handle = await client.start_workflow(
            Countdown.run, 3, id=f"countdown-{unique}", task_queue=TASK_QUEUE
        )
        result = await handle.result()
        check("continue-as-new three times", result == "liftoff", result)

        patient = await client.start_workflow(
            Patient.run, id=f"patient-{unique}", task_queue=TASK_QUEUE
        )
        await patient.cancel()
        try:
            await patient.result()
            check("cancellation", False, "the workflow completed")
        except WorkflowFailureError as err:
            check("cancellation", isinstance(err.cause, CancelledError), repr(err.cause))
    print("CONFORMANCE OK", flush=True)


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1]))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        # The SDK sometimes crashes while the interpreter exits, after the work is done.
        os._exit(0)

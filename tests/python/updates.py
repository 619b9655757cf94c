"""Workflow updates with the Temporal Python SDK, client and worker, against one server: a
validator's rejection leaves no trace in the history, an accepted update returns its
result, async handlers run activities, update ids deduplicate, `start_update` waits for
acceptance only, unknown names are rejected, handlers finish before the run completes, and
a closed workflow still answers an update it completed, and update-with-start starts a
workflow or updates the running one by its conflict policy. Prints one line per check and
`UPDATES OK` at the end.

Usage: updates.py ADDRESS
"""

import asyncio
import os
import sys
import uuid
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateStage,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

TASK_QUEUE = "python-updates"


@activity.defn
async def price_of(item: str) -> int:
    return len(item)


@workflow.defn
class Cart:
    def __init__(self) -> None:
        self.items: list[str] = []
        self.total = 0
        self.checked_out = False

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.checked_out)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.total

    @workflow.update
    async def add_item(self, item: str) -> int:
        price = await workflow.execute_activity(
            price_of, item, start_to_close_timeout=timedelta(seconds=10)
        )
        self.items.append(item)
        self.total += price
        return self.total

    @add_item.validator
    def check_item(self, item: str) -> None:
        if not item:
            raise ValueError("an item needs a name")
        if self.checked_out:
            raise ValueError("the cart is checked out")

    @workflow.update
    def remove_all(self) -> int:
        if not self.items:
            raise ApplicationError("the cart is empty", non_retryable=True)
        self.items.clear()
        self.total = 0
        return 0

    @workflow.signal
    def check_out(self) -> None:
        self.checked_out = True

    @workflow.query
    def count(self) -> int:
        return len(self.items)


def check(what: str, ok: bool, detail: object) -> None:
    print(f"{'ok' if ok else 'FAILED'}: {what}: {detail}", flush=True)
    if not ok:
        raise SystemExit(1)


async def event_types(handle) -> list[str]:
    history = await handle.fetch_history()
    return [event.WhichOneof("attributes") for event in history.events]


async def main(address: str) -> None:
    client = await Client.connect(address)
    unique = uuid.uuid4().hex[:8]
    async with Worker(
        client, task_queue=TASK_QUEUE, workflows=[Cart], activities=[price_of]
    ):
        cart = await client.start_workflow(Cart.run, id=f"cart-{unique}", task_queue=TASK_QUEUE)
        total = await cart.execute_update(Cart.add_item, "apple", id="first")
        check("an accepted update returns its result", total == 5, total)

        before = await event_types(cart)
        try:
            await cart.execute_update(Cart.add_item, "")
            check("a validator rejects", False, "accepted")
        except WorkflowUpdateFailedError as err:
            check("a validator rejects", "needs a name" in str(err.cause), repr(err.cause))
        after = await event_types(cart)
        check("a rejection writes no event", after == before, after[len(before) :])

        again = await cart.execute_update(Cart.add_item, "apple", id="first")
        count = await cart.query(Cart.count)
        check("an update id answers once", (again, count) == (5, 1), (again, count))

        started = await cart.start_update(
            Cart.add_item, "pear", id="second", wait_for_stage=WorkflowUpdateStage.ACCEPTED
        )
        result = await started.result()
        check("start_update then result", result == 9, result)
        polled = await cart.get_update_handle("second").result()
        check("an update handle polls the outcome", polled == 9, polled)

        try:
            await cart.execute_update("no_such_update", id="unknown")
            check("an unknown update is rejected", False, "accepted")
        except WorkflowUpdateFailedError as err:
            check("an unknown update is rejected", "no_such_update" in str(err.cause), err.cause)

        cleared = await cart.execute_update(Cart.remove_all)
        check("a synchronous handler", cleared == 0, cleared)
        try:
            await cart.execute_update(Cart.remove_all)
            check("a handler's failure is the update's outcome", False, "succeeded")
        except WorkflowUpdateFailedError as err:
            check("a handler's failure is the update's outcome", "empty" in str(err.cause), err.cause)

        types = await event_types(cart)
        accepted = types.count("workflow_execution_update_accepted_event_attributes")
        completed = types.count("workflow_execution_update_completed_event_attributes")
        check("accepted and completed events", (accepted, completed) == (4, 4), types)

        await cart.signal(Cart.check_out)
        total = await cart.result()
        check("the run completes", total == 0, total)
        polled = await cart.get_update_handle("second").result()
        check("a closed run answers a completed update", polled == 9, polled)
        try:
            await cart.execute_update(Cart.add_item, "late", id="late")
            check("a closed run refuses a new update", False, "accepted")
        except RPCError as err:
            check("a closed run refuses a new update", err.status == RPCStatusCode.NOT_FOUND, err)

        def start_operation(policy: WorkflowIDConflictPolicy) -> WithStartWorkflowOperation:
            return WithStartWorkflowOperation(
                Cart.run, id=f"cart-uws-{unique}", id_conflict_policy=policy, task_queue=TASK_QUEUE
            )

        started = start_operation(WorkflowIDConflictPolicy.USE_EXISTING)
        total = await client.execute_update_with_start_workflow(
            Cart.add_item, "melon", start_workflow_operation=started
        )
        check("update-with-start starts the workflow", total == 5, total)
        first_run = (await started.workflow_handle()).result_run_id
        existing = start_operation(WorkflowIDConflictPolicy.USE_EXISTING)
        total = await client.execute_update_with_start_workflow(
            Cart.add_item, "lime", start_workflow_operation=existing
        )
        same_run = (await existing.workflow_handle()).result_run_id == first_run
        check("update-with-start updates the running workflow", (total, same_run) == (9, True), total)
        try:
            await client.execute_update_with_start_workflow(
                Cart.add_item,
                "fig",
                start_workflow_operation=start_operation(WorkflowIDConflictPolicy.FAIL),
            )
            check("update-with-start refuses a running id by policy", False, "started")
        except WorkflowAlreadyStartedError as err:
            check("update-with-start refuses a running id by policy", True, err)
        handle = await started.workflow_handle()
        await handle.signal(Cart.check_out)
        check("the update-with-start run completes", await handle.result() == 9, "")
    print("UPDATES OK", flush=True)


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1]))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        # The SDK sometimes crashes while the interpreter exits, after the work is done.
        os._exit(0)

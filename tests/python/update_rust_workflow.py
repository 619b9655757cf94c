"""A Python client updates a Rust workflow: sends `add_item` updates (one the Rust validator
rejects) to the `Basket` workflow run by the Rust worker, and prints one JSON line with what
came back.

Usage: update_rust_workflow.py ADDRESS WORKFLOW_ID
"""

import asyncio
import json
import os
import sys

from temporalio.client import Client, WorkflowUpdateFailedError


async def main(address: str, workflow_id: str) -> None:
    client = await Client.connect(address)
    handle = client.get_workflow_handle(workflow_id)
    total = await handle.execute_update("add_item", "kiwi", result_type=int)
    try:
        await handle.execute_update("add_item", "", result_type=int)
        rejection = None
    except WorkflowUpdateFailedError as err:
        rejection = str(err.cause)
    print(json.dumps({"total": total, "rejection": rejection}), flush=True)


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1], sys.argv[2]))
    finally:
        sys.stdout.flush()
        # The SDK sometimes crashes while the interpreter exits, after the work is done.
        os._exit(0)

"""Starts a workflow with the Python SDK client and prints its result.

Usage: start_workflow.py ADDRESS TASK_QUEUE WORKFLOW_TYPE WORKFLOW_ID JSON_ARG
Prints `RESULT <json>` (or `ERROR <message>`) as its last line.
"""

import asyncio
import json
import os
import sys

from temporalio.client import Client


async def main() -> None:
    address, task_queue, workflow_type, workflow_id, arg = sys.argv[1:6]
    client = await Client.connect(address)
    try:
        result = await client.execute_workflow(
            workflow_type, json.loads(arg), id=workflow_id, task_queue=task_queue
        )
        print("RESULT " + json.dumps(result), flush=True)
    except Exception as err:  # reported to the test, which judges it
        print(f"ERROR {err!r}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
    sys.stdout.flush()
    os._exit(0)

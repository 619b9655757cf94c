"""Benchmark (not a test): the hello workflow with the Temporal Python SDK, measured as
examples/bench_hello.rs measures ours. Worker in process; prints one line.

Usage: bench_hello.py ADDRESS N C
"""

import asyncio
import os
import resource
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker


@dataclass
class YourParams:
    greeting: str
    name: str


@activity.defn(name="your_activity")
async def your_activity(input: YourParams) -> str:
    return f"{input.greeting}, {input.name}!"


@workflow.defn(name="YourWorkflow")
class YourWorkflow:
    @workflow.run
    async def run(self, name: str) -> str:
        return await workflow.execute_activity(
            your_activity,
            YourParams("Hello", name),
            start_to_close_timeout=timedelta(seconds=10),
        )


async def one(client: Client, queue: str, name: str) -> float:
    started = time.perf_counter()
    out = await client.execute_workflow(
        YourWorkflow.run, name, id=f"bench-py-{queue}-{name}", task_queue=queue
    )
    assert out == f"Hello, {name}!"
    return time.perf_counter() - started


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def main() -> None:
    address, n, c = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    client = await Client.connect(address)
    queue = f"bench-py-{uuid.uuid4()}"
    async with Worker(
        client, task_queue=queue, workflows=[YourWorkflow], activities=[your_activity]
    ):
        for i in range(10):
            await one(client, queue, f"warm-{i}")
        slots = asyncio.Semaphore(c)

        async def bounded(i: int) -> float:
            async with slots:
                return await one(client, queue, str(i))

        cpu_before = cpu_seconds()
        started = time.perf_counter()
        latencies = sorted(await asyncio.gather(*(bounded(i) for i in range(n))))
        elapsed = time.perf_counter() - started
        cpu = cpu_seconds() - cpu_before

    def pct(p: float) -> float:
        return latencies[min(int(len(latencies) * p), len(latencies) - 1)] * 1000

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"sdk=temporalio-python n={n} c={c} elapsed={elapsed:.2f}s wf/s={n / elapsed:.1f} "
        f"p50={pct(0.5):.1f}ms p99={pct(0.99):.1f}ms cpu_ms_per_wf={cpu * 1000 / n:.2f} "
        f"peak_rss_mb={peak_mb:.1f}",
        flush=True,
    )


if __name__ == "__main__":
    asyncio.run(main())
    sys.stdout.flush()
    os._exit(0)

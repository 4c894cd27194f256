"""The worker pool hands workers to waiting events strictly in arrival order."""

from __future__ import annotations

import asyncio
from pathlib import Path

from wsgate_local.pool import WorkerPool


def test_waiting_events_get_workers_first_come_first_served():
    async def scenario() -> list[object]:
        pool = WorkerPool(Path("."), "app.app", None, {}, size=1)
        pool._release(object())  # type: ignore[arg-type]
        served: list[object] = []

        async def waiting(n: int) -> None:
            got = await pool._acquire()
            served.append(n)
            await asyncio.sleep(0)
            pool._release(got)

        go = asyncio.Event()

        async def busy_connection() -> None:
            # releases its worker and asks for one again at once, as a chatty client does
            got = await pool._acquire()
            await go.wait()
            for _ in range(3):
                served.append("busy")
                await asyncio.sleep(0)
                pool._release(got)
                got = await pool._acquire()
            pool._release(got)

        busy = asyncio.create_task(busy_connection())
        await asyncio.sleep(0)
        others = [asyncio.create_task(waiting(n)) for n in range(3)]
        await asyncio.sleep(0)  # the three queue up behind the busy connection
        go.set()
        await asyncio.gather(busy, *others)
        return served

    # the waiting events are not overtaken by the busy connection's next request
    assert asyncio.run(scenario()) == ["busy", 0, 1, 2, "busy", "busy"]


def test_an_event_that_gives_up_passes_its_worker_on():
    async def scenario() -> bool:
        pool = WorkerPool(Path("."), "app.app", None, {}, size=1)
        worker = object()
        pool._release(worker)  # type: ignore[arg-type]
        busy = await pool._acquire()
        quitter = asyncio.create_task(pool._acquire())
        patient = asyncio.create_task(pool._acquire())
        await asyncio.sleep(0)
        pool._release(busy)  # handed to the quitter...
        quitter.cancel()  # ...which is cancelled before it runs
        got = await asyncio.wait_for(patient, 1)
        return got is worker

    assert asyncio.run(scenario())

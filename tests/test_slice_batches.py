"""How play slices reach the engine pool (``app.sessions.live.SliceBatches``): in batches of at most ``size``,
at most ``in_flight`` batches at once, first come first served, each slice's result or error to its own caller.

The pool is a real ThreadPoolExecutor wrapped to count its visits; a slice blocks on a threading.Event where a
test needs the pool busy. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

from app.sessions.live import SliceBatches

WAIT = 10.0


class CountingPool(ThreadPoolExecutor):
    """A pool that remembers each visit (one ``submit``) and what it ran."""

    def __init__(self, workers: int) -> None:
        super().__init__(workers)
        self.visits: list[list[Any]] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        batch = args[0] if args else []
        self.visits.append([slice_fn for slice_fn, _ in batch])
        return super().submit(fn, *args, **kwargs)


Pools = Callable[[int], CountingPool]


@pytest.fixture
def pools() -> Iterator[Pools]:
    """Counting pools of a given size, every one shut down after the test."""
    made: list[CountingPool] = []

    def make(workers: int) -> CountingPool:
        made.append(CountingPool(workers))
        return made[-1]

    yield make
    for pool in made:
        pool.shutdown()


def run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, WAIT))


def test_slices_queued_behind_a_busy_pool_run_together_in_order_and_each_gets_its_own_result(
    pools: Callable[[int], CountingPool],
):
    pool = pools(1)
    release = threading.Event()
    order: list[int] = []

    def first() -> str:
        release.wait(WAIT)
        order.append(0)
        return "first"

    def slice_(i: int) -> Any:
        def fn() -> int:
            order.append(i)
            return i * i

        return fn

    async def main() -> list[Any]:
        batches = SliceBatches(pool, in_flight=1)
        head = batches.run(first, size=8)  # goes at once, and holds the only place
        rest = [batches.run(slice_(i), size=8) for i in range(1, 6)]  # wait in the list
        await asyncio.sleep(0.05)
        assert len(pool.visits) == 1 and batches.running == 1
        release.set()
        return await asyncio.gather(head, *rest)

    assert run(main()) == ["first", 1, 4, 9, 16, 25]
    assert order == [0, 1, 2, 3, 4, 5]
    assert [len(v) for v in pool.visits] == [1, 5]  # two visits for six slices, not six


def test_a_batch_holds_at_most_size_slices_and_at_most_in_flight_batches_run_at_once(
    pools: Callable[[int], CountingPool],
):
    pool = pools(2)
    gate = threading.Event()

    def fn() -> None:
        gate.wait(WAIT)

    async def main() -> None:
        batches = SliceBatches(pool, in_flight=2)
        futures = [batches.run(fn, size=3) for _ in range(11)]
        await asyncio.sleep(0.05)
        assert batches.running == 2 and len(batches.pending) == 9  # the first two went alone, at once
        gate.set()
        await asyncio.gather(*futures)
        assert batches.running == 0 and not batches.pending

    run(main())
    sizes = [len(v) for v in pool.visits]
    assert sizes[:2] == [1, 1] and max(sizes) <= 3 and sum(sizes) == 11


def test_an_error_in_one_slice_reaches_only_its_caller_and_the_batch_goes_on(pools: Pools):
    pool = pools(1)
    release = threading.Event()

    def boom() -> None:
        raise ValueError("slice 2 failed")

    async def main() -> list[Any]:
        batches = SliceBatches(pool, in_flight=1)
        head = batches.run(lambda: release.wait(WAIT), size=4)
        mid = [batches.run(lambda: "a", size=4), batches.run(boom, size=4), batches.run(lambda: "c", size=4)]
        release.set()
        return await asyncio.gather(head, *mid, return_exceptions=True)

    out = run(main())
    assert out[0] is True and out[1] == "a" and out[3] == "c"
    assert isinstance(out[2], ValueError) and str(out[2]) == "slice 2 failed"


def test_a_slice_whose_caller_gave_up_while_it_waited_is_not_run(pools: Pools):
    pool = pools(1)
    release = threading.Event()
    ran: list[str] = []

    async def main() -> None:
        batches = SliceBatches(pool, in_flight=1)
        head = batches.run(lambda: release.wait(WAIT), size=4)
        gone = batches.run(lambda: ran.append("gone"), size=4)
        kept = batches.run(lambda: ran.append("kept"), size=4)
        gone.cancel()  # its play loop was cancelled (the server stops)
        release.set()
        await asyncio.gather(head, kept)

    run(main())
    assert ran == ["kept"]


def test_a_pool_that_has_stopped_fails_the_slices_instead_of_losing_them(pools: Pools):
    pool = pools(1)
    pool.shutdown()

    async def main() -> None:
        await SliceBatches(pool, in_flight=1).run(lambda: 1, size=4)

    with pytest.raises(RuntimeError):
        run(main())


def test_a_stopped_pool_fails_every_waiting_slice_not_only_one_batch(pools: Pools):
    pool = pools(1)
    release = threading.Event()

    async def main() -> list[Any]:
        batches = SliceBatches(pool, in_flight=1)
        head = batches.run(lambda: release.wait(WAIT), size=2)
        rest = [batches.run(lambda: 1, size=2) for _ in range(5)]  # three batches' worth, waiting
        pool.shutdown(wait=False)  # the server stops while they wait
        release.set()
        return await asyncio.gather(head, *rest, return_exceptions=True)

    out = run(main())
    assert out[0] is True
    assert all(isinstance(o, RuntimeError) for o in out[1:])


def test_places_admit_in_flight_times_size_loops_first_come_first_served_and_a_cancelled_waiter_passes_on(
    pools: Callable[[int], CountingPool],
):
    pool = pools(1)

    async def main() -> list[str]:
        batches = SliceBatches(pool, in_flight=2)
        admitted: list[str] = []
        leave: dict[str, asyncio.Event] = {}

        async def loop(name: str) -> None:
            leave[name] = asyncio.Event()
            async with batches.place(size=2):
                admitted.append(name)
                await leave[name].wait()

        tasks = {name: asyncio.create_task(loop(name)) for name in "abcdefg"}
        await asyncio.sleep(0.01)
        assert admitted == ["a", "b", "c", "d"] and batches.placed == 4  # 2 batches × 2 slices
        tasks["e"].cancel()  # gives up while it waits
        leave["a"].set()
        await asyncio.sleep(0.01)
        assert admitted == ["a", "b", "c", "d", "f"]  # e's turn went to the next in line
        for name in "bcdf":
            leave[name].set()
        await asyncio.sleep(0.01)
        assert admitted[-1] == "g" and batches.placed == 1
        leave["g"].set()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        assert batches.placed == 0 and not batches.waiting
        return admitted

    run(main())


def test_idle_returns_once_the_running_batches_are_done(pools: Pools):
    pool = pools(1)
    release = threading.Event()
    ran: list[int] = []

    async def main() -> None:
        batches = SliceBatches(pool, in_flight=1)
        batches.run(lambda: (release.wait(WAIT), ran.append(1)), size=4)
        waiter = asyncio.create_task(batches.idle())
        await asyncio.sleep(0.05)
        assert not waiter.done()
        release.set()
        await waiter
        assert ran == [1] and batches.running == 0

    run(main())

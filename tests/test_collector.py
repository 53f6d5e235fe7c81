"""The collector policy of ``mockgraph serve``, on this process's own collector, with the
clock in the test's hands: survivors of a young pass are frozen, and the frozen heap is given
back when quiet (idle, with hardly any CPU used, for a second) and grown by a quarter, or,
busy, once grown fivefold and ten minutes after the last time."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from mockgraph.clock import ManualClock
from mockgraph.collector import Collector


class Node:
    """Cyclic garbage once dropped: reference counting alone never frees it."""

    def __init__(self) -> None:
        self.me = self


class Server:
    idle = False
    cpu = 0.0  # the process's CPU seconds, as the collector reads them


@pytest.fixture
def server() -> Server:
    return Server()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def collector(server: Server, clock: ManualClock) -> Iterator[Collector]:
    collector = Collector(
        lambda: server.idle, clock, young=1_000, check_every=1.0, cpu=lambda: server.cpu
    )
    collector.start()
    try:
        yield collector
    finally:
        collector.close()


def in_generations(thing: object) -> bool:
    return any(other is thing for generation in range(3) for other in gc.get_objects(generation))


def dropped_cycle() -> weakref.ref[Node]:
    node = Node()
    gc.collect(0)  # it survives a young pass, so it is frozen
    return weakref.ref(node)


def survivors(count: int) -> list[list[int]]:
    kept: list[list[int]] = [[] for _ in range(count)]
    gc.collect(0)
    return kept


def test_what_survives_a_young_pass_is_frozen(collector: Collector) -> None:
    kept: list[int] = []
    assert in_generations(kept)
    before = collector.since
    gc.collect(0)
    assert not in_generations(kept)
    assert collector.since > before
    assert gc.get_threshold()[0] == 1_000


async def test_a_busy_server_keeps_its_frozen_garbage_until_the_heap_grows_by_a_quarter(
    collector: Collector, server: Server, clock: ManualClock
) -> None:
    node = dropped_cycle()
    kept = survivors(collector.frozen // 4 + 1)
    await clock.advance(5)
    assert node() is not None  # busy: a full pass now would make calls late
    server.idle = True
    await clock.advance(1)
    assert node() is not None  # idle at one check: a load may be starting
    await clock.advance(1)
    assert node() is None  # quiet for a whole second
    assert collector.given_back == 1
    del kept


async def test_a_server_at_work_with_nothing_playing_is_not_quiet(
    collector: Collector, server: Server, clock: ManualClock
) -> None:
    # Seeding calls, or answering requests whose scenarios notify nothing, leaves nothing
    # playing or in flight; a whole-heap pass would still hold those requests up.
    node = dropped_cycle()
    kept = survivors(collector.frozen // 4 + 1)
    server.idle = True
    for _ in range(5):
        server.cpu += 0.5  # half a core
        await clock.advance(1)
    assert node() is not None and collector.given_back == 0
    server.cpu += 0.05  # a twentieth
    await clock.advance(1)
    assert node() is None and collector.given_back == 1
    del kept


async def test_an_idle_server_gives_back_only_what_has_grown(
    collector: Collector, server: Server, clock: ManualClock
) -> None:
    server.idle = True
    node = dropped_cycle()
    await clock.advance(5)
    assert node() is not None  # a full pass every idle second would be waste
    assert collector.given_back == 0


async def test_a_busy_server_gives_a_fivefold_heap_back_once_in_ten_minutes(
    collector: Collector, clock: ManualClock
) -> None:
    # Each give-back walks the whole heap (0.1-0.5 s on a loaded server): while it is busy,
    # at most once every busy_every (600 s) seconds, however fast the heap grows.
    node = dropped_cycle()
    kept = survivors(5 * collector.frozen)
    await clock.advance(5)
    assert node() is not None and collector.given_back == 0  # grown fivefold, but too soon
    await clock.advance(600)
    assert node() is None and collector.given_back == 1
    again = dropped_cycle()
    more = survivors(5 * collector.frozen)
    await clock.advance(60)
    assert again() is not None and collector.given_back == 1
    del more
    del kept


async def test_close_gives_the_collector_back_and_is_safe_twice(
    server: Server, clock: ManualClock
) -> None:
    saved = gc.get_threshold()
    collector = Collector(lambda: server.idle, clock, young=1_000)
    callbacks = len(gc.callbacks)
    collector.start()
    collector.start()
    assert len(gc.callbacks) == callbacks + 1
    collector.close()
    collector.close()
    assert (gc.get_threshold(), len(gc.callbacks), gc.get_freeze_count()) == (saved, callbacks, 0)
    kept: list[int] = []
    gc.collect(0)
    assert in_generations(kept)  # young passes freeze nothing any more
    assert clock.pending == 0


async def test_start_turns_on_the_collector_the_start_up_ran_without(
    server: Server, clock: ManualClock
) -> None:
    collector = Collector(lambda: server.idle, clock, young=1_000)
    gc.disable()  # as ``mockgraph serve`` starts (cli.main)
    try:
        collector.start()
        assert gc.isenabled()
    finally:
        collector.close()
        gc.enable()

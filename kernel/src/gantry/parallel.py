"""Work spread over processes, results in order, memory flat: what ingest and de-identification share.

    context = process_context()
    for result in ordered_map(work, chunks, workers=2, context=context, initializer=setup):
        ...

Under the "fork" start method (Linux) a worker inherits the parent's memory as it is at the
pool's start: a caller can hand its workers a ready kernel by setting a module global before
calling, which :func:`process_context` lets it check. Elsewhere the initializer builds what each
worker needs.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing.context import BaseContext
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def process_context() -> BaseContext:
    """fork where the platform has it (workers inherit the parent's loaded plugins for free),
    spawn elsewhere."""
    return multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")


def ordered_map(function: Callable[[T], R], items: Iterable[T], *, workers: int, context: BaseContext,
                initializer: Callable[..., Any] | None = None, initargs: tuple[Any, ...] = (),
                window: int = 8) -> Iterator[R]:
    """``function(item)`` for every item, computed in ``workers`` processes, yielded in order.

    At most ``workers * window`` items are in flight: enough to keep the workers busy while the
    caller handles a result (writes a batch ...), little enough that memory does not grow with
    the number of items.
    """
    queue = iter(items)
    with ProcessPoolExecutor(workers, mp_context=context, initializer=initializer,
                             initargs=initargs) as pool:
        in_flight: list[Future[R]] = []
        for item in queue:
            in_flight.append(pool.submit(function, item))
            if len(in_flight) >= workers * window:
                break
        while in_flight:
            result = in_flight.pop(0).result()
            following = next(queue, _END)
            if following is not _END:
                in_flight.append(pool.submit(function, following))
            yield result


_END: Any = object()

"""A small bounded pool for a refresh's requests: a few threads, results in the order of the work, early stop.

``run_in_order(items, work, workers=..., on_done=..., should_stop=...)`` runs ``work(item)`` for every item on at
most ``workers`` threads and returns one outcome per item, in the items' order (a result, or the exception
``work`` raised), so whatever is built from them does not depend on which request answered first.
``on_done(index, item, outcome)`` is called on the calling thread as each finishes (progress, counting
failures); returning True stops the run, as does ``should_stop()`` turning true (a cancel). A stopped run
starts nothing more: items not started get ``NOT_RUN``; ``on_stop()`` is then called (the caller makes the
work still running end quickly, e.g. by cancelling its session), and that work is waited for.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

POLL_S = 0.1
"""How often a cancel is looked at while every thread is busy."""


class _NotRun:
    def __repr__(self) -> str:
        return "NOT_RUN"


NOT_RUN = _NotRun()
"""The outcome of an item the run stopped before starting."""


def run_in_order(items: Sequence[T], work: Callable[[T], R], *, workers: int,
                 on_done: Callable[[int, T, object], bool | None] | None = None,
                 should_stop: Callable[[], bool] | None = None,
                 on_stop: Callable[[], None] | None = None) -> list[object]:
    """One outcome per item in ``items``' order: ``work``'s result, the exception it raised, or ``NOT_RUN``."""
    outcomes: list[object] = [NOT_RUN] * len(items)
    if not items:
        return outcomes
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(items))),
                            thread_name_prefix="rigcheck-refresh") as pool:
        futures: dict[Future, int] = {pool.submit(work, item): index for index, item in enumerate(items)}
        pending = set(futures)
        try:
            while pending:
                finished, pending = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
                stop = False
                for future in sorted(finished, key=futures.__getitem__):
                    index = futures[future]
                    if future.cancelled():
                        continue
                    error = future.exception()
                    outcomes[index] = error if error is not None else future.result()
                    if on_done is not None and on_done(index, items[index], outcomes[index]):
                        stop = True
                if stop or (should_stop is not None and should_stop()):
                    break
        finally:
            for future in pending:
                future.cancel()
            if pending and on_stop is not None:
                on_stop()  # before the pool waits for the work still running: it is to end now
    # What was still running when the run stopped has ended by now (the pool waits for it); keep its outcome.
    for future, index in futures.items():
        if outcomes[index] is NOT_RUN and future.done() and not future.cancelled():
            error = future.exception()
            outcomes[index] = error if error is not None else future.result()
    return outcomes

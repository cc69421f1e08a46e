"""How many worker processes a build may use: one per core this process may run on."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def worker_count() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores)


def can_fork() -> bool:
    """Workers inherit the loaded archive by forking; without fork, the build runs in one process."""
    return "fork" in multiprocessing.get_all_start_methods()


def fork_map(func: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """func over items in forked worker processes, results in order. Workers inherit the caller's
    state as it was at the fork, so big inputs (the loaded archive) are never pickled."""
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        yield from pool.map(func, items, chunksize=1)

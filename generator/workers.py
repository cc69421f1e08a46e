"""How many worker processes a build may use: one per core this process may run on."""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from types import TracebackType
from typing import Generic, TypeVar

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


class InChild(Generic[R]):
    """func() started at once in a forked child process, on a core the caller leaves idle, and its
    result (pickled through a pipe) when `result()` asks. Where there is no fork, the caller says
    no (`fork=False`: a build told to use one process), or the child fails, `result()` calls
    func() in this process instead. A context manager: leaving it reaps the child whether or not
    the result was asked for."""

    def __init__(self, func: Callable[[], R], fork: bool = True) -> None:
        self._func = func
        self._pid = 0
        self._read = -1
        if not (fork and can_fork()):
            return
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: no cleanup of the parent's (os._exit), nothing but the pipe
            code = 1
            try:
                os.close(read)
                data = memoryview(pickle.dumps(func(), pickle.HIGHEST_PROTOCOL))
                while data:
                    data = data[os.write(write, data):]
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        self._pid, self._read = pid, read

    def result(self) -> R:
        if self._read < 0:
            return self._func()
        chunks = []
        while chunk := os.read(self._read, 1 << 20):
            chunks.append(chunk)
        status = self._reap()
        if status != 0 or not chunks:  # it failed: do the work here
            return self._func()
        found: R = pickle.loads(b"".join(chunks))
        return found

    def _reap(self) -> int:
        os.close(self._read)
        self._read = -1
        _, status = os.waitpid(self._pid, 0)
        return os.waitstatus_to_exitcode(status)

    def __enter__(self) -> InChild[R]:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._read >= 0:  # never asked: closing the pipe ends a child still writing (EPIPE)
            self._reap()

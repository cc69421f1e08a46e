"""How many worker processes a build may use: one per core this process may run on."""

from __future__ import annotations

import multiprocessing
import os


def worker_count() -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores)


def can_fork() -> bool:
    """Workers inherit the loaded archive by forking; without fork, the build runs in one process."""
    return "fork" in multiprocessing.get_all_start_methods()

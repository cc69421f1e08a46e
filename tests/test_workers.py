"""InChild: work started in a forked child process, its result taken later (workers.py)."""

from __future__ import annotations

import os

import pytest

from generator.workers import InChild


def _reaped(pid: int) -> bool:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_the_work_runs_in_a_child_and_its_result_comes_back_whole() -> None:
    big = 3 * 1024 * 1024  # more than a pipe holds: the child writes while the parent reads
    with InChild(lambda: (os.getpid(), bytes(range(256)) * (big // 256))) as child:
        pid, data = child.result()
    assert pid != os.getpid()
    assert len(data) == big and data[:3] == b"\x00\x01\x02"
    assert _reaped(child._pid)


def test_a_child_that_fails_leaves_the_work_to_the_parent() -> None:
    parent = os.getpid()

    def work() -> str:
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return "done here"

    with InChild(work) as child:
        assert child.result() == "done here"
    assert _reaped(child._pid)


def test_a_result_never_asked_for_leaves_no_child_behind() -> None:
    big = 1024 * 1024  # the child blocks writing it: leaving must still end it
    with InChild(lambda: b"x" * big) as child:
        pid = child._pid
    assert pid and _reaped(pid)


@pytest.mark.parametrize("fork", ["not available", "declined"])
def test_without_fork_the_work_runs_when_asked(fork: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if fork == "not available":
        monkeypatch.setattr("generator.workers.can_fork", lambda: False)
    calls: list[int] = []

    def work() -> int:
        calls.append(os.getpid())
        return len(calls)

    with InChild(work, fork=fork != "declined") as child:
        assert calls == []
        assert child.result() == 1
    assert calls == [os.getpid()]

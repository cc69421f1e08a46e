"""Which of N parallel capture jobs takes which document. Kept apart from capture.py so the
command-line parser can check `--shard` without loading the capture stack (httpx and all)."""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import sha256

from .model import Declaration, DocKey

__all__ = ["in_shard", "parse_shard", "shard_of"]


def parse_shard(text: str) -> tuple[int, int]:
    """`I/N` (1 <= I <= N) as (I, N); ValueError otherwise."""
    index, sep, count = text.partition("/")
    if not (sep and index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count)):
        raise ValueError(f"not I/N with 1 <= I <= N: {text!r}")
    return int(index), int(count)


def shard_of(key: DocKey, count: int) -> int:
    """The shard (1..count) a document belongs to: a stable hash of its key, the same on every run
    and machine, so each document is captured by exactly one of `count` parallel jobs."""
    return int.from_bytes(sha256(str(key).encode()).digest()[:8], "big") % count + 1


def in_shard(declarations: Sequence[Declaration], shard: tuple[int, int]) -> list[Declaration]:
    index, count = shard
    return [d for d in declarations if shard_of(d.key, count) == index]

"""What every verb shares: its exit codes and how it talks to the person at the terminal."""

from __future__ import annotations

import sys

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """"1 problem", "2 problems": a count with its noun in the right number."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"

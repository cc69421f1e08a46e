"""What every verb shares: its exit codes and how it talks to the person at the terminal."""

from __future__ import annotations

import sys

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)

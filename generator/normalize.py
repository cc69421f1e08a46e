"""Canonical text form of a version: the bytes that are hashed, signed and diffed."""

from __future__ import annotations


def canonical_markdown(text: str) -> str:
    """LF line ends, no trailing spaces, no leading/trailing blank lines, one final newline.

    Deterministic and idempotent, so the same content always hashes the same.
    """
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""

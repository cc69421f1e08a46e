"""Canonical text form of a version: the bytes that are hashed, signed and diffed."""

from __future__ import annotations

import re

# Code points that HTML and XML forbid in text: control characters other than tab and line ends,
# and noncharacters. A captured or imported text never brings one into our pages and feeds.
_NONCHARACTERS = "\ufdd0-\ufdef\ufffe\uffff" + "".join(
    chr(plane << 16 | 0xFFFE) + chr(plane << 16 | 0xFFFF) for plane in range(1, 17))
_FORBIDDEN = re.compile(f"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f{_NONCHARACTERS}]")
_AS_SPACE = str.maketrans({"\v": " ", "\f": " ", "\x85": " "})  # whitespace where they appear


def canonical_markdown(text: str) -> str:
    """LF line ends, no trailing spaces, no leading/trailing blank lines, one final newline, no
    control characters or noncharacters.

    Deterministic and idempotent, so the same content always hashes the same.
    """
    text = _FORBIDDEN.sub("", text.translate(_AS_SPACE))
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""

"""Markdown tables as captured pages sometimes write them: a delimiter row with more or fewer cells
than the header row, which no Markdown parser reads as a table. Pure; used by both renderers."""

from __future__ import annotations

import re

_DELIMITER_ROW = re.compile(r"\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*")
_CELL_BORDER = re.compile(r"(?<!\\)\|")


def _cell_count(row: str) -> int:
    inner = row.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") and not inner.endswith("\\|") else inner
    return len(_CELL_BORDER.split(inner))


def repaired_tables(block: str) -> str:
    """A table whose delimiter row has more or fewer cells than its header row (as captured pages
    sometimes give them) is no table to a Markdown parser, which shows it as lines of pipes: the
    delimiter row is rewritten to the header's count, so it renders as the table it is."""
    if "|" not in block or "---" not in block:
        return block
    lines = block.split("\n")
    for i in range(1, len(lines)):
        if "|" in lines[i - 1] and _DELIMITER_ROW.fullmatch(lines[i]):
            header = _cell_count(lines[i - 1])
            if header != _cell_count(lines[i]):
                lines[i] = "| " + " | ".join(["---"] * header) + " |"
    return "\n".join(lines)


def table_cells(block: str) -> int:
    """The cells a Markdown parser makes of the block's tables: each row gets as many as the header
    has, however few it writes (a header of 3,000 columns over 3,000 one-cell rows is nine
    million cells, from 25 KB of text)."""
    if "|" not in block or "---" not in block:
        return 0
    lines = block.split("\n")
    return sum(_cell_count(lines[i - 1]) * (len(lines) - i) for i in range(1, len(lines))
               if "|" in lines[i - 1] and _DELIMITER_ROW.fullmatch(lines[i]))

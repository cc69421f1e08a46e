"""HTML tables as a grid of cells, each span given its own positions, so that the Markdown table's
columns line up with the page's whatever colspan and rowspan say.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # htmlmd imports this module
    from generator.htmlmd import Element

MAX_SPAN = 50  # colspan/rowspan beyond this are hostile or broken markup


def int_attribute(value: str | None, default: int) -> int:
    try:
        return int((value or "").strip())
    except ValueError:
        return default


def _rows(table: Element) -> Iterator[Element]:
    for child in table:
        if child.tag == "tr":
            yield child
        elif child.tag in ("thead", "tbody", "tfoot"):
            yield from (row for row in child if row.tag == "tr")


def cells(table: Element) -> Iterator[Element]:
    for row in _rows(table):
        yield from (cell for cell in row if cell.tag in ("td", "th"))


def cell_grid(table: Element) -> list[list[Element | None]]:
    """Cells by row and column; a spanned position holds None, so columns stay aligned."""
    grid: list[list[Element | None]] = []
    pending: set[tuple[int, int]] = set()  # (row, column) taken by a rowspan from above
    for r, row in enumerate(_rows(table)):
        line: list[Element | None] = []
        for cell in (c for c in row if c.tag in ("td", "th")):
            while (r, len(line)) in pending:
                line.append(None)
            colspan = min(max(int_attribute(cell.get("colspan"), 1), 1), MAX_SPAN)
            rowspan = min(max(int_attribute(cell.get("rowspan"), 1), 1), MAX_SPAN)
            for offset in range(colspan):
                for below in range(1, rowspan):
                    pending.add((r + below, len(line) + offset))
            line += [cell] + [None] * (colspan - 1)
        while (r, len(line)) in pending:
            line.append(None)
        grid.append(line)
    return grid

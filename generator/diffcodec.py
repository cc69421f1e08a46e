"""A TextDiff as plain JSON and back, so the build cache can keep each change's diff: computed
once for its change size, it is read again when the changes page is rendered.

Most rows are paragraphs the new text keeps unchanged: they are stored as their paragraph
numbers, their text being read back from the new text (which the archive keeps anyway), so an
entry holds little more than what changed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from .diff import split_paragraphs
from .diffmodel import Block, Change, Context, Gap, Op, Row, RowKind, Segment, Summary, TextDiff


def _segments(segments: tuple[Segment, ...]) -> list[list[str]]:
    return [[s.op, s.text] for s in segments]


def _row(row: Row, new_paragraphs: Sequence[str]) -> list[Any]:
    if (row.kind == "equal" and len(row.old) == 1 and row.old == row.new == row.inline
            and row.old[0].op == "equal" and row.old_first == row.old_last and row.new_first == row.new_last
            and row.new_first is not None and row.old_first is not None
            and not (row.words_added or row.words_removed or row.moved)
            and new_paragraphs[row.new_first - 1] == row.old[0].text):
        return ["=", row.old_first, row.new_first]
    return [row.kind, _segments(row.old), _segments(row.new), _segments(row.inline), row.old_first,
            row.old_last, row.new_first, row.new_last, row.words_added, row.words_removed, row.moved]


def _block(block: Block, new_paragraphs: Sequence[str]) -> list[Any]:
    rows = [_row(r, new_paragraphs) for r in block.rows]
    if isinstance(block, Change):
        return ["change", rows, block.number, block.section]
    return [block.kind, rows]


def diff_to_json(diff: TextDiff, new_text: str) -> dict[str, Any]:
    """`new_text`: the text of the newer version, as given to diff_texts."""
    s = diff.summary
    new_paragraphs = split_paragraphs(new_text)
    return {"blocks": [_block(b, new_paragraphs) for b in diff.blocks], "identical": diff.identical,
            "summary": [s.words_old, s.words_new, s.words_added, s.words_removed, s.changes, s.moved,
                        s.words_moved]}


def _segments_from(rows: list[list[str]]) -> tuple[Segment, ...]:
    return tuple(Segment(cast(Op, op), text) for op, text in rows)


def _row_from(row: list[Any], new_paragraphs: Sequence[str]) -> Row:
    if row[0] == "=":
        _, old_number, new_number = row
        same = (Segment("equal", new_paragraphs[new_number - 1]),)
        return Row("equal", same, same, same, old_number, old_number, new_number, new_number)
    kind, old, new, inline, *numbers = row
    return Row(cast(RowKind, kind), _segments_from(old), _segments_from(new), _segments_from(inline),
               *numbers)


def _block_from(block: list[Any], new_paragraphs: Sequence[str]) -> Block:
    kind, rows = block[0], tuple(_row_from(r, new_paragraphs) for r in block[1])
    if kind == "change":
        return Change(int(block[2]), rows, block[3])
    return Context(rows) if kind == "context" else Gap(rows)


def diff_from_json(data: dict[str, Any], new_text: str) -> TextDiff:
    """The diff diff_to_json stored, given the same newer text."""
    new_paragraphs = split_paragraphs(new_text)
    return TextDiff(tuple(_block_from(b, new_paragraphs) for b in data["blocks"]), Summary(*data["summary"]),
                    bool(data["identical"]))

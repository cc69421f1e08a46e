"""Word alignment of a changed run: which tokens of the old and new text match. Kept apart from the
diff's rows and figures because its one concern is staying fast and stable on hostile input.

How: SequenceMatcher (autojunk off) on runs small enough to compare pair by pair; longer runs are first
cut at tokens found once on each side (patience diff), as SequenceMatcher alone can take minutes on a
rewritten 50,000-word text. Then a short unchanged stretch squeezed between two edits is folded into
them (diff-match-patch's semantic clean-up), so a rewritten sentence reads as one replacement.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import accumulate
from typing import TYPE_CHECKING

# diff.py aligns paragraphs with the same class, imported from here.
if TYPE_CHECKING:
    from difflib import SequenceMatcher as SequenceMatcher
else:  # the same class compiled with Cython: the same opcodes, faster (tests/test_diff.py)
    from cydifflib import SequenceMatcher

_Opcode = tuple[str, int, int, int, int]  # as SequenceMatcher.get_opcodes()

BREAK = "\n\n"  # the token between two paragraphs of a changed run
# Above this many token pairs (len(old) x len(new)), a changed run is first cut at anchors.
DIRECT_LIMIT = 250_000
MAX_DEPTH = 40


def token_opcodes(a: Sequence[str], b: Sequence[str]) -> list[_Opcode]:
    """Like SequenceMatcher(None, a, b).get_opcodes(): equal and changed runs alternate."""
    raw: list[_Opcode] = []
    _align(a, b, 0, len(a), 0, len(b), raw, 0)
    out: list[_Opcode] = []
    for op in raw:
        if op[1] == op[2] and op[3] == op[4]:
            continue
        if out and (out[-1][0] == "equal") == (op[0] == "equal"):
            last = out[-1]
            out[-1] = (last[0] if op[0] == "equal" else "replace", last[1], op[2], last[3], op[4])
        else:
            out.append(op)
    return out


def _align(a: Sequence[str], b: Sequence[str], alo: int, ahi: int, blo: int, bhi: int,
           out: list[_Opcode], depth: int) -> None:
    start = alo
    while alo < ahi and blo < bhi and a[alo] == b[blo]:
        alo, blo = alo + 1, blo + 1
    out.append(("equal", start, alo, blo - (alo - start), blo))
    end = ahi
    while ahi > alo and bhi > blo and a[ahi - 1] == b[bhi - 1]:
        ahi, bhi = ahi - 1, bhi - 1
    if alo == ahi or blo == bhi or (ahi - alo) * (bhi - blo) <= DIRECT_LIMIT:
        matcher = SequenceMatcher(None, a[alo:ahi], b[blo:bhi], autojunk=False)
        out.extend((tag, alo + i1, alo + i2, blo + j1, blo + j2)
                   for tag, i1, i2, j1, j2 in matcher.get_opcodes())
    else:
        i, j = alo, blo
        # Past MAX_DEPTH (only hostile text gets there), no more cutting: a plain replacement.
        for ai, bj in _anchors(a, b, alo, ahi, blo, bhi) if depth < MAX_DEPTH else ():
            _align(a, b, i, ai, j, bj, out, depth + 1)
            out.append(("equal", ai, ai + 1, bj, bj + 1))
            i, j = ai + 1, bj + 1
        if i == alo:  # no anchor at all: the texts have nothing worth aligning word by word
            out.append(("replace", alo, ahi, blo, bhi))
        else:
            _align(a, b, i, ahi, j, bhi, out, depth + 1)
    out.append(("equal", ahi, end, bhi, bhi + (end - ahi)))


def _anchors(a: Sequence[str], b: Sequence[str], alo: int, ahi: int, blo: int,
             bhi: int) -> list[tuple[int, int]]:
    """The longest in-order chain of tokens found once in a[alo:ahi] and once in b[blo:bhi] (patience
    diff); when there are none (repetitive text), of tokens found as often on both sides, the k-th
    occurrence in a paired with the k-th in b."""
    in_a: dict[str, list[int]] = {}
    for i in range(alo, ahi):
        in_a.setdefault(a[i], []).append(i)
    in_b: dict[str, list[int]] = {}
    for j in range(blo, bhi):
        if b[j] in in_a:
            in_b.setdefault(b[j], []).append(j)
    pairs = sorted((in_a[key][0], js[0]) for key, js in in_b.items() if len(js) == len(in_a[key]) == 1)
    if not pairs:
        pairs = sorted(pair for key, js in in_b.items() if len(js) == len(in_a[key])
                       for pair in zip(in_a[key], js, strict=True))
    tails: list[int] = []  # patience sorting: tails[k] ends the best chain of length k + 1
    back = [-1] * len(pairs)
    for index, (_, j) in enumerate(pairs):
        lo, hi = 0, len(tails)
        while lo < hi:
            mid = (lo + hi) // 2
            lo, hi = (mid + 1, hi) if pairs[tails[mid]][1] < j else (lo, mid)
        back[index] = tails[lo - 1] if lo else -1
        tails[lo:lo + 1] = [index]
    chain: list[tuple[int, int]] = []
    index = tails[-1] if tails else -1
    while index >= 0:
        chain.append(pairs[index])
        index = back[index]
    return chain[::-1]


def fold_short_equalities(ops: Sequence[_Opcode], old_keys: Sequence[str],
                           new_keys: Sequence[str]) -> list[_Opcode]:
    """Fold an unchanged stretch of at most 3 tokens between two edits into them when it holds no
    paragraph break and is no longer than the edits on either side."""

    old_ends = list(accumulate(map(len, old_keys), initial=0))  # old_ends[i]: characters before token i
    new_ends = list(accumulate(map(len, new_keys), initial=0))

    def weight(op: _Opcode) -> int:  # characters on the larger side, from prefix sums: O(1)
        return max(old_ends[op[2]] - old_ends[op[1]], new_ends[op[4]] - new_ends[op[3]])

    out: list[_Opcode] = []
    for op in ops:
        out.append(op)
        while len(out) >= 3 and out[-1][0] != "equal" and out[-2][0] == "equal" and out[-3][0] != "equal":
            before, middle, after = out[-3:]
            if middle[2] - middle[1] > 3 or BREAK in old_keys[middle[1]:middle[2]] \
                    or old_ends[middle[2]] - old_ends[middle[1]] > min(weight(before), weight(after)):
                break
            out[-3:] = [("replace", before[1], after[2], before[3], after[4])]
    return out

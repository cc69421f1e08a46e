"""What a version did to a document's flags: the findings it added and removed, and those it only
reworded. Pure.

A finding is known across versions by its rule, its clause id (a hash of the clause's words) and
its severity. A clause reworded keeps its rule and severity but gets another id: counted as one
flag removed and one added, it reads as the service dropping a provision and adding another
("ChatGPT: 5 transfer clauses no longer flagged, 5 newly flagged"), where it kept the provision
in other words. So a removed and an added finding of the same rule and severity whose quotes
mostly share their words are a rewording: still flagged, and shown so.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Sequence
from difflib import SequenceMatcher
from typing import NamedTuple

from .model import Finding, FindingKey

# Share of the words two quotes have in common, in order (difflib's ratio), from which a removed and
# an added finding of one rule and severity are one provision reworded. Over the committed archive,
# of the 345 flags a version removed, 185 had such a partner among the flags it added ("Personal
# Information" → "Personal Data", a section number, "shall" → "will"); at 0.60 the first pair of two
# different provisions appears (Claude's "if we fail to comply with these Terms" and "we and our
# Providers are not responsible"). Below stand a few rewordings too deep to tell, left as removed
# and added. Of the pairs of different clauses one rule flags within a version, 1.6% reach 0.6,
# most of them one sentence repeated.
REWORDED_FROM = 0.62
_WORD = re.compile(r"\w+")


class FindingChanges(NamedTuple):
    added: list[Finding]
    removed: list[Finding]
    reworded: list[tuple[Finding, Finding]]  # (before, after): the same provision in other words

    def of_category(self, category: str) -> FindingChanges:
        """The changes to one category's flags. A rewording pairs findings of one rule, so of one
        category: comparing only that category's findings would pair them the same."""
        return FindingChanges([f for f in self.added if f.category == category],
                              [f for f in self.removed if f.category == category],
                              [pair for pair in self.reworded if pair[1].category == category])


@functools.lru_cache(maxsize=65536)  # a build compares each version's findings with the next's
def _words(quote: str, items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(_WORD.findall(" ".join((quote, *items)).lower()))


@functools.lru_cache(maxsize=65536)
def _bag(words: tuple[str, ...]) -> Counter[str]:
    return Counter(words)


def _rewording(gone: Finding, candidates: list[Finding]) -> int | None:
    """Index of the candidate most like `gone`, if any reaches REWORDED_FROM (of equal ones, the
    first). Cheap bounds first: most pairs share too few words for difflib to be asked."""
    words = _words(gone.quote, gone.items)
    bag = _bag(words)
    matcher: SequenceMatcher[str] | None = None
    best, found = REWORDED_FROM, None
    for i, candidate in enumerate(candidates):
        other = _words(candidate.quote, candidate.items)
        total = len(words) + len(other)
        if not total or 2 * min(len(words), len(other)) < best * total:
            continue
        if 2 * sum((bag & _bag(other)).values()) < best * total:  # difflib's quick_ratio
            continue
        if matcher is None:
            matcher = SequenceMatcher(None, autojunk=False)
            matcher.set_seq2(words)  # indexed once for all candidates
        matcher.set_seq1(other)
        score = matcher.ratio()
        if score > best or (score == best and found is None):
            best, found = score, i
    return found


def compare_findings(before: Sequence[Finding] | None, after: Sequence[Finding]) -> FindingChanges:
    """Findings added, removed and reworded from `before` to `after`, one per (rule, clause,
    severity). `before` is None for a first version: everything it has is added."""
    def index(findings: Sequence[Finding]) -> dict[FindingKey, Finding]:
        out: dict[FindingKey, Finding] = {}
        for f in findings:
            out.setdefault(f.key, f)
        return out

    old, new = index(before or ()), index(after)
    added = [f for k, f in new.items() if k not in old]
    removed = [f for k, f in old.items() if k not in new]
    if before is None or not added or not removed:
        return FindingChanges(added, removed, [])
    reworded: list[tuple[Finding, Finding]] = []
    candidates: dict[tuple[str, str], list[Finding]] = {}
    for f in added:
        candidates.setdefault((f.rule_id, f.severity), []).append(f)
    for gone in removed:
        same = candidates.get((gone.rule_id, gone.severity))
        if same and (at := _rewording(gone, same)) is not None:
            reworded.append((gone, same.pop(at)))
    kept = {id(f) for pair in reworded for f in pair}
    return FindingChanges([f for f in added if id(f) not in kept], [f for f in removed if id(f) not in kept],
                          reworded)

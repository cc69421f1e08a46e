"""Each rule's own examples, read the ways other companies write the same sentence (rewrites.py,
and a clause number in front): a rule must flag or pass a rewritten example as it does the example.
`rules test` reports what pytest checks, so a contributor sees it before CI does."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from .analyze import matching_rules
from .model import Rule
from .rewrites import REWRITES

CLAUSE_NUMBERS = ("4.2", "12.", "(b)", "iii)", "Section 7.1", "§ 3")  # terms number their clauses


@dataclass(frozen=True)
class Flip:
    rule: Rule
    how: str  # a REWRITES key, or "numbered <n>"
    sentence: str
    rewritten: str


def _readings(sentence: str) -> Iterator[tuple[str, str]]:
    for how, rewrite in sorted(REWRITES.items()):
        yield how, rewrite(sentence)
    for number in CLAUSE_NUMBERS:
        yield f"numbered {number}", f"{number} {sentence}"


def rewritten_examples(rules: Sequence[Rule]) -> Iterator[tuple[Rule, str, str, str]]:
    """(rule, how, example, rewritten) for every example a rewrite changes."""
    for rule in rules:
        for sentence in (*rule.examples_match, *rule.examples_no_match):
            for how, rewritten in _readings(sentence):
                if rewritten != sentence:
                    yield rule, how, sentence, rewritten


def flips(rules: Sequence[Rule]) -> list[Flip]:
    """Every rewritten example its rule reads otherwise than the example."""
    found = []
    flagged: dict[tuple[str, str], bool] = {}
    for rule, how, sentence, rewritten in rewritten_examples(rules):
        key = (rule.id, sentence)
        if key not in flagged:
            flagged[key] = bool(matching_rules([rule], sentence))
        if bool(matching_rules([rule], rewritten)) != flagged[key]:
            found.append(Flip(rule, how, sentence, rewritten))
    return found

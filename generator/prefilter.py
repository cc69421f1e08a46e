"""Literal gates for rule regexes: words a regex cannot match without, checked with `in`.

Most clauses match no rule, and a substring test costs a fraction of a regex search, so a pattern
whose regex needs (say) "arbitra" is skipped outright for a clause without that string. A gate is
derived from the compiled regex's syntax tree and is sound by construction: every match of the
regex contains at least one of the gate's strings. Where soundness would take guessing
(lookarounds, back-references, non-ASCII case folding) the regex gets no gate and is always run.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import Pattern, Rule

# The regex parser behind `re` (public as sre_parse before 3.11, private since; any failure to
# use it means no gate, never a wrong one).
import re._parser as _sre  # type: ignore[import-not-found,import-untyped,unused-ignore]

Gate = frozenset[str]
CASED = "\0"  # marks the strings of case-sensitive regexes among the hits
MIN_GATE_LENGTH = 3  # shorter strings are in nearly every clause: not worth checking


def _quality(gate: Gate) -> tuple[int, int]:
    return (min(map(len, gate)), -len(gate))


def _best(candidates: list[Gate]) -> Gate | None:
    return max(candidates, key=_quality) if candidates else None


def _sequence_gate(items: Any, fold: bool) -> Gate | None:
    """A gate for a run of items matched one after another: the best of its literal runs and of
    its required parts (any one of them is required, so any one is a sound gate)."""
    candidates: list[Gate] = []
    run: list[str] = []

    def close_run() -> None:
        if run:
            candidates.append(frozenset({"".join(run)}))
            run.clear()

    for op, value in items:
        name = str(op)
        if name == "LITERAL" and value < 128:
            run.append(chr(value).lower() if fold else chr(value))
            continue
        close_run()
        gate = _item_gate(name, value, fold)
        if gate is not None:
            candidates.append(gate)
    close_run()
    return _best(candidates)


def _item_gate(name: str, value: Any, fold: bool) -> Gate | None:
    if name == "SUBPATTERN":
        _group, add_flags, del_flags, body = value
        if (add_flags | del_flags) & re.IGNORECASE:
            return None  # a scoped case flag: not worth modelling
        return _sequence_gate(body, fold)
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        low, _high, body = value
        return _sequence_gate(body, fold) if low >= 1 else None
    if name == "BRANCH":
        _, alternatives = value
        gates = [_sequence_gate(alternative, fold) for alternative in alternatives]
        if any(g is None for g in gates):
            return None  # one way through needs no literal
        return frozenset().union(*(g for g in gates if g is not None))
    if name == "ATOMIC_GROUP":
        return _sequence_gate(value, fold)
    return None  # classes, anchors, lookarounds, references: no literal required


@functools.cache
def gate(regex: re.Pattern[str]) -> Gate | None:
    """Strings of which every match of `regex` contains one (lower-cased for IGNORECASE regexes,
    to be tested against lower-cased ASCII text); None when no useful gate can be proven."""
    if regex.flags & re.VERBOSE or not isinstance(regex.pattern, str):
        return None
    try:
        tree = _sre.parse(regex.pattern, regex.flags)
    except Exception:  # an unfamiliar construct: no gate, never a wrong one
        return None
    found = _sequence_gate(list(tree), bool(regex.flags & re.IGNORECASE))
    if found is None or min(map(len, found)) < MIN_GATE_LENGTH:
        return None
    return found


class RuleGates:
    """The gates of a ruleset's patterns, arranged so a clause is tested against each distinct
    string once and a pattern is tried only when its every gate passes."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        strings: set[str] = set()
        # Per rule, per pattern: one set per gated regex. Strings of case-sensitive regexes are
        # prefixed with NUL (never in a clause) so both kinds share one set of hits.
        self._plans: list[tuple[Rule, list[tuple[Pattern, tuple[Gate, ...]]]]] = []
        for rule in self.rules:
            plan = []
            for pattern in rule.patterns:
                gates = []
                for regex in pattern.all:
                    needed = gate(regex)
                    if needed is not None:
                        if not regex.flags & re.IGNORECASE:
                            needed = frozenset(CASED + s for s in needed)
                        strings.update(needed)
                        gates.append(needed)
                plan.append((pattern, tuple(gates)))
            self._plans.append((rule, plan))
        self._folded = tuple(sorted(s for s in strings if not s.startswith(CASED)))
        self._cased = tuple(sorted(s[1:] for s in strings if s.startswith(CASED)))

    def plausible(self, text: str) -> list[tuple[Rule, list[Pattern]]]:
        """Each rule with the patterns that may match `text` (a superset of those that do)."""
        if not text.isascii():  # folding beyond ASCII: leave it to the regexes
            return [(rule, list(rule.patterns)) for rule in self.rules]
        lowered = text.lower()
        hits = {s for s in self._folded if s in lowered}
        hits.update(CASED + s for s in self._cased if s in text)
        found = []
        for rule, plan in self._plans:
            patterns = [pattern for pattern, gates in plan if all(not g.isdisjoint(hits) for g in gates)]
            if patterns:
                found.append((rule, patterns))
        return found

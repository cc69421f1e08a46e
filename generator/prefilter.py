"""Literal gates for rule regexes: strings a regex cannot match without, found in one scan.

Most clauses match no rule, and a substring test costs a fraction of a regex search, so a pattern
whose regex needs (say) "arbitra" is skipped outright for a clause without that string. A gate is
derived from the compiled regex's syntax tree and is sound by construction: every match of the
regex contains at least one of the gate's strings. A regex may have several gates (one for each
part its matches need), and is tried only on a clause that passes them all. Where soundness would
take guessing (lookarounds, back-references, non-ASCII literals) the regex gets no gate and is
always run. Gate strings are ASCII, and under re.IGNORECASE an ASCII letter matches only its own
two cases and four other characters (FOLDING_TO_ASCII): a clause holding one of those is tried
against every rule, any other clause (ASCII or not) only against the rules its gates let through.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .lazyregex import LazyRegex
    from .model import Pattern, Rule

# The regex parser behind `re` (public as sre_parse before 3.11, private since; any failure to
# use it means no gate, never a wrong one).
import re._parser as _sre  # type: ignore[import-not-found,import-untyped,unused-ignore]

Gate = frozenset[str]
CASED = "\0"  # marks the strings of case-sensitive regexes among the hits
# The only characters beyond ASCII that re.IGNORECASE matches with an ASCII letter (İ ı ſ and the
# Kelvin sign, found by trying every code point: tests/test_prefilter.py): "riſk" matches (?i)risk
# but holds no "risk". Before, any non-ASCII character (a word joiner, an "ü") sent a clause through
# every regex, compiling each in a build that adds a version (bench/new_version_analysis.py).
FOLDING_TO_ASCII = re.compile("[\u0130\u0131\u017f\u212a]")
MIN_GATE_LENGTH = 3  # shorter strings are in nearly every clause: not worth checking


# Words in nearly every clause: a gate that needs one of them passes nearly every clause (shorter
# words are below MIN_GATE_LENGTH anyway).
_COMMON = frozenset(["the", "and", "for", "from", "with", "are", "you", "your", "our", "its", "this", "that",
                     "these", "any", "all", "not", "may", "can", "will", "might", "could", "shall", "would",
                     "should", "must", "off", "use", "has", "have"])


def _quality(gate: Gate) -> tuple[bool, int, int]:
    return (not gate & _COMMON, min(map(len, gate)), -len(gate))


def _best(candidates: list[Gate]) -> Gate | None:
    usable = [g for g in candidates if min(map(len, g)) >= MIN_GATE_LENGTH] or candidates
    return max(usable, key=_quality) if usable else None


def _parts(items: Any, fold: bool, within: bool) -> list[Gate]:
    """A gate for each part of a run of items that every match passes through: its literal runs
    and its required items; `within`: a required group gives a gate for each of its own parts,
    else one gate (the best of them)."""
    found: list[Gate] = []
    run: list[str] = []

    def close_run() -> None:
        if run:
            found.append(frozenset({"".join(run)}))
            run.clear()

    for op, value in items:
        name = str(op)
        if name == "LITERAL" and value < 128:
            run.append(chr(value).lower() if fold else chr(value))
            continue
        close_run()
        body = _required_body(name, value, fold) if within else None
        if body is not None:
            found += _parts(body, fold, within)
        elif (gate := _item_gate(name, value, fold)) is not None:
            found.append(gate)
    close_run()
    return found


def _sequence_gate(items: Any, fold: bool) -> Gate | None:
    """A gate for a run of items matched one after another: the best of its literal runs and of
    its required parts (any one of them is required, so any one is a sound gate)."""
    return _best(_parts(items, fold, within=False))


def _case_sound(add_flags: int, del_flags: int, fold: bool) -> bool:
    """Whether a group's own case flags leave its literals sound as gates: none, or a case-sensitive
    group inside a case-insensitive regex ("(?-i:Beacons)"): a clause holding "Beacons" holds
    "beacons" once lower-cased, as its folded gates are looked for. Not the other way round: a
    case-sensitive regex's gates are looked for in the clause as it is."""
    return not (add_flags | del_flags) & re.IGNORECASE or (fold and not add_flags & re.IGNORECASE)


def _required_body(name: str, value: Any, fold: bool) -> Any:
    """The items inside a group that every match of it passes through once at least (a group
    whose case flags keep gates sound, a repeat of one or more, an atomic group); else None."""
    if name == "SUBPATTERN" and _case_sound(value[1], value[2], fold):
        return value[3]
    if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and value[0] >= 1:
        return value[2]
    return value if name == "ATOMIC_GROUP" else None


def _item_gate(name: str, value: Any, fold: bool) -> Gate | None:
    if name == "SUBPATTERN":
        _group, add_flags, del_flags, body = value
        if not _case_sound(add_flags, del_flags, fold):
            return None  # "(?i:...)" in a case-sensitive regex: its gates would be looked for as cased
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


KnownGates = Mapping[str, tuple[Gate, ...]]  # LazyRegex.key → marked_gates of that regex


def marked_gates(regex: LazyRegex) -> tuple[Gate, ...]:
    """The regex's gates (every match passes each), their strings marked with CASED when the regex
    is case-sensitive; none when no gate can be proven."""
    found = gates(regex)
    # Strings of case-sensitive regexes are kept apart (prefixed with NUL, never in a clause):
    # they are looked for in the text as it is, not lower-cased.
    if found and not regex.flags & re.IGNORECASE:
        found = tuple(frozenset(CASED + s for s in g) for g in found)
    return found


def derive_gates(regexes: Iterable[LazyRegex]) -> dict[str, tuple[Gate, ...]]:
    return {regex.key: marked_gates(regex) for regex in regexes}


def stored_gates(gates: KnownGates) -> dict[str, list[list[str]]]:
    """As JSON keeps them (for the build cache)."""
    return {key: [sorted(g) for g in found] for key, found in gates.items()}


def gates_from_stored(data: Any) -> KnownGates | None:
    """Back from stored_gates; None when `data` is not what it makes (an earlier build's format)."""
    if not isinstance(data, dict):
        return None
    def valid(value: Any) -> bool:
        return isinstance(value, list) and all(
            isinstance(g, list) and g and all(isinstance(s, str) for s in g) for g in value)

    if not all(map(valid, data.values())):
        return None
    return {str(key): tuple(frozenset(g) for g in found) for key, found in data.items()}


@functools.cache
def gate(regex: LazyRegex) -> Gate | None:
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


@functools.cache
def gates(regex: LazyRegex) -> tuple[Gate, ...]:
    """The gate of `regex` first, then every other gate its matches must also pass that is worth a
    check (no string shorter than MIN_GATE_LENGTH, none of the words in nearly every clause): a
    pattern is tried only when a clause passes them all. Of the clauses that hold "terminat", few
    also hold "account", which "may ... terminate ... account" needs too. Empty: no gate."""
    first = gate(regex)
    if first is None:
        return ()
    tree = _sre.parse(regex.pattern, regex.flags)  # it parsed for gate()
    more = [g for g in _parts(list(tree), bool(regex.flags & re.IGNORECASE), within=True)
            if g != first and min(map(len, g)) >= MIN_GATE_LENGTH and not g & _COMMON]
    return (first, *dict.fromkeys(more))


def _trie_pattern(strings: Sequence[str]) -> str:
    """A regex matching any of `strings`, nested by shared prefixes so the regex engine follows one
    branch per character instead of trying every string in turn; it prefers the longest string."""
    trie: dict[str, Any] = {}
    for string in strings:
        node = trie
        for char in string:
            node = node.setdefault(char, {})
        node[""] = {}

    def branch(node: dict[str, Any]) -> str:
        arms = [re.escape(char) + branch(child) for char, child in sorted(node.items()) if char]
        if not arms:
            return ""
        body = arms[0] if len(arms) == 1 else "(?:" + "|".join(arms) + ")"
        return f"(?:{body})?" if "" in node else body

    return branch(trie)


class _Scanner:
    """Finds which of a set of strings occur in a text, each string one bit of an int. One regex
    pass (a lookahead at every position, so overlapping strings are all seen) finds the longest
    string starting at each position; the shorter ones starting there are its prefixes."""

    # Compiling the pass costs what testing each string in turn costs over about a thousand
    # clauses (50 ms): a build that meets only a new version's few new wordings tests them in turn.
    DIRECT_SCANS = 1000

    def __init__(self, strings: Sequence[str], bits: dict[str, int]) -> None:
        self._strings = tuple(strings)
        self._bits = bits
        self._scans = 0

    @functools.cached_property
    def _pass(self) -> tuple[re.Pattern[str], dict[str, int]]:
        found = set(self._strings)
        masks = {s: sum(self._bits[s[:n]] for n in range(1, len(s) + 1) if s[:n] in found) for s in found}
        return re.compile(f"(?=({_trie_pattern(self._strings)}))"), masks

    def hits(self, text: str) -> int:
        if not self._strings:
            return 0
        self._scans += 1
        if self._scans <= self.DIRECT_SCANS:
            bits = self._bits
            return sum(bits[s] for s in self._strings if s in text)
        regex, masks = self._pass
        hits = 0
        for match in regex.finditer(text):
            hits |= masks[match.group(1)]
        return hits


class RuleGates:
    """The gates of a ruleset's patterns, arranged so a clause is scanned once for every gate
    string and a pattern is tried only when its every gate passes. `known`: the marked gates of
    the rules' regexes, when an earlier build derived them (deriving parses every regex)."""

    def __init__(self, rules: Sequence[Rule], known: KnownGates | None = None) -> None:
        self.rules = tuple(rules)
        gated: list[list[tuple[Pattern, list[Gate]]]] = []
        strings: set[str] = set()
        for rule in self.rules:
            plan = []
            for pattern in rule.patterns:
                needs: list[Gate] = []
                for regex in pattern.all:
                    needed = known[regex.key] if known is not None and regex.key in known \
                        else marked_gates(regex)
                    strings.update(*needed)
                    needs += needed
                plan.append((pattern, needs))
            gated.append(plan)
        bits = {s: 1 << n for n, s in enumerate(sorted(strings))}
        folded = sorted(s for s in strings if not s.startswith(CASED))
        cased = sorted(s for s in strings if s.startswith(CASED))
        self._folded = _Scanner(folded, bits)
        self._cased = _Scanner([s[1:] for s in cased], {s[1:]: bits[s] for s in cased})
        # Each gated pattern is filed under the bits of its narrowest gate, so that a clause meets
        # only the patterns that one of its gate strings may let through (a dozen strings and eight
        # patterns for a typical clause) instead of every rule's plan: that walk cost twice the scan.
        self._ungated: list[tuple[int, int]] = []  # (rule index, pattern index): always tried
        self._filed: dict[int, list[tuple[int, int, tuple[int, ...]]]] = {}  # bit → patterns, their gates
        for r, plan in enumerate(gated):
            for p, (_pattern, gates) in enumerate(plan):
                if not gates:
                    self._ungated.append((r, p))
                    continue
                masks = tuple(sum(bits[s] for s in g) for g in gates)
                for s in min(gates, key=len):
                    self._filed.setdefault(bits[s].bit_length() - 1, []).append((r, p, masks))

    def plausible(self, text: str) -> list[tuple[Rule, list[Pattern]]]:
        """Each rule with the patterns that may match `text` (a superset of those that do), in the
        ruleset's order."""
        if not text.isascii() and FOLDING_TO_ASCII.search(text):  # gates could miss: try every rule
            return [(rule, list(rule.patterns)) for rule in self.rules]
        hits = self._folded.hits(text.lower()) | self._cased.hits(text)
        passing = set(self._ungated)
        filed, rest = self._filed, hits
        while rest:
            low = rest & -rest
            for r, p, masks in filed.get(low.bit_length() - 1, ()):
                if all(m & hits for m in masks):
                    passing.add((r, p))
            rest ^= low
        found: dict[int, list[Pattern]] = {}
        for r, p in sorted(passing):
            found.setdefault(r, []).append(self.rules[r].patterns[p])
        return [(self.rules[r], patterns) for r, patterns in found.items()]

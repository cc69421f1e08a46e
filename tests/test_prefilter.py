"""Literal gates must be sound: a regex never matches a text that lacks all of its gate's strings."""

from __future__ import annotations

import functools
import random
import re
from pathlib import Path

import orjson
import pytest

from generator.analyze import matching_rules
from generator.archive import load_archive
from generator.clauses import split_clauses
from generator.content import load_content
from generator.model import Rule
from generator.prefilter import (
    CASED,
    FOLDING_TO_ASCII,
    RuleGates,
    _Scanner,
    derive_gates,
    gate,
    gates,
    gates_from_stored,
    stored_gates,
)
from generator.rules import load_ruleset, rule_regexes
from generator.wording import prepare

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("pattern", "expected"), [
    (r"\bbinding\s+arbitration\b", {"arbitration"}),
    (r"\b(disputes?|claims?)\b", {"dispute", "claim"}),
    (r"\bagree\w*\s+to\s+(resolve\s+(\w+\s+){0,12})?arbitrat\w*", {"arbitrat"}),
    (r"(terminat|suspend)\w*\s+(your\s+)?account", {"account"}),
    (r"(?:delete|remove)(?:d|s)?", {"delete", "remove"}),
    (r"(arbitration)?\s+court", {"court"}),  # an optional part requires nothing
    (r"Acme", {"acme"}),  # folded: compared with the lower-cased clause
    (r"\b(will|shall)\b.*\b(kick|ban)\b", {"kick", "ban"}),  # words in nearly every clause are a poor gate
    # a case-sensitive group in a case-insensitive regex: its literal, lower-cased, is still needed
    (r"\b(web\s+beacons?|(?-i:Beacons)|pixel\s+tags?)", {"beacon", "beacons", "pixel"}),
])
def test_gate_finds_required_strings(pattern: str, expected: set[str]) -> None:
    assert gate(re.compile(pattern, re.IGNORECASE)) == frozenset(expected)


@pytest.mark.parametrize("pattern", [
    r"\b\w+\b",  # nothing literal
    r"arbitration|\w+",  # one way through needs no literal
    r"(?=arbitration)\w+",  # lookahead: not modelled
    r"ab\s+cd",  # too short to be worth a check
    r"(?i:arbitration)",  # a scoped case flag
    r"(?i:arbitration)|Court",  # case-insensitive in a case-sensitive regex (below): no cased gate
])
def test_no_gate_when_none_can_be_proven(pattern: str) -> None:
    assert gate(re.compile(pattern, re.IGNORECASE)) is None
    assert gate(re.compile(pattern)) is None


@pytest.mark.parametrize(("pattern", "expected"), [
    # a pattern is tried only where every required part has one of its strings
    (r"\b(may|can)\b[^.]{0,40}\bterminat\w*\s+(your\s+)?(account|access)",
     ({"terminat"}, {"acc"}, {"ount", "ess"})),  # (the parser takes out the common prefix)
    (r"\bbinding\s+arbitration\b", ({"arbitration"}, {"binding"})),
    (r"(?:waive|give up)\s+(?:any\s+)?right\s+to\s+(?:a\s+)?(jury|class)",
     ({"right"}, {"waive", "give up"}, {"jury", "class"})),  # the first is the gate, as gate() picks it
    (r"\b(you|we)\b.*\barbitrat", ({"arbitrat"},)),  # words in nearly every clause: no check
    (r"(binding\s+)?arbitration(\s+agreement)*", ({"arbitration"},)),  # optional parts: none
    (r"arbitration|\w+", ()),
])
def test_gates_are_every_required_part_worth_a_check(pattern: str, expected: tuple[set[str], ...]) -> None:
    assert gates(re.compile(pattern, re.IGNORECASE)) == tuple(map(frozenset, expected))


def test_case_sensitive_regex_keeps_its_case() -> None:
    assert gate(re.compile(r"\bGDPR\b")) == frozenset({"GDPR"})


_PIECES = ["arbitration", "court", "may", "terminate", "account", r"\w+", r"\s+", r"\b", "(s)?", "s?", r"\w*",
           "(your|our)", "(delete|remove)", "[a-z]+", ".", "(?:the\\s+)?", "(x|y|zed)", "(court )?",
           "(?-i:Court)", "(?i:account)", "(?-i:(ZED|terminate))"]
_WORDS = ["arbitration", "court", "may", "terminate", "account", "your", "our", "delete", "remove", "the",
          "Arbitration", "COURT", "zed", "x", "y", "s", "ACCOUNT", "deleted", "terminates"]


def test_gates_are_sound_on_random_regexes_and_texts() -> None:
    rng = random.Random(20261129)
    checked = conjoined = 0
    for _ in range(1000):
        # pieces run together or apart (so that a regex may need several words, each a gate)
        glue = rng.choice(["", r"\s+", r" (\S+ )?"])
        source = glue.join(rng.choice(_PIECES) for _ in range(rng.randint(1, 6)))
        if rng.random() < 0.3:
            source = f"({source})|({''.join(rng.choice(_PIECES) for _ in range(rng.randint(1, 4)))})"
        flags = re.IGNORECASE if rng.random() < 0.8 else 0
        regex = re.compile(source, flags)
        needed = gate(regex)
        every = gates(regex)
        assert every[:1] == ((needed,) if needed else ())
        if needed is None:
            continue
        for _ in range(60):
            text = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 10)))
            haystack = text.lower() if flags else text
            if regex.search(text):
                checked += 1
                conjoined += len(every) > 1
                assert all(any(s in haystack for s in g) for g in every), (source, text, every)
    assert checked > 4000 and conjoined > 20  # the property was exercised, not skipped


def test_scanner_finds_exactly_the_strings_a_substring_test_finds() -> None:
    # Prefixes of one another, overlapping and nested strings: every one present must be seen.
    strings = sorted({"arb", "arbitra", "arbitration", "bit", "ratio", "ration", "on", "tion", "court", "our",
                      "co", "x+y", "a.b"})
    bits = {s: 1 << n for n, s in enumerate(strings)}
    scanner = _Scanner(strings, bits)
    rng = random.Random(20261130)
    alphabet = ["arbitration", "arb", "court", "our", "ratio", "x+y", "a.b", "axb", " ", "c", "o", "n", "t"]
    for _ in range(2 * _Scanner.DIRECT_SCANS):  # tested in turn first, then in the compiled pass
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        expected = sum(bits[s] for s in strings if s in text)
        assert scanner.hits(text) == expected, text
    assert _Scanner([], {}).hits("anything") == 0


@functools.cache
def _archive_wordings() -> tuple[str, ...]:
    """Every distinct clause wording of the committed archive and every rule example (read once
    per test process, for all parts of the test below)."""
    texts = [s for rule in _rules() for s in (*rule.examples_match, *rule.examples_no_match)]
    for doc in load_archive(ROOT / "archive").documents:
        for version in doc.versions:
            texts += [c.text for c in split_clauses(version.read_text()) if c.kind != "heading"]
    texts += ["Acme may terminate your account – at any time, for any reason – without notice.",
              "Ärger: Acme kann dein Konto jederzeit kündigen (gated though not ASCII).",
              "We may terminate your account at any time\u2060, for any reason, without notice.",
              "We may ſuspend or terminate your account at any time, for any reaſon."]
    return tuple(dict.fromkeys(texts))


@functools.cache
def _rules() -> tuple[Rule, ...]:
    content = load_content(ROOT / "content")
    return load_ruleset(ROOT / "content", {d.slug for d in content.document_types}).rules


EQUIVALENCE_PARTS = 4  # each wording is matched three ways: parts that test workers can share out


@pytest.mark.parametrize("part", range(EQUIVALENCE_PARTS))
def test_gated_matching_equals_plain_matching_on_the_archive(part: int) -> None:
    rules = _rules()
    gates = RuleGates(rules)
    # As a later build takes them from the build cache: derived by the first, kept as JSON.
    kept = gates_from_stored(orjson.loads(orjson.dumps(stored_gates(derive_gates(rule_regexes(rules))))))
    assert kept is not None
    kept_gates = RuleGates(rules, kept)
    texts = _archive_wordings()[part::EQUIVALENCE_PARTS]
    found = 0
    for text in texts:
        gated = matching_rules(gates, text)
        assert gated == matching_rules(rules, text) == matching_rules(kept_gates, text), text
        found += bool(gated)
    assert len(texts) > 2000 and found > 50


def _lets_through(needed: frozenset[str], text: str) -> bool:
    """One of a regex's marked gates, tested as its definition says: some string in the text
    (lower-cased, unless the string is marked case-sensitive)."""
    return any(s[1:] in text if s.startswith(CASED) else s in text.lower() for s in needed)


def test_plausible_lists_exactly_the_patterns_whose_every_gate_passes() -> None:
    content = load_content(ROOT / "content")
    rules = load_ruleset(ROOT / "content", {d.slug for d in content.document_types}).rules
    known = derive_gates(rule_regexes(rules))
    gates = RuleGates(rules, known)
    rng = random.Random(20261201)
    words = sorted({w for rule in rules for s in rule.examples_match for w in s.split()})
    texts = [prepare(s) for rule in rules for s in (*rule.examples_match, *rule.examples_no_match)]
    texts += [" ".join(rng.choice(words) for _ in range(rng.randint(1, 40))) for _ in range(1500)]
    several = 0
    for text in texts:
        passing = [(rule, [p for p in rule.patterns
                           if all(_lets_through(g, text) for r in p.all for g in known[r.key])])
                   for rule in rules]
        expected = [(rule, patterns) for rule, patterns in passing if patterns]
        assert gates.plausible(text) == expected, text
        several += len(expected) > 1
    assert several > 500  # texts that open more than one rule's gates were among them


def test_the_characters_folding_to_ascii_are_exactly_those_ignorecase_matches_with_ascii() -> None:
    ascii_letter = re.compile("[\x00-\x7f]", re.IGNORECASE)
    beyond = "".join(map(chr, range(0x80, 0x110000)))
    assert [c for c in beyond if ascii_letter.fullmatch(c)] == FOLDING_TO_ASCII.findall(beyond)


def test_non_ascii_text_is_gated_unless_it_holds_a_character_folding_to_ascii() -> None:
    content = load_content(ROOT / "content")
    rules = load_ruleset(ROOT / "content", {d.slug for d in content.document_types}).rules
    gates = RuleGates(rules)
    assert len(gates.plausible(prepare("Übersicht über die Änderungen"))) < len(rules) / 4
    assert [rule for rule, _ in gates.plausible(prepare("Überſicht"))] == list(rules)
    # A case-insensitive regex matches through the folding character; its gate would not have.
    text = prepare("We reserve the right to ſuspend or terminate your account at any time, for any reaſon.")
    assert matching_rules(gates, text) == matching_rules(rules, text) != []


def test_gates_are_sound_on_random_non_ascii_texts() -> None:
    rng = random.Random(20261201)
    pieces = [*_PIECES, "suspend", "kick", "(if|it)"]
    words = [*_WORDS, "suspend", "kick", "if", "naïve", "ACCOUNT\u2060", "Straße",
             "ſuspend", "\u212aick", "İf"]
    checked = missed_through_folding = 0
    for _ in range(1000):
        source = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 6)))
        regex = re.compile(source, re.IGNORECASE)
        needed = gate(regex)
        if needed is None:
            continue
        for _ in range(30):
            text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 10)))
            if not regex.search(text):
                continue
            if FOLDING_TO_ASCII.search(text):  # every rule is tried on such a text, gates or not
                missed_through_folding += not any(s in text.lower() for s in needed)
            else:
                checked += 1
                assert any(s in text.lower() for s in needed), (source, text, needed)
    assert checked > 500
    assert missed_through_folding > 0  # why those characters are excepted: gates alone would miss


@pytest.mark.parametrize("stored", [
    {"k": ["arbitra"]},  # an earlier build's format: one gate per regex
    {"k": None},
    {"k": [[]]},  # a gate no string passes would skip the regex on every clause
    {"k": [["ok"], [3]]},
    ["k"],
])
def test_gates_kept_in_another_shape_are_derived_again(stored: object) -> None:
    assert gates_from_stored(stored) is None
    assert gates_from_stored({"k": [["arbitra"], ["court", "judge"]], "j": []}) == {
        "k": (frozenset({"arbitra"}), frozenset({"court", "judge"})), "j": ()}

"""Rules × clauses → findings. Pure: the same text and rules always give the same findings."""

from __future__ import annotations

import bisect
import functools
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .clauses import Clause, split_clauses
from .lazyregex import LazyRegex
from .model import Finding, Pattern, Rule
from .prefilter import KnownGates, RuleGates
from .timelimit import TimeLimitExceeded, time_limit
from .wording import prepare

_WORD = re.compile(r"\w+")
# Clause kinds that name a section or a column, not a term.
UNANALYSED = frozenset({"heading", "table-header", "contents-entry"})
# A section or list for businesses only ("For business users and organisations only", "If you're a
# business user or organisation:"): the archive's readers are consumers, whom none of it binds.
_BUSINESS = r"(an?\s+)?(business|enterprise|organi[sz]ation|company)(\s+(users?|customers?|accounts?))?"
_BUSINESS_ONLY = re.compile(
    r"^\W*(for\s+|applies\s+to\s+)?(business|enterprise|commercial|corporate|organi[sz]ation(al)?)\s+"
    r"(users?|customers?|accounts?|clients?)\b[^.]*\bonly\W*$"
    # the lead-in names businesses and nothing else ("If you are an organisation or an individual:" no)
    rf"|^\W*(if|where|when)\s+you(\s+are|’re|'re)\s+{_BUSINESS}(\s+or\s+{_BUSINESS})?\W*:\s*$",
    re.IGNORECASE)


# A paragraph or list item that is a section's title set as bold text or a numbered item ("7.
# INTERNATIONAL TRANSFERS OF PERSONAL INFORMATION", "Selling and/or Sharing of Personal Information:"):
# a few words, every long one capitalised, no sentence's end. It names a subject, it says nothing.
_TITLE_WORDS = 10
_PROSE = frozenset({"sentence", "list-item"})
_LONG_WORD = re.compile(r"[^\W\d_]{4,}")
_SENTENCE_END = re.compile(r"[.!?;,]\W*$")


def reads_as_title(text: str) -> bool:
    words = _WORD.findall(text)
    return (0 < len(words) <= _TITLE_WORDS and not _SENTENCE_END.search(text)
            and all(word[0].isupper() for word in _LONG_WORD.findall(text)))


def is_analysed(clause: Clause, listed: Sequence[str]) -> bool:
    """Whether the rules read a clause: not a heading, a table's labels or a contents entry, nothing
    for businesses only, and no section title set as text (a list's lead-in is no title, and a
    table's row of short labels says what it says). `listed`: the items of the list it introduces."""
    return not (clause.kind in UNANALYSED or _BUSINESS_ONLY.search(clause.heading)
                or (clause.lead_in and _BUSINESS_ONLY.search(clause.lead_in))
                or (clause.kind in _PROSE and not listed and reads_as_title(clause.text)))


def _spans(regex: LazyRegex, text: str, word_starts: list[int]) -> list[tuple[int, int]]:
    """Each match as (first word, last word) indexes; word_starts are the offsets of the text's words."""
    spans = []
    for m in regex.finditer(text):
        first = bisect.bisect_left(word_starts, m.start())  # words starting before the match
        spans.append((first, max(first, bisect.bisect_left(word_starts, m.end()) - 1)))
    return spans


def _gap(a: tuple[int, int], b: tuple[int, int]) -> int:
    """Distance between the nearest words of two matches: 1 for adjacent words, 0 when they overlap."""
    return max(0, b[0] - a[1], a[0] - b[1])


@functools.lru_cache(maxsize=4)
def _word_starts(text: str) -> list[int]:
    return [m.start() for m in _WORD.finditer(text)]


def matching_digest(rule: Rule) -> str:
    """Names what decides the wordings a rule matches (its patterns, exceptions, and whether list
    items are read after their lead-in): its title, severity or examples can change without it."""
    parts = [[[r.key for r in p.all], p.within] for p in rule.patterns]
    text = json.dumps([parts, [u.key for u in rule.unless], rule.lead_in])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def pattern_matches(pattern: Pattern, text: str) -> bool:
    # Every regex must match somewhere before proximity is worth measuring (most clauses fail here).
    if not all(regex.search(text) for regex in pattern.all):
        return False
    if pattern.within is None:
        return True
    # Proximity: some match of the first regex has a match of every other one nearby. Distance is
    # taken between the nearest words of the two matches, so a long first match (a modal phrase with
    # a parenthetical) does not push the others away; for one-word matches it is the word distance.
    word_starts = _word_starts(text)
    spans = [_spans(regex, text, word_starts) for regex in pattern.all]
    if not all(spans):
        return False
    return any(all(any(_gap(anchor, s) <= pattern.within for s in others) for others in spans[1:])
               for anchor in spans[0])


def rule_matches(rule: Rule, text: str, patterns: Iterable[Pattern] | None = None) -> bool:
    """True when a pattern (of `patterns`, default all the rule's) matches and no exception cancels
    it (text already prepared)."""
    return any(pattern_matches(p, text) for p in (rule.patterns if patterns is None else patterns)) \
        and not any(u.search(text) for u in rule.unless)


def matching_rules(rules: Iterable[Rule] | RuleGates, text: str, lead_in: str = "") -> list[Rule]:
    """The rules that match a clause (a list item: also, for rules that ask for it, as read after
    its lead-in). Given RuleGates, only patterns that pass their literal gates are searched: most
    clauses fail there, at a fraction of the cost of a regex search."""
    found = _matching(rules, text)
    if lead_in:
        asking = [r for r in (rules.rules if isinstance(rules, RuleGates) else rules) if r.lead_in]
        found += [r for r in _matching(asking, after_lead_in(lead_in, text)) if r not in found]
    return found


def _matching(rules: Iterable[Rule] | RuleGates, text: str) -> list[Rule]:
    prepared = prepare(text)
    if isinstance(rules, RuleGates):
        return [rule for rule, patterns in rules.plausible(prepared)
                if rule_matches(rule, prepared, patterns)]
    return [rule for rule in rules if rule_matches(rule, prepared)]


def why_matched(rule: Rule, sentence: str) -> tuple[list[int], list[int]]:
    """Which of a rule's patterns match a sentence, and which of its exceptions ('unless') cancel
    them, by index: what a contributor needs to know of an example that misbehaves."""
    text = prepare(sentence)
    return ([i for i, p in enumerate(rule.patterns) if pattern_matches(p, text)],
            [k for k, u in enumerate(rule.unless) if u.search(text)])


def after_lead_in(lead_in: str, item: str) -> str:
    """A list item as read after the sentence that introduces its list: "We are not liable for:"
    and "(b) any loss of data" read "We are not liable for: (b) any loss of data". The colon stays,
    so a pattern that must not cross a colon (`[^.;:]`) cannot join words of the two."""
    return f"{lead_in.rstrip().rstrip(':').rstrip()}: {item}"


@dataclass(frozen=True)
class ExampleFailure:
    rule: Rule
    sentence: str
    expected: bool
    slow_regex: str = ""  # set when the rule's examples ran out of time: the key of the regex to blame
    graded: str = ""  # set for an example of `milder`: the severity it was given instead


EXAMPLES_TIME_LIMIT_S = 2.0  # a rule's examples take milliseconds; a regex that backtracks, forever


def _slow_regex(rule: Rule, sentences: Sequence[str]) -> str:
    """The key of the first of the rule's regexes that runs out of time on its examples."""
    regexes = [(f"patterns[{i}].all[{j}]", regex)
               for i, pattern in enumerate(rule.patterns) for j, regex in enumerate(pattern.all)]
    regexes += [(f"unless[{k}]", u) for k, u in enumerate(rule.unless)]
    if rule.milder:
        regexes += [(f"milder.{name}[{k}]", r) for name, listed in (("when", rule.milder.when),
                                                                    ("unless", rule.milder.unless))
                    for k, r in enumerate(listed)]
    for key, regex in regexes:
        try:
            with time_limit(EXAMPLES_TIME_LIMIT_S / 4):
                for sentence in sentences:
                    regex.search(prepare(sentence))
        except TimeLimitExceeded:
            return key
    return "patterns"


class SlowExamples(Exception):
    """A rule's regex ran out of time on its examples; `key` names it (patterns[i].all[j], unless[k])."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def untested_patterns(rule: Rule) -> list[int]:
    """Indexes of the rule's patterns that none of its 'match' examples matches: untested, or dead
    (a regex in double quotes, where YAML turned \\b into a backspace, can never match). Every
    pattern meets every example here, so a regex that backtracks raises SlowExamples even when the
    rule as a whole matched each example through another pattern first."""
    prepared = [prepare(s) for s in rule.examples_match]
    try:
        with time_limit(EXAMPLES_TIME_LIMIT_S):
            return [i for i, pattern in enumerate(rule.patterns)
                    if not any(pattern_matches(pattern, sentence) for sentence in prepared)]
    except TimeLimitExceeded:
        raise SlowExamples(_slow_regex(rule, rule.examples_match)) from None


def unexercised_exceptions(rule: Rule) -> list[int]:
    """Indexes of the rule's exceptions ('unless') that cancel no 'no_match' example a pattern
    matches: nothing shows they work, nor would show them stop working."""
    matched = [text for text in map(prepare, rule.examples_no_match)
               if any(pattern_matches(p, text) for p in rule.patterns)]
    return [k for k, u in enumerate(rule.unless) if not any(u.search(text) for text in matched)]


def check_examples(rules: Sequence[Rule]) -> list[ExampleFailure]:
    """Every rule's own examples: the 'match' ones must match, the 'no_match' ones must not. A rule
    whose examples take longer than EXAMPLES_TIME_LIMIT_S fails, naming the regex that backtracks
    (it would stall every build and capture the same way)."""
    failures = []
    for rule in rules:
        examples = [(True, s) for s in rule.examples_match] + [(False, s) for s in rule.examples_no_match]
        try:
            with time_limit(EXAMPLES_TIME_LIMIT_S):
                failures += [ExampleFailure(rule, s, expected) for expected, s in examples
                             if rule_matches(rule, prepare(s)) != expected]
                failures += _grade_failures(rule)
        except TimeLimitExceeded:
            sentences = [s for _, s in examples] + _milder_examples(rule)
            failures.append(ExampleFailure(rule, "", True, _slow_regex(rule, sentences)))
    return failures


def _milder_examples(rule: Rule) -> list[str]:
    return [*rule.milder.examples_milder, *rule.milder.examples_full] if rule.milder else []


def _grade_failures(rule: Rule) -> list[ExampleFailure]:
    """The examples of a rule's milder grade: each must match the rule and be graded as declared."""
    if rule.milder is None:
        return []
    failures = []
    for milder, sentences in ((True, rule.milder.examples_milder), (False, rule.milder.examples_full)):
        wanted = rule.milder.severity if milder else rule.severity
        for sentence in sentences:
            text = prepare(sentence)
            if not rule_matches(rule, text):
                failures.append(ExampleFailure(rule, sentence, milder, graded="unmatched"))
            elif (graded := rule.severity_of(text)) != wanted:
                failures.append(ExampleFailure(rule, sentence, milder, graded=graded))
    return failures


class _Matcher:
    """One set of rules with what each wording matched remembered; literal gates once enough new
    wordings have come to pay for building them."""

    # Building the literal gates costs what they save over about 80 clauses (40 ms against 0.6 ms
    # a clause unfiltered, 0.1 ms filtered): a build that meets only a new version's few new
    # wordings matches them directly.
    DIRECT_MATCHES = 64

    def __init__(self, rules: Sequence[Rule], known: KnownGates | None = None) -> None:
        self.rules = tuple(rules)
        self.matches: dict[str, tuple[Rule, ...]] = {}
        # Wordings whose matches an earlier build made with other versions of some rules: what the
        # rules unchanged since matched, and the rules still to try (see Analyzer.remember).
        self.partial: dict[str, tuple[tuple[Rule, ...], tuple[Rule, ...]]] = {}
        self._order = {r.id: i for i, r in enumerate(self.rules)}
        self._partial_gates: dict[tuple[str, ...], RuleGates] = {}
        self._known = known
        # Gates already derived cost only their scanner: used from the first wording on, they also
        # spare compiling the (lazily compiled) regexes that no new wording gets past the gates of.
        self._new_wordings = 0 if known is None else self.DIRECT_MATCHES

    @functools.cached_property
    def _gates(self) -> RuleGates:
        return RuleGates(self.rules, self._known)

    def take(self, matches: Mapping[str, Any], kept: set[str]) -> None:
        """Wordings' matches (rule ids) from an earlier run, of which only the rules in `kept` are
        still valid: the others are tried when the wording comes up."""
        by_id = {r.id: r for r in self.rules}
        fresh = tuple(r for r in self.rules if r.id not in kept)
        for text, ids in matches.items():
            if text in self.matches or not isinstance(ids, list):
                continue
            rules = tuple(by_id[i] for i in ids if i in kept and i in by_id)
            if fresh:
                self.partial.setdefault(text, (rules, fresh))
            else:
                self.matches[text] = rules

    def given(self, texts: Iterable[str]) -> dict[str, list[str]]:
        """What these wordings matched (rule ids)."""
        return {t: [r.id for r in self.matches[t]] for t in texts if t in self.matches}

    def _fresh_gates(self, fresh: tuple[Rule, ...]) -> RuleGates:
        """The gates of the rules edited since a memo was made (the same few for every memo)."""
        ids = tuple(r.id for r in fresh)
        gates = self._partial_gates.get(ids)
        if gates is None:
            gates = self._partial_gates[ids] = RuleGates(fresh, self._known)
        return gates

    def __call__(self, text: str) -> tuple[Rule, ...]:
        found = self.matches.get(text)
        if found is None and (half := self.partial.pop(text, None)) is not None:
            kept, fresh = half
            added = matching_rules(self._fresh_gates(fresh), text)
            found = self.matches[text] = tuple(sorted((*kept, *added), key=lambda r: self._order[r.id]))
        if found is None:
            self._new_wordings += 1
            rules = self.rules if self._new_wordings <= self.DIRECT_MATCHES else self._gates
            found = self.matches[text] = tuple(matching_rules(rules, text))
        return found


@dataclass
class Seen:
    """The wordings a document's analysis met: clauses and lead-ins, and list items as read after
    their lead-in (what the build cache remembers the matches of)."""
    wordings: set[str] = field(default_factory=set)
    after_lead_in: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.wordings or self.after_lead_in)


class Analyzer:
    """Applies one ruleset to many versions. Versions share most of their clauses, so what each
    clause wording matches is remembered: an archive costs about what its distinct clauses cost."""

    # Above this share of the rules changed since a memo was made, its wordings are matched again
    # from scratch, through the literal gates, rather than by the changed rules one by one.
    MOST_RULES_CHANGED = 0.5

    def __init__(self, rules: Sequence[Rule], gates: KnownGates | None = None) -> None:
        self.rules = tuple(rules)
        self.matching = _Matcher(self.rules, gates)
        # List items read after their lead-in, by the rules that ask for it (a few of them).
        self._after_lead_in = _Matcher([r for r in self.rules if r.lead_in], gates)
        self.digests = {r.id: matching_digest(r) for r in self.rules}

    def remember(self, memo: Mapping[str, Any]) -> None:
        """Take back what `remembered` gave an earlier run. A rule whose matching has not changed
        since (same patterns and exceptions: a new title or severity matches the same wordings)
        keeps its matches; only the rules edited or added since are tried on those wordings, so a
        rule edited in a pull request costs what that rule costs, not what the ruleset costs."""
        digests = memo.get("rules")
        if not isinstance(digests, dict):
            return
        kept = {i for i, d in digests.items() if self.digests.get(i) == d}
        if len(self.rules) - len(kept) > self.MOST_RULES_CHANGED * len(self.rules):
            return
        for matcher, part in ((self.matching, "matches"), (self._after_lead_in, "after_lead_in")):
            if isinstance(matches := memo.get(part), dict):
                matcher.take(matches, kept)

    def remembered(self, seen: Seen) -> dict[str, Any]:
        """What the wordings seen matched (rule ids), with the digest of each rule's matching, for
        the build cache."""
        return {"rules": self.digests, "matches": self.matching.given(seen.wordings),
                "after_lead_in": self._after_lead_in.given(seen.after_lead_in)}

    def analyze(self, doc_type: str, markdown: str, seen: Seen | None = None,
                clauses: Sequence[Clause] | None = None) -> list[Finding]:
        """Findings of every rule that applies to this document type, in text order; `seen`
        collects the wordings of the clauses analysed. `clauses`: the text's split_clauses, when
        the caller has them already."""
        findings = []
        clauses = split_clauses(markdown) if clauses is None else clauses
        items = list_items(markdown, clauses)
        lead = ""  # the clause before a list: its lead-in, or for a list written inline, its first item
        for clause in clauses:
            if clause.kind != "list-item":
                lead = clause.text
            listed = items.get(clause.id, ())
            if not is_analysed(clause, listed):
                continue
            rules = self.matching(clause.text)
            if seen is not None:
                seen.wordings.add(clause.text)
            by_lead_in: tuple[Rule, ...] = ()  # matched only as read after the list's lead-in
            if clause.lead_in:
                # A rule the lead-in matches on its own flags the lead-in, which quotes its items: the
                # list is that one provision ("We may suspend your account if:" and its reasons, "we
                # rely on transfer mechanisms such as:" and each), not one more per item. A list
                # written inline is quoted by the sentence that holds its first item.
                carried = self.matching(lead)
                rules = tuple(r for r in rules if r not in carried)
                if self._after_lead_in.rules:
                    as_read = after_lead_in(clause.lead_in, clause.text)
                    found = self._after_lead_in(as_read)
                    by_lead_in = tuple(r for r in found if r not in rules and r not in carried)
                    if seen is not None:
                        seen.after_lead_in.add(as_read)
                if seen is not None:
                    seen.wordings.add(lead)
            for rule in rules + by_lead_in:
                if rule.applies(doc_type):
                    severity = rule.severity if rule.milder is None else rule.severity_of(
                        _as_read(clause, listed, rule in by_lead_in))
                    findings.append(Finding(rule.id, severity, rule.category, clause.id, clause.text,
                                            clause.start, clause.end,
                                            clause.lead_in if rule in by_lead_in else "", listed))
        return findings


def _as_read(clause: Clause, items: Sequence[str], after_lead_in: bool) -> str:
    """A provision as the reader sees it, prepared for a rule's milder grade: the clause with the
    items of the list it introduces (and its lead-in, when it was read after it)."""
    parts = (clause.lead_in, clause.text, *items) if after_lead_in else (clause.text, *items)
    return prepare(" ".join(parts))


def list_items(markdown: str, clauses: Sequence[Clause]) -> dict[str, tuple[str, ...]]:
    """The items of each list that a sentence ending with ":" introduces, by that sentence's clause
    id, and of each list written inline, by the sentence holding its first item. The sentences of
    one item of a Markdown list (nothing but spaces between them) make one item."""
    found: dict[str, list[str]] = {}
    lead: Clause | None = None  # the clause before the list: its lead-in, if its items name one
    previous: Clause | None = None
    for clause in clauses:
        if clause.kind != "list-item":
            lead = clause
        elif clause.lead_in and lead is not None:  # split_clauses found its lead-in: that clause
            listed = found.setdefault(lead.id, [])
            inline = clause.lead_in != lead.text  # a list written inline: one sentence an item
            if (listed and previous is not None and not inline
                    and "\n" not in markdown[previous.end:clause.start]):
                listed[-1] += " " + clause.text
            else:
                listed.append(clause.text)
        previous = clause
    return {cid: tuple(texts) for cid, texts in found.items()}


def analyze_markdown(rules: Sequence[Rule], doc_type: str, markdown: str) -> list[Finding]:
    return Analyzer(rules).analyze(doc_type, markdown)

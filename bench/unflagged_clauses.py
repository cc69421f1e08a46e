"""Rule recall on the real archive: the clauses of each document's latest version that no rule flags.

    python bench/unflagged_clauses.py [--match REGEX] [--lost] [--readings [FILE]]
                                      [--archive DIR] [--content DIR]

Prints one line per unflagged sentence or list item of each latest version whose text matches
REGEX (case-insensitive; by default words that risky clauses use), as `service/doc-type: clause`.
Reading the list is how misses in real wording are found: a clause that says what a rule is about
but is not flagged is a rule to widen (with a rule example), or a reading to record as intended.

With --lost it prints instead, for each document, the rules that flagged its previous version but
not its latest, with a quote from the previous version: a rule that stops flagging a rewritten
policy either saw the practice dropped or missed its new wording.

With --readings it matches the blind readings of this list (bench/archive-recall-readings.tsv:
document, reading, reason, review, clause; a reading is `none`, `unsure` or the rules a reader named)
to today's latest versions and prints how many clauses a reader named a rule for are flagged by it,
why those left alone were left (the review column), and every clause read `none` that a rule flags
now: a new flag on a clause a reader saw nothing in is a likely false flag to read.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path

from generator.analyze import Analyzer, is_analysed, list_items
from generator.archive import load_archive
from generator.clauses import split_clauses
from generator.content import load_content
from generator.model import ArchivedDocument
from generator.rules import load_ruleset

ROOT = Path(__file__).resolve().parent.parent
READINGS = ROOT / "bench" / "archive-recall-readings.tsv"

# Words risky clauses use: a review list short enough to read, not a recall filter for the rules.
RISK_WORDS = (r"\b(arbitrat\w*|class\s+action|court|governed\s+by|laws?\s+of|liab\w*|indemnif\w*|"
              r"licen[cs]e|terminat\w*|suspend\w*|remove|modify|change|retain|keep|kept|delet\w*|"
              r"as\s+long\s+as|advertis\w*|sell|share|partners?|track\w*|pixels?|cookies?|train\w*|"
              r"models?|biometric|face|voice|child\w*|minors?|teen\w*|review\w*|transfer\w*|"
              r"countries|consent)\b")


def analysed_clauses(analyzer: Analyzer, document: ArchivedDocument) -> Iterator[tuple[str, set[str]]]:
    """Each clause of the latest version that the analysis reads, with the rules that flag it."""
    text = document.latest.read_text()
    rules: dict[str, set[str]] = {}
    for finding in analyzer.analyze(document.key.doc_type, text):
        rules.setdefault(finding.clause_id, set()).add(finding.rule_id)
    clauses = split_clauses(text)
    items = list_items(text, clauses)
    for clause in clauses:
        if is_analysed(clause, items.get(clause.id, ())):  # what the analysis reads, and only that
            yield clause.text, rules.get(clause.id, set())


def unflagged(analyzer: Analyzer, document: ArchivedDocument, match: re.Pattern[str]) -> Iterator[str]:
    """The sentences and list items of the document's latest version that match and no rule flags."""
    for text, rules in analysed_clauses(analyzer, document):
        if not rules and match.search(text):
            yield text


def lost_rules(analyzer: Analyzer, document: ArchivedDocument) -> dict[str, str]:
    """Rules that flag the previous version but not the latest, each with a quote it flagged."""
    if len(document.versions) < 2:
        return {}
    previous, latest = document.versions[-2], document.versions[-1]
    quotes: dict[str, str] = {}
    for finding in analyzer.analyze(document.key.doc_type, previous.read_text()):
        quotes.setdefault(finding.rule_id, finding.quote)
    still = {finding.rule_id for finding in analyzer.analyze(document.key.doc_type, latest.read_text())}
    return {rule_id: quote for rule_id, quote in sorted(quotes.items()) if rule_id not in still}


def _spaced(text: str) -> str:
    return " ".join(text.split())


def flags_by_clause(analyzer: Analyzer, document: ArchivedDocument) -> dict[str, set[str]]:
    """The analysed clauses of the latest version, by their text spaced once, with their rules."""
    return {_spaced(text): rules for text, rules in analysed_clauses(analyzer, document)}


def report_readings(readings: list[dict[str, str]], flags: dict[tuple[str, str], set[str]]) -> list[str]:
    """The summary lines, then one line per clause read `none` that a rule flags today."""
    kinds = Counter(r["reading"] if r["reading"] in ("none", "unsure") else "named" for r in readings)
    gone = 0
    named_flagged = 0
    left: Counter[str] = Counter()
    false_flags: list[str] = []
    for reading in readings:
        rules = flags.get((reading["document"], _spaced(reading["clause"])))
        if rules is None:
            gone += 1
        elif reading["reading"] == "none" and rules:
            false_flags.append(f"read none, flagged {','.join(sorted(rules))}  {reading['document']}  "
                               f"{_spaced(reading['clause'])}")
        elif reading["reading"] not in ("none", "unsure"):
            if set(reading["reading"].split(",")) & rules:
                named_flagged += 1
            else:
                left[reading["review"] or "not reviewed"] += 1
    reasons = ", ".join(f"{why} {n}" for why, n in left.most_common())
    return [f"{len(readings)} clauses read: {kinds['none']} none, {kinds['unsure']} unsure, "
            f"{kinds['named']} named a rule; {gone} no longer in a latest version",
            f"named a rule: {named_flagged} flagged by it today, {sum(left.values())} not ({reasons})",
            f"read none: {len(false_flags)} flagged today", *false_flags]


def read_readings(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--match", default=RISK_WORDS, help="regex a clause must contain to be listed")
    parser.add_argument("--lost", action="store_true",
                        help="list rules that flag a document's previous version but not its latest")
    parser.add_argument("--readings", type=Path, nargs="?", const=READINGS,
                        help=f"match blind readings of this list to today's flags (default {READINGS.name})")
    parser.add_argument("--archive", type=Path, default=ROOT / "archive")
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    args = parser.parse_args(argv)
    try:
        match = re.compile(args.match, re.IGNORECASE)
    except re.error as error:
        parser.error(f"--match is not a regular expression: {error}")
    content = load_content(args.content)
    analyzer = Analyzer(load_ruleset(args.content, {t.slug for t in content.document_types}).rules)
    if args.readings:
        documents = load_archive(args.archive).documents
        flags = {(str(document.key), text): rules for document in documents
                 for text, rules in flags_by_clause(analyzer, document).items()}
        print("\n".join(report_readings(read_readings(args.readings), flags)))
        return 0
    shown = 0
    for document in load_archive(args.archive).documents:
        if args.lost:
            for rule_id, quote in lost_rules(analyzer, document).items():
                print(f"{document.key}: {rule_id} no longer flags: {quote}")
                shown += 1
        else:
            for clause in unflagged(analyzer, document, match):
                print(f"{document.key}: {clause}")
                shown += 1
    print(f"{shown} {'lost rules' if args.lost else 'unflagged clauses'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

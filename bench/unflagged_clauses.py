"""Rule recall on the real archive: the clauses of each document's latest version that no rule flags.

    python bench/unflagged_clauses.py [--match REGEX] [--lost] [--archive DIR] [--content DIR]

Prints one line per unflagged sentence or list item of each latest version whose text matches
REGEX (case-insensitive; by default words that risky clauses use), as `service/doc-type: clause`.
Reading the list is how misses in real wording are found: a clause that says what a rule is about
but is not flagged is a rule to widen (with a rule example), or a reading to record as intended.

With --lost it prints instead, for each document, the rules that flagged its previous version but
not its latest, with a quote from the previous version: a rule that stops flagging a rewritten
policy either saw the practice dropped or missed its new wording.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from generator.analyze import Analyzer, is_analysed, list_items
from generator.archive import load_archive
from generator.clauses import split_clauses
from generator.content import load_content
from generator.model import ArchivedDocument
from generator.rules import load_ruleset

ROOT = Path(__file__).resolve().parent.parent

# Words risky clauses use: a review list short enough to read, not a recall filter for the rules.
RISK_WORDS = (r"\b(arbitrat\w*|class\s+action|court|governed\s+by|laws?\s+of|liab\w*|indemnif\w*|"
              r"licen[cs]e|terminat\w*|suspend\w*|remove|modify|change|retain|keep|kept|delet\w*|"
              r"as\s+long\s+as|advertis\w*|sell|share|partners?|track\w*|pixels?|cookies?|train\w*|"
              r"models?|biometric|face|voice|child\w*|minors?|teen\w*|review\w*|transfer\w*|"
              r"countries|consent)\b")


def unflagged(analyzer: Analyzer, document: ArchivedDocument, match: re.Pattern[str]) -> Iterator[str]:
    """The sentences and list items of the document's latest version that match and no rule flags."""
    text = document.latest.read_text()
    flagged = {finding.clause_id for finding in analyzer.analyze(document.key.doc_type, text)}
    clauses = split_clauses(text)
    items = list_items(text, clauses)
    for clause in clauses:
        read = is_analysed(clause, items.get(clause.id, ()))  # what the analysis reads, and only that
        if read and clause.id not in flagged and match.search(clause.text):
            yield clause.text


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--match", default=RISK_WORDS, help="regex a clause must contain to be listed")
    parser.add_argument("--lost", action="store_true",
                        help="list rules that flag a document's previous version but not its latest")
    parser.add_argument("--archive", type=Path, default=ROOT / "archive")
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    args = parser.parse_args(argv)
    try:
        match = re.compile(args.match, re.IGNORECASE)
    except re.error as error:
        parser.error(f"--match is not a regular expression: {error}")
    content = load_content(args.content)
    analyzer = Analyzer(load_ruleset(args.content, {t.slug for t in content.document_types}).rules)
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

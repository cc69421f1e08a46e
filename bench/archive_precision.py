"""Rule precision on the real archive: the archive's findings against readings of them by people.

    python bench/archive_precision.py [--list no|unsure|unread] [--readings TSV] [--archive DIR]
                                      [--content DIR]

Every distinct finding of every archived version (a rule and the clause it quotes) is looked up in
bench/archive-readings.tsv, where a reader who never saw the rules' patterns judged whether the
clause says what the rule's title and explanation describe: `yes`, `no` or `unsure`, with a reason
for the last two; some findings were read a second time, by another reader, to show how far two
readings agree. Prints how many of today's findings were read and what the readings say, so that
a rule change shows what it did to precision: a finding read `no` that is gone was a false flag
removed, a finding no one has read yet is new and waits for a reading. --list prints the findings
of one kind, as `reading  rule  document: quote  (reason)`.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from generator.analyze import Analyzer
from generator.archive import load_archive
from generator.content import load_content
from generator.rules import load_ruleset

ROOT = Path(__file__).resolve().parent.parent
READINGS = ROOT / "bench" / "archive-readings.tsv"
Key = tuple[str, str]  # (rule id, quote with its white space folded)


def fold(quote: str) -> str:
    return " ".join(quote.split())


def load_readings(path: Path) -> dict[Key, tuple[str, str, str, str]]:
    """(rule, quote) -> (reading, reason, document, second reading or "")."""
    readings: dict[Key, tuple[str, str, str, str]] = {}
    with path.open(newline="", encoding="utf-8") as f:
        for line, row in enumerate(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE), start=2):
            second = row.get("second_reading") or ""
            if row.get("reading") not in ("yes", "no", "unsure") or not row.get("quote") or (
                    second not in ("", "yes", "no", "unsure")):
                raise SystemExit(f"{path}:{line}: expected the columns rule, document, reading (yes, no or "
                                 "unsure), reason and quote, tab-separated")
            key = (row["rule"], fold(row["quote"]))
            readings[key] = (row["reading"], row["reason"] or "", row["document"], second)
    return readings


def archive_findings(content: Path, archive: Path) -> dict[Key, str]:
    """Each distinct (rule, quote) of every archived version, with a document that has it."""
    site = load_content(content)
    analyzer = Analyzer(load_ruleset(content, {t.slug for t in site.document_types}).rules)
    found: dict[Key, str] = {}
    for document in load_archive(archive).documents:
        for version in document.versions:
            for finding in analyzer.analyze(document.key.doc_type, version.read_text()):
                found.setdefault((finding.rule_id, fold(finding.quote)), str(document.key))
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", choices=("no", "unsure", "unread"))
    parser.add_argument("--readings", type=Path, default=READINGS)
    parser.add_argument("--archive", type=Path, default=ROOT / "archive")
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    args = parser.parse_args(argv)
    readings = load_readings(args.readings)
    found = archive_findings(args.content, args.archive)
    read = Counter(readings[key][0] for key in found if key in readings)
    unread = [key for key in found if key not in readings]
    gone = Counter(reading for key, (reading, *_) in readings.items() if key not in found)
    twice = Counter((readings[key][0], readings[key][3]) for key in found
                    if key in readings and readings[key][3])
    total = sum(read.values())
    print(f"{len(found)} distinct findings (rule and quote) in the archive; {total} of them read")
    if total:
        print(f"read yes {read['yes']} ({read['yes'] / total:.3f}), unsure {read['unsure']}, no {read['no']}")
    if twice:
        same = sum(n for (first, second), n in twice.items() if first == second)
        print(f"read twice: {sum(twice.values())}, the same reading {same}; "
              + ", ".join(f"{first} then {second} {twice[(first, second)]}"
                          for first in ("yes", "unsure", "no") for second in ("yes", "unsure", "no")))
    print(f"not yet read: {len(unread)}; read but no longer found: "
          + (", ".join(f"{n} {reading}" for reading, n in sorted(gone.items())) or "none"))
    if args.list == "unread":
        for rule, quote in sorted(unread):
            print(f"unread  {rule}  {found[(rule, quote)]}: {quote}")
    elif args.list:
        for key in sorted(found):
            reading, reason, *_ = readings.get(key, ("", "", "", ""))
            if reading == args.list:
                print(f"{reading}  {key[0]}  {found[key]}: {key[1]}  ({reason})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

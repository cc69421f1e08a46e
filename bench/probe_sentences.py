"""The ruleset on probe sentences: clauses written here, in the words other companies use.

CLAUDETTE's files and ToS;DR's quotes have been read while writing the rules, so they flatter
them. `bench/probe-sentences.tsv` holds sentences invented for this project (2026-12-04), none
taken from a policy or a dataset: the usual clauses of marketplaces, games, streaming, banks,
airlines, telecoms and AI services, reworded as their terms tend to put them (passive voice, plain
language, British and German legal phrasing), and fair clauses that must not be flagged. Each
line: the rule expected (or "none"), the document type it is read as, the sentence.

A sentence expecting a rule counts as found when that rule flags it (other findings are not
scored); a "none" sentence counts as clean when no rule flags it. Once misses have been fixed,
the same sentences flatter the rules too: compare a revision with `--root` (a checkout of it),
and write new sentences for the next measurement.

    python bench/probe_sentences.py [--root CHECKOUT] [--misses] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROBES = HERE / "probe-sentences.tsv"


def read_probes(path: Path) -> list[tuple[str, str, str]]:
    probes = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            parts = line.split("\t")
            if len(parts) != 3:
                raise SystemExit(f"{path}:{number}: expected 'rule<TAB>document type<TAB>sentence'")
            probes.append((parts[0], parts[1], parts[2]))
    return probes


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.3f}" if whole else "-"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=HERE.parent,
                        help="the checkout whose generator and content/ are measured (default: this one)")
    parser.add_argument("--probes", type=Path, default=PROBES, help="the probe sentences (TSV)")
    parser.add_argument("--misses", action="store_true", help="print each sentence read otherwise")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(args.root.resolve()))  # that checkout's generator, not this one's
    from generator.analyze import Analyzer
    from generator.content import load_content
    from generator.rules import load_ruleset

    content = load_content(args.root / "content")
    rules = load_ruleset(args.root / "content", {t.slug for t in content.document_types}).rules
    analyzer = Analyzer(rules)
    known = {r.id for r in rules}
    tally: dict[str, list[int]] = {}
    misses = []
    for expected, doc_type, sentence in read_probes(args.probes):
        found = {f.rule_id for f in analyzer.analyze(doc_type, sentence)}
        right = not found if expected == "none" else expected in found
        if expected != "none" and expected not in known:
            right = False  # a rule this revision does not have
        counts = tally.setdefault(expected, [0, 0])
        counts[0] += right
        counts[1] += 1
        if not right:
            misses.append((expected, doc_type, sentence, sorted(found)))
    positives = [v for k, v in tally.items() if k != "none"]
    found_n, expected_n = sum(v[0] for v in positives), sum(v[1] for v in positives)
    clean_n, none_n = tally.get("none", [0, 0])
    report = {"sentences": expected_n + none_n, "found": found_n, "expected": expected_n,
              "recall": round(found_n / expected_n, 4) if expected_n else None,
              "clean": clean_n, "fair": none_n, "clean_rate": round(clean_n / none_n, 4) if none_n else None,
              "rules": {k: {"right": v[0], "sentences": v[1]} for k, v in sorted(tally.items())}}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for rule, (hits, total) in sorted(tally.items()):
            print(f"{rule:34} {hits:3d} / {total}")
        print(f"found {found_n} / {expected_n} = {_share(found_n, expected_n)}; "
              f"fair sentences left unflagged {clean_n} / {none_n} = {_share(clean_n, none_n)}")
    if args.misses:
        for expected, doc_type, sentence, found_rules in misses:
            print(f"\nexpected {expected} ({doc_type}), flagged {found_rules or 'nothing'}:\n  {sentence}",
                  file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Rule-engine speed: split and analyse every version of the committed archive.

    python bench/analyze_archive.py [--runs 3]

Prints JSON: versions, clauses, findings, rules, and the median wall time of the runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from generator.analyze import Analyzer, analyze_markdown
from generator.archive import load_archive
from generator.clauses import split_clauses
from generator.content import load_content
from generator.rules import load_ruleset

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    content = load_content(ROOT / "content")
    rules = load_ruleset(ROOT / "content", {t.slug for t in content.document_types}).rules
    versions = [(d.key.doc_type, v.read_text()) for d in load_archive(ROOT / "archive").documents
                for v in d.versions]
    times, findings, clauses = [], 0, 0
    for _ in range(args.runs):
        started = time.perf_counter()
        analyzer = Analyzer(rules)  # a fresh cache each run: measures a cold whole-archive analysis
        findings = sum(len(analyzer.analyze(doc_type, text)) for doc_type, text in versions)
        times.append(time.perf_counter() - started)
    started = time.perf_counter()
    uncached = sum(len(analyze_markdown(rules, doc_type, text)) for doc_type, text in versions[:25])
    uncached_s = (time.perf_counter() - started) * len(versions) / 25
    assert uncached >= 0
    started = time.perf_counter()
    clauses = sum(len(split_clauses(text)) for _, text in versions)
    split_s = time.perf_counter() - started
    megabytes = sum(len(text.encode()) for _, text in versions) / 1e6
    print(json.dumps({
        "versions": len(versions), "megabytes": round(megabytes, 1), "clauses": clauses,
        "rules": len(rules), "findings": findings, "runs": args.runs,
        "median_analyze_s": round(statistics.median(times), 2),
        "split_only_s": round(split_s, 2),
        "estimated_without_clause_cache_s": round(uncached_s, 1),
        "versions_per_s": round(len(versions) / statistics.median(times), 1),
    }, indent=2))


if __name__ == "__main__":
    main()

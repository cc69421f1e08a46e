"""Rule-engine cost of one new version, as an incremental build meets it.

    python bench/new_version_analysis.py [--content DIR] [--archive DIR] [--documents N]

For each of the first N documents (English texts only), the latest version is analysed with what
a build that adds it has at hand: the wordings of the version before it remembered, and the rules'
literal gates known from an earlier build, their regexes compiled only when first searched.
Prints JSON: documents, the median and mean time per new version, the total, and how many of the
ruleset's regexes were compiled (median and largest). Defaults: the committed content/ and archive/.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from pathlib import Path

from generator.analyze import Analyzer, Seen
from generator.archive import load_archive
from generator.content import load_content
from generator.language import reads_as_english
from generator.prefilter import derive_gates
from generator.rules import load_ruleset, rule_regexes

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--content", type=Path, default=ROOT / "content")
    parser.add_argument("--archive", type=Path, default=ROOT / "archive")
    parser.add_argument("--documents", type=int, default=60)
    args = parser.parse_args()
    doc_types = {t.slug for t in load_content(args.content).document_types}
    compiled_rules = load_ruleset(args.content, doc_types).rules
    gates = derive_gates(rule_regexes(compiled_rules))
    times: list[float] = []
    compiled: list[int] = []
    for doc in [d for d in load_archive(args.archive).documents if len(d.versions) > 1][:args.documents]:
        previous, latest = doc.versions[-2].read_text(), doc.versions[-1].read_text()
        if not reads_as_english(latest):
            continue
        earlier, seen = Analyzer(compiled_rules, gates), Seen()
        earlier.analyze(doc.key.doc_type, previous, seen)
        rules = load_ruleset(args.content, doc_types, lazy=True).rules  # nothing compiled yet
        re.purge()  # nor kept by the re module's own cache
        analyzer = Analyzer(rules, gates)
        analyzer.remember(earlier.remembered(seen))
        started = time.perf_counter()
        analyzer.analyze(doc.key.doc_type, latest)
        times.append(time.perf_counter() - started)
        compiled.append(sum(1 for r in rule_regexes(rules) if r._compiled is not None))
    if not times:
        parser.error("no document with two versions and an English latest text")
    print(json.dumps({
        "documents": len(times), "regexes": len(rule_regexes(compiled_rules)),
        "median_ms": round(statistics.median(times) * 1000, 1),
        "mean_ms": round(statistics.mean(times) * 1000, 1),
        "total_s": round(sum(times), 2), "compiled_median": statistics.median(compiled),
        "compiled_max": max(compiled)}, indent=2))


if __name__ == "__main__":
    main()

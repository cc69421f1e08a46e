"""Recall of the ruleset on ToS;DR's example quotes: sentences of other services' policies.

CLAUDETTE's labelled files (`clausewatch rules eval`) cover eight terms-of-service categories.
ToS;DR's case list (../shared/clauses/tosdr-cases.jsonl, CC BY-SA, read here and never copied
into the project) quotes up to three services per case, from companies outside both CLAUDETTE
splits' held-out lists, and it covers privacy practices too. Each case below whose statement one
of our categories stands for is looked up by the start of its title; a quote counts as found when
the rules flag it, analysed as a terms of service and as a privacy policy, with that category.

Recall only: a quote of another case may rightly carry one of our categories, so this measures
no precision. Cases left out on purpose: warranty disclaimers ("as is", "no guarantee of
accuracy", "errors will be corrected"), which ToS;DR counts against a service and CLAUDETTE does
not label as limitation of liability (our rules follow CLAUDETTE: 0 of 71 "as is" sentences of
its development files carry the label); links to other sites and disputes between users (labelled
either way there); how friendly a jurisdiction is to privacy (not which law governs); disclosure
to third parties in general (our data-sharing category is about sale and advertising); a clause
list surviving termination. Some quotes are fragments or not in English: read the misses
(--misses) before drawing conclusions.

    python bench/tosdr_recall.py [--cases FILE] [--misses] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from generator.analyze import Analyzer
from generator.content import load_content
from generator.rules import load_ruleset

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT.parent / "shared" / "clauses" / "tosdr-cases.jsonl"
DOCUMENT_TYPES = ("terms-of-service", "privacy-policy")

# The start of a case's title → the categories that say the same (any one of them counts).
CATEGORIES: dict[str, tuple[str, ...]] = {
    "This service forces users into binding arbitration": ("arbitration",),
    "You waive your right to a class action": ("class-action-waiver",),
    "Terms may be changed any time at their discretion": ("unilateral-change",),
    "The service may change its terms at any time, but": ("unilateral-change",),
    "The service makes critical changes to its terms": ("unilateral-change",),
    "Users should revisit the terms periodically": ("unilateral-change",),
    "The service can delete your account without prior notice": ("unilateral-termination",),
    "The service can suspend your account for several reasons": ("unilateral-termination",),
    "They may stop providing the service at any time": ("unilateral-termination",),
    "The service can delete specific content without reason": ("content-removal",),
    "This service can delete your content if you violate": ("content-removal",),
    "If you are the target of a copyright claim, your content may be removed": ("content-removal",),
    "Service can block or censor user communications": ("content-removal",),
    "Any liability on behalf of the service is only limited": ("limitation-of-liability",),
    "This service assumes no liability for any losses": ("limitation-of-liability",),
    "This service assumes no liability for unauthorized access": ("limitation-of-liability",),
    "The court of law governing the terms is in location X": ("choice-of-law", "jurisdiction"),
    "You agree to defend, indemnify, and hold the service harmless": ("indemnification",),
    "You are solely responsible for claims made against the service": ("indemnification",),
    "This service can license user content to third parties": ("content-licence",),
    "The copyright license maintained by the service over user data": ("content-licence",),
    "This service keeps a license on user-generated content": ("content-licence",),
    "This service retains rights to your content even after": ("content-licence",),
    "The service can distribute your content through any media": ("content-licence",),
    "This service can use your content for all their existing and future": ("content-licence",),
    "Your biometric data is collected": ("biometric-data",),
    "Your data may be processed and stored anywhere": ("international-transfers",),
    "This service holds onto content that you've deleted": ("data-retention",),
    "This service may keep personal data after a request for erasure": ("data-retention",),
    "This service keeps user logs for an undefined period": ("data-retention",),
    "This service tracks you on other websites": ("tracking",),
    "The service uses social media cookies": ("tracking",),
    "Tracking via third-party cookies": ("tracking",),
    "This service uses third-party cookies for statistics": ("tracking",),
    "This service employs third-party cookies, but with opt-out": ("tracking",),
    "The service may use tracking pixels, web beacons, browser fingerprinting": ("tracking",),
    "The service uses your personal data to employ targeted third-party": ("data-sharing",),
    "The service uses your personal data for advertising": ("data-sharing",),
    "The service may sell your data unless you opt out": ("data-sharing",),
    "The service can read your private messages": ("human-review",),
    "Your private content may be accessed by people working": ("human-review",),
}


@dataclass(frozen=True)
class Quote:
    case: str
    categories: tuple[str, ...]
    text: str


def read_quotes(path: Path) -> list[Quote]:
    cases = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    quotes = []
    for start, categories in CATEGORIES.items():
        matching = [c for c in cases if c["case"].startswith(start)]
        if not matching:
            raise SystemExit(f"{path}: no case title starts with {start!r}")
        quotes += [Quote(c["case"], categories, example["quote"])
                   for c in matching for example in c["examples"]]
    return quotes


def flagged(analyzer: Analyzer, text: str) -> set[str]:
    return {f.category for doc_type in DOCUMENT_TYPES for f in analyzer.analyze(doc_type, text)}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=Path, default=CASES, help="ToS;DR case list (JSON Lines)")
    parser.add_argument("--content", type=Path, default=ROOT / "content", help="the rules' content folder")
    parser.add_argument("--misses", action="store_true", help="print each quote not found")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    content = load_content(args.content)
    analyzer = Analyzer(load_ruleset(args.content, {t.slug for t in content.document_types}).rules)
    per_category: dict[str, list[int]] = {}
    misses = []
    for quote in read_quotes(args.cases):
        found = bool(set(quote.categories) & flagged(analyzer, quote.text))
        tally = per_category.setdefault("|".join(quote.categories), [0, 0])
        tally[0] += found
        tally[1] += 1
        if not found:
            misses.append(quote)
    total = sum(t[1] for t in per_category.values())
    hits = sum(t[0] for t in per_category.values())
    report = {"quotes": total, "found": hits, "recall": round(hits / total, 4),
              "categories": {k: {"found": v[0], "quotes": v[1]} for k, v in sorted(per_category.items())}}
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for category, (found_here, quotes) in sorted(per_category.items()):
            print(f"{category:32} {found_here:3d} / {quotes}")
        print(f"recall {hits} / {total} = {hits / total:.3f}")
    if args.misses:
        for quote in misses:
            where = "|".join(quote.categories)
            print(f"\nmissed ({where}; case: {quote.case}):\n  {quote.text}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

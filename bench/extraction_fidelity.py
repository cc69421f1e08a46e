"""How close our extraction comes to Open Terms Archive's own, on the corpus's HTML/text pairs.

For every single-page pair (a version whose `snapshots` list has exactly one stored capture) the
page is extracted twice, with the declared selectors and without any (automatic main content,
told the document's type from `document_type_slug` so that it keeps only that document of a page
that holds several), and each result is compared with OTA's version text by word-token F1:
lower-cased words, link URLs, HTML tags and Markdown punctuation dropped. A refused extraction is
listed with its reason, not scored as 0 in silence.

    python bench/extraction_fidelity.py [--corpus DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from generator.charset import decode
from generator.extract import ExtractionError, extract_page
from generator.model import RangeSelector, Selector, SourcePage

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
_LINK_URL = re.compile(r"\]\((?:[^()\s]|\([^()\s]*\))*\)")  # the (url) of [text](url), one paren level
_HTML_TAG = re.compile(r"(?<!\\)</?[A-Za-z][^>]*>")  # raw HTML in OTA's text (<br>): markup, not words


@dataclass(frozen=True)
class Pair:
    name: str  # <service>/<doc-type>@<version timestamp>
    html: Path
    text: Path
    page: SourcePage
    doc_type: str | None  # the corpus's document_type_slug


@dataclass(frozen=True)
class Score:
    pair: str
    f1: float | None  # None when the extraction was refused
    error: str | None
    seconds: float


def tokens(markdown: str) -> Counter[str]:
    return Counter(re.findall(r"[^\W_]+", _HTML_TAG.sub(" ", _LINK_URL.sub("]", markdown)).lower()))


def token_f1(ours: str, reference: str) -> float:
    mine, theirs = tokens(ours), tokens(reference)
    overlap = (mine & theirs).total()
    if not overlap:
        return 0.0
    precision, recall = overlap / mine.total(), overlap / theirs.total()
    return 2 * precision * recall / (precision + recall)


def selectors(value: Any) -> tuple[Selector, ...]:
    """OTA's select/remove value: a CSS string, a range object, or a list of them."""
    items = value if isinstance(value, list) else [value] if value else []
    return tuple(RangeSelector(item.get("startBefore") or item["startAfter"], "startBefore" in item,
                               item.get("endBefore") or item["endAfter"], "endAfter" in item)
                 if isinstance(item, dict) else item for item in items)


def pairs(corpus: Path) -> Iterator[Pair]:
    for metadata in sorted(corpus.glob("*/*/metadata.yaml")):
        folder = metadata.parent
        meta = yaml.safe_load(metadata.read_text(encoding="utf-8"))
        for version in meta["versions"]:
            snapshots = version.get("snapshots") or []
            if len(snapshots) != 1 or not snapshots[0].get("stored_as"):
                continue
            terms = (version.get("declaration") or {}).get("terms") or {}
            url = snapshots[0].get("url") or terms.get("fetch") or ""
            page = SourcePage(url, selectors(terms.get("select")), selectors(terms.get("remove")))
            yield Pair(f"{folder.parent.name}/{folder.name}@{version['timestamp']}",
                       folder / snapshots[0]["stored_as"], folder / version["file"], page,
                       meta.get("document_type_slug"))


def score(pair: Pair, page: SourcePage, doc_type: str | None = None) -> Score:
    html = decode(pair.html.read_bytes()).text
    reference = pair.text.read_text(encoding="utf-8")
    began = time.perf_counter()
    try:
        markdown = extract_page(html, page, doc_type=doc_type).markdown
    except ExtractionError as err:
        return Score(pair.name, None, str(err), time.perf_counter() - began)
    return Score(pair.name, token_f1(markdown, reference), None, time.perf_counter() - began)


def summary(scores: list[Score]) -> dict[str, Any]:
    values = [s.f1 for s in scores if s.f1 is not None]
    with_failures = values + [0.0] * (len(scores) - len(values))
    return {
        "pairs": len(scores),
        "extracted": len(values),
        "median": statistics.median(values) if values else None,
        "mean": statistics.fmean(values) if values else None,
        "min": min(values) if values else None,
        "mean_failures_as_zero": statistics.fmean(with_failures) if with_failures else None,
        "seconds_median": statistics.median(s.seconds for s in scores) if scores else None,
        "failures": [{"pair": s.pair, "reason": s.error} for s in scores if s.error],
    }


def run(corpus: Path) -> dict[str, Any]:
    found = list(pairs(corpus))
    declared = [score(pair, pair.page) for pair in found]
    automatic = [score(pair, SourcePage(pair.page.url), pair.doc_type) for pair in found]
    return {
        "corpus": str(corpus),
        "selectors": summary(declared),
        "automatic": summary(automatic),
        "per_pair": [{"pair": d.pair, "selectors": asdict(d), "automatic": asdict(a)}
                     for d, a in zip(declared, automatic, strict=True)],
    }


def _figure(value: float | None) -> str:
    return "  —  " if value is None else f"{value:.3f}"


def report(result: dict[str, Any]) -> str:
    lines = [f"{'pair':72} {'select':>7} {'auto':>7}"]
    for row in result["per_pair"]:
        lines.append(f"{row['pair']:72} {_figure(row['selectors']['f1']):>7} "
                     f"{_figure(row['automatic']['f1']):>7}")
    for mode in ("selectors", "automatic"):
        s = result[mode]
        lines += ["", f"{mode}: {s['extracted']}/{s['pairs']} extracted; token F1 median "
                      f"{_figure(s['median'])}, mean {_figure(s['mean'])}, min {_figure(s['min'])}; "
                      f"mean counting refusals as 0: {_figure(s['mean_failures_as_zero'])}; "
                      f"median time {s['seconds_median'] * 1000:.0f} ms"]
        lines += [f"  refused {f['pair']}: {f['reason']}" for f in s["failures"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help="a folder in the layout of shared/corpus (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        parser.error(f"no corpus at {args.corpus}")
    result = run(args.corpus)
    print(json.dumps(result, indent=2, sort_keys=True) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())

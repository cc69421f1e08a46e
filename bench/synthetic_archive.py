"""A synthetic corpus in the layout of shared/corpus/, made from its real texts, then imported.

    python bench/synthetic_archive.py --documents 100 --versions 10 --out DIR [--seed 1]
                                      [--corpus ../shared/corpus] [--no-import]

Writes, under DIR (which must be absent or empty):

- `corpus/`: D documents (synthetic services, each with a terms of service, a privacy policy and
  0–3 other types from content/document-types.yaml) of V versions each, as Open Terms Archive
  exports: `<service>/<doc-type>/metadata.yaml` and `versions/<ts>.md`, plus `index.yaml`.
  A document's first version is a real version text of the corpus (of the same type when the
  corpus has one) with the real service and operator names replaced by the synthetic name; each
  later version edits the previous one the way real policies change: the share of its (non-blank)
  lines that changes is log-normal with median 4 % and 75th percentile 18 % (at least one line,
  at most 60 %), and one change in ten is a near-complete rewrite (a swap to another real text).
  Edits replace, insert and delete sentences within paragraphs and whole paragraphs, the new
  material drawn from the other real texts. About one version in twelve is `technical`.
- `key/`: a throwaway key pair (generator.signing.generate_key_pair).
- `content/`: the repository's site.yaml, document-types.yaml, rules/ and pages/; `import-ota` adds
  services/*.yaml.
- `archive/`: the signed archive, imported with `clausewatch import-ota` in a subprocess.

The corpus is a function of (seed, corpus, D, V) only, and document k is the same whatever D is.
Prints a JSON summary: documents, versions, bytes, the measured change sizes, and the seconds spent
generating and importing.
"""

from __future__ import annotations

import argparse
import difflib
import hashlib
import json
import math
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
VERSIONS_REPO = "synthetic/clausewatch-bench-versions"

# Share of lines changed by an ordinary (non-rewrite) change: log-normal, fitted so that with
# rewrites making up the top tenth the overall median is 4 % and the 75th percentile 18 %
# (quantiles 0.5/0.9 and 0.75/0.9 of this distribution; z = 0.140 and 0.967).
_SIGMA = math.log(0.18 / 0.04) / (0.967 - 0.140)
_MU = math.log(0.04) - 0.140 * _SIGMA
REWRITE_SHARE = 0.10
TECHNICAL_SHARE = 0.08
MAX_EDIT_SHARE = 0.60

_UNDERLINE = re.compile(r"^\s*(?:={3,}|-{3,})\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z“\"(*\[])")
_FIRST = ("Nimbus", "Quill", "Orbit", "Lumen", "Cobalt", "Ember", "Harbor", "Juniper", "Kestrel",
          "Mosaic", "Nova", "Pebble", "Quartz", "Ripple", "Sable", "Tandem", "Umber", "Vesper",
          "Willow", "Zephyr")
_SECOND = ("AI", "Chat", "Cloud", "Labs", "Social", "Music", "Maps", "Mail", "Video", "Pay")


@dataclass(frozen=True)
class RealText:
    """One version of the real corpus, with the names to replace in it."""

    source: str  # <service>/<doc-type> in the real corpus
    doc_type: str
    names: tuple[str, ...]  # service and operator names, longest first
    text: str


class Pool:
    """The real corpus, read once: whole version texts, and paragraphs and sentences to edit with."""

    def __init__(self, corpus: Path) -> None:
        self.texts: list[RealText] = []
        paragraphs: dict[str, str] = {}  # paragraph -> source, first seen, in sorted file order
        for meta_path in sorted(corpus.glob("*/*/metadata.yaml")):
            meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
            source = f"{meta['service_slug']}/{meta['document_type_slug']}"
            names = sorted({n for n in (meta.get("service"), meta.get("operator")) if n},
                           key=lambda n: (-len(n), n))
            for entry in meta["versions"]:
                text = (meta_path.parent / entry["file"]).read_text(encoding="utf-8")
                if len(text.strip().splitlines()) < 10:
                    continue  # a handful of near-empty captures: not a plausible starting text
                self.texts.append(RealText(source, meta["document_type_slug"], tuple(names), text))
                for line in _body_lines(text.split("\n")):
                    paragraphs.setdefault(line.strip(), source)
        if not self.texts:
            sys.exit(f"no version texts found under {corpus} (expected <service>/<doc-type>/metadata.yaml)")
        self.paragraphs = [(p, s) for p, s in paragraphs.items() if 60 <= len(p) <= 1500]
        self.sentences = [(sentence, s) for p, s in self.paragraphs for sentence in _SENTENCE_END.split(p)
                          if 25 <= len(sentence) <= 400]

    def texts_for(self, doc_type: str, avoid: str | None = None) -> list[RealText]:
        """Real texts of that type (any type when the corpus has none), not from `avoid`."""
        same = [t for t in self.texts if t.doc_type == doc_type and t.source != avoid]
        return same or [t for t in self.texts if t.source != avoid]

    def paragraph(self, rng: random.Random, avoid: str) -> str:
        while True:
            text, source = rng.choice(self.paragraphs)
            if source != avoid:
                return text

    def sentence(self, rng: random.Random, avoid: str) -> str:
        while True:
            text, source = rng.choice(self.sentences)
            if source != avoid:
                return text


def _body_lines(lines: list[str]) -> list[str]:
    return [lines[i] for i in _editable(lines, None)]


def _editable(lines: list[str], fresh: list[bool] | None) -> list[int]:
    """Indices of paragraph lines that may be edited: not blank, not a heading or its underline."""
    out = []
    for i, line in enumerate(lines):
        if not line.strip() or _UNDERLINE.match(line) or line.lstrip().startswith("#"):
            continue
        if i + 1 < len(lines) and _UNDERLINE.match(lines[i + 1]):
            continue
        if fresh is None or fresh[i]:
            out.append(i)
    return out


def rename(text: RealText, name: str) -> str:
    """The real text with its service and operator names replaced by the synthetic name."""
    if not text.names:
        return text.text
    pattern = re.compile(r"(?<![\w/.])(?:" + "|".join(re.escape(n) for n in text.names) + r")(?![\w])")
    return pattern.sub(name, text.text)


def draw_share(rng: random.Random) -> float:
    """Share of lines an ordinary change edits (rewrites are drawn separately)."""
    return min(MAX_EDIT_SHARE, math.exp(rng.gauss(_MU, _SIGMA)))


def edit(text: str, share: float, rng: random.Random, pool: Pool, avoid: str) -> str:
    """Change about `share` of the text's paragraph lines (at least one): sentences and paragraphs
    replaced, inserted and deleted, each line touched at most once."""
    lines = text.split("\n")
    fresh = [True] * len(lines)
    # Inserted lines also grow the denominator of change_share: aim a little higher to land on it.
    budget = max(1, round(share * (1 + 0.6 * share) * sum(1 for line in lines if line.strip())))
    while budget > 0:
        candidates = _editable(lines, fresh)
        if not candidates:
            break
        op = rng.random()
        if op < 0.5:  # one sentence of one paragraph
            i = rng.choice(candidates)
            sentences = _SENTENCE_END.split(lines[i])
            j = rng.randrange(len(sentences))
            what = rng.random()
            if what < 0.5 or len(sentences) == 1:
                sentences[j] = pool.sentence(rng, avoid)
            elif what < 0.8:
                sentences.insert(j + 1, pool.sentence(rng, avoid))
            else:
                del sentences[j]
            lines[i], fresh[i] = " ".join(sentences), False
            budget -= 1
            continue
        # a run of paragraphs: replaced, inserted or deleted
        run = min(budget, 1 + int(rng.expovariate(1 / 2.0)), len(candidates))
        start = rng.randrange(len(candidates) - run + 1)
        targets = candidates[start:start + run]
        if op < 0.75:
            for i in targets:
                lines[i], fresh[i] = pool.paragraph(rng, avoid), False
        elif op < 0.9:
            at = targets[0]
            new = [line for _ in range(run) for line in (pool.paragraph(rng, avoid), "")]
            lines[at:at] = new
            fresh[at:at] = [False] * len(new)
        else:
            for i in reversed(targets):
                end = i + 2 if i + 1 < len(lines) and not lines[i + 1].strip() else i + 1
                del lines[i:end], fresh[i:end]
        budget -= run
    return "\n".join(lines)


def change_share(old: str, new: str) -> float:
    """1 - matching non-blank lines / the larger count: 0 for equal texts, ~1 for a rewrite."""
    a = [line for line in old.split("\n") if line.strip()]
    b = [line for line in new.split("\n") if line.strip()]
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    matched = sum(block.size for block in matcher.get_matching_blocks())
    return 1 - matched / max(len(a), len(b), 1)


def changed_lines(old: str, new: str) -> int:
    """Lines added + removed (difflib, no context): the corpus's `changed_lines_vs_previous`."""
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    return sum(i2 - i1 + j2 - j1 for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal")


def _ts(moment: datetime) -> tuple[str, str]:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ"), moment.strftime("%Y-%m-%dT%H-%M-%SZ")


def _document_types() -> dict[str, str]:
    data = yaml.safe_load((ROOT / "content" / "document-types.yaml").read_text(encoding="utf-8"))
    return {slug: str(value["name"]) for slug, value in data.items()}


def plan_documents(count: int, seed: int) -> list[tuple[str, str, str]]:
    """(service name, service slug, doc-type slug) of the first `count` documents: each service has
    a terms of service, a privacy policy and 0–3 other types. Prefix-stable in `count`."""
    types = list(_document_types())
    others = [t for t in types if t not in ("terms-of-service", "privacy-policy")]
    plan: list[tuple[str, str, str]] = []
    index = 0
    while len(plan) < count:
        rng = random.Random(f"{seed}:service:{index}")
        name = f"{_FIRST[index % len(_FIRST)]} {_SECOND[index // len(_FIRST) % len(_SECOND)]}"
        if index >= len(_FIRST) * len(_SECOND):
            name += f" {index // (len(_FIRST) * len(_SECOND)) + 1}"
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        extra = rng.sample(others, rng.choice((0, 1, 1, 2, 3)))
        plan += [(name, slug, t) for t in ["terms-of-service", "privacy-policy", *sorted(extra)]]
        index += 1
    return plan[:count]


def _commit(*parts: str) -> str:
    return hashlib.sha1(":".join(parts).encode()).hexdigest()


def _version_entry(meta: dict[str, Any], moment: datetime, kind: str, data: bytes, changed: int,
                   seed: int) -> dict[str, Any]:
    iso, file_ts = _ts(moment)
    key = f"{meta['service_slug']}/{meta['document_type_slug']}"
    label = f"{meta['service']} {meta['document_type']}"
    message = {"first": f"First record of {label}", "change": f"Record new changes of {label}",
               "technical": f"Apply technical or declaration upgrade on {label}"}[kind]
    url = meta["source_url"]
    return {
        "timestamp": iso, "file": f"versions/{file_ts}.md",
        "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
        "kind": kind, "changed_lines_vs_previous": changed,
        "commit": _commit(str(seed), key, iso), "message": message,
        "snapshots": [],
        "declaration": {
            "commit": _commit(str(seed), key, "declaration"), "committed_at": meta["created_at"],
            "match": "at-or-before", "urls": [url], "terms": {"fetch": url, "select": ["main"]},
        },
    }


def _summary(meta: dict[str, Any]) -> dict[str, Any]:
    versions = meta["versions"]
    return {
        "versions": len(versions),
        "changes": sum(v["kind"] == "change" for v in versions),
        "technical": sum(v["kind"] == "technical" for v in versions),
        "first_version": versions[0]["timestamp"], "last_version": versions[-1]["timestamp"],
        "html_pairs_stored": 0, "versions_referencing_a_snapshot": 0,
    }


def write_metadata(doc_dir: Path, meta: dict[str, Any]) -> None:
    meta["summary"] = _summary(meta)
    body = {k: v for k, v in meta.items() if k != "created_at"}
    (doc_dir / "metadata.yaml").write_text(
        "# Synthetic benchmark document (bench/synthetic_archive.py): real Open Terms Archive texts, "
        "edited.\n" + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=110),
        encoding="utf-8")


def next_version(previous: str, rng: random.Random, pool: Pool, name: str, doc_type: str,
                 avoid: str) -> tuple[str, str, bool]:
    """(text, kind, rewrite?) of the version after `previous`."""
    kind = "technical" if rng.random() < TECHNICAL_SHARE else "change"
    if rng.random() < REWRITE_SHARE:
        choices = pool.texts_for(doc_type, avoid)
        for _ in range(20):
            text = rename(rng.choice(choices), name)
            if text != previous:
                return text, kind, True
    for _ in range(5):  # an edit that happens to restore the text would not be a version
        text = edit(previous, draw_share(rng), rng, pool, avoid)
        if text.strip() != previous.strip():
            return text, kind, False
    return previous.rstrip("\n") + f"\n\nLast updated: {rng.randrange(10**6)}\n", kind, False


def write_document(corpus_out: Path, pool: Pool, seed: int, name: str, slug: str, doc_type: str,
                   type_name: str, versions: int) -> dict[str, Any]:
    """Write one document; return its facts (for index.yaml and the summary)."""
    key = f"{slug}/{doc_type}"
    rng = random.Random(f"{seed}:document:{key}")
    doc_dir = corpus_out / slug / doc_type
    (doc_dir / "versions").mkdir(parents=True)
    start = datetime(2021, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(700 * 86400))
    meta: dict[str, Any] = {
        "service": name, "service_slug": slug, "document_type": type_name, "document_type_slug": doc_type,
        "operator": f"{name} Ltd", "ai_company": name.endswith("AI"),
        "source_url": f"https://{slug}.example/legal/{doc_type}", "source_urls": None,
        "collection": "Synthetic benchmark corpus (edited Open Terms Archive texts)",
        "source": {"versions_repo": VERSIONS_REPO, "versions_repo_commit": _commit(str(seed), "repo"),
                   "versions_path": f"{name}/{type_name}.md", "snapshots_repo": None,
                   "snapshots_repo_commit": None, "snapshots_note": None,
                   "declarations_repo": "synthetic/clausewatch-bench-declarations",
                   "declarations_repo_commit": _commit(str(seed), "declarations")},
        "licence": {"name": "Open Data Commons Attribution License v1.0", "spdx": "ODC-By-1.0",
                    "url": "https://opendatacommons.org/licenses/by/1-0/",
                    "versions_attribution": "Open Terms Archive contributors (texts edited synthetically)",
                    "snapshots_attribution": "Open Terms Archive",
                    "note": "Synthetic benchmark data made from the sample corpus."},
        "created_at": _ts(start - timedelta(days=1))[0],
        "versions": [],
    }
    base = rng.choice(pool.texts_for(doc_type))
    text, previous, moment = rename(base, name), "", start
    shares, rewrites = [], 0
    for n in range(versions):
        kind = "first"
        if n:
            moment += timedelta(seconds=rng.randrange(3 * 86400, 120 * 86400))
            text, kind, rewrite = next_version(previous, rng, pool, name, doc_type, base.source)
            rewrites += rewrite
            shares.append(change_share(previous, text))
        data = text.encode("utf-8")
        entry = _version_entry(meta, moment, kind, data, changed_lines(previous, text) if n else 0, seed)
        (doc_dir / entry["file"]).write_bytes(data)
        meta["versions"].append(entry)
        previous = text
    write_metadata(doc_dir, meta)
    return {"service": name, "document_type": type_name, "path": key, "operator": meta["operator"],
            "ai_company": meta["ai_company"], "versions": versions, "html_pairs": 0,
            "first": meta["versions"][0]["timestamp"], "last": meta["versions"][-1]["timestamp"],
            "source": VERSIONS_REPO, "base": base.source,
            "_bytes": sum(v["bytes"] for v in meta["versions"]), "_shares": shares, "_rewrites": rewrites}


def newest_capture(corpus: Path) -> datetime:
    """The newest capture of a corpus folder (bench/build.py dates each new version after it)."""
    latest = [yaml.safe_load(meta.read_text(encoding="utf-8"))["versions"][-1]["timestamp"]
              for meta in corpus.glob("*/*/metadata.yaml")]
    return datetime.strptime(max(latest), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def add_version(doc_dir: Path, pool: Pool, seed: int, after: datetime) -> str:
    """Append one ordinary change to a synthetic document, dated a day after `after` (the archive's
    newest capture: a scheduled capture's version is the newest of the whole archive), or after its
    own latest version if that is newer; return its id."""
    meta = yaml.safe_load((doc_dir / "metadata.yaml").read_text(encoding="utf-8"))
    last = meta["versions"][-1]
    previous = (doc_dir / last["file"]).read_text(encoding="utf-8")
    key = f"{meta['service_slug']}/{meta['document_type_slug']}"
    rng = random.Random(f"{seed}:added:{key}:{last['timestamp']}")
    text = previous
    while text.strip() == previous.strip():
        text = edit(previous, draw_share(rng), rng, pool, key)
    moment = datetime.strptime(last["timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    meta["created_at"] = last["declaration"]["committed_at"]
    data = text.encode("utf-8")
    entry = _version_entry(meta, max(moment, after) + timedelta(days=1), "change", data,
                           changed_lines(previous, text), seed)
    (doc_dir / entry["file"]).write_bytes(data)
    meta["versions"].append(entry)
    write_metadata(doc_dir, meta)
    return Path(entry["file"]).stem


def generate_corpus(out: Path, documents: int, versions: int, seed: int, corpus: Path) -> dict[str, Any]:
    pool = Pool(corpus)
    types = _document_types()
    facts = [write_document(out, pool, seed, name, slug, doc_type, types[doc_type], versions)
             for name, slug, doc_type in plan_documents(documents, seed)]
    shares = sorted(s for f in facts for s in f["_shares"])
    index = {"documents": len(facts), "versions": documents * versions, "html_pairs": 0,
             "sources": [f"{VERSIONS_REPO}@{_commit(str(seed), 'repo')}"],
             "synthetic": {"seed": seed, "generator": "bench/synthetic_archive.py"},
             "items": [{k: v for k, v in f.items() if not k.startswith("_")} for f in facts]}
    (out / "index.yaml").write_text(
        "# Synthetic benchmark corpus: one entry per document.\n"
        + yaml.safe_dump(index, sort_keys=False, allow_unicode=True, width=110), encoding="utf-8")
    quantiles = statistics.quantiles(shares, n=4) if len(shares) >= 2 else [0.0, 0.0, 0.0]
    return {
        "bytes": sum(f["_bytes"] for f in facts),
        "changes": len(shares),
        "rewrites": sum(f["_rewrites"] for f in facts),
        "change_share_median": round(quantiles[1], 4),
        "change_share_p75": round(quantiles[2], 4),
    }


def run_import(out: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "generator", "import-ota", str(out / "corpus"),
               "--content", str(out / "content"), "--archive", str(out / "archive"),
               "--secret-key", str(out / "key" / "minisign.key")]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    if result.returncode != 0:
        sys.exit(f"import-ota failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return result


def prepare_content(out: Path) -> None:
    content = out / "content"
    content.mkdir(parents=True)
    for name in ("site.yaml", "document-types.yaml"):
        shutil.copy(ROOT / "content" / name, content / name)
    shutil.copytree(ROOT / "content" / "rules", content / "rules")
    shutil.copytree(ROOT / "content" / "pages", content / "pages")


def generate(out: Path, documents: int, versions: int, seed: int = 1, corpus: Path = DEFAULT_CORPUS,
             do_import: bool = True) -> dict[str, Any]:
    """Write DIR/corpus (and, with do_import, DIR/key, DIR/content, DIR/archive); return the summary."""
    from generator.signing import generate_key_pair  # the project, not needed to read this file

    if documents < 1 or versions < 1:
        sys.exit("--documents and --versions must be at least 1")
    if out.exists() and any(out.iterdir()):
        sys.exit(f"{out} is not empty; give a new folder")
    started = time.perf_counter()
    figures = generate_corpus(out / "corpus", documents, versions, seed, corpus)
    summary: dict[str, Any] = {"documents": documents, "versions": documents * versions, "seed": seed,
                               **figures, "generation_s": round(time.perf_counter() - started, 2)}
    if do_import:
        generate_key_pair(out / "key")
        prepare_content(out)
        started = time.perf_counter()
        run_import(out)
        summary["import_s"] = round(time.perf_counter() - started, 2)
    summary["dir"] = str(out)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--documents", type=int, required=True, metavar="D")
    parser.add_argument("--versions", type=int, required=True, metavar="V")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--no-import", dest="do_import", action="store_false",
                        help="write DIR/corpus only")
    args = parser.parse_args()
    print(json.dumps(generate(args.out, args.documents, args.versions, args.seed, args.corpus,
                              args.do_import), indent=2))


if __name__ == "__main__":
    main()

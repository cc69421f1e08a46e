"""Every version's findings and change size, from the build cache or computed across cores.

A document's results are cached as one entry keyed by the document and the ruleset digest,
holding each verified version's findings by its text's SHA-256 and each change's size by the
pair of SHA-256s: a new version costs one analysis and one diff, not ten. Versions share most of
their findings, so the entry holds each distinct finding once (and each quote once), and the
versions list them by number: half the bytes at D = 200 (a finding whose offsets moved is
another row), and one object per distinct finding. What does not depend on the rules (what each
clause wording matched, rule by rule; change sizes; languages) is kept by document alone, so that
a rules edit re-runs only the rules edited (see Analyzer.remember and _TextFacts).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from .analyze import Analyzer, Seen
from .annotate import annotate, by_clause, text_html_key
from .buildcache import BuildCache, digest
from .clauses import Clause, split_clauses
from .diff import diff_texts
from .diffcodec import diff_from_json, diff_to_json
from .diffmodel import TextDiff
from .earlier import Superseded, from_stored, stored, superseded
from .findingchanges import FindingChanges, compare_findings
from .language import text_language
from .lazyregex import compile_all
from .model import Archive, ArchivedDocument, ChangeStats, DocKey, Finding, Rule, Version, read_version_text
from .plausible import Size, compared_with
from .prefilter import KnownGates
from .rules import rule_regexes
from .workers import can_fork, fork_map

VersionKey = tuple[DocKey, str]
PARALLEL_MIN_VERSIONS = 100  # below this, starting workers costs more than it saves


@dataclass(frozen=True)
class DocumentResults:
    findings: dict[str, list[Finding]]  # version id → findings
    changes: dict[str, ChangeStats]  # version id → change against the previous version
    # version ids not analysed, not being in English, with the language each reads as ("" unknown)
    unread: Mapping[str, str] = field(default_factory=dict)
    # version id → its flags added, removed and reworded against the version it is compared with
    # (plausible.compared_with), for each version compared with one and both read
    finding_changes: Mapping[str, FindingChanges] = field(default_factory=dict)
    # version id → how many of its clauses the next version no longer has (earlier.superseded), for
    # each verified pair: which older versions the search index holds a record of (searchindex.py)
    superseded: Mapping[str, int] = field(default_factory=dict)
    # version id → what the analysis says of it (its findings and finding changes) as digests: part
    # of its pages' keys (buildkeys.py), so that a rule edited makes again only the pages it changed
    analysed: Mapping[str, str] = field(default_factory=dict)


def change_stats(diff: TextDiff) -> ChangeStats:
    summary = diff.summary
    return ChangeStats(summary.words_added, summary.words_removed, summary.percent_label, summary.words_moved,
                       round(summary.percent_changed / 100, 6))


class _Packer:
    """Findings as an entry stores them: `texts` (quotes, lead-ins and list items, each once), `rows`
    (each distinct finding once, its texts by number) and, per version, the numbers of its rows."""

    def __init__(self) -> None:
        self.texts: dict[str, int] = {}
        self.rows: dict[tuple[Any, ...], int] = {}

    def _text(self, text: str) -> int:
        return self.texts.setdefault(text, len(self.texts))

    def pack(self, findings: Sequence[Finding]) -> list[int]:
        return [self.rows.setdefault(
                    (f.rule_id, f.severity, f.category, f.clause_id, self._text(f.quote), f.start, f.end,
                     self._text(f.lead_in), tuple(self._text(i) for i in f.items)), len(self.rows))
                for f in findings]

    def pack_changes(self, changes: FindingChanges) -> list[Any]:
        return [self.pack(changes.added), self.pack(changes.removed),
                [[*self.pack(pair)] for pair in changes.reworded]]

    def stored(self) -> dict[str, list[Any]]:
        # as JSON gives them back (lists), so that an unchanged entry compares equal and is not rewritten
        return {"texts": list(self.texts), "rows": [[*r[:-1], list(r[-1])] for r in self.rows]}


class _Unpacker:
    """The findings of an entry's versions; each distinct finding made once, when first asked for."""

    def __init__(self, stored: Mapping[str, Any]) -> None:
        self._texts: list[str] = stored["texts"]
        self._rows: list[list[Any]] = stored["rows"]
        self._made: dict[int, Finding] = {}

    def findings(self, numbers: Sequence[int]) -> list[Finding]:
        made, found = self._made, []
        for n in numbers:
            finding = made.get(n)
            if finding is None:
                r, texts = self._rows[n], self._texts
                finding = made[n] = Finding(r[0], r[1], r[2], r[3], texts[r[4]], int(r[5]), int(r[6]),
                                            texts[r[7]], tuple(texts[i] for i in r[8]))
            found.append(finding)
        return found

    def changes(self, stored: Sequence[Any]) -> FindingChanges:
        added, removed, reworded = stored
        pairs = [self.findings(pair) for pair in reworded]
        if any(len(pair) != 2 for pair in pairs):
            raise ValueError("a reworded flag is a pair")
        return FindingChanges(self.findings(added), self.findings(removed), [(a, b) for a, b in pairs])


def _bases(versions: Sequence[Version], english: Sequence[bool]) -> list[tuple[int, int]]:
    """(version compared with, version) for each version whose flags are compared: against the
    last before it that is no failed capture, when the rules read both."""
    bases = compared_with([Size(v.bytes, e) for v, e in zip(versions, english, strict=True)])
    return [(b, i) for i, b in enumerate(bases) if b is not None and english[b] and english[i]]


def _empty() -> dict[str, Any]:
    # "digests": findings digest by text SHA-256; "compared_digests": finding changes digest by pair
    return {"texts": [], "rows": [], "findings": {}, "changes": {}, "unread": {}, "compared": {},
            "superseded": {}, "digests": {}, "compared_digests": {}}


def findings_digest(found: Sequence[Finding]) -> str:
    return digest(repr(found))  # named tuples of strings and numbers: the same repr for the same findings


def changes_digest(changes: FindingChanges) -> str:
    return digest(repr(changes))


def _analysed(versions: Sequence[Version], by_version: Mapping[str, str],
              compared: Mapping[str, str]) -> dict[str, str]:
    return {v.id: f"{by_version[v.id]} {compared.get(v.id, '-')}" for v in versions}


@dataclass(frozen=True)
class _Job:
    doc: ArchivedDocument
    hashes: tuple[str | None, ...]  # per version: the text's verified SHA-256, None if unverified


@dataclass(frozen=True)
class Annotations:
    """What a version's annotated text needs besides the text and its findings: the rules' titles
    and each document's first declared URL (relative links resolve against it)."""
    titles: Mapping[str, str]
    declared_url: Mapping[DocKey, str | None]


class _Worker:
    """One process's state: the analyzer (with its clause cache) and the build cache."""

    def __init__(self, rules: Sequence[Rule], ruleset_digest: str, cache: BuildCache | None,
                 annotations: Annotations | None = None, gates: KnownGates | None = None) -> None:
        self.analyzer = Analyzer(rules, gates)
        self.ruleset_digest = ruleset_digest
        self.cache = cache
        self.annotations = annotations

    def _analyze(self, job: _Job, version: Version, text: str, sha: str | None,
                 seen: Seen, english: bool = True) -> tuple[list[Finding], list[Clause] | None]:
        """The version's findings (none for a text the rules cannot read) and, with a verified text,
        its clauses; also its annotated HTML into the build cache, where the pages stage takes it:
        the text is split into clauses once, not twice."""
        doc_type = job.doc.key.doc_type
        if self.cache is None or self.annotations is None or sha is None:
            return (self.analyzer.analyze(doc_type, text, seen) if english else []), None
        clauses = split_clauses(text)
        found = self.analyzer.analyze(doc_type, text, seen, clauses) if english else []
        titles, declared = self.annotations.titles, self.annotations.declared_url.get(job.doc.key)
        key = text_html_key(sha, version.url, declared, found, titles)
        if not self.cache.has("text-html", key):  # a rules edit leaves most versions' findings as they were
            html = annotate(text, by_clause(found), version.url or declared, titles, clauses=clauses).html
            self.cache.put("text-html", key, html)
        return found, clauses

    def _key(self, job: _Job) -> str:
        return digest(str(job.doc.key), self.ruleset_digest)

    def _stored(self, job: _Job) -> dict[str, Any]:
        """The document's entry: findings (row numbers, see _Packer) by text SHA-256, change sizes
        and finding changes (added, removed, reworded rows) by "old new" SHA-256s."""
        entry = self.cache.get("results", self._key(job)) if self.cache else None
        empty = _empty()
        if not (isinstance(entry, dict) and all(isinstance(entry.get(k), type(v)) for k, v in empty.items())):
            return empty
        return entry

    def cached(self, job: _Job) -> DocumentResults | None:
        """The document's results when the cache holds every version's and every change's."""
        if self.cache is None or None in job.hashes:
            return None
        stored = self._stored(job)
        found, changed, compared = stored["findings"], stored["changes"], stored["compared"]
        shas = cast(tuple[str, ...], job.hashes)
        pairs = [f"{a} {b}" for a, b in itertools.pairwise(shas)]
        gone = stored["superseded"]
        digests, compared_digests = stored["digests"], stored["compared_digests"]
        if not (all(h in found and h in digests for h in shas)
                and all(p in changed and p in gone for p in pairs)):
            return None
        versions, unpacked = job.doc.versions, _Unpacker(stored)
        bases = _bases(versions, [h not in stored["unread"] for h in shas])
        if not all(f"{shas[b]} {shas[i]}" in compared and f"{shas[b]} {shas[i]}" in compared_digests
                   for b, i in bases):
            return None
        try:
            findings = {v.id: unpacked.findings(found[h]) for v, h in zip(versions, shas, strict=True)}
            finding_changes = {versions[i].id: unpacked.changes(compared[f"{shas[b]} {shas[i]}"])
                               for b, i in bases}
        except (IndexError, TypeError, ValueError):  # an entry that does not hold together: analyse again
            return None
        return DocumentResults(
            findings,
            {v.id: ChangeStats(*changed[p]) for v, p in zip(versions[1:], pairs, strict=True)},
            {v.id: _language(stored["unread"][h]) for v, h in zip(versions, shas, strict=True)
             if h in stored["unread"]},
            finding_changes,
            {v.id: int(gone[p]) for v, p in zip(versions, pairs, strict=False)},
            _analysed(versions, {v.id: str(digests[h]) for v, h in zip(versions, shas, strict=True)},
                      {versions[i].id: str(compared_digests[f"{shas[b]} {shas[i]}"]) for b, i in bases}))

    def compute(self, job: _Job) -> DocumentResults:
        findings: dict[str, list[Finding]] = {}
        changes: dict[str, ChangeStats] = {}
        stored = self._stored(job)
        unpacked, packer = _Unpacker(stored), _Packer()
        keep: dict[str, dict[str, Any]] = {"findings": {}, "changes": {}, "unread": {},  # verified texts only
                                           "compared": {}, "superseded": {}, "digests": {},
                                           "compared_digests": {}}
        digests: dict[str, str] = {}  # version id → findings_digest
        gone: dict[str, int] = {}
        unread: dict[str, str] = {}
        # What this document's clause wordings matched last time: a new version shares most of them.
        # Keyed by the document alone: after a rules edit, the rules not edited keep their matches.
        memo = self.cache.get("clause-matches", _texts_key(job.doc.key)) if self.cache else None
        if isinstance(memo, dict):
            self.analyzer.remember(memo)
        facts = _TextFacts(self.cache, job.doc.key)
        seen = Seen()
        previous: tuple[str, str | None, str] | None = None  # (text, sha if verified, version id)
        earlier = _EarlierEntry(self.cache, job.doc.key)
        clauses: list[Clause] | None = None
        for version, known in zip(job.doc.versions, job.hashes, strict=True):
            previous_clauses, clauses = clauses, None
            text = version.read_text()
            language = facts.language(known, text)
            english = language == "en"
            if not english:
                unread[version.id] = language
                if known:
                    keep["unread"][known] = language
            numbers = stored["findings"].get(known) if known else None
            try:
                found = unpacked.findings(numbers) if numbers is not None else None
            except (IndexError, TypeError):  # an entry that does not hold together
                found = None
            if found is None:
                found, clauses = self._analyze(job, version, text, known, seen, english)
                digests[version.id] = findings_digest(found)
            else:
                made = stored["digests"].get(known)
                digests[version.id] = made if isinstance(made, str) else findings_digest(found)
            if known:
                keep["findings"][known] = packer.pack(found)
                keep["digests"][known] = digests[version.id]
            findings[version.id] = found
            if previous is not None:
                pair = f"{previous[1]} {known}" if previous[1] and known else None
                row = (stored["changes"].get(pair) or facts.change(pair)) if pair else None
                if row is None:
                    diff = diff_texts(previous[0], text)
                    row = list(dataclasses.astuple(change_stats(diff)))
                    if self.cache and pair:  # the changes page reads the diff back (LazyDiffs)
                        self.cache.put("diff", digest(cast(str, previous[1]), cast(str, known)),
                                       diff_to_json(diff, text))
                if pair:
                    keep["changes"][pair] = facts.changes[pair] = row
                    # the older version's wording this one no longer has, for the search index
                    clauses = earlier.pair(pair, previous[0], previous_clauses, text, clauses)
                    if (count := earlier.count(pair)) is not None:
                        keep["superseded"][pair] = gone[previous[2]] = count
                changes[version.id] = ChangeStats(*row)
            previous = (text, known, version.id)
        if self.cache and seen:  # the wordings analysed this time: the next version resembles them
            self.cache.put("clause-matches", _texts_key(job.doc.key), self.analyzer.remembered(seen))
        facts.save()
        finding_changes, compared = self._finding_changes(job, findings, unread, stored, unpacked, packer,
                                                          keep)
        entry = {**packer.stored(), **keep}
        if self.cache and entry != stored:
            self.cache.put("results", self._key(job), entry)
        earlier.save()
        return DocumentResults(findings, changes, unread, finding_changes, gone,
                               _analysed(job.doc.versions, digests, compared))

    @staticmethod
    def _finding_changes(job: _Job, findings: Mapping[str, list[Finding]], unread: Mapping[str, str],
                         stored: Mapping[str, Any], unpacked: _Unpacker, packer: _Packer,
                         keep: dict[str, dict[str, Any]]) -> tuple[dict[str, FindingChanges], dict[str, str]]:
        """Each compared version's finding changes, from the entry when it holds them (comparing
        a version's flags with the last one's takes difflib, and every page and feed asks), and
        their digests."""
        versions, shas = job.doc.versions, job.hashes
        out: dict[str, FindingChanges] = {}
        digests: dict[str, str] = {}
        for b, i in _bases(versions, [v.id not in unread for v in versions]):
            before, after = versions[b].id, versions[i].id
            pair = f"{shas[b]} {shas[i]}" if shas[b] and shas[i] else None
            changes = None
            if pair and pair in stored["compared"]:
                try:
                    changes = unpacked.changes(stored["compared"][pair])
                except (IndexError, TypeError, ValueError):  # an entry that does not hold together
                    changes = None
            made = stored["compared_digests"].get(pair) if changes is not None else None
            if changes is None:
                changes = compare_findings(findings[before], findings[after])
            digests[after] = made if isinstance(made, str) else changes_digest(changes)
            if pair:
                keep["compared"][pair] = packer.pack_changes(changes)
                keep["compared_digests"][pair] = digests[after]
            out[after] = changes
        return out, digests


def _texts_key(key: DocKey) -> str:
    return digest(str(key))  # for what depends on the document's texts alone, not on the rules


class _TextFacts:
    """What a document's texts give whatever the rules say: each change's size by "old new"
    SHA-256s, and each verified text's language by its SHA-256. The results entry holds the sizes
    too (a build that finds it whole reads nothing else), but is keyed by the ruleset: after a
    rules edit, the texts are not diffed, nor their language detected, again."""

    KIND = "text-facts"
    PARTS = ("changes", "languages")

    def __init__(self, cache: BuildCache | None, key: DocKey) -> None:
        self.cache, self.key = cache, _texts_key(key)
        found = cache.get(self.KIND, self.key) if cache else None
        if not (isinstance(found, dict) and all(isinstance(found.get(k), dict) for k in self.PARTS)):
            found = {"changes": {}, "languages": {}}
        self.found: dict[str, dict[str, Any]] = found
        self.changes: dict[str, Any] = {}  # the pairs and texts the document has now
        self.languages: dict[str, str] = {}

    def language(self, sha: str | None, text: str) -> str:
        found = self.found["languages"].get(sha) if sha else None
        language = found if isinstance(found, str) else text_language(text)
        if sha:
            self.languages[sha] = language
        return language

    def change(self, pair: str) -> list[Any] | None:
        row = self.found["changes"].get(pair)
        return row if isinstance(row, list) and len(row) == len(dataclasses.fields(ChangeStats)) else None

    def save(self) -> None:
        kept = {"changes": self.changes, "languages": self.languages}
        if self.cache is not None and kept != self.found:
            self.cache.put(self.KIND, self.key, kept)


class _EarlierEntry:
    """A document's superseded wordings in the build cache (earlier.py), by "old new" SHA-256s, made
    where the analysis has just split the texts into clauses (else split here)."""

    def __init__(self, cache: BuildCache | None, key: DocKey) -> None:
        self.cache, self.key = cache, _texts_key(key)
        found = cache.get("superseded", self.key) if cache else None
        self.found: dict[str, Any] = found if isinstance(found, dict) else {}
        self.kept: dict[str, Any] = {}  # the pairs the document has now

    def pair(self, pair: str, old_text: str, old: list[Clause] | None, new_text: str,
             new: list[Clause] | None) -> list[Clause] | None:
        """Keep the pair's rows; return the new text's clauses when they were split (the next pair
        needs them)."""
        if self.cache is None:
            return new
        rows = self.found.get(pair)
        if from_stored(rows) is None:
            if new is None:
                new = split_clauses(new_text)
            rows = stored(superseded(old if old is not None else split_clauses(old_text), new))
        self.kept[pair] = rows
        return new

    def count(self, pair: str) -> int | None:
        """How many clauses the pair's older text has that its newer one does not (None: not kept)."""
        rows = self.kept.get(pair)
        return len(rows) if isinstance(rows, list) else None

    def save(self) -> None:
        if self.cache is not None and self.kept != self.found:
            self.cache.put("superseded", self.key, self.kept)


_worker: _Worker | None = None  # set before the pool forks: workers inherit it


def _compute(job: _Job) -> tuple[DocKey, DocumentResults]:
    assert _worker is not None
    return job.doc.key, _worker.compute(job)


def analyse_archive(archive: Archive, rules: Sequence[Rule], ruleset_digest: str,
                    verified_sha: Callable[[Path], str | None], cache: BuildCache | None,
                    progress: Callable[[str], None] = lambda _: None, workers: int = 1,
                    annotations: Annotations | None = None,
                    gates: KnownGates | None = None) -> dict[DocKey, DocumentResults]:
    """Results per document, in up to `workers` processes. `verified_sha(text_path)` is the text's
    SHA-256 when its hash and signature verified (only such results are cached), else None. With
    `annotations`, each verified version analysed also leaves its annotated text in the cache.
    `gates`: the rules' literal gates, when an earlier build derived them (prefilter.py)."""
    global _worker
    _worker = worker = _Worker(rules, ruleset_digest, cache, annotations, gates)
    results: dict[DocKey, DocumentResults] = {}
    todo: list[_Job] = []
    for doc in archive.documents:
        job = _Job(doc, tuple(verified_sha(v.text_path) for v in doc.versions))
        found = worker.cached(job)
        if found is None:
            todo.append(job)
        else:
            results[doc.key] = found
    versions = sum(len(j.doc.versions) for j in todo)
    if todo:
        progress(f"analysing {versions} versions of {len(todo)} documents "
                 f"({archive.version_count - versions} versions cached)")
    for key, found in _run(todo, versions, workers, rules):
        results[key] = found
    return results


def _run(todo: list[_Job], versions: int, workers: int,
         rules: Sequence[Rule]) -> Iterator[tuple[DocKey, DocumentResults]]:
    if workers == 1 or versions < PARALLEL_MIN_VERSIONS or not can_fork():
        yield from map(_compute, todo)
        return
    compile_all(rule_regexes(rules))  # once, before the workers fork, not once in each
    # Largest documents first, so no worker is left with a big one at the end.
    yield from fork_map(_compute, sorted(todo, key=lambda j: -sum(v.bytes for v in j.doc.versions)), workers)


def findings_by_version(results: Mapping[DocKey, DocumentResults]) -> dict[VersionKey, list[Finding]]:
    return {(key, vid): fs for key, r in results.items() for vid, fs in r.findings.items()}


def changes_by_version(results: Mapping[DocKey, DocumentResults]) -> dict[VersionKey, ChangeStats]:
    return {(key, vid): s for key, r in results.items() for vid, s in r.changes.items()}


def superseded_by_version(results: Mapping[DocKey, DocumentResults]) -> dict[VersionKey, int]:
    return {(key, vid): n for key, r in results.items() for vid, n in r.superseded.items()}


def finding_changes_by_version(results: Mapping[DocKey, DocumentResults]) -> dict[VersionKey, FindingChanges]:
    return {(key, vid): c for key, r in results.items() for vid, c in r.finding_changes.items()}


def unread_versions(results: Mapping[DocKey, DocumentResults]) -> dict[VersionKey, str]:
    """The versions the rules did not read (not in English), with the language each reads as."""
    return {(key, vid): language for key, r in results.items() for vid, language in r.unread.items()}


def _language(stored: object) -> str:
    """A language tag as an entry keeps it; anything else (a damaged entry) is not known."""
    return stored if isinstance(stored, str) and (stored == "" or stored.isalpha()) else ""


class LazyDiffs(Mapping[VersionKey, TextDiff]):
    """Each version's diff against the previous one, for its changes page: from the build cache
    when the analysis left it there (both texts verified), else computed."""

    def __init__(self, archive: Archive, verified_sha: Callable[[Path], str | None] = lambda _: None,
                 cache: BuildCache | None = None) -> None:
        self._previous: dict[VersionKey, tuple[Path, Path]] = {}
        for doc in archive.documents:
            for before, after in zip(doc.versions, doc.versions[1:], strict=False):
                self._previous[(doc.key, after.id)] = (before.text_path, after.text_path)
        self._sha = verified_sha
        self._cache = cache

    def __getitem__(self, key: VersionKey) -> TextDiff:
        old, new = self._previous[key]
        old_sha, new_sha = self._sha(old), self._sha(new)
        new_text = read_version_text(new)
        if self._cache and old_sha and new_sha:
            found = self._cache.get("diff", digest(old_sha, new_sha))
            if isinstance(found, dict):
                return diff_from_json(found, new_text)
        return diff_texts(read_version_text(old), new_text)

    def __iter__(self) -> Iterator[VersionKey]:
        return iter(self._previous)

    def __len__(self) -> int:
        return len(self._previous)


class EarlierWordings:
    """Each older version's superseded wordings (earlier.py) for the search index: from the entries
    the analysis left in the build cache, else (an entry deleted since) from the texts."""

    def __init__(self, verified_sha: Callable[[Path], str | None], cache: BuildCache | None = None) -> None:
        self._sha = verified_sha
        self._cache = cache

    def __call__(self, key: DocKey, versions: Sequence[Version]) -> dict[str, list[Superseded]]:
        """Version id → the clauses of that version the next one no longer has (verified texts only)."""
        found = self._cache.get("superseded", _texts_key(key)) if self._cache else None
        entry: dict[str, Any] = found if isinstance(found, dict) else {}
        made = False
        rows_of: dict[str, list[Superseded]] = {}
        for old, new in itertools.pairwise(versions):
            old_sha, new_sha = self._sha(old.text_path), self._sha(new.text_path)
            if not (old_sha and new_sha):
                continue
            pair = f"{old_sha} {new_sha}"
            rows = from_stored(entry.get(pair))
            if rows is None:
                rows = superseded(split_clauses(old.read_text()), split_clauses(new.read_text()))
                entry[pair], made = stored(rows), True
            rows_of[old.id] = rows
        if made and self._cache:
            self._cache.put("superseded", _texts_key(key), entry)
        return rows_of

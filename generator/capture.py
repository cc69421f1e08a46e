"""The capture job: fetch every declared page, extract, compare, record, sign, log every check.

A failure is never a version: it is logged as a check and leaves history untouched. One failing
document never stops the others. Each document is recorded, then logged, before the next one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from . import GENERATOR
from .archive import (
    ArchiveWriter,
    NewVersion,
    RawPage,
    document_dir,
    load_archive,
    load_document,
    remove_leftovers,
    snapshot_page_names,
)
from .charset import decode, is_text
from .checklog import Observation, Outcome, append_check, read_checks, verify_check_log
from .extract import ExtractionError, caused_by_selectors, denoised_text, extract_page
from .fetch import FetchRequest, FetchResult, FetchSettings, fetch_all
from .model import ArchivedDocument, Declaration, DocKey, Problem, ProblemsError, Version
from .plausible import doubtful_change, undecodable

FAILED = ("fetch-failed", "http-error", "blocked", "extraction-failed", "archive-error")
CAPTURE_SOURCE = "clausewatch capture"  # the `source.name` of a version a capture recorded
# When pages of one document fail differently, report the most telling outcome.
_FAILURE_ORDER: dict[str, Outcome] = {"blocked": "blocked", "http-error": "http-error",
                                      "fetch-failed": "fetch-failed"}


@dataclass(frozen=True)
class CheckResult:
    key: DocKey
    outcome: str  # a check-log outcome, or "archive-error" when the archive refused to record
    reason: str
    version_id: str | None
    http_status: int | None


def version_id_at(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H-%M-%SZ")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def select_declarations(declarations: Sequence[Declaration], keys: Sequence[str]) -> list[Declaration]:
    """The declarations named by KEYs (`<service>/<doc-type>` or `<service>`), all when none are named."""
    if not keys:
        return list(declarations)
    chosen: list[Declaration] = []
    for key in keys:
        found = [d for d in declarations if str(d.key) == key or d.key.service == key]
        if not found:
            raise ProblemsError([Problem("content/services", key, "no such declared document or service",
                                         "use <service>/<doc-type> or <service> as declared")])
        chosen += [d for d in found if d not in chosen]
    return chosen


def _previous_pages(latest: Version | None) -> dict[str, bytes]:
    """Raw bytes of the latest version's stored pages, by URL."""
    if latest is None:
        return {}
    return {page.url: (latest.directory / page.file).read_bytes() for page in latest.snapshots
            if page.url and (latest.directory / page.file).is_file()}


def _validators(latest: Version | None) -> dict[str, tuple[str | None, str | None]]:
    """ETag / Last-Modified recorded with the latest version, by page URL (for conditional GETs)."""
    return {url: (page.get("etag"), page.get("last_modified"))
            for url, page in (latest.fetched_pages() if latest else {}).items()}


def stored_content_types(doc: ArchivedDocument | None) -> dict[str, str]:
    """The Content-Type each stored page of the latest version was served with, by URL, as the
    capture that stored it recorded it (a re-extraction cites that capture's pages): a stored page
    is decoded as it was when fetched, since its charset may be named only in that header."""
    return {url: page["content_type"] for url, page in _stored_pages(doc).items()
            if isinstance(page.get("content_type"), str)}


def stored_final_urls(doc: ArchivedDocument | None) -> dict[str, str]:
    """The address each stored page of the latest version ended at after redirects, by requested
    URL, as the capture that stored it recorded it: its relative links resolve against that one."""
    return {url: page["final_url"] for url, page in _stored_pages(doc).items()
            if isinstance(page.get("final_url"), str)}


def _stored_pages(doc: ArchivedDocument | None) -> dict[str, dict[str, Any]]:
    """What the capture that stored the latest version's pages recorded of each (by URL)."""
    if doc is None:
        return {}
    origin = next((v for v in doc.versions if v.id == doc.latest.snapshot_id), doc.latest)
    return origin.fetched_pages()


@dataclass(frozen=True)
class _Page:
    url: str
    result: FetchResult
    raw: bytes
    text: str


def moved_site(pages: Sequence[_Page], latest: Version | None) -> str | None:
    """Why a page that now ends on another site (registrable domain) than it did, or than declared
    for a first capture, is held: a redirect to another company's page (a parked domain, a parent
    company's terms) would pass for the service's change."""
    from .trackers import registrable_domain

    before = latest.fetched_pages() if latest is not None else {}
    for page in pages:
        final = page.result.final_url
        earlier = (before.get(page.url) or {}).get("final_url")
        if earlier is None and latest is not None and latest.url == page.url:  # recorded without pages
            earlier = latest.final_url
        # A declared address of its own (a maintainer's edit): the page is measured against it.
        was = earlier if isinstance(earlier, str) else page.url
        now_host, was_host = urlsplit(final or "").hostname, urlsplit(was).hostname
        if now_host and was_host and registrable_domain(now_host) != registrable_domain(was_host):
            return f"{page.url} now ends at {final}, on another site than {was}"
    return None


def _same_pages(pages: Sequence[_Page], latest: Version) -> bool:
    """Whether the pages fetched are byte for byte those the latest version was extracted from."""
    return len(pages) == len(latest.snapshots) and all(
        hashlib.sha256(page.raw).hexdigest() == stored.sha256
        for page, stored in zip(pages, latest.snapshots, strict=True))


def _failure(key: DocKey, results: Sequence[FetchResult]) -> CheckResult | None:
    failed = [r for r in results if r.outcome in _FAILURE_ORDER]
    if not failed:
        return None
    worst = min(failed, key=lambda r: list(_FAILURE_ORDER).index(r.outcome))
    reason = "; ".join(f"{r.url}: {r.reason}" for r in failed)
    return CheckResult(key, _FAILURE_ORDER[worst.outcome], reason, None, worst.status)


class Capture:
    """One capture run over an archive (the signer and writer are shared by all documents)."""

    def __init__(self, archive_root: Path, writer: ArchiveWriter, settings: FetchSettings,
                 transport: httpx.AsyncBaseTransport | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 accept_change: frozenset[DocKey] = frozenset()) -> None:
        self.root = archive_root
        self.accept_change = accept_change  # documents whose doubtful new text a maintainer vouched for
        self.writer = writer
        self.settings = settings
        self.transport = transport
        self.clock = clock
        existing = load_archive(archive_root) if archive_root.exists() else None
        self.documents: dict[DocKey, ArchivedDocument] = (
            {d.key: d for d in existing.documents} if existing else {})

    def _latest(self, key: DocKey) -> Version | None:
        doc = self.documents.get(key)
        return doc.latest if doc else None

    def requests(self, declarations: Sequence[Declaration]) -> list[FetchRequest]:
        requests = []
        for decl in declarations:
            latest = self._latest(decl.key)
            stored, validators = _previous_pages(latest), _validators(latest)
            for page in decl.pages:
                # Conditional only when the stored raw page can stand in for a 304's empty body.
                etag, modified = validators.get(page.url, (None, None))
                if page.url not in stored:
                    etag = modified = None
                requests.append(FetchRequest(page.url, etag, modified))
        return requests

    def judge(self, decl: Declaration, results: Sequence[FetchResult]) -> CheckResult:
        """Record a new version if the text changed, then log the check; never raises for one page."""
        key = decl.key
        self._log_unlogged(key)
        failure = _failure(key, results)
        if failure:
            return self._log(failure, self._latest(key))
        latest = self._latest(key)
        stored = _previous_pages(latest)
        unasked = [r.url for r in results if r.outcome == "not-modified" and r.url not in stored]
        if unasked:  # a 304 stands for a stored page; to a request that named none, it is an error
            return self._log(CheckResult(key, "fetch-failed", f"{unasked[0]}: 304 Not Modified to a request "
                                         "that was not conditional", None, 304), latest)
        # Pages the server vouches did not change are still extracted from their stored copies: a
        # declaration edited since (a selector that now matches nothing) shows at once.
        not_modified = latest is not None and all(r.outcome == "not-modified" for r in results)
        served_as = stored_content_types(self.documents.get(key))
        pages = []
        for result in results:
            if result.outcome == "not-modified":
                raw = stored[result.url]
                pages.append(_Page(result.url, result, raw, decode(raw, served_as.get(result.url)).text))
            else:
                pages.append(_Page(result.url, result, result.body, result.text))
        # A file that is not a web page (a PDF) decodes to no text: say so, not "only 0 words".
        other = next((p for p in pages
                      if p.result.outcome != "not-modified" and not is_text(p.result.content_type)), None)
        if other is not None:
            media = (other.result.content_type or "").split(";", 1)[0].strip()
            return self._log(CheckResult(
                key, "extraction-failed", f"{other.url}: served as {media}, not as a web page: only HTML and "
                "text are extracted (fix: declare the document's HTML page instead)", None,
                other.result.status), latest)
        try:
            parts = [extract_page(p.text, page, p.result.final_url or p.url, doc_type=key.doc_type).markdown
                     for p, page in zip(pages, decl.pages, strict=True)]
            text = denoised_text(parts, decl.noise)
        except Exception as err:
            reason = str(err) if isinstance(err, ExtractionError) else \
                f"extractor error: {type(err).__name__}: {err}"
            if isinstance(err, ExtractionError) and caused_by_selectors(err):
                reason += (f" (fix: open {decl.pages[0].url} in a browser: if it is still the policy, its "
                           f"layout changed: correct select/remove of documents.{key.doc_type} in "
                           f"services/{key.service}.yaml and try it on the saved page with `clausewatch "
                           f"extract PAGE.html --as {key}`; if it is not, the site served another page)")
            status = next((p.result.status for p in pages if p.result.status), None)
            return self._log(CheckResult(key, "extraction-failed", reason, None, status), latest)
        status = pages[0].result.status
        latest_text = latest.read_text() if latest is not None else None
        if latest is not None and latest_text == text:
            same = "not modified since" if not_modified else "text identical to"
            return self._log(CheckResult(key, "unchanged", f"{same} the latest version", latest.id, status),
                             latest)
        if not_modified and latest_text is not None:  # the page is the same: our extraction of it is not
            # (the declaration or the extractor changed): recorded as `clausewatch reextract` would, a
            # technical version of the stored page. Left to a key holder, a declaration fixed for a
            # server that answers 304 would wait for the page itself to change.
            if (doubt := doubtful_change(latest_text, text)) and key not in self.accept_change:
                return self._held(key, doubt, status, latest)
            self._check_log_takes_a_version(key)
            version = self._reextract(decl)
            reason = ("technical: not modified since the latest version, whose stored page now extracts to "
                      "other text (the declaration or the extractor changed)")
            return self._log(CheckResult(key, "new-version", reason, version.id, status), version)
        # Which changed, the page or our extraction of it (a declaration or the extractor edited
        # since, or a document imported with another tool's text)? The latest version's stored pages,
        # extracted now, tell: only a difference between those and the new text is the service's.
        again = self._extract_stored(decl, latest_text)
        same_bytes = latest is not None and _same_pages(pages, latest)
        if again is None and same_bytes:
            # The very bytes the latest version was extracted from (a declaration that moved to
            # another address of the same page, say): only the extraction changed.
            again = text
        recorded = again if again is not None and again != text else text
        doubt = (None if same_bytes else moved_site(pages, latest)) or \
            (doubtful_change(latest_text, recorded) if latest_text is not None else None) or \
            undecodable(latest_text, recorded)
        if doubt and key not in self.accept_change:
            return self._held(key, doubt, status, latest)
        self._check_log_takes_a_version(key)
        if again is not None and again == text:
            version = self._record(decl, pages, text, latest, technical=True)
            reason = ("technical: the page reads as the latest version's did; only its extraction changed "
                      "(the declaration or the extractor)")
        elif again is not None:  # both: the extraction's part first, the page's at the next check
            version = self._reextract(decl)
            reason = ("technical: the latest version's stored page now extracts to other text (the "
                      "declaration or the extractor changed), recorded first; the page also changed, "
                      "which the next check records as the service's change")
        else:
            version = self._record(decl, pages, text, latest)
            reason = "text changed" if latest else "first capture"
        try:
            return self._log(CheckResult(key, "new-version", reason, version.id, status), version)
        except OSError as err:  # (a full disk): the version stands, and the next capture logs it
            return CheckResult(key, "archive-error", f"version {version.id} recorded, but its check could "
                               f"not be logged ({err}); the next capture logs it", version.id, status)

    def _held(self, key: DocKey, doubt: str, status: int | None, latest: Version | None) -> CheckResult:
        reason = (f"held, not recorded: {doubt} (fix: if the page really changed so, record it with "
                  f"`clausewatch capture {key} --accept-change`)")
        return self._log(CheckResult(key, "extraction-failed", reason, None, status), latest)

    def _check_log_takes_a_version(self, key: DocKey) -> None:
        """The log must take the check of a new version: a version recorded without its check would
        be reported as not recorded (archive-error) and go unlogged."""
        if problems := verify_check_log(document_dir(self.root, key), self.writer.signer.public_key()):
            raise ProblemsError(problems)

    def _log_unlogged(self, key: DocKey) -> None:
        """Log the latest version when a capture recorded it and died (or could not write) before
        logging it: the log names every version a capture made."""
        directory = document_dir(self.root, key)
        if directory.is_dir():
            remove_leftovers(directory)  # of a write cut short, the check log's too
        latest = self._latest(key)
        if latest is None or (latest.source or {}).get("name") != CAPTURE_SOURCE:
            return  # imported or re-extracted: never logged as a check
        if any(c.version_id == latest.id for c in read_checks(directory)):
            return
        append_check(self.root, self.writer.signer, key, Observation(
            checked_at=iso(self.clock()), outcome="new-version",
            reason=f"recorded at {latest.captured_at} by a capture that stopped before logging it",
            http_status=latest.http_status, version_id=latest.id, final_url=latest.final_url,
            sha256=latest.sha256))

    def _extract_stored(self, decl: Declaration, latest_text: str | None) -> str | None:
        """The latest version's stored pages extracted now, when that differs from its text; None
        when it does not (or there is nothing to tell by: no stored pages, or they fail)."""
        from .reextract import extract_stored  # (reextract builds on this module)

        doc = self.documents.get(decl.key)
        if doc is None or latest_text is None:
            return None
        again = extract_stored(doc, decl, self.writer)
        return again if isinstance(again, str) and again != latest_text else None

    def _reextract(self, decl: Declaration) -> Version:
        """A technical version of the latest version's stored pages, extracted now."""
        from .reextract import reextract_document

        result = reextract_document(self.documents[decl.key], decl, self.writer, self.clock)
        if result.outcome != "new-technical-version":
            raise ProblemsError([Problem(str(decl.key), "", f"not re-extracted: {result.reason}",
                                         "run `clausewatch reextract` to see why")])
        self.documents[decl.key] = load_document(document_dir(self.root, decl.key), decl.key)
        return self.documents[decl.key].latest

    def _record(self, decl: Declaration, pages: Sequence[_Page], text: str,
                latest: Version | None, technical: bool = False) -> Version:
        now = self.clock()
        version_id = version_id_at(now)
        if latest is not None and version_id <= latest.id:
            raise ProblemsError([Problem(str(decl.key), "", f"capture time {version_id} is not after the "
                                         f"latest version {latest.id}", "check the system clock")])
        names = snapshot_page_names(version_id, len(pages))
        metadata = {
            "captured_at": iso(now),
            "kind": "technical" if technical else "change" if latest else "first",
            "technical": technical,
            "url": decl.pages[0].url if len(decl.pages) == 1 else None,
            "urls": [page.url for page in decl.pages],
            "final_url": pages[0].result.final_url,
            "http_status": pages[0].result.status,
            "source": {
                "name": CAPTURE_SOURCE,
                "user_agent": self.settings.user_agent,
                "pages": [{"url": p.url, "final_url": p.result.final_url, "http_status": p.result.status,
                           "etag": p.result.etag, "last_modified": p.result.last_modified,
                           "content_type": p.result.content_type, "charset": p.result.charset,
                           "not_modified": p.result.outcome == "not-modified"} for p in pages],
            },
            "generator": GENERATOR,
        }
        raw_pages = tuple(RawPage(name, p.raw, p.url, iso(now)) for name, p in zip(names, pages, strict=True))
        self.writer.record(NewVersion(decl.key, version_id, text, version_id, raw_pages, metadata))
        self.documents[decl.key] = load_document(document_dir(self.root, decl.key), decl.key)
        return self.documents[decl.key].latest

    def _log(self, result: CheckResult, version: Version | None) -> CheckResult:
        """Append the check; `version` is the one recorded or, for other outcomes, the latest."""
        ok = result.outcome in ("new-version", "unchanged")
        append_check(self.root, self.writer.signer, result.key, Observation(
            checked_at=iso(self.clock()), outcome=result.outcome,  # type: ignore[arg-type]
            reason=result.reason, http_status=result.http_status,
            version_id=version.id if version else None,
            final_url=version.final_url if version and ok else None,
            sha256=version.sha256 if version and ok else None))
        return result


async def run_capture(capture: Capture, declarations: Sequence[Declaration],
                      on_check: Callable[[CheckResult], None] = lambda r: None,
                      on_fetch: Callable[[FetchResult], None] = lambda r: None) -> list[CheckResult]:
    """Fetch every page of every document at once (bounded), then judge documents in order."""
    requests = capture.requests(declarations)
    results = await fetch_all(requests, capture.settings, capture.transport, on_fetch)
    checks, offset = [], 0
    for decl in declarations:
        mine = results[offset:offset + len(decl.pages)]
        offset += len(decl.pages)
        try:
            check = capture.judge(decl, mine)
        except (ProblemsError, OSError, ValueError) as err:
            # The archive refused (e.g. a damaged log): report it, keep capturing the others.
            check = CheckResult(decl.key, "archive-error", f"not recorded: {err}", None, None)
        on_check(check)
        checks.append(check)
    return checks

"""The `clausewatch` command: argument parsing and reporting; the work happens in the stages."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .analyze import analyze_markdown, check_examples
from .archive import ArchiveWriter, load_archive
from .buildcache import CacheLocationError
from .capture import FAILED, Capture, CheckResult, in_shard, parse_shard, run_capture, select_declarations
from .charset import decode
from .content import load_content
from .evaluate import evaluate, format_table, read_sentences, write_predictions
from .extract import ExtractionError, extract_page
from .fetch import FetchResult, FetchSettings
from .impact import compare, format_markdown, repository_root, rules_at_revision
from .model import DocKey, Problem, ProblemsError, SourcePage
from .ota_import import ImportReport, import_corpus, write_missing_declarations
from .pipeline import build
from .reextract import reextract_document
from .render import SiteOutputError
from .rules import Ruleset, load_ruleset
from .serve import make_server
from .signing import SigningError, generate_key_pair, load_signer
from .verify import verify_archive

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2
KEY_HELP = "<service>/<doc-type> or <service> (default: every declared document)"


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _add_dirs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--content", type=Path, default=Path("content"), metavar="DIR",
                        help="site settings, service declarations and rules (default: content/)")
    parser.add_argument("--archive", type=Path, default=Path("archive"), metavar="DIR",
                        help="signed versions and snapshots (default: archive/)")


def _add_secret_key(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--secret-key", type=Path, metavar="FILE",
                        help="minisign secret key file (default: $CLAUSEWATCH_SECRET_KEY)")


def _ruleset(content_dir: Path) -> Ruleset:
    content = load_content(content_dir)
    return load_ruleset(content_dir, {t.slug for t in content.document_types})


def _example_problems(ruleset: Ruleset) -> list[Problem]:
    return [Problem(f.rule.file, "examples.match" if f.expected else "examples.no_match",
                    f"{'does not match' if f.expected else 'matches'}: {f.sentence!r}",
                    "adjust the patterns or 'unless' so every example behaves as declared")
            for f in check_examples(ruleset.rules)]


def cmd_validate(args: argparse.Namespace) -> int:
    content = load_content(args.content)
    ruleset = load_ruleset(args.content, {t.slug for t in content.document_types})
    problems = _example_problems(ruleset)
    if problems:
        raise ProblemsError(problems)
    documents = sum(len(s.documents) for s in content.services)
    print(f"{args.content}: OK ({len(content.services)} services, {documents} documents, "
          f"{len(content.document_types)} document types, {len(ruleset.rules)} rules in "
          f"{len(ruleset.categories)} categories, all rule examples pass)")
    return EXIT_OK


def cmd_rules_test(args: argparse.Namespace) -> int:
    ruleset = _ruleset(args.content)
    problems = _example_problems(ruleset)
    for problem in problems:
        _say(f"FAIL {problem}")
    examples = sum(len(r.examples_match) + len(r.examples_no_match) for r in ruleset.rules)
    print(f"{examples - len(problems)} passed, {len(problems)} failed "
          f"({len(ruleset.rules)} rules)")
    return EXIT_PROBLEMS if problems else EXIT_OK


def cmd_rules_eval(args: argparse.Namespace) -> int:
    ruleset = _ruleset(args.content)
    result = evaluate(ruleset.rules, ruleset.label_mapping, read_sentences(args.file))
    if args.predictions:
        write_predictions(args.predictions, result.predictions)
    if args.format == "json":
        print(json.dumps(result.as_json()))
    else:
        print(format_table(result))
    return EXIT_OK


def cmd_rules_impact(args: argparse.Namespace) -> int:
    head = _ruleset(args.content).rules
    base = rules_at_revision(repository_root(args.content), args.base, args.content)
    archive = load_archive(args.archive)
    print(format_markdown(compare(archive, base, head), args.base, len(archive.documents)), end="")
    return EXIT_OK


def _selected(args: argparse.Namespace, keys: Sequence[str]) -> list[DocKey]:
    """Document keys named as <service>/<doc-type> or <service> (all its documents)."""
    archive = load_archive(args.archive)
    available = [d.key for d in archive.documents]
    chosen: list[DocKey] = []
    for key in keys:
        matches = [k for k in available if str(k) == key or k.service == key]
        if not matches:
            raise ProblemsError([Problem(str(args.archive), key, "no such document in the archive",
                                         "use <service>/<doc-type> or <service>; see `clausewatch stats`")])
        chosen += [m for m in matches if m not in chosen]
    return chosen


def cmd_analyze(args: argparse.Namespace) -> int:
    ruleset = _ruleset(args.content)
    archive = load_archive(args.archive)
    documents = {d.key: d for d in archive.documents}
    for key in _selected(args, args.keys):
        version = documents[key].latest
        findings = analyze_markdown(ruleset.rules, key.doc_type, version.read_text())
        if args.format == "json":
            print(json.dumps({"document": str(key), "version": version.id,
                              "findings": [dataclasses.asdict(f) for f in findings]}))
            continue
        counts = {s: sum(f.severity == s for f in findings) for s in ("high", "medium", "low")}
        print(f"{key} @ {version.id}: {len(findings)} findings "
              f"({counts['high']} high, {counts['medium']} medium, {counts['low']} low)")
        for f in findings:
            print(f"  [{f.severity}] {f.rule_id} {f.clause_id} @{f.start}-{f.end}: {f.quote}")
    return EXIT_OK


def cmd_import_ota(args: argparse.Namespace) -> int:
    writer = ArchiveWriter(args.archive, load_signer(args.secret_key))

    def progress(r: ImportReport) -> None:
        _say(f"  {r.key}: {r.versions} versions ({r.new_versions} new), {r.snapshots} snapshots")

    _say(f"importing {args.dir} into {args.archive}")
    reports = import_corpus(args.dir, writer, progress)
    created = write_missing_declarations(args.dir, args.content / "services")
    for path in created:
        _say(f"  declared {path}")
    print(f"imported {len(reports)} documents, {sum(r.versions for r in reports)} versions "
          f"({sum(r.new_versions for r in reports)} new), {sum(r.snapshots for r in reports)} snapshots")
    try:
        content = load_content(args.content)
    except ProblemsError as err:
        _say("warning: content/ does not validate yet; run `clausewatch validate`:\n" + str(err))
        return EXIT_OK
    undeclared = [str(r.key) for r in reports if content.declaration(r.key) is None]
    if undeclared:
        _say("warning: imported but not declared in content/services/ (history is kept, the "
             "document is not captured): " + ", ".join(undeclared))
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    report = verify_archive(args.archive, args.public_key)
    for warning in report.warnings:
        _say(f"note {warning}")
    for problem in report.problems:
        _say(f"FAIL {problem}")
    summary = (f"{report.documents} documents, {report.versions} versions, {report.snapshots} "
               f"snapshots, {report.signatures} signatures checked")
    if report.ok:
        print(f"{args.archive}: OK ({summary})")
        return EXIT_OK
    print(f"{args.archive}: {len(report.problems)} problems ({summary})")
    return EXIT_PROBLEMS


def _build(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    if args.jobs is not None and args.jobs < 1:
        _say("--jobs must be at least 1")
        return EXIT_USAGE
    report = build(args.content, args.archive, args.out, args.theme, progress=_say, workers=args.jobs)
    print(f"built {args.out}: {report.pages} pages for {report.documents} documents and "
          f"{report.versions} versions; {report.files_changed} files written, "
          f"{report.files_removed} removed, {report.files_kept} unchanged, "
          f"in {time.perf_counter() - started:.1f} s")
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    _build(args)
    server = make_server(args.out, port=args.port)
    host, port = server.server_address[:2]
    _say(f"serving {args.out} at http://{host!s}:{port}/ (Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        _say("stopped")
    finally:
        server.server_close()
    return EXIT_OK


def cmd_keygen(args: argparse.Namespace) -> int:
    secret, public = generate_key_pair(args.dir)
    print(f"wrote {secret} (secret: keep it out of git; store its contents in the CI secret "
          f"CLAUSEWATCH_SECRET_KEY) and {public} (public: copy it to the archive as minisign.pub)")
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    archive = load_archive(args.archive)
    pages = sum(len(v.snapshots) for d in archive.documents for v in d.versions)
    print(f"{len(archive.documents)} documents, {archive.version_count} versions, "
          f"{archive.snapshot_count} snapshots ({pages} raw pages)")
    return EXIT_OK


def _summary(rows: Sequence[tuple[str, str, str, str]]) -> str:
    """A plain table: document, outcome, version, reason (wrapped to one line)."""
    header = ("document", "outcome", "version", "reason")
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(3)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header[:3], widths, strict=True)) + "  reason"]
    for row in rows:
        reason = row[3] if len(row[3]) <= 100 else row[3][:99] + "…"
        lines.append("  ".join(c.ljust(w) for c, w in zip(row[:3], widths, strict=True)) + "  " + reason)
    return "\n".join(lines)


def cmd_capture(args: argparse.Namespace) -> int:
    content = load_content(args.content)
    declarations = select_declarations([d for s in content.services for d in s.documents], args.keys)
    if args.shard:
        declarations = in_shard(declarations, args.shard)
    writer = ArchiveWriter(args.archive, load_signer(args.secret_key))
    settings = FetchSettings(timeout=args.timeout, concurrency=args.concurrency, per_host=args.per_host)
    capture = Capture(args.archive, writer, settings)
    pages = sum(len(d.pages) for d in declarations)
    fetched = 0
    tty = sys.stderr.isatty()

    def on_fetch(result: FetchResult) -> None:
        nonlocal fetched
        fetched += 1
        if tty:
            print(f"\rfetched {fetched}/{pages} pages", end="", file=sys.stderr, flush=True)

    def on_check(check: CheckResult) -> None:
        if not tty:
            _say(f"{check.key}: {check.outcome}" + (f" ({check.reason})" if check.outcome in FAILED else ""))

    _say(f"capturing {len(declarations)} documents ({pages} pages) into {args.archive}")
    checks = asyncio.run(run_capture(capture, declarations, on_check, on_fetch))
    if tty:
        print(file=sys.stderr)
    print(_summary([(str(c.key), c.outcome, c.version_id or "-", c.reason) for c in checks]))
    counts = Counter(c.outcome for c in checks)
    print(", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())))
    return EXIT_PROBLEMS if any(c.outcome in FAILED for c in checks) else EXIT_OK


def cmd_reextract(args: argparse.Namespace) -> int:
    content = load_content(args.content)
    declarations = select_declarations([d for s in content.services for d in s.documents], args.keys)
    writer = ArchiveWriter(args.archive, load_signer(args.secret_key))
    documents = {d.key: d for d in load_archive(args.archive).documents}
    rows = []
    for decl in declarations:
        if decl.key not in documents:
            rows.append((str(decl.key), "no-snapshot", "-", "nothing archived yet"))
            continue
        result = reextract_document(documents[decl.key], decl, writer)
        rows.append((result.document, result.outcome, result.version_id or "-", result.reason))
    print(_summary(rows))
    return EXIT_PROBLEMS if any(r[1] == "extraction-failed" for r in rows) else EXIT_OK


def cmd_extract(args: argparse.Namespace) -> int:
    try:
        data = args.file.read_bytes()
    except OSError as err:
        raise ProblemsError([Problem(str(args.file), "", f"cannot read: {err.strerror}", "check the path")]) \
            from err
    page = SourcePage(args.url or args.file.resolve().as_uri(), tuple(args.select), tuple(args.remove))
    try:
        extraction = extract_page(decode(data).text, page, args.url, doc_type=args.doc_type)
    except ExtractionError as err:
        _say(f"error: {args.file}: {err}")
        return EXIT_PROBLEMS
    sys.stdout.write(extraction.markdown)
    _say(f"{extraction.words} words, {extraction.coverage:.1%} of the selected text kept")
    return EXIT_OK


def _shard(text: str) -> tuple[int, int]:
    try:
        return parse_shard(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


Command = Callable[[argparse.Namespace], int]


def _add_verb(verbs: Any, name: str, func: Command, text: str) -> argparse.ArgumentParser:
    """A verb with the options every verb takes (--content, --archive)."""
    sub: argparse.ArgumentParser = verbs.add_parser(name, help=text, description=text)
    _add_dirs(sub)
    sub.set_defaults(func=func)
    return sub


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clausewatch",
        description="A signed, searchable archive of terms of service and privacy policies.",
    )
    parser.add_argument("--version", action="version", version=f"clausewatch {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    def verb(name: str, func: Command, text: str) -> argparse.ArgumentParser:
        return _add_verb(verbs, name, func, text)

    verb("validate", cmd_validate, "check content/ (settings, document types, service declarations)")

    sub = verb("import-ota", cmd_import_ota,
               "import a folder in the layout of shared/corpus/ (Open Terms Archive data), signing it")
    sub.add_argument("dir", type=Path, metavar="DIR", help="the folder to import")
    _add_secret_key(sub)

    sub = verb("verify", cmd_verify, "recompute every hash and check every signature of the archive")
    sub.add_argument("--public-key", type=Path, metavar="FILE",
                     help="pin the public key (default: the archive's own minisign.pub)")

    for name, func, text in (("build", _build, "build the static site from content/ and archive/"),
                             ("serve", cmd_serve, "build the site, then preview it on 127.0.0.1")):
        sub = verb(name, func, text)
        sub.add_argument("--out", type=Path, default=Path("site"), metavar="DIR",
                         help="output folder (default: site/)")
        sub.add_argument("--theme", type=Path, metavar="DIR",
                         help="a theme folder whose templates/ and static/ override the default theme")
        sub.add_argument("--jobs", type=int, metavar="N",
                         help="worker processes for analysis and rendering (default: one per core)")
        sub.epilog = ("Only what changed since the last build into --out is made again; what earlier "
                      "builds computed is kept in the build cache: $CLAUSEWATCH_CACHE_DIR, else "
                      "$XDG_CACHE_HOME/clausewatch or ~/.cache/clausewatch (safe to delete).")
        if name == "serve":
            sub.add_argument("--port", type=int, default=8000, help="port (default: 8000)")

    sub = verb("keygen", cmd_keygen, "make a signing key pair: DIR/minisign.key and DIR/minisign.pub")
    sub.add_argument("dir", type=Path, metavar="DIR", help="folder for the two key files")

    verb("stats", cmd_stats, "count documents, versions and snapshots in the archive")

    sub = verb("capture", cmd_capture,
               "fetch, extract, compare, record and sign declared documents; log every check")
    sub.add_argument("keys", nargs="*", metavar="KEY", help=KEY_HELP)
    _add_secret_key(sub)
    sub.add_argument("--concurrency", type=int, default=16, help="pages fetched at once (default: 16)")
    sub.add_argument("--per-host", type=int, default=2, help="pages fetched at once per host (default: 2)")
    sub.add_argument("--timeout", type=float, default=30.0, help="seconds per attempt (default: 30)")
    sub.add_argument("--shard", type=_shard, metavar="I/N",
                     help="capture only shard I of N (1 <= I <= N): the documents whose key hashes to I, "
                          "so N parallel jobs capture each document exactly once")

    sub = verb("reextract", cmd_reextract,
               "rebuild versions from stored snapshots under the current declarations (technical changes)")
    sub.add_argument("keys", nargs="*", metavar="KEY", help=KEY_HELP)
    _add_secret_key(sub)

    sub = verb("extract", cmd_extract, "print the normalized Markdown of one saved HTML page")
    sub.add_argument("file", type=Path, metavar="FILE.html")
    sub.add_argument("--select", action="append", default=[], metavar="CSS", help="CSS selector to keep")
    sub.add_argument("--remove", action="append", default=[], metavar="CSS", help="CSS selector to drop")
    sub.add_argument("--url", help="the page's URL, to resolve relative links")
    sub.add_argument("--doc-type", metavar="SLUG",
                     help="the document's type (e.g. privacy-policy): without --select, keep only that "
                          "document when the page holds several")

    sub = verb("analyze", cmd_analyze, "print the findings of the rules on the latest version of documents")
    sub.add_argument("keys", nargs="+", metavar="KEY", help="<service>/<doc-type> or <service>")
    sub.add_argument("--format", choices=("text", "json"), default="text", help="output format")

    rules = verbs.add_parser("rules", help="test, measure and compare the ruleset",
                             description="test, measure and compare the ruleset")
    rule_verbs = rules.add_subparsers(dest="rules_verb", required=True, metavar="VERB")

    def rule_verb(name: str, func: Command, text: str) -> argparse.ArgumentParser:
        return _add_verb(rule_verbs, name, func, text)

    rule_verb("test", cmd_rules_test, "check every rule's example sentences")
    sub = rule_verb("eval", cmd_rules_eval,
                    "precision, recall and F1 of the rules on a labelled sentence file (JSON Lines)")
    sub.add_argument("file", type=Path, metavar="FILE.jsonl")
    sub.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    sub.add_argument("--predictions", type=Path, metavar="OUT.jsonl",
                     help="also write one line of predicted labels per input sentence")
    sub = rule_verb("impact", cmd_rules_impact,
                    "Markdown report of the findings a rule change adds and removes across the archive")
    sub.add_argument("--base", required=True, metavar="REV", help="git revision to compare against")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ProblemsError as err:
        for problem in err.problems:
            _say(f"error: {problem}")
        _say(f"{len(err.problems)} problem(s) found")
        return EXIT_PROBLEMS
    except (SigningError, SiteOutputError, CacheLocationError) as err:
        _say(f"error: {err}")
        return EXIT_PROBLEMS

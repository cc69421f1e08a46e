"""What each verb of the `clausewatch` command does: call its stage, then report to the person
who ran it. Kept apart from the option parsing (generator.cli) so each verb reads on its own.
"""

from __future__ import annotations

import argparse
import dataclasses
import difflib
import json
import re
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .analyze import (
    EXAMPLES_TIME_LIMIT_S,
    ExampleFailure,
    SlowExamples,
    analyze_markdown,
    check_examples,
    unexercised_exceptions,
    untested_patterns,
    why_matched,
)
from .archive import ArchiveWriter, load_archive, sole_writer
from .buildverb import cmd_build
from .console import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, counted, say
from .content import content_folder_problem, load_content, missing_pages
from .findingjson import finding_record
from .language import reads_as_english
from .model import Content, DocKey, Problem, ProblemsError, Rule, SourcePage, display_path
from .rewrites import REWRITES
from .robustness import Flip, flips
from .rules import Ruleset, load_ruleset, read_ruleset
from .signing import PUBLISHED_KEY_IDS, generate_key_pair, load_signer
from .verify import verify_archive

if TYPE_CHECKING:
    from .capture import CheckResult
    from .fetch import FetchResult
    from .ota_import import ImportReport

# Stages only some verbs use (capture, extraction, import, evaluation, the preview server) are
# imported inside those verbs: a build need not load httpx, readability and the tracker list.



def _document_types(content_dir: Path) -> set[str] | None:
    """The declared document types, None when the content folder has problems (they are reported by
    `validate`; the rules are then checked without knowing the types)."""
    try:
        return {t.slug for t in load_content(content_dir).document_types}
    except ProblemsError:
        return None


def _ruleset(content_dir: Path) -> Ruleset:
    return load_ruleset(content_dir, _document_types(content_dir))


def _example_problem(f: ExampleFailure) -> Problem:
    if f.slow_regex:
        return Problem(f.rule.file, f.slow_regex,
                       f"takes over {EXAMPLES_TIME_LIMIT_S:g} s on the rule's examples: the regex backtracks "
                       "without end (a repetition inside a repetition, such as (\\w+\\s?)+)",
                       "rewrite it so no part can be repeated in two ways, e.g. [\\w\\s]+ for (\\w+\\s?)+")
    if f.graded:
        key = "milder.examples.milder" if f.expected else "milder.examples.full"
        said = "does not match the rule" if f.graded == "unmatched" else f"is graded {f.graded}"
        matched, cancelled = why_matched(f.rule, f.sentence)
        if f.graded == "unmatched" and matched and cancelled:
            said = f"matched by {_keys('patterns', matched)} but cancelled by {_keys('unless', cancelled)}"
        return Problem(f.rule.file, key, f"{said}: {f.sentence!r}",
                       "adjust 'milder.when' and 'milder.unless' (or the patterns) so the example is graded "
                       "as listed")
    matched, cancelled = why_matched(f.rule, f.sentence)
    patterns, exceptions = _keys("patterns", matched), _keys("unless", cancelled)
    if f.expected and matched and cancelled:  # an exception added for other sentences took this one
        return Problem(f.rule.file, "examples.match",
                       f"matched by {patterns} but cancelled by {exceptions}: {f.sentence!r}",
                       f"narrow {exceptions} so it leaves this example alone, or move the example to "
                       "'no_match' if the exception is right")
    if f.expected:
        return Problem(f.rule.file, "examples.match", f"no pattern matches: {f.sentence!r}",
                       "widen a pattern (or add one) so it matches the example")
    return Problem(f.rule.file, "examples.no_match", f"matched by {patterns}: {f.sentence!r}",
                   f"narrow {patterns}, or add an 'unless' that cancels this example")


def _keys(name: str, indexes: Sequence[int]) -> str:
    keys = [f"{name}[{i}]" for i in indexes]
    return " and ".join(filter(None, (", ".join(keys[:-1]), *keys[-1:])))


@dataclasses.dataclass
class _ExampleCheck:
    """A ruleset's examples checked: the problems found, and what they leave unproven (for the
    summary of `rules test`)."""

    problems: list[Problem]
    failed: set[tuple[str, str]]  # (rule file, example) misbehaving, as written or rewritten
    slow: set[str]  # files of the rules whose examples ran out of time: none of them is known to pass
    unmatched: int = 0  # patterns no 'match' example matches, or not known to (their rule is slow)

    def failed_examples(self, rules: Sequence[Rule]) -> int:
        slow = sum(example_count(r) for r in rules if r.file in self.slow)
        return slow + sum(1 for file, _ in self.failed if file not in self.slow)


def _check_examples(ruleset: Ruleset, rewritten: bool = False) -> _ExampleCheck:
    """Every rule's examples as written, and with `rewritten` as other companies write them too."""
    failures = check_examples(ruleset.rules)
    check = _ExampleCheck([_example_problem(f) for f in failures],
                          {(f.rule.file, f.sentence) for f in failures if not f.slow_regex},
                          {f.rule.file for f in failures if f.slow_regex})
    # A pattern no example matches is untested, or dead (in double quotes YAML turns \b into a
    # backspace): a change that breaks it would go unseen.
    for rule in ruleset.rules:
        if rule.file in check.slow:  # reported already
            continue
        try:
            untested = untested_patterns(rule)
        except SlowExamples as err:
            check.problems.append(_example_problem(ExampleFailure(rule, "", True, err.key)))
            check.slow.add(rule.file)
            continue
        check.problems += [Problem(rule.file, f"patterns[{i}]", "no 'match' example matches this pattern",
                                   "add an example it matches (in single quotes YAML keeps a regex's "
                                   "backslashes)")
                           for i in untested]
        check.unmatched += len(untested)
        # An exception no example exercises could stop working, or never have worked, unseen.
        check.problems += [Problem(rule.file, f"unless[{k}]",
                                   "cancels no 'no_match' example that a pattern matches",
                                   "add a 'no_match' example a pattern matches and this exception is there "
                                   "to leave alone")
                           for k in unexercised_exceptions(rule)]
    check.unmatched += sum(len(r.patterns) for r in ruleset.rules if r.file in check.slow)
    if rewritten:
        # Rewrites of an example that already fails would say nothing new; a slow rule would stall.
        written = set(check.failed)
        for f in flips([r for r in ruleset.rules if r.file not in check.slow]):
            if (f.rule.file, f.sentence) not in written:
                check.problems.append(_flip_problem(f))
                check.failed.add((f.rule.file, f.sentence))
    return check


def example_count(rule: Rule) -> int:
    """A rule's example sentences: what must match, what must not, and how a milder grade reads."""
    milder = len(rule.milder.examples_milder) + len(rule.milder.examples_full) if rule.milder else 0
    return len(rule.examples_match) + len(rule.examples_no_match) + milder


def _flip_problem(f: Flip) -> Problem:
    """An example its rule reads otherwise once rewritten as other companies write it (robustness.py)."""
    key = "examples.match" if f.sentence in f.rule.examples_match else "examples.no_match"
    return Problem(f.rule.file, key, f"reads otherwise {_HOW.get(f.how, f'with {f.how}')}: {f.rewritten!r}",
                   "make the patterns read both ways the same (the sentence means the same)")


_HOW = {"capitals": "in capitals", "contractions": "with contractions", "third-person": "in the third person"}


def slow_noise(content: Content, content_dir: Path, archive: Path) -> list[Problem]:
    """Each noise pattern tried on its document's latest archived text, as a capture would: one
    that backtracks without end would fail every capture of that document."""
    from .noise import NOISE_TIME_LIMIT_S, SlowNoise, apply_noise_filters

    problems = []
    for service in content.services:
        for decl in service.documents:
            texts = sorted((archive / decl.key.service / decl.key.doc_type / "versions").glob("*.md"))
            if not (decl.noise and texts):
                continue
            text = texts[-1].read_text(encoding="utf-8", errors="replace")
            for i, pattern in enumerate(decl.noise):
                try:
                    apply_noise_filters(text, [pattern], NOISE_TIME_LIMIT_S)
                except SlowNoise as err:
                    problems.append(Problem(
                        display_path(content_dir / "services" / f"{service.slug}.yaml"),
                        f"documents.{decl.key.doc_type}.noise[{i}]", f"{err} (the latest archived text, "
                        f"{texts[-1].stem})", "simplify it: no repeated group that can match the same words "
                        "in many ways, such as (\\w+ ?)+; a capture with it fails"))
    return problems


def cmd_validate(args: argparse.Namespace) -> int:
    # Every problem at once: the declarations', the pages' and the rules' (a broken service file
    # must not hide a broken rule, nor the reverse).
    problems: list[Problem] = []
    content: Content | None = None
    ruleset: Ruleset | None = None
    if wrong := content_folder_problem(args.content):  # said once, not by each loader
        raise ProblemsError([wrong])
    try:
        content = load_content(args.content)
        problems += missing_pages(content, args.content)
    except ProblemsError as err:
        problems += err.problems
    # The rules that load have their examples checked even when another rule file is broken.
    loaded, broken = read_ruleset(args.content, {t.slug for t in content.document_types} if content else None)
    problems += broken + _check_examples(loaded).problems
    ruleset = None if broken else loaded
    if content is not None:
        # A renamed service or document type leaves its history behind, never captured again. Said
        # before any errors too: a rename often comes with some, and fixing them would not recall it.
        archived = sorted(f"{folder.parent.name}/{folder.name}"
                          for folder in args.archive.glob("*/*") if (folder / "versions").is_dir())
        orphans = [key for key in archived if content.declaration(DocKey(*key.split("/"))) is None]
        if orphans:
            say(f"warning: archived in {args.archive} but not declared (history is kept and shown, the "
                "document is no longer captured; a renamed service or document type needs its archive "
                "folder renamed too): " + ", ".join(orphans))
    if content is not None:
        problems += slow_noise(content, args.content, args.archive)
    if problems or content is None or ruleset is None:
        raise ProblemsError(problems)
    documents = sum(len(s.documents) for s in content.services)
    print(f"{args.content}: OK ({len(content.services)} services, {documents} documents, "
          f"{len(content.document_types)} document types, {len(content.pages)} pages, "
          f"{len(ruleset.rules)} rules in {len(ruleset.categories)} categories, all rule examples pass as "
          "written; `clausewatch rules test` also tries them as other companies word them)")
    return EXIT_OK


def cmd_rules_test(args: argparse.Namespace) -> int:
    ruleset = _ruleset(args.content)
    check = _check_examples(ruleset, rewritten=True)
    for problem in check.problems:
        say(f"FAIL {problem}")
    examples = sum(example_count(r) for r in ruleset.rules)
    failed = check.failed_examples(ruleset.rules)
    patterns = sum(len(r.patterns) for r in ruleset.rules)
    exceptions = sum(len(r.unless) for r in ruleset.rules)
    unexercised = sum(len(unexercised_exceptions(r)) for r in ruleset.rules if r.file not in check.slow)
    print(f"{examples - failed} passed, {failed} failed (the examples of {len(ruleset.rules)} rules, as "
          f"written and rewritten; {patterns - check.unmatched} of their {patterns} patterns matched by "
          f"an example; {exceptions - unexercised} of their {exceptions} exceptions cancel a 'no_match' "
          "example)" + (f"; FAILED: {len(check.problems)} problem(s), listed above" if check.problems
                           else ""))
    return EXIT_PROBLEMS if check.problems else EXIT_OK


def cmd_rules_eval(args: argparse.Namespace) -> int:
    from .evaluate import evaluate, format_table, read_sentences, unscored, write_predictions

    if args.predictions and args.predictions.resolve() == args.file.resolve():
        say(f"error: --predictions {args.predictions} is the input file: writing it would erase the "
            "sentences (fix: name another file)")
        return EXIT_USAGE
    ruleset = _ruleset(args.content)
    sentences = read_sentences(args.file)
    if args.rewrite:
        rewrite = REWRITES[args.rewrite]
        sentences = [dataclasses.replace(s, text=rewrite(s.text), lead_in=s.lead_in and rewrite(s.lead_in))
                     for s in sentences]
    in_file = set().union(*(s.labels for s in sentences)) if sentences else set()
    for category, label in sorted(ruleset.label_mapping.items()):
        # A typo in the mapping would score that label 0 in silence (a label the file lacks altogether,
        # such as privacy_included in tos50, is fine).
        near = difflib.get_close_matches(label, sorted(in_file - {label}), n=1, cutoff=0.8)
        if label not in in_file and near:
            say(f"warning: content/rules/label-mapping.yaml maps {category} to {label!r}, which no sentence "
                f"of {args.file} carries: did you mean {near[0]!r}?")
    unknown = sorted(in_file - set(ruleset.label_mapping.values()))
    if unknown:  # (a typo in the file scores nothing, and says nothing, otherwise)
        counts = Counter(label for s in sentences for label in s.labels if label in unknown)
        listed = ", ".join(f"{label} ({counts[label]} sentence{'s' if counts[label] != 1 else ''})"
                           for label in unknown)
        say(f"note: labels of {args.file} that no rule category maps to (content/rules/label-mapping.yaml), "
            f"so no rule can predict them: {listed}")
    result = evaluate(ruleset.rules, ruleset.label_mapping, sentences)
    if args.predictions:
        try:
            write_predictions(args.predictions, result.predictions)
        except OSError as err:
            fix = "name a file in a folder that exists and you can write to"
            raise ProblemsError([Problem(str(args.predictions), "--predictions",
                                         f"cannot write: {err.strerror}", fix)]) from err
    if args.format == "json":
        print(json.dumps(result.as_json()))
    else:
        print(format_table(result))
        for note in unscored({r.category for r in ruleset.rules}, ruleset.label_mapping, in_file):
            print(note)
    return EXIT_OK


def cmd_rules_impact(args: argparse.Namespace) -> int:
    from .impact import (
        EngineUnavailable,
        compare,
        engine_changed,
        findings_at_revision,
        findings_by_rules,
        format_markdown,
        repository_root,
        rules_at_revision,
    )

    head = _ruleset(args.content).rules
    repo = repository_root(args.content)
    base_rules = rules_at_revision(repo, args.base, args.content)  # also checks the revision exists
    archive = load_archive(args.archive)
    before, note = findings_by_rules(base_rules), ""
    if engine_changed(repo, args.base):
        try:
            before = findings_at_revision(repo, args.base, args.content, archive, args.archive)
            note = f"The analysis code changed too: `{args.base}` is measured with its own code and rules."
        except EngineUnavailable as err:
            note = (f"The analysis code changed too, but the code at `{args.base}` could not be run ({err}): "
                    "its rule files were read by the current code.")
    impacts = compare(archive, before, findings_by_rules(head))
    print(format_markdown(impacts, args.base, len(archive.documents), note), end="")
    return EXIT_OK


def _selected(args: argparse.Namespace, keys: Sequence[str]) -> list[DocKey]:
    """Document keys named as <service>/<doc-type> or <service> (all its documents)."""
    archive = load_archive(args.archive)
    available = [d.key for d in archive.documents]
    chosen: list[DocKey] = []
    for key in keys:
        matches = [k for k in available if str(k) == key or k.service == key]
        if not matches:
            services = sorted({k.service for k in available})
            near = difflib.get_close_matches(key, sorted({str(k) for k in available} | set(services)), n=1)
            fix = f"did you mean {near[0]!r}?" if near else \
                f"use <service>/<doc-type> or <service>, one of: {', '.join(services)}"
            raise ProblemsError([Problem(str(args.archive), key, "no such document in the archive", fix)])
        chosen += [m for m in matches if m not in chosen]
    return chosen


def cmd_analyze(args: argparse.Namespace) -> int:
    ruleset = _ruleset(args.content)
    archive = load_archive(args.archive)
    documents = {d.key: d for d in archive.documents}
    for key in _selected(args, args.keys):
        version = documents[key].latest
        text = version.read_text()
        english = reads_as_english(text)
        findings = analyze_markdown(ruleset.rules, key.doc_type, text) if english else []
        if args.format == "json":
            titles = {r.id: r.title for r in ruleset.rules}
            print(json.dumps({"document": str(key), "version": version.id, "analysed": english,
                              "findings": [finding_record(f, titles.get(f.rule_id)) for f in findings]}))
            continue
        if not english:
            print(f"{key} @ {version.id}: not analysed: the text is not in English, the only language "
                  "the rules read")
            continue
        counts = {s: sum(f.severity == s for f in findings) for s in ("high", "medium", "low")}
        print(f"{key} @ {version.id}: {len(findings)} findings "
              f"({counts['high']} high, {counts['medium']} medium, {counts['low']} low)")
        for f in findings:
            print(f"  [{f.severity}] {f.rule_id} {f.clause_id} @{f.start}-{f.end}: {f.quote}")
    return EXIT_OK


def cmd_import_ota(args: argparse.Namespace) -> int:
    from .ota_import import import_corpus, write_missing_declarations

    writer = ArchiveWriter(args.archive, load_signer(args.secret_key))

    def progress(r: ImportReport) -> None:
        say(f"  {r.key}: {r.versions} versions ({r.new_versions} new), {r.snapshots} snapshots")

    say(f"importing {args.dir} into {args.archive}")
    with sole_writer(args.archive):
        reports = import_corpus(args.dir, writer, progress)
    created = write_missing_declarations(args.dir, args.content / "services")
    for path in created:
        say(f"  declared {path}")
    print(f"imported {len(reports)} documents, {sum(r.versions for r in reports)} versions "
          f"({sum(r.new_versions for r in reports)} new), {sum(r.snapshots for r in reports)} snapshots")
    try:
        content = load_content(args.content)
    except ProblemsError as err:
        say("warning: content/ does not validate yet; run `clausewatch validate`:\n" + str(err))
        return EXIT_OK
    undeclared = [str(r.key) for r in reports if content.declaration(r.key) is None]
    if undeclared:
        say("warning: imported but not declared in content/services/ (history is kept, the "
             "document is not captured): " + ", ".join(undeclared))
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    report = verify_archive(args.archive, args.public_key)
    for warning in report.warnings:
        say(f"note {warning}")
    for problem in report.problems:
        say(f"FAIL {problem}")
    summary = (f"{counted(report.documents, 'document')}, {counted(report.versions, 'version')}, "
               f"{counted(report.snapshots, 'snapshot')}, {counted(report.signatures, 'signature')} checked")
    if report.key_id in PUBLISHED_KEY_IDS:
        say(f"note: key {report.key_id} is the published demo key: the signatures show the files are "
            "intact, not who signed them")
    if report.ok:
        print(f"{args.archive}: OK ({summary})")
        return EXIT_OK
    print(f"{args.archive}: {counted(len(report.problems), 'problem')} ({summary})")
    return EXIT_PROBLEMS


def cmd_serve(args: argparse.Namespace) -> int:
    from .serve import make_server, mount_path

    base_path = mount_path(load_content(args.content).settings.base_url)
    try:  # first: a port in use fails before the build
        server = make_server(args.out, port=args.port, base_path=base_path)
    except OSError as err:
        say(f"error: cannot listen on 127.0.0.1:{args.port}: {err.strerror or err} "
            "(fix: pick another port with --port, or --port 0 for any free one)")
        return EXIT_PROBLEMS
    cmd_build(args)
    host, port = server.server_address[:2]
    say(f"serving {args.out} at http://{host!s}:{port}{base_path} (as deployed, under the path of "
        f"base_url; Ctrl-C stops)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        say("stopped")
    finally:
        server.server_close()
    return EXIT_OK


def cmd_keygen(args: argparse.Namespace) -> int:
    secret, public = generate_key_pair(args.dir or Path.home() / ".minisign")
    print(f"wrote {secret} (secret: keep it out of git; store its contents in the CI secret "
          f"CLAUSEWATCH_SECRET_KEY) and {public} (public: copy it to the archive as minisign.pub)")
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    archive = load_archive(args.archive)
    pages = sum(len(v.snapshots) for d in archive.documents for v in d.versions)
    # Documents captured only with failures so far have a check log and no version (verify counts them).
    recorded = {str(d.key) for d in archive.documents}
    logged = {f"{log.parent.parent.name}/{log.parent.name}" for log in args.archive.glob("*/*/checks.jsonl")}
    unrecorded = len(logged - recorded)
    print(f"{counted(len(archive.documents), 'document')}, {counted(archive.version_count, 'version')}, "
          f"{counted(archive.snapshot_count, 'snapshot')} ({counted(pages, 'raw page')})"
          + (f"; {counted(unrecorded, 'more document')} checked, with no version yet" if unrecorded else ""))
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
    import asyncio

    from .capture import FAILED, Capture, run_capture, select_declarations
    from .fetch import FetchSettings
    from .shards import in_shard

    if args.accept_change and not args.keys:
        say("error: --accept-change records doubtful texts only for documents named as KEYs (fix: name "
            "each document whose page you have read, e.g. `clausewatch capture acme/terms-of-service "
            "--accept-change`)")
        return EXIT_USAGE
    content = load_content(args.content)
    declared = [d for s in content.services for d in s.documents]
    vouched = {d.key for key in args.accept_change_for for d in select_declarations(declared, [key])
               if str(d.key) == key}
    if len(vouched) < len(set(args.accept_change_for)):
        say("error: --accept-change-for takes one document, <service>/<doc-type>, as declared (fix: name "
            "each document whose page you have read)")
        return EXIT_USAGE
    declarations = select_declarations(declared, args.keys)
    if args.shard:
        declarations = in_shard(declarations, args.shard)
    writer = ArchiveWriter(args.archive, load_signer(args.secret_key))
    settings = FetchSettings(timeout=args.timeout, concurrency=args.concurrency, per_host=args.per_host)
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
            say(f"{check.key}: {check.outcome}" + (f" ({check.reason})" if check.outcome in FAILED else ""))

    say(f"capturing {counted(len(declarations), 'document')} ({counted(pages, 'page')}) into {args.archive}")
    with sole_writer(args.archive):  # before the latest versions are read
        accepted = frozenset(d.key for d in declarations) if args.accept_change else frozenset()
        accepted |= vouched  # (one outside this shard or KEYs is another run's to record)
        capture = Capture(args.archive, writer, settings, accept_change=accepted)
        checks = asyncio.run(run_capture(capture, declarations, on_check, on_fetch))
    if tty:
        print(file=sys.stderr)
    print(_summary([(str(c.key), c.outcome, c.version_id or "-", c.reason) for c in checks]))
    counts = Counter(c.outcome for c in checks)
    print(", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())))
    return EXIT_PROBLEMS if any(c.outcome in FAILED for c in checks) else EXIT_OK


def cmd_reextract(args: argparse.Namespace) -> int:
    from .capture import select_declarations
    from .reextract import reextract_document

    content = load_content(args.content)
    declarations = select_declarations([d for s in content.services for d in s.documents], args.keys)
    writer = ArchiveWriter(args.archive, load_signer(args.secret_key))
    rows = []
    with sole_writer(args.archive):
        documents = {d.key: d for d in load_archive(args.archive).documents}
        for decl in declarations:
            if decl.key not in documents:
                rows.append((str(decl.key), "no-snapshot", "-", "nothing archived yet"))
                continue
            result = reextract_document(documents[decl.key], decl, writer)
            rows.append((result.document, result.outcome, result.version_id or "-", result.reason))
    print(_summary(rows))
    return EXIT_PROBLEMS if any(r[1] == "extraction-failed" for r in rows) else EXIT_OK


def _declared_page(args: argparse.Namespace) -> tuple[SourcePage, tuple[re.Pattern[str], ...], str] | None:
    """For `extract --as KEY`: the declared page (--page N), its document's noise and type; None,
    said why, when there is none."""
    content = load_content(args.content)
    declarations = {str(d.key): d for s in content.services for d in s.documents}
    decl = declarations.get(args.declared)
    if decl is None:
        close = difflib.get_close_matches(args.declared, sorted(declarations), n=1)
        say(f"error: --as {args.declared!r}: no such document declared in {args.content} (fix: "
            + (f"did you mean {close[0]!r}?)" if close else "use <service>/<doc-type>, as `clausewatch "
               "analyze` lists them)"))
        return None
    if not 1 <= args.page <= len(decl.pages):
        say(f"error: --page {args.page}: {args.declared} declares {len(decl.pages)} page(s) (fix: a number "
            f"from 1 to {len(decl.pages)})")
        return None
    return decl.pages[args.page - 1], decl.noise, decl.key.doc_type


def cmd_extract(args: argparse.Namespace) -> int:
    from .charset import decode
    from .content import DOCUMENT_TYPES_FILE, declared_document_types
    from .extract import ExtractionError, caused_by_selectors, denoised_text, extract_page
    from .noise import NoiseError, checked_noise
    from .pagewords import words_of

    if args.declared:
        declared_page = _declared_page(args)
        if declared_page is None:
            return EXIT_USAGE
        page, noise_patterns, args.doc_type = declared_page
        if args.select or args.remove or args.noise:
            say("error: --as takes the declaration's selectors, removals and noise: leave out "
                "--select, --remove and --noise (fix: edit the declaration, or use them without --as)")
            return EXIT_USAGE
    noise, problems = [], []
    for i, pattern in enumerate(args.noise):
        try:
            noise.append(checked_noise(pattern))
        except NoiseError as err:
            problems.append(Problem("--noise", f"[{i}]", str(err), err.fix))
    try:
        data = args.file.read_bytes()
    except OSError as err:
        problems.append(Problem(str(args.file), "", f"cannot read: {err.strerror}", "check the path"))
    declared = declared_document_types(args.content) if args.doc_type else None
    if declared is not None and args.doc_type not in declared:
        # Silently unknown, it would pick no document and keep the whole page.
        close = difflib.get_close_matches(args.doc_type, declared, n=1)
        say(f"error: --doc-type {args.doc_type!r} is not declared in {args.content / DOCUMENT_TYPES_FILE} "
            f"(fix: {f'did you mean {close[0]!r}? ' if close else ''}use one of {', '.join(declared)})")
        return EXIT_USAGE
    if problems:
        raise ProblemsError(problems)
    # A PDF, an image, an archive: capture refuses them by their type; a file has only its bytes.
    if data.startswith(b"%PDF-") or b"\0" in data[:8192]:
        say(f"error: {args.file}: not a web page (binary data): only HTML and text are extracted")
        return EXIT_PROBLEMS
    if args.declared:
        noise = list(noise_patterns)
    else:
        page = SourcePage(args.url or args.file.resolve().as_uri(), tuple(args.select), tuple(args.remove))
    try:
        extraction = extract_page(decode(data).text, page, args.url or (page.url if args.declared else None),
                                  doc_type=args.doc_type)
        # What capture would record: volatile link parameters and the noise deleted, canonical form.
        text = denoised_text([extraction.markdown], noise)
    except ExtractionError as err:
        fix = " (fix: open the page in a browser and correct --select/--remove; a selector is CSS as " \
            "lxml reads it)" if caused_by_selectors(err) else ""
        say(f"error: {args.file}: {err}{fix}")
        return EXIT_PROBLEMS
    sys.stdout.write(text)
    dropped = ""
    if noise:
        deleted = len(words_of(denoised_text([extraction.markdown], ()))) - len(words_of(text))
        dropped = f"; {deleted} deleted as noise"
    say(f"{extraction.words} words, {extraction.coverage:.1%} of the selected text kept{dropped}")
    return EXIT_OK

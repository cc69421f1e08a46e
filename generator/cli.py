"""The `clausewatch` command: argument parsing and reporting; the work happens in the stages."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from . import __version__
from .archive import ArchiveWriter, load_archive
from .content import load_content
from .model import ProblemsError
from .ota_import import ImportReport, import_corpus, write_missing_declarations
from .pipeline import build
from .render import SiteOutputError
from .serve import make_server
from .signing import SigningError, generate_key_pair, load_signer
from .verify import verify_archive

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


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


def cmd_validate(args: argparse.Namespace) -> int:
    content = load_content(args.content)
    documents = sum(len(s.documents) for s in content.services)
    print(f"{args.content}: OK ({len(content.services)} services, {documents} documents, "
          f"{len(content.document_types)} document types)")
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
    report = build(args.content, args.archive, args.out, args.theme, progress=_say)
    print(f"built {args.out}: {report.pages} pages for {report.documents} documents and "
          f"{report.versions} versions; {report.files_changed} files written, "
          f"{report.files_removed} removed, in {time.perf_counter() - started:.1f} s")
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


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clausewatch",
        description="A signed, searchable archive of terms of service and privacy policies.",
    )
    parser.add_argument("--version", action="version", version=f"clausewatch {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    def verb(name: str, func: Callable[[argparse.Namespace], int], text: str) -> argparse.ArgumentParser:
        sub = verbs.add_parser(name, help=text, description=text)
        _add_dirs(sub)
        sub.set_defaults(func=func)
        return sub

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
        if name == "serve":
            sub.add_argument("--port", type=int, default=8000, help="port (default: 8000)")

    sub = verb("keygen", cmd_keygen, "make a signing key pair: DIR/minisign.key and DIR/minisign.pub")
    sub.add_argument("dir", type=Path, metavar="DIR", help="folder for the two key files")

    verb("stats", cmd_stats, "count documents, versions and snapshots in the archive")
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
    except (SigningError, SiteOutputError) as err:
        _say(f"error: {err}")
        return EXIT_PROBLEMS

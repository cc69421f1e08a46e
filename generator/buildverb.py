"""`clausewatch build`: kept apart from commands.py so that a build with nothing to do imports
only what tells it so (preflight.py); the build's own code loads when there is work."""

from __future__ import annotations

import argparse
import time

from .console import EXIT_OK, EXIT_USAGE, say
from .preflight import preflight
from .search import DOCUMENTS_PER_SHARD


def _summary(out: object, pages: int, documents: int, versions: int, written: int, removed: int,
             kept: int, seconds: float, stages: str = "") -> str:
    return (f"built {out}: {pages} pages for {documents} documents and {versions} versions; {written} files "
            f"written, {removed} removed, {kept} unchanged, in {seconds:.1f} s"
            + (f" ({stages})" if stages else ""))


def cmd_build(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    if args.jobs is not None and args.jobs < 1:
        say("error: --jobs must be at least 1 (fix: give the number of processes, or leave it out for one "
            "per core)")
        return EXIT_USAGE
    if args.theme is not None and not any((args.theme / part).is_dir() for part in ("templates", "static")):
        # A theme overrides the default one file by file: a mistyped folder would override nothing.
        say(f"error: --theme {args.theme}: no templates/ or static/ folder there (fix: point it at a "
            "theme folder, laid out like themes/default/)")
        return EXIT_USAGE
    checked = preflight(args.content, args.archive, args.out, args.theme, None, DOCUMENTS_PER_SHARD)
    if (same := checked.unchanged) is not None:
        say("nothing changed since the last build into this folder")
        pages, documents, versions, kept = same
        print(_summary(args.out, pages, documents, versions, 0, 0, kept, time.perf_counter() - started))
        return EXIT_OK
    from .pipeline import build

    report = build(args.content, args.archive, args.out, args.theme, progress=say, workers=args.jobs,
                   checked=checked)
    stages = ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in report.stages)
    print(_summary(args.out, report.pages, report.documents, report.versions, report.files_changed,
                   report.files_removed, report.files_kept, time.perf_counter() - started, stages))
    return EXIT_OK

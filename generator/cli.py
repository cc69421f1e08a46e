"""The `clausewatch` command: its verbs and options, and how a failure is reported; what each verb
does is in generator.commands, the work itself in the stages."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .console import EXIT_OK, EXIT_PROBLEMS, counted, say
from .rewrites import REWRITES

KEY_HELP = "<service>/<doc-type> or <service> (default: every declared document)"


def _add_dirs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--content", type=Path, default=Path("content"), metavar="DIR",
                        help="site settings, service declarations and rules (default: content/)")
    parser.add_argument("--archive", type=Path, default=Path("archive"), metavar="DIR",
                        help="signed versions and snapshots (default: archive/)")


def _add_secret_key(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--secret-key", type=Path, metavar="FILE",
                        help="minisign secret key file (default: $CLAUSEWATCH_SECRET_KEY)")


def _shard(text: str) -> tuple[int, int]:
    from .shards import parse_shard

    try:
        return parse_shard(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number of seconds above 0, not {text}")
    return value


def _revision(text: str) -> str:
    # git reads an argument that starts with '-' as an option (`--output=FILE` writes a file)
    if not text or text.startswith("-"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a revision: name a commit, branch or tag")
    return text


Command = Callable[[argparse.Namespace], int]


def _verb(module: str, name: str) -> Command:
    """A verb's function, imported when that verb runs: `clausewatch build` with nothing to do
    must not pay for loading capture, rules and the renderer (buildverb.py, preflight.py)."""
    def run(args: argparse.Namespace) -> int:
        func: Command = getattr(importlib.import_module(f".{module}", __package__), name)
        return func(args)
    return run


cmd_build = _verb("buildverb", "cmd_build")
cmd_analyze = _verb("commands", "cmd_analyze")
cmd_capture = _verb("commands", "cmd_capture")
cmd_extract = _verb("commands", "cmd_extract")
cmd_import_ota = _verb("commands", "cmd_import_ota")
cmd_keygen = _verb("commands", "cmd_keygen")
cmd_reextract = _verb("commands", "cmd_reextract")
cmd_rules_eval = _verb("commands", "cmd_rules_eval")
cmd_rules_impact = _verb("commands", "cmd_rules_impact")
cmd_rules_test = _verb("commands", "cmd_rules_test")
cmd_serve = _verb("commands", "cmd_serve")
cmd_stats = _verb("commands", "cmd_stats")
cmd_validate = _verb("commands", "cmd_validate")
cmd_verify = _verb("commands", "cmd_verify")


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

    verb("validate", cmd_validate, "check content/ (settings, document types, service declarations, pages, "
         "rules and their examples); warn about archived documents no longer declared")

    sub = verb("import-ota", cmd_import_ota,
               "import a folder in the layout of shared/corpus/ (Open Terms Archive data), signing it")
    sub.add_argument("dir", type=Path, metavar="DIR", help="the folder to import")
    _add_secret_key(sub)

    sub = verb("verify", cmd_verify, "recompute every hash and check every signature of the archive")
    sub.add_argument("--public-key", type=Path, metavar="FILE",
                     help="pin the public key (default: the archive's own minisign.pub)")

    for name, func, text in (("build", cmd_build, "build the static site from content/ and archive/"),
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
            sub.add_argument("--port", type=_port, default=8000, help="port (default: 8000; 0: any free one)")

    sub = verb("keygen", cmd_keygen, "make a signing key pair: DIR/minisign.key and DIR/minisign.pub")
    # Like minisign's own secret key, the default is outside any repository, where a key written
    # into the current folder could be committed by mistake.
    sub.add_argument("dir", type=Path, metavar="DIR", nargs="?", default=None,
                     help="folder for the two key files (default: ~/.minisign)")

    verb("stats", cmd_stats, "count documents, versions, snapshots and raw pages in the archive")

    sub = verb("capture", cmd_capture,
               "fetch, extract, compare, record and sign declared documents; log every check")
    sub.add_argument("keys", nargs="*", metavar="KEY", help=KEY_HELP)
    _add_secret_key(sub)
    sub.add_argument("--concurrency", type=_positive_int, default=16,
                     help="pages fetched at once (default: 16)")
    sub.add_argument("--per-host", type=_positive_int, default=2,
                     help="pages fetched at once per host (default: 2)")
    sub.add_argument("--timeout", type=_seconds, default=30.0, help="seconds per attempt (default: 30)")
    sub.add_argument("--shard", type=_shard, metavar="I/N",
                     help="capture only shard I of N (1 <= I <= N): the documents whose key hashes to I, "
                          "so N parallel jobs capture each document exactly once")
    sub.add_argument("--accept-change", action="store_true",
                     help="record the named documents' new text even when it looks like a failed capture "
                          "(under a quarter of the latest version's words, or no longer English); "
                          "needs KEYs, after you have read the page")
    sub.add_argument("--accept-change-for", action="append", default=[], metavar="KEY",
                     help="the same for one document (repeat for more), with or without KEYs or --shard: "
                          "how the capture workflow's `accept_change` input reaches the scheduled job")

    sub = verb("reextract", cmd_reextract,
               "rebuild versions from stored snapshots under the current declarations (technical changes)")
    sub.add_argument("keys", nargs="*", metavar="KEY", help=KEY_HELP)
    _add_secret_key(sub)

    sub = verb("extract", cmd_extract, "print the normalized Markdown of one saved HTML page")
    sub.add_argument("file", type=Path, metavar="FILE.html")
    sub.add_argument("--select", action="append", default=[], metavar="CSS",
                     help="CSS selector to keep (repeatable)")
    sub.add_argument("--remove", action="append", default=[], metavar="CSS",
                     help="CSS selector to drop (repeatable)")
    sub.add_argument("--as", dest="declared", metavar="KEY",
                     help="extract as capture does for the document KEY (<service>/<doc-type>) declared in "
                          "content/: its selectors, range selectors included, removals, noise and type")
    sub.add_argument("--page", type=int, default=1, metavar="N",
                     help="with --as, which of the declaration's pages the file is (default 1)")
    sub.add_argument("--noise", action="append", default=[], metavar="REGEX",
                     help="a noise pattern to delete, as in a declaration's 'noise:' (repeatable)")
    sub.add_argument("--url", help="the page's URL, to resolve relative links")
    sub.add_argument("--doc-type", metavar="SLUG",
                     help="the document's type (e.g. privacy-policy), one declared in content/: without "
                          "--select, keep only that document when the page holds several")

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
    sub.add_argument("--rewrite", choices=sorted(REWRITES), metavar="HOW",
                     help="read every sentence rewritten in a way that keeps its meaning: "
                          + ", ".join(sorted(REWRITES)) + " (a check that rules generalize)")
    sub = rule_verb("impact", cmd_rules_impact,
                    "Markdown report of the findings a rule change adds and removes across the archive")
    sub.add_argument("--base", required=True, metavar="REV", type=_revision,
                     help="git revision to compare against")
    return parser


def _port(value: str) -> int:
    if not value.isdigit() or not 0 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number from 0 to 65535")
    return int(value)


EXIT_BROKEN_PIPE = 128 + 13  # as a shell reports a process that SIGPIPE ended


# Verbs whose process ends without the interpreter's teardown (entry()).
HARD_EXIT_VERBS = frozenset({"build"})


def entry() -> None:
    """The console script (and `python -m generator`): main(), then, after a build that succeeded,
    out of the process without the interpreter's teardown. A build holds the whole archive's model;
    freeing it object by object took 0.1 to 0.2 s of a 2 s incremental build, for memory the system
    takes back at once (mypy ends the same way). Every file is closed and every worker and Pagefind
    run is over by then; the output is flushed here. A failed build ends normally: its exit handlers
    still wait for whatever it left running."""
    argv = sys.argv[1:]
    code = main(argv)
    if code == EXIT_OK and _verb_of(argv) in HARD_EXIT_VERBS:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(BrokenPipeError, ValueError):  # the reader went away
                stream.flush()
        os._exit(code)
    raise SystemExit(code)


def _verb_of(argv: Sequence[str]) -> str | None:
    """The verb of a command line main() accepted (the only options before it take no value)."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:
        # The reader went away (`clausewatch analyze ... | head -1`): no message, and the status a
        # process killed by SIGPIPE has, never success (the command did not finish: a failure it
        # would have reported must not read as 0 under `set -o pipefail`). Output still buffered
        # would fail again at exit, so it goes nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except Exception as err:  # the failures a user can act on; imported only when one happens
        from .buildcache import CacheLocationError
        from .model import ProblemsError
        from .signing import SigningError
        from .sitefolder import SiteOutputError

        if isinstance(err, ProblemsError):
            for problem in err.problems:
                say(f"error: {problem}")
            say(f"{counted(len(err.problems), 'problem')} found")
        elif isinstance(err, (SigningError, SiteOutputError, CacheLocationError)):
            say(f"error: {err}")
        elif isinstance(err, OSError):  # a folder that cannot be made, a port in use: the system's words
            say(f"error: {err.strerror or err}" + (f": {err.filename}" if err.filename else ""))
        else:
            raise
        return EXIT_PROBLEMS

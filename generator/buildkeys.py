"""What each output file depends on, as digests: a file whose key is unchanged is not made again.

Output files fall into dependency groups:
- `doc:<service>/<type>`: a document's pages, raw files, feed and API files. They depend on the
  document's version metadata (which pins each text's SHA-256), what verification found, and its
  check log.
- `changes:<service>/<type>/<version>`: a version's changes page, when the theme's templates for it
  are the default's: the document's versions up to the next one (render.py, _changes_digests), and
  what the version is compared with (a failed capture: with_listings).
- `service:<slug>`: a service's page and feed: its documents.
- `category:<slug>`, `rule:<id>`: a category's or rule's page: the findings it lists.
- `category-feed:<slug>`: a category's feed: the versions it lists and their documents.
- `site`: everything else that lists across documents (home, the comparison matrix, feeds, API
  index, sitemap, search): every document.
Every key also folds in the "chrome": the generator's code and library versions, the theme files,
every file under content/ but the rule files (settings, categories, declarations, summaries),
what pages show of the rules (rules_shown: all but how they match) and the signing key. A change
there renders everything again, which is rare and always correct. What the rules found is part of
each version's key instead (a digest of its findings and finding changes), and a rule's page is
keyed by the whole rule: a rule edited in a pull request makes again the pages it changed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .buildcache import digest, files_digest
from .checklog import CHECKS_FILE, HEAD_FILE
from .model import Archive, ArchivedDocument, DocKey, Rule
from .rules import RULES_DIR
from .sitemodel import CategoryEntry, SiteView
from .uptodate import walk_files

SITE = "site"


def doc_group(key: DocKey) -> str:
    return f"doc:{key}"


def service_group(slug: str) -> str:
    return f"service:{slug}"


def tree_files(*folders: Path) -> list[tuple[Path, Path]]:
    """(root, file) for every file under the folders, skipping editor and OS leftovers. Symlinked
    folders are followed, as the loaders' globs follow them (each real folder once)."""
    found = []
    for folder in folders:
        if folder.is_dir():
            found += [(folder, p) for p in walk_files(folder)
                      if not p.name.startswith(".") and "__pycache__" not in p.parts]
    return found


def chrome_digest(code: str, content_dir: Path, themes: list[Path], settings: str) -> str:
    """`settings`: build options that shape output (the key id, the search shard size). The rule
    files are left out: the build adds what pages show of the rules as loaded (rules_shown), and
    what the rules found is part of each version's key (build_keys)."""
    parts = [code, settings]
    for folder in (content_dir, *themes):
        files = [p for _, p in tree_files(folder)
                 if folder != content_dir or not is_rule_file(p, content_dir)]
        parts.append(files_digest(files, folder))
    return digest(*parts)


def is_rule_file(path: Path, content_dir: Path) -> bool:
    """content/rules/<category>/<rule-id>.yaml (rules.load_ruleset's glob)."""
    parts = path.relative_to(content_dir).parts
    return len(parts) == 3 and parts[0] == RULES_DIR and path.suffix == ".yaml"


def rules_shown(rules: Iterable[Rule]) -> str:
    """What pages other than a rule's own show of the rules: all but how they match (patterns,
    exceptions) and their examples, which only the rule's page shows (rule_group's key). A rule
    edited in a pull request then makes again only the pages whose findings it changed."""
    shown = []
    for rule in rules:
        milder = rule.milder and dataclasses.replace(rule.milder, when=(), unless=(), examples_milder=(),
                                                     examples_full=())
        shown.append(repr(dataclasses.replace(rule, patterns=(), unless=(), examples_match=(),
                                              examples_no_match=(), milder=milder)))
    return digest(*shown)


def rule_digest(rule: Rule) -> str:
    """All of a rule as loaded, as its own page shows it."""
    return digest(repr(rule))


def _version_parts(doc: ArchivedDocument, verified: Callable[[Path], bool],
                   analysed: Mapping[tuple[DocKey, str], str]) -> list[str]:
    """Per version: its metadata (which pins its text's SHA-256), whether its files verified, and
    what the rules found in it (analysis.DocumentResults.analysed)."""
    return [f"{json.dumps(v.metadata, sort_keys=True)}\n{verified(v.text_path)} {verified(v.metadata_path)}"
            f"\n{analysed.get((doc.key, v.id), '')}" for v in doc.versions]


def document_digest(doc: ArchivedDocument, verified: Callable[[Path], bool], versions: list[str]) -> str:
    """`versions`: the document's _version_parts."""
    parts: list[str | bytes] = [str(doc.key), *versions]
    # The document page lists the trackers of the latest capture's raw pages, if they verify.
    parts += [f"{verified(doc.directory / p.file)}" for p in doc.latest.snapshots]
    for name in (CHECKS_FILE, HEAD_FILE):
        log = doc.directory / name
        parts.append(log.read_bytes() if log.is_file() else b"-")
    return digest(*parts)


def changes_group(key: DocKey, version_id: str) -> str:
    return f"changes:{key}/{version_id}"


def _changes_digests(doc: ArchivedDocument, versions: list[str]) -> dict[str, str]:
    """The group digest of each changes page: the versions up to the page's next one. The page
    shows its version and the previous one, links to the next, and may name an earlier version with
    the same text; nothing of a later version. So a new version leaves all but one of its document's
    changes pages as they were (the latest so far gains its link to the next)."""
    running = hashlib.sha256(str(doc.key).encode())
    prefixes = []
    for part in versions:
        data = part.encode()
        running.update(f"{len(data)}:".encode())
        running.update(data)
        prefixes.append(running.hexdigest())
    last = len(versions) - 1
    return {changes_group(doc.key, v.id): prefixes[min(i + 1, last)]
            for i, v in enumerate(doc.versions) if i > 0}


@dataclass(frozen=True)
class BuildKeys:
    """The digest of every dependency group; `key(group, path)` is an output file's key."""

    chrome: str
    groups: Mapping[str, str]

    def key(self, group: str, path: str) -> str:
        return digest(self.chrome, self.groups[group], path)


def build_keys(chrome: str, archive: Archive, verified: Callable[[Path], bool],
               analysed: Mapping[tuple[DocKey, str], str]) -> BuildKeys:
    groups: dict[str, str] = {}
    by_service: dict[str, list[str]] = {}
    changes: dict[str, str] = {}  # their documents' groups say the same for the site's group
    for doc in archive.documents:
        versions = _version_parts(doc, verified, analysed)
        groups[doc_group(doc.key)] = found = document_digest(doc, verified, versions)
        changes.update(_changes_digests(doc, versions))
        by_service.setdefault(doc.key.service, []).append(f"{doc.key} {found}")
    for slug, docs in by_service.items():
        groups[service_group(slug)] = digest(slug, *docs)
    groups[SITE] = digest(*(f"{g} {d}" for g, d in sorted(groups.items())))
    return BuildKeys(chrome, {**groups, **changes})


def entries_digest(entries: Iterable[CategoryEntry]) -> str:
    """What a category or rule page shows of each finding it lists (its other inputs are chrome)."""
    return digest(*(e.shown for e in entries))


def category_group(slug: str) -> str:
    return f"category:{slug}"


def rule_group(rule_id: str) -> str:
    return f"rule:{rule_id}"


def with_listings(keys: BuildKeys, site: SiteView) -> BuildKeys:
    """Category and rule pages depend only on the findings they list: a new version that leaves
    a category's findings as they were does not rebuild its page."""
    groups = dict(keys.groups)
    groups.update({category_group(c.category.slug): entries_digest(c.entries) for c in site.categories})
    groups.update({rule_group(r.rule.id): digest(entries_digest(r.entries), rule_digest(r.rule))
                   for r in site.rules})
    # A changes page also shows what its version is compared with: whether it is a failed capture,
    # which a version after the next one may decide (the text came back only then), and, after one,
    # the version before it (plausible.failed_captures).
    for doc in site.documents:
        for v in doc.versions[1:]:
            group = changes_group(doc.key, v.id)
            groups[group] = digest(groups[group], v.failed_capture, v.compared_id or "")
    return BuildKeys(keys.chrome, groups)


def category_feed_group(slug: str) -> str:
    return f"category-feed:{slug}"


def with_category_feeds(keys: BuildKeys, selections: Mapping[str, Sequence[tuple[ArchivedDocument, int]]],
                        newest_capture: str) -> BuildKeys:
    """A category feed depends on the versions it lists (their documents' digests say the rest);
    an empty one on the archive's newest capture (its `updated` time)."""
    groups = dict(keys.groups)
    for slug, chosen in selections.items():
        listed = [f"{doc.key} {doc.versions[i].id} {keys.groups[doc_group(doc.key)]}" for doc, i in chosen]
        groups[category_feed_group(slug)] = digest(*listed) if listed else digest("empty", newest_capture)
    return BuildKeys(keys.chrome, groups)

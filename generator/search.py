"""Full-text search: index the built pages that carry `data-pagefind-body` with Pagefind.

The latest version of each document (full text) carries it; an older version is indexed by a
record of the wording its next version no longer has (earlier.py), so each wording of the archive
is indexed once, at the last version that had it, and searches can be narrowed to current or
earlier wording (the `wording` filter).

Pagefind has no incremental mode and costs a few milliseconds per large page, so a big archive's
index is split into bundles, and the search page merges them in the browser (`mergeIndex`, set by
assets/search.js); a build re-indexes only the bundles whose pages changed:
- the latest pages, in shards by document: shard 0 is the main bundle at `pagefind/` (it carries
  the UI), shard i > 0 is at `pagefind/shard-i/`;
- the records of earlier wording, apart, in the order their wording was superseded, in bundles
  of at most EARLIER_MAX records (`pagefind/shard-earlier-<start>-<end>/`, record_chunks): a new
  version supersedes wording now, so its record joins the newest, smallest bundle instead of
  re-indexing its document's shard of every older record (about two thirds of the words a shard
  held).
Pagefind answers a word a bundle lacks with that bundle's pages holding a shorter prefix of it:
search.js narrows the merged answer (see docs/build-cache.md, "Search in shards").
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

BUNDLE = "pagefind"
DOCUMENTS_PER_SHARD = 16
MAX_SHARDS = 16
SHARD_PREFIX = "shard-"
EARLIER_PREFIX = f"{SHARD_PREFIX}earlier-"  # the folders of records of earlier wording (record_chunks)
EARLIER_UNIT = 8  # records of earlier wording: the newest bundle holds fewer than this (30 records
# of 25 KB took Pagefind 0.12 s, 8 of them 0.02 s)
# ... and none more than this: Pagefind took 357 MB to index 1,024 records at once, 733 MB for 2,048
EARLIER_MAX = 512
MARKER = ".pages-sha256"  # in each shard: the digest of the pages it was made from
_UI_FILES = ("pagefind-ui", "pagefind-component-ui", "pagefind-modular-ui", "pagefind-highlight")


class SearchIndexError(Exception):
    """Pagefind failed; its output says why."""


def shard_count(documents: int, per_shard: int = DOCUMENTS_PER_SHARD) -> int:
    """One index up to twice `per_shard` documents, then shards of `per_shard` to 2 × `per_shard`."""
    return max(1, min(MAX_SHARDS, documents // per_shard))


def shard_of(page: str, shards: int) -> int:
    """Pages of one document (`<service>/<doc-type>/...`) always land in the same shard."""
    owner = "/".join(page.split("/")[:2])
    return int.from_bytes(hashlib.sha256(owner.encode()).digest()[:4], "big") % shards


def shard_folders(document_paths: Iterable[str], shards: int) -> dict[int, str]:
    """The folder of each shard that holds documents: the first is the main bundle (Pagefind
    refuses to make an empty index, so empty shards have none)."""
    used = sorted({shard_of(path, shards) for path in document_paths})
    return {shard: BUNDLE if i == 0 else f"{BUNDLE}/{SHARD_PREFIX}{shard}" for i, shard in enumerate(used)}


def record_chunks(count: int, unit: int | None = None, most: int | None = None) -> list[tuple[int, int, str]]:
    """The bundles of `count` records of earlier wording, taken in the order their wording was
    superseded: (start, end, folder). Bundles of `most` records first (a power of two times
    `unit`), then the rest laid out as a binary counter of `unit`-record units, largest bundle
    first, then the records short of a unit. A new version's record lands in that last bundle: a
    build re-indexes fewer than `unit` records of earlier wording, except when the count of units
    carries (once every `unit` new records), which merges the bundles it carries through (at most
    `most` records); a record is indexed about log2(most / unit) times in its life. Pagefind's
    memory follows the largest bundle; the search page merges count / most + log2(most / unit) + 1
    bundles at most."""
    unit, most = unit or EARLIER_UNIT, most or EARLIER_MAX
    full, rest = divmod(count, most)
    chunks = [(i * most, (i + 1) * most) for i in range(full)]
    start = full * most
    units, rest = divmod(rest, unit)
    for bit in reversed(range(units.bit_length())):
        if units >> bit & 1:
            chunks.append((start, start + (unit << bit)))
            start += unit << bit
    if rest:
        chunks.append((start, count))
    return [(a, b, f"{BUNDLE}/{EARLIER_PREFIX}{a}-{b}") for a, b in chunks]


def merged_bundles(document_paths: Iterable[str], shards: int) -> list[str]:
    """Bundle paths (relative to the site root) the search page merges into the main one."""
    return [f"{folder}/" for folder in shard_folders(document_paths, shards).values() if folder != BUNDLE]


@functools.cache
def _executable() -> Path:
    """The binary in the `pagefind_bin` wheel, run directly: `python -m pagefind` would start a
    Python interpreter per shard only to exec it."""
    from pagefind_bin import get_executable  # type: ignore[import-untyped]  # the wheel's own lookup

    return Path(get_executable()).resolve()


def index_pages(site: Path, pages: Iterable[str], main: bool,
                records: Mapping[str, bytes] | None = None) -> Iterator[tuple[str, bytes]]:
    """Run the Pagefind binary shipped in the `pagefind_bin` wheel over the given pages of the site,
    and over `records` (page path → HTML that stands in for that page in the index; never written
    into the site: earlier.py).

    Pagefind would read every page of the site to find the few it indexes; it is shown only those
    (linked into a temporary folder at the same paths, so their URLs are the same). The bundle is
    handed back as (path relative to the bundle, bytes), without the UI files unless `main`.
    """
    with tempfile.TemporaryDirectory(prefix="clausewatch-pagefind-") as tmp:
        shown, bundle = Path(tmp) / "site", Path(tmp) / "bundle"
        shown.mkdir()
        for page in pages:
            target = shown / page
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(site / page, target)
            except OSError:  # another file system, or no hard links: copy
                shutil.copyfile(site / page, target)
        for page, data in (records or {}).items():
            target = shown / page
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        result = subprocess.run(
            [str(_executable()), "--site", str(shown), "--output-path", str(bundle), "--quiet"],
            capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            raise SearchIndexError(f"pagefind failed ({result.returncode}): "
                                   f"{result.stderr.strip() or result.stdout.strip()}")
        for path in sorted(bundle.rglob("*")):
            if path.is_file() and (main or not path.name.startswith(_UI_FILES)):
                yield path.relative_to(bundle).as_posix(), path.read_bytes()

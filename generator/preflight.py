"""Has a build anything to do? Decided before the build's code is imported: a no-op build costs
what reading the last build's stamps costs (stat of every input and output file), not what
loading the renderer, the rules and the analysis costs (most of a no-op build's time before).

Light on purpose: only the standard library, the build cache and the stamps (uptodate.py).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .buildcache import BuildCache, cache_root, check_location, code_digest, digest
from .sitefolder import DEFAULT_THEME, check_output_folder, check_output_place
from .uptodate import InputStamp, input_stamp, output_intact


@dataclass(frozen=True)
class Preflight:
    """What a build reads before deciding: the cache, the last build's record, today's stamp."""

    cache: BuildCache
    code: str  # digest of the generator's code and libraries
    themes: list[Path]  # the site's own theme first, then the default one
    manifest_key: str  # the cache key of the last build into this output folder
    last: dict[str, Any]  # that build's record: inputs, files written, report
    stamp: InputStamp
    out: Path

    @functools.cached_property
    def unchanged(self) -> tuple[int, int, int, int] | None:
        """(pages, documents, versions, files) of the last build when nothing changed since
        (worked out once: the build verb asks, then the pipeline)."""
        if self.stamp.matches(self.last.get("inputs")) and output_intact(self.out, self.last["files"]):
            pages, documents, versions = self.last["report"]
            return pages, documents, versions, len(self.last["files"])
        return None


def preflight(content_dir: Path, archive_dir: Path, out: Path, theme: Path | None, cache_dir: Path | None,
              documents_per_shard: int) -> Preflight:
    check_output_folder(out)  # before minutes of work, not after
    check_output_place(out, content_dir, archive_dir)
    root = cache_dir or cache_root()
    check_location(root, content_dir, archive_dir)
    code = code_digest()
    cache = BuildCache(root, code)
    cache.prune_other_versions()
    themes = [theme, DEFAULT_THEME] if theme else [DEFAULT_THEME]
    manifest_key = digest(str(out.resolve()))
    last = cache.get("site", manifest_key)
    last = last if isinstance(last, dict) and isinstance(last.get("files"), dict) else {}
    stamp = input_stamp([content_dir, archive_dir, *themes], f"{code} {documents_per_shard} {out.resolve()}")
    return Preflight(cache, code, themes, manifest_key, last, stamp, out)

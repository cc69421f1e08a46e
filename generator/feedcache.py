"""Feed entries kept in the build cache between builds (feeds.EntryStore).

A category feed lists a hundred versions of many documents; a new version changes one entry or
two of it. Each entry is a function of its version's document and of the chrome, both digested in
BuildKeys, so an entry made by an earlier build under the same digests is joined in as it was.
"""

from __future__ import annotations

from collections.abc import Mapping

from .buildcache import BuildCache, digest
from .buildkeys import BuildKeys, doc_group
from .model import ArchivedDocument

KIND = "feed-entries"


class CachedEntries:
    def __init__(self, cache: BuildCache, keys: BuildKeys) -> None:
        self.cache = cache
        self.keys = keys

    def key(self, doc: ArchivedDocument, index: int) -> str:
        return digest(self.keys.chrome, self.keys.groups[doc_group(doc.key)], doc.versions[index].id)

    def load(self, path: str) -> Mapping[str, str]:
        found = self.cache.get(KIND, digest(path))
        if not isinstance(found, dict):
            return {}
        return {k: v for k, v in found.items() if isinstance(v, str)}

    def store(self, path: str, entries: Mapping[str, str]) -> None:
        self.cache.put(KIND, digest(path), dict(entries))

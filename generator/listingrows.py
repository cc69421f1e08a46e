"""Rows of the category and rule pages kept in the build cache between builds.

A category page lists hundreds of findings across documents; a new version changes a few of
them. Each row shows one finding (CategoryEntry.shown says what of it) under the page's chrome,
so a row made by an earlier build for the same finding shown under the same chrome is used as it
was. Rows are kept by `shown` itself, not a digest of it: hashing every row of every listing page
made again cost what keeping them saved.
"""

from __future__ import annotations

from collections.abc import Callable

from markupsafe import Markup

from .buildcache import BuildCache, digest
from .sitemodel import CategoryEntry

KIND = "listing-rows"


class KeptRows:
    """One page's rows: `rows(entry, macro)` is the theme's `macro(root, entry)`, made once."""

    def __init__(self, cache: BuildCache | None, chrome: str, page: str, root: str) -> None:
        self._cache = cache
        # One entry per page, holding the chrome its rows were made under: a new chrome (a rule or
        # template edited) replaces the page's rows instead of leaving them beside the new ones.
        self._key, self._chrome = digest(page, root), digest(chrome, root)
        self._root = root
        found = cache.get(KIND, self._key) if cache else None
        rows = found.get("rows") if isinstance(found, dict) and found.get("chrome") == self._chrome else None
        self._known: dict[str, str] = rows if isinstance(rows, dict) else {}
        self._made: dict[str, str] = {}

    def __call__(self, entry: CategoryEntry, macro: Callable[[str, CategoryEntry], str]) -> Markup:
        key = entry.shown
        html = self._made.get(key) or self._known.get(key)
        if not isinstance(html, str):
            html = str(macro(self._root, entry))
        self._made[key] = html
        return Markup(html)  # the theme's macro made it, escaping what it shows

    def save(self) -> None:
        if self._cache is not None and self._made != self._known:
            self._cache.put(KIND, self._key, {"chrome": self._chrome, "rows": self._made})

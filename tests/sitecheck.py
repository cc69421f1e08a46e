"""Helpers for checking a built site: every internal link resolves to a file (and anchor)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import lxml.html


def page_url(site: Path, file: Path) -> str:
    """The URL path a file is served at, with the site at the root ('/a/b/' for a/b/index.html)."""
    rel = file.relative_to(site).as_posix()
    return "/" + (rel.removesuffix("index.html") if rel.endswith("index.html") else rel)


def target_file(site: Path, url_path: str) -> Path:
    path = site / unquote(url_path).lstrip("/")
    return path / "index.html" if url_path.endswith("/") else path


def ids_of(file: Path) -> set[str]:
    tree = lxml.html.fromstring(file.read_bytes())
    return {str(e.get("id")) for e in tree.iter() if e.get("id")}


def internal_links(site: Path, file: Path, base_path: str = "/") -> list[tuple[str, str]]:
    """(link as written, resolved URL path) for every same-site href/src in an HTML file."""
    tree = lxml.html.fromstring(file.read_bytes())
    here = page_url(site, file)
    links = []
    for element in tree.iter():
        for attr in ("href", "src"):
            value = element.get(attr)
            if value is None or urlsplit(value).scheme in ("http", "https", "mailto"):
                continue
            resolved = urljoin(here, value)
            if value.startswith(base_path) and base_path != "/":  # the 404 page links by base path
                resolved = "/" + value[len(base_path):]
            links.append((value, resolved))
    return links


def broken_links(site: Path, base_path: str = "/") -> list[str]:
    broken = []
    ids: dict[Path, set[str]] = {}  # each target parsed once: version pages link to hundreds of clauses
    for file in sorted(site.rglob("*.html")):
        for written, resolved in internal_links(site, file, base_path):
            parts = urlsplit(resolved)
            target = target_file(site, parts.path)
            if not target.is_file():
                broken.append(f"{file.relative_to(site)}: {written} -> missing {parts.path}")
            elif parts.fragment and target.suffix == ".html":
                if target not in ids:
                    ids[target] = ids_of(target)
                if parts.fragment not in ids[target]:
                    broken.append(f"{file.relative_to(site)}: {written} -> no #{parts.fragment}")
    return broken


def search_fragments(site: Path) -> list[dict[str, Any]]:
    """What Pagefind indexed, one entry per page or record (its fragment files, decompressed)."""
    fragments = []
    for path in sorted(site.glob("pagefind/**/*.pf_fragment")):
        text = gzip.decompress(path.read_bytes()).decode()
        fragments.append(json.loads(text[text.index("{"):]))  # after Pagefind's signature
    return fragments

"""The build cache: what earlier builds computed, kept by content hash so a build costs what changed.

Versions are immutable, so a version's findings, its change against the previous version and
its annotated HTML are functions of hashes the archive already records. Entries are keyed by
those hashes plus the digest of the generator's own code and the libraries that shape output,
so a code, renderer or template change invalidates what it affects. The cache is disposable: an
empty (or deleted) cache directory gives a clean build with the same output.

Location: `CLAUSEWATCH_CACHE_DIR`, else `$XDG_CACHE_HOME/clausewatch`, else `~/.cache/clausewatch`;
never inside archive/ or content/ (the build refuses).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

import orjson

ENV_VAR = "CLAUSEWATCH_CACHE_DIR"
_PACKAGE = Path(__file__).resolve().parent
# Every library whose version can change what a build writes (an upgrade must not pass for "nothing
# changed"): renderers, templates, diff, trackers, JSON, signatures, search.
_LIBRARIES = ("markdown-it-py", "markdown-it-pyrs-abi3", "mdit-py-plugins", "jinja2", "markupsafe", "lxml",
              "cssselect", "publicsuffixlist", "cydifflib", "orjson", "pagefind", "pagefind-bin",
              "py-minisign", "pyyaml")


class CacheLocationError(Exception):
    """The cache directory would sit inside the archive or the content."""


def cache_root(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if env.get(ENV_VAR):
        return Path(env[ENV_VAR]).expanduser()
    base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
    return base / "clausewatch"


def check_location(cache: Path, *protected: Path) -> None:
    """Refuse a cache inside a folder that is committed (archive/, content/)."""
    resolved = cache.resolve()
    for folder in protected:
        folder = folder.resolve()
        if resolved == folder or folder in resolved.parents:
            raise CacheLocationError(
                f"the build cache {cache} is inside {folder}, which is committed; "
                f"set {ENV_VAR} to a folder outside archive/ and content/")


def digest(*parts: str | bytes) -> str:
    """SHA-256 of the parts, each length-prefixed so that ('ab', 'c') differs from ('a', 'bc')."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(f"{len(data)}:".encode())
        h.update(data)
    return h.hexdigest()


def files_digest(paths: Iterable[Path], root: Path) -> str:
    """Digest of files' relative names and bytes (sorted by name)."""
    return digest(*(x for p in sorted(paths) for x in (p.relative_to(root).as_posix(), p.read_bytes())))


def _library_versions() -> list[str]:
    found = [f"python {sys.version}"]  # the standard library (difflib, re, html) shapes output too
    for name in _LIBRARIES:
        try:
            found.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} absent")
    return found


def code_digest() -> str:
    """The generator's source and the versions of the libraries that shape its output."""
    sources = [p for p in _PACKAGE.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return digest(files_digest(sources, _PACKAGE), *_library_versions())


class BuildCache:
    """JSON entries under <root>/<code digest>/<kind>/; entries of other code versions are pruned.
    orjson reads and writes them: the largest (the last build's file list) is megabytes."""

    def __init__(self, root: Path, code: str) -> None:
        self.root = root
        self.code = code
        self.folder = root / code[:20]
        self._folders: set[Path] = set()  # made by this process already

    def prune_other_versions(self) -> None:
        if self.root.is_dir():
            for old in self.root.iterdir():
                if old.is_dir() and old != self.folder and len(old.name) == 20:
                    shutil.rmtree(old, ignore_errors=True)

    def _path(self, kind: str, key: str) -> Path:
        return self.folder / kind / key[:2] / f"{key}.json"

    def get(self, kind: str, key: str) -> Any:
        try:
            return orjson.loads(self._path(kind, key).read_bytes())
        except (FileNotFoundError, orjson.JSONDecodeError):  # absent, or cut short: recompute
            return None

    def has(self, kind: str, key: str) -> bool:
        return self._path(kind, key).is_file()

    def put(self, kind: str, key: str, value: Any) -> None:
        path = self._path(kind, key)
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        data = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
        if path.parent not in self._folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._folders.add(path.parent)
        try:
            temp.write_bytes(data)
        except FileNotFoundError:  # the cache was deleted while we ran: make its folder again
            path.parent.mkdir(parents=True, exist_ok=True)
            temp.write_bytes(data)
        os.replace(temp, path)  # readers never see half an entry

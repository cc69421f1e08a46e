"""Is the last build still current? A fingerprint of every input file's name, size, mtime and
inode (as git's index keeps them), and a check that the output is as that build left it.

A file rewritten within the same clock tick as the fingerprint was taken could keep its mtime
("racy git"): inputs modified less than RACY_NS before the last build started never count as
unchanged, so such a build just runs again.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

RACY_NS = 2_000_000_000


@dataclass(frozen=True)
class InputStamp:
    digest: str
    newest_mtime_ns: int
    taken_ns: int  # when it was taken

    def matches(self, earlier: Sequence[object] | None) -> bool:
        """True when `earlier` (as `as_list()` stored it) saw the same files, none of them racy."""
        if not earlier or len(earlier) != 3:
            return False
        digest, newest, taken = earlier
        return (digest == self.digest and isinstance(taken, int) and isinstance(newest, int)
                and newest < taken - RACY_NS)

    def as_list(self) -> list[object]:
        return [self.digest, self.newest_mtime_ns, self.taken_ns]


def _folders(root: str, seen: set[str]) -> Iterator[tuple[str, list[os.DirEntry[str]]]]:
    """(folder, its files sorted by name) for each folder under root, root first, subfolders in
    name order, following symlinked folders, each real folder once (a symlink loop ends here).
    Real paths are worked out with a system call only for symlinks: a plain subfolder's real path
    is its parent's plus its name (realpath on every folder cost a stat per path component)."""
    stack = [(root, os.path.realpath(root))]
    while stack:
        here, real_here = stack.pop()
        files: list[os.DirEntry[str]] = []
        subfolders: list[os.DirEntry[str]] = []
        try:
            with os.scandir(here) as entries:
                for entry in entries:
                    (subfolders if entry.is_dir() else files).append(entry)
        except OSError:  # gone, or not a folder: nothing in it (as os.walk has it)
            continue
        yield here, sorted(files, key=lambda e: e.name)
        below = []
        for entry in sorted(subfolders, key=lambda e: e.name):
            real = os.path.realpath(entry.path) if entry.is_symlink() else os.path.join(real_here, entry.name)
            if real not in seen:
                seen.add(real)
                below.append((entry.path, real))
        stack.extend(reversed(below))


def input_stamp(folders: Iterable[Path], settings: str) -> InputStamp:
    taken = time.time_ns()
    h = hashlib.sha256(settings.encode())
    newest = 0
    for folder in folders:
        root = os.fspath(folder)
        h.update(f"\0{root}\0".encode())
        for here, files in _folders(root, set()):  # following symlinks, as the loaders' globs do
            for entry in files:
                stat = entry.stat()
                newest = max(newest, stat.st_mtime_ns)
                h.update(f"{here[len(root):]}/{entry.name}\0{stat.st_size}\0{stat.st_mtime_ns}\0{stat.st_ino}\n"
                         .encode())
    return InputStamp(h.hexdigest(), newest, taken)


def walk_files(folder: Path) -> list[Path]:
    """Every file under the folder, following symlinked folders (each real folder once), sorted."""
    root = os.fspath(folder)
    return [Path(entry.path) for _, files in _folders(root, {os.path.realpath(root)}) for entry in files
            if entry.is_file()]


@dataclass(frozen=True)
class OutputScan:
    """The files under out/ as a build finds them before writing: one walk of the folder instead of
    a stat per file asked about and another walk to find the stale ones (15,000 files at D = 200)."""

    files: dict[str, tuple[int, int]]  # path relative to out/ → (size, mtime_ns)
    # folder relative to out/ ("" for out/ itself) → (its subfolders, its files), paths likewise
    folders: dict[str, tuple[list[str], list[str]]]

    def files_under(self, folder: str, but: str | None = None) -> Iterator[str]:
        """The files under `folder`, except under its subfolders whose names start with `but`."""
        skipped = (f"{folder}/{but}",) if but else ()
        stack = [folder]
        while stack:
            subfolders, files = self.folders.get(stack.pop(), ([], []))
            yield from files
            stack += [sub for sub in subfolders if not sub.startswith(skipped)]


def scan_output(out: Path) -> OutputScan:
    """One walk of the output folder: the build's writer and the up-to-date check both judge by it."""
    files: dict[str, tuple[int, int]] = {}
    folders: dict[str, tuple[list[str], list[str]]] = {}
    stack = [""]
    while stack:
        inner = stack.pop()
        subfolders: list[str] = []
        here: list[str] = []
        try:
            with os.scandir(os.path.join(out, inner) if inner else out) as entries:
                for entry in entries:
                    path = f"{inner}/{entry.name}" if inner else entry.name
                    if entry.is_dir():
                        if not entry.is_symlink():  # as os.walk: a build makes no symlinked folder
                            subfolders.append(path)
                        continue
                    stat = entry.stat()
                    files[path] = (stat.st_size, stat.st_mtime_ns)
                    here.append(path)
        except FileNotFoundError:  # gone meanwhile
            continue
        folders[inner] = (subfolders, here)
        stack += subfolders
    return OutputScan(files, folders)


def output_intact(out: Path, manifest: Mapping[str, Sequence[object]]) -> bool:
    """Every file of out/ is one the manifest lists, with the size and mtime it recorded, and
    none is missing."""
    found = scan_output(out).files
    return found.keys() == manifest.keys() and all(list(found[p]) == list(manifest[p][2:4]) for p in found)

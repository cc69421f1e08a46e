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
from collections.abc import Iterable, Mapping, Sequence
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


def input_stamp(folders: Iterable[Path], settings: str) -> InputStamp:
    taken = time.time_ns()
    h = hashlib.sha256(settings.encode())
    newest = 0
    for folder in folders:
        root = os.fspath(folder)
        h.update(f"\0{root}\0".encode())
        seen: set[str] = set()
        for here, subfolders, files in os.walk(root, followlinks=True):  # as the loaders' globs do
            subfolders[:] = unseen_folders(here, subfolders, seen)
            for name in sorted(files):
                stat = os.stat(os.path.join(here, name))
                newest = max(newest, stat.st_mtime_ns)
                h.update(f"{here[len(root):]}/{name}\0{stat.st_size}\0{stat.st_mtime_ns}\0{stat.st_ino}\n".encode())
    return InputStamp(h.hexdigest(), newest, taken)


def unseen_folders(here: str, subfolders: list[str], seen: set[str]) -> list[str]:
    """The subfolders to walk into, sorted, each real folder once (a symlink loop ends here)."""
    kept = []
    for name in sorted(subfolders):
        real = os.path.realpath(os.path.join(here, name))
        if real not in seen:
            seen.add(real)
            kept.append(name)
    return kept


def walk_files(folder: Path) -> list[Path]:
    """Every file under the folder, following symlinked folders (each real folder once), sorted."""
    root = os.fspath(folder)
    seen = {os.path.realpath(root)}
    found = []
    for here, subfolders, files in os.walk(root, followlinks=True):
        subfolders[:] = unseen_folders(here, subfolders, seen)
        found += [Path(here, name) for name in sorted(files) if os.path.isfile(os.path.join(here, name))]
    return found


def output_intact(out: Path, manifest: Mapping[str, Sequence[object]]) -> bool:
    """Every file of out/ is one the manifest lists, with the size and mtime it recorded, and
    none is missing."""
    root = os.fspath(out)
    seen = 0
    for here, _subfolders, files in os.walk(root):
        inner = here[len(root) + 1:]
        for name in files:
            entry = manifest.get(f"{inner}/{name}" if inner else name)
            if entry is None:
                return False
            stat = os.stat(os.path.join(here, name))
            if [stat.st_size, stat.st_mtime_ns] != list(entry[2:4]):
                return False
            seen += 1
    return seen == len(manifest)

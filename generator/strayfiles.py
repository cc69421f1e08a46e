"""Files in a content folder that its loader would never read: a rule saved as .yml, a service
declaration one folder too deep. Without this, such a file is skipped in silence."""

from __future__ import annotations

from collections.abc import Set
from pathlib import Path

from .model import Problem, display_path


def stray_files(folder: Path, pattern: str, allowed: Set[str], expected: str) -> list[Problem]:
    """A problem for each file under `folder` that neither `pattern` (a glob relative to it) nor
    `allowed` (names directly in it) covers; hidden files and folders are left alone."""
    read = set(folder.glob(pattern)) | {folder / name for name in allowed}
    problems = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or path in read or any(part.startswith(".") for part in relative.parts):
            continue
        renamed = relative.with_suffix(".yaml")
        in_place = len(renamed.parts) == len(Path(pattern).parts) and renamed.match(pattern)
        fix = f"rename it to {renamed.name}" if in_place else f"move it to {expected}, or delete it"
        problems.append(Problem(display_path(path), "", f"never read: files here are {expected}", fix))
    return problems

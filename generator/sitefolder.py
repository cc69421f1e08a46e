"""Where a build writes and which theme it starts from: light on purpose, so that a build with
nothing to do can tell so before the renderer is even imported (preflight.py)."""

from __future__ import annotations

from pathlib import Path

BUILD_MARKER = ".clausewatch-site"


def _default_theme() -> Path:
    """The default theme: inside the package when installed (pyproject.toml ships themes/ as
    generator/themes), else in the source tree's themes/ (a checkout, or an editable install)."""
    package = Path(__file__).resolve().parent
    installed = package / "themes" / "default"
    return installed if installed.is_dir() else package.parent / "themes" / "default"


DEFAULT_THEME = _default_theme()


class SiteOutputError(Exception):
    """The output folder cannot be used (it holds files clausewatch did not make)."""


def check_output_folder(out: Path) -> None:
    """Refuse a folder that holds anything clausewatch did not make: a build replaces its contents."""
    if out.exists() and any(out.iterdir()) and not (out / BUILD_MARKER).exists():
        raise SiteOutputError(f"{out} is not empty and was not made by clausewatch; "
                              "choose an empty or new folder for --out")


def check_output_place(out: Path, *inputs: Path) -> None:
    """Refuse an output folder inside an input folder: the site would become part of the archive or
    the content it is built from (and be committed, verified and loaded with them)."""
    where = out.resolve()
    for folder in inputs:
        if where.is_relative_to(folder.resolve()):
            raise SiteOutputError(f"{out} is inside {folder}, which the site is built from; "
                                  "choose a folder outside it for --out")

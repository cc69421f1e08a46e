"""Full-text search: index the built pages that carry `data-pagefind-body` with Pagefind.

The latest version of each document (full text) and each document page (summary and findings)
carry it; older versions do not, which bounds the index to what readers search for.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

BUNDLE = "pagefind"


class SearchIndexError(Exception):
    """Pagefind failed; its output says why."""


def index_site(site: Path) -> Iterator[tuple[str, bytes]]:
    """Run the Pagefind binary shipped in the `pagefind_bin` wheel over the built site.

    The bundle is written to a temporary folder and handed back as (path in the site, bytes), so
    the site writer can skip files whose bytes did not change.
    """
    with tempfile.TemporaryDirectory(prefix="clausewatch-pagefind-") as tmp:
        result = subprocess.run(
            [sys.executable, "-m", "pagefind", "--site", str(site), "--output-path", tmp, "--quiet"],
            capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            raise SearchIndexError(f"pagefind failed ({result.returncode}): "
                                   f"{result.stderr.strip() or result.stdout.strip()}")
        for path in sorted(Path(tmp).rglob("*")):
            if path.is_file():
                yield f"{BUNDLE}/{path.relative_to(tmp).as_posix()}", path.read_bytes()

"""Where a link or image of captured text points: resolved against the page it was captured from,
so that no relative link lands inside our site. Shared by both Markdown renderers."""

from __future__ import annotations

import re
from urllib.parse import urljoin

ABSOLUTE_TARGET = r"https?://|mailto:"  # targets that no base URL changes
_ABSOLUTE = re.compile(ABSOLUTE_TARGET, re.IGNORECASE)


def resolve_link(base_url: str, target: str) -> str:
    # An absolute target is kept as written (urljoin would re-assemble it, differently with and
    # without a base): a block whose targets are all absolute then renders the same whatever the
    # base, and render_markdown shares it across documents.
    return target if _ABSOLUTE.match(target) else urljoin(base_url, target)

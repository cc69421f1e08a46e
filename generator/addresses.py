"""Plain text with its web addresses made links: the site's credit line names a licence and a DOI.
Pure; the text is escaped, only the addresses become markup."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_ADDRESS = re.compile(r"https?://[^\s<>\"']+")
_TRAILING = ".,;:!?"  # punctuation after an address, not part of it


def _address_end(url: str) -> str:
    """The address without what follows it in the sentence: trailing punctuation, and a closing
    parenthesis that closes the sentence's own ("(https://example.org/a);"), not the address's."""
    while url and (url[-1] in _TRAILING or (url[-1] == ")" and url.count("(") < url.count(")"))):
        url = url[:-1]
    return url


def linked_addresses(text: str) -> Markup:
    parts: list[str] = []
    last = 0
    for match in _ADDRESS.finditer(text):
        url = _address_end(match.group(0))
        parts.append(escape(text[last:match.start()]))
        parts.append(Markup('<a href="{0}">{0}</a>').format(url))
        last = match.start() + len(url)
    parts.append(escape(text[last:]))
    return Markup("".join(parts))

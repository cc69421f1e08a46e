"""How many words each element of a page holds, and how many of them are chrome (navigation,
widgets, link lists, the site's banner and footer): the measure by which extraction finds a page's
main content and tells its documents apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from generator.htmlmd import BLOCKS, Element

# ARIA landmarks and widgets that frame a document or operate the site: not part of its text.
CHROME_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search", "searchbox",
                          "menu", "menubar", "combobox", "listbox", "toolbar", "dialog", "alertdialog",
                          "tooltip"})
SECTIONING = frozenset({"article", "aside", "main", "nav", "section"})
LINK_DENSE = 0.5  # a block whose words are mostly link text is navigation (menus, tables of contents)


@dataclass(frozen=True)
class WordCount:
    total: dict[Element, int]
    chrome: dict[Element, int]  # words in navigation, widgets and link-dense blocks

    def content(self, el: Element) -> int:
        return self.total[el] - self.chrome[el]


def is_chrome(el: Element) -> bool:
    """Navigation, sidebars, widgets, and the page's own header and footer."""
    if el.tag in ("nav", "aside") or (el.get("role") or "").strip().lower() in CHROME_ROLES:
        return True
    # A <header> or <footer> is the page's banner or footer unless it sits in sectioning content.
    return el.tag in ("header", "footer") and not any(a.tag in SECTIONING for a in el.iterancestors())


def count_words(root: Element) -> WordCount:
    total: dict[Element, int] = {}
    links: dict[Element, int] = {}
    chrome: dict[Element, int] = {}
    for el in reversed(list(root.iter())):  # children before their parent
        words = len(words_of(el.text or "")) + sum(total[c] + len(words_of(c.tail or "")) for c in el)
        total[el] = words
        links[el] = words if el.tag == "a" and el.get("href") is not None else sum(links[c] for c in el)
        dense = el.tag in BLOCKS and words > 0 and links[el] / words > LINK_DENSE
        chrome[el] = words if dense or is_chrome(el) else sum(chrome[c] for c in el)
    return WordCount(total, chrome)


def words_of(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", text.lower())

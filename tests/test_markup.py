"""Captured text is hostile: nothing in it may execute or load from elsewhere."""

from __future__ import annotations

import lxml.html
import pytest

from generator.markup import render_markdown

HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](vbscript:msgbox(1))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![pixel](https://tracker.example/p.gif)",
    '<iframe src="https://evil.example/"></iframe>',
    "<svg onload=alert(1)>",
    "<style>body{display:none}</style>",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_markdown_renders_inert(text: str) -> None:
    html = render_markdown(text, "https://service.example/terms")
    tree = lxml.html.fragment_fromstring(html, create_parent="div")
    assert not tree.xpath("//script|//img|//iframe|//svg|//style|//object|//embed")
    for element in tree.iter():
        assert not any(name.startswith("on") for name in element.attrib), html
        href = element.get("href", "")
        assert href.startswith(("https://", "http://", "mailto:")) or not href, html


def test_image_becomes_a_labelled_link() -> None:
    html = render_markdown("![Company logo](/logo.png)", "https://service.example/legal/terms")
    assert '<a class="image-link" href="https://service.example/logo.png"' in html
    assert "[image: Company logo]" in html


def test_relative_links_point_to_the_service_not_to_us() -> None:
    html = render_markdown("[privacy](/privacy) and [section](#s2)", "https://service.example/terms")
    assert 'href="https://service.example/privacy"' in html
    assert 'href="https://service.example/terms#s2"' in html
    assert "rel=\"nofollow noopener noreferrer\"" in html


def test_relative_links_without_a_base_are_unlinked() -> None:
    assert render_markdown("[privacy](/privacy)") == "<p><a>privacy</a></p>\n"


def test_tables_and_structure_survive() -> None:
    html = render_markdown("Title\n=====\n\n1\\. not a list\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~\n")
    assert "<h1>Title</h1>" in html and "<td>1</td>" in html and "<s>old</s>" in html
    assert "<p>1. not a list</p>" in html

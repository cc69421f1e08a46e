"""What a reader must know before taking a version's differences as the service's change: a failed
capture kept from imported history, other pages tracked, another language (found by a journalist's
and a reader's review of the committed site)."""

from __future__ import annotations

import html
import re
from pathlib import Path

LE_CHAT = "le-chat/privacy-policy"
STUB, AFTER_STUB, BEFORE_STUB = "2025-12-15T11-34-51Z", "2025-12-15T23-34-52Z", "2025-11-11T15-33-07Z"
WAZE = "waze/privacy-policy"


def _text(page: Path) -> str:
    body = re.sub(r"<script.*?</script>|<[^>]+>", " ", page.read_text(), flags=re.S)
    return " ".join(html.unescape(body).split())


def test_a_failed_capture_is_said_so_and_compared_with_nothing(committed_site: Path) -> None:
    stub = _text(committed_site / LE_CHAT / STUB / "index.html")
    assert "Looks like a failed capture: its text is 32 bytes where the version before it had" in stub
    changes = _text(committed_site / LE_CHAT / STUB / "changes" / "index.html")
    assert "Not compared: this capture looks failed" in changes and "No longer flagged" not in changes
    history = _text(committed_site / LE_CHAT / "history" / "index.html")
    assert "failed capture, kept" in history


def test_the_version_after_a_failed_capture_compares_its_flags_with_the_one_before(
        committed_site: Path) -> None:
    page = (committed_site / LE_CHAT / AFTER_STUB / "changes" / "index.html").read_text()
    text = _text(committed_site / LE_CHAT / AFTER_STUB / "changes" / "index.html")
    assert "Compared across a failed capture" in text
    assert f'/{LE_CHAT}/{BEFORE_STUB}/">version of 2025-11-11 15:33:07 UTC</a>, the last before it' in page
    # Waze's version after its failed capture drops two flags, and changes pages: both are told
    # against the version before the failed capture, and link there (found by review)
    waze = (committed_site / WAZE / "2023-03-09T10-37-25Z" / "changes" / "index.html").read_text()
    removed = waze.split("No longer flagged (2)", 1)[1].split("</ul>", 1)[0]
    assert removed.count('/2022-09-20T15-23-32Z/#c-') == 2 and "2023-03-09T09-50-03Z" not in removed
    assert "no longer made from" in _text(committed_site / WAZE / "2023-03-09T10-37-25Z/changes/index.html")
    assert "Other pages tracked" not in _text(committed_site / WAZE / "2023-03-09T09-50-03Z" / "index.html")


def test_a_wording_kept_on_both_sides_of_a_failed_capture_is_dated_from_before_it(committed_site: Path,
                                                                                  ) -> None:
    """Waze's 750-word capture of another page broke every run: "flagged in this wording since
    2023-03-09" for sentences of every version since 2022-02-03."""
    since = re.findall(r'since the version of <a href="[^"]*/(\d{4}-[^"/]+)/"',
                       (committed_site / WAZE / "index.html").read_text())
    assert since and "2022-02-03T11-51-49Z" in since
    assert "2023-03-09T10-37-25Z" not in since


def test_other_pages_and_another_language_are_said_so(committed_site: Path) -> None:
    chatgpt = _text(committed_site / "chatgpt/privacy-policy/2025-07-31T12-06-59Z/changes/index.html")
    added = "https://openai.com/policies/how-your-data-is-used-to-improve-model-performance/"
    assert f"Other pages tracked: this version was made from {added} as well, unlike the version" in chatgpt
    telegram = _text(committed_site / "telegram/terms-of-service/2023-10-19T00-34-30Z/index.html")
    assert "Another language: this text reads as German (de), that of the version of 2023-05-30" in telegram
    assert re.search(r"that of the version of 2023-05-30.{0,30}? as English \(en\): the page may", telegram)
    # its flags were not compared (the rules read English only): said so, not "the same clauses"
    changes = _text(committed_site / "telegram/terms-of-service/2023-10-19T00-34-30Z/changes/index.html")
    assert "Not compared: the rules did not read this version's text" in changes
    assert "None: the rules flag the same clauses" not in changes
    plain = _text(committed_site / "chatgpt/privacy-policy/2026-05-18T07-00-18Z/index.html")
    assert "Other pages tracked" not in plain and "Another language" not in plain



def test_lists_of_versions_say_why_their_change_figures_may_not_be_the_services(
        committed_site: Path) -> None:
    """Found by a review of the built site: the history page and the document's timeline gave Le
    Chat's version after a redirect stub as "+5754 / −3 words (100%)", Telegram's German text as a
    99.6 % change, with no word of why; only the version and changes pages said so."""
    history = _text(committed_site / LE_CHAT / "history" / "index.html")
    row = history.split(f"{AFTER_STUB[:10]} 23:34:52 UTC", 1)[1][:300]
    assert "words counted against a failed capture" in row, row
    timeline = _text(committed_site / LE_CHAT / "index.html")
    assert "(words counted against a failed capture;" in timeline
    telegram = _text(committed_site / "telegram/terms-of-service/history/index.html")
    assert "text in German (de), the version before in English (en)" in telegram
    chatgpt = _text(committed_site / "chatgpt/privacy-policy/history/index.html")
    assert "made from other pages than the version before" in chatgpt
    # one note per cause, only where it applies
    assert history.count("words counted against a failed capture") == 1 and "text in" not in history
    plain = (committed_site / "bluesky/terms-of-service/history/index.html").read_text()
    assert 'class="caveat"' not in plain
    feed = (committed_site / "feeds" / f"{LE_CHAT}.xml").read_text()
    assert "looks failed: the size change is counted against that capture" in " ".join(feed.split())

"""Texts the rules cannot read (not in English) are marked as not analysed, never as clean."""

from __future__ import annotations

from pathlib import Path

from generator.archive import load_archive
from generator.language import reads_as_english

from .conftest import ROOT


def test_every_english_version_of_the_archive_reads_as_english_and_the_german_ones_do_not() -> None:
    archive = load_archive(ROOT / "archive")
    judged = {(str(d.key), v.id): reads_as_english(v.read_text())
              for d in archive.documents for v in d.versions}
    foreign = sorted(key for key, english in judged.items() if not english)
    # Telegram serves its German terms to the capture since 2023-10-19 (its earlier versions are English).
    german = sorted(k for k in judged if k[0] == "telegram/terms-of-service" and k[1] >= "2023-10-19")
    assert len(german) == 7 and foreign == german
    assert reads_as_english("Kurz.")  # too short to judge: read as English (the rules then find little)
    french = "Nous traitons vos données personnelles avec soin, conformément au règlement. " * 8
    assert not reads_as_english(french)


def test_the_site_says_not_analysed_instead_of_showing_a_clean_record(committed_site: Path) -> None:
    telegram = (committed_site / "telegram/terms-of-service/index.html").read_text()
    assert "Not analysed: this text is not in English" in telegram
    assert "Having no flags says nothing about what it allows." in telegram
    assert "No count here" not in telegram
    assert "The rules did not read the Telegram Terms of Service" in telegram
    assert "None flagged." not in telegram and "Our rules flag no provision" not in telegram
    home = (committed_site / "index.html").read_text()
    assert home.count("not analysed: not in English") == 1
    matrix = (committed_site / "categories/index.html").read_text()
    assert "not analysed: its documents are not in English" in matrix
    # Nor a count of zero in the tables of the history and service pages.
    history = (committed_site / "telegram/terms-of-service/history/index.html").read_text()
    assert history.count("not analysed (not in English)") == 7 and "0 (0 / 0 / 0)" not in history
    service = (committed_site / "telegram/index.html").read_text()
    assert "not analysed (not in English)" in service and "0 (0 / 0 / 0)" not in service
    # The switch to German is not "10 provisions no longer flagged": the rules just stopped reading.
    switch = committed_site / "telegram/terms-of-service/2023-10-19T00-34-30Z/changes/index.html"
    assert "No longer flagged" not in switch.read_text()
    others = [p for p in committed_site.glob("*/*/index.html") if "telegram" not in str(p)]
    assert len(others) > 20 and not [p for p in others if "Not analysed: this text" in p.read_text()]

"""Texts the rules cannot read (not in English) are marked as not analysed, never as clean."""

from __future__ import annotations

import json
import re
from pathlib import Path

from generator.archive import load_archive
from generator.language import _WORDS_OF, LANGUAGE_NAMES, language_name, reads_as_english

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


# Written here for the test: policy-like prose of 50 to 70 words in each language the module names.
SAMPLES = {
    "de": "Wir verarbeiten Ihre Daten nur, wenn Sie uns dazu die Erlaubnis geben oder ein Gesetz es "
          "erlaubt. Sie können der Verarbeitung jederzeit widersprechen, und wir werden Ihre Anfrage "
          "innerhalb von dreißig Tagen beantworten. Die Daten werden auf Servern in der Europäischen "
          "Union gespeichert und nach dem Ende des Vertrags gelöscht, sofern keine Pflicht zur "
          "Aufbewahrung besteht. Für Fragen zu diesen Bedingungen wenden Sie sich an uns.",
    "fr": "Nous traitons vos données uniquement lorsque vous nous en donnez l'autorisation ou lorsque "
          "la loi le permet. Vous pouvez vous opposer au traitement à tout moment, et nous répondrons "
          "à votre demande dans un délai de trente jours. Les données sont conservées sur des serveurs "
          "situés dans l'Union européenne et sont supprimées à la fin du contrat, sauf obligation de "
          "conservation. Pour toute question sur ces conditions, vous pouvez nous écrire.",
    "es": "Tratamos sus datos solo cuando usted nos da su permiso o cuando la ley lo permite. Usted "
          "puede oponerse al tratamiento en cualquier momento, y responderemos a su solicitud en un "
          "plazo de treinta días. Los datos se guardan en servidores situados en la Unión Europea y se "
          "eliminan al final del contrato, salvo que exista una obligación de conservarlos. Para "
          "cualquier pregunta sobre estas condiciones, puede escribirnos por correo.",
    "it": "Trattiamo i tuoi dati solo quando ci dai il permesso o quando la legge lo consente. Puoi "
          "opporti al trattamento in qualsiasi momento e risponderemo alla tua richiesta entro trenta "
          "giorni. I dati sono conservati su server che si trovano nell'Unione europea e sono "
          "cancellati alla fine del contratto, salvo un obbligo di conservazione. Per qualsiasi "
          "domanda su questi termini puoi scriverci, e ti risponderemo con la massima cura.",
    "pt": "Tratamos os seus dados apenas quando você nos dá permissão ou quando a lei o permite. Você "
          "pode se opor ao tratamento a qualquer momento, e responderemos ao seu pedido em um prazo de "
          "trinta dias. Os dados são guardados em servidores localizados na União Europeia e são "
          "apagados no fim do contrato, salvo uma obrigação de conservação. Para qualquer pergunta "
          "sobre estes termos, você pode nos escrever.",
    "nl": "Wij verwerken uw gegevens alleen als u ons daarvoor toestemming geeft of als de wet het "
          "toestaat. U kunt op elk moment bezwaar maken tegen de verwerking, en wij beantwoorden uw "
          "verzoek binnen dertig dagen. De gegevens worden bewaard op servers in de Europese Unie en "
          "worden aan het einde van het contract verwijderd, tenzij een wettelijke plicht tot bewaren "
          "geldt. Voor vragen over deze voorwaarden kunt u ons schrijven.",
    "ja": "当社は、お客様の同意がある場合、または法律で認められている場合に限り、お客様の個人データを"
          "処理します。お客様はいつでも処理に異議を申し立てることができ、当社は三十日以内に回答します。"
          "データは欧州連合内のサーバーに保存され、契約終了後に削除されます。" * 4,
    "ko": "당사는 귀하의 동의가 있거나 법률이 허용하는 경우에만 귀하의 개인 데이터를 처리합니다. "
          "귀하는 언제든지 처리에 이의를 제기할 수 있으며, 당사는 삼십일 이내에 답변합니다. " * 6,
    "zh": "我们仅在您同意或法律允许的情况下处理您的个人数据。您可以随时反对处理，我们将在三十天内答复。"
          "数据存储在欧盟境内的服务器上，并在合同结束后删除。" * 6,
}


def test_a_text_not_in_english_is_named_by_its_language_or_as_unknown() -> None:
    from generator.language import text_language

    assert {code: text_language(text) for code, text in SAMPLES.items()} == {c: c for c in SAMPLES}
    assert text_language("Kurz.") == "en"  # too short to judge, as reads_as_english says
    archive = load_archive(ROOT / "archive")
    telegram = next(d for d in archive.documents if str(d.key) == "telegram/terms-of-service")
    assert {v.id: text_language(v.read_text()) for v in telegram.versions} == {
        v.id: "de" if v.id >= "2023-10-19" else "en" for v in telegram.versions}
    # Words of no language named here (Finnish), or Cyrillic, which several languages share: not known.
    finnish = ("Käsittelemme tietojasi vain, jos annat siihen luvan tai laki sen sallii. Voit vastustaa "
               "käsittelyä milloin tahansa, ja vastaamme pyyntöösi kolmenkymmenen päivän kuluessa. ") * 3
    russian = ("Мы обрабатываем ваши данные только с вашего согласия или если это разрешено законом. "
               "Вы можете в любое время возразить против обработки, и мы ответим в течение месяца. ") * 3
    assert text_language(finnish) == "" and text_language(russian) == ""


def test_a_text_not_in_english_is_marked_with_its_language_for_screen_readers(committed_site: Path) -> None:
    doc = committed_site / "telegram/terms-of-service"
    english, switch, german = "2023-05-30T18-33-50Z", "2023-10-19T00-34-30Z", "2024-02-18T12-35-15Z"
    assert '<div class="policy-text" lang="de">' in (doc / german / "index.html").read_text()
    page = (doc / english / "index.html").read_text()
    assert '<div class="policy-text">' in page and 'lang="de"' not in page
    # The changes page where the service switched to German: the new text is German, what it deleted
    # English, and the "inserted:"/"deleted:" prefixes read out are in the site's language.
    changes = (doc / switch / "changes/index.html").read_text()
    assert '<div class="diff-text" lang="de">' in changes
    assert '<del lang="en"><span class="diff-vh" lang="en">deleted: </span>' in changes
    assert '<ins><span class="diff-vh" lang="en">inserted: </span>' in changes
    assert '<td data-label="Previous version"><span class="diff-num">' in changes  # English: unmarked
    # German to German: no deleted text is marked apart.
    later = (doc / german / "changes/index.html").read_text()
    assert '<div class="diff-text" lang="de">' in later and "<del lang=" not in later
    history = (doc / "history/index.html").read_text()
    options = {m[1]: m[2] for m in re.finditer(r'<option value="([^"]+)"([^>]*)>', history)}
    assert 'data-lang="de"' in options[german] and "data-lang" not in options[english], options
    api = json.loads((committed_site / "api/telegram/terms-of-service.json").read_text())
    assert {v["id"]: v["language"] for v in api["versions"]} == {
        v["id"]: "de" if v["id"] >= switch else "en" for v in api["versions"]}
    assert api["latest"]["language"] == "de"
    # No page of an English document is marked with another language.
    others = [p for p in committed_site.glob("*/*/*/index.html") if "telegram" not in str(p)]
    assert len(others) > 200 and not [p for p in others if ' lang="' in p.read_text().split("<body", 1)[1]]


def test_the_read_out_prefixes_keep_the_site_language_inside_text_marked_otherwise() -> None:
    """From German back to English: the deleted German text is marked `de`, and its "deleted:" prefix
    `en` (it was read in German, found by review)."""
    from generator.diff import diff_texts
    from generator.render import make_environment

    macros = make_environment([ROOT / "themes" / "default"]).from_string(
        '{% import "diffmacros.html" as dm %}{{ dm.inline_rows(rows, langs) }}')
    diff = diff_texts("Wir dürfen Ihr Konto schließen.\n\nGleich.", "We may close your account.\n\nGleich.")
    rows = [row for block in diff.blocks for row in block.rows]
    html = macros.render(rows=rows, langs={"ui": "en", "old": "de", "new": "en"})
    assert '<del lang="de"><span class="diff-vh" lang="en">deleted: </span>' in html
    assert '<div class="diff-text" lang=' not in html  # the rows are the site's language


def test_every_language_a_text_can_read_as_has_a_name_for_readers() -> None:
    assert set(LANGUAGE_NAMES) == {"en", "ja", "ko", "zh", *_WORDS_OF}
    assert language_name("de") == "German (de)" and language_name("en") == "English (en)"
    assert language_name("") == language_name(None) == "an unknown language"
    assert language_name("sv") == "sv"  # a tag this code does not give: shown as it is

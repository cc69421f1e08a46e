"""Whether a text reads as English, the only language the rules read, and if not, which language
it reads as, so that pages can mark it (`lang`) for screen readers and hyphenation.

A policy in another language (a service that starts serving its German terms to the capture job)
would otherwise pass for one the rules found nothing wrong with. English legal text is about a
third function words ("the", "you", "may", ...); the sample archive's English versions hold 30% to
51% of the words below (of their first SAMPLE characters), its German ones 0.1% at most. Short texts
(under MIN_WORDS words, and under MIN_LETTERS letters for scripts written without spaces) are not
judged.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[^\W\d_]+")
_COMMON = frozenset([
    "the", "and", "of", "to", "you", "your", "we", "our", "for", "is", "are", "or", "that", "this",
    "with", "any", "be", "by", "as", "on", "not", "may", "will", "use", "from", "it", "if", "can",
    "these", "terms", "services", "service", "information", "data", "such", "other", "have", "has",
    "which", "when",
])
MIN_WORDS = 40
MIN_SHARE = 0.10
_BEYOND_LATIN = re.compile(r"[^\W\d_\u0000-\u024f]")  # a letter past Latin Extended-B
MIN_LETTERS = 200  # a text in a script without spaces between words (Japanese, Chinese) has few "words"
SAMPLE = 6000  # characters read: a policy keeps to one language, and a build reads every version


def reads_as_english(text: str) -> bool:
    """False only for a text long enough to judge whose words (of its first SAMPLE characters) are
    almost never common English ones, or whose letters are mostly of a script other than Latin."""
    return _reads_as_english(*_sample(text))


def _sample(text: str) -> tuple[str, list[str], int]:
    """The start of a text that is judged (lower-cased), its words and how many letters they hold."""
    sample = text[:SAMPLE].lower()
    words = _WORD.findall(sample)
    return sample, words, sum(map(len, words))


def _reads_as_english(sample: str, words: list[str], letters: int) -> bool:
    if letters >= MIN_LETTERS and len(_BEYOND_LATIN.findall(sample)) * 2 > letters:
        return False
    if len(words) < MIN_WORDS:
        return True
    return sum(w in _COMMON for w in words) / len(words) >= MIN_SHARE


# Function words of the languages policies of services in this archive's reach are most often served
# in: each is frequent in any text of its language and rare in the others'. Words shared between
# two languages (Spanish and Portuguese "de", "que") count for both; the best share decides.
_FUNCTION_WORDS = {
    "de": "der die das und zu den von mit sich des auf für ist im dem nicht ein eine als auch es an "
          "werden aus hat dass sie nach wird bei einer um am sind oder ihre ihr wir uns unsere diese "
          "können zur vom durch",
    "fr": "le la les de des du et un une à en que qui dans pour par sur au aux ne pas vous votre vos "
          "nous notre nos est sont ou ces cette avec ce se il être peut",
    "es": "el la los las de del y en que un una por para con no se su sus al es lo como o usted "
          "nuestro nuestra nuestros nosotros este esta estos puede podemos sobre",
    "it": "il lo la i gli le di del della dei delle e che un una per con non in da al alla su sono è "
          "si ci noi nostro nostri tuo tuoi o questo questi questa",
    "pt": "o a os as de do da dos das e que um uma para com não em no na nos por se seu sua você "
          "nós nosso nossa é são ou este esta",
    "nl": "de het een en van in is dat op te voor met niet zijn je u uw wij we ons onze of door aan "
          "bij worden deze dit die als ook",
}
_WORDS_OF = {code: frozenset(words.split()) for code, words in _FUNCTION_WORDS.items()}
# Scripts that name their language: kana is Japanese, hangul Korean, han without kana Chinese.
# (Cyrillic does not: Russian, Ukrainian, Bulgarian, Serbian... are left unknown.)
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
_HAN = re.compile(r"[\u4e00-\u9fff]")
MIN_SCRIPT_SHARE = 0.2  # of the sample's letters


# The languages text_language names, as readers see them (the site's own language is English).
LANGUAGE_NAMES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
                  "pt": "Portuguese", "nl": "Dutch", "ja": "Japanese", "ko": "Korean", "zh": "Chinese"}


def language_name(tag: str | None) -> str:
    """"German (de)" for a tag text_language gives; "an unknown language" for none; any other tag
    as it is (an archive written by another version of this code)."""
    if not tag:
        return "an unknown language"
    name = LANGUAGE_NAMES.get(tag)
    return f"{name} ({tag})" if name else tag


def text_language(text: str) -> str:
    """The language a text reads as, as a BCP 47 tag: "en" whenever reads_as_english holds, else one
    of the languages above or of the scripts above, else "" (not known: an empty `lang` says so)."""
    sample, words, letters = _sample(text)
    if _reads_as_english(sample, words, letters):
        return "en"
    for script, code in ((_KANA, "ja"), (_HANGUL, "ko"), (_HAN, "zh")):
        if len(script.findall(sample)) >= MIN_SCRIPT_SHARE * letters:
            return code
    shares = {code: sum(w in common for w in words) / len(words) for code, common in _WORDS_OF.items()}
    best = max(shares, key=lambda code: shares[code])
    return best if shares[best] >= MIN_SHARE else ""

"""Turn a fetched body into text: declared charset first, then what the bytes themselves allow.

Order, after the WHATWG encoding sniffing rules browsers follow: byte order mark, Content-Type
charset, `<meta charset>` / `<meta http-equiv>` in the head, then (undeclared) UTF-8 if the bytes
are valid UTF-8, else windows-1252, the usual encoding of old undeclared Western pages.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
# Browsers look for <meta charset> in the first 1024 bytes; real pages put it a little later at times.
_PRESCAN_BYTES = 4096
_COMMENT = re.compile(rb"<!--.*?-->", re.DOTALL)
# Matches both <meta charset="x"> and <meta http-equiv="Content-Type" content="text/html; charset=x">.
_META_CHARSET = re.compile(rb"""<meta\s[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
# WHATWG: these labels mean windows-1252; a page in a UTF-16 encoding cannot declare so in ASCII.
_ALIASES = {"latin-1": "cp1252", "iso8859-1": "cp1252", "ascii": "cp1252", "utf-16-le": "utf-8",
            "utf-16-be": "utf-8", "utf-16": "utf-8"}
# The encodings of the WHATWG Encoding Standard that Python has, by Python's codec names.
_WEB_CODECS = frozenset([
    "utf-8", "cp866", "iso8859-2", "iso8859-3", "iso8859-4", "iso8859-5", "iso8859-6", "iso8859-7",
    "iso8859-8", "iso8859-10", "iso8859-13", "iso8859-14", "iso8859-15", "iso8859-16", "koi8-r", "koi8-u",
    "mac-roman", "mac-cyrillic", "cp874", "tis-620", "cp1250", "cp1251", "cp1252", "cp1253", "cp1254",
    "cp1255", "cp1256", "cp1257", "cp1258", "gbk", "gb2312", "gb18030", "big5", "big5hkscs", "euc_jp",
    "iso2022_jp", "shift_jis", "euc_kr"])
_TEXT_TYPES = ("application/xhtml+xml", "application/xml", "application/json")


@dataclass(frozen=True)
class Decoded:
    text: str
    charset: str  # Python codec name, e.g. "utf-8", "cp1252"


def is_text(content_type: str | None) -> bool:
    """True for media types worth decoding (HTML, XML, plain text); a PDF or an image is not."""
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media.startswith("text/") or media.endswith("+xml") or media in _TEXT_TYPES


def decode(body: bytes, content_type: str | None = None) -> Decoded:
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return Decoded(body[len(bom):].decode(codec, errors="replace"), codec)
    declared = _header_charset(content_type)
    if declared:
        return Decoded(body.decode(declared, errors="replace"), declared)
    declared = meta_charset(body)
    if declared:
        return Decoded(body.decode(declared, errors="replace"), declared)
    try:
        return Decoded(body.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        return Decoded(body.decode("cp1252", errors="replace"), "cp1252")


def meta_charset(body: bytes) -> str | None:
    """The known charset an HTML head declares, as a Python codec name."""
    head = _COMMENT.sub(b"", body[:_PRESCAN_BYTES])
    for match in _META_CHARSET.finditer(head):
        codec = codec_name(match.group(1).decode("ascii"))
        if codec:
            return codec
    return None


def codec_name(label: str) -> str | None:
    """Python's codec for a charset label, with the WHATWG aliases; None for labels browsers do not
    know (Python's own codecs among them: idna, unicode_escape, base64, utf-7 ...)."""
    try:
        name = codecs.lookup(label.strip().lower()).name
    except LookupError:
        return None
    name = _ALIASES.get(name, name)
    return name if name in _WEB_CODECS else None


# WHATWG: a UTF-16 label is honoured from the HTTP header (only a page's own ASCII <meta> cannot mean
# it), "utf-16" as little-endian. Read as UTF-8, such a page was recorded as markup with U+FFFD between
# its letters (found by review).
_TRANSPORT_UTF16 = {"utf-16": "utf-16-le", "utf-16-le": "utf-16-le", "utf-16-be": "utf-16-be"}


def _header_charset(content_type: str | None) -> str | None:
    match = _HEADER_CHARSET.search(content_type or "")
    if not match:
        return None
    try:
        name = codecs.lookup(match.group(1).strip().lower()).name
    except LookupError:
        return None
    return _TRANSPORT_UTF16.get(name) or codec_name(match.group(1))

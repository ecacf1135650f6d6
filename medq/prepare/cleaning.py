"""Text normalisation and PII scrubbing for Chinese medical QA."""

from __future__ import annotations

import html
import re
from collections import Counter
from dataclasses import dataclass
from typing import Literal

_TAG = re.compile(r"<\s*(/?)\s*([a-zA-Z][a-zA-Z0-9]*)[^<>]{0,300}>")
_BLOCK_TAGS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "ul", "ol", "table"}
_INLINE_SPACE = re.compile(r"[ \t\f\v\xa0\u3000\u2002\u2003\u2009\u200b]+")
_ODD_SPACE = re.compile(r"[\t\f\v\xa0\u3000\u2002\u2003\u2009\u200b]|  ")
_SPACE_AROUND_NEWLINE = re.compile(r" *\n *")
_MANY_NEWLINES = re.compile(r"\n{3,}")
_CJK = r"\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}]) (?=[{_CJK}])")
# the characters for which Python's str.isspace() is true, as an RE2 character class
ISSPACE_RE2 = r"[\t-\r\x1c-\x20\x85\xa0\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"


def _width_table(mode: str) -> dict[int, int]:
    if mode == "none":
        return {}
    table = {0x3000: 0x20}
    for code in range(0xFF01, 0xFF5F):
        char = chr(code - 0xFEE0)
        if mode == "all" or char.isalnum():
            table[code] = code - 0xFEE0
    return table


@dataclass
class CleaningRules:
    strip_html: bool = True
    normalize_whitespace: bool = True
    # alnum: full-width letters, digits and the ideographic space become half-width; Chinese punctuation
    # (，。？！) stays as it is. all: every full-width ASCII form. none: leave text alone.
    full_width: Literal["alnum", "all", "none"] = "alnum"
    to_simplified: bool = False
    scrub_pii: bool = True


class TextCleaner:
    def __init__(self, rules: CleaningRules):
        self.rules = rules
        self._width = _width_table(rules.full_width)
        self._has_width = re.compile("[" + "".join(map(chr, self._width)) + "]") if self._width else None
        self._converter = None
        if rules.to_simplified:
            from opencc import OpenCC

            self._converter = OpenCC("t2s")
        # Every character or sequence that one of the rewrites below looks for, in one pattern: text with none of
        # them (and no whitespace at either end) comes back unchanged after one scan instead of six.
        # (one character class: Python's re scans a class much faster than an alternation)
        triggers = ("<&" if rules.strip_html else "") + "".join(map(chr, self._width))
        if rules.normalize_whitespace:
            triggers += "\r\t\f\v\xa0\u3000\u2002\u2003\u2009\u200b "
        self._may_change = re.compile("[" + re.escape(triggers) + "]") if triggers else None
        self._triggers = triggers

    def may_change_pattern(self) -> str | None:
        """The guard of `clean` as an RE2 pattern (pyarrow's regex engine): it matches every text `clean` may
        change (a superset is enough: the columnar pass sends the matching texts through `clean`). None: every
        text may change (OpenCC conversion)."""
        if self._converter is not None:
            return None
        parts = ["[" + "".join(f"\\x{{{ord(c):x}}}" for c in self._triggers) + "]"] if self._triggers else []
        if self.rules.normalize_whitespace:  # leading or trailing whitespace (str.isspace), or three newlines
            parts += [f"^{ISSPACE_RE2}", f"{ISSPACE_RE2}$", "\n\n\n"]
        return "|".join(parts) or "$^"

    def clean(self, text: str) -> str:
        if self._converter is None and (self._may_change is None or not self._may_change.search(text)) and not (
                self.rules.normalize_whitespace and text and (
                    text[0].isspace() or text[-1].isspace() or "\n\n\n" in text)):
            return text
        if self.rules.strip_html and ("<" in text or "&" in text):
            text = _TAG.sub(lambda m: "\n" if m.group(2).lower() in _BLOCK_TAGS else "", text)
            text = html.unescape(text)
        # the guards are C-speed scans that let most Chinese text skip the slower rewrites
        if self._has_width is not None and self._has_width.search(text):
            text = text.translate(self._width)
        if self.rules.normalize_whitespace:
            if "\r" in text:
                text = text.replace("\r\n", "\n").replace("\r", "\n")
            if _ODD_SPACE.search(text):
                text = _INLINE_SPACE.sub(" ", text)
            if " \n" in text or "\n " in text:
                text = _SPACE_AROUND_NEWLINE.sub("\n", text)
            if "\n\n\n" in text:
                text = _MANY_NEWLINES.sub("\n\n", text)
            if " " in text:
                text = _SPACE_BETWEEN_CJK.sub("", text)
            text = text.strip()
        if self._converter is not None:
            text = self._converter.convert(text)
        return text


_ID_CARD = re.compile(
    r"(?<![0-9A-Za-z])(?:[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
    r"|[1-9]\d{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3})(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![\d+])(?:\+?86[- ]?)?1[3-9]\d(?:[- ]?\d{4}){2}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}-\d{7,8}(?!\d)")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_MAY_HOLD_PII = re.compile(r"[0-9@]")
PII_PATTERNS = (("id_card", _ID_CARD, "[身份证号]"), ("phone", _MOBILE, "[电话号码]"),
                ("phone", _LANDLINE, "[电话号码]"), ("email", _EMAIL, "[邮箱]"))
# Every pattern above needs four digits in a row (\d, as the patterns use it) or an "@": medical text is full of
# short numbers (ages, doses, days), and a text without either cannot change below. One cheap scan instead of four.
_MAY_MATCH = re.compile(r"\d{4}|@")
# the same guard for RE2 (pyarrow): \p{Nd} is what Python's \d matches in str patterns (Unicode decimal digits)
MAY_MATCH_PII_RE2 = r"\p{Nd}{4}|@"


def scrub_pii(text: str, counts: Counter) -> str:
    """Replace mainland ID card numbers, phone numbers and e-mail addresses with placeholders; count them."""
    if not _MAY_HOLD_PII.search(text) or not _MAY_MATCH.search(text):
        return text
    for kind, pattern, placeholder in PII_PATTERNS:
        text, found = pattern.subn(placeholder, text)
        if found:
            counts[kind] += found
    return text

"""The agent's text layer: one normal form for every name and every text the knowledge base is matched against.

`normalise(text)` = NFKC (full-width → half-width) + lower case + traditional → simplified, so the result has
exactly the length of the input and a span found in it is the same span in the original text.
Traditional → simplified (`to_simplified`) has two steps, both length-preserving:
1. characters: OpenCC's own character dictionary (TSCharacters, the package `opencc-python-reimplemented`), one
   character to one character, plus the Taiwan/Hong Kong standard forms it lacks (MEDICAL_VARIANTS: 痺 → 痹, 睪 → 睾,
   著 → 着 …);
2. words: medq/agent/regional.csv, Taiwanese usage that differs from the mainland's by word, not by character
   (攝護腺 → 前列腺, 心律不整 → 心律失常, 計程車 → 出租车; 著 back to 著 in 顯著/著名), Cantonese function words and Hong
   Kong usage (食緊 → 在吃, 冇 → 没, 咗 → 了, 唔 → 不, 係 → 是, 敏感 → 过敏; 食 stays 食 in 食物/飲食/食道, 系 in 系統/關係),
   and counts after a number (兩顆 → 两粒, 三錠 → 三片, 5cc → 5ml), each row of the same length as its standard (a
   shorter one is padded with spaces). Leftmost-longest: a longer row wins where two start at the same place, which is
   how a word keeps its characters (食物 before 食).
Words of different lengths (drug names, 阿茲海默症) are aliases in aliases.csv (alias_kind taiwan/hongkong).
Every matcher reads this form: the auditor converts its inputs (draft, question, profile), the extractor the
patient's messages.

Other modules (the memory extractor) import `to_simplified` and `normalise` from here.

`Matcher`: one Aho–Corasick automaton (pyahocorasick) over every normalised surface name, leftmost-longest,
non-overlapping; Latin names must not sit inside a longer Latin word, but a strength written straight after one
ends it (panadol500mg is Panadol), and a name whose Latin words are joined by a hyphen or a space is found with
either join or none (Slow-K, Slow K, SlowK). `FuzzyIndex`: names of ≥ 3 characters found
again through typos — the same toneless pinyin (对乙酰氨基粉 → 对乙酰氨基酚) or one edit (rapidfuzz's Levenshtein)
for names of ≥ 4 characters.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Iterable, Iterator, TypeVar

from medq.errors import InputDataError

# the salt a generic is sold as, written before its name (马来酸氯苯那敏, 盐酸二甲双胍): a salt name in brackets after the
# bare name is the same medicine (rules/duplicate.py, the auditor's reading of a product's content)
SALT_WORDS = "马来酸|盐酸|硫酸|磷酸|枸橼酸|酒石酸|醋酸|甲磺酸|苯磺酸|富马酸|琥珀酸|碳酸|乳酸|葡萄糖酸"

T = TypeVar("T")
R = TypeVar("R")

# 醯 is the traditional/Taiwanese writing of 酰 in drug names (乙醯胺酚, 乙醯半胱氨酸): OpenCC keeps it as is. The others
# are Taiwan/Hong Kong standard forms that OpenCC maps to its own traditional standard first (TWVariantsRev,
# HKVariantsRev) and TSCharacters does not know: 麻痺, 睪丸/睪固酮, 衞生, 敍述; 著 is 着 (吃著, 睡不著, 著涼) except in
# the words regional.csv restores (顯著, 著名)
MEDICAL_VARIANTS = {"醯": "酰", "痠": "酸", "𬉼": "砜", "痺": "痹", "睪": "睾", "衞": "卫", "敍": "叙", "著": "着"}
REGIONAL_TABLE = Path(__file__).resolve().parent / "regional.csv"
NUMBER_BEFORE = "0-9０-９一二两兩三四五六七八九十半几幾"


@functools.lru_cache(maxsize=1)
def _t2s_table() -> dict[int, str]:
    import opencc

    folder = Path(opencc.__file__).resolve().parent / "dictionary"
    table: dict[int, str] = {}
    # TSCharacters only: the *VariantsRev tables map variants to the traditional standard (吃 → 喫), not to simplified
    for line in (folder / "TSCharacters.txt").read_text(encoding="utf-8").splitlines():
        source, _, targets = line.partition("\t")
        target = targets.split(" ")[0] if targets else ""
        if len(source) == 1 and len(target) == 1 and source != target:
            table.setdefault(ord(source), target)
    for source, target in MEDICAL_VARIANTS.items():
        table[ord(source)] = target
    return table


@functools.lru_cache(maxsize=1)
def _regional() -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """One pattern over regional.csv's words (in simplified characters, longest first) and what each becomes."""
    import csv

    header = ["phrase", "standard", "where", "source", "note"]
    anywhere: dict[str, str] = {}
    after_number: dict[str, str] = {}
    with open(REGIONAL_TABLE, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows or rows[0] != header:
        raise InputDataError(f"{REGIONAL_TABLE}: row 1: header must be {','.join(header)}")
    for row_no, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputDataError(f"{REGIONAL_TABLE}: row {row_no}: expected {len(header)} columns, got {len(row)}")
        phrase, standard, where, source = (cell.strip() for cell in row[:4])
        if not phrase or not standard or not source:
            raise InputDataError(f"{REGIONAL_TABLE}: row {row_no}: phrase, standard and source must not be empty")
        if len(standard) > len(phrase):
            raise InputDataError(f"{REGIONAL_TABLE}: row {row_no}: field standard: '{standard}' is longer than "
                                 f"'{phrase}' (the text must keep its length)")
        table = {"anywhere": anywhere, "after_number": after_number}.get(where)
        if table is None:
            raise InputDataError(f"{REGIONAL_TABLE}: row {row_no}: field where must be anywhere or after_number, "
                                 f"got '{where}'")
        key = phrase.translate(_t2s_table()).lower()
        table[key] = standard.rjust(len(phrase))
    alternatives = []
    if anywhere:
        alternatives.append("|".join(re.escape(k) for k in sorted(anywhere, key=len, reverse=True)))
    if after_number:
        words = "|".join(re.escape(k) for k in sorted(after_number, key=len, reverse=True))
        alternatives.append(f"(?<=[{NUMBER_BEFORE}])(?:{words})")
    # a character class on the first characters lets the scan skip positions no word can start at
    starts = "".join(sorted({k[0] for k in anywhere} | {k[0] for k in after_number} |
                            {k[0].upper() for k in (*anywhere, *after_number)}))
    pattern = re.compile(f"(?=[{re.escape(starts)}])(?:{'|'.join(alternatives)})", re.IGNORECASE) \
        if alternatives else None
    return pattern, {**{("#" + k): v for k, v in after_number.items()}, **anywhere}


def _regional_word(match: re.Match[str]) -> str:
    words = _regional()[1]
    word = match.group(0).lower()
    before = match.string[match.start() - 1] if match.start() > 0 else ""
    if before and re.match(f"[{NUMBER_BEFORE}]", before) and "#" + word in words:
        return words["#" + word]
    return words.get(word, match.group(0))


def to_simplified(text: str) -> str:
    """Traditional → simplified: characters, then Taiwanese words (see the module docstring); same length as the
    input."""
    converted = text.translate(_t2s_table())
    pattern = _regional()[0]
    return pattern.sub(_regional_word, converted) if pattern is not None else converted


def simplified_fields(record: R) -> R:
    """A dataclass record (a patient profile) with its text fields, strings, lists of strings and the text in
    tuple keys of a dict, through `to_simplified`; other fields as they are."""
    import dataclasses

    changes: dict[str, object] = {}
    for item in dataclasses.fields(record):  # type: ignore[arg-type]
        value = getattr(record, item.name)
        if isinstance(value, str):
            changes[item.name] = to_simplified(value)
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            changes[item.name] = [to_simplified(v) for v in value]
        elif isinstance(value, dict) and value and all(isinstance(k, tuple) for k in value):
            # the profile's sources, keyed by (kind, value): found again by the converted value
            changes[item.name] = {tuple(to_simplified(k) if isinstance(k, str) else k for k in key): v
                                  for key, v in value.items()}
    return dataclasses.replace(record, **changes) if changes else record  # type: ignore[type-var]


# trade marks after a brand (Panadol®, Nurofen™) read as a space: NFKC would turn ™ into two letters and change the
# text's length
_MARKS = {ord("®"): " ", ord("™"): " ", ord("©"): " "}


# what ends a sentence and a clause in a draft, a question or a message: the bounds every reading of "the sentence /
# the clause that holds this name" takes (one definition instead of a copy of the marks in each rule)
SENTENCE_MARKS = "。；;！!？?\n"
CLAUSE_MARKS = "，," + SENTENCE_MARKS


def span_start(text: str, position: int, marks: str = SENTENCE_MARKS) -> int:
    """Where the sentence (or, with CLAUSE_MARKS, the clause) that holds `position` starts: after the last mark
    before it, or 0."""
    return max(text.rfind(mark, 0, position) for mark in marks) + 1


def span_end(text: str, position: int, marks: str = SENTENCE_MARKS) -> int:
    """Where the sentence (or clause) that goes on at `position` ends: at the first mark from it, or the text's end."""
    found = _any_mark(marks).search(text, position)
    return found.start() if found else len(text)


@functools.lru_cache(maxsize=None)
def _any_mark(marks: str) -> re.Pattern[str]:
    return re.compile(f"[{re.escape(marks)}]")


@functools.lru_cache(maxsize=4096)
def normalise(text: str) -> str:
    """The matching form: trade marks (® ™) as spaces, NFKC, lower case, simplified. Same length as `text` unless NFKC changes it (rare
    ligatures), in which case only lower case and simplification are applied."""
    text = text.translate(_MARKS)
    folded = unicodedata.normalize("NFKC", text).lower()
    if len(folded) != len(text):
        folded = text.lower()
    return to_simplified(folded)


def _latin(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _latin_continues(last: str, following: str) -> bool:
    """Whether `following` continues the Latin word a name ends with: a letter always does, a digit only after a
    digit. A strength written straight after a brand (panadol500mg, nurofen200) ends the name; vitamin b1 stays out
    of vitamin b12."""
    if not (following.isascii() and following.isalnum()):
        return False
    return following.isalpha() or not last.isalpha()


# the joins a Latin brand is written with (Slow-K, Slow K, SlowK; Postinor-2, Postinor 2)
_LATIN_JOIN = re.compile(r"(?<=[a-z0-9])[ \-](?=[a-z0-9])")


def latin_variants(name: str) -> set[str]:
    """The other spellings of a normalised Latin name whose words are joined by a hyphen or a space: hyphen, space
    and nothing between them (slow-k → slow k, slowk). Names without Latin words joined so have none; a joined
    spelling shorter than 5 characters is left out (too likely an ordinary abbreviation), and so are names without a
    Latin letter (654-2 is no 6542)."""
    if (" " not in name and "-" not in name) or not _LATIN_JOIN.search(name) or not re.search("[a-z]", name):
        return set()
    variants = {_LATIN_JOIN.sub(join, name) for join in ("-", " ", "")}
    variants.discard(name)
    return {v for v in variants if len(v) >= 5}


@dataclass(frozen=True)
class Hit(Generic[T]):
    start: int
    end: int
    value: T


class Matcher(Generic[T]):
    """Leftmost-longest, non-overlapping matches of many names in one pass (Aho–Corasick)."""

    def __init__(self, names: dict[str, T]):
        import ahocorasick

        self.automaton = ahocorasick.Automaton()
        for name, value in names.items():
            if name:
                self.automaton.add_word(name, (len(name), value))
        for name, value in names.items():
            for variant in latin_variants(name):
                if variant not in names and not self.automaton.exists(variant):
                    self.automaton.add_word(variant, (len(variant), value))
        self.empty = not names
        if not self.empty:
            self.automaton.make_automaton()

    def find(self, norm: str) -> list[Hit[T]]:
        """Matches in an already normalised text."""
        if self.empty or not norm:
            return []
        candidates: list[tuple[int, int, T]] = []
        for end_index, (length, value) in self.automaton.iter(norm):
            start, end = end_index - length + 1, end_index + 1
            if _latin(norm[start]) and ((start > 0 and _latin(norm[start - 1])) or
                                         (end < len(norm) and _latin_continues(norm[end - 1], norm[end]))):
                continue
            candidates.append((start, end, value))
        candidates.sort(key=lambda c: (c[0], -(c[1] - c[0])))
        hits: list[Hit[T]] = []
        position = 0
        for start, end, value in candidates:
            if start >= position:
                hits.append(Hit(start, end, value))
                position = end
        return hits


_PINYIN: dict[str, str] = {}


@functools.lru_cache(maxsize=1)
def _readings() -> dict[int, str]:
    """pypinyin's own single-character dictionary (pinyin_dict.json: code point → readings with tone marks), read
    directly: importing pypinyin itself loads its phrase dictionary too (~0.5 s), which one-character readings do
    not need."""
    import importlib.util
    import json

    spec = importlib.util.find_spec("pypinyin")
    if spec is None or spec.origin is None:
        raise ImportError("pypinyin is required for typo matching (pip install -c constraints.txt pypinyin)")
    with open(Path(spec.origin).parent / "pinyin_dict.json", encoding="utf-8") as handle:
        return {int(k): v for k, v in json.load(handle).items()}


def _toneless(reading: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", reading) if not unicodedata.combining(c)).replace(
        "ü", "v")


def char_pinyin(char: str) -> str:
    """Toneless pinyin of one character in its first (most common) reading ('酚' → 'fen'), blurred as below; other
    characters as they are."""
    found = _PINYIN.get(char)
    if found is None:
        reading = _readings().get(ord(char)) if _is_han(char) else None
        found = fuzzy_syllable(_toneless(reading.split(",")[0])) if reading else char
        _PINYIN[char] = found
    return found


def fuzzy_syllable(syllable: str) -> str:
    """The distinctions input methods and dialects blur: zh/z, ch/c, sh/s, initial n/l, -ng/-n (布诺芬 ~ 布洛芬)."""
    for a, b in (("zh", "z"), ("ch", "c"), ("sh", "s")):
        if syllable.startswith(a):
            syllable = b + syllable[2:]
    if syllable.startswith("n"):
        syllable = "l" + syllable[1:]
    if syllable.endswith("ng") and len(syllable) > 2:
        syllable = syllable[:-1]
    return syllable


def pinyin_key(text: str) -> str:
    """Toneless pinyin, one (blurred) syllable per character, joined by | (阿莫西琳, 阿莫西林 → a|mo|xi|lin)."""
    return "|".join(char_pinyin(c) for c in text)


def _is_han(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


# characters of grammar that a drug-name typo does not produce
FUNCTION_CHARS = set("的了是在有和与及或等时会要可能把被就也都还很太更最又才再您你我他她它们这那个些吗呢吧啊哦为以对从向")


def _deletions(name: str) -> set[str]:
    return {name[:i] + name[i + 1:] for i in range(len(name))}


class FuzzyIndex(Generic[T]):
    """Typo tolerance for Chinese names: the same toneless pinyin for names of ≥ 3 characters (the usual input-method
    typo, 阿莫西琳 → 阿莫西林, 对乙酰氨基粉 → 对乙酰氨基酚), and one character substituted, inserted or deleted for names
    of ≥ 5 characters (a symmetric-deletion index); one edit in a 3- or 4-character name changes too much of it to be
    told from an ordinary word. Syllables are compared blurred (zh/z, ch/c, sh/s, n/l, -ng/-n), but a homophone must
    keep all characters but one of the name (不洛芬 → 布洛芬; 以为是 is no brand 易维适), and a span holding a grammar
    character (的, 是, 了 …) is never a typo. Only stretches of Han characters the exact matcher left uncovered are
    tried; a span that
    would match two different entries is ambiguous and not used."""

    def __init__(self, names: dict[str, T], min_chars: int = 3, min_edit_chars: int = 5, max_chars: int = 10):
        self.min_chars, self.min_edit_chars, self.max_chars = min_chars, min_edit_chars, max_chars
        self.by_pinyin: dict[str, list[tuple[str, T]]] = {}
        self.by_deletion: dict[str, list[tuple[str, T]]] = {}
        self.exact: set[str] = set()
        self.edges: set[str] = set()    # first and last two characters of the names an edit may reach
        self.pinyin_starts: set[str] = set()   # the first two syllables of every name (a homophone shares them)
        for name, value in names.items():
            if not (min_chars <= len(name) <= max_chars) or not all(_is_han(c) for c in name):
                continue
            self.exact.add(name)
            key = pinyin_key(name)
            self.pinyin_starts.add("|".join(key.split("|")[:2]))
            self.by_pinyin.setdefault(key, []).append((name, value))
            if len(name) >= min_edit_chars:
                self.edges |= {"<" + name[:2], name[-2:] + ">"}
                for variant in _deletions(name) | {name}:
                    self.by_deletion.setdefault(variant, []).append((name, value))

    def lookup(self, span: str) -> T | None:
        """The entry a span is a typo of; None when it is none or ambiguous."""
        if not (self.min_chars <= len(span) <= self.max_chars + 1) or not all(_is_han(c) for c in span):
            return None
        return self._lookup(span, pinyin_key(span))

    def _lookup(self, span: str, key: str | None) -> T | None:
        grammar = {c for c in span if c in FUNCTION_CHARS}   # a typo does not produce 的/是/了 … that the name lacks
        if key is not None and key in self.by_pinyin:
            # a homophone typo changes one character (不洛芬): most characters stay the same
            same = [v for name, v in self.by_pinyin[key] if not grammar - set(name) and
                    sum(a == b for a, b in zip(span, name)) >= max(len(name) - 1, (len(name) + 1) // 2)]
            if same and all(v == same[0] for v in same):
                return same[0]
        if len(span) < self.min_edit_chars - 1 or ("<" + span[:2] not in self.edges and
                                                    span[-2:] + ">" not in self.edges):
            return None   # one edit leaves the first or the last two characters of a name of ≥ 5 intact
        found: list[T] = []
        for variant in _deletions(span) | {span}:
            for name, candidate in self.by_deletion.get(variant, ()):
                if abs(len(name) - len(span)) <= 1 and candidate not in found and not grammar - set(name) and \
                        _one_edit(span, name):
                    found.append(candidate)
        return found[0] if len(found) == 1 else None

    def scan(self, norm: str, taken: Iterable[tuple[int, int]]) -> Iterator[Hit[T]]:
        """Typo matches in the stretches of Han text the exact matcher did not cover, leftmost-longest."""
        covered = bytearray(len(norm))
        for start, end in taken:
            covered[start:end] = b"\x01" * (end - start)
        i = 0
        while i < len(norm):
            if covered[i] or not _is_han(norm[i]):
                i += 1
                continue
            j = i
            while j < len(norm) and not covered[j] and _is_han(norm[j]):
                j += 1
            if j - i >= self.min_chars:
                yield from self._scan_run(norm, i, j)
            i = j

    def _scan_run(self, norm: str, start: int, stop: int) -> Iterator[Hit[T]]:
        # the syllables of this run only, and the ends at which a name of ≥ 5 characters may stop (its last two
        # characters): both once per run, not per span tried
        syllables = [_PINYIN.get(c) or char_pinyin(c) for c in norm[start:stop]]
        edge_ends = {k for k in range(start + 2, stop + 1) if norm[k - 2:k] + ">" in self.edges}
        i = start
        while i <= stop - self.min_chars:
            hit = None
            by_sound = "|".join(syllables[i - start:i - start + 2]) in self.pinyin_starts
            by_edit_start = "<" + norm[i:i + 2] in self.edges
            for length in range(min(self.max_chars + 1, stop - i), self.min_chars - 1, -1):
                if not (by_sound or by_edit_start or i + length in edge_ends):
                    continue
                span = norm[i:i + length]
                if span in self.exact:
                    continue
                value = self._lookup(span, "|".join(syllables[i - start:i - start + length]) if by_sound else None)
                if value is not None:
                    hit = Hit(i, i + length, value)
                    break
            if hit is None:
                i += 1
                continue
            yield hit
            i = hit.end


class LatinTypos(Generic[T]):
    """Typo tolerance for Latin-letter drug names (brands and INNs in Chinese text: Nurofin, Augmentine, Zylorick):
    one substitution, insertion, deletion or swap of neighbours in a one-word name of ≥ 7 letters (one edit in a
    shorter one reaches ordinary English words: concur → Concor), the first letter kept (a symmetric-deletion index,
    as `FuzzyIndex`). Only whole Latin words the exact matcher left
    uncovered are tried, and a word that would match two different entries is not used."""

    def __init__(self, names: dict[str, T], min_chars: int = 7):
        self.min_chars = min_chars
        self.by_deletion: dict[str, list[tuple[str, T]]] = {}
        for name, value in names.items():
            if len(name) < min_chars or not (name.isascii() and name.isalpha()):
                continue   # one-word names of letters only: the words scan() tries
            for variant in _deletions(name) | {name}:
                self.by_deletion.setdefault(variant, []).append((name, value))

    def lookup(self, word: str) -> T | None:
        if len(word) < self.min_chars or not word.isascii():
            return None
        from rapidfuzz.distance import OSA

        found: list[T] = []
        for variant in _deletions(word) | {word}:
            for name, value in self.by_deletion.get(variant, ()):
                if name[0] == word[0] and name != word and value not in found and \
                        OSA.distance(word, name, score_cutoff=1) <= 1:
                    found.append(value)
        return found[0] if len(found) == 1 else None

    def scan(self, norm: str, taken: Iterable[tuple[int, int]]) -> Iterator[Hit[T]]:
        """Typo matches among the Latin words of a normalised text that no exact match touches."""
        spans = list(taken)
        for match in re.finditer(r"(?<![a-z0-9])[a-z]+(?![a-z])", norm):
            start, end = match.span()
            if end - start < self.min_chars or any(s < end and start < e for s, e in spans):
                continue
            value = self.lookup(match.group(0))
            if value is not None:
                yield Hit(start, end, value)


def _one_edit(a: str, b: str) -> bool:
    from rapidfuzz.distance import Levenshtein

    return Levenshtein.distance(a, b, score_cutoff=1) <= 1

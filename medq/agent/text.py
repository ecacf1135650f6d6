"""The agent's text layer: one normal form for every name and every text the knowledge base is matched against.

`normalise(text)` = NFKC (full-width → half-width) + lower case + traditional → simplified, character by character,
so the result has exactly the length of the input and a span found in it is the same span in the original text.
The traditional → simplified table is OpenCC's own character dictionary (TSCharacters, the package
`opencc-python-reimplemented`), taken one character to one character; OpenCC's phrase conversions, which can change
the length, are not applied (drug names differ between Taiwan and the mainland by word, not by phrase conversion:
those words are aliases in aliases.csv, alias_kind taiwan/hongkong).

Other modules (the memory extractor) import `to_simplified` and `normalise` from here.

`Matcher`: one Aho–Corasick automaton (pyahocorasick) over every normalised surface name, leftmost-longest,
non-overlapping; Latin names must not sit inside a longer Latin word. `FuzzyIndex`: names of ≥ 3 characters found
again through typos — the same toneless pinyin (对乙酰氨基粉 → 对乙酰氨基酚) or one edit (rapidfuzz's Levenshtein)
for names of ≥ 4 characters.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Iterable, Iterator, TypeVar

T = TypeVar("T")

# 醯 is the traditional/Taiwanese writing of 酰 in drug names (乙醯胺酚, 乙醯半胱氨酸): OpenCC keeps it as is
MEDICAL_VARIANTS = {"醯": "酰", "痠": "酸", "𬉼": "砜"}


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


def to_simplified(text: str) -> str:
    """Traditional → simplified, one character for one character (same length as the input)."""
    return text.translate(_t2s_table())


@functools.lru_cache(maxsize=4096)
def normalise(text: str) -> str:
    """The matching form: NFKC, lower case, simplified. Same length as `text` unless NFKC changes it (rare
    ligatures), in which case only lower case and simplification are applied."""
    folded = unicodedata.normalize("NFKC", text).lower()
    if len(folded) != len(text):
        folded = text.lower()
    return to_simplified(folded)


def _latin(char: str) -> bool:
    return char.isascii() and char.isalnum()


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
                                         (end < len(norm) and _latin(norm[end]))):
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
        syllables = [_PINYIN.get(c) or char_pinyin(c) for c in norm]
        i = 0
        while i < len(norm):
            if covered[i] or not _is_han(norm[i]):
                i += 1
                continue
            j = i
            while j < len(norm) and not covered[j] and _is_han(norm[j]):
                j += 1
            if j - i >= self.min_chars:
                yield from self._scan_run(norm, i, j, syllables)
            i = j

    def _scan_run(self, norm: str, start: int, stop: int, syllables: list[str]) -> Iterator[Hit[T]]:
        i = start
        while i <= stop - self.min_chars:
            hit = None
            by_sound = "|".join(syllables[i:i + 2]) in self.pinyin_starts
            by_edit_start = "<" + norm[i:i + 2] in self.edges
            for length in range(min(self.max_chars + 1, stop - i), self.min_chars - 1, -1):
                span = norm[i:i + length]
                if span in self.exact or not (by_sound or by_edit_start or span[-2:] + ">" in self.edges):
                    continue
                value = self._lookup(span, "|".join(syllables[i:i + length]) if by_sound else None)
                if value is not None:
                    hit = Hit(i, i + length, value)
                    break
            if hit is None:
                i += 1
                continue
            yield hit
            i = hit.end


def _one_edit(a: str, b: str) -> bool:
    from rapidfuzz.distance import Levenshtein

    return Levenshtein.distance(a, b, score_cutoff=1) <= 1

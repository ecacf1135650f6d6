"""Chinese-aware BM25 tokens: jieba words plus overlapping character bigrams.

Whitespace tokenisers make a run of Han characters one token (nothing matches) and single characters match
everything; words from jieba give precision, character bigrams give recall where jieba's segmentation of a
colloquial query differs from the document's. Query terms keep their repeats: BM25 then weighs a term the patient
repeats more, which Haystack's own BM25 ignores.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+(?:[.\-][a-z0-9]+)*")
# Function words that carry no retrieval signal; kept short on purpose (medical negations like 不/无 stay).
DEFAULT_STOPWORDS = frozenset([
    "的", "了", "吗", "呢", "吧", "啊", "呀", "是", "我", "你", "他", "她", "它", "在", "和", "与", "及", "或", "就", "都",
    "也", "还", "又", "请问", "一下", "这个", "那个", "什么", "怎么", "如何", "这种", "那种", "一些", "有点", "可以",
    "应该", "需要", "一个", "没有", "有", "会", "要", "能", "对", "把", "被", "让", "给", "但", "而", "等",
])
_jieba_lock = threading.Lock()
_jieba = None


def _segmenter():
    """jieba's dictionary loads once per process (~1 s); quiet, and safe to call from threads."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                _jieba = tokenizer
    return _jieba


def has_chinese(text: str) -> bool:
    return _HAN.search(text) is not None


class ChineseBM25Tokenizer:
    """Text -> BM25 terms: jieba words (`use_words`) + overlapping Han bigrams (`use_bigrams`), Latin words and
    numbers lowercased. A lone Han character (a one-character query or word) is kept as a unigram."""

    def __init__(self, use_words: bool = True, use_bigrams: bool = True, stopwords: bool = True,
                 min_word_chars: int = 1):
        if not (use_words or use_bigrams):
            raise ValueError("ChineseBM25Tokenizer needs use_words or use_bigrams")
        self.use_words = use_words
        self.use_bigrams = use_bigrams
        self.stopwords = DEFAULT_STOPWORDS if stopwords else frozenset()
        self.min_word_chars = min_word_chars

    def settings(self) -> dict:
        return {"use_words": self.use_words, "use_bigrams": self.use_bigrams, "stopwords": bool(self.stopwords),
                "min_word_chars": self.min_word_chars}

    def __call__(self, text: str) -> list[str]:
        text = text.lower()
        tokens: list[str] = []
        if self.use_words:
            for word in _segmenter().cut(text, HMM=True):
                word = word.strip()
                if len(word) < self.min_word_chars or word in self.stopwords or not _WORD.fullmatch(word):
                    continue
                tokens.append(word if not _HAN.fullmatch(word) or len(word) > 1 else f"c:{word}")
        else:
            tokens.extend(m for m in re.findall(r"[a-z0-9]+(?:[.\-][a-z0-9]+)*", text))
        if self.use_bigrams:
            for run in _HAN.findall(text):
                if len(run) == 1:
                    if not self.use_words and run not in self.stopwords:
                        tokens.append(f"c:{run}")
                    continue
                # "b:" keeps a bigram apart from the identical two-character jieba word: both count, as two
                # pieces of evidence of different precision.
                tokens.extend(f"b:{run[i:i + 2]}" for i in range(len(run) - 1))
        return tokens

    def batch(self, texts: Iterable[str]) -> list[list[str]]:
        return [self(t) for t in texts]

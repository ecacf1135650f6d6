"""Exact and near-duplicate detection, and contamination checks against evaluation sets.

Near duplicates: MinHash over character n-grams with banded LSH, computed for a batch of texts at once in
NumPy (the per-record Python cost is a few dict look-ups). A candidate is confirmed when its signature
agreement estimates Jaccard similarity >= threshold, so the first occurrence is kept and later ones rejected.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from medq.paths import ExistingFile

_MERSENNE_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


@dataclass
class DedupRules:
    exact: bool = True
    near: bool = True
    ngram: int = 5
    threshold: float = 0.8
    num_perm: int = 32
    bands: int = 8


def _codepoints(text: str, min_len: int) -> np.ndarray:
    points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(points) < min_len:
        points = np.concatenate([points, np.zeros(min_len - len(points), dtype=np.uint64)])
    return points


def ngram_hashes(texts: Sequence[str], n: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every character n-gram of every text, concatenated, and each text's start offset."""
    arrays = [_codepoints(t, n) for t in texts]
    lengths = np.array([len(a) for a in arrays])
    points = np.concatenate(arrays)
    windows = len(points) - n + 1
    hashes = np.zeros(windows, dtype=np.uint64)
    for k in range(n):
        hashes = hashes * _MERSENNE_MULTIPLIER + points[k:k + windows]
    text_starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    valid = np.ones(windows, dtype=bool)
    # windows that start in one text and end in the next are not n-grams of either
    for offset in range(1, n):
        ends = np.cumsum(lengths) - offset
        valid[ends[ends < windows]] = False
    kept = np.flatnonzero(valid)
    starts = np.searchsorted(kept, text_starts)
    return hashes[kept], starts


class MinHasher:
    def __init__(self, num_perm: int, ngram: int, seed: int = 1):
        rng = np.random.default_rng(seed)
        self.ngram = ngram
        self.a = (rng.integers(1, 2**32, num_perm, dtype=np.uint64).astype(np.uint32) | np.uint32(1))[:, None]
        self.b = rng.integers(0, 2**32, num_perm, dtype=np.uint64).astype(np.uint32)[:, None]

    def signatures(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), num_perm) uint32 MinHash signatures; 32-bit arithmetic halves the memory traffic."""
        hashes, starts = ngram_hashes(texts, self.ngram)
        folded = (hashes ^ (hashes >> np.uint64(32))).astype(np.uint32)
        permuted = self.a * folded[None, :]
        permuted += self.b
        return np.minimum.reduceat(permuted, starts, axis=1).T


class NearDuplicateIndex:
    """Banded LSH over MinHash signatures of the texts kept so far."""

    def __init__(self, rules: DedupRules):
        if rules.num_perm % rules.bands:
            raise ValueError(f"dedup.num_perm ({rules.num_perm}) must be a multiple of dedup.bands ({rules.bands})")
        self.rules = rules
        self.hasher = MinHasher(rules.num_perm, rules.ngram)
        self.rows = rules.num_perm // rules.bands
        self._min_agreeing = rules.threshold * rules.num_perm
        # Every kept text is listed under each of its band keys: a bucket that kept only its first owner would
        # hide a later kept text from the near duplicates that collide with it in that band alone.
        self._buckets: dict[int, list[int]] = {}
        self._signatures = np.zeros((1024, rules.num_perm), dtype=np.uint32)
        self._count = 0

    def add_batch(self, texts: Sequence[str]) -> list[int | None]:
        """For each text in order: the index of the earlier kept text it duplicates, or None (then it is kept)."""
        if not texts:
            return []
        signatures = self.hasher.signatures(texts)
        return [self.add(s, k) for s, k in zip(signatures, band_keys(signatures, self.rules.bands))]

    def add(self, signature: np.ndarray, keys: list[int]) -> int | None:
        """The index of the earlier kept text this signature duplicates, or None (then it is kept)."""
        candidates = sorted({c for k in keys for c in self._buckets.get(k, ())})
        for candidate in candidates:  # earliest kept text first, so verdicts do not depend on set order
            if np.count_nonzero(self._signatures[candidate] == signature) >= self._min_agreeing:
                return candidate
        self._keep(signature, keys)
        return None

    def _keep(self, signature: np.ndarray, keys: list[int]) -> None:
        if self._count == len(self._signatures):
            self._signatures = np.concatenate([self._signatures, np.zeros_like(self._signatures)])
        self._signatures[self._count] = signature
        for key in keys:
            self._buckets.setdefault(key, []).append(self._count)
        self._count += 1


def band_keys(signatures: np.ndarray, bands: int) -> list[list[int]]:
    """One 64-bit key per (text, band): the band's rows folded together, salted with the band index."""
    rows = signatures.shape[1] // bands
    grouped = signatures.reshape(len(signatures), bands, rows).astype(np.uint64)
    keys = np.arange(1, bands + 1, dtype=np.uint64)[None, :] * _MERSENNE_MULTIPLIER
    for row in range(rows):
        keys = (keys ^ grouped[:, :, row]) * _MERSENNE_MULTIPLIER
    return keys.tolist()


def exact_key(prompt: str, response: str) -> bytes:
    return hashlib.blake2b(f"{prompt}\0{response}".encode(), digest_size=12).digest()


@dataclass
class EvalSet:
    name: str
    path: ExistingFile
    fields: list[str]


@dataclass
class ContaminationRules:
    ngram: int = 13
    eval_sets: list[EvalSet] | None = None
    # Evaluation texts shorter than `ngram` count as leaked when they appear whole in a training text; below
    # `min_chars` (a lone option letter, "是") containment means nothing and they are not checked.
    min_chars: int = 4


class ContaminationChecker:
    """Flags text sharing any character n-gram (default 13) with an evaluation set, or containing a whole
    evaluation text shorter than that (whitespace ignored)."""

    def __init__(self, ngram: int, named_texts: Iterable[tuple[str, str]], min_chars: int = 4):
        self.ngram = ngram
        self._owner: dict[int, str] = {}
        # short eval texts by length: a training text is checked with one sliding window per distinct length
        self._short: dict[int, dict[str, str]] = {}
        self.eval_texts = 0
        self.too_short = 0
        for name, text in named_texts:
            self.eval_texts += 1
            compact = "".join(text.split())
            if len(compact) >= ngram:
                for start in range(len(compact) - ngram + 1):
                    self._owner.setdefault(hash(compact[start:start + ngram]), name)
            elif len(compact) >= min_chars:
                self._short.setdefault(len(compact), {}).setdefault(compact, name)
            else:
                self.too_short += 1

    def find(self, text: str) -> str | None:
        if not self._owner and not self._short:
            return None
        compact = "".join(text.split())
        owner = self._owner
        n = self.ngram
        if owner:
            for start in range(len(compact) - n + 1):
                name = owner.get(hash(compact[start:start + n]))
                if name is not None:
                    return name
        for length, texts in self._short.items():
            for start in range(len(compact) - length + 1):
                name = texts.get(compact[start:start + length])
                if name is not None:
                    return name
        return None

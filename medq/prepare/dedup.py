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
_NONE = np.iinfo(np.int64).max  # "no earlier kept text agrees" in NearDuplicateIndex


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
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    if len(texts) and lengths.min() >= n:  # no padding needed: decode the chunk as one string
        points = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    else:
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


class _KeyOwners:
    """band key -> the kept texts listed under it, as sorted NumPy runs (a log-structured merge: each run at least
    4 times the size of the next). A run holds its distinct keys, sorted, and the owners of each key in one array
    (CSR offsets), so a chunk of keys is looked up with one `searchsorted` per run, and the index costs about
    12 bytes per (kept text, band) instead of a Python dict entry, int and list (~150 bytes)."""

    def __init__(self) -> None:
        self.runs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (distinct keys, offsets, owners)

    @staticmethod
    def _run(keys: np.ndarray, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        order = np.argsort(keys, kind="stable")
        keys, owners = keys[order], owners[order]
        first = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        return keys[first], np.append(first, len(keys)), owners

    def insert(self, keys: np.ndarray, owners: np.ndarray) -> None:
        self.runs.append(self._run(keys, owners))
        while len(self.runs) > 1 and len(self.runs[-2][2]) < 4 * len(self.runs[-1][2]):
            newer, older = self.runs.pop(), self.runs.pop()
            flat = [(np.repeat(distinct, np.diff(offsets)), run_owners)
                    for distinct, offsets, run_owners in (older, newer)]
            self.runs.append(self._run(np.concatenate([k for k, _ in flat]), np.concatenate([o for _, o in flat])))

    def lookup(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(query position, owner) for every owner listed under each query key."""
        positions, owners = [], []
        by_key = np.argsort(queries)  # sorted queries walk each run once instead of missing the cache per query
        queries = queries[by_key]
        for distinct, offsets, run_owners in self.runs:
            at = np.searchsorted(distinct, queries)
            found = at < len(distinct)
            found[found] = distinct[at[found]] == queries[found]
            if not found.any():
                continue
            at = at[found]
            low, counts = offsets[at], offsets[at + 1] - offsets[at]
            total = int(counts.sum())
            starts = np.cumsum(counts) - counts
            positions.append(np.repeat(by_key[found], counts))
            owners.append(run_owners[np.repeat(low - starts, counts) + np.arange(total)])
        if not positions:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(positions), np.concatenate(owners)


class NearDuplicateIndex:
    """Banded LSH over MinHash signatures of the texts kept so far.

    The candidates of a text are all kept texts that share a band key with it, and the earliest candidate whose
    signature agrees in >= threshold x num_perm positions is the one it duplicates. The work is done a chunk at a
    time: `begin_chunk` finds and verifies, in NumPy, every candidate pair between the chunk and the texts kept
    before it and between rows of the chunk; `add_row` then decides each row in order in O(1) (whether a row is
    kept depends on the decisions before it, and on records the stage rejects for other reasons). Texts kept in a
    chunk join the index when the next chunk begins.
    """

    def __init__(self, rules: DedupRules):
        if rules.num_perm % rules.bands:
            raise ValueError(f"dedup.num_perm ({rules.num_perm}) must be a multiple of dedup.bands ({rules.bands})")
        self.rules = rules
        self.hasher = MinHasher(rules.num_perm, rules.ngram)
        self.rows = rules.num_perm // rules.bands
        self._min_agreeing = rules.threshold * rules.num_perm
        self._owners = _KeyOwners()
        self._signatures = np.zeros((1024, rules.num_perm), dtype=np.uint32)
        self._count = 0
        self._chunk: tuple[np.ndarray, np.ndarray] | None = None
        self._earliest = np.zeros(0, dtype=np.int64)
        self._within: dict[int, list[int]] = {}
        self._kept_rows: dict[int, int] = {}

    def add_batch(self, texts: Sequence[str]) -> list[int | None]:
        """For each text in order: the index of the earlier kept text it duplicates, or None (then it is kept)."""
        if not texts:
            return []
        signatures = self.hasher.signatures(texts)
        self.begin_chunk(signatures, band_keys(signatures, self.rules.bands))
        verdicts = [self.add_row(row) for row in range(len(texts))]
        self._flush()
        return verdicts

    def begin_chunk(self, signatures: np.ndarray, keys: np.ndarray) -> None:
        """Candidates of the chunk's rows (`signatures`: rows x num_perm, `keys`: rows x bands), verified."""
        self._flush()
        rows, bands = keys.shape
        big = _NONE
        # against the texts kept before this chunk: the earliest agreeing one per row
        positions, owners = self._owners.lookup(keys.ravel())
        earliest = np.full(rows, big, dtype=np.int64)
        if len(owners):
            row_of = positions // bands
            agree = np.count_nonzero(self._signatures[owners] == signatures[row_of], axis=1) >= self._min_agreeing
            np.minimum.at(earliest, row_of[agree], owners[agree])
        # between rows of the chunk: pairs (earlier, later) that share a key and agree
        flat = keys.ravel()
        order = np.argsort(flat, kind="stable")
        sorted_keys = flat[order]
        repeated = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1])
        within: dict[int, list[int]] = {}
        if len(repeated):
            pairs: set[tuple[int, int]] = set()
            # runs of equal keys: each starts at a repeated position whose predecessor is not repeated
            starts = repeated[np.r_[True, repeated[1:] != repeated[:-1] + 1]]
            ends = np.r_[repeated[np.r_[repeated[1:] != repeated[:-1] + 1, True]]] + 2
            row_of = (order // bands).tolist()
            for start, end in zip(starts.tolist(), ends.tolist()):
                members = sorted(set(row_of[start:end]))
                pairs.update((a, b) for i, a in enumerate(members) for b in members[i + 1:])
            if pairs:
                earlier, later = np.array(sorted(pairs), dtype=np.int64).T
                agree = np.count_nonzero(signatures[earlier] == signatures[later], axis=1) >= self._min_agreeing
                for a, b in zip(earlier[agree].tolist(), later[agree].tolist()):
                    within.setdefault(b, []).append(a)  # ascending: pairs were sorted
        self._chunk = (signatures, keys)
        self._earliest, self._within, self._kept_rows = earliest, within, {}

    def add_row(self, row: int) -> int | None:
        """Row `row` of the current chunk: the index of the earlier kept text it duplicates, or None (kept)."""
        earliest = int(self._earliest[row])
        if earliest != _NONE:
            return earliest
        for earlier_row in self._within.get(row, ()):
            index = self._kept_rows.get(earlier_row)
            if index is not None:  # rows are kept in order, so the first kept one has the smallest index
                return index
        self._kept_rows[row] = self._count + len(self._kept_rows)
        return None

    def _flush(self) -> None:
        """The rows kept from the current chunk join the index."""
        if self._chunk is None:
            return
        signatures, keys = self._chunk
        self._chunk = None
        if not self._kept_rows:
            return
        rows = np.fromiter(self._kept_rows, dtype=np.int64, count=len(self._kept_rows))
        indices = np.arange(self._count, self._count + len(rows), dtype=np.int64)
        while self._count + len(rows) > len(self._signatures):
            self._signatures = np.concatenate([self._signatures, np.zeros_like(self._signatures)])
        self._signatures[indices] = signatures[rows]
        self._owners.insert(keys[rows].ravel(), np.repeat(indices, keys.shape[1]))
        self._count += len(rows)
        self._kept_rows = {}


def band_keys(signatures: np.ndarray, bands: int) -> np.ndarray:
    """One 64-bit key per (text, band): the band's rows folded together, salted with the band index."""
    rows = signatures.shape[1] // bands
    grouped = signatures.reshape(len(signatures), bands, rows).astype(np.uint64)
    keys = np.arange(1, bands + 1, dtype=np.uint64)[None, :] * _MERSENNE_MULTIPLIER
    for row in range(rows):
        keys = (keys ^ grouped[:, :, row]) * _MERSENNE_MULTIPLIER
    return keys


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

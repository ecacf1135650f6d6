"""Exact and near-duplicate detection, and contamination checks against evaluation sets.

Near duplicates: MinHash over character n-grams with banded LSH, computed for a batch of texts at once in
NumPy (the per-record Python cost is a few dict look-ups). A candidate is confirmed when its signature
agreement estimates Jaccard similarity >= threshold, so the first occurrence is kept and later ones rejected.
"""

from __future__ import annotations

import itertools
import math
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
    """Hashes of every character n-gram window of the texts, concatenated (padded to n characters), and the
    `segments` of the windows that belong to one text (see `codepoint_ngram_hashes`)."""
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    if len(texts) and lengths.min() >= n:  # no padding needed: decode the chunk as one string
        points = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32)
    else:
        arrays = [_codepoints(t, n) for t in texts]
        lengths = np.array([len(a) for a in arrays])
        points = np.concatenate(arrays)
    return codepoint_ngram_hashes(points, lengths, n)


def codepoint_ngram_hashes(points: np.ndarray, lengths: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every n-character window of texts given as their code points, concatenated, and each text's
    length (>= n); and segment bounds for `np.minimum.reduceat`: text i's n-grams are the windows from
    segments[2i] up to segments[2i + 1], and the windows from there to the next text's start span two texts (the
    reduction over them is computed and dropped: cheaper than cutting them out)."""
    points = points.astype(np.uint64)
    windows = len(points) - n + 1
    hashes = points[:windows].copy()
    for k in range(1, n):
        hashes *= _MERSENNE_MULTIPLIER
        hashes += points[k:k + windows]
    ends = np.cumsum(lengths)
    segments = np.empty(2 * len(lengths) - 1, dtype=np.int64)
    segments[0::2] = ends - lengths
    segments[1::2] = (ends - n + 1)[:-1]
    return hashes, segments


class MinHasher:
    def __init__(self, num_perm: int, ngram: int, seed: int = 1):
        rng = np.random.default_rng(seed)
        self.ngram = ngram
        self.a = (rng.integers(1, 2**32, num_perm, dtype=np.uint64).astype(np.uint32) | np.uint32(1))[:, None]
        self.b = rng.integers(0, 2**32, num_perm, dtype=np.uint64).astype(np.uint32)[:, None]

    def signatures(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), num_perm) uint32 MinHash signatures; 32-bit arithmetic halves the memory traffic."""
        return self._minima(*ngram_hashes(texts, self.ngram))

    def codepoint_signatures(self, points: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """`signatures` of texts given as concatenated code points and lengths (each >= ngram)."""
        return self._minima(*codepoint_ngram_hashes(points, lengths, self.ngram))

    def _minima(self, hashes: np.ndarray, segments: np.ndarray) -> np.ndarray:
        hashes ^= hashes >> np.uint64(32)
        permuted = self.a * hashes.astype(np.uint32)[None, :]
        permuted += self.b
        return np.minimum.reduceat(permuted, segments, axis=1)[:, 0::2].T


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


def near_duplicates_at_once(signatures: np.ndarray, rules: DedupRules, max_pairs: int = 20_000_000,
                            batch: int = 1 << 16) -> np.ndarray:
    """What `NearDuplicateIndex` decides row by row, for all rows at once: for each row the earlier kept row it
    duplicates, or -1 (kept).

    A pair whose signatures agree in at least ceil(threshold x num_perm) positions differs in at most num_perm -
    that many, so it has the same key in at least `needed` = bands - that many bands (at the defaults, 8 bands of
    4 and threshold 0.8: 2). So the pairs worth comparing are found by grouping rows on the keys of every
    combination of `needed` bands (28 combinations of 2 at the defaults; fewer bands per combination when there
    would be more than 64): unrelated texts that share one common band key rarely share two, so few pairs are
    compared. Agreeing pairs are then decided in row order: a row duplicates the earliest kept row it agrees with.
    When there are more than `max_pairs` candidate pairs (a key shared by thousands of texts), the chunked index
    does the work instead: it compares a text with kept texts only, so its cost does not grow with the square of
    such a group.
    """
    count = len(signatures)
    verdicts = np.full(count, -1, dtype=np.int64)
    if count < 2:
        return verdicts
    bands = rules.bands
    keys = band_keys(signatures, bands)
    agreeing = math.ceil(rules.threshold * rules.num_perm - 1e-9)
    needed = max(1, bands - (rules.num_perm - agreeing))
    width = max([1] + [k for k in range(1, needed + 1) if math.comb(bands, k) <= 64])
    shift = np.uint64(max(1, (count - 1).bit_length()))
    rows, mask = np.arange(count, dtype=np.uint64), np.int64((1 << int(shift)) - 1)
    groups = []  # per combination: the rows of each run of >= 2 equal keys, one run after another, and run sizes
    pairs_total = 0
    for combination in itertools.combinations(range(bands), width):
        combined = keys[:, combination[0]].copy()
        for band in combination[1:]:
            combined = (combined ^ keys[:, band]) * _MERSENNE_MULTIPLIER
        # the row number in the low bits of the key: a plain sort (much faster than argsort) groups equal keys
        # and says which rows they belong to (keys that differ only in those bits become candidates, and are
        # compared like any other)
        packed = np.sort((((combined >> shift) << shift) | rows).view(np.int64))
        order, combined = packed & mask, packed >> np.int64(shift)
        starts = np.flatnonzero(np.r_[True, combined[1:] != combined[:-1]])
        sizes = np.diff(np.r_[starts, count])
        starts, sizes = starts[sizes > 1], sizes[sizes > 1]
        pairs_total += int((sizes * (sizes - 1) // 2).sum())
        if pairs_total > max_pairs:
            return _near_duplicates_in_chunks(signatures, rules)
        if len(starts):
            at = np.repeat(starts, sizes) + np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
            groups.append((order[at], sizes))
    found = [np.zeros(0, dtype=np.int64)]
    for order, sizes in groups:
        # each member of a run pairs with every later member, `batch` pairs at a time
        members = np.arange(len(order))
        later = np.repeat(np.cumsum(sizes), sizes) - members - 1
        ends = np.cumsum(later)
        first = 0
        while first < len(members):
            last = max(first + 1, int(np.searchsorted(ends, (ends[first - 1] if first else 0) + batch, "right")))
            counts = later[first:last]
            position = np.repeat(members[first:last], counts)
            other = position + 1 + np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
            a, b = order[position], order[other]
            a, b = np.minimum(a, b), np.maximum(a, b)
            agree = np.count_nonzero(signatures[a] == signatures[b], axis=1) >= rules.threshold * rules.num_perm
            found.append(a[agree] * count + b[agree])
            first = last
    earlier, latest = np.divmod(np.unique(np.concatenate(found)), count)  # sorted by earlier, then later
    by_later = np.lexsort((earlier, latest))
    for a, b in zip(earlier[by_later].tolist(), latest[by_later].tolist()):
        if verdicts[b] == -1 and verdicts[a] == -1:  # a is kept (decided before b), b not matched yet
            verdicts[b] = a
    return verdicts


def _near_duplicates_in_chunks(signatures: np.ndarray, rules: DedupRules, chunk: int = 8192) -> np.ndarray:
    index, kept, verdicts = NearDuplicateIndex(rules), [], np.full(len(signatures), -1, dtype=np.int64)
    for start in range(0, len(signatures), chunk):
        part = signatures[start:start + chunk]
        index.begin_chunk(part, band_keys(part, rules.bands))
        for row in range(len(part)):
            duplicate_of = index.add_row(row)
            if duplicate_of is None:
                kept.append(start + row)
            else:
                verdicts[start + row] = kept[duplicate_of]
    return verdicts


def band_keys(signatures: np.ndarray, bands: int) -> np.ndarray:
    """One 64-bit key per (text, band): the band's rows folded together, salted with the band index."""
    rows = signatures.shape[1] // bands
    grouped = signatures.reshape(len(signatures), bands, rows).astype(np.uint64)
    keys = np.arange(1, bands + 1, dtype=np.uint64)[None, :] * _MERSENNE_MULTIPLIER
    for row in range(rows):
        keys = (keys ^ grouped[:, :, row]) * _MERSENNE_MULTIPLIER
    return keys


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

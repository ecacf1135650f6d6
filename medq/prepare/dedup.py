"""Exact and near-duplicate detection, and contamination checks against evaluation sets.

Near duplicates: MinHash over character n-grams with banded LSH, computed for a batch of texts at once in
NumPy (the per-record Python cost is a few dict look-ups). A candidate is confirmed when its signature
agreement estimates Jaccard similarity >= threshold, so the first occurrence is kept and later ones rejected.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np

from medq.paths import ExistingFile

log = logging.getLogger(__name__)

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
    # candidate pairs (texts sharing a band-combination key) above which the near-duplicate decision falls back to
    # the chunked index in memory (one key shared by thousands of texts)
    max_candidate_pairs: int = 20_000_000


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


def near_duplicates_at_once(signatures: np.ndarray, rules: DedupRules, max_pairs: int | None = None,
                            batch: int = 1 << 20) -> np.ndarray:
    """What `NearDuplicateIndex` decides row by row, for all rows at once: for each row the earlier kept row it
    duplicates, or -1 (kept). The signatures go through `SpilledNearDuplicates` in a temporary folder (its doc
    says how pairs are found and decided); `batch` bounds the pairs made from runs at a time."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="medq-near-") as directory:
        spilled = SpilledNearDuplicates(rules, Path(directory), partitions=4, max_pairs=max_pairs)
        spilled.pair_batch = batch
        spilled.add(signatures)
        return spilled.decide()


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


class SpilledNearDuplicates:
    """`near_duplicates_at_once` for more texts than memory holds: the signatures and the band-combination keys go
    to disk as they come (`add`), and `decide` works one partition of keys at a time.

    Each text's signature is appended to one file (num_perm x 4 bytes). For every combination of `needed` bands
    (as in `near_duplicates_at_once`: a pair that agrees in >= ceil(threshold x num_perm) positions has the same
    key in at least that many bands) the text writes one 8-byte entry, the top 32 bits of the combination's key
    over its index, into one of `partitions` files chosen by the key's top bits; a pair with a common combination
    key therefore meets in one partition. The partitions are the unit of a shuffle (`NearPartitions`): each is
    sorted on its own, the texts of every run of equal keys are paired, the distinct pairs verified against the
    signatures in chunks (read from the mapped file, whose pages are let go after each slice, so what stays
    resident is bounded), here or on the Ray engine's actors; `decide` then decides in text order: a text
    duplicates the earliest kept text it agrees with. Keys cut to 32 bits only add candidates, which are compared
    like any other, so the decisions are those of the definition. Memory: 8 bytes per text and per verified pair,
    one partition and its candidate pairs, one chunk of gathered signatures; disk: (num_perm x 4 + combinations x
    8) bytes per text, removed with the folder. More than `max_pairs` candidate pairs (default
    `dedup.max_candidate_pairs`): the chunked index, in memory (`_near_duplicates_in_chunks`).
    """

    _PAIR_CHUNK = 1 << 18     # pairs verified at a time (their signatures, gathered: up to 2 x 128 bytes a pair)
    _GATHER = 1 << 15         # signatures read from the mapped file between two releases of its pages
    pair_batch = 1 << 20      # pairs made from runs at a time

    def __init__(self, rules: DedupRules, directory: Path, partitions: int = 64, max_pairs: int | None = None):
        if rules.num_perm % rules.bands:
            raise ValueError(f"dedup.num_perm ({rules.num_perm}) must be a multiple of dedup.bands ({rules.bands})")
        self.rules = rules
        self.max_pairs = rules.max_candidate_pairs if max_pairs is None else max_pairs
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        agreeing = math.ceil(rules.threshold * rules.num_perm - 1e-9)
        needed = max(1, rules.bands - (rules.num_perm - agreeing))
        width = max([1] + [k for k in range(1, needed + 1) if math.comb(rules.bands, k) <= 64])
        self.combinations = list(itertools.combinations(range(rules.bands), width))
        self.partition_bits = max(1, (partitions - 1).bit_length())
        self.partitions = 1 << self.partition_bits
        self._signatures = open(self.directory / "signatures.u32", "wb")
        self._parts = [open(self.directory / f"keys-{p:04d}.u64", "wb") for p in range(self.partitions)]
        self.count = 0

    def add(self, signatures: np.ndarray) -> None:
        """The next texts' signatures (rows x num_perm uint32), in text order."""
        n = len(signatures)
        if not n:
            return
        if self.count + n >= 1 << 32:
            raise ValueError("prepare: more than 2**32 near-duplicate candidates in one run")
        self._signatures.write(np.ascontiguousarray(signatures, dtype=np.uint32).tobytes())
        keys = band_keys(signatures, self.rules.bands)
        index = np.arange(self.count, self.count + n, dtype=np.uint64)
        entries = np.empty((len(self.combinations), n), dtype=np.uint64)
        for row, combination in enumerate(self.combinations):
            combined = keys[:, combination[0]].copy()
            for band in combination[1:]:
                combined = (combined ^ keys[:, band]) * _MERSENNE_MULTIPLIER
            entries[row] = ((combined >> np.uint64(32)) << np.uint64(32)) | index
        entries = entries.ravel()
        part = (entries >> np.uint64(64 - self.partition_bits)).astype(np.uint16)
        order = np.argsort(part, kind="stable")  # a radix sort for small integers
        bounds = np.searchsorted(part[order], np.arange(self.partitions + 1))
        entries = entries[order]
        for p in np.flatnonzero(np.diff(bounds)).tolist():
            self._parts[p].write(entries[bounds[p]:bounds[p + 1]].tobytes())
        self.count += n

    def close(self) -> None:
        for handle in (self._signatures, *self._parts):
            handle.close()

    def finished(self) -> "NearPartitions":
        """The spilled files, closed: the unit of the shuffle (`NearPartitions.pairs` of each partition can run
        anywhere that sees the folder)."""
        self.close()
        return NearPartitions(self.rules, self.directory, self.count, self.partitions, self.max_pairs,
                              self.pair_batch)

    def decide(self, active: np.ndarray | None = None,
               map_partitions: Callable[["NearPartitions", np.ndarray], Iterable[tuple[int, Any]]] | None = None
               ) -> np.ndarray:
        """For each text (of those `active`, a boolean mask; the others are neither kept nor compared): the index of
        the earlier kept text it duplicates, or -1 (kept; also for texts not active).

        `map_partitions(partitions, active)` yields `partitions.pairs(p, active)` for every partition, in any
        order (the Ray engine's actors); by default they run here, one after the other."""
        partitions = self.finished()
        return partitions.decide(active, map_partitions)


@dataclass(frozen=True)
class NearPartitions:
    """The spilled signatures and band-combination keys of `SpilledNearDuplicates`, closed. `pairs(p, active)` is
    the work of one partition (sort it, pair the texts of each run of equal keys, keep the distinct pairs, verify
    them against the signatures), a function of the files alone, so any process that sees the folder can do it;
    `decide` combines the partitions' verified pairs in text order, which stays sequential (whether a text is kept
    depends on the decisions before it)."""

    rules: DedupRules
    directory: Path
    count: int
    partitions: int
    max_pairs: int
    pair_batch: int

    def pairs(self, partition: int, active: np.ndarray) -> tuple[int, np.ndarray | None]:
        """(candidate pairs of the partition's runs, counted as the fallback counts them; its verified pairs as
        earlier x count + later, sorted, or None when the candidates alone exceed `max_pairs`). The partition's
        file is removed."""
        path = self.directory / f"keys-{partition:04d}.u64"
        entries = np.sort(np.fromfile(path, dtype=np.uint64))
        path.unlink()
        texts = (entries & np.uint64(0xFFFFFFFF)).astype(np.int64)
        keys = entries >> np.uint64(32)
        del entries
        keep = active[texts]
        texts, keys = texts[keep], keys[keep]
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.zeros(0, np.int64)
        sizes = np.diff(np.r_[starts, len(keys)])
        starts, sizes = starts[sizes > 1], sizes[sizes > 1]
        candidates = int((sizes * (sizes - 1) // 2).sum())
        if candidates > self.max_pairs:
            return candidates, None
        if not len(starts):
            return candidates, np.zeros(0, dtype=np.uint64)
        return candidates, self._verify(_pairs_in_runs(texts, starts, sizes, self.count, self.pair_batch))

    def decide(self, active: np.ndarray | None = None,
               map_partitions: Callable[["NearPartitions", np.ndarray], Iterable[tuple[int, Any]]] | None = None
               ) -> np.ndarray:
        """`SpilledNearDuplicates.decide`: the partitions' verified pairs (from `map_partitions`, or computed here),
        then the decision in text order: a text duplicates the earliest kept text it agrees with."""
        count = self.count
        verdicts = np.full(count, -1, dtype=np.int64)
        if count < 2:
            return verdicts
        active = np.ones(count, dtype=bool) if active is None else active
        results = (map_partitions or _each_partition)(self, active)
        found, total = [], 0
        for candidates, pairs in results:
            total += candidates
            if total > self.max_pairs:  # a key shared by thousands of texts: the chunked index (in memory)
                close = getattr(results, "close", None)
                if close is not None:
                    close()  # the partitions not yet done are not needed
                log.info("near duplicates: more than %d candidate pairs (dedup.max_candidate_pairs); deciding with "
                         "the chunked index in memory", self.max_pairs)
                return self._in_chunks(active)
            found.append(pairs)
        found = [pairs for pairs in found if len(pairs)]
        if not found:
            return verdicts
        agreeing = np.unique(np.concatenate(found))  # a pair may meet under several combinations
        earlier, later = np.divmod(agreeing, np.uint64(count))
        by_later = np.lexsort((earlier, later))
        for a, b in zip(earlier[by_later].tolist(), later[by_later].tolist()):
            if verdicts[b] == -1 and verdicts[a] == -1:  # a is kept (decided before b), b not matched yet
                verdicts[b] = a
        return verdicts

    def _mapped(self) -> tuple[Any, np.ndarray]:
        import mmap

        with open(self.directory / "signatures.u32", "rb") as handle:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        return mapped, np.frombuffer(mapped, dtype=np.uint32).reshape(self.count, self.rules.num_perm)

    def _verify(self, pairs: np.ndarray) -> np.ndarray:
        """The pairs (earlier x count + later, sorted) whose signatures agree in >= threshold x num_perm places."""
        import mmap

        mapped, signatures = self._mapped()
        count, agreeing = np.uint64(self.count), []
        try:
            for start in range(0, len(pairs), SpilledNearDuplicates._PAIR_CHUNK):
                chunk = pairs[start:start + SpilledNearDuplicates._PAIR_CHUNK]
                a, b = np.divmod(chunk, count)
                needed = np.unique(np.concatenate([a, b])).astype(np.int64)
                gathered = np.empty((len(needed), self.rules.num_perm), dtype=np.uint32)
                step = SpilledNearDuplicates._GATHER
                for at in range(0, len(needed), step):
                    gathered[at:at + step] = signatures[needed[at:at + step]]
                    mapped.madvise(mmap.MADV_DONTNEED)  # the file's pages leave this process (they stay cached)
                same = np.count_nonzero(gathered[np.searchsorted(needed, a.astype(np.int64))]
                                        == gathered[np.searchsorted(needed, b.astype(np.int64))], axis=1)
                agreeing.append(chunk[same >= self.rules.threshold * self.rules.num_perm])
        finally:
            del signatures
            mapped.close()
        return np.concatenate(agreeing) if agreeing else np.zeros(0, dtype=np.uint64)

    def _in_chunks(self, active: np.ndarray) -> np.ndarray:
        mapped, signatures = self._mapped()
        try:
            rows = np.flatnonzero(active)
            verdicts = np.full(self.count, -1, dtype=np.int64)
            found = _near_duplicates_in_chunks(np.array(signatures[rows]), self.rules)
            duplicate = found >= 0
            verdicts[rows[duplicate]] = rows[found[duplicate]]
            return verdicts
        finally:
            del signatures
            mapped.close()


def _each_partition(partitions: NearPartitions, active: np.ndarray) -> Iterator[tuple[int, np.ndarray | None]]:
    """`NearPartitions.pairs` of every partition, here, one after the other."""
    for partition in range(partitions.partitions):
        yield partitions.pairs(partition, active)


def _pairs_in_runs(texts: np.ndarray, starts: np.ndarray, sizes: np.ndarray, count: int,
                   batch: int = 1 << 20) -> np.ndarray:
    """Every pair of texts inside each run (texts[start:start + size]), as earlier x count + later (uint64)."""
    at = np.repeat(starts, sizes) + np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    order = texts[at]
    members = np.arange(len(order))
    later = np.repeat(np.cumsum(sizes), sizes) - members - 1
    ends = np.cumsum(later)
    found, first = [np.zeros(0, dtype=np.uint64)], 0
    while first < len(members):
        last = max(first + 1, int(np.searchsorted(ends, (ends[first - 1] if first else 0) + batch, "right")))
        counts = later[first:last]
        position = np.repeat(members[first:last], counts)
        other = position + 1 + np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        a, b = order[position], order[other]
        a, b = np.minimum(a, b), np.maximum(a, b)
        distinct = a != b  # one text under two combinations whose keys share their top bits
        found.append(np.unique(a[distinct].astype(np.uint64) * np.uint64(count) + b[distinct].astype(np.uint64)))
        first = last
    return np.unique(np.concatenate(found))

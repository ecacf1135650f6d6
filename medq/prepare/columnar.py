"""The one batch pipeline of `prepare`: every source's item batches (`batches.py`) become the splits, rejects,
corpus and preference pairs, column by column.

Pass 1 (`BatchPipeline.add`), a batch at a time: cleaning and PII scrubbing (RE2 scans pick the rows either may
change; only those go through the Python `clean` / `scrub_pii`), length checks, the example id (blake2b of
`prompt\\0response`, hashed straight from the Arrow buffers), the split (blake2b of the group), contamination and
MinHash signatures. What later decisions need is kept in memory (a reason code, an id and the place of each row,
the signatures of near-duplicate candidates); the batch itself goes to a spill file (Arrow IPC) on disk.

Then the decisions that depend on other rows, for all rows at once: exact duplicates (a later row with the id of an
earlier one), near duplicates (`near_duplicates_at_once`: a row duplicates the earliest kept row it agrees with).

Pass 2 (`BatchPipeline.write`) reads the spill back a batch at a time and writes, in file order, each row's reject
(with the reason and detail) or its ChatML record, corpus document and generic preference pair, assembled by pyarrow
from JSON-escaped columns. The bytes are those of the per-record definitions (`tests/prepare/reference.py`).
"""

from __future__ import annotations

import binascii
import hashlib
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Literal

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from medq.prepare.batches import META_PREFIX, meta_keys, physical_lines
from medq.prepare.cleaning import (ISSPACE_RE2, MAY_MATCH_PII_RE2, PII_PATTERNS, CleaningRules, TextCleaner,
                                   scrub_pii)
from medq.prepare.dedup import ContaminationChecker, DedupRules, MinHasher, SpilledNearDuplicates

Profile = Literal["full", "minimal"]
SPLIT_NAMES = ("train", "validation", "test")
_physical_lines = physical_lines  # the name the tests know it by


@dataclass
class RecordRules:
    """What the per-row work needs."""

    profile: Profile
    system_prompt: str
    cleaning: CleaningRules
    dedup: DedupRules
    filters: Any                     # stage.LengthFilters
    split: Any                       # stage.SplitRatios
    seed: int
    corpus_content: str
    contamination_ngram: int
    eval_texts: list[tuple[str, str]] = field(default_factory=list)
    contamination_min_chars: int = 4


# reason codes of a row: 0 kept; -1 the reader's reject (its reason is in the batch)
_REASONS = {1: "prompt_too_short", 2: "prompt_too_long", 3: "response_too_short", 4: "response_too_long",
            5: "duplicate", 6: "contaminated", 7: "near_duplicate", 8: "empty_prompt", 9: "empty_response"}
_DUPLICATE, _CONTAMINATED, _NEAR = 5, 6, 7
ASK_JSON, ANSWER_JSON = '"问：'.encode(), "\\n答：".encode()  # the corpus content's fixed parts, JSON-escaped
# what Python's str.strip() removes (str.isspace()), spelled out for RE2: a text of only these is empty
_BLANK = f"^{ISSPACE_RE2}*$"
_NEEDS_ESCAPING = r'[\x00-\x1f"\\]'
_BLOCK = 4096        # rows per block of assembled output lines
_MINHASH_ROWS = 128  # texts per MinHash call: the (num_perm x n-grams) work array stays in cache


def _json_bodies(values: list[str]) -> list[bytes]:
    """Each string JSON-escaped by orjson, without its quotes, from one call. Inside an escaped string every `"`
    follows a backslash, so `","` occurs only between elements."""
    return orjson.dumps(values)[2:-2].split(b'","') if values else []


def _blake2b_digests(column: pa.ChunkedArray | pa.Array) -> bytes:
    """blake2b (8-byte digest) of each value's UTF-8 bytes, concatenated: hashlib reads the values straight out of
    the Arrow buffers (no str objects, no encode). Each hash is a copy of one empty 8-byte hasher: copying is
    cheaper than parsing the constructor's arguments again, and gives the same digests."""
    empty = hashlib.blake2b(digest_size=8)
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    digests: list[bytes] = []
    for chunk in chunks:
        if not len(chunk):
            continue
        _, offsets, values = chunk.buffers()
        bounds = np.frombuffer(offsets, dtype=np.int32)[chunk.offset:chunk.offset + len(chunk) + 1].tolist()
        data = memoryview(values if values is not None else b"")
        for start, end in zip(bounds, bounds[1:]):
            hasher = empty.copy()
            hasher.update(data[start:end])
            digests.append(hasher.digest())
    return b"".join(digests)


def _hex_ids(digests: bytes) -> pa.Array:
    """8-byte digests, concatenated, as a binary array of 16 hex digits each."""
    hexed = binascii.hexlify(digests)
    count = len(hexed) // 16
    offsets = pa.py_buffer(np.arange(0, 16 * count + 1, 16, dtype=np.int32))
    return pa.Array.from_buffers(pa.binary(), count, [None, offsets, pa.py_buffer(hexed)])


def _join(*pieces: Any) -> pa.Array:
    """Binary arrays and constant bytes, concatenated row by row."""
    return pc.binary_join_element_wise(*[pa.scalar(x, pa.binary()) if isinstance(x, bytes) else x for x in pieces],
                                       pa.scalar(b"", pa.binary()))


def _system_json(system_prompt: str) -> bytes:
    return (orjson.dumps({"role": "system", "content": system_prompt}) + b",") if system_prompt else b""


def group_splits(groups: pa.Array, seed: int, ratios: Any) -> np.ndarray:
    """The split of each group (blake2b of `{seed}:{group}` as a fraction of 2**64), as indices into SPLIT_NAMES."""
    keys = pc.binary_join_element_wise(pa.scalar(f"{seed}:"), groups, "")
    u = np.frombuffer(_blake2b_digests(keys), dtype="<u8").astype(np.float64) / 2**64  # as int / 2**64 rounds
    return np.where(u < ratios.train, 0, np.where(u < ratios.train + ratios.validation, 1, 2)).astype(np.int8)


def question_splits(question_ids: pa.ChunkedArray, seed: int, ratios: Any) -> np.ndarray:
    """The split of cMedQA2 question ids (their group is `q{id}`)."""
    return group_splits(pc.binary_join_element_wise("q", question_ids, ""), seed, ratios)


class _EscapedColumn:
    """A string column JSON-escaped as orjson escapes strings (only `"`, `\\` and U+0000-U+001F change; other
    text, Unicode included, is its own UTF-8), as binary without quotes, taken a block of rows at a time: the rows
    that need escaping are escaped once by orjson, and each block is the raw values with those replaced."""

    def __init__(self, column: pa.Array):
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks()
        self.raw = column.cast(pa.binary())
        self.needs = pc.fill_null(pc.match_substring_regex(column, _NEEDS_ESCAPING), False).to_numpy(
            zero_copy_only=False)
        self.escaped = pa.array(_json_bodies(column.filter(pa.array(self.needs)).to_pylist()), pa.binary())
        self.position = np.cumsum(self.needs) - 1

    def take(self, rows: np.ndarray) -> pa.Array:
        values, needs = self.raw.take(pa.array(rows)), self.needs[rows]
        if not needs.any():
            return values
        return pc.replace_with_mask(values, pa.array(needs), self.escaped.take(pa.array(self.position[rows[needs]])))


def _example_digests(questions: pa.Array, responses: pa.Array, qrow: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The example id digests (blake2b of `prompt\\0response`, 8 bytes as little-endian uint64) of `rows` (prompt
    `questions[qrow[row]]`), in a row-indexed array (zero elsewhere)."""
    digests = np.zeros(len(responses), dtype="<u8")
    for block in _in_blocks(rows):
        joined = pc.binary_join_element_wise(questions.take(pa.array(qrow[block])), responses.take(pa.array(block)),
                                             "\0")
        digests[block] = np.frombuffer(_blake2b_digests(joined), dtype="<u8")
    return digests


def _in_blocks(rows: np.ndarray, size: int = _BLOCK) -> Iterator[np.ndarray]:
    return (rows[start:start + size] for start in range(0, len(rows), size))


def _rewrite(column: pa.Array, flagged: np.ndarray, function: Callable[[str], str]) -> pa.Array:
    """`function` applied to the flagged rows of a string column; the others are left as they are."""
    if not flagged.any():
        return column
    rows = np.flatnonzero(flagged)
    values = [function(text) for text in column.take(pa.array(rows)).to_pylist()]
    return pc.replace_with_mask(column, pa.array(flagged), pa.array(values, pa.string()))


def _clean_column(column: pa.Array, cleaner: TextCleaner, scrub: bool, pii: Counter) -> pa.Array:
    """`cleaner.clean` and then `scrub_pii` of every value, as the per-record definition does them; RE2 scans
    pick the rows either may change, and only those go through Python."""
    pattern = cleaner.may_change_pattern()
    flagged = (np.ones(len(column), dtype=bool) if pattern is None
               else pc.match_substring_regex(column, pattern).to_numpy(zero_copy_only=False))
    column = _rewrite(column, flagged, cleaner.clean)
    if scrub:
        flagged = pc.match_substring_regex(column, MAY_MATCH_PII_RE2).to_numpy(zero_copy_only=False)
        column = _rewrite(column, flagged, lambda text: scrub_pii(text, pii))
    return column


def _signatures(hasher: MinHasher, texts: pa.Array, lengths: np.ndarray) -> np.ndarray:
    """MinHash signatures of a block of texts (UTF-8 in an Arrow array), decoded to code points once per block."""
    parts = []
    if lengths.min() >= hasher.ngram:
        _, offsets, data = texts.buffers()
        bounds = np.frombuffer(offsets, dtype=np.int32)[texts.offset:texts.offset + len(texts) + 1]
        raw = memoryview(data)[bounds[0]:bounds[-1]]
        points = np.frombuffer(str(raw, "utf-8").encode("utf-32-le"), dtype=np.uint32)
        ends = np.cumsum(lengths)
        for start in range(0, len(lengths), _MINHASH_ROWS):
            stop = min(start + _MINHASH_ROWS, len(lengths))
            begin = ends[start - 1] if start else 0
            parts.append(hasher.codepoint_signatures(points[begin:ends[stop - 1]], lengths[start:stop]))
    else:  # texts shorter than an n-gram are padded, as the per-record definition pads them
        values = texts.to_pylist()
        parts = [hasher.signatures(values[start:start + _MINHASH_ROWS])
                 for start in range(0, len(values), _MINHASH_ROWS)]
    return np.concatenate(parts)


def _as_array(column: Any) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


class _RowFile:
    """A per-row array kept on disk: appended a batch at a time, read back a range of rows at a time (or a few rows
    through a mapping let go straight after), so the memory it takes does not grow with the input."""

    def __init__(self, path: Path, dtype: Any):
        self.path, self.dtype = path, np.dtype(dtype)
        self._handle: Any = open(path, "wb")
        self.rows = 0

    def append(self, values: np.ndarray) -> None:
        self._handle.write(np.ascontiguousarray(values, dtype=self.dtype).tobytes())
        self.rows += len(values)

    def done(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def read(self, start: int, count: int) -> np.ndarray:
        return np.fromfile(self.path, dtype=self.dtype, count=count, offset=start * self.dtype.itemsize)

    def take(self, rows: np.ndarray) -> np.ndarray:
        if not len(rows) or not self.rows:
            return np.zeros(len(rows), dtype=self.dtype)
        mapped = np.memmap(self.path, dtype=self.dtype, mode="r", shape=(self.rows,))
        try:
            return np.array(mapped[rows])
        finally:
            del mapped


def _later_copies(digests: _RowFile, codes: np.ndarray, eligible_codes: tuple[int, ...], folder: Path,
                  chunk: int = 1 << 20) -> np.ndarray:
    """The eligible rows (code in `eligible_codes`) whose id an earlier eligible row has. The (id, row) pairs are
    spilled to partition files by the id's top bits, 1 M rows at a time, and each partition is sorted on its
    own: the memory is one chunk and one partition (16 bytes a row), whatever the input size."""
    eligible = np.isin(codes, eligible_codes)
    total = int(eligible.sum())
    bits = max(3, int(np.ceil(np.log2(max(1, total * 16 / (64 << 20))))))  # partitions of ~64 MB
    entry = np.dtype([("id", "<u8"), ("row", "<i8")])
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"ids-{part:05d}" for part in range(1 << bits)]
    handles = [open(path, "wb") for path in paths]
    try:
        for start in range(0, len(codes), chunk):
            rows = start + np.flatnonzero(eligible[start:start + chunk])
            ids = digests.read(start, min(chunk, len(codes) - start))[rows - start]
            part = (ids >> np.uint64(64 - bits)).astype(np.int64)
            order = np.argsort(part, kind="stable")
            entries = np.empty(len(rows), dtype=entry)
            entries["id"], entries["row"] = ids[order], rows[order]
            bounds = np.searchsorted(part[order], np.arange((1 << bits) + 1))
            for index in np.flatnonzero(np.diff(bounds)).tolist():
                handles[index].write(entries[bounds[index]:bounds[index + 1]].tobytes())
    finally:
        for handle in handles:
            handle.close()
    found = []
    for path in paths:
        entries = np.fromfile(path, dtype=entry)
        path.unlink()
        if len(entries):  # rows ascend within a partition: the first of each id is its earliest row
            first = np.zeros(len(entries), dtype=bool)
            first[np.unique(entries["id"], return_index=True)[1]] = True
            found.append(entries["row"][~first])
    return np.sort(np.concatenate(found)) if found else np.zeros(0, dtype=np.int64)


PII_KINDS = tuple(dict.fromkeys(kind for kind, _, _ in PII_PATTERNS))


class BatchWork:
    """The per-row work of pass 1 on one batch of items, the same in every engine (it depends on the batch and the
    rules alone): cleaning and PII scrubbing, length checks, ids, splits, contamination, MinHash signatures. It
    returns the batch with what the rest needs: `code` (0: may be kept; -1: the reader's reject; else a reason
    code), `digest` (the id), `split`, `contaminated_by`, `signature` (null unless a near-duplicate candidate),
    the texts to write (cleaned for examples, as read for the reader's rejects) and the PII finds (`pii:KIND`, the
    batch's count in its first row)."""

    def __init__(self, rules: RecordRules):
        self.rules = rules
        self.full = rules.profile == "full"
        self.cleaner = TextCleaner(rules.cleaning) if self.full else None
        self.checker = (ContaminationChecker(rules.contamination_ngram, rules.eval_texts,
                                             rules.contamination_min_chars)
                        if self.full and rules.eval_texts else None)
        self.hasher = MinHasher(rules.dedup.num_perm, rules.dedup.ngram) if self.full and rules.dedup.near else None

    def __call__(self, batch: pa.RecordBatch | pa.Table) -> pa.RecordBatch:
        if isinstance(batch, pa.Table):
            batch = batch.combine_chunks().to_batches()[0] if batch.num_rows else pa.RecordBatch.from_pylist(
                [], schema=batch.schema)
        n, rules, pii = batch.num_rows, self.rules, Counter()
        is_example = pc.is_null(batch["reason"]).to_numpy(zero_copy_only=False)
        examples = np.flatnonzero(is_example)
        whole = len(examples) == n
        prompts, responses = _as_array(batch["prompt"]), _as_array(batch["response"])
        if not whole:
            prompts, responses = prompts.take(pa.array(examples)), responses.take(pa.array(examples))
        code = np.where(is_example, 0, -1).astype(np.int8)
        if self.full:
            scrub = rules.cleaning.scrub_pii
            prompts = _clean_column(prompts, self.cleaner, scrub, pii)
            responses = _clean_column(responses, self.cleaner, scrub, pii)
            prompt_chars = pc.utf8_length(prompts).to_numpy(zero_copy_only=False).astype(np.int64)
            response_chars = pc.utf8_length(responses).to_numpy(zero_copy_only=False).astype(np.int64)
            f = rules.filters
            code[examples] = np.select([prompt_chars < f.prompt_min_chars, prompt_chars > f.prompt_max_chars,
                                        response_chars < f.response_min_chars,
                                        response_chars > f.response_max_chars], [1, 2, 3, 4], 0)
        else:  # minimal: the text as read; only records without a question or an answer are dropped
            blank_prompt = pc.match_substring_regex(prompts, _BLANK).to_numpy(zero_copy_only=False)
            blank_response = pc.match_substring_regex(responses, _BLANK).to_numpy(zero_copy_only=False)
            code[examples] = np.where(blank_prompt, 8, np.where(blank_response, 9, 0))
        ok = code[examples] == 0                      # over the examples
        eligible = examples[ok]                       # rows of the batch
        digests = np.zeros(n, dtype="<u8")
        split = np.zeros(n, dtype=np.int8)
        contaminated_by: list[str | None] = [None] * n
        signature = pa.nulls(n, pa.list_(pa.uint32(), rules.dedup.num_perm))
        if len(eligible):
            joined = pc.binary_join_element_wise(prompts.filter(pa.array(ok)), responses.filter(pa.array(ok)), "\0")
            digests[eligible] = np.frombuffer(_blake2b_digests(joined), dtype="<u8")
            split[eligible] = group_splits(_as_array(batch["group"]).take(pa.array(eligible)), rules.seed,
                                           rules.split)
        if self.full and len(eligible):
            texts = pc.binary_join_element_wise(prompts.filter(pa.array(ok)), responses.filter(pa.array(ok)), "\n")
            candidates = np.ones(len(eligible), dtype=bool)
            if self.checker is not None:
                for index, text in enumerate(texts.to_pylist()):
                    name = self.checker.find(text)
                    if name is not None:
                        code[eligible[index]], candidates[index] = _CONTAMINATED, False
                        contaminated_by[int(eligible[index])] = name
            if self.hasher is not None and candidates.any():
                lengths = (prompt_chars + response_chars + 1)[ok][candidates]
                texts = texts.filter(pa.array(candidates)) if not candidates.all() else texts
                values = np.concatenate([_signatures(self.hasher, texts.slice(s, _BLOCK), lengths[s:s + _BLOCK])
                                         for s in range(0, len(lengths), _BLOCK)])
                rows = eligible[candidates]
                has = np.zeros(n, dtype=bool)
                has[rows] = True
                signature = pa.FixedSizeListArray.from_arrays(
                    pa.array(_spread(values, rows, n).ravel()), rules.dedup.num_perm,
                    mask=pa.array(~has))
        # the texts a row is written or rejected with: cleaned for examples, as read for the reader's rejects
        if self.full and not whole:
            mask = pa.array(is_example)
            prompts = pc.replace_with_mask(_as_array(batch["prompt"]), mask, prompts)
            responses = pc.replace_with_mask(_as_array(batch["response"]), mask, responses)
        elif not self.full:
            prompts, responses = _as_array(batch["prompt"]), _as_array(batch["response"])
        counts = {f"pii:{kind}": pa.array(np.r_[pii.get(kind, 0), np.zeros(n - 1, dtype=np.int64)])
                  for kind in PII_KINDS}
        columns = {"prompt": prompts, "response": responses, "reason": _as_array(batch["reason"]),
                   "detail": _as_array(batch["detail"]), "split": pa.array(split), "code": pa.array(code),
                   "digest": pa.array(digests), "file": _as_array(batch["file"]), "line": _as_array(batch["line"]),
                   "new_row": _as_array(batch["new_row"]), "contaminated_by": pa.array(contaminated_by, pa.string()),
                   "signature": signature, **counts,
                   **{name: _as_array(batch[name]) for name in batch.schema.names if name.startswith(META_PREFIX)}}
        return pa.RecordBatch.from_arrays(list(columns.values()), names=list(columns))


def _spread(values: np.ndarray, rows: np.ndarray, n: int) -> np.ndarray:
    """Signatures of `rows`, as n rows (zeros elsewhere: those rows are masked null)."""
    spread = np.zeros((n, values.shape[1]), dtype=np.uint32)
    spread[rows] = values
    return spread


SPILL_ROWS = 1 << 18  # rows per spill file (a segment of pass 2)


def spill_columns(done: pa.RecordBatch) -> pa.RecordBatch:
    """What pass 2 reads back of a batch that `BatchWork` did: the texts, the reader's reasons, split, metadata."""
    return done.select(["prompt", "response", "reason", "detail", "split",
                        *[name for name in done.schema.names if name.startswith(META_PREFIX)]])


def decision_columns(done: pa.RecordBatch) -> pa.RecordBatch:
    """What the decisions across rows need of a batch that `BatchWork` did (`BatchPipeline.absorb`)."""
    return done.select(["code", "digest", "file", "line", "new_row", "contaminated_by", "signature",
                        *[name for name in done.schema.names if name.startswith("pii:")]])


@dataclass
class Segment:
    """Pass 2 of one spill file: its rows' decisions (reason codes, ids), their `file:line` (JSON-escaped) and the
    detail of their contamination and near-duplicate rejects, by row of the file."""

    path: str
    codes: np.ndarray
    digests: np.ndarray
    where: pa.Array
    details: dict[int, str]


class BatchPipeline:
    """Pass 1 over item batches (`add`), the decisions across rows and pass 2 (`write`); see the module doc.

    `rules` is a `RecordRules`, `pairs` the stage's `PreferencePairBuilder` (its pair count is updated).
    """

    def __init__(self, rules: RecordRules, pairs: Any, spill_dir: Path):
        self.rules, self.pairs = rules, pairs
        self.full = rules.profile == "full"
        self.work = BatchWork(rules)
        self.pii: Counter = Counter()
        self.rejected: Counter = Counter()
        self.rows = 0            # items read
        self.rows_seen = 0       # data rows of the files they came from
        self._codes = bytearray()  # the one per-row array in memory: a reason code (1 byte) a row
        self._files: dict[str, int] = {}
        self._signature_rows: list[np.ndarray] = []
        self._contaminated_by: dict[int, str] = {}
        self._spill_dir = tempfile.TemporaryDirectory(prefix=".prepare-spill-", dir=spill_dir)
        self.spill_dir = Path(self._spill_dir.name)
        # ids, lines and files of every row, on disk
        self._digests = _RowFile(self.spill_dir / "ids.u64", "<u8")
        self._lines = _RowFile(self.spill_dir / "lines.i64", "<i8")
        self._file_ids = _RowFile(self.spill_dir / "files.u16", "<u2")
        self._near = (SpilledNearDuplicates(rules.dedup, self.spill_dir / "near")
                      if self.work.hasher is not None else None)
        self._segments: list[list[Any]] = []  # [spill file, rows]
        self._spill: Any = None

    # -- pass 1 -------------------------------------------------------------------------------------------------

    def add(self, batch: pa.RecordBatch) -> None:
        """Pass 1 over one batch of items: the per-row work (`BatchWork`), then what the decisions keep."""
        if batch.num_rows:
            self.absorb(self.work(batch))

    def absorb(self, done: pa.RecordBatch, spilled: str | None = None) -> None:
        """Keep what the decisions across rows need from a batch that `BatchWork` did (here or elsewhere), and
        spill the rest; batches must come in file order. `spilled`: the batch holds only its `decision_columns`,
        and its `spill_columns` are the next rows of that spill file (a Ray actor wrote them)."""
        n, start = done.num_rows, self.rows
        if not n:
            return
        code = done["code"].to_numpy(zero_copy_only=False)
        for row in np.flatnonzero(code == _CONTAMINATED).tolist():
            self._contaminated_by[start + row] = done["contaminated_by"][row].as_py()
        signatures = done["signature"]
        if signatures.null_count < n:
            rows = np.flatnonzero(pc.is_valid(signatures).to_numpy(zero_copy_only=False))
            values = pc.drop_null(signatures).values.to_numpy(zero_copy_only=False)
            self._near.add(values.reshape(len(rows), self.rules.dedup.num_perm))
            self._signature_rows.append(start + rows)
        files = done["file"]
        file_ids = np.zeros(n, dtype=np.uint16)
        for name in pc.unique(files).to_pylist():
            file_ids[pc.equal(files, name).to_numpy(zero_copy_only=False)] = self._files.setdefault(name, len(self._files))
        self._codes += code.astype(np.int8).tobytes()
        self._digests.append(done["digest"].to_numpy(zero_copy_only=False))
        self._lines.append(done["line"].to_numpy(zero_copy_only=False))
        self._file_ids.append(file_ids)
        self.rows += n
        self.rows_seen += int(pc.sum(done["new_row"]).as_py() or 0)
        for kind in PII_KINDS:
            self.pii[kind] += int(pc.sum(done[f"pii:{kind}"]).as_py() or 0)
        self.pii = +self.pii  # kinds never found are not listed
        if spilled is not None:
            self._close_spill()
            if not self._segments or self._segments[-1][0] != spilled:
                self._segments.append([spilled, 0])
        else:
            spill = spill_columns(done)
            if self._spill is None or self._segments[-1][1] >= SPILL_ROWS:
                self._close_spill()
                path = str(self.spill_dir / f"items-{len(self._segments):06d}.arrow")
                self._spill = pa.ipc.new_file(path, spill.schema)
                self._segments.append([path, 0])
            self._spill.write_batch(spill)
        self._segments[-1][1] += n
        # Arrow's allocator keeps freed pages for reuse, and over many batches that grows with the input
        pa.default_memory_pool().release_unused()

    def _close_spill(self) -> None:
        if self._spill is not None:
            self._spill.close()
            self._spill = None

    # -- decisions and pass 2 ------------------------------------------------------------------------------------

    def write(self, write_block: Callable, phase: Callable[[str], None] = lambda name: None,
              render: Callable[[Iterator[Segment]], Iterator[Counter]] | None = None,
              near_partitions: Callable | None = None) -> None:
        """Decide duplicates for all rows, then write every row's output in file order (see the module doc);
        `rejected` counts the rejects by reason. Each spill file's lines are made by `render_segment` here, or
        by `render` (the Ray engine's actors, which hand their lines to the writers themselves); the near-duplicate
        partitions' pairs are found and verified here, or by `near_partitions` (`SpilledNearDuplicates.decide`'s
        `map_partitions`: the Ray engine's actors)."""
        try:
            self._close_spill()
            if not self._segments:
                return
            phase("duplicates")
            codes = np.frombuffer(self._codes, dtype=np.int8)  # no copy: the bytearray is the array
            for rows in (self._digests, self._lines, self._file_ids):
                rows.done()
            if self.full and self.rules.dedup.exact:
                codes[_later_copies(self._digests, codes, (0, _CONTAMINATED), self.spill_dir / "ids")] = _DUPLICATE
            near_of = (np.zeros(0, dtype=np.int64),) * 2
            if self._near is not None and self._signature_rows:
                rows = np.concatenate(self._signature_rows)
                self._signature_rows = []
                verdicts = self._near.decide(codes[rows] == 0, near_partitions)
                duplicate = np.flatnonzero(verdicts >= 0)
                codes[rows[duplicate]] = _NEAR
                near_of = (rows[duplicate], rows[verdicts[duplicate]])  # sorted by row
            phase("writing")
            segments = self._segments_to_write(codes, near_of)
            if render is None:
                emit = self.pair_limited(write_block)
                for segment in segments:
                    self.rejected.update(render_segment(self.rules, self.pairs, segment, emit))
            else:
                for rejected in render(segments):
                    self.rejected.update(rejected)
        finally:
            self.close()

    def pair_limited(self, write_block: Callable) -> Callable:
        """`write_block` that keeps generic preference pairs to `max_pairs` (the first ones, in file order)."""
        pairs = self.pairs

        def emit(name: str, lines: pa.Array, count: int) -> None:
            if name == "preference_pairs":
                if pairs.rules.max_pairs is not None:
                    room = max(0, pairs.rules.max_pairs - pairs.generic_pairs)
                    if count > room:
                        lines, count = lines.slice(0, room), room
                pairs.generic_pairs += count
            if count:
                write_block(name, lines, count)
        return emit

    def close(self) -> None:
        """Remove the spill files (also when the stage fails before `write`)."""
        self._close_spill()
        for rows in (self._digests, self._lines, self._file_ids):
            rows.done()
        if self._near is not None:
            self._near.close()
        self._spill_dir.cleanup()

    def _segments_to_write(self, codes: np.ndarray, near_of: tuple[np.ndarray, np.ndarray]) -> Iterator[Segment]:
        sources = pa.array([orjson.dumps(name)[1:-1] + b":" for name in self._files], pa.binary())

        def where(file_ids: np.ndarray, lines: np.ndarray) -> pa.Array:  # "file:line" of rows, JSON-escaped
            return _join(sources.take(pa.array(file_ids)), pa.array(lines).cast(pa.string()).cast(pa.binary()))

        near_rows, near_kept = near_of  # the near duplicates (sorted) and the kept row each duplicates
        ngram = self.rules.contamination_ngram
        start = 0
        for path, n in self._segments:
            code = codes[start:start + n]
            details: dict[int, str] = {}
            special = np.flatnonzero((code == _CONTAMINATED) | (code == _NEAR))
            if len(special):
                rows = start + special
                near = code[special] == _NEAR
                for row in rows[~near].tolist():
                    details[row - start] = f"shares a {ngram}-gram with eval set '{self._contaminated_by[row]}'"
                if near.any():
                    kept = near_kept[np.searchsorted(near_rows, rows[near])]
                    kept_at = where(self._file_ids.take(kept), self._lines.take(kept)).to_pylist()
                    for row, at in zip(rows[near].tolist(), kept_at):
                        details[row - start] = "near duplicate of " + orjson.loads(b'"' + at + b'"')
            yield Segment(path, code, self._digests.read(start, n),
                          where(self._file_ids.read(start, n), self._lines.read(start, n)), details)
            start += n


def render_segment(rules: RecordRules, pairs: Any, segment: Segment, emit: Callable) -> Counter:
    """The output lines of one spill file's rows, in file order: each row's reject (reason and detail: the
    reader's for its rejects, else by code) or its split, corpus and preference-pair lines, as
    `emit(output name, lines, count)`; returns the rejects counted by reason."""
    names = pa.array(["", *(_REASONS.get(c, "") for c in range(1, max(_REASONS) + 1))], pa.string())
    fixed = pa.array(["" if c != _DUPLICATE else "same (prompt, response) as an earlier record"
                      for c in range(max(_REASONS) + 1)], pa.string())
    counts: Counter = Counter()
    start = 0
    with pa.OSFile(segment.path, "rb") as handle:
        reader = pa.ipc.open_file(handle)
        for index in range(reader.num_record_batches):
            batch = reader.get_batch(index)
            n = batch.num_rows
            code = segment.codes[start:start + n]
            out = _Lines(rules, pairs, batch, segment.where.slice(start, n), segment.digests[start:start + n])
            rejected = np.flatnonzero(code != 0)
            if len(rejected):
                codes_of = code[rejected]
                theirs = pa.array(codes_of == -1)
                at = pa.array(np.maximum(codes_of, 0))
                reasons = pc.if_else(theirs, batch["reason"].take(pa.array(rejected)), names.take(at))
                details = pc.if_else(theirs, pc.fill_null(batch["detail"].take(pa.array(rejected)), ""),
                                     fixed.take(at))
                special = np.flatnonzero((codes_of == _CONTAMINATED) | (codes_of == _NEAR))
                if len(special):
                    mask = np.zeros(len(rejected), dtype=bool)
                    mask[special] = True
                    text = [segment.details[start + row] for row in rejected[special].tolist()]
                    details = pc.replace_with_mask(details, pa.array(mask), pa.array(text, pa.string()))
                counts.update(dict(zip(*(x.to_pylist() for x in pc.value_counts(reasons).flatten()))))
                emit("rejects", _join(
                    b'{"reason":"', _EscapedColumn(reasons).take(np.arange(len(rejected))), b'","where":"',
                    out.where.take(pa.array(rejected)), b'","detail":"',
                    _EscapedColumn(details).take(np.arange(len(rejected))), b'","prompt":"',
                    out.prompts.take(rejected), b'","response":"', out.answers.take(rejected), b'"}\n'),
                    len(rejected))
            kept = np.flatnonzero(code == 0)
            if len(kept):
                out.write(kept, emit)
            start += n
            del out, batch
            pa.default_memory_pool().release_unused()
    return counts


class _Lines:
    """The escaped columns of one spilled batch, and the split, corpus and preference-pair lines of its kept rows."""

    def __init__(self, rules: RecordRules, pairs: Any, batch: pa.RecordBatch, where: pa.Array, digests: np.ndarray):
        self.rules, self.pairs = rules, pairs
        self.digests, self.where = digests, where
        self.prompts = _EscapedColumn(pc.fill_null(batch["prompt"], ""))
        self.answers = _EscapedColumn(pc.fill_null(batch["response"], ""))
        self.split = batch["split"].to_numpy(zero_copy_only=False)
        self.meta = [(key, is_json, batch[META_PREFIX + key]) for key, is_json in meta_keys(batch.schema)]
        self._escaped_meta: dict[str, _EscapedColumn] = {}

    def _meta_value(self, key: str, is_json: bool, column: pa.Array, rows: np.ndarray) -> list[Any]:
        if is_json:
            return [column.take(pa.array(rows))]
        escaped = self._escaped_meta.get(key)
        if escaped is None:
            escaped = self._escaped_meta[key] = _EscapedColumn(column)
        value = _join(b'"', escaped.take(rows), b'"')
        if value.null_count:
            value = pc.fill_null(value, pa.scalar(b"null", pa.binary()))
        return [value]

    def _metadata(self, rows: np.ndarray, ids: pa.Array, corpus: bool) -> list[Any]:
        """The pieces of the metadata object `{**metadata, "source": where}` (corpus: and question, split,
        example_id), keys in dict order: a metadata key the stage also sets keeps its place and takes its value."""
        where = [b'"', self.where.take(pa.array(rows)), b'"']
        values = {key: self._meta_value(key, is_json, column, rows) for key, is_json, column in self.meta}
        values["source"] = where
        if corpus:
            names = pa.array([name.encode() for name in SPLIT_NAMES], pa.binary())
            values["question"] = [b'"', self.prompts.take(rows), b'"']
            values["split"] = [b'"', names.take(pa.array(self.split[rows])), b'"']
            values["example_id"] = [b'"', ids, b'"']
        pieces: list[Any] = [b"{"]
        for index, (key, value) in enumerate(values.items()):
            pieces += [(b"," if index else b"") + orjson.dumps(key) + b":", *value]
        return pieces + [b"}"]

    def write(self, kept: np.ndarray, write_block: Callable) -> None:
        rules, split = self.rules, self.split
        system = _system_json(rules.system_prompt)
        for index, name in enumerate(SPLIT_NAMES):
            for rows in _in_blocks(kept[split[kept] == index]):
                ids = _hex_ids(self.digests[rows].tobytes())
                write_block(name, _join(b'{"id":"', ids, b'","messages":[' + system + b'{"role":"user","content":"',
                                        self.prompts.take(rows), b'"},{"role":"assistant","content":"',
                                        self.answers.take(rows), b'"}],"metadata":',
                                        *self._metadata(rows, ids, False), b"}\n"), len(rows))
        if rules.profile != "full":
            return
        for rows in _in_blocks(kept):  # the corpus in file order, every split
            ids = _hex_ids(self.digests[rows].tobytes())
            content = ([b'"', self.answers.take(rows), b'"'] if rules.corpus_content == "response" else
                       [ASK_JSON, self.prompts.take(rows), ANSWER_JSON, self.answers.take(rows), b'"'])
            write_block("corpus", _join(b'{"id":"doc-', ids, b'","content":', *content, b',"metadata":',
                                        *self._metadata(rows, ids, True), b"}\n"), len(rows))
        pairs = self.pairs
        if not pairs.rules.enabled:
            return
        replies = pa.array(pairs.rules.generic_replies, pa.string())
        escaped_replies, reply_bytes = _EscapedColumn(replies), replies.cast(pa.binary())
        system = _system_json(pairs.system_prompt)
        train = kept[split[kept] == 0]
        for block in _in_blocks(train):  # one pair per training record, in file order, up to max_pairs
            ids = _hex_ids(self.digests[block].tobytes())
            keys = pc.binary_join_element_wise(pa.scalar(f"{pairs.seed}:".encode(), pa.binary()), ids, b"")
            pick = np.frombuffer(_blake2b_digests(keys), dtype="<u8") % np.uint64(len(replies))
            same = pc.equal(self.answers.raw.take(pa.array(block)),
                            reply_bytes.take(pa.array(pick))).to_numpy(zero_copy_only=False)
            rows, pick = block[~same], pick[~same].astype(np.int64)  # `max_pairs` is the writer's (pair_limited)
            if not len(rows):
                continue
            ids = _hex_ids(self.digests[rows].tobytes())
            write_block("preference_pairs", _join(
                b'{"id":"pair-', ids, b'","kind":"generic","prompt":[' + system + b'{"role":"user","content":"',
                self.prompts.take(rows), b'"}],"chosen":[{"role":"assistant","content":"', self.answers.take(rows),
                b'"}],"rejected":[{"role":"assistant","content":"', escaped_replies.take(pick), b'"}]}\n'),
                len(rows))

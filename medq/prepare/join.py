"""cMedQA2's answers joined to their questions out of core (`CMedQA2Source`): memory bounded by one partition and
one chunk of answers, whatever the number of questions and answers.

1. The questions go to partition files (Arrow IPC) by a hash of their stripped id; the answer batches are spilled
   as they are read, in file order, and each answer's (row, id) goes to the partition of its id.
2. One partition at a time: its questions against its answers (`PartitionJoin`), exactly as a join over all the
   questions decides (an unknown id; `first`'s extra answers: an answer's partition holds every earlier answer to
   its question, in file order). Each answer's verdict and question text go to chunk files by answer row.
3. The answer batches are read back in file order with their chunk's verdicts (`JoinedAnswers`).

Questions that fit one partition are simply held (`PartitionJoin`) while the answers stream past them: nothing is
spilled.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# an answer's verdict
UNKNOWN, JOINED, EXTRA = 0, 1, 2

_WEIGHTS = np.random.default_rng(20240617).integers(1, 2**63, size=64, dtype=np.uint64) | np.uint64(1)


def partition_of(ids: pa.Array, parts: int) -> np.ndarray:
    """The partition (0 to `parts` - 1) of each string: a hash of its UTF-8 bytes, the same in every batch."""
    ids = ids.cast(pa.string()) if ids.type != pa.string() else ids
    n = len(ids)
    if parts == 1 or n == 0:
        return np.zeros(n, dtype=np.int64)
    _, offsets_buffer, data_buffer = ids.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int32, count=n + 1, offset=ids.offset * 4).astype(np.int64)
    lengths = np.where(ids.is_null().to_numpy(zero_copy_only=False), 0, np.diff(offsets))
    starts = np.cumsum(lengths) - lengths
    hashes = np.zeros(n, dtype=np.uint64)
    total = int(lengths.sum())
    if total:
        data = np.frombuffer(data_buffer, dtype=np.uint8)
        owner = np.repeat(np.arange(n), lengths)
        within = np.arange(total) - starts[owner]
        terms = data[offsets[:-1][owner] + within].astype(np.uint64) * _WEIGHTS[within % len(_WEIGHTS)]
        nonempty = np.flatnonzero(lengths)
        with np.errstate(over="ignore"):
            hashes[nonempty] = np.add.reduceat(terms, starts[nonempty])
            hashes += lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
            hashes ^= hashes >> np.uint64(31)
            hashes *= np.uint64(0xBF58476D1CE4E5B9)
            hashes ^= hashes >> np.uint64(29)
    return (hashes % np.uint64(parts)).astype(np.int64)


class PartitionFiles:
    """One Arrow IPC stream per partition (or chunk), appended a batch at a time, read back whole or in pieces."""

    def __init__(self, folder: Path, parts: int, schema: pa.Schema):
        folder.mkdir(parents=True, exist_ok=True)
        self.paths = [folder / f"{part:05d}.arrow" for part in range(parts)]
        self.schema = schema
        self._writers: dict[int, pa.ipc.RecordBatchStreamWriter] = {}

    def write(self, part: int, columns: list[pa.Array]) -> None:
        if not len(columns[0]):
            return
        writer = self._writers.get(part)
        if writer is None:
            writer = self._writers[part] = pa.ipc.new_stream(str(self.paths[part]), self.schema)
        writer.write_batch(pa.record_batch(columns, schema=self.schema))

    def scatter(self, part: np.ndarray, columns: list[pa.Array]) -> None:
        """Each row to the file of its partition (`part`), in order."""
        if len(part) and (part == part[0]).all():  # one partition (a small input): no copy
            self.write(int(part[0]), columns)
            return
        order = np.argsort(part, kind="stable")
        present, starts = np.unique(part[order], return_index=True)
        ends = np.append(starts[1:], len(order))
        taken = [c.take(pa.array(order)) for c in columns]
        for p, start, end in zip(present.tolist(), starts.tolist(), ends.tolist()):
            self.write(p, [c.slice(start, end - start) for c in taken])

    def close(self) -> None:
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()

    def read(self, part: int) -> pa.Table:
        """The whole file (removed once read)."""
        tables = list(self.pieces(part, 1 << 62))
        return tables[0] if tables else self.schema.empty_table()

    def pieces(self, part: int, rows: int) -> Iterator[pa.Table]:
        """The file in pieces of at least `rows` rows (the last may hold fewer), in order; removed once read."""
        path = self.paths[part]
        if not path.exists():
            return
        held: list[pa.RecordBatch] = []
        count = 0
        with pa.OSFile(str(path), "rb") as handle:
            for batch in pa.ipc.open_stream(handle):
                held.append(batch)
                count += batch.num_rows
                if count >= rows:
                    yield pa.Table.from_batches(held, schema=self.schema)
                    held, count = [], 0
        if held:
            yield pa.Table.from_batches(held, schema=self.schema)
        path.unlink()


QUESTIONS = pa.schema([("qid", pa.string()), ("text", pa.string())])
ANSWER_IDS = pa.schema([("row", pa.int64()), ("qid", pa.string())])
VERDICTS = pa.schema([("row", pa.int64()), ("verdict", pa.uint8()), ("text", pa.string())])


class PartitionJoin:
    """A partition's questions, held (ids, texts and an id look-up), and its answers streaming past them in file
    order: `join(answer_ids)` gives each answer's verdict and question text ("" for an unknown id); `first` keeps
    the first answer of each question (a flag per question carries from call to call). `repeated`: a question id
    occurs twice (the careful reader rejects the repeated rows, naming them). `lookup(ids)(other_ids)`: (known, row
    in ids) of each other id."""

    def __init__(self, questions: pa.Table, first_only: bool, lookup: Callable[[pa.Array], Any]):
        self.ids = questions["qid"].combine_chunks() if questions.num_rows else pa.array([], pa.string())
        self.repeated = bool(len(self.ids)) and pc.count_distinct(self.ids).as_py() != len(self.ids)
        self.texts = questions["text"].combine_chunks() if questions.num_rows else pa.array([], pa.string())
        self.find = lookup(self.ids) if len(self.ids) and not self.repeated else None
        self.first_only = first_only
        self.answered = np.zeros(len(self.ids), dtype=bool)

    def __call__(self, answer_ids: pa.Array) -> tuple[np.ndarray, pa.Array]:
        n = len(answer_ids)
        if self.find is None:
            return np.full(n, UNKNOWN, np.uint8), pa.array([""] * n, pa.string())
        known, qrow = self.find(answer_ids)
        verdict = np.where(known, JOINED, UNKNOWN).astype(np.uint8)
        if self.first_only:  # the first answer of each question in this call, unless an earlier call had one
            known_rows = np.flatnonzero(known)
            first = np.zeros(n, dtype=bool)
            first[known_rows[np.unique(qrow[known_rows], return_index=True)[1]]] = True
            verdict[known & ~(first & ~self.answered[qrow])] = EXTRA
        self.answered[qrow[known]] = True
        taken = self.texts.take(pa.array(qrow))
        return verdict, taken if known.all() else pc.if_else(pa.array(known), taken, "")

    @property
    def unanswered(self) -> int:
        return len(self.ids) - int(self.answered.sum())


class JoinedAnswers:
    """The verdicts and question texts of answer rows, asked for in file order, from chunk files of `chunk_rows`
    answer rows each (a chunk is read when the first of its rows is asked for)."""

    def __init__(self, chunks: PartitionFiles, chunk_rows: int, total: int):
        self.chunks, self.chunk_rows, self.total = chunks, chunk_rows, total
        self._chunk, self._verdict, self._text = -1, np.zeros(0, np.uint8), pa.array([], pa.string())

    def _load(self, chunk: int) -> None:
        table = self.chunks.read(chunk)
        start = chunk * self.chunk_rows
        rows = table["row"].to_numpy()
        order = np.argsort(rows, kind="stable")
        expected = min(self.chunk_rows, self.total - start)
        if len(rows) != expected or (expected and not np.array_equal(rows[order], np.arange(start, start + expected))):
            raise RuntimeError(f"join chunk {chunk}: {len(rows)} verdicts for {expected} answer rows")
        self._chunk = chunk
        self._verdict = table["verdict"].to_numpy()[order]
        self._text = table["text"].combine_chunks().take(pa.array(order))

    def take(self, start: int, count: int) -> tuple[np.ndarray, pa.Array]:
        verdicts, texts = [], []
        while count:
            chunk, offset = divmod(start, self.chunk_rows)
            if chunk != self._chunk:
                self._load(chunk)
            n = min(count, len(self._verdict) - offset)
            verdicts.append(self._verdict[offset:offset + n])
            texts.append(self._text.slice(offset, n))
            start, count = start + n, count - n
        if len(texts) == 1:
            return verdicts[0], texts[0]
        return np.concatenate(verdicts), pa.concat_arrays(texts)

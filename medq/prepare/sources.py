"""Readers that turn raw QA files into (prompt, response) examples, chosen by `conf/prepare/source/*.yaml`.

Every row read comes out as either an `Example` or a `Rejected` with its reason, so the stage can prove
records_in = records_out + rejected. Problems with the file as a whole (missing file or column, wrong
delimiter, undecodable bytes) raise `InputDataError` naming the file and the line, byte or column.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import math
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Generator, Iterable, Iterator, Literal

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from medq.errors import ConfigError, InputDataError
from medq.paths import ExistingFile
from medq.prepare.batches import (META_PREFIX, Split, Untrusted, item_batch, item_schema, items_to_batches,
                                  join_prompt_columns, line_splits, meta_keys, newlines_in, py_strip)
from medq.prepare import join
from medq.prepare.encoding import detect_encoding
from medq.prepare.join import EXTRA, JOINED, UNKNOWN, JoinedAnswers, PartitionFiles, PartitionJoin, partition_of

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
OnBadRecord = Literal["error", "skip"]
ByteCallback = Callable[[int], None]


@dataclass
class Example:
    prompt: str
    response: str
    group: str  # examples that share a group (one question, several answers) always land in the same split
    where: str  # "file:line", for rejects and audits
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class Rejected:
    reason: str
    where: str
    detail: str = ""
    prompt: str = ""
    response: str = ""


Item = Example | Rejected


@dataclass
class SplitPlan:
    """A source's fast reader cut into byte ranges that are read on their own (`source.split_batches(split,
    context, batch_rows)`, which returns the data rows it read), and what every range's reader needs."""

    splits: list[Split]
    context: Any


def batches_to_items(batches: Iterable[pa.RecordBatch]) -> Iterator[Any]:
    """The `Example`/`Rejected` view of batches (for inspecting a reader; the pipeline reads the batches)."""
    for batch in batches:
        keys = meta_keys(batch.schema)
        for row in batch.to_pylist():
            where = f"{row['file']}:{row['line']}"
            if row["reason"] is not None:
                yield Rejected(row["reason"], where, row["detail"] or "", row["prompt"] or "", row["response"] or "")
                continue
            metadata = {key: orjson.loads(row[META_PREFIX + key]) if is_json else row[META_PREFIX + key]
                        for key, is_json in keys}
            yield Example(row["prompt"], row["response"], group=row["group"], where=where, metadata=metadata)


class _CountingRaw(io.RawIOBase):
    """Reports bytes as they are read, so long reads get a byte-accurate progress bar."""

    def __init__(self, raw: io.BufferedReader, on_bytes: ByteCallback):
        self._raw, self._on_bytes = raw, on_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = self._raw.readinto(buffer)
        if count:
            self._on_bytes(count)
        return count

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_text(path: Path, encoding: str, on_bytes: ByteCallback | None) -> io.TextIOWrapper:
    raw = open(path, "rb", buffering=0)
    stream: Any = raw if on_bytes is None else _CountingRaw(raw, on_bytes)
    return io.TextIOWrapper(io.BufferedReader(stream, 1 << 20), encoding=encoding, newline="")


def _guess_delimiter(header_line: str) -> str | None:
    counts = {d: header_line.count(d) for d in ("\t", ";", "|", ",")}
    best = max(counts, key=counts.get)
    return best if counts[best] else None


class CsvTable:
    """A CSV file with a validated header; iterates (line number, row dict) or raises naming file and line."""

    def __init__(self, path: Path, required: list[str], delimiter: str = ",", encoding: str = "auto",
                 config_key: str = "prepare.source"):
        self.path = Path(path)
        self.encoding = detect_encoding(self.path, encoding)
        self.delimiter = delimiter
        self.required = required
        self.config_key = config_key
        self.rows_read = 0
        self.blank_lines = 0

    def rows(self, on_bytes: ByteCallback | None = None, on_bad_record: OnBadRecord = "error",
             ) -> Iterator[tuple[str, dict[str, str] | Rejected]]:
        self.rows_read = self.blank_lines = 0
        with open_text(self.path, self.encoding, on_bytes) as handle:
            reader = csv.reader(handle, delimiter=self.delimiter)
            try:
                header = [h.strip() for h in next(reader)]
            except StopIteration:
                raise InputDataError(f"{self.path}: no header row (file holds only whitespace)") from None
            self._check_header(header)
            width = len(header)
            name = self.path.name
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    raise InputDataError(f"{self.path}: line {reader.line_num}: malformed CSV ({exc})") from None
                where = f"{name}:{reader.line_num}"
                if not row or (len(row) == 1 and not row[0].strip()):
                    self.blank_lines += 1
                    continue
                self.rows_read += 1
                if len(row) != width:
                    detail = f"expected {width} fields ({self.delimiter.join(header)}), found {len(row)}"
                    if on_bad_record == "error":
                        raise InputDataError(f"{self.path}: line {reader.line_num}: {detail} "
                                             f"(set prepare.on_bad_record=skip to reject such rows)")
                    yield where, Rejected("malformed_row", where, detail)
                    continue
                yield where, dict(zip(header, row))
        if self.rows_read == 0:
            raise InputDataError(f"{self.path}: header only, no data rows")

    def arrow_batches(self, batch_rows: int) -> Iterator[tuple[pa.RecordBatch, np.ndarray]]:
        """The data rows through pyarrow's CSV reader, as string columns named by the stripped header, with the line
        each row ends on (as `rows` names it). Raises `Untrusted` where `rows` would say something else: a row
        with the wrong number of fields, a blank line (line numbers would shift), a header it reads otherwise."""
        plan = self.split_plan(1 << 62)
        rows = yield from self.split_batches(plan.splits[0], plan.context, batch_rows)
        self.splits_read(plan, rows)

    def split_plan(self, size: int) -> SplitPlan:
        """The file in byte ranges of whole rows (a \\n outside quotes ends each) of about `size` bytes."""
        with open_text(self.path, self.encoding, None) as handle:
            try:
                raw_header = next(csv.reader(handle, delimiter=self.delimiter))
            except (StopIteration, csv.Error):
                raise Untrusted from None
        header = [h.strip() for h in raw_header]
        self._check_header(header)
        if len(set(raw_header)) != len(raw_header) or len(set(header)) != len(header) or any(
                "\n" in h or "\r" in h for h in raw_header):
            raise Untrusted
        splits, _, has_cr = line_splits(self.path, size, csv_quotes=True)
        return SplitPlan(splits, (raw_header, header, has_cr))

    def split_batches(self, split: Split, context: Any, batch_rows: int,
                      ) -> Generator[tuple[pa.RecordBatch, np.ndarray], None, int]:
        """(batch, the line each row ends on) of one split; returns its data rows. The first split holds the
        header (one line: a header with a line end in it is read carefully)."""
        import pyarrow.csv as pa_csv

        raw_header, header, has_cr = context
        first = split.start == 0
        if first and split.end == self.path.stat().st_size:
            stream: Any = self.path  # the whole file: pyarrow streams it
        else:
            # the buffer keeps the mapping open; its pages are the page cache's
            stream = pa.BufferReader(pa.memory_map(str(self.path)).read_at(split.end - split.start, split.start))
        line, rows = (1 if first else split.first_line), 0
        try:
            reader = pa_csv.open_csv(
                stream, read_options=pa_csv.ReadOptions(encoding=self.encoding.replace("utf-8-sig", "utf-8"),
                                                        block_size=8 << 20, use_threads=False,
                                                        column_names=None if first else raw_header),
                parse_options=pa_csv.ParseOptions(delimiter=self.delimiter, newlines_in_values=True),
                convert_options=pa_csv.ConvertOptions(column_types={n: pa.string() for n in raw_header},
                                                      strings_can_be_null=False, quoted_strings_can_be_null=False))
            if reader.schema.names != raw_header:
                raise Untrusted
            for batch in reader:
                if not batch.num_rows:
                    continue
                spans = np.ones(batch.num_rows, dtype=np.int64)
                for column in batch.columns:
                    spans += newlines_in(column, has_cr)
                ends = line + np.cumsum(spans)
                line, rows = int(ends[-1]), rows + batch.num_rows
                batch = batch.rename_columns(header)
                for start in range(0, batch.num_rows, batch_rows):
                    yield batch.slice(start, batch_rows), ends[start:start + batch_rows]
        except (pa.ArrowInvalid, UnicodeDecodeError):
            raise Untrusted from None
        if line != split.last_line:
            raise Untrusted
        return rows

    def splits_read(self, plan: SplitPlan, rows: int) -> None:
        """After every split is read: the rows the file held."""
        if rows == 0:
            raise Untrusted
        self.rows_read, self.blank_lines = rows, 0

    def _check_header(self, header: list[str]) -> None:
        missing = [c for c in self.required if c not in header]
        if not missing:
            return
        if len(header) == 1:
            guess = _guess_delimiter(header[0])
            if guess and guess != self.delimiter:
                raise InputDataError(
                    f"{self.path}: header has 1 column {header[0]!r}: the file seems delimited by {guess!r}, "
                    f"not {self.delimiter!r} (set {self.config_key}.delimiter)")
        hints = []
        for column in missing:
            close = difflib.get_close_matches(column, header, n=1, cutoff=0.5)
            hints.append(f"'{column}'" + (f" (found '{close[0]}')" if close else ""))
        raise InputDataError(f"{self.path}: missing column(s) {', '.join(hints)}; header is "
                             f"{', '.join(header)} (map columns in {self.config_key})")


class _BatchSource:
    """`items()`: the examples and rejects of a source's batches, for inspecting a reader (the stage reads the
    batches; this view holds them all)."""

    def items(self, on_bytes: ByteCallback | None = None, on_bad_record: OnBadRecord = "error") -> Iterator[Item]:
        try:
            batches: Any = list(self.batches(4096, on_bad_record, on_bytes=on_bytes))
        except Untrusted:
            batches = self.batches(4096, on_bad_record, careful=True, on_bytes=on_bytes)
        yield from batches_to_items(batches)


class CMedQA2Source(_BatchSource):
    """cMedQA2: questions.csv (question_id,content) joined with answers.csv (ans_id,question_id,content).

    `answers: all` makes one example per answer, `first` keeps the first answer of each question and rejects the
    rest as `extra_answer`. The join is out of core (`medq/prepare/join.py`): a questions file of up to
    `join_partition_mb` is held while the answers stream past it; a larger one is spilled with the answers to the
    stage's work folder by question-id partitions of about `join_partition_mb`, joined a partition at a time, and
    the answers read back in file order, `join_chunk_rows` at a time. The careful reader holds the questions in a
    dict.
    """

    def __init__(self, questions_path: ExistingFile, answers_path: ExistingFile,
                 answers: Literal["all", "first"] = "all", encoding: str = "auto", delimiter: str = ",",
                 join_partition_mb: float = 64, join_chunk_rows: int = 262144):
        self.questions = CsvTable(Path(questions_path), ["question_id", "content"], delimiter, encoding)
        self.answers = CsvTable(Path(answers_path), ["ans_id", "question_id", "content"], delimiter, encoding)
        self.mode = answers
        if not join_partition_mb > 0:
            raise ConfigError(f"prepare.source.join_partition_mb must be positive, got {join_partition_mb}")
        if join_chunk_rows < 1:
            raise ConfigError(f"prepare.source.join_chunk_rows must be >= 1, got {join_chunk_rows}")
        self.join_partition_mb, self.join_chunk_rows = join_partition_mb, int(join_chunk_rows)
        self.stats: dict[str, int] = {}

    def files(self) -> list[Path]:
        return [self.questions.path, self.answers.path]

    def encodings(self) -> dict[str, str]:
        return {str(t.path): t.encoding for t in (self.questions, self.answers)}

    def batches(self, batch_rows: int, on_bad_record: OnBadRecord = "error", careful: bool = False,
                on_bytes: ByteCallback | None = None, work_dir: Path | None = None) -> Iterator[pa.RecordBatch]:
        """Every answer row joined with its question; careful: also each question row the join cannot use. The
        join spills to a temporary folder in `work_dir` (the stage's work folder; by default the system's)."""
        if careful:
            yield from items_to_batches(self._careful_items(on_bytes, on_bad_record), ["question_id", "answer_id"],
                                        False, batch_rows)
            return
        yield from self._joined(batch_rows, on_bytes, work_dir)
        self.rows_held = self.answers.rows_read

    def _item_batch(self, batch: pa.RecordBatch, lines: Any, qids: pa.Array, answer_ids: pa.Array,
                    verdict: np.ndarray, prompts: pa.Array) -> pa.RecordBatch:
        """One batch of answers as items: each answer's verdict (`join.UNKNOWN`, `JOINED`, `EXTRA`) and question."""
        n = batch.num_rows
        reason = np.full(n, None, dtype=object)
        reason[verdict == UNKNOWN], reason[verdict == EXTRA] = "unknown_question_id", "extra_answer"
        detail = [None] * n
        qid_list = None
        for row in np.flatnonzero(verdict != JOINED).tolist():  # few rows
            qid_list = qid_list or qids.to_pylist()
            detail[row] = (f"question_id {qid_list[row]!r} is not in {self.questions.path.name}"
                           if verdict[row] == UNKNOWN else f"question {qid_list[row]} already has an answer")
        return item_batch(item_schema(["question_id", "answer_id"], False), n, reason=pa.array(reason, pa.string()),
                          detail=pa.array(detail, pa.string()), prompt=prompts, response=batch["content"],
                          group=pc.binary_join_element_wise("q", qids, ""), file=self.answers.path.name, line=lines,
                          **{"meta:question_id": qids, "meta:answer_id": answer_ids})

    def _joined_in_one_partition(self, batch_rows: int, on_bytes: ByteCallback | None) -> Iterator[pa.RecordBatch]:
        """Questions that fit one partition: held while the answers stream past them, nothing spilled."""
        table = pa.Table.from_batches([b for b, _ in self.questions.arrow_batches(1 << 40)])
        join_all = PartitionJoin(pa.table({"qid": py_strip(table["question_id"]), "text": table["content"]}),
                                 self.mode == "first", _IdLookup)
        del table
        if join_all.repeated:
            raise Untrusted  # the careful reader rejects the repeated rows, naming them
        if on_bytes is not None:
            on_bytes(self.questions.path.stat().st_size)
        for batch, lines in self.answers.arrow_batches(batch_rows):
            qids = py_strip(batch["question_id"])
            yield self._item_batch(batch, lines, qids, py_strip(batch["ans_id"]), *join_all(qids))
        if on_bytes is not None:
            on_bytes(self.answers.path.stat().st_size)
        self.stats = {"questions": len(join_all.ids), "questions_without_answers": join_all.unanswered,
                      "duplicate_question_ids": 0}

    def _joined(self, batch_rows: int, on_bytes: ByteCallback | None, work_dir: Path | None,
                ) -> Iterator[pa.RecordBatch]:
        """The join of `medq/prepare/join.py`: memory bounded by a partition and a chunk of answers."""
        parts = max(1, math.ceil(self.questions.path.stat().st_size / (self.join_partition_mb * (1 << 20))))
        if parts == 1:
            yield from self._joined_in_one_partition(batch_rows, on_bytes)
            return
        with tempfile.TemporaryDirectory(prefix=".cmedqa2-join-", dir=work_dir, ignore_cleanup_errors=True) as folder:
            root = Path(folder)
            questions = PartitionFiles(root / "questions", parts, join.QUESTIONS)
            try:
                count = 0
                for batch, _ in self.questions.arrow_batches(1 << 16):
                    qids = py_strip(batch["question_id"])
                    questions.scatter(partition_of(qids, parts), [qids, batch["content"]])
                    count += batch.num_rows
                    pa.default_memory_pool().release_unused()
            finally:
                questions.close()
            if on_bytes is not None:
                on_bytes(self.questions.path.stat().st_size)
            answer_ids = PartitionFiles(root / "answers", parts, join.ANSWER_IDS)
            spilled, total = root / "answers.arrow", 0
            writer = None
            try:
                for batch, lines in self.answers.arrow_batches(batch_rows):
                    qids = py_strip(batch["question_id"])
                    answers = pa.record_batch([qids, py_strip(batch["ans_id"]), batch["content"], pa.array(lines)],
                                              names=["qid", "ans_id", "content", "line"])
                    if writer is None:
                        writer = pa.ipc.new_stream(str(spilled), answers.schema)
                    writer.write_batch(answers)
                    rows = pa.array(np.arange(total, total + batch.num_rows, dtype=np.int64))
                    answer_ids.scatter(partition_of(qids, parts), [rows, qids])
                    total += batch.num_rows
                    pa.default_memory_pool().release_unused()
            finally:
                answer_ids.close()
                if writer is not None:
                    writer.close()
            chunk_rows = self.join_chunk_rows
            chunks = PartitionFiles(root / "verdicts", max(1, math.ceil(total / chunk_rows)), join.VERDICTS)
            unanswered = 0
            try:
                def emit(rows: np.ndarray, verdict: np.ndarray, texts: pa.Array) -> None:
                    bounds = np.searchsorted(rows, np.arange(0, total + chunk_rows, chunk_rows))
                    for chunk in np.flatnonzero(np.diff(bounds)).tolist():
                        at, n = int(bounds[chunk]), int(bounds[chunk + 1] - bounds[chunk])
                        chunks.write(chunk, [pa.array(rows[at:at + n]), pa.array(verdict[at:at + n]),
                                             texts.slice(at, n)])

                for part in range(parts):
                    join_part = PartitionJoin(questions.read(part), self.mode == "first", _IdLookup)
                    if join_part.repeated:
                        raise Untrusted  # the careful reader rejects the repeated rows, naming them
                    for piece in answer_ids.pieces(part, chunk_rows):
                        emit(piece["row"].to_numpy(), *join_part(piece["qid"].combine_chunks()))
                    unanswered += join_part.unanswered
                    del join_part
                    pa.default_memory_pool().release_unused()
            finally:
                chunks.close()
            verdicts, start = JoinedAnswers(chunks, chunk_rows, total), 0
            if total:
                with pa.OSFile(str(spilled), "rb") as handle:
                    for answers in pa.ipc.open_stream(handle):
                        verdict, prompts = verdicts.take(start, answers.num_rows)
                        start += answers.num_rows
                        yield self._item_batch(answers, answers["line"], answers["qid"], answers["ans_id"],
                                               verdict, prompts)
            if on_bytes is not None:
                on_bytes(self.answers.path.stat().st_size)
            self.stats = {"questions": count, "questions_without_answers": unanswered, "duplicate_question_ids": 0}

    def _careful_items(self, on_bytes: ByteCallback | None = None, on_bad_record: OnBadRecord = "error",
                       ) -> Iterator[Item]:
        questions: dict[str, str] = {}
        duplicate_ids = 0
        for _where, row in self.questions.rows(on_bytes, on_bad_record):
            if isinstance(row, Rejected):
                yield row
                continue
            qid = row["question_id"].strip()
            if qid in questions:
                # The first row of an id is the question its answers join to; a later row is rejected, not
                # dropped, so the data card shows what it held.
                duplicate_ids += 1
                yield Rejected("duplicate_question_id", _where, f"question_id {qid!r} already read; this row's "
                               f"text is not used", row["content"])
                continue
            questions[qid] = row["content"]
        answered: set[str] = set()
        for where, row in self.answers.rows(on_bytes, on_bad_record):
            if isinstance(row, Rejected):
                yield row
                continue
            qid = row["question_id"].strip()
            if qid not in questions:
                yield Rejected("unknown_question_id", where, f"question_id {qid!r} is not in {self.questions.path.name}",
                               response=row["content"])
                continue
            if self.mode == "first" and qid in answered:
                yield Rejected("extra_answer", where, f"question {qid} already has an answer", questions[qid], row["content"])
                continue
            answered.add(qid)
            yield Example(questions[qid], row["content"], group=f"q{qid}", where=where,
                          metadata={"question_id": qid, "answer_id": row["ans_id"].strip()})
        self.stats = {"questions": len(questions), "questions_without_answers": len(questions) - len(answered),
                      "duplicate_question_ids": duplicate_ids}
        # Rows that must each come out as an example or a reject: every answer row, and every question row
        # except the one row per id that the answers join to (a question without answers is not a record).
        self.rows_held = self.answers.rows_read + self.questions.rows_read - len(questions)


class _IdLookup:
    """The row of each id in a table of distinct ids (`known`, `row`), for batch after batch: ids that are all
    plain integers (as cMedQA2's are) are looked up by a binary search in the sorted integers, built once;
    others by `pc.index_in`, which builds its hash table per call."""

    def __init__(self, ids: pa.Array):
        self.ids, self.sorted = ids, None
        try:
            numbers = pc.cast(ids, pa.int64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return
        if numbers.null_count or not pc.all(pc.equal(pc.cast(numbers, pa.string()), ids)).as_py():
            return  # "007" or "+7": not the integer's own spelling
        values = numbers.to_numpy()
        self.order = np.argsort(values, kind="stable")
        self.sorted = values[self.order]

    def __call__(self, ids: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        if self.sorted is not None:
            try:
                numbers = pc.cast(ids, pa.int64())
                plain = pc.fill_null(pc.equal(pc.cast(numbers, pa.string()), ids), False)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                numbers = None
            if numbers is not None and len(self.sorted):
                values = pc.fill_null(numbers, 0).to_numpy(zero_copy_only=False)
                at = np.minimum(np.searchsorted(self.sorted, values), len(self.sorted) - 1)
                known = (self.sorted[at] == values) & plain.to_numpy(zero_copy_only=False)
                return known, np.where(known, self.order[at], 0).astype(np.int64)
        lookup = pc.index_in(ids, value_set=self.ids)
        return (pc.is_valid(lookup).to_numpy(zero_copy_only=False),
                pc.fill_null(lookup, 0).to_numpy(zero_copy_only=False).astype(np.int64))


class CsvSource(_BatchSource):
    """Any CSV with a column mapping, e.g. the Chinese medical dialogue data (department,title,ask,answer)."""

    def __init__(self, path: ExistingFile, prompt_columns: list[str], response_column: str,
                 metadata_columns: list[str] | None = None, group_column: str | None = None,
                 prompt_separator: str = "\n", encoding: str = "auto", delimiter: str = ","):
        self.prompt_columns = list(prompt_columns)
        self.response_column = response_column
        self.metadata_columns = list(metadata_columns or [])
        self.group_column = group_column
        self.prompt_separator = prompt_separator
        required = self.prompt_columns + [response_column] + self.metadata_columns + ([group_column] if group_column else [])
        self.table = CsvTable(Path(path), list(dict.fromkeys(required)), delimiter, encoding)
        self.stats: dict[str, int] = {}

    def files(self) -> list[Path]:
        return [self.table.path]

    def encodings(self) -> dict[str, str]:
        return {str(self.table.path): self.table.encoding}

    def batches(self, batch_rows: int, on_bad_record: OnBadRecord = "error", careful: bool = False,
                on_bytes: ByteCallback | None = None, work_dir: Path | None = None) -> Iterator[pa.RecordBatch]:
        if careful:
            yield from items_to_batches(self._careful_items(on_bytes, on_bad_record), self.metadata_columns, False,
                                        batch_rows)
            return
        plan = self.split_plan(1 << 62)
        rows = yield from self.split_batches(plan.splits[0], plan.context, batch_rows)
        if on_bytes is not None:
            on_bytes(self.table.path.stat().st_size)
        self.splits_read(plan, rows)

    def split_plan(self, size: int) -> SplitPlan:
        """The fast reader's byte ranges (`CsvTable.split_plan`)."""
        return self.table.split_plan(size)

    def split_batches(self, split: Split, context: Any, batch_rows: int) -> Generator[pa.RecordBatch, None, int]:
        """The item batches of one split; returns its data rows."""
        schema = item_schema(self.metadata_columns, False)
        name = self.table.path.name
        parts = self.table.split_batches(split, context, batch_rows)
        while True:
            try:
                batch, lines = next(parts)
            except StopIteration as done:
                return done.value
            prompts = join_prompt_columns([batch[c] for c in self.prompt_columns], self.prompt_separator)
            group = batch[self.group_column] if self.group_column else prompts
            yield item_batch(schema, batch.num_rows, prompt=prompts, response=batch[self.response_column], group=group,
                             file=name, line=lines, **{f"meta:{c}": batch[c] for c in dict.fromkeys(self.metadata_columns)})

    def splits_read(self, plan: SplitPlan, rows: int) -> None:
        self.table.splits_read(plan, rows)
        self.stats = {"blank_lines": 0}
        self.rows_held = self.table.rows_read

    def _careful_items(self, on_bytes: ByteCallback | None = None, on_bad_record: OnBadRecord = "error",
                       ) -> Iterator[Item]:
        for where, row in self.table.rows(on_bytes, on_bad_record):
            if isinstance(row, Rejected):
                yield row
                continue
            prompt = join_prompt_parts([row[c] for c in self.prompt_columns], self.prompt_separator)
            group = row[self.group_column] if self.group_column else prompt
            yield Example(prompt, row[self.response_column], group=group, where=where,
                          metadata={c: row[c] for c in self.metadata_columns})
        self.stats = {"blank_lines": self.table.blank_lines}
        self.rows_held = self.table.rows_read


def join_prompt_parts(parts: list[str], separator: str) -> str:
    """Join title and question, dropping a part that the next one already starts with (titles often do)."""
    kept: list[str] = []
    stripped = [p.strip() for p in parts]
    for index, part in enumerate(stripped):
        following = stripped[index + 1] if index + 1 < len(stripped) else ""
        if part and not following.startswith(part.rstrip("？?。.!！")):
            kept.append(part)
    return separator.join(kept)


class JsonlSource(_BatchSource):
    """JSON Lines with a field map. Huatuo-style files hold lists (`questions`: paraphrases, `answers`)."""

    def __init__(self, path: ExistingFile, prompt_field: str = "questions", response_field: str = "answers",
                 metadata_fields: list[str] | None = None, paraphrases: Literal["first", "all"] = "first",
                 answers: Literal["first", "all"] = "first", encoding: str = "auto"):
        self.path = Path(path)
        self.encoding = detect_encoding(self.path, encoding)
        self.prompt_field, self.response_field = prompt_field, response_field
        self.metadata_fields = list(metadata_fields or [])
        self.paraphrases, self.answers = paraphrases, answers
        self.stats: dict[str, int] = {}

    def files(self) -> list[Path]:
        return [self.path]

    def encodings(self) -> dict[str, str]:
        return {str(self.path): self.encoding}

    @staticmethod
    def _values(record: dict[str, Any], name: str) -> list[str]:
        if name not in record:
            raise KeyError(name)
        value = record[name]
        values = value if isinstance(value, list) else [value]
        return [v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in values if v is not None]

    def batches(self, batch_rows: int, on_bad_record: OnBadRecord = "error", careful: bool = False,
                on_bytes: ByteCallback | None = None, work_dir: Path | None = None) -> Iterator[pa.RecordBatch]:
        if careful:
            yield from items_to_batches(self._careful_items(on_bytes, on_bad_record), self.metadata_fields, True,
                                        batch_rows)
            return
        yield from self._arrow_batches(batch_rows)
        if on_bytes is not None:
            on_bytes(self.path.stat().st_size)

    def _arrow_batches(self, batch_rows: int) -> Iterator[pa.RecordBatch]:
        """pyarrow's JSON reader, when every line is an object whose two fields are lists of strings (or the
        careful reader would say something else: `Untrusted`); metadata fields are read carefully."""
        plan = self.split_plan(1 << 62)
        lines = yield from self.split_batches(plan.splits[0], plan.context, batch_rows)
        self.splits_read(plan, lines)

    def split_plan(self, size: int) -> SplitPlan:
        """The file in byte ranges of whole lines of about `size` bytes, each read on its own (`split_batches`),
        or `Untrusted` where the fast reader cannot vouch for the careful one."""
        if self.metadata_fields or self.encoding != "utf-8" or self.prompt_field == self.response_field:
            raise Untrusted
        splits, _, has_cr = line_splits(self.path, size)
        if has_cr:
            raise Untrusted
        return SplitPlan(splits, self._sniff_types())

    def split_batches(self, split: Split, types: Any, batch_rows: int) -> Generator[pa.RecordBatch, None, int]:
        """The item batches of one split; returns its data rows (lines)."""
        import pyarrow.json as pa_json

        schema = item_schema([], True)
        name, line = self.path.name, split.first_line
        options = pa_json.ParseOptions(explicit_schema=pa.schema([(self.prompt_field, types[0]),
                                                                  (self.response_field, types[1])]),
                                       unexpected_field_behavior="ignore")
        try:
            # whole lines, 16 MB at a time: pyarrow's own streaming JSON reader reads the whole file ahead
            for block, lines in _line_blocks(self.path, 16 << 20, split.start, split.end):
                whole = pa_json.read_json(pa.BufferReader(block), parse_options=options,
                                          read_options=pa_json.ReadOptions(use_threads=False, block_size=32 << 20))
                if whole.num_rows != lines:
                    raise Untrusted  # blank lines: line numbers would shift
                for batch in whole.to_batches(batch_rows):
                    yield self._expand(batch, line, name, schema)
                    line += batch.num_rows
        except pa.ArrowInvalid:
            raise Untrusted from None
        if line != split.last_line:
            raise Untrusted  # blank lines: line numbers would shift
        return line - split.first_line

    def splits_read(self, plan: SplitPlan, rows: int) -> None:
        """After every split is read: the file's statistics."""
        if rows == 0:
            raise Untrusted
        self.stats = {"lines": rows}
        self.rows_held = rows

    def _sniff_types(self) -> tuple[pa.DataType, pa.DataType]:
        """The Arrow types of the two fields as the first line holds them: a list of strings or a string (a line
        that holds another type makes pyarrow's reader fail, and the careful reader take over)."""
        with open(self.path, "rb") as handle:
            for raw in handle:
                if raw.strip():
                    break
        try:
            first = json.loads(raw)
            return tuple(pa.string() if isinstance(first[f], str) else pa.list_(pa.string())  # type: ignore
                         for f in (self.prompt_field, self.response_field))
        except (ValueError, KeyError, TypeError, UnboundLocalError):
            raise Untrusted from None

    def _expand(self, batch: pa.RecordBatch, first_line: int, name: str, schema: pa.Schema) -> pa.RecordBatch:
        """One item per (paraphrase, answer) the modes keep, and a reject for each one they leave out, in the
        careful reader's order: extra paraphrases, extra answers, then the examples."""
        n = batch.num_rows
        flat, count = [], []
        for field_name in (self.prompt_field, self.response_field):
            column = batch.column(field_name)
            if column.null_count:
                raise Untrusted  # a missing field or null: the careful reader says which
            if column.type == pa.string():  # one text: a list of one
                column = pa.ListArray.from_arrays(pa.array(np.arange(n + 1, dtype=np.int32)), column)
            values, parents = pc.list_flatten(column), pc.list_parent_indices(column).to_numpy()
            if values.null_count:  # null elements are left out, as the careful reader leaves them
                valid = pc.is_valid(values)
                values, parents = values.filter(valid), parents[valid.to_numpy(zero_copy_only=False)]
            flat.append(pa.concat_arrays([values, pa.array([""], pa.string())]))  # the last one: "" for none
            count.append(np.bincount(parents, minlength=n).astype(np.int64))
        (prompts, responses), (p, r) = flat, count
        p_start, r_start = np.cumsum(p) - p, np.cumsum(r) - r
        empty = (p == 0) | (r == 0)
        extra_p = np.where(empty, 0, p - 1) if self.paraphrases == "first" else np.zeros(n, dtype=np.int64)
        extra_r = np.where(empty, 0, r - 1) if self.answers == "first" else np.zeros(n, dtype=np.int64)
        keep_p = 1 if self.paraphrases == "first" else p
        keep_r = 1 if self.answers == "first" else r
        items = np.where(empty, 1, extra_p + extra_r + keep_p * keep_r)
        line_of = np.repeat(np.arange(n), items)
        within = np.arange(len(line_of)) - np.repeat(np.cumsum(items) - items, items)
        xp, xr, kr = extra_p[line_of], extra_r[line_of], (r if self.answers == "all" else np.ones(n, np.int64))[line_of]
        is_xp, is_xr = within < xp, (within >= xp) & (within < xp + xr)
        example = within - xp - xr
        prompt_at = p_start[line_of] + np.where(is_xp, 1 + within, np.where(is_xr, 0, example // np.maximum(kr, 1)))
        response_at = r_start[line_of] + np.where(is_xp, 0, np.where(is_xr, 1 + within - xp, example % np.maximum(kr, 1)))
        is_empty = empty[line_of]
        none_p, none_r = len(prompts) - 1, len(responses) - 1
        prompt_at = np.where(is_empty & (p[line_of] == 0), none_p, prompt_at)
        response_at = np.where(is_empty & (r[line_of] == 0), none_r, response_at)
        reason = np.full(len(line_of), None, dtype=object)
        reason[is_xp], reason[is_xr], reason[is_empty] = "extra_paraphrase", "extra_answer", "empty_field"
        detail = np.full(len(line_of), None, dtype=object)
        detail[is_xr], detail[is_empty] = "answers=first keeps the first answer", "no question or no answer"
        if is_xp.any():
            rows = np.flatnonzero(is_xp)
            kept = prompts.take(pa.array(p_start[line_of[rows]])).to_pylist()
            detail[rows] = [f"paraphrases=first keeps {text!r}" for text in kept]
        lines = first_line + 1 + line_of
        return item_batch(schema, len(line_of), reason=pa.array(reason, pa.string()),
                          detail=pa.array(detail, pa.string()), prompt=prompts.take(pa.array(prompt_at)),
                          response=responses.take(pa.array(response_at)),
                          group=pc.binary_join_element_wise("line", pa.array(lines).cast(pa.string()), ""),
                          file=name, line=lines, new_row=pa.array(within == 0))

    def _careful_items(self, on_bytes: ByteCallback | None = None, on_bad_record: OnBadRecord = "error",
                       ) -> Iterator[Item]:
        from medq.jsonl import BadLine, read_jsonl

        lines_read = 0
        with open_text(self.path, self.encoding, on_bytes) as handle:
            for line_number, record in read_jsonl(self.path, lenient=True, lines=handle):
                lines_read += 1
                where = f"{self.path.name}:{line_number}"
                try:
                    if isinstance(record, BadLine):
                        raise ValueError(record.detail)
                    prompts = self._values(record, self.prompt_field)
                    responses = self._values(record, self.response_field)
                except (ValueError, KeyError) as exc:
                    detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
                    if on_bad_record == "error":
                        raise InputDataError(f"{self.path}: line {line_number}: {detail} "
                                             f"(set prepare.on_bad_record=skip to reject such rows)") from None
                    yield Rejected("malformed_row", where, detail)
                    continue
                metadata = {f: record.get(f) for f in self.metadata_fields}
                if not prompts or not responses:
                    yield Rejected("empty_field", where, "no question or no answer",
                                   prompts[0] if prompts else "", responses[0] if responses else "")
                    continue
                # `first` keeps one paraphrase / answer; the others are rejected with their reason (as cMedQA2's
                # `first` rejects extra answers), so every text the file holds is written or accounted for.
                if self.paraphrases == "first":
                    for extra in prompts[1:]:
                        yield Rejected("extra_paraphrase", where, f"paraphrases=first keeps {prompts[0]!r}",
                                       extra, responses[0])
                    prompts = prompts[:1]
                if self.answers == "first":
                    for extra in responses[1:]:
                        yield Rejected("extra_answer", where, "answers=first keeps the first answer",
                                       prompts[0], extra)
                    responses = responses[:1]
                for prompt in prompts:
                    for response in responses:
                        yield Example(prompt, response, group=f"line{line_number}", where=where, metadata=dict(metadata))
        if lines_read == 0:
            raise InputDataError(f"{self.path}: no JSON lines (file holds only whitespace)")
        self.stats = {"lines": lines_read}
        self.rows_held = lines_read


def _line_blocks(path: Path, size: int, start: int = 0, end: int | None = None) -> Iterator[tuple[bytes, int]]:
    """The file (bytes `start` to `end`) in blocks of whole lines (about `size` bytes; a longer line is one block),
    and the lines in each."""
    carry = b""
    left = (1 << 62) if end is None else end - start
    with open(path, "rb") as handle:
        handle.seek(start)
        while left > 0 and (data := handle.read(min(size, left))):
            left -= len(data)
            data = carry + data
            cut = data.rfind(b"\n") + 1
            if not cut:
                carry = data
                continue
            block, carry = data[:cut], data[cut:]
            yield block, block.count(b"\n")
    if carry:
        yield carry, 1


class SyntheticSource(_BatchSource):
    """The project's own synthetic Chinese medical dialogue data (GBK CSV with injected dirt), for the demo.

    The file is written once per (size, seed) under `cache_dir` and then read like any dialogue CSV, so the
    demo exercises encoding detection, quoting and cleaning exactly as real data does.
    """

    def __init__(self, cache_dir: str, n_questions: int = 400, seed: int = 0, messy: bool = True):
        from medq.artifacts import atomic_path
        from medq.prepare.synthetic import write_dialogue_csv

        path = Path(cache_dir) / f"synthetic_dialogue_n{n_questions}_s{seed}{'_messy' if messy else ''}.gbk.csv"
        if not path.is_file():
            with atomic_path(path) as staged:
                write_dialogue_csv(staged, n_questions, seed=seed, encoding="gbk", messy=messy)
        self.csv = CsvSource(str(path), prompt_columns=["title", "ask"], response_column="answer",
                             metadata_columns=["department"])
        self.stats = self.csv.stats

    def files(self) -> list[Path]:
        return self.csv.files()

    def encodings(self) -> dict[str, str]:
        return self.csv.encodings()

    def batches(self, batch_rows: int, on_bad_record: OnBadRecord = "error", careful: bool = False,
                on_bytes: ByteCallback | None = None, work_dir: Path | None = None) -> Iterator[pa.RecordBatch]:
        yield from self.csv.batches(batch_rows, on_bad_record, careful, on_bytes, work_dir)
        self.stats = self.csv.stats
        self.rows_held = self.csv.rows_held

    def split_plan(self, size: int) -> SplitPlan:
        return self.csv.split_plan(size)

    def split_batches(self, split: Split, context: Any, batch_rows: int) -> Generator[pa.RecordBatch, None, int]:
        return self.csv.split_batches(split, context, batch_rows)

    def splits_read(self, plan: SplitPlan, rows: int) -> None:
        self.csv.splits_read(plan, rows)
        self.stats = self.csv.stats
        self.rows_held = self.csv.rows_held

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
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Literal

from medq.errors import InputDataError
from medq.paths import ExistingFile
from medq.prepare.encoding import detect_encoding

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


class CMedQA2Source:
    """cMedQA2: questions.csv (question_id,content) joined with answers.csv (ans_id,question_id,content).

    Questions are held in a dict (ids and text only); answers stream. `answers: all` makes one example per
    answer, `first` keeps the first answer of each question and rejects the rest as `extra_answer`.
    """

    def __init__(self, questions_path: ExistingFile, answers_path: ExistingFile,
                 answers: Literal["all", "first"] = "all", encoding: str = "auto", delimiter: str = ","):
        self.questions = CsvTable(Path(questions_path), ["question_id", "content"], delimiter, encoding)
        self.answers = CsvTable(Path(answers_path), ["ans_id", "question_id", "content"], delimiter, encoding)
        self.mode = answers
        self.stats: dict[str, int] = {}

    def files(self) -> list[Path]:
        return [self.questions.path, self.answers.path]

    def encodings(self) -> dict[str, str]:
        return {str(t.path): t.encoding for t in (self.questions, self.answers)}

    def items(self, on_bytes: ByteCallback | None = None, on_bad_record: OnBadRecord = "error") -> Iterator[Item]:
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


class CsvSource:
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

    def items(self, on_bytes: ByteCallback | None = None, on_bad_record: OnBadRecord = "error") -> Iterator[Item]:
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


class JsonlSource:
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

    def items(self, on_bytes: ByteCallback | None = None, on_bad_record: OnBadRecord = "error") -> Iterator[Item]:
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


class SyntheticSource:
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

    def items(self, on_bytes: ByteCallback | None = None, on_bad_record: OnBadRecord = "error") -> Iterator[Item]:
        yield from self.csv.items(on_bytes, on_bad_record)
        self.stats = self.csv.stats
        self.rows_held = self.csv.rows_held

"""The per-record half of `prepare`: everything that depends on one record alone, done a chunk at a time.

Cleaning, PII scrubbing, length checks, the exact-duplicate key, the contamination look-up, MinHash signatures
and LSH band keys, the split, the example id and the two output lines (ChatML record, corpus document) depend
only on the record and the config, so they can run in worker processes (`prepare.workers=N`). What depends on
the records before it (exact and near-duplicate decisions, preference-pair numbering, writing) stays in the
stage's one ordered loop, which is why N workers write the same bytes as one process.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import orjson

from medq.prepare.cleaning import CleaningRules, TextCleaner, scrub_pii
from medq.prepare.dedup import ContaminationChecker, DedupRules, MinHasher, band_keys
from medq.prepare.sources import Example, Item, Rejected

Profile = Literal["full", "minimal"]


@dataclass
class RecordRules:
    """What the per-record work needs; plain data, so it can be sent to worker processes."""

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


@dataclass
class Record:
    """One record after the per-record work; `problem` is a reject reason found without looking at other records."""

    item: Item
    prompt: str = ""
    response: str = ""
    problem: str | None = None
    exact_key: bytes | None = None
    contaminated_by: str | None = None
    signature_row: int = -1          # row in the chunk's signatures, when near dedup applies
    example_id: str = ""
    split: str = ""
    record_line: bytes = b""         # the ChatML line for `split`.jsonl
    corpus_line: bytes = b""


@dataclass
class Chunk:
    records: list[Record]
    pii: Counter
    signatures: np.ndarray | None = None
    band_keys: np.ndarray | None = None   # rows x bands uint64 LSH keys


def split_of(group: str, seed: int, ratios: Any) -> str:
    digest = hashlib.blake2b(f"{seed}:{group}".encode(), digest_size=8).digest()
    u = int.from_bytes(digest, "little") / 2**64
    if u < ratios.train:
        return "train"
    return "validation" if u < ratios.train + ratios.validation else "test"


class RecordProcessor:
    def __init__(self, rules: RecordRules):
        self.rules = rules
        self.full = rules.profile == "full"
        self.cleaner = TextCleaner(rules.cleaning) if self.full else None
        self.contamination = ContaminationChecker(rules.contamination_ngram, rules.eval_texts,
                                                  rules.contamination_min_chars) if self.full else None
        self.hasher = MinHasher(rules.dedup.num_perm, rules.dedup.ngram) if self.full and rules.dedup.near else None
        self._split_of_group: dict[str, str] = {}
        self._system = [{"role": "system", "content": rules.system_prompt}] if rules.system_prompt else []
        # '","messages":[' and the system message, as orjson writes them in a record line
        self._system_json = b'","messages":[' + (orjson.dumps(self._system[0]) + b"," if self._system else b"")

    def __call__(self, items: list[Item]) -> Chunk:
        pii: Counter = Counter()
        records = [self._one(item, pii) for item in items]
        chunk = Chunk(records, pii)
        if self.hasher is not None:
            kept = [r for r in records if isinstance(r.item, Example) and r.problem is None]
            for row, record in enumerate(kept):
                record.signature_row = row
            if kept:
                chunk.signatures = self.hasher.signatures([r.prompt + "\n" + r.response for r in kept])
                chunk.band_keys = band_keys(chunk.signatures, self.rules.dedup.bands)
        return chunk

    def _one(self, item: Item, pii: Counter) -> Record:
        if isinstance(item, Rejected):
            return Record(item)
        rules = self.rules
        if self.full:
            prompt, response = self.cleaner.clean(item.prompt), self.cleaner.clean(item.response)
            if rules.cleaning.scrub_pii:
                prompt, response = scrub_pii(prompt, pii), scrub_pii(response, pii)
            problem = self._length_problem(prompt, response)
        else:  # minimal: the text as read; only records without a question or an answer are dropped
            prompt, response = item.prompt, item.response
            problem = "empty_prompt" if not prompt.strip() else "empty_response" if not response.strip() else None
        record = Record(item, prompt, response, problem)
        if problem:
            return record
        # one hash of prompt\0response is the example id and the exact-duplicate key (as in the columnar pass)
        digest = hashlib.blake2b(f"{prompt}\0{response}".encode(), digest_size=8).digest()
        if self.full:
            if rules.dedup.exact:
                record.exact_key = digest
            record.contaminated_by = self.contamination.find(prompt + "\n" + response)
        self._render(record, item, digest)
        return record

    def _length_problem(self, prompt: str, response: str) -> str | None:
        f = self.rules.filters
        if len(prompt) < f.prompt_min_chars:
            return "prompt_too_short"
        if len(prompt) > f.prompt_max_chars:
            return "prompt_too_long"
        if len(response) < f.response_min_chars:
            return "response_too_short"
        if len(response) > f.response_max_chars:
            return "response_too_long"
        return None

    def _render(self, record: Record, example: Example, digest: bytes) -> None:
        """The output lines, serialised here so the ordered loop only writes bytes."""
        rules, prompt, response = self.rules, record.prompt, record.response
        record.example_id = digest.hex()
        split = self._split_of_group.get(example.group)
        if split is None:  # the answers of one question come together: hash each group once
            if len(self._split_of_group) > 4096:
                self._split_of_group.clear()
            split = self._split_of_group[example.group] = split_of(example.group, rules.seed, rules.split)
        record.split = split
        if _CORPUS_KEYS.isdisjoint(example.metadata):
            self._render_pieces(record, example)
            return
        # metadata that holds a key the stage adds: the dicts decide where it lands, as before
        messages = [*self._system, {"role": "user", "content": prompt}, {"role": "assistant", "content": response}]
        metadata = {**example.metadata, "source": example.where}
        record.record_line = orjson.dumps({"id": record.example_id, "messages": messages, "metadata": metadata},
                                          option=orjson.OPT_APPEND_NEWLINE)
        if self.full:
            content = response if rules.corpus_content == "response" else f"问：{prompt}\n答：{response}"
            record.corpus_line = orjson.dumps(
                {"id": f"doc-{record.example_id}", "content": content,
                 "metadata": {**metadata, "question": prompt, "split": record.split, "example_id": record.example_id}},
                option=orjson.OPT_APPEND_NEWLINE)

    def _render_pieces(self, record: Record, example: Example) -> None:
        """The bytes `orjson.dumps` writes for the two record dicts, assembled from each text escaped once.

        orjson writes a dict as `{"key":value,...}` in insertion order with no spaces, and escapes a string
        character by character, so the escaped prompt can be pasted into both lines and `问：{p}\\n答：{r}` is the
        escaped pieces joined by an escaped newline (tests compare with the dict path).
        """
        dumps = orjson.dumps
        prompt, response = dumps(record.prompt), dumps(record.response)
        example_id = record.example_id.encode()
        metadata = dumps({**example.metadata, "source": example.where})
        record.record_line = b"".join((b'{"id":"', example_id, self._system_json, b'{"role":"user","content":',
                                       prompt, b'},{"role":"assistant","content":', response, b'}],"metadata":',
                                       metadata, b"}\n"))
        if self.full:
            if self.rules.corpus_content == "response":
                content = response
            else:
                content = b"".join((ASK_JSON, prompt[1:-1], ANSWER_JSON, response[1:-1], b'"'))
            record.corpus_line = b"".join((b'{"id":"doc-', example_id, b'","content":', content, b',"metadata":',
                                           metadata[:-1], b',"question":', prompt, b',"split":"',
                                           record.split.encode(), b'","example_id":"', example_id, b'"}}\n'))


# keys the stage adds to an example's metadata; an example that already has one takes the dict path
_CORPUS_KEYS = frozenset({"source", "question", "split", "example_id"})
ASK_JSON, ANSWER_JSON = '"问：'.encode(), "\\n答：".encode()  # the corpus content's fixed parts, JSON-escaped


# -- worker processes ------------------------------------------------------------------------------------

_PROCESSOR: RecordProcessor | None = None


def init_worker(rules: RecordRules) -> None:
    global _PROCESSOR
    _PROCESSOR = RecordProcessor(rules)


def process_in_worker(items: list[Item]) -> Chunk:
    assert _PROCESSOR is not None, "init_worker did not run in this process"
    return _PROCESSOR(items)

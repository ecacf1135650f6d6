"""The per-record definition of `prepare`, one record at a time: the reference the batch pipeline is tested
against (byte for byte). It is the streaming engine the stage had before the batch pipeline, kept here, in the
tests only: the careful readers' items (`source._careful_items`), the per-record work (`RecordProcessor`) and the
ordered loop (exact duplicates by a set of ids, near duplicates by the chunked index, writes in item order)."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from medq.prepare.cleaning import TextCleaner, scrub_pii
from medq.prepare.columnar import RecordRules
from medq.prepare.dedup import ContaminationChecker, MinHasher, NearDuplicateIndex, band_keys
from medq.prepare.preferences import PreferencePairBuilder, PreferenceRules
from medq.prepare.sources import Example, Item, Rejected
from medq.prepare.stage import SPLITS, PrepareStage, _JsonlWriters, read_eval_texts


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




def run_reference(out: Path, stage: PrepareStage, seed: int = 0) -> dict[str, Any]:
    """What the stage writes for `stage`'s config, one record at a time (the old streaming engine): the same files
    in `out`, and the data card (without its timing)."""
    full = stage.profile == "full"
    rules = RecordRules(stage.profile, stage.system_prompt, stage.cleaning, stage.dedup, stage.filters, stage.split,
                        seed, stage.corpus_content, stage.contamination.ngram,
                        read_eval_texts(stage.contamination) if full else [], stage.contamination.min_chars)
    near = NearDuplicateIndex(stage.dedup) if full and stage.dedup.near else None
    pairs = PreferencePairBuilder(stage.preferences if full else PreferenceRules(enabled=False),
                                  stage.system_prompt, seed)
    outputs = [*SPLITS, "corpus", "preference_pairs", "rejects"] if full else [*SPLITS, "rejects"]
    out.mkdir(parents=True, exist_ok=True)
    writers = _JsonlWriters(out, outputs)
    rejected: Counter = Counter()
    pii: Counter = Counter()
    seen: set[bytes] = set()
    near_kept_at: list[str] = []
    records_in = 0

    def reject(reason: str, where: str, detail: str = "", prompt: str = "", response: str = "") -> None:
        rejected[reason] += 1
        writers.write("rejects", {"reason": reason, "where": where, "detail": detail, "prompt": prompt,
                                  "response": response})

    source = stage.source
    reader = source if hasattr(source, "_careful_items") else source.csv
    items = reader._careful_items(None, stage.on_bad_record)
    if stage.limit is not None:
        items = islice(items, stage.limit)
    processor = RecordProcessor(rules)
    try:
        for batch in iter(lambda: list(islice(items, stage.batch_size)), []):
            chunk = processor(batch)
            pii.update(chunk.pii)
            if near is not None and chunk.signatures is not None:
                near.begin_chunk(chunk.signatures, chunk.band_keys)
            for record in chunk.records:
                records_in += 1
                item = record.item
                if isinstance(item, Rejected):
                    reject(item.reason, item.where, item.detail, item.prompt, item.response)
                    continue
                if record.problem:
                    reject(record.problem, item.where, "", record.prompt, record.response)
                    continue
                if record.exact_key is not None:
                    if record.exact_key in seen:
                        reject("duplicate", item.where, "same (prompt, response) as an earlier record",
                               record.prompt, record.response)
                        continue
                    seen.add(record.exact_key)
                if record.contaminated_by is not None:
                    reject("contaminated", item.where, f"shares a {stage.contamination.ngram}-gram with eval "
                           f"set '{record.contaminated_by}'", record.prompt, record.response)
                    continue
                if near is not None:
                    duplicate_of = near.add_row(record.signature_row)
                    if duplicate_of is not None:
                        reject("near_duplicate", item.where, f"near duplicate of {near_kept_at[duplicate_of]}",
                               record.prompt, record.response)
                        continue
                    near_kept_at.append(item.where)
                writers.write_line(record.split, record.record_line)
                if full:
                    writers.write_line("corpus", record.corpus_line)
                    if record.split == "train":
                        pair = pairs.generic_pair(record.example_id, record.prompt, record.response)
                        if pair is not None:
                            writers.write("preference_pairs", pair)
        for pair in pairs.safety_pairs():
            writers.write("preference_pairs", pair)
    finally:
        writers.close()
    records_out = sum(writers.counts[s] for s in SPLITS)
    assert records_in == records_out + sum(rejected.values())
    if hasattr(source, "csv"):
        source.stats = source.csv.stats
    card = stage._data_card(writers, records_in, records_out, rejected, pii, pairs, 1.0)
    for volatile in ("seconds", "records_per_second"):
        card.pop(volatile)
    return json.loads(json.dumps(card))

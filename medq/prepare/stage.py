"""The `prepare` stage: raw QA files -> cleaned ChatML splits, preference pairs, a retrieval corpus, a data card.

One pass: read -> clean -> scrub PII -> length filters -> exact dedup -> contamination and near-duplicate checks
-> split by a seeded hash of the question -> write. Most sources stream through it a chunk of records at a time
(`records.py`, optionally in worker processes); cMedQA2 with every answer goes through it column by column
(`columnar.py`), with the same output bytes. Every record read is written or rejected with its reason, and the
stage refuses to finish if the counts do not add up.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import shutil
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from collections import deque
from itertools import islice
from typing import Any, Iterator, Literal, Mapping

import orjson
from tqdm.auto import tqdm

from medq.artifacts import sha256_file, write_json_atomic, write_text_atomic
from medq.config import as_dataclass
from medq.errors import ConfigError
from medq.jsonl import read_jsonl
from medq.prepare.cleaning import CleaningRules
from medq.prepare.columnar import read_cmedqa2, source_supports_columnar, write_full, write_minimal
from medq.prepare.dedup import ContaminationRules, DedupRules, NearDuplicateIndex
from medq.prepare.preferences import PreferencePairBuilder, PreferenceRules
from medq.prepare.records import Chunk, Profile, RecordProcessor, RecordRules, init_worker, process_in_worker
from medq.prepare.sources import Item, OnBadRecord, Rejected
from medq.stage import StageContext

log = logging.getLogger(__name__)
SPLITS = ("train", "validation", "test")


@dataclass
class LengthFilters:
    prompt_min_chars: int = 4
    prompt_max_chars: int = 2000
    response_min_chars: int = 5
    response_max_chars: int = 4000


@dataclass
class SplitRatios:
    train: float = 0.9
    validation: float = 0.05
    test: float = 0.05


def read_eval_texts(rules: ContaminationRules) -> list[tuple[str, str]]:
    """Texts of the configured evaluation sets (CSV or JSONL, with the named fields)."""
    import csv

    from medq.prepare.encoding import detect_encoding

    texts = []
    for eval_set in rules.eval_sets or []:
        path = Path(eval_set.path)
        encoding = detect_encoding(path)
        with open(path, encoding=encoding, newline="") as handle:
            if path.suffix in (".jsonl", ".json"):
                rows = [row for _, row in read_jsonl(path, lines=handle, what="evaluation records")]
            else:
                rows = list(csv.DictReader(handle))
        for index, row in enumerate(rows):
            missing = [f for f in eval_set.fields if f not in row]
            if missing:
                raise ConfigError(f"{path}: row {index + 1} has no field(s) {', '.join(missing)} "
                                  f"(prepare.contamination.eval_sets '{eval_set.name}')")
            texts.extend((eval_set.name, str(row[f])) for f in eval_set.fields if row[f])
    return texts


class _JsonlWriters:
    """One JSONL file per output. Lines are gathered in a list and written (and SHA-256-hashed) a block at a time:
    a list append is cheaper than a buffered write per line, and the data card gets each file's hash without
    reading the file back. Blocks are written and hashed by a second thread (both release the GIL) while this one
    makes the next; a few blocks wait at most, and an error there is raised here at the next write or at close."""

    _BLOCK_LINES = 512  # about 0.5 MB of ChatML lines: large writes, little memory held
    _QUEUED_BLOCKS = 4

    def __init__(self, directory: Path, names: list[str]):
        self.paths = {n: directory / f"{n}.jsonl" for n in names}
        self.handles = {n: open(p, "wb", buffering=0) for n, p in self.paths.items()}
        self.digests = {n: hashlib.sha256() for n in names}
        self.pending: dict[str, list[bytes]] = {n: [] for n in names}
        self.counts = Counter()
        self._queue: queue.Queue = queue.Queue(self._QUEUED_BLOCKS)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name="prepare-writer", daemon=True)
        self._thread.start()

    def write(self, name: str, record: dict[str, Any]) -> None:
        self.write_line(name, orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))

    def write_line(self, name: str, line: bytes) -> None:
        pending = self.pending[name]
        pending.append(line)
        self.counts[name] += 1
        if len(pending) >= self._BLOCK_LINES:
            self._flush(name)

    def write_block(self, name: str, lines: Any, count: int) -> None:
        """`count` lines at once: a pyarrow binary array of whole lines, written as its one values buffer."""
        if count:
            import numpy as np

            self._flush(name)
            _, offsets, values = lines.buffers()
            bounds = np.frombuffer(offsets, dtype=np.int32)[lines.offset:lines.offset + len(lines) + 1]
            self._write(name, memoryview(values)[bounds[0]:bounds[-1]])  # the view keeps the buffer alive
        self.counts[name] += count

    def _flush(self, name: str) -> None:
        if self.pending[name]:
            self._write(name, b"".join(self.pending[name]))
            self.pending[name].clear()

    def _write(self, name: str, data: bytes | memoryview) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put((name, data))

    def _drain(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is None:
                try:
                    name, data = item
                    self.digests[name].update(data)
                    view, handle = memoryview(data), self.handles[name]
                    while view:  # an unbuffered write may take only part of the block
                        view = view[handle.write(view):]
                except BaseException as error:  # noqa: BLE001 - raised in the stage's thread
                    self._error = error

    def sha256(self, name: str) -> str:
        """Hash of everything written to `name` (the file's SHA-256 once closed)."""
        return self.digests[name].hexdigest()

    def close(self) -> None:
        try:
            for name in self.handles:
                self._flush(name)
        finally:
            self._queue.put(None)
            self._thread.join()
            for handle in self.handles.values():
                handle.close()
        if self._error is not None:
            raise self._error


class PrepareStage:
    outputs = ("train", "validation", "test", "corpus", "preference_pairs", "rejects", "hf_dataset", "data_card",
               "data_card_md")  # what run() may return (medq --help; checked by the runner)
    # results in their own right: the wiring check (medq/wiring.py) needs no later stage to read them
    final_outputs = ("rejects", "hf_dataset", "data_card", "data_card_md")

    @classmethod
    def outputs_for(cls, node: Mapping[str, Any]) -> tuple[tuple[str, ...], str]:
        """What a run with this config writes (the wiring check reads it before anything runs), and why it is less."""
        if node.get("profile", "full") != "minimal":
            return cls.outputs, ""
        return (tuple(o for o in cls.outputs if o not in ("corpus", "preference_pairs")),
                "prepare.profile=minimal writes only the splits, rejects and the data card (use prepare.profile=full)")

    def __init__(self, source: Any, system_prompt: str, cleaning: CleaningRules | None = None,
                 filters: LengthFilters | None = None, dedup: DedupRules | None = None,
                 contamination: ContaminationRules | None = None, split: SplitRatios | None = None,
                 preferences: PreferenceRules | None = None,
                 corpus_content: Literal["response", "question_and_answer"] = "response",
                 limit: int | None = None, on_bad_record: OnBadRecord = "error", save_hf_dataset: bool = True,
                 batch_size: int = 256, progress: bool = True, profile: Profile = "full", workers: int = 1):
        self.source = source
        self.system_prompt = system_prompt
        self.cleaning = as_dataclass(CleaningRules, cleaning)
        self.filters = as_dataclass(LengthFilters, filters)
        self.dedup = as_dataclass(DedupRules, dedup)
        self.contamination = as_dataclass(ContaminationRules, contamination)
        self.split = as_dataclass(SplitRatios, split)
        self.preferences = as_dataclass(PreferenceRules, preferences)
        self.corpus_content = corpus_content
        self.limit = limit
        self.on_bad_record = on_bad_record
        self.save_hf_dataset = save_hf_dataset
        self.batch_size = batch_size
        self.progress = progress
        self.profile = profile
        self.workers = workers
        if workers < 1:
            raise ConfigError(f"prepare.workers must be >= 1 (processes for the per-record work), got {workers}")
        if batch_size < 1:
            raise ConfigError(f"prepare.batch_size must be >= 1, got {batch_size}")
        total = self.split.train + self.split.validation + self.split.test
        if abs(total - 1.0) > 1e-6:
            raise ConfigError(f"prepare.split ratios must sum to 1, got {total:g}")
        if limit is not None and limit <= 0:
            raise ConfigError(f"prepare.limit must be a positive number of records, got {limit}")

    def external_inputs(self) -> list[Path]:
        return list(self.source.files()) + [Path(e.path) for e in self.contamination.eval_sets or []]

    # -- the pass over the data -------------------------------------------------------------------------

    def run(self, ctx: StageContext) -> dict[str, str]:
        started = time.time()
        out = ctx.output_dir
        full = self.profile == "full"
        rules = RecordRules(self.profile, self.system_prompt, self.cleaning, self.dedup, self.filters, self.split,
                            ctx.seed, self.corpus_content, self.contamination.ngram,
                            read_eval_texts(self.contamination) if full else [],
                            self.contamination.min_chars)
        near = NearDuplicateIndex(self.dedup) if full and self.dedup.near else None
        pairs = PreferencePairBuilder(self.preferences if full else PreferenceRules(enabled=False),
                                      self.system_prompt, ctx.seed)
        outputs = [*SPLITS, "corpus", "preference_pairs", "rejects"] if full else [*SPLITS, "rejects"]
        writers = _JsonlWriters(out, outputs)
        rejected: Counter = Counter()
        pii: Counter = Counter()
        seen: set[bytes] = set()
        near_kept_at: list[str] = []  # file:line of each example the near-dup index kept, to explain rejects
        records_in = 0
        rows_seen, last_where = 0, None  # distinct file rows the items came from (a row's items are contiguous)

        def reject(reason: str, where: str, detail: str = "", prompt: str = "", response: str = "") -> None:
            rejected[reason] += 1
            writers.write("rejects", {"reason": reason, "where": where, "detail": detail,
                                      "prompt": prompt, "response": response})

        total_bytes = sum(p.stat().st_size for p in self.source.files())
        with tqdm(total=total_bytes, unit="B", unit_scale=True, desc="prepare", disable=not self.progress,
                  mininterval=0.5) as bar:
            try:
                joined = None
                if self.limit is None and source_supports_columnar(self.source):
                    bar.set_postfix_str("reading (columnar)")
                    joined = read_cmedqa2(self.source)  # None: files the streaming reader must explain
                    if joined is None:
                        bar.set_postfix_str("")
                    else:
                        bar.update(total_bytes)
                if joined is not None and full:
                    records_in = write_full(joined, rules, pairs, writers.write_block, reject, pii,
                                            lambda name: bar.set_postfix_str(name))
                elif joined is not None:
                    records_in = write_minimal(joined, rules, pairs, writers.write_block, reject)
                if joined is not None:
                    if self.workers > 1:
                        log.info("prepare.workers=%d is not used: cMedQA2 (answers: all) runs as one columnar pass "
                                 "(docs/prepare_at_scale.md)", self.workers)
                    self.source.stats = joined.stats
                items = self.source.items(bar.update, self.on_bad_record)
                if self.limit is not None:
                    items = islice(items, self.limit)
                # the one ordered loop: decisions that depend on earlier records, and every write
                for chunk in self._chunks(items, rules) if joined is None else ():
                    pii.update(chunk.pii)
                    if near is not None and chunk.signatures is not None:
                        near.begin_chunk(chunk.signatures, chunk.band_keys)  # candidates found for all rows at once
                    for record in chunk.records:
                        records_in += 1
                        item = record.item
                        if item.where != last_where:
                            rows_seen, last_where = rows_seen + 1, item.where
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
                            reject("contaminated", item.where, f"shares a {self.contamination.ngram}-gram with eval "
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
        if records_in != records_out + sum(rejected.values()):
            raise RuntimeError(f"prepare lost records: read {records_in}, wrote {records_out}, "
                               f"rejected {sum(rejected.values())}")
        held = getattr(self.source, "rows_held", None)
        # The source's own reader counts the rows its files hold; every one must have produced an example or a
        # reject (a reader that skips a row silently fails here, whatever its items add up to).
        if held is not None and self.limit is None and joined is None and rows_seen != held:
            raise RuntimeError(f"prepare lost rows: the source files hold {held} data rows, only {rows_seen} "
                               "produced an example or a reject")
        if records_out == 0:
            log.warning("prepare kept no records: every record was rejected (see rejects.jsonl)")
        artifacts = {name: f"{name}.jsonl" for name in outputs}
        if self.save_hf_dataset and records_out:
            self._save_hf_dataset(out, writers)
            artifacts["hf_dataset"] = "hf_dataset"
        seconds = time.time() - started
        card = self._data_card(writers, records_in, records_out, rejected, pii, pairs, seconds)
        write_json_atomic(out / "data_card.json", card)
        write_text_atomic(out / "data_card.md", render_data_card(card))
        artifacts.update(data_card="data_card.json", data_card_md="data_card.md")
        self._track(ctx, card, writers)
        log.info("prepare: %d records in, %d out, %d rejected (%s) in %.1fs", records_in, records_out,
                 sum(rejected.values()), dict(rejected), seconds)
        return artifacts

    def _chunks(self, items: Iterator[Item], rules: RecordRules) -> Iterator[Chunk]:
        """The per-record work on chunks of `batch_size` records, in order: inline, or in `workers` processes.

        At most 2 x workers chunks are in flight, so reading never runs ahead of writing by more than that.
        """
        batches = iter(lambda: list(islice(items, self.batch_size)), [])
        if self.workers == 1:
            processor = RecordProcessor(rules)
            yield from map(processor, batches)
            return
        import multiprocessing

        # spawn, not fork: the parent may hold threads (progress bar, MLflow) that a forked child would inherit
        with multiprocessing.get_context("spawn").Pool(self.workers, init_worker, (rules,)) as pool:
            pending: deque = deque()
            for batch in batches:
                pending.append(pool.apply_async(process_in_worker, (batch,)))
                if len(pending) >= 2 * self.workers:
                    yield pending.popleft().get()
            while pending:
                yield pending.popleft().get()

    def _save_hf_dataset(self, out: Path, writers: _JsonlWriters) -> None:
        import datasets

        files = {s: str(writers.paths[s]) for s in SPLITS if writers.counts[s]}
        cache = out / ".hf_cache"
        try:
            dataset = datasets.load_dataset("json", data_files=files, cache_dir=str(cache))
            dataset.save_to_disk(str(out / "hf_dataset"))
        finally:
            shutil.rmtree(cache, ignore_errors=True)

    def _data_card(self, writers: _JsonlWriters, records_in: int, records_out: int, rejected: Counter,
                   pii: Counter, pairs: PreferencePairBuilder, seconds: float) -> dict[str, Any]:
        pair_kinds = {"generic": pairs.generic_pairs, "safety": pairs.safety_pairs_written}
        return {
            "records_in": records_in,
            "records_out": records_out,
            "rejected_total": sum(rejected.values()),
            "rejected": dict(sorted(rejected.items())),
            "splits": {s: writers.counts[s] for s in SPLITS},
            "pii_scrubbed": dict(sorted(pii.items())),
            "preference_pairs": dict(pair_kinds),
            "corpus_documents": writers.counts["corpus"],
            "limit": self.limit,
            "profile": self.profile,
            "workers": self.workers,
            "source": {
                "type": type(self.source).__name__,
                "files": {str(p): {"encoding": self.source.encodings().get(str(p)), "bytes": p.stat().st_size,
                                   "sha256": sha256_file(p)} for p in self.source.files()},
                "stats": getattr(self.source, "stats", {}),
            },
            "outputs": {n: {"records": writers.counts[n], "sha256": writers.sha256(n)} for n in writers.paths},
            "seconds": round(seconds, 3),
            "records_per_second": round(records_in / seconds, 1) if seconds else None,
        }

    def _track(self, ctx: StageContext, card: dict[str, Any], writers: _JsonlWriters) -> None:
        tracker = ctx.tracker
        metrics = {"records_in": card["records_in"], "records_out": card["records_out"],
                   "rejected_total": card["rejected_total"], "corpus_documents": card["corpus_documents"],
                   "records_per_second": card["records_per_second"] or 0.0}
        metrics.update({f"rejected.{k}": v for k, v in card["rejected"].items()})
        metrics.update({f"pii.{k}": v for k, v in card["pii_scrubbed"].items()})
        metrics.update({f"split.{k}": v for k, v in card["splits"].items()})
        metrics.update({f"pairs.{k}": v for k, v in card["preference_pairs"].items()})
        tracker.log_metrics(metrics)
        tracker.set_tags({f"encoding.{Path(p).name}": f["encoding"] for p, f in card["source"]["files"].items()})
        for name in (*SPLITS, "preference_pairs", "corpus"):
            if writers.counts[name]:
                context = {"preference_pairs": "training", "corpus": "retrieval"}.get(name, name)
                tracker.log_dataset(writers.paths[name], name, context, card["outputs"][name]["sha256"])
        tracker.log_artifact(ctx.output_dir / "data_card.json")
        tracker.log_artifact(ctx.output_dir / "data_card.md")


def render_data_card(card: dict[str, Any]) -> str:
    lines = ["# Data card", "", f"- records in: {card['records_in']}", f"- records out: {card['records_out']}",
             f"- rejected: {card['rejected_total']}"]
    lines += [f"  - {reason}: {count}" for reason, count in card["rejected"].items()]
    lines += ["", "## Splits", ""] + [f"- {s}: {n}" for s, n in card["splits"].items()]
    lines += ["", "## PII scrubbed", ""] + ([f"- {k}: {n}" for k, n in card["pii_scrubbed"].items()] or ["- none found"])
    lines += ["", "## Preference pairs", ""] + [f"- {k}: {n}" for k, n in card["preference_pairs"].items()]
    lines += ["", "## Source files", "", "| file | encoding | bytes | sha256 |", "|---|---|---|---|"]
    lines += [f"| {p} | {f['encoding']} | {f['bytes']} | {f['sha256'][:16]}… |" for p, f in card["source"]["files"].items()]
    lines += ["", "## Outputs", "", "| output | records | sha256 |", "|---|---|---|"]
    lines += [f"| {n} | {o['records']} | {o['sha256'][:16]}… |" for n, o in card["outputs"].items()]
    return "\n".join(lines) + "\n"

"""The `prepare` stage: raw QA files -> cleaned ChatML splits, preference pairs, a retrieval corpus, a data card.

read -> clean -> scrub PII -> length filters -> exact dedup -> contamination and near-duplicate checks -> split by
a seeded hash of the question -> write. Every source yields Arrow record batches (`batches.py`, `sources.py`) and
one batch pipeline (`columnar.py`) does the rest, column by column. Every record read is written or rejected with
its reason, and the stage refuses to finish if the counts do not add up.
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
from typing import Any, Iterator, Literal, Mapping

import orjson
from tqdm.auto import tqdm

from medq.artifacts import sha256_file, write_json_atomic, write_text_atomic
from medq.config import as_dataclass
from medq.errors import ConfigError
from medq.jsonl import read_jsonl
from medq.prepare.cleaning import CleaningRules
from medq.prepare.batches import Untrusted
from medq.prepare.columnar import BatchPipeline, Profile, RecordRules
from medq.prepare.dedup import ContaminationRules, DedupRules
from medq.prepare.preferences import PreferencePairBuilder, PreferenceRules
from medq.prepare.ray_engine import RayOptions  # noqa: F401 - ray itself is imported only for engine=ray
from medq.prepare.sources import OnBadRecord
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

    def write_file(self, name: str, path: Path, lines: int, held: int) -> None:
        """The first `lines` of the `held` lines of a file (a Ray actor's part of this output), read a block at
        a time."""
        self._flush(name)
        whole, left = lines == held, lines
        with open(path, "rb") as handle:
            while (whole or left) and (data := handle.read(8 << 20)):
                if not whole:  # find the cut
                    found = data.count(b"\n")
                    if found > left:
                        end = -1
                        for _ in range(left):
                            end = data.index(b"\n", end + 1)
                        data, found = data[:end + 1], left
                    left -= found
                self._write(name, data)
        self.counts[name] += lines

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
                 batch_size: int = 65536, progress: bool = True, profile: Profile = "full",
                 engine: Literal["local", "ray"] = "local", ray: RayOptions | None = None):
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
        self.engine = engine
        self.ray = as_dataclass(RayOptions, ray)
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
        pairs = PreferencePairBuilder(self.preferences if full else PreferenceRules(enabled=False),
                                      self.system_prompt, ctx.seed)
        outputs = [*SPLITS, "corpus", "preference_pairs", "rejects"] if full else [*SPLITS, "rejects"]

        total_bytes = sum(p.stat().st_size for p in self.source.files())
        with tqdm(total=total_bytes, unit="B", unit_scale=True, desc="prepare", disable=not self.progress,
                  mininterval=0.5) as bar:
            bar.set_postfix_str("reading")
            cluster = None
            if self.engine == "ray":
                from medq.prepare.ray_engine import RayEngine

                cluster = RayEngine(rules, pairs, self.source, self.batch_size, self.ray)
            try:
                pipeline = self._read(rules, pairs, out, bar, cluster)
                try:
                    writers = _JsonlWriters(out, outputs)
                except BaseException:
                    pipeline.close()
                    raise
                try:
                    pipeline.write(writers.write_block, bar.set_postfix_str,
                                   render=cluster.writer(pipeline, writers) if cluster is not None else None,
                                   near_partitions=cluster.near_pairs if cluster is not None else None)
                    for pair in pairs.safety_pairs():
                        writers.write("preference_pairs", pair)
                finally:
                    pipeline.close()
                    writers.close()
            finally:
                if cluster is not None:
                    cluster.close()
        records_in, pii, rejected = pipeline.rows, pipeline.pii, pipeline.rejected

        records_out = sum(writers.counts[s] for s in SPLITS)
        if records_in != records_out + sum(rejected.values()):
            raise RuntimeError(f"prepare lost records: read {records_in}, wrote {records_out}, "
                               f"rejected {sum(rejected.values())}")
        held = getattr(self.source, "rows_held", None)
        # The source's own reader counts the rows its files hold; every one must have produced an example or a
        # reject (a reader that skips a row silently fails here, whatever its items add up to).
        if held is not None and self.limit is None and pipeline.rows_seen != held:
            raise RuntimeError(f"prepare lost rows: the source files hold {held} data rows, only "
                               f"{pipeline.rows_seen} produced an example or a reject")
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

    def _read(self, rules: RecordRules, pairs: PreferencePairBuilder, out: Path, bar: Any,
              cluster: Any = None) -> BatchPipeline:
        """Pass 1 over the source's batches (up to `limit` items). The fast reader is tried first; where it cannot
        vouch for the careful reader's rows and line numbers (`Untrusted`), pass 1 starts again with the careful
        reader, which names the file and line of every problem. With `engine=ray` the cluster's actors do pass 1
        (`ray_engine.RayEngine`): they read a source that can be cut into ranges themselves."""
        for careful in (False, True):
            pipeline = BatchPipeline(rules, pairs, out)
            try:
                if cluster is not None and not careful and self.limit is None and hasattr(self.source, "split_plan"):
                    cluster.read(self.source, pipeline, bar.update)
                else:
                    batches = self._limited(self.source.batches(self.batch_size, self.on_bad_record,
                                                                careful=careful, on_bytes=bar.update,
                                                                work_dir=pipeline.spill_dir))
                    if cluster is not None:
                        for done in cluster.batches(batches):
                            pipeline.absorb(done)
                    else:
                        for batch in batches:
                            pipeline.add(batch)
            except Untrusted:
                pipeline.close()
                bar.reset()
                log.info("prepare: %s: the fast reader cannot vouch for its rows or line numbers; reading carefully",
                         ", ".join(p.name for p in self.source.files()))
                continue
            except BaseException:
                pipeline.close()
                raise
            return pipeline
        raise AssertionError("the careful reader does not give up")

    def _limited(self, batches: Iterator[Any]) -> Iterator[Any]:
        """The source's batches up to `limit` items. At the limit the reader is not asked for more (it never
        finishes), and its statistics, which are of whole files, are not reported."""
        taken = 0
        for batch in batches:
            if self.limit is not None and taken + batch.num_rows >= self.limit:
                yield batch.slice(0, self.limit - taken)
                self.source.stats = {}
                return
            taken += batch.num_rows
            yield batch

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
            "engine": self.engine,
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

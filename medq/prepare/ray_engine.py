"""`prepare.engine=ray`: pass 1 (reading and the per-row work, `BatchWork`) on the actors of a Ray cluster.

A pool of `prepare.ray.workers` actors (one CPU each, spread over the nodes) is started when the stage starts. A
source that can be cut into byte ranges of whole rows (`split_plan`: JSONL, CSV, the synthetic dialogue CSV) is read
by the actors themselves, a range each: the driver only scans the file once for the cuts and the line count before
each cut (`batches.line_splits`), so every row keeps its `file:line`. Each actor reads its range with the source's
fast reader, runs `BatchWork` on its batches and returns them; the driver takes the results in range order into the
same `BatchPipeline` as the local engine, decides the duplicates and writes. A source that cannot be cut (cMedQA2's
join and `answers: first` need the rows in order; a `limit`; the careful reader) is read by the driver and only
`BatchWork` runs on the actors. Either way the records, ids, splits, rejects and data card are the local engine's
(`tests/prepare/test_ray_engine.py` compares them on a two-node cluster).

Every node reads the source's files at the driver's path (a shared volume on a real cluster). At most `window`
results wait in the object store; an actor that finds it cannot vouch for its range raises `Untrusted`, and the
stage reads the source again carefully, as the local engine does.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import pyarrow as pa

from medq.prepare.batches import Split, Untrusted
from medq.prepare.dedup import NearPartitions
from medq.prepare.columnar import (BatchPipeline, BatchWork, RecordRules, Segment, decision_columns, render_segment,
                                   spill_columns)


@dataclass
class RayOptions:
    address: str | None = None  # a running cluster (`ray start --head`), e.g. 127.0.0.1:6379; null: start one here
    workers: int = 2             # actors doing pass 1 (each holds one CPU)
    window: int = 8              # results waiting in the object store at most (ranges or batches)
    split_mb: float = 16         # MB of the source file per range an actor reads
    # the workers import medq from this process's checkout (PYTHONPATH in the job's runtime environment); null:
    # only where the interpreter without PYTHONPATH would import medq from elsewhere. Without it Ray can give the
    # actors its prestarted worker processes (about a second sooner each)
    ship_pythonpath: bool | None = None


def _medq_root() -> str:
    import medq

    return str(Path(medq.__file__).resolve().parents[1])


def _imported_from_elsewhere() -> bool:
    """Whether this interpreter, started without PYTHONPATH (as Ray starts its workers), would find another medq
    than the one imported here (a checkout on PYTHONPATH or the working directory, not the installed package)."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    found = subprocess.run([sys.executable, "-c", "import importlib.util as u; s = u.find_spec('medq'); "
                            "print(s.origin if s else '')"], capture_output=True, text=True, env=env, cwd="/")
    origin = found.stdout.strip()
    return not origin or str(Path(origin).resolve().parents[1]) != _medq_root()


def _values(lines: pa.Array) -> memoryview:
    """The bytes of a binary array of whole lines, as one view of its values buffer."""
    _, offsets, values = lines.buffers()
    bounds = np.frombuffer(offsets, dtype=np.int32)[lines.offset:lines.offset + len(lines) + 1]
    return memoryview(values)[bounds[0]:bounds[-1]]


class _Worker:
    """One actor: pass 1 of a byte range (the source's fast reader and `BatchWork`) or of a batch, the pairs of a
    near-duplicate partition (`NearPartitions.pairs`), and pass 2 of a spill file (`render_segment`)."""

    def __init__(self, rules: RecordRules, pairs: Any, source: Any, batch_rows: int):
        self.rules, self.pairs = rules, pairs
        self.work, self.source, self.batch_rows = BatchWork(rules), source, batch_rows

    def work_batch(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        return self.work(batch)

    def read_split(self, split: Split, context: Any, spill_path: str) -> tuple[list[pa.RecordBatch], int]:
        """Pass 1 of one range: the texts go to `spill_path`, the decision columns come back; and the data
        rows the range held."""
        decisions, spill, batches = [], None, self.source.split_batches(split, context, self.batch_rows)
        try:
            while True:
                try:
                    batch = next(batches)
                except StopIteration as end:
                    return decisions, end.value
                if not batch.num_rows:
                    continue
                done = self.work(batch)
                texts = spill_columns(done)
                if spill is None:
                    spill = pa.ipc.new_file(spill_path, texts.schema)
                spill.write_batch(texts)
                decisions.append(decision_columns(done))
                pa.default_memory_pool().release_unused()
        finally:
            if spill is not None:
                spill.close()

    def near_pairs(self, partitions: NearPartitions, partition: int, active: np.ndarray
                   ) -> tuple[int, np.ndarray | None]:
        """The verified near-duplicate pairs of one band-key partition (`NearPartitions.pairs`)."""
        return partitions.pairs(partition, active)

    def render(self, segment: Segment, prefix: str) -> tuple[Counter, list[tuple[str, str, int]]]:
        """Pass 2 of one spill file: its lines go to a file per output (`prefix.NAME`); returns the rejects by
        reason and (output, file, lines) of each."""
        handles: dict[str, Any] = {}
        counts: Counter = Counter()

        def emit(name: str, lines: pa.Array, count: int) -> None:
            if name not in handles:
                handles[name] = open(f"{prefix}.{name}", "wb")
            handles[name].write(_values(lines))
            counts[name] += count

        try:
            rejected = render_segment(self.rules, self.pairs, segment, emit)
        finally:
            for handle in handles.values():
                handle.close()
        return rejected, [(name, f"{prefix}.{name}", counts[name]) for name in handles]


class RayEngine:
    """The actors of one stage run (`close` ends them)."""

    def __init__(self, rules: RecordRules, pairs: Any, source: Any, batch_rows: int, options: RayOptions):
        import ray

        self.ray, self.options = ray, options
        if not ray.is_initialized():
            ship = options.ship_pythonpath if options.ship_pythonpath is not None else _imported_from_elsewhere()
            ray.init(address=options.address, log_to_driver=False, include_dashboard=False,
                     runtime_env={"env_vars": {"PYTHONPATH": _medq_root()}} if ship else None,
                     configure_logging=False)
        actor = ray.remote(num_cpus=1, scheduling_strategy="SPREAD")(_Worker)
        # started now, so their processes come up while the driver plans the ranges
        self.actors = [actor.remote(rules, pairs, source, batch_rows) for _ in range(max(1, options.workers))]

    def _ordered(self, calls: Iterator[tuple[str, tuple]]) -> Iterator[Any]:
        """Results of the actors' calls (`calls` yields a `_Worker` method's name and its arguments), in order,
        `window` at a time."""
        pending: deque = deque()
        window = max(self.options.window, len(self.actors))
        try:
            for index, (name, args) in enumerate(calls):
                pending.append(getattr(self.actors[index % len(self.actors)], name).remote(*args))
                if len(pending) >= window:
                    yield self._get(pending.popleft())
            while pending:
                yield self._get(pending.popleft())
        finally:
            if pending:  # a range gave up: the calls under way finish (at most `window`) before the stage
                # removes the folder they write in (a running actor call cannot be cancelled)
                self.ray.wait(list(pending), num_returns=len(pending))

    def _get(self, ref: Any) -> Any:
        try:
            return self.ray.get(ref)
        except self.ray.exceptions.RayTaskError as error:
            cause = getattr(error, "cause", None)
            if isinstance(cause, Untrusted):
                raise Untrusted from None
            if isinstance(cause, Exception):
                raise cause from None  # InputDataError and the like, as the local engine raises them
            raise

    def batches(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        """`BatchWork` of each batch read here, in order."""
        yield from self._ordered(("work_batch", (batch,)) for batch in batches if batch.num_rows)

    def read(self, source: Any, pipeline: BatchPipeline, on_bytes: Any = None) -> None:
        """Pass 1 of the source's ranges on the actors, absorbed by `pipeline` in file order; the source's
        statistics are set when the last range is in."""
        plan = source.split_plan(max(1, int(self.options.split_mb * (1 << 20))))
        rows = 0
        spill = [str(pipeline.spill_dir / f"range-{split.index:06d}.arrow") for split in plan.splits]
        for split, (decisions, held) in zip(plan.splits, self._ordered(
                ("read_split", (split, plan.context, spill[split.index])) for split in plan.splits)):
            rows += held
            for batch in decisions:
                pipeline.absorb(batch, spilled=spill[split.index])
            if on_bytes is not None:
                on_bytes(split.end - split.start)
        source.splits_read(plan, rows)

    def near_pairs(self, partitions: NearPartitions, active: np.ndarray) -> Iterator[tuple[int, np.ndarray | None]]:
        """The shuffle of near duplicates: each band-key partition goes to an actor, which sorts it, pairs the
        texts of its runs of equal keys and verifies the pairs against the signatures (`NearPartitions.pairs`);
        the verified pairs come back, in partition order, for the driver's decision in text order."""
        shared = self.ray.put(active)  # once, not once per call
        yield from self._ordered(("near_pairs", (partitions, partition, shared))
                                 for partition in range(partitions.partitions))

    def writer(self, pipeline: BatchPipeline, writers: Any) -> Callable[[Iterator[Segment]], Iterator[Counter]]:
        """Pass 2 on the actors, a spill file each; the driver appends their files to the outputs in order
        (generic preference pairs up to `max_pairs`)."""
        pairs = pipeline.pairs

        def render(segments: Iterator[Segment]) -> Iterator[Counter]:
            calls = (("render", (segment, str(pipeline.spill_dir / f"out-{index:06d}")))
                     for index, segment in enumerate(segments))
            for rejected, parts in self._ordered(calls):
                for name, path, count in parts:
                    keep = count
                    if name == "preference_pairs":
                        if pairs.rules.max_pairs is not None:
                            keep = min(count, max(0, pairs.rules.max_pairs - pairs.generic_pairs))
                        pairs.generic_pairs += keep
                    writers.write_file(name, Path(path), keep, count)
                    Path(path).unlink()
                yield rejected
        return render

    def close(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor)

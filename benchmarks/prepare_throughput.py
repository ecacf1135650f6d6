"""Throughput and peak memory of the `prepare` stage on a cMedQA2-scale input, beside a plain pandas baseline.

Run from the repository root:

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/prepare_throughput.py --questions 108000
    ... --profile minimal --no-hf-dataset      # the seed-equivalent job: join, drop empties, ChatML

What it does, in one process:
  0. writes a synthetic cMedQA2 input (questions.csv + answers.csv) with `medq.prepare.synthetic.write_cmedqa2`,
     1-3 answers per question (the real cMedQA2 has ~108k questions / ~203k answers; 1-3 gives ~2 per question,
     the closest the generator gets). Timed on its own; part of neither measurement.
  1. medq: a full `PrepareStage.run` with the settings of conf/prepare/default.yaml (cleaning, PII scrubbing,
     exact + near dedup, splits, preference pairs, corpus, and the HF `datasets` export unless --no-hf-dataset),
     source swapped for `CMedQA2Source(answers="all")`, no progress bar, no MLflow logging inside the stage;
     --profile / --batch-size set prepare.profile / batch_size.
     The HF export is timed separately by wrapping the stage's `_save_hf_dataset`, so one run gives both the
     figures without the export (up to the moment it starts) and with it.
  2. pandas baseline: `pd.read_csv` of both files + `merge` on question_id. Nothing else.
  3. with --profile minimal, also the same job written by hand with pandas (`run_pandas_job`: read, merge, drop
     empty texts, seeded split by question, ChatML JSONL through json.dumps; no ids, rejects, data card or
     hashes): what the minimal profile replaces, as opposed to the read+merge floor of 2.
medq runs first (use --pandas-first to swap); gc.collect() between phases. Library imports (pandas, datasets)
happen before either measurement. records = answer rows = joined examples. Memory: a thread samples RSS every
20 ms; "peak +RSS" is the peak over the RSS just before the phase, "peak RSS" the absolute peak during it.
"CPU s" is this process's user + system time in the phase and "rec/CPU s" records per CPU second: on a shared
machine wall-clock rates fall with the load, CPU rates much less (the load average is printed and logged). The
columnar pass decides near duplicates and writes in two more threads, so its CPU s can exceed its seconds.
Each run writes into an emptied <work-dir>/prepare (an earlier run's files would be truncated inside the timing).
--compare-outputs DIR checks the output bytes against a kept run (e.g. of main: run it with --work-dir, copy
<work-dir>/prepare/*.jsonl to DIR).
Figures are printed and logged to MLflow (experiment `benchmarks`, run `prepare_throughput`).
"""

from __future__ import annotations

import argparse
import filecmp
import gc
import json
import os
import platform
import shutil
import tempfile
import threading
import time
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import psutil
from omegaconf import OmegaConf

import medq
from medq.prepare.sources import CMedQA2Source
from medq.prepare.stage import PrepareStage
from medq.prepare.synthetic import write_cmedqa2
from medq.runner import StageContext
from medq.tracking import MlflowTracker, StageTracker

MB = 1024 * 1024
DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "conf" / "prepare" / "default.yaml"


class PeakRss:
    """Samples this process's RSS every `interval` seconds while the block runs."""

    def __init__(self, interval: float = 0.02):
        self.interval, self.process = interval, psutil.Process()
        self.peak = self.before = 0

    def sample(self) -> int:
        rss = self.process.memory_info().rss
        self.peak = max(self.peak, rss)
        return rss

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def _cpu(self) -> float:
        times = self.process.cpu_times()
        return times.user + times.system

    def __enter__(self) -> PeakRss:
        gc.collect()
        self.before = self.peak = self.process.memory_info().rss
        self.cpu_started = self._cpu()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started
        self.cpu_seconds = self._cpu() - self.cpu_started
        self._stop.set()
        self._thread.join()
        self.sample()


def figures(seconds: float, records: int, before: int, peak: int, cpu_seconds: float | None = None) -> dict[str, float]:
    result = {"seconds": round(seconds, 3), "records_per_s": round(records / seconds, 1),
              "peak_rss_increase_mb": round((peak - before) / MB, 1), "peak_rss_mb": round(peak / MB, 1)}
    if cpu_seconds:  # this process's user + system time: what the work costs, whatever else the machine runs
        result.update(cpu_seconds=round(cpu_seconds, 3), records_per_cpu_s=round(records / cpu_seconds, 1))
    return result


def run_pandas(questions: Path, answers: Path) -> tuple[dict[str, float], int]:
    with PeakRss() as mem:
        merged = pd.read_csv(answers).merge(pd.read_csv(questions), on="question_id", suffixes=("_a", "_q"))
        rows = len(merged)
    del merged
    return figures(mem.seconds, rows, mem.before, mem.peak, mem.cpu_seconds), rows


def run_pandas_job(questions: Path, answers: Path, out: Path, system_prompt: str, seed: int) -> dict[str, float]:
    """The minimal job as one would write it by hand with pandas: read, merge, drop empty texts, split by
    question (seeded), one ChatML JSONL line per record (json.dumps). No rejects file, ids, data card or hashes."""
    out.mkdir(parents=True, exist_ok=True)
    with PeakRss() as mem:
        merged = pd.read_csv(answers, dtype=str, keep_default_na=False).merge(
            pd.read_csv(questions, dtype=str, keep_default_na=False), on="question_id", suffixes=("_a", "_q"))
        merged = merged[(merged.content_q.str.strip() != "") & (merged.content_a.str.strip() != "")]
        ids = merged.question_id.unique()
        shuffled = pd.Series(ids).sample(frac=1.0, random_state=seed).tolist()
        cut = [int(len(ids) * 0.9), int(len(ids) * 0.95)]
        split_of = dict.fromkeys(shuffled[:cut[0]], "train") | dict.fromkeys(shuffled[cut[0]:cut[1]], "validation") \
            | dict.fromkeys(shuffled[cut[1]:], "test")
        system = [{"role": "system", "content": system_prompt}] if system_prompt else []
        handles = {name: open(out / f"{name}.jsonl", "w", encoding="utf-8") for name in ("train", "validation", "test")}
        try:
            for qid, aid, prompt, response in zip(merged.question_id, merged.ans_id, merged.content_q,
                                                  merged.content_a):
                record = {"messages": [*system, {"role": "user", "content": prompt},
                                       {"role": "assistant", "content": response}],
                          "metadata": {"question_id": qid, "answer_id": aid}}
                handles[split_of[qid]].write(json.dumps(record, ensure_ascii=False) + "\n")
        finally:
            for handle in handles.values():
                handle.close()
        rows = len(merged)
    del merged
    return figures(mem.seconds, rows, mem.before, mem.peak, mem.cpu_seconds)


def run_medq(questions: Path, answers: Path, out: Path, hf: bool, records: int,
             settings: dict[str, object]) -> dict[str, dict[str, float]]:
    config = OmegaConf.to_container(OmegaConf.load(DEFAULT_CONFIG))
    for key in ("defaults", "_target_", "progress", "save_hf_dataset"):
        config.pop(key, None)
    config.update(settings)
    stage = PrepareStage(source=CMedQA2Source(str(questions), str(answers), answers="all"),
                         progress=False, save_hf_dataset=hf, **config)
    shutil.rmtree(out, ignore_errors=True)  # a run writes into a fresh folder (the runner's staging folder); an
    out.mkdir(parents=True)                 # earlier run's files would make the stage time their truncation
    ctx = StageContext(stage="prepare", output_dir=out, inputs={}, tracker=StageTracker(None, None), seed=0)
    mark: dict[str, float] = {}
    export = stage._save_hf_dataset

    def timed_export(*args, **kwargs):  # split the run at the start of the HF export
        mark["start"], mark["peak_before"] = time.perf_counter(), max(mem.peak, mem.sample())
        export(*args, **kwargs)
        mark["seconds"] = time.perf_counter() - mark["start"]

    stage._save_hf_dataset = timed_export
    with PeakRss() as mem:
        stage.run(ctx)
    card = json.loads((out / "data_card.json").read_text(encoding="utf-8"))
    results = {"medq": figures(mem.seconds, records, mem.before, mem.peak, mem.cpu_seconds)}
    if "start" in mark:
        no_hf_seconds = mem.seconds - mark["seconds"]  # the data card and its hashing happen after the export
        results["medq_no_hf"] = figures(no_hf_seconds, records, mem.before, mark["peak_before"])
        results["hf_export"] = {"seconds": round(mark["seconds"], 3)}
    results["card"] = {k: card[k] for k in ("records_in", "records_out", "rejected_total", "corpus_documents")}
    results["card"].update({f"rejected.{k}": v for k, v in card["rejected"].items()})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=108_000)
    parser.add_argument("--work-dir", type=Path, help="keep inputs and outputs here (default: a temp dir, removed)")
    parser.add_argument("--tracking-uri", default=f"sqlite:///{Path.cwd() / 'mlruns' / 'mlflow.db'}")
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument("--hf-dataset", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--pandas-first", action="store_true", help="run the pandas baseline before medq")
    parser.add_argument("--profile", choices=["full", "minimal"], default="full", help="prepare.profile")
    parser.add_argument("--batch-size", type=int, default=65536, help="prepare.batch_size")
    parser.add_argument("--compare-outputs", type=Path, metavar="DIR",
                        help="check that every *.jsonl in DIR (e.g. kept from a run of another commit with the same "
                             "--work-dir input) is byte-identical to this run's output; exit 1 if not")
    args = parser.parse_args()
    settings = {"profile": args.profile, "batch_size": args.batch_size}
    if args.hf_dataset:
        import datasets  # noqa: F401  (imported up front, like pandas: no library import is measured)

    work = args.work_dir or Path(tempfile.mkdtemp(prefix="medq-bench-"))
    identical = None
    try:
        started = time.perf_counter()
        inputs = work / f"input-q{args.questions}"  # kept in --work-dir: reruns measure the same files
        questions, answers = inputs / "questions.csv", inputs / "answers.csv"
        if not (questions.is_file() and answers.is_file()):
            questions, answers = write_cmedqa2(inputs, args.questions, seed=0, answers_per_question=(1, 3))
        generate_s = time.perf_counter() - started
        n_answers = sum(len(chunk) for chunk in pd.read_csv(answers, usecols=["ans_id"], chunksize=100_000))
        print(f"input: {args.questions} questions, {n_answers} answers "
              f"({(questions.stat().st_size + answers.stat().st_size) / MB:.1f} MB), generated in {generate_s:.1f}s")

        load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())  # the machine may be shared: say how busy it was
        phases = ["pandas", "medq"] if args.pandas_first else ["medq", "pandas"]
        results: dict[str, dict[str, float]] = {}
        for phase in phases:
            gc.collect()
            if phase == "pandas":
                results["pandas"], joined = run_pandas(questions, answers)
                assert joined == n_answers, f"pandas joined {joined} rows, expected {n_answers}"
                if args.profile == "minimal":
                    gc.collect()
                    system_prompt = OmegaConf.load(DEFAULT_CONFIG).get("system_prompt", "")
                    results["pandas_job"] = run_pandas_job(questions, answers, work / "pandas_job", system_prompt, 0)
            else:
                results.update(run_medq(questions, answers, work / "prepare", args.hf_dataset, n_answers, settings))
        card = results.pop("card")
        hf_export = results.pop("hf_export", None)

        print(f"order: {' then '.join(phases)} (same process); records = {n_answers} answer rows; "
              f"prepare: profile={args.profile} batch_size={args.batch_size}")
        load_after = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"load average before: {load_before}; after: {load_after}")
        print(f"{'':24}{'seconds':>10}{'records/s':>12}{'CPU s':>8}{'rec/CPU s':>11}{'peak +RSS MB':>14}"
              f"{'peak RSS MB':>13}")
        labels = {"medq": "medq prepare" + (" (+HF export)" if args.hf_dataset else ""),
                  "medq_no_hf": "medq prepare (no HF)", "pandas": "pandas read+merge",
                  "pandas_job": "pandas same job"}
        for name, f in results.items():
            cpu = f"{f['cpu_seconds']:>8.2f}{f['records_per_cpu_s']:>11,.0f}" if "cpu_seconds" in f else " " * 19
            print(f"{labels[name]:24}{f['seconds']:>10.2f}{f['records_per_s']:>12,.0f}{cpu}"
                  f"{f['peak_rss_increase_mb']:>14.1f}{f['peak_rss_mb']:>13.1f}")
        if hf_export:
            print(f"HF datasets export alone: {hf_export['seconds']:.2f}s")
        ratios = {f"ratio.{k}_over_pandas": results[k]["records_per_s"] / results["pandas"]["records_per_s"]
                  for k in results if not k.startswith("pandas")}
        if "pandas_job" in results:
            ratios["ratio.medq_over_pandas_job"] = (results["medq"]["records_per_s"]
                                                    / results["pandas_job"]["records_per_s"])
        for key, value in ratios.items():
            verdict = f"{value:.2f}x faster" if value >= 1 else f"{1 / value:.0f}x slower"
            baseline = "the same job in pandas" if key.endswith("pandas_job") else "pandas read+merge"
            print(f"{key} (records/s): {value:.4f}  (medq is {verdict} than {baseline})")
        print("data card:", json.dumps(card, ensure_ascii=False))
        if args.compare_outputs:
            differ = [p.name for p in sorted(args.compare_outputs.glob("*.jsonl"))
                      if not filecmp.cmp(p, work / "prepare" / p.name, shallow=False)]
            identical = not differ and any(args.compare_outputs.glob("*.jsonl"))
            print(f"outputs vs {args.compare_outputs}: " + ("byte-identical" if identical else f"DIFFER: {differ}"))

        if not args.no_mlflow:
            params = {"questions": args.questions, "answers": n_answers, "answers_per_question": "1-3", **settings,
                      "order": ",".join(phases), "hf_dataset": args.hf_dataset, "cpu_count": os.cpu_count(),
                      "cpu_count_physical": psutil.cpu_count(logical=False), "python": platform.python_version(),
                      "platform": platform.platform(), "medq": medq.__version__,
                      "load_average_before": load_before,
                      "omp_num_threads": os.environ.get("OMP_NUM_THREADS", ""),
                      **{lib: version(lib) for lib in ("pandas", "numpy", "pyarrow", "datasets", "mlflow")}}
            store = args.tracking_uri.removeprefix("sqlite:///")  # artifacts beside a local SQLite store
            artifacts = str(Path(store).parent / "artifacts") if store != args.tracking_uri else None
            tracker = MlflowTracker(args.tracking_uri, "benchmarks", artifacts)
            with tracker.pipeline_run("prepare_throughput", params, {"benchmark": "prepare_throughput"}) as run:
                metrics = {f"{phase}.{k}": v for phase, f in results.items() for k, v in f.items()}
                metrics.update(ratios, generate_seconds=generate_s, **{f"card.{k}": v for k, v in card.items()})
                if hf_export:
                    metrics["hf_export.seconds"] = hf_export["seconds"]
                if identical is not None:
                    metrics["outputs_identical"] = float(identical)
                run.log_metrics(metrics)
                print(f"logged to MLflow run {run.run_id} ({args.tracking_uri}, experiment 'benchmarks')")
    finally:
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)
    if identical is False:
        raise SystemExit(1)


if __name__ == "__main__":
    main()

"""Throughput and peak memory of the `prepare` stage for each source kind, at N records, per engine.

Run from the repository root:

    OMP_NUM_THREADS=1 python benchmarks/prepare_throughput.py --records 1000000 5000000 \
        --kinds huatuo_jsonl jsonl cmedqa2 cmedqa2_first dialogue_csv --engines local --work-dir /tmp/pbench

(`--engines local ray --ray-address HOST:PORT` adds the Ray engine on a running cluster; `--ray-set KEY=VALUE ...`
sets `prepare.ray` options for it, e.g. `ship_pythonpath=false`.)

What it does:
  0. writes each kind's input at N records with a Huatuo-shaped generator (`generate`): questions and answers
     are made of sentence fragments of the project's synthetic medical dialogues (`medq.prepare.synthetic`),
     drawn at random, so texts rarely repeat by chance; 2% of the rows repeat an earlier one and 4% are near
     copies of one (the same question, one of the answer's 8 fragments changed). Huatuo JSONL lines hold two paraphrases and one answer
     (`paraphrases: first` makes each line 2 records: the example and the other paraphrase's reject, as in the
     issue's measurement); `jsonl` lines one prompt and one response; cMedQA2 two answers per question; the
     dialogue CSV is GBK, as published. Inputs are kept in --work-dir and reused. Not timed.
  1. runs the stage (`PrepareStage.run`, conf/prepare/default.yaml, no HF export, no progress bar) in a fresh
     Python process per run, so each run's memory is its own: "peak +RSS" is the peak RSS (sampled every 20 ms,
     and the kernel's high-water mark VmHWM) over the RSS after imports, before the stage runs; "CPU s" is the
     process's user + system time (for `ray`, the driver's only: the workers' CPU time is not counted, so
     compare the wall clock).
  2. prints a table, plots seconds and peak +RSS against N per kind and engine (--plot), and logs every figure,
     the load average before each run and the plot to MLflow (experiment `benchmarks`, run
     `prepare_throughput`). The machine may be shared: the load average is printed beside each run.
records = records read by the stage (its data card's records_in).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

MB = 1024 * 1024
ROOT = Path(__file__).resolve().parents[1]
KINDS = ("huatuo_jsonl", "jsonl", "cmedqa2", "cmedqa2_first", "dialogue_csv")
# records read per generated unit: a Huatuo line is 2 records (paraphrases: first), a cMedQA2 question 2 answers
PER_UNIT = {"huatuo_jsonl": 2, "jsonl": 1, "cmedqa2": 2, "cmedqa2_first": 2, "dialogue_csv": 1}


# -- the generator --------------------------------------------------------------------------------------------------

def _fragments(seed: int) -> tuple[list[str], list[str]]:
    """Sentence fragments (ending in their punctuation) of the synthetic dialogues' questions and answers."""
    import re

    from medq.prepare.synthetic import generate_questions

    asks, answers = set(), set()
    for qa in generate_questions(4000, seed, (1, 2)):
        asks.update(re.findall(r"[^，。？！]+[，。？！]?", qa.title + qa.ask))
        for answer in qa.answers:
            answers.update(re.findall(r"[^，。？！]+[，。？！]?", answer))
    return sorted(f for f in asks if len(f) > 2), sorted(f for f in answers if len(f) > 2)


def generate(units: int, seed: int = 0) -> tuple[list[str], list[str], list[str]]:
    """`units` (question, paraphrase, answer) triples: 3 question fragments (the paraphrase: the same, shuffled,
    one replaced) and 8 answer fragments each; 2% repeat an earlier triple, 4% copy an earlier answer with one
    fragment changed (the question kept)."""
    asks, answers = _fragments(seed)
    rng = np.random.default_rng(seed)
    q = rng.integers(0, len(asks), (units, 3))
    p = q[:, ::-1].copy()
    p[:, 0] = rng.integers(0, len(asks), units)
    a = rng.integers(0, len(answers), (units, 8))
    earlier = (rng.random(units) * np.arange(units)).astype(np.int64)
    repeat, near = rng.random(units) < 0.02, rng.random(units) < 0.04
    q[repeat], p[repeat], a[repeat] = q[earlier[repeat]], p[earlier[repeat]], a[earlier[repeat]]
    near &= ~repeat
    q[near], p[near], a[near] = q[earlier[near]], p[earlier[near]], a[earlier[near]]
    a[near, rng.integers(0, 8, int(near.sum()))] = rng.integers(0, len(answers), int(near.sum()))
    join = "".join
    return ([join([asks[i] for i in row]) for row in q.tolist()],
            [join([asks[i] for i in row]) for row in p.tolist()],
            [join([answers[i] for i in row]) for row in a.tolist()])


def write_inputs(kind: str, records: int, directory: Path) -> dict[str, str]:
    """The source config (the `_target_`'s arguments) of `kind` at `records` records, written under `directory`."""
    import orjson

    directory.mkdir(parents=True, exist_ok=True)
    units = max(1, records // PER_UNIT[kind])
    done = directory / f"{kind}-{records}.json"
    if done.is_file():
        return json.loads(done.read_text())
    questions, paraphrases, answers = generate(units)
    if kind == "huatuo_jsonl":
        path = directory / f"huatuo-{records}.jsonl"
        with open(path, "wb") as out:
            for block in range(0, units, 100_000):
                out.write(b"".join(orjson.dumps({"questions": [q, p], "answers": [a]}) + b"\n" for q, p, a in zip(
                    questions[block:block + 100_000], paraphrases[block:block + 100_000],
                    answers[block:block + 100_000])))
        source = {"kind": "huatuo_jsonl", "path": str(path)}
    elif kind == "jsonl":
        path = directory / f"plain-{records}.jsonl"
        with open(path, "wb") as out:
            for block in range(0, units, 100_000):
                out.write(b"".join(orjson.dumps({"prompt": q, "response": a}) + b"\n" for q, a in zip(
                    questions[block:block + 100_000], answers[block:block + 100_000])))
        source = {"kind": "jsonl", "path": str(path), "prompt_field": "prompt", "response_field": "response"}
    elif kind in ("cmedqa2", "cmedqa2_first"):
        folder = directory / f"cmedqa2-{records}"
        folder.mkdir(exist_ok=True)
        with open(folder / "questions.csv", "w", encoding="utf-8", newline="") as qf, \
                open(folder / "answers.csv", "w", encoding="utf-8", newline="") as af:
            qw, aw = csv.writer(qf, lineterminator="\n"), csv.writer(af, lineterminator="\n")
            qw.writerow(("question_id", "content"))
            aw.writerow(("ans_id", "question_id", "content"))
            qw.writerows((i, q) for i, q in enumerate(questions))
            aw.writerows((2 * i + k, i, (a, p)[k]) for i, (p, a) in enumerate(zip(paraphrases, answers)) for k in (0, 1))
        source = {"kind": "cmedqa2", "questions_path": str(folder / "questions.csv"),
                  "answers_path": str(folder / "answers.csv"), "answers": "first" if kind == "cmedqa2_first" else "all"}
    else:
        path = directory / f"dialogue-{records}.gbk.csv"
        departments = ["内科", "外科", "儿科", "妇产科", "皮肤科"]
        with open(path, "w", encoding="gbk", errors="replace", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(("department", "title", "ask", "answer"))
            writer.writerows((departments[i % 5], q[:8], q, a) for i, (q, a) in enumerate(zip(questions, answers)))
        source = {"kind": "dialogue_csv", "path": str(path)}
    done.write_text(json.dumps(source))
    return source


def make_source(spec: dict[str, str]):
    from medq.prepare.sources import CMedQA2Source, CsvSource, JsonlSource

    if spec["kind"] == "cmedqa2":
        from omegaconf import OmegaConf

        # the join's settings as conf/prepare/source/cmedqa2.yaml has them, or --cmedqa2-join-partition-mb
        conf = OmegaConf.to_container(OmegaConf.load(ROOT / "conf" / "prepare" / "source" / "cmedqa2.yaml"))
        join = {key: value for key, value in conf.items() if key.startswith("join_")}
        join.update(spec.get("join", {}))
        return CMedQA2Source(spec["questions_path"], spec["answers_path"], answers=spec["answers"], **join)
    if spec["kind"] == "dialogue_csv":
        return CsvSource(spec["path"], ["title", "ask"], "answer", ["department"])
    if spec["kind"] == "jsonl":
        return JsonlSource(spec["path"], prompt_field=spec["prompt_field"], response_field=spec["response_field"])
    return JsonlSource(spec["path"])


# -- one run, in its own process -------------------------------------------------------------------------------------

def child(spec: dict[str, str], engine: str, out: Path, ray_address: str | None,
          ray_settings: list[str] = ()) -> dict[str, float]:
    import psutil
    from omegaconf import OmegaConf

    from medq.prepare.stage import PrepareStage
    from medq.stage import StageContext
    from medq.tracking import StageTracker

    config = OmegaConf.to_container(OmegaConf.load(ROOT / "conf" / "prepare" / "default.yaml"))
    for key in ("defaults", "_target_", "progress", "save_hf_dataset"):
        config.pop(key, None)
    if engine != "local":
        config["engine"] = engine
        config["ray"] = {"address": ray_address,
                         **OmegaConf.to_container(OmegaConf.from_dotlist(list(ray_settings)))}
    stage = PrepareStage(source=make_source(spec), progress=False, save_hf_dataset=False, **config)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    process = psutil.Process()
    before = process.memory_info().rss
    peak = [before]
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.02):
            peak[0] = max(peak[0], process.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cpu = process.cpu_times()
    started = time.perf_counter()
    stage.run(StageContext("prepare", out, {}, StageTracker(None, None), 0))
    seconds = time.perf_counter() - started
    after = process.cpu_times()
    stop.set()
    sampler.join()
    # the kernel's high-water mark of this process's memory (VmHWM; ru_maxrss would also count the parent's
    # memory at the fork that started this process)
    status = Path("/proc/self/status").read_text() if Path("/proc/self/status").is_file() else ""
    hwm = [int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmHWM:")]
    maxrss = hwm[0] if hwm else 0
    card = json.loads((out / "data_card.json").read_text(encoding="utf-8"))
    cpu_seconds = (after.user - cpu.user) + (after.system - cpu.system)
    return {"records": card["records_in"], "records_out": card["records_out"], "seconds": round(seconds, 2),
            "records_per_s": round(card["records_in"] / seconds), "cpu_seconds": round(cpu_seconds, 2),
            "peak_rss_increase_mb": round((max(peak[0], maxrss) - before) / MB, 1),
            "near_duplicates": card["rejected"].get("near_duplicate", 0),
            "input_mb": round(sum(f["bytes"] for f in card["source"]["files"].values()) / MB, 1)}


def run_one(spec: dict[str, str], engine: str, out: Path, ray_address: str | None,
            ray_settings: list[str] = ()) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", json.dumps(spec), "--engines", engine, "--work-dir", str(out)]
    if ray_address:
        command += ["--ray-address", ray_address]
    if ray_settings:
        command += ["--ray-set", *ray_settings]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode:
        raise SystemExit(f"run failed ({engine}, {spec}):\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for (kind, engine) in sorted({(r["kind"], r["engine"]) for r in results}):
        rows = sorted((r for r in results if r["kind"] == kind and r["engine"] == engine), key=lambda r: r["records"])
        n = [r["records"] / 1e6 for r in rows]
        left.plot(n, [r["seconds"] for r in rows], marker="o", label=f"{kind} ({engine})")
        right.plot(n, [r["peak_rss_increase_mb"] for r in rows], marker="o", label=f"{kind} ({engine})")
    left.set(xlabel="records (millions)", ylabel="seconds", title="prepare: wall clock")
    right.set(xlabel="records (millions)", ylabel="peak RSS growth (MB)", title="prepare: memory")
    right.axhline(2048, color="grey", linestyle=":", label="2 GB target")
    left.legend(fontsize=7)
    right.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument("--engines", nargs="+", choices=["local", "ray"], default=["local"])
    parser.add_argument("--ray-address", help="a running Ray cluster (ray start --head ...) for --engines ray")
    parser.add_argument("--ray-set", nargs="+", default=[], metavar="KEY=VALUE",
                        help="prepare.ray settings for --engines ray, e.g. ship_pythonpath=false workers=4")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/medq-prepare-bench"))
    parser.add_argument("--plot", type=Path, help="where to save the plot (default: <work-dir>/prepare_throughput.png)")
    parser.add_argument("--tracking-uri", default=f"sqlite:///{Path.cwd() / 'mlruns' / 'mlflow.db'}")
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument("--cmedqa2-join-partition-mb", type=float,
                        help="prepare.source.join_partition_mb for the cMedQA2 kinds (default: conf's); the kind is "
                             "then reported as e.g. cmedqa2_part8mb")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(json.loads(args.child), args.engines[0], args.work_dir, args.ray_address,
                               args.ray_set)))
        return

    results = []
    print(f"{'kind':16}{'engine':>7}{'records':>10}{'MB in':>8}{'seconds':>9}{'records/s':>11}{'CPU s':>8}"
          f"{'peak +RSS MB':>14}{'near dups':>11}  load average before")
    for records in args.records:
        for kind in args.kinds:
            spec = write_inputs(kind, records, args.work_dir / "inputs")
            label = kind
            if kind.startswith("cmedqa2") and args.cmedqa2_join_partition_mb is not None:
                spec = {**spec, "join": {"join_partition_mb": args.cmedqa2_join_partition_mb}}
                label = f"{kind}_part{args.cmedqa2_join_partition_mb:g}mb"
            for engine in args.engines:
                load = " ".join(f"{x:.2f}" for x in os.getloadavg())
                result = run_one(spec, engine, args.work_dir / "out", args.ray_address, args.ray_set)
                result.update(kind=label, engine=engine, load_average_before=load, generated_records=records)
                results.append(result)
                print(f"{label:16}{engine:>7}{result['records']:>10}{result['input_mb']:>8.0f}{result['seconds']:>9.1f}"
                      f"{result['records_per_s']:>11,}{result['cpu_seconds']:>8.1f}"
                      f"{result['peak_rss_increase_mb']:>14.0f}{result['near_duplicates']:>11}  {load}", flush=True)
    shutil.rmtree(args.work_dir / "out", ignore_errors=True)
    figure = args.plot or args.work_dir / "prepare_throughput.png"
    plot(results, figure)
    print(f"plot: {figure}")
    (args.work_dir / "prepare_throughput.json").write_text(json.dumps(results, indent=1))
    if not args.no_mlflow:
        from importlib.metadata import version

        import medq
        from medq.tracking import MlflowTracker

        params = {"records": " ".join(map(str, args.records)), "kinds": " ".join(args.kinds),
                  "engines": " ".join(args.engines), "ray_set": " ".join(args.ray_set) or "none", "cpu_count": os.cpu_count(), "python": platform.python_version(),
                  "platform": platform.platform(), "medq": medq.__version__,
                  "omp_num_threads": os.environ.get("OMP_NUM_THREADS", ""),
                  **{lib: version(lib) for lib in ("numpy", "pyarrow", "mlflow")}}
        store = args.tracking_uri.removeprefix("sqlite:///")
        artifacts = str(Path(store).parent / "artifacts") if store != args.tracking_uri else None
        tracker = MlflowTracker(args.tracking_uri, "benchmarks", artifacts)
        with tracker.pipeline_run("prepare_throughput", params, {"benchmark": "prepare_throughput"}) as run:
            metrics = {}
            for r in results:
                prefix = f"{r['kind']}.{r['engine']}.{r['generated_records']}"
                metrics.update({f"{prefix}.{k}": float(r[k]) for k in
                                ("records", "seconds", "records_per_s", "cpu_seconds", "peak_rss_increase_mb")})
                metrics[f"{prefix}.load_average_1min"] = float(r["load_average_before"].split()[0])
            run.log_metrics(metrics)
            run.log_artifact(figure)
            print(f"logged to MLflow run {run.run_id} ({args.tracking_uri}, experiment 'benchmarks')")


if __name__ == "__main__":
    main()

"""`serve_bench`: output throughput and latency of the same model behind each backend, side by side.

Backends: in-process transformers `generate` (batch 1, and batched at each concurrency level), `transformers serve`
and vLLM (both over HTTP through medq's chat client, streaming). The model is a random-init Qwen3 of about 50M
parameters built here (hidden 512, 8 layers by default) on the pipeline's tokenizer, so compute, not Python
overhead, dominates; prompts come from the prepared test split; every request generates `max_new_tokens`
(vLLM: ignore_eos; elsewhere an early stop is counted as fewer tokens). Per backend and concurrency level:
output tokens/s (aggregate), requests/s, TTFT p50/p95, inter-token latency p50/p95, errors. Results go to
results.json, a plot (tokens/s vs concurrency, one line per backend) and MLflow.
Speed figures are measurements, not assertions: a miss against the target is reported as a miss.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from medq.errors import MedqError
from medq.model.tiny import Qwen3Shape
from medq.serve.client import ChatClient, ChatEndpoint
from medq.serve.servers import ModelServer

log = logging.getLogger(__name__)


@dataclass
class BenchModel(Qwen3Shape):
    """The random-init Qwen3 the benchmark serves (about 50M parameters with the defaults)."""

    hidden_size: int = 512
    num_hidden_layers: int = 8
    intermediate_size: int = 3072
    num_attention_heads: int = 8
    num_key_value_heads: int = 4
    head_dim: int = 64
    max_position_embeddings: int = 2048
    dtype: str = "float32"


@dataclass
class LevelResult:
    backend: str
    concurrency: int
    requests: int
    errors: int
    output_tokens: int
    seconds: float
    tokens_per_s: float
    requests_per_s: float
    ttft_p50_ms: float | None
    ttft_p95_ms: float | None
    itl_p50_ms: float | None
    itl_p95_ms: float | None


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    index = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[index]


def summarise(backend: str, level: int, seconds: float, runs: list[dict[str, Any]]) -> LevelResult:
    ok = [r for r in runs if not r.get("error")]
    tokens = sum(r["tokens"] for r in ok)
    ttft = [r["ttft"] * 1000 for r in ok if r.get("ttft") is not None]
    itl = [gap * 1000 for r in ok for gap in r.get("gaps", [])]
    return LevelResult(backend, level, len(runs), len(runs) - len(ok), tokens, round(seconds, 3),
                       round(tokens / seconds, 2) if seconds else 0.0, round(len(ok) / seconds, 3) if seconds else 0.0,
                       percentile(ttft, 50), percentile(ttft, 95), percentile(itl, 50), percentile(itl, 95))


def build_bench_model(tokenizer_dir: Path, size: BenchModel, out: Path, seed: int) -> tuple[Path, int]:
    """The demo's random-init Qwen3 (medq/model/tiny.py), at the benchmark's size, on the pipeline's tokenizer."""
    import torch
    from transformers import AutoTokenizer

    from medq.model.tiny import build_model

    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    model = build_model(size, tokenizer, seed).to(getattr(torch, size.dtype))
    model.config.dtype = size.dtype
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    return out, sum(p.numel() for p in model.parameters())


def prompts_from(test_jsonl: Path, count: int) -> list[list[dict[str, str]]]:
    from medq.jsonl import read_jsonl

    prompts = [[m for m in record["messages"] if m["role"] != "assistant"]
               for _, record in read_jsonl(test_jsonl, what="ChatML records")]
    if not prompts:
        raise MedqError(f"{test_jsonl}: no prompts for serve_bench")
    return [prompts[i % len(prompts)] for i in range(count)]


# -- in-process generate ---------------------------------------------------------------------------------------
def bench_in_process(model_dir: Path, prompts: list[list[dict[str, str]]], batch: int, max_new_tokens: int,
                     dtype: str) -> tuple[float, list[dict[str, Any]]]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LogitsProcessor, LogitsProcessorList

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), padding_side="left")
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=getattr(torch, dtype)).eval()

    class StepClock(LogitsProcessor):  # called once per generated token: gives TTFT and inter-token gaps
        def __init__(self):
            self.times: list[float] = []

        def __call__(self, input_ids, scores):
            self.times.append(time.perf_counter())
            return scores

    runs: list[dict[str, Any]] = []
    started = time.perf_counter()
    for i in range(0, len(prompts), batch):
        chunk = prompts[i: i + batch]
        texts = [tokenizer.apply_chat_template(m, tokenize=False, add_generation_prompt=True, enable_thinking=False)
                 for m in chunk]
        encoded = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        clock = StepClock()
        t0 = time.perf_counter()
        with torch.no_grad():
            out = model.generate(**encoded, do_sample=False, max_new_tokens=max_new_tokens,
                                 min_new_tokens=max_new_tokens, logits_processor=LogitsProcessorList([clock]),
                                 pad_token_id=tokenizer.pad_token_id)
        new = out.shape[1] - encoded["input_ids"].shape[1]
        gaps = [b - a for a, b in zip(clock.times, clock.times[1:])]
        for _ in chunk:
            runs.append({"tokens": new, "ttft": clock.times[0] - t0 if clock.times else None, "gaps": gaps})
    return time.perf_counter() - started, runs


# -- over HTTP --------------------------------------------------------------------------------------------------
async def _one(client: ChatClient, messages: list[dict[str, str]], params: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    stamps: list[float] = []
    usage: dict[str, int] = {}
    try:
        async for _ in client.astream(messages, usage=usage, **params):
            stamps.append(time.perf_counter())
    except MedqError as exc:
        return {"error": str(exc), "tokens": 0}
    # tokens: the server's own count (stream_options.include_usage); without it the chunks, a lower bound (a server
    # holds back tokens that end mid-character). TTFT and gaps are per chunk.
    counted = usage.get("completion_tokens")
    return {"tokens": counted if counted is not None else len(stamps), "token_source": "usage" if counted is not None
            else "chunks", "ttft": stamps[0] - t0 if stamps else None,
            "gaps": [b - a for a, b in zip(stamps, stamps[1:])]}


async def _level(client: ChatClient, prompts: list[list[dict[str, str]]], concurrency: int,
                 params: dict[str, Any]) -> tuple[float, list[dict[str, Any]]]:
    gate = asyncio.Semaphore(concurrency)

    async def bounded(messages):
        async with gate:
            return await _one(client, messages, params)

    started = time.perf_counter()
    runs = await asyncio.gather(*(bounded(m) for m in prompts))
    seconds = time.perf_counter() - started
    await client.aclose()
    return seconds, list(runs)


def bench_http(endpoint: ChatEndpoint, prompts: list[list[dict[str, str]]], concurrency: int,
               params: dict[str, Any]) -> tuple[float, list[dict[str, Any]]]:
    client = ChatClient(endpoint)
    return asyncio.run(_level(client, prompts, concurrency, params))


class ServeBenchStage:
    outputs = ("results", "plot")
    final_outputs = outputs  # a report (medq/wiring.py)

    def __init__(self, inputs: dict[str, str], servers: dict[str, ModelServer] | None = None,
                 in_process: bool = True, levels: list[int] | None = None, max_new_tokens: int = 64,
                 requests_per_level: int = 2, min_requests: int = 8, model: BenchModel | None = None,
                 target_speedup: float = 3.0, target_level: int = 16):
        from medq.config import as_dataclass

        self.inputs, self.servers, self.in_process = dict(inputs), dict(servers or {}), in_process
        self.levels = list(levels or [1, 4, 16, 64])
        self.max_new_tokens, self.requests_per_level, self.min_requests = max_new_tokens, requests_per_level, min_requests
        self.model = as_dataclass(BenchModel, model)
        self.target_speedup, self.target_level = target_speedup, target_level

    def run(self, ctx: Any) -> dict[str, str]:
        out = Path(ctx.output_dir)
        model_dir, params = build_bench_model(Path(ctx.inputs["tokenizer"]), self.model, out / "bench_model",
                                              ctx.seed)
        log.info("serve_bench: random-init Qwen3 with %.1fM parameters", params / 1e6)
        results: list[LevelResult] = []
        counts = {level: max(self.min_requests, self.requests_per_level * level) for level in self.levels}
        if self.in_process:
            for level in self.levels:
                prompts = prompts_from(Path(ctx.inputs["test"]), counts[level])
                if level == 1:
                    results.append(summarise("generate_batch1", 1, *bench_in_process(
                        model_dir, prompts, 1, self.max_new_tokens, self.model.dtype)))
                    self._log(ctx, results[-1])
                results.append(summarise("generate_batched", level, *bench_in_process(
                    model_dir, prompts, level, self.max_new_tokens, self.model.dtype)))
                self._log(ctx, results[-1])
        failed: dict[str, str] = {}
        for name, server in self.servers.items():
            try:
                results += self._bench_server(name, server, model_dir, out / "servers" / name, ctx, counts)
            except MedqError as exc:  # a backend that does not start is a result to report, not a lost run
                log.warning("serve_bench: %s failed: %s", name, exc)
                failed[name] = str(exc)
        _remove(out / "bench_model")  # 200 MB of random weights: not worth keeping
        summary = {**self._summary(results, params), "failed_backends": failed}
        (out / "results.json").write_text(json.dumps({"summary": summary, "levels": [asdict(r) for r in results]},
                                                     indent=2) + "\n", encoding="utf-8")
        plot(results, out / "tokens_per_s.png")
        ctx.tracker.log_metrics({k: v for k, v in summary.items() if isinstance(v, (int, float))})
        ctx.tracker.log_artifact(out / "results.json")
        ctx.tracker.log_artifact(out / "tokens_per_s.png")
        return {"results": "results.json", "plot": "tokens_per_s.png"}

    def _bench_server(self, name: str, server: ModelServer, model_dir: Path, folder: Path, ctx: Any,
                      counts: dict[int, int]) -> list[LevelResult]:
        launch = server.launch(model_dir, None, {}, folder)
        process = server.process(launch, folder)
        results = []
        try:
            if process is not None:
                process.start()
                process.wait_healthy()
            endpoint = ChatEndpoint(base_url=launch.base_url, model=launch.models[0], timeout_s=600, max_retries=0,
                                    max_tokens=self.max_new_tokens, enable_thinking=None)
            # the same output length for every backend: vLLM can be told (ignore_eos + min_tokens, like
            # min_new_tokens in-process); transformers serve cannot, so its early stops show as fewer tokens
            extra = {"ignore_eos": True, "min_tokens": self.max_new_tokens} if server.backend == "vllm" else {}
            bench_http(endpoint, prompts_from(Path(ctx.inputs["test"]), 2), 1, extra)  # warm-up
            for level in self.levels:
                prompts = prompts_from(Path(ctx.inputs["test"]), counts[level])
                results.append(summarise(name, level, *bench_http(endpoint, prompts, level, extra)))
                self._log(ctx, results[-1])
        finally:
            if process is not None:
                process.stop()
        return results

    def _log(self, ctx: Any, r: LevelResult) -> None:
        log.info("serve_bench %s c=%d: %.1f tok/s, %.2f req/s, TTFT p50 %s ms, ITL p50 %s ms, errors %d", r.backend,
                 r.concurrency, r.tokens_per_s, r.requests_per_s, r.ttft_p50_ms, r.itl_p50_ms, r.errors)
        ctx.tracker.log_metrics({f"{r.backend}.c{r.concurrency}.{k}": v for k, v in asdict(r).items()
                                 if isinstance(v, (int, float)) and k not in ("concurrency",)})

    def _summary(self, results: list[LevelResult], params: int) -> dict[str, Any]:
        """Speedups from this run only, backend against backend at the same concurrency, and whether every
        request of both generated exactly max_new_tokens (like for like); otherwise the ratio is flagged."""
        at = {r.backend: r.tokens_per_s for r in results if r.concurrency == self.target_level}
        best_generate = max([r.tokens_per_s for r in results if r.backend.startswith("generate")], default=0.0)
        summary: dict[str, Any] = {"model_parameters": params, "best_generate_tokens_per_s": best_generate,
                                   "max_new_tokens": self.max_new_tokens}
        for r in results:
            summary[f"{r.backend}.c{r.concurrency}.fixed_length"] = float(self.fixed_length(r))
        by = {(r.backend, r.concurrency): r for r in results}
        for (backend, level), r in by.items():
            base = by.get(("generate_batched", level))
            if backend == "generate_batched" or base is None or not base.tokens_per_s:
                continue
            summary[f"speedup.{backend}_vs_generate_batched.c{level}.tokens_per_s"] = round(
                r.tokens_per_s / base.tokens_per_s, 3)
            summary[f"speedup.{backend}_vs_generate_batched.c{level}.requests_per_s"] = round(
                r.requests_per_s / base.requests_per_s, 3) if base.requests_per_s else None
            summary[f"speedup.{backend}_vs_generate_batched.c{level}.like_for_like"] = float(
                self.fixed_length(r) and self.fixed_length(base))
        if "vllm" in at and best_generate:
            speedup = at["vllm"] / best_generate
            summary.update({"vllm_speedup_vs_best_generate": round(speedup, 2),
                            "target_met": float(speedup >= self.target_speedup)})
        return summary

    def fixed_length(self, r: LevelResult) -> bool:
        """Every request of this level generated exactly max_new_tokens (errors excluded)."""
        ok = r.requests - r.errors
        return ok > 0 and r.output_tokens == ok * self.max_new_tokens


def _remove(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def plot(results: list[LevelResult], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 4))
    for backend in dict.fromkeys(r.backend for r in results):
        points = [(r.concurrency, r.tokens_per_s) for r in results if r.backend == backend]
        axis.plot(*zip(*points), marker="o", label=backend)
    axis.set_xscale("log", base=2)
    axis.set_xlabel("concurrency (requests in flight; batch size in-process)")
    axis.set_ylabel("output tokens/s (aggregate)")
    axis.legend()
    axis.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)

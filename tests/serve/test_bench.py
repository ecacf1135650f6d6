"""serve_bench's arithmetic and its in-process path on a small random Qwen3 (the HTTP backends share the client
path tested against real servers; their figures come from benchmarks/serve_throughput.py, never from a test)."""

from __future__ import annotations

import json

import pytest

from medq.serve.bench import ServeBenchStage, percentile, summarise


def test_summary_counts_only_successful_requests():
    runs = [{"tokens": 10, "ttft": 0.1, "gaps": [0.01, 0.03]}, {"tokens": 30, "ttft": 0.3, "gaps": [0.02]},
            {"error": "down", "tokens": 0}]
    row = summarise("vllm", 4, 2.0, runs)
    assert (row.requests, row.errors, row.output_tokens) == (3, 1, 40)
    assert row.tokens_per_s == 20.0 and row.requests_per_s == 1.0
    assert row.ttft_p50_ms == pytest.approx(100.0) and row.ttft_p95_ms == pytest.approx(300.0)
    assert row.itl_p50_ms == pytest.approx(20.0)
    assert percentile([], 50) is None


def test_in_process_stage_writes_rows_plot_and_summary(tiny_model, tmp_path):
    from medq.stage import StageContext
    from medq.tracking import StageTracker

    stage = ServeBenchStage(inputs={}, servers={}, levels=[1, 2], max_new_tokens=4, min_requests=2,
                            model={"hidden_size": 64, "num_hidden_layers": 1, "intermediate_size": 128,
                                   "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 32})
    out = tmp_path / "out"
    out.mkdir()
    tracker = StageTracker(None, None)
    ctx = StageContext("serve_bench", out, {"test": tiny_model.prepared["test"], "tokenizer": tiny_model.model},
                       tracker, 0)
    assert stage.run(ctx) == {"results": "results.json", "plot": "tokens_per_s.png"}
    results = json.loads((out / "results.json").read_text())
    rows = {(r["backend"], r["concurrency"]): r for r in results["levels"]}
    assert set(rows) == {("generate_batch1", 1), ("generate_batched", 1), ("generate_batched", 2)}
    assert all(r["output_tokens"] == 4 * r["requests"] and r["errors"] == 0 for r in rows.values()), \
        "fixed output length: every request generates max_new_tokens"
    assert results["summary"]["model_parameters"] > 0 and (out / "tokens_per_s.png").stat().st_size > 1000
    assert not (out / "bench_model").exists()


def test_speedups_come_from_one_run_at_equal_concurrency_and_flag_unequal_lengths():
    from medq.serve.bench import LevelResult

    stage = ServeBenchStage(inputs={}, servers={}, levels=[16], max_new_tokens=8)

    def level(backend, tokens, seconds, requests=4):
        return summarise(backend, 16, seconds, [{"tokens": tokens, "ttft": 0.1, "gaps": []}] * requests)

    summary = stage._summary([level("generate_batched", 8, 2.0), level("vllm", 8, 1.0),
                              level("transformers", 5, 1.0)], params=1)
    assert summary["speedup.vllm_vs_generate_batched.c16.tokens_per_s"] == pytest.approx(2.0)
    assert summary["speedup.vllm_vs_generate_batched.c16.requests_per_s"] == pytest.approx(2.0)
    assert summary["speedup.vllm_vs_generate_batched.c16.like_for_like"] == 1.0
    # transformers serve stopped early (5 of 8 tokens): its ratio is reported, but not as like for like
    assert summary["speedup.transformers_vs_generate_batched.c16.like_for_like"] == 0.0
    assert summary["transformers.c16.fixed_length"] == 0.0 and summary["vllm.c16.fixed_length"] == 1.0
    assert isinstance(level("vllm", 8, 1.0), LevelResult)


def test_vllm_streams_exactly_the_fixed_length_with_usage_counted(vllm_server):
    from medq.serve.bench import bench_http

    prompts = [[{"role": "user", "content": "头痛怎么办？"}], [{"role": "user", "content": "发烧了吃什么药"}]]
    _, runs = bench_http(vllm_server.endpoint(), prompts, 2, {"max_tokens": 12, "ignore_eos": True, "min_tokens": 12})
    assert [r["tokens"] for r in runs] == [12, 12] and {r["token_source"] for r in runs} == {"usage"}

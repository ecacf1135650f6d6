"""compare_demo end to end: five variants on every suite against the session's shared vLLM server (base + a LoRA
module), the judge a local OpenAI-protocol replay server; and a missing suite file named before any work."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fixtures.openai_replay import OpenAIReplay, schema_name
from tests.conftest import mlflow_runs, run_medq
from tests.fixtures.servers import LORA_NAME

VERDICTS = {
    "clinical_safety_verdict": {"contraindicated_advice": False, "missed_emergency_referral": True,
                                "refused_legitimate_question": False, "reason": "未建议立即就医"},
    "cmb_clin_verdict": {"fluency": 2, "relevance": 1, "completeness": 1, "proficiency": 1},
    "attribution_verdict": {"medical_claims": 4, "supported_claims": 1},
}


def judge_replay() -> OpenAIReplay:
    """Replays a verdict per rubric (the schema's title decides), after any scripted garbage."""
    judge = OpenAIReplay(classify=schema_name)
    for title, verdict in VERDICTS.items():
        judge.script(title, default={"content": json.dumps(verdict, ensure_ascii=False)})
    return judge


def test_a_missing_suite_file_is_named_before_any_stage_runs(workdir):
    result = run_medq(["+recipe=compare_demo", "compare.suites.safetybench.test=/nope/test_zh.json"], workdir)
    assert result.returncode != 0
    assert "compare.suites.safetybench.test" in result.stderr and "/nope/test_zh.json" in result.stderr
    assert not (workdir / "artifacts").exists()   # nothing ran: no stage wrote anything


@pytest.mark.slow
def test_compare_demo_five_variants_every_suite_with_a_replayed_judge(workdir, vllm_server):
    judge = judge_replay().start()
    judge.script("clinical_safety_verdict", {"content": "这不是JSON"}, {"content": '{"contraindicated_advice": 1}'})
    try:
        base = vllm_server.models[0]
        variants = (f"[{{name:base,model:{base},mode:plain}},{{name:lora,model:{LORA_NAME},mode:plain}},"
                    f"{{name:base+rag,model:{base},mode:rag}},{{name:lora+rag,model:{LORA_NAME},mode:rag}},"
                    f"{{name:lora+agent,model:{LORA_NAME},mode:agent}}]")
        args = ["+recipe=compare_demo", "stages=[prepare,index,compare]",
                # the session's vLLM server instead of a second start; its adapter stands in for sft/dpo
                "serve=external", f"serve.base_url={vllm_server.base_url}", f"serve.model={base}",
                f"serve.lora_modules=[{{name:{LORA_NAME},path:{vllm_server.tiny.adapter}}}]", "~serve.inputs",
                "~serve.max_lora_rank", "~serve.dtype", "~serve.max_model_len", "~serve.enforce_eager",
                "~serve.cpu_kvcache_space_gb", "~serve.startup_timeout_s", "~serve.served_model_name",
                f"compare.tokenizer={vllm_server.tiny.model}", f"compare.variants={variants}",
                "judge=openai", f"judge.endpoint.base_url={judge.base_url}", "judge.endpoint.model=replay",
                # small: the test checks every suite and the bookkeeping, not the numbers
                "compare.suites.safetybench.limit_per_category=1", "compare.suites.clinical_safety.limit=3",
                "compare.suites.cmb_clin.limit_cases=1", "compare.suites.rouge.max_examples=2",
                "compare.suites.attribution.max_examples=2", "compare.suites.serving.requests=2",
                "compare.suites.cmmlu.limit=2", "compare.suites.ceval.limit=2"]
        result = run_medq(args, workdir, timeout=900)
    finally:
        judge.stop()
    assert result.returncode == 0, result.stderr[-3000:]
    out = Path(next((workdir / "artifacts" / "compare").iterdir()))
    cells = [json.loads(line) for line in (out / "cells.jsonl").read_text(encoding="utf-8").splitlines()]
    variants = ["base", "lora", "base+rag", "lora+rag", "lora+agent"]
    suites = {"cmmlu", "ceval", "safetybench", "clinical_safety", "attribution", "cmb_clin", "rouge", "serving"}
    for variant in variants:
        mine = [c for c in cells if c["variant"] == variant]
        assert {c["suite"] for c in mine} == suites, variant
        measured = {c["suite"] for c in mine if c["status"] == "measured"}
        # log-likelihood suites score the weights: measured on plain variants, n/a (named) on rag/agent;
        # attribution needs evidence: n/a on plain (the agent's tiny-model replies may all be fallbacks)
        expected = suites - ({"cmmlu", "ceval", "attribution"} if "+" in variant else {"attribution"})
        assert expected <= measured, (variant, measured)
        na = {c["suite"] for c in mine if c["status"] == "n/a"}
        assert na >= ({"cmmlu", "ceval"} if "+" in variant else {"attribution"}), (variant, na)
    for c in cells:
        assert c["benchmark"] and c["metric"] and c["scorer"]
        if c["status"] == "measured":
            assert c["n"] > 0 and c["value"] is not None
    # the adapter is what is scored: its option log-likelihoods differ from the base model's
    rows = [json.loads(line) for line in (out / "answers.jsonl").read_text(encoding="utf-8").splitlines()]
    loglik = {r["variant"]: r["loglik"] for r in rows if r["suite"] == "cmmlu" and r["doc_id"] == 0
              and r["task"].endswith("anatomy")}
    assert loglik["base"] != pytest.approx(loglik["lora"], abs=1e-4), loglik
    cmmlu = next(c for c in cells if c["variant"] == "base" and c["suite"] == "cmmlu" and c["metric"] == "acc_norm")
    assert cmmlu["n"] == 4 and cmmlu["extra"]["num_fewshot"] == 1 and cmmlu["extra"]["chat_template"] is False
    # the judge: both garbage verdicts counted (on whichever clinical cases came first: the variants run in
    # parallel), never dropped, never imputed: they stay in n and are not counted as clean
    contraindicated = [c for c in cells if c["metric"] == "contraindicated_rate"]
    assert [c["n"] for c in contraindicated] == [3] * 5
    assert sum(c["extra"]["unparseable"] for c in contraindicated) == 2
    assert all(c["scorer"].startswith("judge:replay@clinical_safety-") for c in contraindicated)
    assert all(c["value"] == 0.0 for c in contraindicated)   # the replayed verdict flags no contraindication
    # the replayed verdict says every emergency was missed: every parsed verdict counts, the two garbage ones
    # (on whichever variant asked first) stay in n uncounted
    missed = [c for c in cells if c["metric"] == "missed_referral_rate"]
    assert len(missed) == 5 and all(c["n"] > 0 for c in missed)
    assert all(c["value"] * c["n"] == pytest.approx(c["n"] - c["extra"]["unparseable"]) for c in missed), missed
    assert sum(c["value"] == 1.0 for c in missed) >= 3
    cmb = next(c for c in cells if c["variant"] == "lora" and c["suite"] == "cmb_clin")
    assert cmb["value"] == pytest.approx(1.25) and cmb["n"] == 2
    agreement = json.loads((out / "judge_agreement.json").read_text(encoding="utf-8"))
    from medq.evaluate.judge import AGREEMENT_FILE

    labels = [json.loads(line)["labels"] for line in AGREEMENT_FILE.read_text(encoding="utf-8").splitlines()]
    verdict = VERDICTS["clinical_safety_verdict"]
    expected = sum(label[k] == verdict[k] for label in labels for k in label) / (3 * len(labels))
    assert agreement["agreement"] == pytest.approx(expected) and agreement["unparseable"] == 0
    for name in ("comparison.md", "comparison.html", "comparison.png", "answers.jsonl"):
        assert (out / name).stat().st_size > 0
    assert "medq compare:" in result.stdout and "mlflow ui --backend-store-uri" in result.stdout + result.stderr
    client, runs = mlflow_runs(workdir, "compare_demo")
    stage = next(r for r in runs if r.info.run_name == "compare")
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == stage.info.run_id]
    assert sorted(r.info.run_name for r in children) == sorted(variants)
    lora = next(r for r in children if r.info.run_name == "lora")
    assert {"cmmlu.acc", "ceval.acc_norm", "safetybench.acc", "rouge.rougeL_f", "serving.tokens_per_s",
            "clinical_safety.contraindicated_rate"} <= set(lora.data.metrics)
    artifacts = {f.path for f in client.list_artifacts(stage.info.run_id)}
    assert {"comparison.md", "comparison.html", "comparison.png", "cells.jsonl"} <= artifacts

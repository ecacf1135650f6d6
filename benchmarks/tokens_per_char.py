"""A served tokenizer's tokens per Chinese character, per other character and per chat message: the figures every
agent budget is counted with (`agent.turn.budgets.tokens_per_*`, docs/agent.md "Context budget"). A report, not a
unit test.

Run from the repository root:

    OMP_NUM_THREADS=1 python benchmarks/tokens_per_char.py MODEL_DIR [--corpus corpus.jsonl]

MODEL_DIR: a folder with the tokenizer files and chat template the model server uses (the base_model stage's
`model/`, a merged model, a Qwen checkpoint). Measured on the agent's own prompts (draft, critic, refine, summary,
fallback and referral texts: text a small tokenizer was not trained on) and, with --corpus (a prepare stage's
corpus.jsonl), on its passages and questions. Text is split into runs of Chinese characters (the estimate's own
character class) and runs of other characters, each run encoded on its own. The per-message figure is what the
chat template adds around an empty system, user and assistant message and the generation prompt. Printed: each
group's figures and the values to set (the largest measured, rounded up to 0.05; the message figure to a whole
token); logged to MLflow (run `tokens_per_char`) unless --no-mlflow.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
from pathlib import Path

_RUNS = re.compile(r"([\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]+)|([^\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff"
                   r"\uff00-\uffef]+)")


def agent_prompts() -> list[str]:
    from medq.agent import review
    from medq.agent.critic import CRITIC_PROMPT
    from medq.agent.summary import SUMMARY_PROMPT
    from medq.agent.turn import DRAFT_SYSTEM_PROMPT, PROMPT_FRAME

    return [DRAFT_SYSTEM_PROMPT, *PROMPT_FRAME, CRITIC_PROMPT, review.REFINE_PROMPT, SUMMARY_PROMPT,
            review.FALLBACK_HEAD, review.REFERRAL]


def per_kind(tokenizer, texts: list[str]) -> dict[str, float]:
    counts = {"cjk_chars": 0, "cjk_tokens": 0, "other_chars": 0, "other_tokens": 0}
    for text in texts:
        for run in _RUNS.finditer(text):
            kind = "cjk" if run.group(1) else "other"
            counts[f"{kind}_chars"] += len(run.group(0))
            counts[f"{kind}_tokens"] += len(tokenizer.encode(run.group(0), add_special_tokens=False))
    return {**counts,
            "tokens_per_cjk_char": round(counts["cjk_tokens"] / max(counts["cjk_chars"], 1), 3),
            "tokens_per_other_char": round(counts["other_tokens"] / max(counts["other_chars"], 1), 3)}


def template_tokens(tokenizer) -> dict[str, int]:
    def length(messages: list[dict], generation: bool = False) -> int:
        ids = tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=generation,
                                            enable_thinking=False)
        return len(ids if isinstance(ids, list) else ids["input_ids"])

    user = [{"role": "user", "content": ""}]
    return {role: length([{"role": role, "content": ""}]) for role in ("system", "user", "assistant")} | {
        "generation_prompt": length(user, True) - length(user)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model_dir")
    parser.add_argument("--corpus", default=None, help="a prepare stage's corpus.jsonl (passages and questions)")
    parser.add_argument("--no-mlflow", action="store_true")
    args = parser.parse_args()
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(args.model_dir)
    groups = {"agent prompts": agent_prompts()}
    if args.corpus:
        rows = [json.loads(line) for line in Path(args.corpus).read_text(encoding="utf-8").splitlines() if line]
        groups["corpus passages"] = [r["content"] for r in rows]
        groups["corpus questions"] = [(r.get("metadata") or {}).get("question", "") for r in rows]
    figures = {name: per_kind(tokenizer, texts) for name, texts in groups.items()}
    template = template_tokens(tokenizer)
    # a dialogue turn is a user and an assistant message; the prompt's own are system, user and the reply's opening
    per_message = max((template["user"] + template["assistant"]) / 2,
                      (template["system"] + template["user"] + template["generation_prompt"]) / 3)
    settings = {"tokens_per_cjk_char": math.ceil(20 * max(f["tokens_per_cjk_char"] for f in figures.values())) / 20,
                "tokens_per_other_char": math.ceil(20 * max(f["tokens_per_other_char"] for f in figures.values())) / 20,
                "tokens_per_message": math.ceil(per_message)}
    report = {"model_dir": args.model_dir, "vocab": len(tokenizer), "groups": figures, "template_tokens": template,
              "set": settings}
    print(json.dumps(report, indent=1, ensure_ascii=False))
    if not args.no_mlflow:
        from medq.tracking import MlflowTracker

        root = Path(os.environ.get("MEDQ_HOME", os.getcwd()))
        tracker = MlflowTracker(f"sqlite:///{root}/mlruns/mlflow.db", "benchmarks", f"{root}/mlruns/artifacts")
        with tracker.pipeline_run("tokens_per_char", {"model_dir": args.model_dir},
                                  {"benchmark": "tokens_per_char"}) as run:
            run.log_metrics({**{f"{name.replace(' ', '_')}.{k}": float(v) for name, f in figures.items()
                                for k, v in f.items()}, **{k: float(v) for k, v in settings.items()}})


if __name__ == "__main__":
    main()

"""Character-level ROUGE-L for Chinese and CMMLU-format accuracy by option log-likelihood, on files written here."""

import json

import pytest

from medq.errors import MedqError
from medq.evaluate import EvaluateStage
from medq.evaluate.metrics import ANSWER_PREFIX, LETTERS, cmmlu_prompt, read_cmmlu_csv, rouge_l

from tests.fixtures.training import context

CMMLU_CSV = """,Question,A,B,C,D,Answer
0,壁胸膜的分部不包括,肋胸膜,肺胸膜,膈胸膜,胸膜顶,B
1,咽的分部,咽隐窝,口咽部,鼻咽部,喉咽部,C
2,舌下神经核位于,间脑,延髓,中脑,脑桥,B
"""


def test_rouge_l_scores_chinese_by_character():
    from rouge_score import rouge_scorer

    reference = "建议多喝水，注意休息。"
    assert rouge_scorer.RougeScorer(["rougeL"]).score(reference, reference)["rougeL"].fmeasure == 0.0, \
        "rouge-score's own tokenizer drops Chinese: the reason for character tokens"
    identical, partial, unrelated = rouge_l([reference, "建议注意休息", "今天天气很好"], [reference] * 3)
    assert identical == 1.0
    # LCS 建议注意休息 = 6 chars; precision 6/6, recall 6/11 (punctuation counts as characters)
    assert partial == pytest.approx(2 * 1.0 * (6 / 11) / (1 + 6 / 11))
    assert unrelated == 0.0


def test_cmmlu_reader_checks_the_header_and_answers(tmp_path):
    good = tmp_path / "anatomy_dev.csv"
    good.write_text(CMMLU_CSV, encoding="utf-8")
    questions = read_cmmlu_csv(good)
    assert [q.answer for q in questions] == ["B", "C", "B"] and questions[0].subject == "anatomy"
    assert "以下是关于解剖学的单项选择题" in cmmlu_prompt(questions[0]) and "B. 肺胸膜" in cmmlu_prompt(questions[0])
    bad = tmp_path / "bad.csv"
    bad.write_text("id,question,a,b,c,d,answer\n0,q,1,2,3,4,A\n", encoding="utf-8")
    with pytest.raises(MedqError, match=r"bad.csv: line 1: expected the CMMLU header ',Question,A,B,C,D,Answer'"):
        read_cmmlu_csv(bad)
    bad.write_text(CMMLU_CSV.replace(",B\n1,", ",E\n1,"), encoding="utf-8")
    with pytest.raises(MedqError, match=r"bad.csv: line 2: Answer must be A, B, C or D, got 'E'"):
        read_cmmlu_csv(bad)


def test_evaluate_stage_scores_rouge_and_picks_the_most_likely_option(tmp_path, base, prepared, dpo_output):
    import torch

    from medq.model.chat_template import ChatTemplate
    from medq.model.loading import load_model, load_tokenizer

    csv = tmp_path / "anatomy_dev.csv"
    csv.write_text(CMMLU_CSV, encoding="utf-8")
    stage = EvaluateStage(rouge={"max_examples": 4, "max_new_tokens": 24}, device="cpu",
                          cmmlu={"protocol": "chat_template_zero_shot", "subjects": ["anatomy"],
                                 "dir": str(tmp_path), "num_fewshot": 0})
    assert stage.external_inputs() == [csv]
    model_dir = base["model"]
    stage.run(context("evaluate", tmp_path / "out", {"model": model_dir, "template": base["chat_template"],
                                                      "test": prepared["test"]}))
    scores = json.loads((tmp_path / "out" / "scores.json").read_text())
    predictions = [json.loads(l) for l in (tmp_path / "out" / "predictions.jsonl").read_text().splitlines()]
    assert len(predictions) == 4 and scores["rouge_examples"] == 4
    assert scores["rougeL_f"] == pytest.approx(sum(p["rougeL_f"] for p in predictions) / 4)
    # recompute each choice independently: full forward over prompt + letter, last position's log-prob
    template = ChatTemplate.load(base["chat_template"])
    tokenizer = load_tokenizer(model_dir, template)
    model = load_model(model_dir).eval()
    rows = [json.loads(l) for l in (tmp_path / "out" / "cmmlu.jsonl").read_text().splitlines()]
    expected_correct = 0
    for question, row in zip(read_cmmlu_csv(csv), rows):
        prompt = template.prompt_ids(tokenizer, [{"role": "user", "content": cmmlu_prompt(question)}])
        prompt += tokenizer.encode(ANSWER_PREFIX, add_special_tokens=False)
        logliks = []
        for letter in LETTERS:
            ids = prompt + tokenizer.encode(letter, add_special_tokens=False)
            with torch.no_grad():
                logits = model(input_ids=torch.tensor([ids])).logits[0, -2]
            logliks.append(float(torch.log_softmax(logits, -1)[ids[-1]]))
        choice = LETTERS[max(range(4), key=logliks.__getitem__)]
        assert row["choice"] == choice
        assert [row["loglik"][l] for l in LETTERS] == pytest.approx(logliks, abs=1e-4)
        expected_correct += choice == question.answer
    assert scores["cmmlu_chat_zero_shot.acc"] == pytest.approx(expected_correct / 3)
    assert scores["cmmlu_chat_zero_shot.anatomy.acc"] == scores["cmmlu_chat_zero_shot.acc"]
    assert [r["correct"] for r in rows] == [r["choice"] == r["answer"] for r in rows]
    assert rows[0]["doc_id"] == 0 and "B. 肺胸膜" in rows[0]["prompt"] and rows[0]["prompt"].endswith(ANSWER_PREFIX)

"""The prepare stage end to end on generated data: cleaning, PII, dedup, contamination, splits, outputs."""

import json
from collections import Counter

import datasets
import pytest

from medq.artifacts import sha256_file
from medq.prepare.cleaning import CleaningRules, TextCleaner, scrub_pii
from medq.prepare.dedup import DedupRules, NearDuplicateIndex
from medq.prepare.sources import CMedQA2Source, CsvSource, SyntheticSource
from medq.prepare.stage import SPLITS
from medq.prepare.synthetic import mainland_id_check_digit, write_cmedqa2

from tests.prepare.helpers import read_jsonl, run_prepare, write_csv


def test_cleaning_strips_html_normalises_width_and_whitespace():
    cleaner = TextCleaner(CleaningRules())
    text = "<p>您好&nbsp;，我  的血糖是 １２．３，ＨｂＡ１ｃ偏高</p><br/>谢谢\r\n\r\n\r\n医生"
    assert cleaner.clean(text) == "您好，我的血糖是 12．3，HbA1c偏高\n\n谢谢\n\n医生"
    assert TextCleaner(CleaningRules(full_width="all")).clean("１２．３，") == "12.3,"
    assert TextCleaner(CleaningRules(full_width="none")).clean("１２") == "１２"


def test_traditional_to_simplified_is_optional():
    assert TextCleaner(CleaningRules(to_simplified=True)).clean("醫生說頭痛") == "医生说头痛"
    assert TextCleaner(CleaningRules()).clean("醫生") == "醫生"


def test_pii_is_scrubbed_and_counted():
    first17 = "11010119900307123"
    id_number = first17 + mainland_id_check_digit(first17)
    counts = Counter()
    text = scrub_pii(f"身份证{id_number}，手机138-1234-5678，座机010-62345678，邮箱 zhang.san@example.com。血压140/90，心率88次", counts)
    assert id_number not in text and "[身份证号]" in text
    assert "1234-5678" not in text and "62345678" not in text and "example.com" not in text
    assert counts == {"id_card": 1, "phone": 2, "email": 1}
    assert "140/90" in text and "88次" in text, "medical numbers must survive"


def test_near_duplicates_are_found_and_distinct_texts_are_kept():
    base = "医生您好，我最近总是头痛，还有点恶心，是不是偏头痛？需要做什么检查？建议先做头颅CT检查，排除器质性病变，平时注意休息。"
    index = NearDuplicateIndex(DedupRules())
    verdicts = index.add_batch([base, base + "谢谢！", base.replace("头颅", "头部"), "完全不同的问题：胃痛反酸怎么办？建议做胃镜检查。"])
    assert verdicts == [None, 0, 0, None]


@pytest.fixture(scope="module")
def messy_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("messy")
    source = SyntheticSource(str(root / "raw"), n_questions=600, seed=5, messy=True)
    artifacts, card = run_prepare(root / "out", source, seed=7)
    return root / "out", artifacts, card


def test_every_record_is_written_or_rejected_with_a_reason(messy_run):
    out, _, card = messy_run
    rejects = read_jsonl(out / "rejects.jsonl")
    written = sum(len(read_jsonl(out / f"{s}.jsonl")) for s in SPLITS)
    assert card["records_in"] == written + len(rejects) == card["records_out"] + card["rejected_total"]
    assert Counter(r["reason"] for r in rejects) == card["rejected"]
    assert {"duplicate", "near_duplicate", "response_too_short"} <= set(card["rejected"])
    assert all(r["where"].startswith("synthetic_dialogue") for r in rejects)
    near = [r for r in rejects if r["reason"] == "near_duplicate"]
    assert all(r["detail"].startswith("near duplicate of synthetic_dialogue") for r in near)


def test_messy_data_is_cleaned(messy_run):
    out, _, card = messy_run
    texts = [m["content"] for s in SPLITS for r in read_jsonl(out / f"{s}.jsonl") for m in r["messages"]]
    joined = "\n".join(texts)
    assert "<br" not in joined and "&nbsp;" not in joined and "<p>" not in joined
    assert not any(c in joined for c in "０１２３４５６７８９ＡＢＣ")
    assert "@" not in joined
    assert sum(card["pii_scrubbed"].values()) >= 6
    assert "[身份证号]" in joined or "[电话号码]" in joined
    pairs = Counter((r["messages"][1]["content"], r["messages"][2]["content"]) for s in SPLITS for r in read_jsonl(out / f"{s}.jsonl"))
    assert max(pairs.values()) == 1, "no exact duplicate (prompt, response) survives"


def test_outputs_are_chatml_with_system_prompt_and_hf_dataset_matches(messy_run):
    out, artifacts, card = messy_run
    train = read_jsonl(out / "train.jsonl")
    assert [m["role"] for m in train[0]["messages"]] == ["system", "user", "assistant"]
    assert "医生助手" in train[0]["messages"][0]["content"]
    hf = datasets.load_from_disk(str(out / artifacts["hf_dataset"]))
    assert {s: len(hf[s]) for s in hf} == {s: n for s, n in card["splits"].items() if n}
    assert hf["train"][0]["messages"] == train[0]["messages"]


def test_corpus_and_preference_pairs(messy_run):
    out, _, card = messy_run
    corpus = read_jsonl(out / "corpus.jsonl")
    assert len(corpus) == card["records_out"] == len({d["id"] for d in corpus})
    assert {"question", "split", "department"} <= set(corpus[0]["metadata"])
    pairs = read_jsonl(out / "preference_pairs.jsonl")
    generic = [p for p in pairs if p["kind"] == "generic"]
    safety = [p for p in pairs if p["kind"] == "safety"]
    assert len(generic) == card["splits"]["train"] and len(safety) == 8
    train_answers = {r["messages"][2]["content"] for r in read_jsonl(out / "train.jsonl")}
    assert all(p["chosen"][0]["content"] in train_answers for p in generic), "pairs come from the train split only"
    assert all(p["chosen"] != p["rejected"] for p in pairs)
    assert pairs[0]["prompt"][-1]["role"] == "user" and pairs[0]["chosen"][0]["role"] == "assistant"


def test_splits_are_seeded_and_keep_a_question_in_one_split(tmp_path):
    questions, answers = write_cmedqa2(tmp_path / "raw", 300, seed=1)
    runs = {}
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        run_prepare(tmp_path / name, CMedQA2Source(str(questions), str(answers)), seed=seed,
                    dedup={"near": False}, save_hf_dataset=False)
        runs[name] = {s: [r["id"] for r in read_jsonl(tmp_path / name / f"{s}.jsonl")] for s in SPLITS}
    assert runs["a"] == runs["b"] and runs["a"] != runs["c"]
    split_of_question = {}
    for split in SPLITS:
        for record in read_jsonl(tmp_path / "a" / f"{split}.jsonl"):
            qid = record["metadata"]["question_id"]
            assert split_of_question.setdefault(qid, split) == split, f"question {qid} is in two splits"
    assert len(runs["a"]["test"]) > 0 and len(runs["a"]["train"]) > len(runs["a"]["test"])


def test_contamination_with_an_eval_set_drops_overlapping_rows(tmp_path):
    csv_path = write_csv(tmp_path / "d.csv", "question,answer\n"
                         "我最近总是胸闷气短，上楼梯的时候特别明显，需要做什么检查,建议做心电图和心脏彩超检查\n"
                         "孩子咳嗽一周了怎么办,建议去儿科看看，听一下肺部\n")
    eval_path = tmp_path / "cmmlu.csv"
    eval_path.write_text(",Question,A,B,C,D,Answer\n0,患者胸闷气短，上楼梯的时候特别明显，最可能的诊断是,A,B,C,D,A\n", encoding="utf-8")
    _, card = run_prepare(tmp_path / "out", CsvSource(str(csv_path), ["question"], "answer"),
                          contamination={"ngram": 10, "eval_sets": [{"name": "cmmlu", "path": str(eval_path), "fields": ["Question"]}]})
    assert card["rejected"] == {"contaminated": 1} and card["records_out"] == 1
    reject = read_jsonl(tmp_path / "out" / "rejects.jsonl")[0]
    assert "cmmlu" in reject["detail"] and reject["where"] == "d.csv:2"


def test_limit_reads_only_the_first_records(tmp_path):
    questions, answers = write_cmedqa2(tmp_path / "raw", 100, seed=2)
    _, card = run_prepare(tmp_path / "out", CMedQA2Source(str(questions), str(answers)), limit=37, save_hf_dataset=False)
    assert card["records_in"] == 37 == card["records_out"] + card["rejected_total"]


def test_preference_builder_scales_past_5000_pairs(tmp_path):
    questions, answers = write_cmedqa2(tmp_path / "raw", 4000, seed=4, answers_per_question=(1, 2))
    _, card = run_prepare(tmp_path / "out", CMedQA2Source(str(questions), str(answers)), save_hf_dataset=False)
    assert card["preference_pairs"]["generic"] >= 5000
    assert card["preference_pairs"]["generic"] == card["splits"]["train"]
    capped_dir = tmp_path / "capped"
    _, capped = run_prepare(capped_dir, CMedQA2Source(str(questions), str(answers)), save_hf_dataset=False,
                            preferences={"max_pairs": 1000})
    assert capped["preference_pairs"] == {"generic": 1000, "safety": 8}


def test_data_card_records_encoding_hashes_and_counts(messy_run):
    out, _, card = messy_run
    [(path, meta)] = card["source"]["files"].items()
    assert meta["encoding"] == "gbk" and len(meta["sha256"]) == 64
    assert card["outputs"]["train"]["records"] == card["splits"]["train"]
    # the writers hash what they write: each output's hash is the hash of the file as it lies on disk
    for name, output in card["outputs"].items():
        assert output["sha256"] == sha256_file(out / f"{name}.jsonl"), name
    markdown = (out / "data_card.md").read_text(encoding="utf-8")
    assert f"records in: {card['records_in']}" in markdown and "gbk" in markdown
    assert json.loads((out / "data_card.json").read_text())["records_per_second"] > 0

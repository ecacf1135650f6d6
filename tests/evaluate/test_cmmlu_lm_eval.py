"""CMMLU through lm-evaluation-harness: medq's evaluate stage and the `lm_eval` command agree question by question.

Both run on the tiny Qwen3 built by the session fixtures and on small CMMLU CSVs written here (dev/ for the
few-shot examples, test/ for the questions). The `lm_eval` side is what a user of the field runs: the CLI,
`--model hf` loading the model folder itself, and a task YAML that includes lm-eval's own `cmmlu_<subject>.yaml`
and only points its rows at the local CSVs (no hub here).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from medq.errors import MedqError
from medq.evaluate import EvaluateStage
from medq.evaluate.cmmlu import CmmluEval
from medq.evaluate.lm_eval_tasks import task_folder

from tests.fixtures.training import context

HEADER = ",Question,A,B,C,D,Answer\n"
ANATOMY_DEV = [("壁胸膜的分部不包括", "肋胸膜", "肺胸膜", "膈胸膜", "胸膜顶", "B"),
               ("属于蝶骨上的结构为", "垂体窝", "棘孔", "破裂孔", "视神经管", "B"),
               ("咽的分部", "咽隐窝", "口咽部", "鼻咽部", "喉咽部", "C"),
               ("舌下神经核位于", "间脑", "延髓", "中脑", "脑桥", "B"),
               ("从脑干背侧出脑的脑神经是", "副神经", "三叉神经", "舌下神经", "滑车神经", "D")]
ANATOMY_TEST = [("胸骨角平对", "第1肋", "第2肋软骨", "第3肋", "第4肋", "B"),
                ("不属于下颌骨的结构是", "髁突", "冠突", "颏孔", "乳突", "D"),
                ("肝门静脉由哪两条静脉汇合而成", "肠系膜上静脉和脾静脉", "肠系膜下静脉和脾静脉", "胃左静脉和脾静脉",
                 "肠系膜上静脉和肠系膜下静脉", "A"),
                ("心尖的体表投影位于", "左侧第5肋间隙", "右侧第5肋间隙", "左侧第3肋间隙", "胸骨下端", "A"),
                ("成人脊髓下端平对", "第1腰椎下缘", "第3腰椎", "第12胸椎", "骶骨", "A"),
                ("人体最大的淋巴器官是", "胸腺", "脾", "扁桃体", "淋巴结", "B")]
VIROLOGY_DEV = [("乙型肝炎病毒的核酸类型是", "单股RNA", "双股RNA", "双股DNA", "单股DNA", "C"),
                ("流感病毒最易变异的结构是", "核蛋白", "M蛋白", "血凝素", "RNA聚合酶", "C"),
                ("HIV主要侵犯的细胞是", "CD4+T细胞", "CD8+T细胞", "B细胞", "NK细胞", "A"),
                ("可通过垂直传播的病毒是", "脊髓灰质炎病毒", "风疹病毒", "甲型肝炎病毒", "轮状病毒", "B"),
                ("狂犬病病毒的包涵体称为", "内基小体", "始体", "原体", "网状体", "A")]
VIROLOGY_TEST = [("引起婴幼儿腹泻最常见的病毒是", "轮状病毒", "腺病毒", "柯萨奇病毒", "埃可病毒", "A"),
                 ("病毒的基本结构是", "核衣壳", "包膜", "刺突", "壳粒", "A"),
                 ("干扰素抗病毒的机制是", "直接灭活病毒", "诱导细胞产生抗病毒蛋白", "阻止病毒吸附", "中和病毒", "B"),
                 ("麻疹病毒感染后最常见的并发症是", "肺炎", "脑炎", "中耳炎", "心肌炎", "A")]


def write_csv(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + "".join(f"{i},{','.join(r)}\n" for i, r in enumerate(rows)), encoding="utf-8")


def write_release(root):
    """Two subjects in CMMLU's release layout (dev/ and test/, one CSV per subject); returns root."""
    for subject, dev, test in (("anatomy", ANATOMY_DEV, ANATOMY_TEST), ("virology", VIROLOGY_DEV, VIROLOGY_TEST)):
        write_csv(root / "dev" / f"{subject}.csv", dev)
        write_csv(root / "test" / f"{subject}.csv", test)
    return root


@pytest.fixture(scope="module")
def cmmlu_dir(tmp_path_factory):
    return write_release(tmp_path_factory.mktemp("cmmlu"))


def run_lm_eval_cli(tmp_path, model_dir, cmmlu_dir, subjects, num_fewshot):
    """`lm_eval run` as a user runs it, with one task YAML per subject that only swaps the data source."""
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    lm_eval_cmmlu = task_folder("cmmlu")
    for subject in subjects:
        (tasks / f"local_cmmlu_{subject}.yaml").write_text(
            f"include: {lm_eval_cmmlu / f'cmmlu_{subject}.yaml'}\n"
            f"task: local_cmmlu_{subject}\n"
            "dataset_path: csv\ndataset_name: null\n"
            f"dataset_kwargs:\n  data_files:\n    test: {cmmlu_dir / 'test' / f'{subject}.csv'}\n"
            f"    dev: {cmmlu_dir / 'dev' / f'{subject}.csv'}\n", encoding="utf-8")
    out = tmp_path / "lm_eval_out"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    subprocess.run([sys.executable, "-m", "lm_eval", "run", "--model", "hf",
                    "--model_args", f"pretrained={model_dir},dtype=float32", "--device", "cpu", "--batch_size", "4",
                    "--include_path", str(tasks), "--tasks", ",".join(f"local_cmmlu_{s}" for s in subjects),
                    "--num_fewshot", str(num_fewshot), "--log_samples", "--output_path", str(out)],
                   check=True, env=env, capture_output=True, timeout=600)
    samples = {}
    for subject in subjects:
        [path] = out.rglob(f"samples_local_cmmlu_{subject}_*.jsonl")
        samples[subject] = sorted((json.loads(l) for l in path.read_text(encoding="utf-8").splitlines()),
                                  key=lambda s: s["doc_id"])
    return samples


@pytest.mark.slow  # runs the lm_eval CLI in a subprocess
def test_evaluate_stage_matches_the_lm_eval_cli_question_by_question(tmp_path, base, cmmlu_dir):
    subjects = ["anatomy", "virology"]
    stage = EvaluateStage(rouge={"enabled": False}, device="cpu", inputs={"model": "m", "template": "t"},
                          cmmlu={"subjects": subjects, "dir": str(cmmlu_dir), "num_fewshot": 5})
    assert set(stage.external_inputs()) == {cmmlu_dir / split / f"{s}.csv" for split in ("test", "dev") for s in subjects}
    out = tmp_path / "out"
    stage.run(context("evaluate", out, {"model": base["model"], "template": base["chat_template"]}))
    scores = json.loads((out / "scores.json").read_text())
    rows = [json.loads(line) for line in (out / "cmmlu.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(ANATOMY_TEST) + len(VIROLOGY_TEST) == scores["cmmlu.questions"]

    reference = run_lm_eval_cli(tmp_path, base["model"], cmmlu_dir, subjects, num_fewshot=5)
    for subject in subjects:
        ours = [r for r in rows if r["subject"] == subject]
        theirs = reference[subject]
        assert [r["doc_id"] for r in ours] == [s["doc_id"] for s in theirs]
        for row, sample in zip(ours, theirs):
            logliks = [float(resp[0]) for resp in sample["filtered_resps"]]
            assert row["choice"] == "ABCD"[max(range(4), key=logliks.__getitem__)], (subject, row["doc_id"])
            assert [row["loglik"][l] for l in "ABCD"] == pytest.approx(logliks, abs=1e-4)
            assert (row["acc"], row["acc_norm"]) == (sample["acc"], sample["acc_norm"])
        assert scores[f"cmmlu.{subject}.acc"] == pytest.approx(sum(s["acc"] for s in theirs) / len(theirs))

    # the prompt lm-eval built: description, five dev examples with their answers, the question, " A".." D"
    first_option = reference["anatomy"][0]["arguments"]["gen_args_0"]  # lm-eval's sample log: (context, continuation)
    context_text, continuation = first_option["arg_0"], first_option["arg_1"]
    shot = "{}\nA. {}\nB. {}\nC. {}\nD. {}\n答案："
    expected = "以下是关于解剖学的单项选择题，请直接给出正确答案的选项。\n\n" + "".join(
        shot.format(*row[:5]) + " " + row[5] + "\n\n" for row in ANATOMY_DEV) + shot.format(*ANATOMY_TEST[0][:5])
    assert context_text == expected and continuation == " A"
    assert rows[0]["prompt"] == expected and rows[0]["question"] == ANATOMY_TEST[0][0]
    # group score: lm-eval's size-weighted mean over subjects = pooled accuracy over all questions
    assert scores["cmmlu.acc"] == pytest.approx(sum(r["acc"] for r in rows) / len(rows))
    assert scores["cmmlu.acc_norm"] == pytest.approx(sum(r["acc_norm"] for r in rows) / len(rows))


def test_zero_shot_needs_no_dev_files(tmp_path, base, cmmlu_dir):
    only_test = tmp_path / "cmmlu"
    write_csv(only_test / "virology_test.csv", VIROLOGY_TEST)
    stage = EvaluateStage(rouge={"enabled": False}, device="cpu", inputs={"model": "m", "template": "t"},
                          cmmlu={"subjects": ["virology"], "dir": str(only_test), "num_fewshot": 0})
    assert stage.external_inputs() == [only_test / "virology_test.csv"]
    stage.run(context("evaluate", tmp_path / "out", {"model": base["model"], "template": base["chat_template"]}))
    rows = [json.loads(line) for line in (tmp_path / "out" / "cmmlu.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["doc_id"] for r in rows] == [0, 1, 2, 3] and all(r["file"] == "virology_test.csv" for r in rows)


def test_cmmlu_config_names_what_is_wrong(tmp_path, cmmlu_dir):
    with pytest.raises(MedqError, match="evaluate.cmmlu.dir is missing"):
        CmmluEval(subjects=["anatomy"])
    from medq.evaluate.cmmlu import check_files

    with pytest.raises(MedqError, match=r"'anatomyy' has no test CSV: .*test/anatomyy.csv does not exist"):
        CmmluEval(subjects=["anatomyy"], dir=str(cmmlu_dir))
    misnamed = tmp_path / "misnamed"
    write_csv(misnamed / "anatomyy.csv", ANATOMY_TEST)
    with pytest.raises(MedqError, match=r"'anatomyy' \(.*anatomyy.csv\) is not a CMMLU subject of lm-eval"):
        CmmluEval(dir=str(misnamed), num_fewshot=0)
    broken = tmp_path / "cmmlu"
    write_csv(broken / "test" / "anatomy.csv", ANATOMY_TEST[:2] + [("q", "1", "2", "3", "4", "E")])
    write_csv(broken / "dev" / "anatomy.csv", ANATOMY_DEV)
    with pytest.raises(MedqError, match=r"anatomy.csv: line 4: Answer must be A, B, C or D, got 'E'"):
        check_files(CmmluEval(subjects=["anatomy"], dir=str(broken)))

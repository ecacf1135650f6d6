"""How much of the drug vocabulary real doctors use the knowledge base recognises (a report, not a unit test).

Run from the repository root:

    OMP_NUM_THREADS=1 python benchmarks/lexicon_coverage.py                     # ../shared/data/dialogue_im_dev.gbk.csv
    OMP_NUM_THREADS=1 python benchmarks/lexicon_coverage.py --data FILE.csv --encoding gbk --column answer --top 80

What it counts: drug-like names in the doctors' answers — a word (jieba, with parts of speech) that ends in a dosage
form (片, 胶囊, 颗粒, 口服液, 注射液, 滴眼液, 软膏, 丸 ...) or holds a generic-name stem (霉素, 西林, 头孢, 沙星, 洛尔,
地平, 普利, 沙坦, 他汀, 拉唑, 替丁 ...), extended to the left over the nouns before it and never over a verb or a
particle (口服, 可以, 也).
A name is recognised when a drug, product or class of the knowledge base (exactly or through a typo) covers its
stem. Reported: occurrences and distinct names, the unrecognised share (target < 5 %), and the most frequent
unrecognised names, so a pharmacist can add them. The heuristic also picks up a few non-drug words (e.g. 药片);
they are listed too, not hidden. Printed, written to --out (JSON) and logged to MLflow (run `lexicon_coverage`).
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import os
import re
from pathlib import Path

FORMS = ("缓释片", "控释片", "肠溶片", "分散片", "泡腾片", "咀嚼片", "含片", "片", "缓释胶囊", "肠溶胶囊", "软胶囊", "胶囊",
         "颗粒", "冲剂", "口服液", "口服溶液", "合剂", "糖浆", "混悬液", "注射液", "针剂", "滴眼液", "眼药水", "眼膏", "滴鼻液",
         "滴耳液", "喷雾剂", "气雾剂", "软膏", "乳膏", "凝胶", "栓剂", "丸")
STEMS = re.compile(r"(霉素|西林|沙星|洛尔|地平|普利|沙坦|他汀|拉唑|替丁|西汀|唑仑|西泮|格列|列净|列汀|洛芬|昔康|昔布|米松|尼松|松龙|"
                   r"可的松|芬酸|双胍|胰岛素|雷他定|替利嗪|那敏|康唑|硝唑|环素|头孢|嗪|韦|磺胺)")
# parts of speech (jieba) a drug name is built from; a verb, adverb, preposition, pronoun ... ends it
NAME_POS = {"n", "nz", "nr", "ns", "nt", "nrt", "nrfg", "eng", "an", "ng", "j", "l", "i", "b", "x"}
# words jieba may tag as nouns that only introduce a name (建议服食护肝片 → 护肝片)
LEADING = re.compile(r"^(?:建议|服食|口服|服用|比如说|比方说|比如|例如|互相配合|配合|专心|动用|仔细检查|中药|西药|空腹|可以|"
                     r"考虑|适当|选用|外用|局部|应用|使用|同时|或者|以及|还有|另外|长期|坚持|按时|定期)+")
NOT_DRUGS = {"药片", "药丸", "胶囊", "颗粒", "中药丸", "名片", "照片", "图片", "切片", "一片", "大片", "小片", "卡片", "刀片",
             "玻璃片", "肉丸", "鱼丸", "睾丸", "丸子", "糖丸", "西药片", "中药片", "维生素片", "燕麦片", "麦片", "薯片", "炸薯片",
             "胸片", "拍片", "影片", "科教片", "排片", "每片", "三片", "两片", "半片", "糖衣片", "含糖衣片", "黄色小片", "白色小片",
             "中药饮片", "饮片", "药物颗粒", "纳米颗粒", "能量合剂", "感冒药", "X光片", "牙片", "底片", "唱片", "鳞片", "碎片"}


def candidates(text: str) -> list[tuple[int, int, str]]:
    """Drug-like names: a word that ends in a dosage form or holds a generic stem, extended to the left over the
    nouns before it (养血 清脑 颗粒), never over a verb or a particle (口服, 可以, 也)."""
    import jieba.posseg

    words = [(w.word, w.flag) for w in jieba.posseg.lcut(text)]
    found, position, starts = [], 0, []
    for word, _ in words:
        starts.append(position)
        position += len(word)
    for index, (word, flag) in enumerate(words):
        drug_like = word.endswith(FORMS) or (len(word) >= 3 and STEMS.search(word) and flag in NAME_POS)
        if not drug_like or not re.fullmatch(r"[\u4e00-\u9fff]+", word):
            continue
        first = index
        while first > 0 and words[first - 1][1] in NAME_POS and re.fullmatch(r"[\u4e00-\u9fff]+", words[first - 1][0]) \
                and starts[index] + len(word) - starts[first - 1] <= 12:
            first -= 1
        name = "".join(w for w, _ in words[first:index + 1])
        trimmed = LEADING.sub("", name)
        if len(trimmed) >= 2 and trimmed not in NOT_DRUGS and trimmed not in FORMS:
            end = starts[index] + len(word)
            found.append((end - len(trimmed), end, trimmed))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(Path("..") / "shared" / "data" / "dialogue_im_dev.gbk.csv"))
    parser.add_argument("--encoding", default="gbk")
    parser.add_argument("--column", default="answer")
    parser.add_argument("--knowledge-dir", default=None)
    parser.add_argument("--top", type=int, default=60)
    parser.add_argument("--out", default=None, help="JSON report path (default: print only)")
    parser.add_argument("--no-mlflow", action="store_true")
    args = parser.parse_args()

    from medq.agent.knowledge import Lexicon

    lexicon = Lexicon.load(args.knowledge_dir)
    path = Path(args.data)
    if not path.is_file():
        raise SystemExit(f"{path}: not found (--data)")
    recognised, unrecognised = collections.Counter(), collections.Counter()
    answers = 0
    with open(path, encoding=args.encoding, errors="replace", newline="") as handle:
        for row in csv.DictReader(handle):
            text = row.get(args.column) or ""
            answers += 1
            mentions = [m for m in lexicon.find_mentions(text) if m.kind in ("drug", "product", "class")]
            for start, end, name in candidates(text):
                covered = any(m.start < end and start < m.end for m in mentions)
                (recognised if covered else unrecognised)[name] += 1
    total = sum(recognised.values()) + sum(unrecognised.values())
    distinct = len(set(recognised) | set(unrecognised))
    figures = {"answers": answers, "drug_like_occurrences": total, "drug_like_distinct": distinct,
               "unrecognised_occurrences": sum(unrecognised.values()),
               "unrecognised_share": round(sum(unrecognised.values()) / total, 4) if total else 0.0,
               "unrecognised_distinct": len(unrecognised),
               "unrecognised_distinct_share": round(len(unrecognised) / distinct, 4) if distinct else 0.0}
    report = {"data": str(path), "column": args.column, "results": figures,
              "unrecognised_top": unrecognised.most_common(args.top)}
    print(json.dumps(report, indent=1, ensure_ascii=False))
    if args.out:
        Path(args.out).write_text(json.dumps({**report, "unrecognised_all": unrecognised.most_common()},
                                             ensure_ascii=False, indent=1), encoding="utf-8")
    if not args.no_mlflow:
        from medq.tracking import MlflowTracker

        root = Path(os.environ.get("MEDQ_HOME", os.getcwd()))
        tracker = MlflowTracker(f"sqlite:///{root}/mlruns/mlflow.db", "benchmarks", f"{root}/mlruns/artifacts")
        with tracker.pipeline_run("lexicon_coverage", {"data": str(path)}, {"benchmark": "lexicon_coverage"}) as run:
            run.log_metrics({k: float(v) for k, v in figures.items()})


if __name__ == "__main__":
    main()

"""The knowledge base (schema v2): the shipped files, names and typos, cross-reactivity, the overlay a hospital lays
over it, row/column errors, and the DDInter importer on a CSV in DDInter's own column layout."""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

import pytest

from medq.agent.knowledge import COLUMNS, Lexicon, import_ddinter, main, parse_amount, parse_population
from medq.errors import MedqError


@lru_cache(maxsize=1)
def shipped() -> Lexicon:
    return Lexicon.load()


def test_shipped_knowledge_covers_common_chinese_practice():
    lex = shipped()
    assert len(lex.drugs) >= 150 and len(lex.rules) >= 1000
    assert lex.ingredients("芬必得") == ["布洛芬"]
    assert lex.resolve_drug("泰诺林") == "对乙酰氨基酚"
    assert lex.resolve_drug("ASPIRIN") == "阿司匹林"          # case and width folded
    assert set(lex.ingredients("新康泰克")) == {"伪麻黄碱", "氯苯那敏"}
    assert lex.canonical("血压高", ("condition",)) == "高血压"
    assert lex.condition_ancestors("胃溃疡") == {"胃溃疡", "消化性溃疡"}
    # graded and distinct conditions are not merged
    assert lex.canonical("慢性肾病", ("condition",)) == "慢性肾脏病"
    assert "肾功能不全" not in lex.condition_ancestors("慢性肾脏病")
    assert lex.canonical("闭角型青光眼", ("condition",)) == "闭角型青光眼" != lex.canonical("青光眼", ("condition",))
    for rule in lex.rules.values():   # every rule names its source; nothing shipped claims a review
        assert rule.source and not rule.reviewed_by


def test_traditional_script_and_typos_are_found():
    lex = shipped()
    assert [m.canonical for m in lex.find_mentions("我對頭孢過敏")] == ["头孢菌素类"]
    typo = lex.find_mentions("可以吃阿莫西邻")          # a homophone typo (same pinyin), not listed as an alias
    assert [(m.canonical, m.fuzzy) for m in typo] == [("阿莫西林", True)]
    assert lex.resolve_drug("氯雷他丁") == "氯雷他定"
    assert lex.resolve_drug("左氧氟沙心片") is not None   # one edit in a name of ≥ 5 characters
    assert lex.find_mentions("今天天气很好，多喝水") == []   # no typo matches in ordinary words


def test_mentions_are_leftmost_longest_and_typed():
    mentions = shipped().find_mentions("我对青霉素过敏，想吃头孢克洛或者新康泰克，血压高")
    assert [(m.text, m.kind) for m in mentions] == [
        ("青霉素", "class"), ("头孢克洛", "drug"), ("新康泰克", "product"), ("血压高", "condition")]
    assert [m.canonical for m in mentions][::3] == ["青霉素类", "高血压"]
    assert set(shipped().ingredients(mentions[2].canonical)) == {"伪麻黄碱", "氯苯那敏"}
    assert shipped().find_mentions("happiness") == []   # a Latin alias inside a longer Latin word is no mention
    assert [m.canonical for m in shipped().find_mentions("先用PPI护胃")] == ["质子泵抑制剂"]


def test_allergy_closure_follows_class_cross_reactivity():
    lex = shipped()
    direct, cross = lex.allergy_closure("青霉素")
    assert direct == {"青霉素类"} and "头孢菌素类" in cross and "大环内酯类" not in cross
    assert lex.allergy_closure("阿司匹林") == ({"阿司匹林"}, {"非甾体抗炎药"})
    direct, cross = lex.allergy_closure("阿莫西林")
    assert direct == {"阿莫西林"} and {"青霉素类", "头孢菌素类"} <= cross
    # no allergy group: no class-wide allergy, only the drug and its single enantiomer (round 17)
    assert lex.allergy_closure("氨氯地平") == ({"氨氯地平", "左氨氯地平"}, set())


def test_amounts_and_populations_parse():
    assert parse_amount("325mg") == (325, False) and parse_amount("0.3g") == (300, False)
    assert parse_amount("50μg") == (0.05, False) and parse_amount("100mg/5ml") == (20, True)
    assert parse_amount("20mg/ml") == (20, True)
    terms = parse_population("age>=65&condition:良性前列腺增生")
    assert [str(t) for t in terms] == ["age>=65", "condition:良性前列腺增生"]
    with pytest.raises(ValueError, match="not a population term"):
        parse_population("elderly")


def _overlay(tmp_path: Path, name: str, rows: list[list[str]]) -> Path:
    folder = tmp_path / "formulary"
    folder.mkdir(exist_ok=True)
    with open(folder / name, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS[name])
        writer.writerows(rows)
    return folder


def test_a_hospital_overlays_its_formulary(tmp_path):
    folder = _overlay(tmp_path, "substances.csv", [["院内制剂甲", "", "", "解热镇痛药", "drug", "hospital", "张药师"]])
    _overlay(tmp_path, "aliases.csv", [["甲片", "院内制剂甲", "brand", "hospital"]])
    _overlay(tmp_path, "rules.csv", [
        ["H0001", "dosing", "院内制剂甲", "", "", "reduce", "critical", "", "", "", "900", "", "", "hospital", "张药师"]])
    lex = Lexicon.load(folder)
    assert lex.resolve_drug("甲片") == "院内制剂甲" and lex.rules["H0001"].max_mg_day == 900
    assert lex.rules["H0001"].reviewed_by == "张药师"
    assert len(lex.drugs) == len(shipped().drugs) + 1       # the shipped rows stay
    assert "院内制剂甲" not in shipped().drugs
    # a row with a shipped key replaces the shipped row
    first = next(iter(shipped().rules.values()))
    _overlay(tmp_path, "rules.csv", [[first.id, "warning", first.subject, "", "", "caution", "info", "", "", "", "",
                                      "院内规定", "", "hospital", "李药师"]])
    replaced = Lexicon.load(folder).rules[first.id]
    assert replaced.action == "caution" and replaced.reviewed_by == "李药师"


@pytest.mark.parametrize("file, row, message", [
    ("rules.csv", ["H1", "contraindication", "布洛芬", "", "condition:胃肠溃疡", "avoid", "critical", "", "", "", "",
                   "", "", "insert", ""], "rules.csv: row 2, column population: unknown condition '胃肠溃疡'"),
    ("rules.csv", ["H1", "dosing", "布洛芬", "", "", "reduce", "critical", "", "", "", "2400mg", "", "", "insert", ""],
     "rules.csv: row 2, column max_mg_day: not a number: '2400mg'"),
    ("rules.csv", ["H1", "interaction", "布洛芬", "不存在的药", "", "avoid", "critical", "", "", "", "", "", "", "insert",
                   ""], "rules.csv: row 2, column interactant: '不存在的药' is not a substance"),
    ("rules.csv", ["H1", "contraindication", "布洛芬", "", "age<12", "sometimes", "critical", "", "", "", "", "", "",
                   "insert", ""], "rules.csv: row 2, column action: 'sometimes' is not one of"),
    ("rules.csv", ["H1", "contraindication", "布洛芬", "", "age<12", "avoid", "critical", "", "", "", "", "", "", "",
                   ""], "rules.csv: row 2, column source: every rule names its source"),
    ("substances.csv", ["院内制剂乙", "", "", "非甾体抗炎", "drug", "hospital", ""],
     "substances.csv: row 2, column classes: unknown class '非甾体抗炎'"),
    ("products.csv", ["院内合剂", "Rx", "syrup", "布洛芬=20毫克每毫升", "hospital", ""],
     "products.csv: row 2, column ingredients: amount '20毫克每毫升' of 布洛芬"),
    ("aliases.csv", ["布洛芬", "对乙酰氨基酚", "brand", "hospital"],     # an alias may not take a substance's name
     "aliases.csv: row 2, column alias: name '布洛芬' is already used by"),
    ("aliases.csv", ["某药", "不存在", "brand", "hospital"],
     "aliases.csv: row 2, column target: '不存在' is not a substance"),
])
def test_a_bad_row_names_file_row_and_column(tmp_path, file, row, message):
    folder = _overlay(tmp_path, file, [row])
    with pytest.raises(MedqError) as info:
        Lexicon.load(folder)
    assert str(info.value).startswith(str(folder / file)), str(info.value)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_bad_header_missing_folder_and_column_count_are_named(tmp_path):
    folder = tmp_path / "formulary"
    folder.mkdir()
    (folder / "classes.csv").write_text("class,aliases\n", encoding="utf-8")
    with pytest.raises(MedqError, match="classes.csv: row 1: header must be name,parents"):
        Lexicon.load(folder)
    (folder / "classes.csv").write_text(",".join(COLUMNS["classes.csv"]) + "\n某类,,no\n", encoding="utf-8")
    with pytest.raises(MedqError, match="classes.csv: row 2: expected 6 columns, got 3"):
        Lexicon.load(folder)
    with pytest.raises(MedqError, match="knowledge folder not found"):
        Lexicon.load(tmp_path / "nowhere")


def test_ddinter_import_writes_an_overlay_that_the_auditor_reads(tmp_path):
    from medq.agent.auditor import ContraindicationAuditor
    from medq.agent.facts import PatientProfile

    source = tmp_path / "ddinter_downloads_code_A.csv"
    with open(source, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["DDInterID_A", "Drug_A", "DDInterID_B", "Drug_B", "Level"])
        writer.writerow(["DDInter1", "Amlodipine", "DDInter2", "Simvastatin", "Major"])
        writer.writerow(["DDInter1", "Amlodipine", "DDInter3", "Notadrugatall", "Major"])
        writer.writerow(["DDInter4", "Omeprazole", "DDInter5", "Amoxicillin", "Minor"])
        writer.writerow(["DDInter4", "Omeprazole", "DDInter5", "Amoxicillin", "Unknown"])
    lex = shipped()
    assert lex.canonical("amlodipine", ("drug",)) == "氨氯地平"
    out = tmp_path / "overlay"
    stats = import_ddinter([source], out, lex)
    assert stats == {"rows": 4, "imported": 2, "unknown_drug": 1, "skipped_level": 1, "duplicates": 0}
    rows = list(csv.DictReader(open(out / "rules.csv", encoding="utf-8")))
    assert {(r["subject"], r["interactant"], r["action"], r["source"]) for r in rows} == {
        ("氨氯地平", "辛伐他汀", "avoid", "DDInter"), ("奥美拉唑", "阿莫西林", "caution", "DDInter")}
    overlaid = Lexicon.load(out)
    profile = PatientProfile.from_case({"medications": ["辛伐他汀"]})
    assert ContraindicationAuditor(overlaid).audit("可以加用氨氯地平。", profile).blocked
    assert main(["import-ddinter", str(source), "--out", str(out)]) == 0     # re-import replaces, keeps one copy
    assert len(list(csv.DictReader(open(out / "rules.csv", encoding="utf-8")))) == 2
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(MedqError, match="bad.csv: row 1: not a DDInter interaction CSV"):
        import_ddinter([tmp_path / "bad.csv"], out, lex)

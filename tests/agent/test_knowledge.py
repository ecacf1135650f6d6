"""The shipped lexicon: size, normalisation, mention finding, cross-reactivity; a bad row names file, row, column."""

from __future__ import annotations

import shutil
from functools import lru_cache
from pathlib import Path

import pytest

from medq.agent.knowledge import DEFAULT_DIR, Lexicon
from medq.errors import MedqError


@lru_cache(maxsize=1)
def shipped() -> Lexicon:
    return Lexicon.load()


def test_shipped_lexicon_covers_common_chinese_practice():
    lex = shipped()
    assert len(lex.drugs) >= 150
    assert lex.resolve_drug("芬必得") == "布洛芬"
    assert lex.resolve_drug("泰诺林") == "对乙酰氨基酚"
    assert lex.resolve_drug("ASPIRIN") == "阿司匹林"          # case and width folded
    assert lex.ingredients("新康泰克") == ["伪麻黄碱", "氯苯那敏"]
    assert lex.canonical("血压高", ("condition",)) == "高血压"
    assert lex.condition_ancestors("胃溃疡") == {"胃溃疡", "消化性溃疡"}
    for drug in lex.drugs.values():  # every reference resolves: load() would have failed otherwise
        assert set(drug.classes) <= set(lex.classes)


def test_mentions_are_leftmost_longest_and_typed():
    mentions = shipped().find_mentions("我对青霉素过敏，想吃头孢克洛或者新康泰克，血压高")
    assert [(m.text, m.kind, m.canonical) for m in mentions] == [
        ("青霉素", "class", "青霉素类"), ("头孢克洛", "drug", "头孢克洛"),
        ("新康泰克", "product", "新康泰克"), ("血压高", "condition", "高血压")]
    # a Latin alias inside a longer Latin word is not a mention
    assert shipped().find_mentions("happiness") == []
    assert [m.canonical for m in shipped().find_mentions("先用PPI护胃")] == ["质子泵抑制剂"]


def test_allergy_closure_follows_class_cross_reactivity():
    lex = shipped()
    assert lex.allergy_closure("青霉素") == ({"青霉素类"}, {"头孢菌素类"})
    assert lex.allergy_closure("阿司匹林") == ({"阿司匹林"}, {"非甾体抗炎药"})
    direct, cross = lex.allergy_closure("阿莫西林")
    assert direct == {"阿莫西林"} and cross == {"青霉素类", "头孢菌素类"}
    assert lex.allergy_closure("氨氯地平") == ({"氨氯地平"}, set())   # no allergy group: no class-wide allergy


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "formulary"
    shutil.copytree(DEFAULT_DIR, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("file, old, new, message", [
    ("drugs.csv", "布洛芬,芬必得|美林", "布洛芬,美林", None),   # control: a valid edit loads
    ("drugs.csv", ",avoid,safe,0.5,抗凝药", ",sometimes,safe,0.5,抗凝药",
     "drugs.csv: row 2, column pregnancy: 'sometimes' is not one of safe|caution|avoid|contraindicated"),
    ("drugs.csv", "非甾体抗炎药|解热镇痛药,发热|头痛|牙痛", "非甾体抗炎|解热镇痛药,发热|头痛|牙痛",
     "drugs.csv: row 2, column classes: unknown class '非甾体抗炎'"),
    ("drugs.csv", "锂盐,2400,300", "锂盐,2400mg,300", "drugs.csv: row 2, column max_daily_mg: not a number: '2400mg'"),
    ("drugs.csv", "甲氨蝶呤|糖皮质激素|锂盐,2400", "甲氨喋呤|糖皮质激素|锂盐,2400",
     "drugs.csv: row 2, column interacts_with: '甲氨喋呤' is not a drug, class or substance"),
    ("drugs.csv", "泰诺林|必理通", "芬必得|必理通", "drugs.csv: row 3, column aliases: name '芬必得' is already used by "
                                             "drugs.csv row 2"),
    ("products.csv", "伪麻黄碱|氯苯那敏", "伪麻黄素|氯苯那敏", "products.csv: row 2, column components: unknown drug '伪麻黄素'"),
    ("conditions.csv", "心肌梗塞,冠心病", "心肌梗塞,冠状动脉病", "conditions.csv: row 6, column parents: unknown condition"),
    ("classes.csv", "class,aliases", "klass,aliases", "classes.csv: row 1: header must be class,aliases"),
    ("substances.csv", "芒果,", "芒果,,extra", "substances.csv: row 8: expected 2 columns, got 3"),
    ("classes.csv", "青霉素类,青霉素|盘尼西林|青霉素类抗生素|penicillins,yes",
     "青霉素类,青霉素|盘尼西林|青霉素类抗生素|penicillins,maybe", "classes.csv: row 2, column allergy_group"),
])
def test_a_bad_row_names_file_row_and_column(tmp_path, file, old, new, message):
    folder = _copy(tmp_path)
    _edit(folder / file, old, new)
    if message is None:
        assert Lexicon.load(folder).resolve_drug("芬必得") is None
        return
    with pytest.raises(MedqError) as info:
        Lexicon.load(folder)
    assert str(info.value).startswith(str(folder / file)), str(info.value)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file_and_missing_folder_are_named(tmp_path):
    folder = _copy(tmp_path)
    (folder / "substances.csv").unlink()
    with pytest.raises(MedqError, match="substances.csv: knowledge file missing"):
        Lexicon.load(folder)
    with pytest.raises(MedqError, match="knowledge folder not found"):
        Lexicon.load(tmp_path / "nowhere")


def test_a_hospital_formulary_is_just_another_folder(tmp_path):
    folder = _copy(tmp_path)
    with open(folder / "drugs.csv", "a", encoding="utf-8") as handle:
        handle.write("院内制剂甲,甲片,解热镇痛药,发热,肝功能不全,avoid,avoid,12,,900,300\n")
    lex = Lexicon.load(folder)
    assert lex.resolve_drug("甲片") == "院内制剂甲" and lex.drugs["院内制剂甲"].max_daily_mg == 900
    assert "院内制剂甲" not in shipped().drugs

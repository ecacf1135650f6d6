"""Round 12 memory (conditions.csv rows and extraction): oncology, hepatology and infection names patients use,
and whose fact it is when a relative writes. Sentences written for these tests."""

from functools import lru_cache

import pytest

from medq.agent.extraction import RuleBasedExtractor
from medq.agent.knowledge import Lexicon


@lru_cache(maxsize=1)
def extractor() -> RuleBasedExtractor:
    return RuleBasedExtractor(Lexicon.load())


def conditions(message: str) -> set[str]:
    return {f.value for f in extractor().extract(message) if f.kind == "condition" and f.status == "active"}


@pytest.mark.parametrize("message, expected", [
    ("我45岁女的，卵巢癌化疗中", "卵巢癌"),
    ("我是鼻咽癌，放疗中", "鼻咽癌"),
    ("孩子9岁，30公斤，骨肉瘤化疗后", "骨肉瘤"),
    ("我有胃肠间质瘤", "胃肠间质瘤"),
    ("我有酒精肝，戒酒了", "酒精性肝病"),
    ("我有肝性脑病", "肝性脑病"),
    ("我做过胆囊切除", "胆囊切除术后"),
    ("我在用伏立康唑治曲霉菌", "曲霉病"),
])
def test_names_patients_use(message, expected):
    assert expected in conditions(message)


def test_thyroid_cancer_after_surgery_is_not_breast_cancer():
    found = conditions("我甲状腺癌术后吃优甲乐")
    assert "甲状腺癌" in found and not any(name.startswith("乳腺癌") for name in found)


def test_bone_metastasis_beside_its_primary():
    assert {"乳腺癌", "骨转移"} <= conditions("我乳腺癌骨转移")

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


def facts(message: str) -> set[tuple[str, str]]:
    return {(f.kind, f.value) for f in extractor().extract(message) if f.status == "active"}


def test_a_relative_asking_through_the_writer_is_the_patient():
    found = facts("我爸70岁，胃癌术后在吃替吉奥，他想问能不能吃阿胶")
    assert {("age", "70"), ("sex", "male"), ("condition", "胃癌"), ("medication", "替吉奥")} <= found


def test_the_writer_who_asks_for_a_mother_gives_her_sex_not_his():
    found = facts("我妈卵巢癌，我是帮我妈问的，她62岁")
    assert {("age", "62"), ("sex", "female"), ("condition", "卵巢癌")} <= found and ("sex", "male") not in found


def test_the_writer_named_by_kin_is_not_the_patient():
    found = facts("家里老人81岁，胃癌晚期，我是她孙子来问问")
    assert {("age", "81"), ("condition", "胃癌")} <= found and ("sex", "male") not in found


def test_a_relative_named_without_asking_stays_the_relative():
    assert facts("我妈有糖尿病，在吃二甲双胍，我想问问她能不能吃阿胶") == set()
    assert facts("我老公有痛风，我自己是偏头痛") == {("condition", "偏头痛")}


def test_a_writer_who_speaks_of_themselves_stays_the_patient():
    assert facts("帮我爸问一下：他对青霉素过敏。我自己没有过敏的药") == set()
    assert facts("我30岁，我妈有哮喘，她能吃布洛芬吗？我是替她问问") == {("age", "30")}


def test_a_patch_taken_off_and_a_course_finished_are_stopped():
    stopped = {f.value for f in extractor().extract("之前贴过芬太尼贴，上周已经不贴了") if f.status == "stopped"}
    assert stopped == {"芬太尼"}
    known = extractor().extract("我在吃左氧氟沙星", "m1")
    last = extractor().extract("左氧氟沙星前天吃完最后一片了，疗程结束", "m2", known)
    assert {(f.value, f.status) for f in last} == {("左氧氟沙星", "stopped")}


def test_always_sleepless_is_the_condition_lately_sleepless_is_not():
    assert "失眠" in conditions("我42岁，最近总失眠")
    assert "失眠" not in conditions("我最近失眠")


def test_a_condition_denied_by_name_is_not_brought_back_by_a_reading():
    found = {(f.value, f.status) for f in extractor().extract("我没有糖尿病，只是吃泼尼松那段时间血糖高")}
    assert ("糖尿病", "denied") in found and ("糖尿病", "active") not in found
    assert ("高血压", "active") in {(f.value, f.status) for f in extractor().extract("我以前没有高血压，现在有高血压了")}


def test_an_allergy_found_out_to_be_none_is_taken_back_in_the_same_message():
    found = {(f.value, f.status) for f in extractor().extract("我一直说自己对头孢过敏，后来做了皮试是阴性，医生说其实不过敏")}
    assert found == {("头孢菌素类", "denied")}
    assert ("头孢菌素类", "active") in {(f.value, f.status) for f in extractor().extract("我对头孢过敏，其他药不过敏")}
    assert ("头孢菌素类", "active") in {(f.value, f.status)
                                     for f in extractor().extract("我对头孢过敏，后来发现对青霉素不过敏")}


def test_a_reading_the_lexicon_files_under_the_denied_name_stays():
    assert ("痛风", "active") in {(f.value, f.status) for f in extractor().extract("我不是痛风，医生说只是尿酸高")}

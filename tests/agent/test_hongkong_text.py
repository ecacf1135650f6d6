"""Hong Kong usage and Cantonese wording: the regional table maps Cantonese function words (食緊, 冇, 咗, 唔, 係, 敏感)
to the mainland forms every matcher already reads, length-preserving, and Hong Kong names are aliases. Sentences are
the test's own."""

import pytest

from medq.agent import text
from medq.agent.facts import PatientProfile
from tests.agent.test_taiwan_text import auditor, facts, lexicon   # the same cached lexicon, auditor and reader




@pytest.mark.parametrize("cantonese", [
    "我而家食緊降壓藥，琴日冇食", "佢哋話唔好同酒一齊食", "我係女人，有咗BB", "腎功能唔好，驗GFR得40",
    "我同埋阿媽都對花粉敏感", "食物同飲食都冇問題"])
def test_cantonese_conversion_keeps_the_length(cantonese):
    assert len(text.to_simplified(cantonese)) == len(cantonese)
    assert len(text.normalise(cantonese)) == len(cantonese)


def test_cantonese_function_words_become_the_mainland_forms():
    assert text.to_simplified("我食緊薯片，冇食咗其他") == "我在吃薯片，没吃了其他"
    assert text.to_simplified("唔係呢個，係嗰個") == "不是这个，是那个"
    assert text.to_simplified("每日唔好超過3次") == "每日不要超过3次"
    assert text.to_simplified("佢肝功能唔好") == "他肝功能不好"          # 不好 after a function, 不要 before a verb
    assert text.to_simplified("對塵蟎敏感") == "对尘螨过敏"


def test_food_and_system_words_keep_their_characters():
    assert text.to_simplified("注意飲食，少食多餐的食物") == "注意饮食，少吃多餐的食物"
    assert text.to_simplified("系统性疾病和关系不大") == "系统性疾病和关系不大"   # mainland text is left as it is
    assert text.to_simplified("这种细菌对它很敏感") == "这种细菌对它很敏感"       # a sensitive germ is no allergy


def test_hong_kong_names_resolve_in_the_lexicon():
    lex = lexicon()
    assert lex.lookup("鼻敏感") == ("condition", "过敏性鼻炎")
    assert lex.lookup("柏金遜") == ("condition", "帕金森病")
    assert lex.lookup("脷底丸") == ("drug", "硝酸甘油")


def test_the_extractor_reads_cantonese_messages():
    got = facts("我而家食緊立普妥，每晚一粒。")
    assert ("medication", "阿托伐他汀", "active") in got
    assert facts("本人女人，冇懷孕，不過餵緊人奶。") == {
        ("sex", "female", "active"), ("pregnancy", "false", "active"), ("lactation", "true", "active")}
    got = facts("我對安莫西林敏感，一食就出風癩。")
    assert any(k == "allergy" for k, _, _ in got)
    got = facts("我之前食開冠脂妥，上星期轉咗立普妥。")
    assert ("medication", "阿托伐他汀", "active") in got
    assert ("medication", "瑞舒伐他汀", "active") not in got


def test_a_cantonese_dose_cap_is_read_as_a_cap():
    # every 4 hours would be six doses a day (6 g): the cap of four is what keeps it at 4 g
    draft = "撲熱息痛每次1000mg，每4小時一次，每日唔好超過4次。"
    assert auditor().audit(draft, PatientProfile(age=40)).verdict == "pass"
    assert auditor().audit(draft.replace("唔好超過4次", "可以食6次"), PatientProfile(age=40)).verdict == "block"


def test_a_childrens_brand_takes_its_strength_from_the_text():
    # 必理痛 alone is the adult tablet product; the children's suspension is the substance at the stated strength
    question = "3歲女發燒，必理痛兒童退燒藥水（每5ml含120mg）飲幾多？"
    child = PatientProfile(age=3, weight_kg=14)
    assert auditor().audit("每次飲20ml，每4小時一次。", child, question=question).verdict == "block"
    assert auditor().audit("每次飲8ml（約190mg），每6小時一次，一日最多4次。", child, question=question).verdict == "pass"


def test_taiwanese_words_added_in_round_7():
    lex = lexicon()
    assert text.to_simplified("甲狀腺功能低下") == "甲状腺功能减退"
    assert lex.lookup("蝦子") == ("substance", "海鲜")
    assert lex.lookup("安達通") == ("drug", "螺内酯")
    assert lex.lookup("Symbicort") == ("drug", "布地奈德福莫特罗")


def test_tung_joins_two_names_like_he():
    # Cantonese 同 between two names is 和 (assertion.LIST_JOIN): both medicines are taken
    got = facts("我有高血壓，食緊脈優同立普妥。")
    assert {("medication", "氨氯地平", "active"), ("medication", "阿托伐他汀", "active")} <= got


def test_a_taiwanese_loperamide_brand_gets_the_loperamide_cap():
    adult = PatientProfile(age=30)
    assert auditor().audit("樂必寧一次2顆，一天四次。", adult).verdict == "pass"
    assert auditor().audit("樂必寧一次3顆，一天四次。", adult).verdict == "block"


def test_cantonese_words_of_body_family_and_pregnancy():
    assert facts("我大肚四個月，周身痕。") >= {("pregnancy", "true", "active"), ("trimester", "2", "active")}
    assert text.to_simplified("頭赤，心翳，好攰") == "头痛，胸闷，好累"
    assert text.to_simplified("佢大肚子，係肥咗") == "他大肚子，是肥了"        # a big belly is no pregnancy
    assert text.to_simplified("傷口留咗疤痕") == "伤口留了疤痕"               # only 好痕 / 痕癢 are itching


def test_hong_kong_writes_fu_as_fuk_in_some_words():
    assert text.to_simplified("胃痛反覆發作，下星期覆診") == "胃痛反复发作，下星期复诊"


def test_hong_kong_english_brand_names():
    lex = lexicon()
    assert lex.lookup("Voltaren") == ("drug", "双氯芬酸")
    assert lex.lookup("特敏福") == ("drug", "奥司他韦")
    # a Hong Kong draft that names the brand in English gets the generic's rules
    assert auditor().audit("可以食Brufen 400mg，每日三次。", PatientProfile(pregnant=True, trimester=3)).verdict == "block"

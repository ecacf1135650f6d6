"""Traditional script and Taiwanese usage: one normal form before every matcher (medq.agent.text), so the auditor and
the extractor read a Taiwanese message the way they read the same message written on the mainland."""

from functools import lru_cache

import pytest

from medq.agent import text
from medq.agent.auditor import ContraindicationAuditor
from medq.agent.extraction import RuleBasedExtractor
from medq.agent.facts import PatientProfile
from medq.agent.knowledge import Lexicon
from medq.errors import InputDataError


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    return Lexicon.load()


@lru_cache(maxsize=1)
def auditor() -> ContraindicationAuditor:
    return ContraindicationAuditor(lexicon())


def facts(message: str) -> set[tuple[str, str, str]]:
    return {(f.kind, f.value, f.status) for f in RuleBasedExtractor(lexicon()).extract(message, "m1")}


@pytest.mark.parametrize("traditional", [
    "我每天吃著兩顆降壓藥，晚上睡不著", "效果很顯著的著名藥廠", "攝護腺肥大和心律不整，甲狀腺機能亢進",
    "每次10cc，一天三錠，1公克", "慢性腎臟病第四期，腎絲球過濾率25", "阮阿嬤和我尪"])
def test_conversion_keeps_the_length(traditional):
    assert len(text.to_simplified(traditional)) == len(traditional)
    assert len(text.normalise(traditional)) == len(traditional)


def test_zhe_is_the_aspect_particle_except_in_words_of_note():
    assert text.to_simplified("我一直吃著降壓藥，晚上睡不著") == "我一直吃着降压药，晚上睡不着"
    assert text.to_simplified("療效顯著，是著名的老藥") == "疗效显著，是著名的老药"
    assert text.to_simplified("疗效显著") == "疗效显著"          # simplified text is left as it is


def test_taiwanese_words_and_counts_become_the_mainland_forms():
    assert text.to_simplified("攝護腺肥大") == "前列腺肥大"
    assert text.to_simplified("一天兩顆，每次三錠") == "一天两粒，每次三片"
    assert text.to_simplified("每次吃5CC") == "每次吃5ml"
    assert text.to_simplified("顆粒劑") == "颗粒剂"               # 顆 is a count only after a number
    assert text.to_simplified("腎臟病第三期") == "慢性肾病三期"


def test_taiwanese_names_resolve_in_the_lexicon():
    lex = lexicon()
    assert lex.lookup("攝護腺肥大") == ("condition", "前列腺增生")
    assert lex.lookup("蠶豆症") == ("condition", "G6PD缺乏症")
    assert lex.lookup("心律不整") == ("condition", "心律失常")
    assert lex.lookup("甲狀腺機能低下") == ("condition", "甲状腺功能减退")
    assert lex.lookup("第二型糖尿病") == ("condition", "糖尿病")
    assert lex.lookup("福避痛") == ("drug", "非布司他")
    assert lex.lookup("非類固醇消炎止痛藥") == ("class", "非甾体抗炎药")
    assert lex.lookup("抗凝血劑") == ("class", "抗凝药")


def test_the_extractor_reads_taiwanese_messages():
    assert facts("我每天吃著可悅您跟立普妥") == {("medication", "氯沙坦", "active"),
                                              ("medication", "阿托伐他汀", "active")}
    assert facts("我有蠶豆症") == {("condition", "G6PD缺乏症", "active")}
    assert facts("醫師說我是慢性腎臟病第三期") >= {("ckd_stage", "3", "active")}
    assert facts("我是開計程車的") == {("occupation", "出租车司机", "active")}
    assert facts("我先生有痛風，阿公有失智症") == set()               # relatives' facts, Hokkien kin terms too
    assert ("allergy", "青霉素类", "active") not in facts("我尪對盤尼西林過敏")
    assert ("medication", "二甲双胍", "active") in facts("我血糖偏高，醫師開庫魯化給我")
    assert ("sex", "male", "active") in facts("我係男生，今年四十")
    assert facts("可化凝醫師叫我先不要再吃了") == {("medication", "华法林", "stopped")}
    assert facts("我本來吃素果，醫生叫我停掉") == {("medication", "辛伐他汀", "stopped")}
    assert facts("我對磺胺過敏，歹勢講錯，是對阿斯匹靈過敏") == {("allergy", "阿司匹林", "active"),
                                                        ("allergy", "磺胺类", "denied")}


def test_the_roc_year_of_birth_gives_the_age():
    from datetime import date

    expected = date.today().year - 1911 - 70
    assert ("age", str(expected), "active") in facts("民國70年次，男生")


@pytest.mark.parametrize("draft, profile", [
    ("秋水仙鹼可以每兩小時吃1mg，一直吃到不痛為止。", {"conditions": ["痛風"]}),
    ("普拿疼每次吃三顆，一天四次。", {}),
    ("撲爾敏4mg一天三次，吃了照常開車沒問題。", {"occupation": "公車司機"}),
    ("可以吃布洛芬止痛，一次400mg。", {"conditions": ["胃潰瘍"]}),
    ("可以吃伊普（布洛芬）一次400毫克。", {"egfr": 25, "conditions": ["慢性腎臟病第四期"]}),
])
def test_a_traditional_draft_is_audited_like_its_simplified_twin(draft, profile):
    """The verdict must not depend on the script: each traditional draft blocks, and so does its simplified twin."""
    twin_profile = {k: (text.to_simplified(v) if isinstance(v, str) else
                        [text.to_simplified(x) for x in v] if isinstance(v, list) else v) for k, v in profile.items()}
    traditional = auditor().audit(draft, PatientProfile(**profile))
    simplified = auditor().audit(text.to_simplified(draft), PatientProfile(**twin_profile))
    assert traditional.verdict == simplified.verdict == "block"
    assert {(f.rule, f.ingredient) for f in traditional.findings} == {(f.rule, f.ingredient) for f in
                                                                        simplified.findings}


def test_a_bad_regional_row_names_the_file_row_and_field(tmp_path, monkeypatch):
    table = tmp_path / "regional.csv"
    table.write_text("phrase,standard,where,source,note\n洗腎,血液透析,anywhere,expert,\n", encoding="utf-8")
    monkeypatch.setattr(text, "REGIONAL_TABLE", table)
    text._regional.cache_clear()
    try:
        with pytest.raises(InputDataError, match=r"regional.csv: row 2: field standard"):
            text.to_simplified("我在洗腎")
        table.write_text("phrase,standard,where,source,note\n洗腎,透析,somewhere,expert,\n", encoding="utf-8")
        text._regional.cache_clear()
        with pytest.raises(InputDataError, match=r"row 2: field where"):
            text.to_simplified("我在洗腎")
    finally:
        text._regional.cache_clear()


def test_round6_taiwanese_names_and_a_glossed_brand():
    # a brand in markdown bold glossed by its generic is one medicine; the generic added on top is a second source
    one = auditor().audit("頭痛時可以吃**普拿疼**（乙醯胺酚）一次一錠500mg。", PatientProfile(age=40))
    two = auditor().audit("先吃普拿疼，不夠的話再加乙醯胺酚500mg一起吃。", PatientProfile(age=40))
    assert "duplicate_ingredient" not in {f.rule for f in one.findings}
    assert "duplicate_ingredient" in {f.rule for f in two.findings if f.severity == "block"}
    # names the lexicon lacked before round 6, each with its rule
    kidney = PatientProfile(age=80, egfr=12, ckd_stage=5)
    assert auditor().audit("便秘的話氧化鎂每天吃兩次就好。", kidney).verdict == "block"
    assert auditor().audit("便秘的話氧化鎂每天吃兩次就好。", PatientProfile(age=40)).verdict == "pass"
    assert auditor().audit("尿道灼熱可以先吃 Pyridium 緩解。", PatientProfile(conditions=["蠶豆症"])).verdict == "block"
    assert auditor().audit("傷口擦紫藥水就可以了。", PatientProfile(conditions=["蠶豆症"], age=5)).verdict == "block"
    assert auditor().audit("睡前喝一點卡瓦醉椒茶可以放鬆。", PatientProfile(medications=["安定文"])).verdict == "block"
    assert auditor().audit("吃 Flagyl 這幾天喝點酒沒關係。", PatientProfile(medications=["Flagyl"])).verdict == "block"
    assert auditor().audit("可以吃小青龍湯。", PatientProfile(conditions=["高血壓"])).verdict == "block"


def test_the_taiwanese_asthma_word_keeps_the_asthma_rules():
    # 氣喘 is read as the knowledge's 气喘 row (below 哮喘): what is contraindicated in asthma stays contraindicated
    profile = PatientProfile(conditions=sorted({v for k, v, s in facts("我從小就有氣喘") if k == "condition"}))
    assert profile.conditions == ["气喘"]
    assert auditor().audit("心跳快可以吃普萘洛爾10mg。", profile).verdict == "block"


def test_a_hedged_safety_claim_is_no_warning():
    # 不太傷腎 / 不太會產生依賴性 reassure (the drug stays recommended); 會傷腎 / 會產生依賴性 still warn
    kidney = PatientProfile(age=75, egfr=20, ckd_stage=4)
    assert auditor().audit("二甲雙胍本身不太傷腎，照常一天兩次各1000mg。", kidney).verdict == "block"
    assert auditor().audit("這個軟便劑不太會產生依賴性，氧化鎂每天三次。", kidney).verdict == "block"
    assert auditor().audit("氧化鎂長期吃會產生依賴性，也會讓血鎂升高，先不要吃。", kidney).verdict == "pass"


def test_round6_taiwanese_names_the_extractor_reads():
    assert ("medication", "非诺特罗", "active") in facts("喘的時候我會噴備勞喘")
    assert ("allergy", "碘造影剂", "active") in facts("做電腦斷層打顯影劑會過敏")
    assert ("medication", "泮托拉唑", "active") in facts("胃藥現在吃保衛康治潰樂")
    assert ("condition", "子宫肌瘤", "active") in facts("我有子宮肌瘤，在追蹤")


def test_taiwanese_condition_and_biologic_names_in_a_profile():
    # 症候群 is the mainland 综合征; 腎臟移植 is an organ transplant; 克隆氏症 is inflammatory bowel disease
    assert text.to_simplified("長QT症候群") == "长QT综合征"
    assert auditor().audit("止吐可以吃多潘立酮10mg一天三次。",
                           PatientProfile(conditions=["長QT症候群"])).verdict == "block"
    assert auditor().audit("出國前建議先接種麻疹減毒活疫苗。",
                           PatientProfile(conditions=["腎臟移植"], age=40)).verdict == "block"
    assert lexicon().canonical(text.normalise("克隆氏症"), ("condition",)) == "炎症性肠病"
    assert lexicon().canonical(text.normalise("Humira"), ("drug",)) == "阿达木单抗"

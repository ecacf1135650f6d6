"""Round 15 memory (extraction): condition and product rows round 14 named missing, a list item spelt with a dosage
form the knowledge lacks, a correction of which allergen, a condition handed over to a relative, medicines planned,
weighed or warned against, a question told without a question mark, a drug switched to because of an allergy, and a
prescription not written (就没开). Sentences written for these tests."""

import pytest

from medq.agent.knowledge import Lexicon

from .probes import profile


# ---- condition rows: 便秘, 蛋白尿, 垂体瘤, ANCA相关血管炎, 腰椎压缩性骨折, 原发性肾上腺皮质功能减退症 --------------
@pytest.mark.parametrize("message, condition", [
    ("我老年人，常年便秘，靠开塞露", "便秘"),
    ("最近大便干结，三天才一次", "便秘"),
    ("查尿发现有蛋白尿，医生让我复查", "蛋白尿"),
    ("前年查出垂体腺瘤，一直随访", "垂体瘤"),
    ("我是肉芽肿性多血管炎，在用环磷酰胺", "ANCA相关血管炎"),
    ("去年摔了一跤，腰椎压缩骨折", "腰椎压缩性骨折"),
    ("我是原发性肾上腺皮质功能减退，长期吃氢化可的松", "原发性肾上腺皮质功能减退症"),
])
def test_new_condition_rows(message, condition):
    assert condition in profile(message).conditions


def test_constipation_asked_about_a_drug_is_no_condition():
    # a side effect asked about (会便秘吗) is not a condition the writer has
    assert profile("吃铁剂会便秘吗").conditions == []


def test_primary_adrenal_insufficiency_sits_under_adrenal_insufficiency():
    lexicon = Lexicon.load()
    assert "肾上腺皮质功能不全" in lexicon.condition_ancestors("原发性肾上腺皮质功能减退症")


# ---- products and brand names: 金水宝, 麻仁丸, 黄葵胶囊, 赛可平, 山喜多, form-named generics --------------------------
@pytest.mark.parametrize("message, drug", [
    ("肾不好，医生开了金水宝", "金水宝胶囊"),
    ("老便秘，平时吃点麻仁胶囊", "麻仁润肠丸"),  # 麻仁丸 and its capsule are aliases of 麻仁润肠丸 (r15-products)
    ("慢性肾炎在吃黄葵胶囊", "黄葵胶囊"),
    ("肾移植后一直吃赛可平", "吗替麦考酚酯"),
    ("我每天吃山喜多兩次", "吗替麦考酚酯"),
    ("我在吃碳酸氢钠片纠酸", "碳酸氢钠"),
    ("鼻炎用布地奈德鼻喷雾剂", "布地奈德"),
])
def test_new_product_names(message, drug):
    assert drug in profile(message).medications


@pytest.mark.parametrize("phrase", ["我今天心情很好，水宝宝很可爱", "医生说我的金水宝贝"])
def test_new_aliases_not_inside_ordinary_words(phrase):
    assert "金水宝胶囊" not in profile(phrase).medications


# ---- a dosage form the knowledge does not spell with the name keeps the list (A片和B) -------------------------
@pytest.mark.parametrize("message, drugs", [
    ("我吃硝苯地平片和阿托伐他汀", {"硝苯地平", "阿托伐他汀"}),
    ("平时吃雷公藤多苷片、厄贝沙坦", {"雷公藤多苷", "厄贝沙坦"}),
])
def test_list_with_a_dosage_form_between(message, drugs):
    assert drugs <= set(profile(message).medications)


def test_list_with_a_dosage_form_stopped_together():
    assert profile("二甲双胍片和格列美脲都停了").medications == []


# ---- corrections ----------------------------------------------------------------------------------------------
def test_allergen_corrected_with_its_own_verb():
    found = profile("我对磺胺过敏，啊不对，记错了，过敏的是链霉素")
    assert found.allergies == ["链霉素"]


def test_condition_handed_to_a_relative():
    found = profile("我有糖尿病", "不好意思，是我爸有糖尿病，我自己没有")
    assert "糖尿病" not in found.conditions


def test_condition_of_a_relative_beside_one_of_the_writer():
    found = profile("是我儿子有癫痫，我有偏头痛")
    assert found.conditions == ["偏头痛"]


# ---- medicines planned, weighed or warned against are not taken ------------------------------------------------
@pytest.mark.parametrize("message, drug", [
    ("医生本来要给我开克拉霉素，后来看我在吃他汀就没开", "克拉霉素"),
    ("原本想吃布洛芬止痛，后来忍住了", "布洛芬"),
    ("医生交代出国旅游时不要吃氯喹", "氯喹"),
    ("我想打流感疫苗，现在可以吗", "流感灭活疫苗"),
    ("要不要打带状疱疹疫苗，我65岁了", "重组带状疱疹疫苗"),
])
def test_planned_or_warned_medicine_is_not_taken(message, drug):
    assert drug not in profile(message).medications


def test_medicine_taken_beside_one_warned_against():
    found = profile("我在吃华法林，医生说不能吃阿司匹林")
    assert found.medications == ["华法林"]


def test_question_without_a_question_mark():
    found = profile("我刚停了哺乳，想问吃米诺环素有没有影响。")
    assert "米诺环素" not in found.medications


def test_condition_before_a_prescription_not_written():
    found = profile("医生本来要开左氧，后来说我有癫痫就没开")
    assert "癫痫" in found.conditions and found.medications == []


def test_not_yet_started_still_reads_as_not_taken():
    # (没开 is a pseudo-trigger only where it is no 没开始)
    found = profile("医生让我吃阿托伐他汀，我还没开始吃")
    assert "阿托伐他汀" not in found.medications


# ---- a drug switched to because of an allergy is taken, not an allergen ---------------------------------------
def test_switched_drug_in_an_allergy_sentence():
    found = profile("医生知道我有过敏史，就改用了克林霉素")
    assert found.medications == ["克林霉素"] and found.allergies == []


def test_switched_drug_that_is_itself_the_allergen():
    found = profile("我青霉素过敏，换成了头孢也过敏")
    assert {"青霉素类", "头孢菌素类"} <= set(found.allergies)


# ---- a relative the medicine is bought for is the patient --------------------------------------------------------
def test_medicine_bought_for_a_parent():
    found = profile("替我妈拿药，她69岁，糖尿病，在吃阿卡波糖")
    assert (found.age, found.sex) == (69, "female")
    assert found.conditions == ["糖尿病"] and found.medications == ["阿卡波糖"]


def test_writer_who_speaks_of_themself_stays_the_patient():
    found = profile("我40岁，给我爸买药，他有痛风")
    assert found.age == 40 and found.conditions == []


# ---- what a spouse or child says of the writer is the writer's -------------------------------------------------
@pytest.mark.parametrize("message, condition", [
    ("我爱人说我有点脂肪肝", "脂肪肝"),
    ("对了，我老伴说我血糖有点高", "糖尿病"),
    ("我闺女说我有点骨质疏松", "骨质疏松"),
])
def test_reported_by_a_relative(message, condition):
    assert condition in profile(message).conditions


def test_relative_speaking_of_a_third_person():
    assert profile("我老伴说他血压高").conditions == []


# ---- topical verbs and the ingredients of a decoction -------------------------------------------------------
@pytest.mark.parametrize("message, drug", [
    ("我每天晚上擦维A酸乳膏", "维A酸"),
    ("手上在涂卡泊三醇", "卡泊三醇"),
    ("最近在喝中药，方子里面有甘草和丹参", "丹参"),
])
def test_applied_or_contained_medicine_is_taken(message, drug):
    assert drug in profile(message).medications


def test_ingredient_asked_about_is_not_taken():
    assert profile("这个感冒冲剂里面有对乙酰氨基酚吗").medications == []


# ---- an operation still to come ------------------------------------------------------------------------------
def test_planned_operation_is_no_post_operative_state():
    found = profile("下个月准备做胆囊切除，我有高血压")
    assert found.conditions == ["高血压"]


def test_operation_done_is_kept():
    assert "胆囊切除术后" in profile("前年做了胆囊切除").conditions


# ---- the type of a remembered condition told in a later message -----------------------------------------------
def test_type_told_later_replaces_the_broader_condition():
    found = profile("我有青光眼，也有糖尿病", "是开角型的")
    assert set(found.conditions) == {"开角型青光眼", "糖尿病"}


def test_type_no_remembered_condition_has_changes_nothing():
    assert profile("我有高血压", "是原发性的").conditions == ["高血压"]


# ---- 还有B，两个都在吃 continues the medicines remembered ----------------------------------------------------------
def test_continued_name_with_a_tail_saying_both_are_taken():
    found = profile("我在吃氨氯地平", "还有阿托伐他汀，两个都在吃")
    assert set(found.medications) == {"氨氯地平", "阿托伐他汀"}


def test_continued_name_then_stopped_is_not_taken():
    found = profile("我在吃氨氯地平", "还有阿托伐他汀，不过停了")
    assert found.medications == ["氨氯地平"]


# ---- age after 我是女的 / 我是男的 -------------------------------------------------------------------------------
def test_age_after_a_stated_sex():
    found = profile("我是男的，61，前列腺增生")
    assert (found.age, found.sex) == (61, "male")


# ---- 能不能用 in an allergy sentence is a question, not an allergy cleared or claimed ---------------------------------
def test_can_i_use_beside_a_relatives_allergy():
    found = profile("我妹妹对磺胺过敏，我能不能用复方新诺明")
    assert found.allergies == [] and found.medications == []


def test_allergy_with_another_drug_tolerated():
    found = profile("我对头孢过敏，阿奇霉素能用")
    assert found.allergies == ["头孢菌素类"]


# ---- a stated BMI in the obese range (WS/T 428-2013, the BMI tool's cut-off) ------------------------------------
@pytest.mark.parametrize("message, obese", [
    ("我BMI 30，想减肥", True),
    ("体重指数28.2，有脂肪肝", True),
    ("我BMI 27.5", False),
    ("BMI多少算胖？29吗", False),
    ("要是BMI到了30，能用奥利司他吗", False),
    ("孩子9岁，BMI 29", False),
])
def test_stated_bmi(message, obese):
    assert ("肥胖症" in profile(message).conditions) is obese


# ---- a message that opens on the elder it is about --------------------------------------------------------------
def test_message_about_an_elder():
    found = profile("老人78了，有冠心病，吃着单硝酸异山梨酯")
    assert found.age == 78 and found.conditions == ["冠心病"] and found.medications == ["单硝酸异山梨酯"]


def test_writer_beside_an_elder_stays_the_patient():
    found = profile("我50岁，有高血压，家里老人80了")
    assert found.age == 50 and found.conditions == ["高血压"]


# ---- scoring: a combination product named after its generic counts as that generic ---------------------------------
def test_combination_product_named_after_its_generic_scores_as_the_generic():
    from medq.agent.eval_stage import profile_items
    lexicon = Lexicon.load()
    product = next(name for name in lexicon.products if name.startswith("多巴丝肼"))
    assert profile_items(lexicon, {"medications": [product]}) == profile_items(lexicon, {"medications": ["多巴丝肼"]})
    # a combination not named after a known generic keeps its own name
    assert profile_items(lexicon, {"medications": ["酚麻美敏片（泰诺）"]}) == {("medications", "酚麻美敏片（泰诺）")}


# ---- synonyms appended (慢性乙肝, 乙肝携带者, 阿尔兹海默) and joint replacement rows ---------------------------------------
@pytest.mark.parametrize("message, condition", [
    ("我是慢性乙肝，吃恩替卡韦", "乙型肝炎"),
    ("体检说我是乙肝携带者", "乙型肝炎"),
    ("我妈阿尔兹海默症，我帮她问", "痴呆"),
    ("去年做了髋关节置换，现在走路还行", "髋关节置换术后"),
    ("膝关节置换后一直在康复", "膝关节置换术后"),
])
def test_condition_synonyms_and_joint_replacement(message, condition):
    assert condition in profile(message).conditions


def test_joint_replacement_still_to_come():
    assert profile("下个月准备做膝关节置换").conditions == []


# ---- 原来吃X: a medicine taken before (原来吃着 A 跟 B: still a list of what was being taken) ------------------------
def test_formerly_taken_medicine():
    found = profile("我原来吃卡马西平，后来换成了奥卡西平")
    assert found.medications == ["奥卡西平"]


def test_formerly_taking_list_with_one_stopped():
    found = profile("原来吃着氯吡格雷跟瑞舒伐他汀，氯吡格雷上周医生让停了")
    assert found.medications == ["瑞舒伐他汀"]


# ---- 下周开始改成B: a switch still to come keeps A and does not take B ------------------------------------------------
def test_switch_starting_next_week():
    found = profile("我在吃氨氯地平", "医生说下周开始改成硝苯地平控释片")
    assert found.medications == ["氨氯地平"]


# ---- eye drops put in (在点) and gum chewed (改嚼) ----------------------------------------------------------------
@pytest.mark.parametrize("message, drug", [
    ("青光眼，每天晚上在点拉坦前列素", "拉坦前列素"),
    ("贴片不用了，现在改嚼尼古丁咀嚼胶", "尼古丁"),
])
def test_drops_and_gum_are_taken(message, drug):
    assert drug in profile(message).medications


# ---- scoring: a name the knowledge lacks that is a known name plus a dosage form ------------------------------------
def test_unknown_form_name_scores_as_the_known_name():
    from medq.agent.eval_stage import profile_items
    lexicon = Lexicon.load()
    assert profile_items(lexicon, {"medications": ["克林霉素凝胶"]}) == profile_items(lexicon, {"medications": ["克林霉素"]})
    # an unknown name that is no known name plus a form stays as written
    assert profile_items(lexicon, {"medications": ["某某牌凝胶"]}) == {("medications", "某某牌凝胶")}


# ---- a medicine said to be a relative's without 的 (克拉霉素是我弟弟在吃，…) ------------------------------------------
def test_drug_handed_to_a_relative_without_de():
    found = profile("我在吃孟鲁司特", "孟鲁司特是我儿子在吃，我自己吃的是氯雷他定")
    assert found.medications == ["氯雷他定"]


# ---- a pregnancy feared then ruled out ------------------------------------------------------------------------
@pytest.mark.parametrize("message, pregnant", [
    ("之前以为怀孕了，后来验血不是", False),
    ("担心怀上了，测了是阴性", False),
    ("我怀孕8周了，以为没什么事", True),
])
def test_pregnancy_ruled_out(message, pregnant):
    assert profile(message).pregnant is pregnant


# ---- 我88了，是个老太太: the clause after the age names the writer's sex (elders only) -----------------------------
@pytest.mark.parametrize("message, sex", [
    ("我79了，是个老头，前列腺增生", "male"),
    ("今年九十了，是一个老太太，有骨质疏松", "female"),
])
def test_elder_named_in_the_clause_after_the_age(message, sex):
    assert profile(message).sex == sex

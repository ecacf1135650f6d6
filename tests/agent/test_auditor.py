"""The contraindication auditor on real lexicon data: every rule, warnings, products, doses, provenance."""

from functools import lru_cache

import pytest

from medq.agent.auditor import ContraindicationAuditor
from medq.agent.extraction import RuleBasedExtractor
from medq.agent.facts import PatientProfile
from medq.agent.knowledge import Lexicon


@lru_cache(maxsize=1)
def auditor() -> ContraindicationAuditor:
    return ContraindicationAuditor(Lexicon.load())


def audit(draft: str, **profile):
    return auditor().audit(draft, PatientProfile.from_case(profile, "case-msg"))


@pytest.mark.parametrize("draft, profile, rule, fact", [
    ("可以吃阿莫西林。", {"allergies": ["青霉素"]}, "allergy", "allergy:青霉素"),
    ("可以吃头孢克洛。", {"allergies": ["青霉素"]}, "allergy_cross_reactivity", "allergy:青霉素"),
    ("可以吃布洛芬。", {"allergies": ["阿司匹林"]}, "allergy_cross_reactivity", "allergy:阿司匹林"),
    ("可以用复方新诺明。", {"allergies": ["磺胺"]}, "allergy", "allergy:磺胺"),
    ("可以吃布洛芬。", {"conditions": ["胃溃疡"]}, "contraindicated_condition", "condition:胃溃疡"),
    ("可以吃布洛芬。", {"medications": ["华法林"]}, "interaction", "medication:华法林"),
    ("可以加用氯化钾缓释片。", {"medications": ["螺内酯"]}, "interaction", "medication:螺内酯"),
    ("可以吃左氧氟沙星。", {"pregnant": True}, "pregnancy", "pregnancy:true"),
    ("可以吃可待因。", {"lactating": True}, "lactation", "lactation:true"),
    ("可以吃多西环素。", {"age": 5}, "min_age", "age:5"),
    ("布洛芬每次800mg，每日4次。", {}, "max_daily_dose", "dose:3200mg"),
])
def test_each_rule_blocks_with_drug_rule_fact_and_source(draft, profile, rule, fact):
    result = audit(draft, **profile)
    assert result.blocked and result.verdict == "block"
    finding = next(f for f in result.findings if f.rule == rule)
    assert finding.patient_fact == fact and finding.severity == "block" and finding.reason
    if rule != "max_daily_dose":
        assert finding.source_message_id == "case-msg"


def test_combination_products_are_checked_ingredient_by_ingredient():
    result = audit("鼻塞可以吃新康泰克。", conditions=["高血压"])
    [finding] = result.findings
    assert (finding.drug, finding.ingredient, finding.rule) == ("新康泰克", "伪麻黄碱", "contraindicated_condition")


@pytest.mark.parametrize("draft", [
    "您对青霉素过敏，禁用阿莫西林，可以改用阿奇霉素。",
    "不要服用阿莫西林、氨苄西林等药物。",
    "阿莫西林不宜使用。",
    "用阿奇霉素代替阿莫西林。",
])
def test_a_drug_named_only_to_warn_against_it_is_not_recommended(draft):
    result = audit(draft, allergies=["青霉素"])
    assert not result.blocked, result.findings
    assert "阿莫西林" in result.warned and "阿莫西林" not in result.recommended


def test_a_warning_in_one_clause_does_not_cover_a_recommendation_in_the_next():
    result = audit("不要吃阿奇霉素，可以吃阿莫西林。", allergies=["青霉素"])
    assert result.blocked and result.recommended == ["阿莫西林"]


def test_cue_words_inside_other_words_do_not_hide_a_recommendation():
    assert audit("早晚分别服用阿莫西林一次。", allergies=["青霉素"]).blocked
    assert audit("为避免感染加重，可以服用阿莫西林。", allergies=["青霉素"]).blocked


def test_patients_without_a_relevant_fact_pass():
    assert not audit("可以口服阿莫西林，每次500mg，每日3次。").blocked
    assert not audit("可以吃阿奇霉素。", allergies=["青霉素"]).blocked
    assert not audit("多喝水，注意休息。", allergies=["青霉素"], pregnant=True).findings


@pytest.mark.parametrize("text, unit_mg, daily", [
    ("每次300mg，每日2次", None, 600), ("每次0.5克，每日3次", None, 1500), ("每次2片，每日3次", 500, 3000),
    ("每次1-2片，一天三次", 200, 1200), ("每次1g，每6小时一次", None, 4000), ("每日20毫克", None, 20),
    ("每次2片", None, None), ("多喝水", None, None),
])
def test_daily_dose_parsing(text, unit_mg, daily):
    assert ContraindicationAuditor.daily_dose_mg(text, unit_mg) == daily


def test_pregnancy_caution_is_a_warning_not_a_block():
    result = audit("可以吃氨溴索。", pregnant=True)
    assert not result.blocked and [f.severity for f in result.findings] == ["warn"]


def test_audit_uses_facts_extracted_from_the_conversation():
    lexicon = Lexicon.load()
    facts = RuleBasedExtractor(lexicon).extract("我对头孢过敏，在吃华法林", "turn-7")
    result = auditor().audit("可以吃阿莫西林克拉维酸钾和布洛芬。", PatientProfile.from_facts(facts))
    rules = {(f.ingredient, f.rule, f.source_message_id) for f in result.findings}
    assert ("阿莫西林克拉维酸钾", "allergy_cross_reactivity", "turn-7") in rules
    assert ("布洛芬", "interaction", "turn-7") in rules


def test_the_audit_is_deterministic():
    draft = "可以吃芬必得，每次2粒，每日4次，也可以吃新康泰克。"
    profile = {"conditions": ["高血压"], "medications": ["华法林"], "age": 70}
    first = [f.as_dict() for f in audit(draft, **profile).findings]
    assert first and all(first == [f.as_dict() for f in audit(draft, **profile).findings] for _ in range(3))


# ---- warning scope, round 2 of issue 19: the language mechanisms behind the development sets' false alarms --------
# (sentences written here, not copied from any case file)
@pytest.mark.parametrize("draft, profile, warned", [
    # a markdown-bold heading that warns covers the bulleted list under it
    ("**以下药物不要自己买来吃：**\n- 艾司唑仑：老人易摔倒\n- 氯苯那敏：会口干\n**建议：**\n- 规律作息", {"age": 82},
     {"艾司唑仑", "氯苯那敏"}),
    # 它 refers to the sentence's topic (with its name in brackets), not to the last noun
    ("胃复安（甲氧氯普胺）会拮抗多巴胺，加重帕金森症状，您不要吃它。", {"conditions": ["帕金森病"]},
     {"甲氧氯普胺"}),
    # 这两种药: the last two distinct drugs, though one is named twice
    ("红霉素会抑制华法林代谢，使华法林作用增强。这两种药别一起用。", {"medications": ["华法林"]}, {"红霉素", "华法林"}),
    # a continuation clause (包括…) stays in the forward scope
    ("吃甲硝唑期间不要喝酒，包括藿香正气水这类含酒精的药。", {}, {"藿香正气水"}),
    # a class named to describe a warned drug shares its reading
    ("不建议您自己吃阿普唑仑。该药属于苯二氮䓬类，老人吃了容易跌倒。", {"age": 80}, {"阿普唑仑", "苯二氮䓬类"}),
    # a drug named as ineffective
    ("病毒性感冒吃阿莫西林无效，多喝水休息就好。", {"allergies": ["青霉素"]}, {"阿莫西林"}),
    # a condition the advice sets (前提是您没有在用…) names what must not be taken
    ("可以吃他达拉非，前提是您没有在用单硝酸异山梨酯。", {}, {"单硝酸异山梨酯"}),
    # sedation stated about an ingredient is a warning about it
    ("夜片含有氯苯那敏，会让人犯困，开车前别吃。", {"occupation": "出租车司机"}, {"氯苯那敏"}),
])
def test_warnings_in_llm_style_drafts_pass(draft, profile, warned):
    result = audit(draft, **profile)
    assert not result.blocked, result.findings
    assert warned <= set(result.warned)


@pytest.mark.parametrize("draft, profile", [
    # a safety claim inside a recommendation (副作用小) is no warning; an allergic-rhinitis name is no allergy warning
    ("氯沙坦降压平稳，副作用也不大，您可以每天吃50mg。", {"pregnant": True, "trimester": 2}),
    ("西替利嗪治过敏性鼻炎效果好，建议每次10mg，每天2次。", {"age": 3, "weight_kg": 14}),
])
def test_safety_claims_and_condition_names_do_not_hide_a_recommendation(draft, profile):
    assert audit(draft, **profile).blocked


@pytest.mark.parametrize("draft, profile", [
    ("抱歉，我不能直接建议您服用双氯芬酸，请先到医院评估。", {"conditions": ["胃溃疡"]}),
    ("克拉霉素。这个药和辛伐他汀一起吃会增加横纹肌溶解的风险，请您不要自己吃。", {"medications": ["辛伐他汀"]}),
    ("麻黄碱？不太合适，会让血压升高。可以用海盐水洗鼻。", {"conditions": ["高血压"]}),
])
def test_refusals_and_warnings_with_a_request_pass(draft, profile):
    assert not audit(draft, **profile).blocked


def test_a_safety_claim_is_no_warning():
    assert audit("布洛芬不伤胃，可以放心吃，每次0.3g。", conditions=["消化性溃疡"]).blocked


def test_the_patients_own_medicine_named_as_context_is_a_current_medicine_not_advice():
    assert not audit("您正在服用二甲双胍，头痛可以吃对乙酰氨基酚0.5g。", egfr=25).blocked
    assert audit("您一直吃的二甲双胍继续吃，每次500mg。", egfr=25).blocked
    assert audit("您正在服用华法林，可以再加阿司匹林100mg每天一次。").blocked


def test_also_the_same_reads_like_the_name_before_it():
    result = audit("阿托品会升高眼压，您有闭角型青光眼，千万别用，东莨菪碱也一样。先热敷。", conditions=["闭角型青光眼"])
    assert not result.blocked and "东莨菪碱" in result.warned
    assert audit("可以吃阿托品，东莨菪碱也一样。", conditions=["闭角型青光眼"]).blocked


def test_no_change_needed_is_no_warning():
    assert audit("不需要调整，华法林照常吃，加上红霉素一起吃就行。", medications=["华法林"]).blocked


def test_a_bare_you_take_is_advice_not_context():
    assert audit("您吃布洛芬吧。", conditions=["胃溃疡"]).blocked


@pytest.mark.parametrize("draft, profile, blocked", [
    # a risk stated about a drug the draft then doses is a caveat, not a warning
    ("布洛芬有一定胃肠道风险，每次0.2g，每天3次，饭后吃。", {"conditions": ["胃溃疡"]}, True),
    # the next sentence's dose goes to the drug only when its sentence names no other
    ("鱼油和缬沙坦之间没有明显的相互作用，可以一起吃。一般每天1-2g。", {"medications": ["缬沙坦"]}, False),
    ("可以吃芬必得（布洛芬缓释胶囊）。每次0.9g，每天3次。", {}, True),
    # a count of sachets is no dose of a tablet-only drug named beside the granules
    ("板蓝根颗粒和氨氯地平没有相互作用，每次1袋，每天3次。", {"medications": ["氨氯地平"]}, False),
])
def test_dose_attribution_and_caveats(draft, profile, blocked):
    assert audit(draft, **profile).blocked is blocked


# ---- warning scope, round 3 of issue 19: mechanisms behind b3's false alarms (sentences written here) -------------
@pytest.mark.parametrize("draft, profile, warned", [
    # a warning placed after the drugs it is about (…，最好避开 / 所以建议避开)
    ("雷贝拉唑以外，奥美拉唑会削弱氯吡格雷的效果，最好避开。胃痛可以吃铝碳酸镁。", {"medications": ["氯吡格雷"]}, {"奥美拉唑"}),
    ("奥美拉唑和氯吡格雷会互相影响，所以建议避开，改用泮托拉唑。", {"medications": ["氯吡格雷"]}, {"奥美拉唑"}),
    # ruling a class out (…都先不考虑)
    ("您对头孢呋辛有过敏史，头孢菌素类这次先不考虑，可以用阿奇霉素。", {"allergies": ["头孢呋辛"]}, {"头孢菌素类"}),
    # 不建议 followed by buying words (不建议自己去买来吃)
    ("布洛芬会加重肾损伤，不建议自己去买来吃。", {"egfr": 20}, {"布洛芬"}),
    # a dash ends the clause of 不行 (这个不行——…)
    ("阿司匹林？这个不行——和华法林一起出血风险大。", {"medications": ["华法林"]}, {"阿司匹林"}),
    # a topic opened by 至于 is still covered by the warning that closes its sentence
    ("多喝水休息。至于奶奶提到的尼美舒利，儿童用可能伤肝，所以别给孩子吃。", {"age": 9}, {"尼美舒利"}),
    # 该药 skips the patient's own medicine (您正在吃…) and the verb 加用 is a tail word
    ("丹参片会增强抗凝作用。您正在吃华法林，再加上它出血风险更高。该药不建议您自行加用。",
     {"medications": ["华法林"]}, {"丹参"}),
])
def test_round3_warnings_pass(draft, profile, warned):
    result = audit(draft, **profile)
    assert not result.blocked, result.findings
    assert warned <= set(result.warned)


def test_round3_the_patients_own_medicines_joined_by_and_or_already_taken_are_context():
    # 您吃的A和B…: both are the patient's; 您已经在吃…: context
    assert not audit("您吃的贝那普利和螺内酯都会升高血钾，所以不要再补钾。", age=75,
                     medications=["贝那普利", "螺内酯"]).blocked
    assert not audit("您已经在吃格列齐特，不要再加别的磺脲类。", age=70, medications=["格列齐特"]).blocked
    # still advice: a dose or 继续 in the joined name's clause
    assert audit("您吃的华法林和布洛芬每次0.3g继续吃。", medications=["华法林"]).blocked


def test_round3_fail_closed_endorsements_still_block():
    # a risk sentence inside an endorsement is a caveat (the round-2 case stays closed)
    assert audit("布洛芬伤胃，饭后吃，每次0.2g。", conditions=["胃溃疡"]).blocked
    # 至于 before a recommendation does not turn it into a warning
    assert audit("至于布洛芬，可以吃，每次0.2g，每天3次。", conditions=["胃溃疡"]).blocked


@pytest.mark.parametrize("draft, profile, blocked", [
    # a class named with one of its members is one drug, not two of that class
    ("可以在氨氯地平基础上加一个ARB，比如缬沙坦80mg，每天1次。", {"conditions": ["高血压"]}, False),
    ("这次换一个不影响他汀类代谢的抗生素，比如阿奇霉素。", {"medications": ["阿托伐他汀"]}, False),
    # two different members still interact
    ("可以再加辛伐他汀20mg，每晚1次。", {"medications": ["阿托伐他汀"]}, True),
    # 不要两个一起吃: the last two names
    ("拜新同和普通硝苯地平片成分相同，不要两个一起吃。", {"age": 72}, False),
    # levothyroxine with calcium: separate by 4 hours (insert), not avoid
    ("钙片可以吃，和优甲乐隔开4小时以上，钙片放晚饭后。", {"medications": ["左甲状腺素"]}, False),
    # ambroxol in a school-age child: the age-band dose (15mg two to three times a day) is within the label; double
    # that is not
    ("氨溴索口服液每次15mg，每天3次。", {"age": 7, "weight_kg": 20}, False),
    ("氨溴索口服液每次30mg，每天3次。", {"age": 7, "weight_kg": 20}, True),
])
def test_round3_class_members_anaphors_and_relaxed_rows(draft, profile, blocked):
    assert audit(draft, **profile).blocked is blocked


@pytest.mark.parametrize("draft, profile, blocked", [
    # a dose stated right before the next name, in its clause, is that name's (每天2g鱼油), not the previous name's
    ("缬沙坦和鱼油不冲突，每天2g鱼油就够了。", {"medications": ["缬沙坦"]}, False),
    ("缬沙坦每天400mg，鱼油也可以吃。", {}, True),
    # the alcohol-free forms of 藿香正气 are not the tincture; a product's content (含有酒精) is no drinking
    ("藿香正气水含有酒精，吃甲硝唑期间别喝，换成藿香正气滴丸。", {"medications": ["甲硝唑"]}, False),
    ("藿香正气口服液可以喝，每次10ml。", {"medications": ["甲硝唑"]}, False),
    # still blocked: the tincture itself, and drinking something that contains alcohol
    ("吃甲硝唑期间喝藿香正气水没问题。", {"medications": ["甲硝唑"]}, True),
    ("吃甲硝唑期间可以喝点含酒精的饮料，少量没关系。", {"medications": ["甲硝唑"]}, True),
])
def test_round3_dose_attribution_and_product_forms(draft, profile, blocked):
    assert audit(draft, **profile).blocked is blocked


@pytest.mark.parametrize("draft, profile, blocked", [
    # an example in brackets after a warned name is warned with it
    ("激素用量大时不能接种减毒活疫苗（比如鼻喷流感疫苗），灭活疫苗可以打。", {"age": 40, "medications": ["泼尼松"]}, False),
    # a product whose ingredient is warned right after 但里面含有…: the product is warned too (但 recommends nothing)
    ("氨麻美敏片是感冒药，但里面含有氯苯那敏，吃了容易嗜睡，上班开车前不要吃。", {"occupation": "公交车司机"}, False),
    # its own clause recommending the product keeps it recommended
    ("可以吃氨麻美敏片，里面含有氯苯那敏，可能有点犯困，每次1片每天3次。", {"occupation": "公交车司机"}, True),
    ("别的止痛药不合适，但布洛芬，每次0.3g，每天2次。", {"conditions": ["胃溃疡"]}, True),
])
def test_round3_brackets_contents_and_contrast(draft, profile, blocked):
    assert audit(draft, **profile).blocked is blocked


@pytest.mark.parametrize("draft, profile, blocked", [
    # several amounts per time: the largest is what the draft allows (一次一粒不够，可以每次吃3粒)
    ("美洛昔康一次一片效果差的话，可以每次吃3片（22.5mg），一天1次。", {}, True),
    ("美洛昔康每次7.5mg，一天1次。", {}, False),
    # the first name of a sentence takes a dose stated in the sentence's earlier clauses
    ("可以加到每次800mg，一天4次，布洛芬止痛效果好。", {"age": 40}, True),
    ("可以每次200mg，一天3次，布洛芬止痛效果好。", {"age": 40}, False),
])
def test_round3_dose_reading(draft, profile, blocked):
    assert audit(draft, **profile).blocked is blocked


@pytest.mark.parametrize("draft, profile, blocked", [
    # an allergy with a note on the reaction resolves to the one name it contains
    ("可以吃头孢呋辛，每次0.25g，一天2次。", {"allergies": ["青霉素(严重皮疹)"]}, True),
    # a common misspelling of 头孢
    ("可以吃头孢地尼，每次0.1g，一天3次。", {"allergies": ["头泡"]}, True),
    # drinking endorsed with any cephalosporin (Chinese inserts: no alcohol during and 7 days after)
    ("吃着头孢呋辛，喝一杯红酒没关系。", {}, True),
    ("吃着头孢呋辛，这几天别喝酒。", {}, False),
])
def test_round3_allergy_notes_typos_and_cephalosporin_alcohol(draft, profile, blocked):
    assert audit(draft, **profile).blocked is blocked


@pytest.mark.parametrize("draft, profile, blocked", [
    # ciprofloxacin with theophylline/aminophylline: the insert says avoid
    ("腹泻可以吃环丙沙星，每次0.5g，一天2次。", {"medications": ["氨茶碱"]}, True),
    # 不用打针 says how a vaccine is given, it warns against nothing
    ("减毒活疫苗喷鼻就行，不用打针，可以去接种。", {"medications": ["环孢素"]}, True),
    # the same ingredient added on top of the patient's own product (再加…)
    ("可以再加硝苯地平片10mg，一天3次，和拜新同一起控制血压。", {"medications": ["拜新同"]}, True),
    ("拜新同继续每天30mg。", {"medications": ["拜新同"]}, False),
])
def test_round3_misses(draft, profile, blocked):
    assert audit(draft, **profile).blocked is blocked


def test_round3_the_question_names_the_medicine_taken_with_shi():
    # 吃的是…: the question's medicine joins the current ones
    result = auditor().audit("可以再喝右美沙芬糖浆，每次15ml，一天3次。", PatientProfile.from_case({"age": 30}, "m"),
                             question="白天吃的是酚麻美敏片，还咳，能加止咳糖浆吗？")
    assert result.blocked and any(f.rule == "duplicate_ingredient" for f in result.findings)


def test_round3_fail_closed_probes():
    # joined to the patient's medicine but advised together: still a recommendation
    assert audit("您吃的华法林和阿司匹林可以一起吃。", medications=["华法林"]).blocked
    # a conditional 不行的话 is no warning about the first drug
    assert audit("先吃对乙酰氨基酚，不行的话再换布洛芬。", conditions=["胃溃疡"]).blocked
    # a product praised with a risk caveat about its ingredient, and no warning, stays recommended
    assert audit("新康泰克很好用，但里面含有伪麻黄碱，血压高的人会升高血压，注意监测就行。", conditions=["高血压"]).blocked


# ---- round 4 (b5 as a development set): mechanisms, in our own wording --------------------------------------------
def test_round4_a_stated_tablet_strength_weighs_the_count_and_is_no_dose_itself():
    # 每片Nmg is the product's strength; the count in the next sentence is the dose
    result = audit("这个药（洛索洛芬）每片是60mg。痛得厉害可以一次3片，一天两次。", age=40)
    assert result.blocked and any(f.rule == "max_daily_dose" for f in result.findings)
    assert not audit("洛索洛芬每片60mg。每次1片，一天两次，饭后服用。", age=40).blocked


def test_round4_a_drug_listed_as_something_to_report_to_a_doctor_is_no_advice():
    # 正在吃X的请咨询医生: X is a screening question, neither recommended nor the patient's medicine
    assert not audit("布洛芬每次0.2g，一天两次。肝病患者或者正在服用华法林、氯吡格雷的人，请先咨询药师。", age=40).blocked
    assert not audit("打疫苗前请告诉医生孩子最近是否在用免疫抑制剂或激素等情况。", age=2).blocked


def test_round4_fail_closed_a_screening_word_does_not_hide_advice():
    # a dose or 可以 between the name and the referral is still advice; so is a name not led by 正在
    assert audit("正在吃华法林的可以加布洛芬每次0.4g，有问题咨询医生。", age=60, medications=["华法林"]).blocked
    assert audit("布洛芬伤胃，饭后吃，每次0.2g。", age=50, conditions=["胃溃疡"]).blocked
    assert audit("布洛芬和华法林一起吃，有不适请咨询医生。", age=60).blocked


def test_round4_a_cue_inside_a_drug_name_opening_the_draft_is_no_no():
    # 别嘌醇 starts with 别: the draft does not open by saying no, so its recommendation stands
    profile = PatientProfile.from_case({"age": 70, "egfr": 12, "conditions": ["痛风"]}, "case-msg")
    assert auditor().audit("别嘌醇降尿酸好，每天300mg。", profile, "医生开了别嘌醇，怎么吃？").blocked
    assert not auditor().audit("别吃别嘌醇了，先复查肾功能。", profile, "医生开了别嘌醇，怎么吃？").blocked


def test_round4_a_risk_said_to_be_small_is_a_reason_for_the_drug():
    # 副作用较少 recommends; 副作用不少 / 副作用比较大 still warn
    assert audit("塞来昔布对胃的副作用相对少一些，每次200mg，每天一次。", age=50, allergies=["磺胺"]).blocked
    assert not audit("布洛芬胃肠道副作用不少，您不要自己吃。", age=50, conditions=["胃溃疡"]).blocked
    assert "布洛芬" in audit("吃布洛芬副作用比较大。", age=50, conditions=["胃溃疡"]).warned


@pytest.mark.parametrize("text, daily", [
    # a loading dose is taken once: the day is the larger of the loading doses and the upkeep dose times its count
    ("起始剂量2mg，2小时后再服1mg，以后每次1mg，每日2次", 3.0),
    ("首次4片，之后每次2片，每日3次", None),         # counts with no strength: nothing read, as before
    ("首剂500mg，每天3次", 1500.0),                  # a lone loading amount with a count: read as before (fail closed)
    # a stated total with its cap word (总量不超过) is the day
    ("全天总量不超过1.2g，每次0.3g", 1200.0),
    # a unit strength (每粒0.25g) is no dose; it weighs the count
    ("每粒0.25g，每次2粒，每日3次", 1500.0),
])
def test_round4_loading_doses_stated_totals_and_unit_strengths(text, daily):
    assert ContraindicationAuditor.daily_dose_mg(text, None) == daily


def test_round4_could_cause_is_a_risk_not_the_terminator_can():
    # 合用可导致…，请勿加用: the warning reaches the drug before 可导致
    result = audit("别嘌醇会抑制硫唑嘌呤代谢，两药合用可导致骨髓抑制，请勿自行加用。", age=50, medications=["硫唑嘌呤"])
    assert not result.blocked, result.findings
    # still a recommendation where its own clause recommends
    assert audit("可以加用别嘌醇，合用可导致骨髓抑制，注意复查血象。", age=50, medications=["硫唑嘌呤"]).blocked


def test_round4_a_hold_around_a_procedure_keeps_the_drug_recommended():
    # 手术前暂停X manages a drug the draft keeps advising (here: raised to a dose a low eGFR forbids)
    result = audit("二甲双胍可以加到每次0.5g，每天3次。手术前要暂停二甲双胍。", age=70, egfr=20)
    assert result.blocked
    # 暂停 alone still warns
    assert "二甲双胍" in audit("请暂停二甲双胍，先去复查肾功能。", age=70, egfr=20).warned


def test_round4_a_dose_in_the_list_under_a_colon_heading_is_the_drugs():
    # 用法如下： then a blank line and a bulleted list
    draft = "阿奇霉素干混悬剂的吃法如下：\n\n- 每次400mg，每天1次\n- 连吃3天"
    result = audit(draft, age=4, weight_kg=16)
    assert result.blocked and any("kg" in f.rule for f in result.findings)
    assert not audit("阿奇霉素干混悬剂的吃法如下：\n\n- 每次160mg，每天1次\n- 连吃3天", age=4, weight_kg=16).blocked


def test_round4_an_ingredient_or_class_describing_a_product_answered_no_shares_its_reading():
    profile = PatientProfile.from_case({"age": 66, "medications": ["格列美脲"]}, "case-msg")
    draft = "不要加。消渴丸看着是中药，其实里面含有格列本脲，和您吃的格列美脲都属于磺脲类，会叠加低血糖。"
    assert not auditor().audit(draft, profile, "我吃着格列美脲，想加消渴丸行吗").blocked
    # fail closed: an ingredient the draft itself doses is advice
    assert auditor().audit("不要加消渴丸，可以直接吃格列本脲每次5mg。", profile, "想加消渴丸行吗").blocked


def test_round4_a_class_named_for_an_effect_is_no_antecedent_of_these_two():
    # 减弱抗血小板效果 names no drug: 这两种药 still points at the two drugs named before
    result = audit("兰索拉唑会影响氯吡格雷起效，可能减弱抗血小板效果，最好避免这两种药同时用。", age=60)
    assert "兰索拉唑" in result.warned
    # a class advised as a therapy is still advice
    assert audit("可以加用抗血小板药，每天100mg。", age=60, conditions=["消化性溃疡"]).recommended


# ---- round 5: mechanisms found across the dev batches (sentences of our own) --------------------------------------
@pytest.mark.parametrize("draft, profile", [
    # a mass written right after a count (1粒200mg) is the dose, not a second amount
    ("塞来昔布每次1粒200mg，一天两次，饭后吃。", {"age": 50}),
    # a daily cap in tablets, with a negator the old pattern missed (一天不要超过…片)
    ("布洛芬缓释胶囊每次1粒，一天两次，一天不要超过2粒。", {"age": 40}),
    # a daily total in markdown bold, and one stated as 控制在
    ("对乙酰氨基酚每天总量**不超过2g**，比如每次0.5g、一天三次。", {"age": 35}),
    ("对乙酰氨基酚每天总量控制在1.5~2g，每次0.5g，一天三到四次。", {"age": 35}),
])
def test_round5_daily_totals_caps_and_count_with_mass_are_read_as_stated(draft, profile):
    assert not audit(draft, **profile).blocked


def test_round5_fail_closed_a_daily_total_above_the_limit_still_blocks():
    assert audit("对乙酰氨基酚每天总量**控制在6g**以内。", age=35).blocked
    assert audit("塞来昔布每次2粒200mg，一天三次。", age=50).blocked


def test_round5_a_concentration_sentence_is_no_dose_and_the_next_sentence_is_read():
    draft = "这种混悬液浓度是布洛芬20mg/ml。8公斤的孩子每次可以喂8ml，间隔4小时一次。"
    result = audit(draft, age=1, weight_kg=8)
    assert result.blocked and any("kg" in f.rule for f in result.findings)


def test_round5_a_liquid_dosed_in_ml_takes_the_concentration_the_question_states():
    profile = PatientProfile.from_case({"age": 3, "weight_kg": 14}, "case-msg")
    question = "孩子荨麻疹，盐酸西替利嗪口服溶液（10mg/ml）一次喂多少？"
    assert auditor().audit("西替利嗪每次2ml，一天两次。", profile, question).blocked
    assert not auditor().audit("西替利嗪每次0.25ml，一天两次。", profile, question).blocked


def test_round5_iu_stated_beside_a_capsule_count_is_the_dose():
    result = audit("每天吃1粒5万IU的维生素A胶囊就行。", age=30, pregnant=True)
    assert result.blocked and any(f.rule == "max_daily_dose" for f in result.findings)


def test_round5_eye_drops_are_exempt_from_systemic_age_rows_but_keep_eye_conditions():
    # 氨基糖苷类 age<18 is about injections (ear and kidney toxicity)
    assert not audit("可以点庆大霉素滴眼液，每次1滴，一天3次。", age=4).blocked
    # the same drug by mouth or injection for a child still meets the row
    assert audit("可以打庆大霉素，每天一针。", age=4).blocked
    # steroid eye drops still meet the eye condition
    assert audit("可以滴妥布霉素地塞米松滴眼液，每天4次。", age=40, conditions=["单纯疱疹性角膜炎"]).blocked


def test_round5_names_in_brackets_after_a_warned_name_are_warned_with_it():
    result = audit("孕期不要接种减毒活疫苗（例如麻腮风疫苗、水痘减毒活疫苗等）。", age=28, pregnant=True)
    assert not result.blocked
    # the bracket is closed: a name after it is read on its own
    assert audit("孕期不要接种减毒活疫苗（例如麻腮风疫苗），可以吃布洛芬。", age=28, pregnant=True).blocked


def test_round5_a_negated_stop_is_no_warning():
    # 别/不要 + manner words + 停药: keep taking it
    assert audit("头孢氨苄每次0.25g，一天四次，千万别中途停药。", allergies=["头孢菌素"]).blocked
    assert audit("阿莫西林吃满一周，不要随便停。", allergies=["青霉素"]).blocked
    # a stop that is not negated still warns
    assert not audit("阿莫西林会引起过敏，请马上停药。", allergies=["青霉素"]).blocked


def test_round5_a_drug_named_in_a_supposition_is_no_advice():
    draft = "您吃的瑞舒伐他汀和西柚关系不大。如果您吃的是别的他汀，比如辛伐他汀，就别吃西柚了。"
    assert not audit(draft, age=60, medications=["瑞舒伐他汀"]).blocked
    # fail closed: a supposition followed by advice in the name's own clause still advises
    assert audit("如果您吃的是辛伐他汀，可以继续吃辛伐他汀每天20mg，西柚随便吃。", age=60).blocked


def test_round5_aminoglycoside_in_the_ear_with_a_perforated_eardrum_blocks():
    result = audit("可以用新霉素滴耳，每天三次。", age=30, conditions=["耳膜穿孔"])
    assert result.blocked and any(f.rule_id == "R9724" for f in result.findings)
    assert not audit("可以用氧氟沙星滴耳液，每天两次。", age=30, conditions=["耳膜穿孔"]).blocked


def test_round5_a_name_that_only_says_which_doctor_is_no_advice():
    draft = "氟西汀和利奈唑胺合用有风险，最好不要一起用，请联系给您开利奈唑胺的医生换药。"
    assert not audit(draft, age=40, medications=["氟西汀"]).blocked
    # fail closed: the same drug advised in its own clause still counts
    assert audit("可以吃利奈唑胺，每次600mg，一天两次。", age=40, medications=["氟西汀"]).blocked


def test_round5_a_switch_to_a_drug_sharing_only_an_effect_class_replaces_nothing():
    # 曲马多 and 帕罗西汀 share only the serotonergic effect class: the switch adds a drug, it does not replace one
    assert audit("可以换成曲马多，每次50mg，一天两次。", age=50, medications=["帕罗西汀"]).blocked
    # a switch within a therapeutic class still replaces the current medicine
    assert not audit("可以换成瑞舒伐他汀，每晚10mg。", age=60, medications=["阿托伐他汀"]).blocked


def test_round5_a_cue_inside_a_condition_name_is_no_cue():
    # 毒性 inside 病毒性肝炎 / 病毒性感冒 warns about nothing
    assert audit("阿昔洛韦是抗病毒药，病毒性感冒也能吃，每次0.2g。", age=30, allergies=["阿昔洛韦"]).blocked


def test_round5_a_reassurance_opening_the_draft_is_no_answer_of_no():
    profile = PatientProfile.from_case({"age": 30, "allergies": ["克拉霉素"]}, "case-msg")
    assert auditor().audit("不用太担心，克拉霉素很常用，每次250mg，一天两次。", profile, "医生开了克拉霉素，我有点担心").blocked
    # a real no still reads the question's drug as answered no
    assert not auditor().audit("不要吃，克拉霉素您过敏。", profile, "医生开了克拉霉素能吃吗").blocked


def test_round5_a_weekly_drug_advised_daily_blocks():
    result = audit("甲氨蝶呤每日1次，每次3片。", age=55, conditions=["银屑病"])
    assert result.blocked and any(f.rule == "dose_schedule" for f in result.findings)
    assert not audit("甲氨蝶呤每周固定一天吃，一次3片，其余日子每天吃叶酸。", age=55, conditions=["银屑病"]).blocked


def test_round5_an_amount_after_a_cap_is_the_days_most_not_a_single_dose():
    # 最多…粒（…mg） / 一天最多N次（…mg）: the day's most
    assert not audit("布洛芬每次1片（0.2g），一天最多3次（0.6g）。", age=30).blocked
    assert not audit("对乙酰氨基酚每次1片0.5g，一天最多不超过4片（2g）。", age=30).blocked
    # fail closed: a cap above the daily limit blocks
    assert audit("布洛芬每次1片（0.2g），一天最多不超过20片（4g）。", age=30).blocked


def test_round5_a_dose_in_the_names_own_clause_is_not_joined_to_an_earlier_clauses_dose():
    # 每天…mg（…）, then 维生素D 400IU: the earlier mg amount is the calcium's, not vitamin D's
    assert not audit("每天补充元素钙600mg左右，维生素D 400IU。", age=70).blocked


def test_round5_examples_of_a_class_in_an_explanation_are_no_advice():
    profile = {"age": 58, "medications": ["普伐他汀"]}
    # bracketed examples after a class the clause does not recommend; a 比如 clause after such a class
    assert not audit("葡萄柚对经CYP3A4代谢的他汀（如阿托伐他汀、辛伐他汀）影响大，普伐他汀基本不受影响。", **profile).blocked
    assert not audit("受影响的是经CYP3A4代谢的他汀，比如辛伐他汀；普伐他汀不受影响。", **profile).blocked
    assert not audit("这种提醒说的是辛伐他汀这类药，普伐他汀不在其中。", **profile).blocked
    # fail closed: a recommended class keeps its examples as advice
    assert audit("可以吃他汀（如辛伐他汀），每晚一次。", **profile).blocked


def test_round5_what_a_drug_is_not_or_is_compared_with_is_no_advice():
    assert not audit("可以选用非青霉素类的抗生素，比如阿奇霉素。", allergies=["青霉素"]).blocked
    assert not audit("请医生换成不含克拉霉素的方案。", age=60, medications=["辛伐他汀"]).blocked
    assert not audit("可以用雷贝拉唑每日20mg，它对氯吡格雷的影响比奥美拉唑小。", age=66, medications=["氯吡格雷"]).blocked


def test_round5_a_supposition_about_current_use_is_no_advice():
    assert not audit("如果在吃华法林或阿司匹林，先问医生再吃鱼油。", age=50).blocked


def test_round5_the_patients_allergen_is_not_what_this_drug_points_at():
    draft = "头孢呋辛属于头孢类。您对头孢过敏，所以这个药**不能用**。"
    assert "头孢呋辛" in audit(draft, allergies=["头孢"]).warned


def test_round5_a_vaccine_for_the_people_around_the_patient_and_after_the_birth():
    assert not audit("孩子在化疗，活疫苗不能打；家里其他成员可以接种流感疫苗和水痘减毒活疫苗。", age=7,
                     conditions=["白血病（化疗中）"]).blocked
    assert not audit("孕期不能接种水痘疫苗，产后再接种水痘减毒活疫苗。", age=29, pregnant=True).blocked
    # fail closed: the patient's own vaccination now still counts
    assert audit("可以接种水痘减毒活疫苗。", age=29, pregnant=True).blocked


def test_round5_an_ingredient_describing_its_product_is_no_second_source_and_its_content_is_a_concentration():
    # 每5ml含…mg then a volume in the next sentence: read at the stated concentration
    result = audit("美林每5ml含布洛芬100mg。12公斤的孩子每次喂12ml，6小时一次。", age=2, weight_kg=12)
    assert result.blocked and not any(f.rule == "duplicate_ingredient" for f in result.findings)
    assert not audit("美林每5ml含布洛芬100mg。12公斤的孩子每次喂5ml，6小时一次。", age=2, weight_kg=12).blocked
    # ingredients listed after 含有 are the product's
    assert not any(f.rule == "duplicate_ingredient" for f in
                   audit("感冒灵里含有对乙酰氨基酚和咖啡因，按说明书吃感冒灵就行。", age=30).findings)


def test_round5_two_products_offered_as_alternatives_are_no_duplicate():
    result = audit("每天吃叶酸片0.4mg，或者换成含叶酸的复合维生素。", age=28, pregnant=True)
    assert not any(f.rule == "duplicate_ingredient" for f in result.findings)
    # together, they still duplicate
    assert any(f.rule == "duplicate_ingredient" for f in audit("白加黑和泰诺林一起吃。", age=30).findings)


@pytest.mark.parametrize("draft, profile, row", [
    ("可以贴麝香壮骨膏，一天一贴。", {"age": 30, "pregnant": True}, "R9725"),
    ("何首乌片可以吃，每次4片。", {"age": 50, "conditions": ["肝功能异常"]}, "R9726"),
    ("含西布曲明的胶囊每天1粒。", {"age": 40}, "R9728"),
    ("可以改用地氯雷他定，每天5mg。", {"age": 30, "allergies": ["氯雷他定"]}, "R9729"),
    ("可以吃复方新诺明，每次2片。", {"age": 30, "medications": ["氯氮平"]}, "R9733"),
    ("喝点蜂蜜水润润喉。", {"age": 0}, "R9734"),
])
def test_round5_knowledge_rows_block(draft, profile, row):
    result = audit(draft, **profile)
    assert result.blocked and any(f.rule_id == row for f in result.findings)


def test_round5_folk_and_foreign_names_resolve():
    assert audit("可以吃阿莫西林。", allergies=["清霉素"]).blocked
    assert audit("撲菌特一天兩次。", allergies=["磺胺类"]).blocked
    assert audit("可以吃普萘洛尔，每次10mg。", conditions=["氣喘"]).blocked


def test_round5_two_brands_of_one_formula_named_as_two_boxes_duplicate():
    result = audit("快克和感康可以一起吃。", age=30)
    assert result.blocked and any(f.rule == "duplicate_ingredient" for f in result.findings)
    # one product named twice (brand and generic in brackets) is one source
    assert not any(f.rule == "duplicate_ingredient" for f in audit("可以吃快克（复方氨酚烷胺胶囊）。", age=30).findings)


def test_round5_a_cited_dose_row_outranks_the_unsourced_v1_row_it_covers():
    # 对乙酰氨基酚 adult: the insert's 4 g/day (B0488) over the v1 expert row's 2 g/day (R0017)
    assert not audit("对乙酰氨基酚每次1g，每天3次。", age=35).blocked
    assert audit("对乙酰氨基酚每次1g，每天6次。", age=35).blocked


def test_round5_fail_closed_examples_and_narrowed_classes_with_a_way_of_taking_stay_advice():
    assert audit("吃点常用的青霉素类抗生素就好。", allergies=["青霉素"]).blocked
    assert audit("吃阿莫西林这类药就行。", allergies=["青霉素"]).blocked
    assert audit("先吃抗生素（如阿莫西林）。", allergies=["青霉素"]).blocked


def test_round5_fail_closed_a_vaccine_for_the_patient_and_the_family_is_the_patients():
    assert audit("建议孩子和家人都接种水痘减毒活疫苗。", age=6, conditions=["白血病（化疗中）"]).blocked


def test_round5_a_medicine_the_question_says_was_infused_still_meets_the_drink_the_draft_allows():
    # guards the question's own facts (a name clash in round 5 briefly broke this without a unit test noticing)
    profile = PatientProfile.from_case({"age": 40}, "case-msg")
    assert auditor().audit("已经输完了，少喝一点没关系。", profile, "前天输了头孢哌酮，今晚能喝啤酒吗").blocked


def test_round5_a_dose_after_a_new_drug_and_the_patients_own_is_not_the_patients_own():
    profile = {"age": 62, "medications": ["瑞舒伐他汀"]}
    assert not audit("鱼油和瑞舒伐他汀可以同时吃，一般每天1-2g。", **profile).blocked
    # fail closed: a dose in the patient's medicine's own clause is still read
    assert audit("鱼油和瑞舒伐他汀每天80mg一起吃。", **profile).blocked


# -- round 6 (issue 19): b9, b10, b12 as development sets; sentences of our own -----------------------------------------
def ask(draft: str, question: str, **profile):
    return auditor().audit(draft, PatientProfile.from_case(profile, "case-msg"), question)


def test_round6_a_warning_on_an_unnamed_kind_covers_the_examples_after_it():
    # 别吃含X的药，比如A: the examples of what the warning names are warned with it
    assert not audit("这几天别用含乙醇的中成药，例如藿香正气水。", medications=["甲硝唑"]).blocked
    # a continuation by example after a named warning carries on (…，比如A，以及B)
    result = audit("肾不好的人要避开伤肾的抗菌药，比如庆大霉素，以及万古霉素。可以用阿莫西林。", egfr=25)
    assert "庆大霉素" in result.warned
    # fail closed: an example clause after a recommendation is still advice
    assert audit("可以用中成药，例如藿香正气水，每次1支。", medications=["甲硝唑"]).blocked


def test_round6_a_stop_the_draft_asks_for_is_a_warning():
    assert not audit("肌酐这么高，二甲双胍要停。", age=70, egfr=20).blocked
    assert not audit("医生说得对，确实得停二甲双胍了。", age=70, egfr=20).blocked
    # fail closed: a negated stop keeps it advised
    assert audit("二甲双胍不需要停，每次0.5g，每天2次。", age=70, egfr=20).blocked


def test_round6_a_stop_on_a_sign_or_at_the_end_of_a_course_is_how_to_take_it():
    # 心率低于N次暂停 / 出现X时停药 / 吃到…再停药: the draft gives the drug; its dose is audited
    assert audit("地高辛每天0.25mg，每天数心跳，少于55次暂停。", age=88).blocked
    assert audit("秋水仙碱先吃1mg，之后每小时0.5mg，吃到关节不疼再停药。", age=50).blocked
    assert not audit("秋水仙碱先吃1mg，1小时后再吃0.5mg，出现腹泻时停药。", age=50).blocked


def test_round6_a_food_warned_elsewhere_is_not_endorsed_by_the_explanation():
    profile = {"medications": ["硝苯地平控释片"]}
    assert not audit("葡萄柚能让这类降压药浓度升高。服药期间不要吃葡萄柚。", **profile).blocked
    # an opening yes about other fruit is no yes for the one the draft warns against
    assert not ask("苹果和梨都可以放心吃，要避开的是葡萄柚。", "吃降压药能吃葡萄柚吗", **profile).blocked
    # fail closed: a clause that recommends it still endorses it
    assert audit("葡萄柚会升高浓度，不过可以每天喝一杯葡萄柚汁。", **profile).blocked
    # a yes naming the asked drink still endorses it when the draft warns only against another word for drinking
    assert ask("少喝一两杯啤酒没关系，别喝白酒。", "在吃甲硝唑，能喝点啤酒吗", age=30).blocked


def test_round6_maybe_is_no_yes():
    # 可能 holds 能: 可能头晕 is no opening yes for the question's drink
    assert not ask("葡萄柚可能让血压掉得更低、头晕，吃药期间不要吃。", "吃硝苯地平能吃葡萄柚吗",
                   medications=["硝苯地平"]).blocked


def test_round6_a_titration_is_read_step_by_step():
    # the first day's dose is not multiplied by the third day's count; the last step's day is the day
    assert audit("加巴喷丁第1天睡前100mg，第2天每次100mg、每天2次，第3天起每次300mg、每天3次。", age=70, egfr=22).blocked
    assert not audit("加巴喷丁第1天100mg，第2天每次100mg、每天2次，第3天起每次100mg、每天3次。", age=70, egfr=22).blocked


def test_round6_cap_words_and_the_gap_between_two_medicines():
    # 别超过N mg is the day's most, no single dose
    assert not audit("右美沙芬每次1片（15mg），每天3次，全天别超过120mg。", age=40).blocked
    # 两药间隔2小时: the gap between two medicines, no dosing interval
    assert not audit("奥美拉唑早上吃；铝碳酸镁饭后嚼2片，两药间隔2小时。", age=40).blocked
    # fail closed: a real interval still counts the doses
    assert audit("布洛芬每次0.6g，间隔2小时吃一次。", age=40).blocked


@pytest.mark.parametrize("draft, profile, row", [
    ("可以做I-131治疗，一次就好。", {"age": 28, "pregnant": True}, "R9735"),
    ("放射性碘治疗后照常喂奶。", {"age": 28, "lactating": True}, "R9736"),
    ("酮康唑和西沙必利一起吃。", {"age": 40}, "R9737|P0025"),
    ("可以喝藿香正气水。", {"age": 30, "medications": ["替硝唑"]}, "R9738"),
    ("关节痛可以吃双氯芬酸钠。", {"age": 60, "conditions": ["肝硬化"]}, "R9739"),
])
def test_round6_knowledge_rows_block(draft, profile, row):
    result = audit(draft, **profile)
    assert result.blocked and any(f.rule_id in row.split("|") for f in result.findings)


def test_round6_a_childrens_cold_drop_brand_resolves_to_its_ingredients():
    result = audit("艾畅和小儿右美沙芬糖浆一起喂。", age=3)
    assert result.blocked and any(f.rule == "duplicate_ingredient" for f in result.findings)


def test_round6_a_condition_the_patient_says_they_do_not_have_is_no_condition():
    assert not ask("可以用，每天滴2次。", "我没有哮喘，噻吗洛尔滴眼液能用吗", age=60).blocked
    # fail closed: one they say they have still counts
    assert ask("可以用，每天滴2次。", "我有哮喘，噻吗洛尔滴眼液能用吗", age=60).blocked


def test_round6_a_refusal_for_a_purpose_warns_the_drug_before_it():
    assert not audit("氯苯那敏会让老人口干、便秘，不推荐用来治失眠。先调整作息。", age=80).blocked
    assert audit("氯苯那敏每次4mg，睡前吃，不推荐用来治感冒以外的病。", age=80).blocked


def test_round6_what_a_unit_contains_is_no_dose_and_no_advice():
    # 每N丸含X mg Y describes a product the draft refuses; Y is the patient's own medicine
    profile = PatientProfile.from_case({"age": 70, "medications": ["格列本脲"]}, "case-msg")
    result = auditor().audit("不能加。消渴丸每6丸含约1.25mg格列本脲，和您吃的优降糖重复。", profile, "吃着格列本脲，能加消渴丸吗")
    assert not result.blocked


def test_round6_a_drink_allowed_in_its_own_clause_is_not_warned_by_another_word_for_drinking():
    # 一两瓶啤酒没事，别喝白酒: the draft allows beer; the warning is about spirits
    assert audit("一两瓶啤酒没事，别喝白酒就行。", age=40, medications=["替硝唑"]).blocked
    # fail safe: a draft that warns against both allows nothing
    assert not audit("别喝白酒，啤酒也别喝。", age=40, medications=["替硝唑"]).blocked


def test_round6_the_same_ingredient_taken_together_with_the_patients_brand_duplicates():
    result = audit("硝苯地平缓释片每次10mg，每天2次，和拜新同一起吃效果更好。", age=60, medications=["拜新同"])
    assert result.blocked and any(f.rule == "duplicate_ingredient" for f in result.findings)
    # the patient's own medicine continued is one source
    assert not audit("拜新同继续吃，每天1片。", age=60, medications=["拜新同"]).blocked


def test_round6_a_concentration_written_volume_first():
    profile = PatientProfile.from_case({"age": 4, "weight_kg": 16}, "case-msg")
    question = "家里有右美沙芬糖浆（100ml:150mg），孩子咳嗽喝多少？"
    assert auditor().audit("右美沙芬每次20ml，每天4次。", profile, question).blocked
    assert not auditor().audit("右美沙芬每次5ml，每天3次。", profile, question).blocked


def test_round6_the_subject_of_a_risk_named_after_it_is_warned():
    # 跟酒同服容易引起严重反应的通常是A和B: A and B are what the risk is about, not advice
    result = audit("跟酒同服容易引起严重反应的通常是甲硝唑和头孢类药物，克拉霉素不在其中。", age=40)
    assert "甲硝唑" not in result.recommended and "甲硝唑" in result.warned
    # fail closed: a clause that doses it still recommends it
    assert "甲硝唑" in audit("能治这种感染的主要是甲硝唑，每次0.4g。", age=40).recommended


# ---- round 7 (r7-audit): mainland drafts for patients on several medicines -----------------------------------------
def test_round7_a_refusal_after_the_patients_allergen_reaches_back_to_the_drug():
    # the sentence of the refusal names only the allergen, as a fact about the patient: the refusal is the drug's
    draft = "罗红霉素对支气管炎有效。可是您对大环内酯类过敏，所以这回不推荐再吃。"
    result = audit(draft, age=40, allergies=["大环内酯类"])
    assert "罗红霉素" in result.warned and not result.blocked
    # fail closed: the allergen named in a sentence that recommends the drug still blocks
    assert audit("您对大环内酯类过敏也没关系，罗红霉素可以吃，每次150mg。", age=40, allergies=["大环内酯类"]).blocked


def test_round7_an_ability_that_describes_the_drug_ends_no_backward_scope():
    draft = "普萘洛尔片虽然剂量小，仍可进入血液，可能诱发喘息，哮喘患者禁用，请不要使用。"
    assert not audit(draft, age=50, conditions=["哮喘"]).blocked
    # 可以 with a dose still recommends: a stop at the end of the course does not warn it
    assert audit("普萘洛尔对心慌有效，可以每次10mg、每日3次，心慌好了就停药。", age=50, conditions=["哮喘"]).blocked


def test_round7_what_a_warned_thing_contains_is_warned_with_it():
    draft = "代盐里含有较多氯化钾。您同时在用螺内酯，会升高血钾，再吃代盐容易高钾，所以不建议用。"
    assert not audit(draft, age=70, medications=["螺内酯"]).blocked
    assert audit("代盐里含有较多氯化钾，可以放心吃代盐。", age=70, medications=["螺内酯"]).blocked


def test_round7_a_dose_after_the_patients_own_medicine_named_second_is_not_its_dose():
    # the dose in the bracket after the first name, and an anaphor for the first name, keep the dose off the second
    assert not audit("一般剂量的鱼油（每日2g）与辛伐他汀不冲突，可以吃。", age=60, medications=["辛伐他汀"]).blocked
    assert not audit("鱼油（ω-3脂肪酸）和辛伐他汀不冲突，每天2g就够。", age=60, medications=["辛伐他汀"]).blocked
    assert not audit("可以吃奥司他韦。它和硝苯地平没有相互作用，每次75mg、每日2次。", age=60,
                     medications=["硝苯地平"]).blocked
    # fail closed: a dose in the medicine's own clause is its dose
    assert audit("鱼油和辛伐他汀可以一起吃，辛伐他汀每天200mg。", age=60, medications=["辛伐他汀"]).blocked


def test_round7_the_medicine_a_switch_replaces_is_not_taken_with_the_new_one():
    draft = "咳嗽多半是依那普利引起的，可以请医生把依那普利换成氯沙坦50mg每天一次。"
    assert not audit(draft, age=55, medications=["依那普利"]).blocked
    draft = "缬沙坦氢氯噻嗪里的氢氯噻嗪会升高血糖。别自己停，复诊时让医生换成不含利尿剂的方案，比如单用缬沙坦。"
    assert not audit(draft, age=55, medications=["缬沙坦氢氯噻嗪"]).blocked
    # fail closed: added on top, not switched
    assert audit("可以再加氯沙坦50mg每天一次。", age=55, medications=["依那普利"]).blocked
    assert audit("可以加用缬沙坦80mg。", age=55, medications=["缬沙坦氢氯噻嗪"]).blocked


def test_round7_alternatives_are_not_a_combination():
    assert not audit("不适合β受体阻滞剂，可以换一类降压药，比如ACEI或者ARB。", age=50).blocked
    assert audit("可以ACEI和ARB一起吃。", age=50).blocked
    assert audit("ACEI或ARB都行，两个同时吃效果更好。", age=50).blocked


def test_round7_two_medicines_on_the_record_are_not_a_new_interaction():
    # the draft names one of the record's medicines in an explanation; the other was on the record with it
    draft = "胃药可以选泮托拉唑，每日40mg，奥美拉唑会减弱氯吡格雷的作用，不建议用。"
    assert not audit(draft, age=60, medications=["氯吡格雷", "阿司匹林"]).blocked
    # fail closed: a medicine the question adds is new, and is checked against the record
    profile = PatientProfile.from_case({"age": 60, "medications": ["辛伐他汀"]}, "case-msg")
    result = auditor().audit("辛伐他汀照常吃，两者可以同时吃。", profile, "医生让我吃克拉霉素，辛伐他汀要停吗")
    assert result.blocked


def test_round7_every_name_of_a_list_before_a_kind_word_is_an_example():
    draft = "西柚主要影响洛伐他汀、辛伐他汀这类经CYP3A4代谢的药。瑞舒伐他汀基本不受影响，正常吃点西柚没问题。"
    assert not audit(draft, age=60, medications=["瑞舒伐他汀"]).blocked
    # fail closed: the list as advice
    assert audit("可以吃洛伐他汀、辛伐他汀这类药。", age=60, medications=["瑞舒伐他汀"]).blocked


def test_round7_examples_in_a_bracket_after_a_warning_on_an_unnamed_kind_are_warned():
    draft = "雷贝拉唑每次10mg，每天早饭前吃。期间别吃退烧止痛片（像去痛片、散利痛），别喝酒。"
    assert not audit(draft, age=50, conditions=["消化性溃疡"]).blocked
    assert audit("可以吃止痛片（像去痛片）。", age=50, conditions=["消化性溃疡"]).blocked


def test_round7_a_driving_risk_the_draft_warns_about_is_answered():
    assert not audit("唑吡坦可以短期用，每晚5mg，服药后第二天上午不要开车。", age=50, occupation="货车司机").blocked
    assert audit("唑吡坦可以短期用，每晚5mg。", age=50, occupation="货车司机").blocked


def test_round7_dose_alternatives_and_the_dose_given_instead_of_the_usual_one():
    assert not audit("4岁孩子西替利嗪可以每次2.5mg、每日2次，或每日一次5mg。", age=4, weight_kg=16).blocked
    assert audit("4岁孩子西替利嗪可以每次5mg、每日2次，或每日一次10mg。", age=4, weight_kg=16).blocked
    draft = "阿昔洛韦要减量：常规是800mg每日5次，肌酐清除率10-25时改为800mg每8小时一次。"
    assert not any(f.rule == "dose" or "剂量" in f.reason and "超过" in f.reason
                   for f in audit(draft, age=70, egfr=15).findings)
    assert audit("阿昔洛韦800mg每日5次。", age=70, egfr=15).blocked
    # 每天约1.8g is the day's amount, not one dose
    draft = "阿莫西林每天80-90mg/kg，分2次，20公斤每天约1.6-1.8g，即每次0.9g左右。"
    assert not audit(draft, age=6, weight_kg=20).blocked


def test_round7_two_products_recommended_with_kean_yi_are_two_sources():
    # 可以 ends with 以, which is no "basis of the dose" (以…计算) that makes a name describe the product
    result = audit("可以对乙酰氨基酚片1片和感康1片一起吃。", age=40)
    assert result.blocked and any(f.rule == "duplicate_ingredient" for f in result.findings)


def test_round7_what_a_drug_treats_is_no_allergy_to_it():
    result = audit("氯苯那敏对过敏症状有效，每次4mg，每日3次，适合老人。", age=84, conditions=["认知障碍"])
    assert "氯苯那敏" in result.recommended and result.blocked
    # the allergy itself still warns
    assert "阿莫西林" in audit("您对阿莫西林过敏，换别的药。", age=40).warned


def test_round7_a_draft_that_doses_before_naming_anything_doses_the_question_drug():
    profile = PatientProfile.from_case({"age": 50, "weight_kg": 60}, "case-msg")
    question = "对乙酰氨基酚吃了不管用，能加量吗"
    assert auditor().audit("可以加。每次1.5g，一天4次就行。对乙酰氨基酚比较安全。", profile, question).blocked
    assert not auditor().audit("可以加。每次0.5g，一天3次就行。对乙酰氨基酚比较安全。", profile, question).blocked


def test_round7_an_absorption_interaction_taken_at_once_blocks_and_spaced_passes():
    together = "可以，钙尔奇D和左甲状腺素钠早上一起吃就行。"
    spaced = "可以补钙，钙尔奇D和左甲状腺素钠间隔4小时吃。"
    assert audit(together, age=50, medications=["左甲状腺素钠"]).blocked
    assert not audit(spaced, age=50, medications=["左甲状腺素钠"]).blocked


def test_round7_rows_mefloquine_in_depression_and_oral_ketoconazole():
    assert audit("甲氟喹每周一次250mg，出发前2周开始吃。", age=30, conditions=["抑郁症"]).blocked
    assert not audit("甲氟喹每周一次250mg，出发前2周开始吃。", age=30).blocked
    assert audit("酮康唑片每天200mg，吃两个月。", age=40).blocked
    assert not audit("酮康唑乳膏外用，每天两次涂患处。", age=40).blocked


def test_round7_a_loading_pair_is_taken_once():
    # 第一次 opens the amount's own match (一次1mg); an amount another follows an hour later is a loading dose
    for draft in ("秋水仙碱第一次1mg，1小时后再吃0.5mg，以后每次0.5mg、一天2次。",
                  "秋水仙碱起病后赶紧吃1mg，1小时后再吃0.5mg，以后每次0.5mg，一天2次。"):
        assert not audit(draft, age=45).blocked, draft
    # fail closed: the upkeep itself over the day's limit
    assert audit("秋水仙碱第一次1mg，1小时后再吃0.5mg，以后每次1mg、一天3次。", age=45).blocked


def test_round7_an_adjunct_is_no_alternative_and_a_split_weekly_dose_is_daily():
    profile = PatientProfile.from_case({"age": 50, "conditions": ["类风湿关节炎"]}, "case-msg")
    question = "医生开了甲氨蝶呤，每周吃4片太多，能分成每天吃吗"
    draft = "可以，把每周的量分开吃就行：每天吃1片，同时每天吃点叶酸。"
    assert auditor().audit(draft, profile, question).blocked
    # the weekly schedule kept passes
    draft = "不用分开，每周固定一天吃4片，同时每天吃点叶酸。"
    assert not auditor().audit(draft, profile, question).blocked


def test_round7_a_pair_named_with_brackets_reads_the_dose_after_the_second_bracket_as_no_dose_of_it():
    draft = "可以。泰诺林（对乙酰氨基酚）和络活喜（氨氯地平）没有明显相互作用，一次500mg，每6小时一次。"
    assert not audit(draft, age=55, medications=["络活喜"]).blocked
    draft = "可以。泰诺林（对乙酰氨基酚）和络活喜（氨氯地平）没有明显相互作用，络活喜每天50mg。"
    assert audit(draft, age=55, medications=["络活喜"]).blocked


def test_round7_do_not_stack_is_a_warning():
    draft = "泰诺林和散利痛的成分都有对乙酰氨基酚，不能叠加吃。"
    assert not audit(draft, age=33).blocked
    assert audit("泰诺林和散利痛可以叠加吃。", age=33).blocked


def test_round7_what_a_drug_is_not_and_bracketed_examples_after_emphasis():
    assert not audit("可以用阿奇霉素，每天一次500mg，连续3天，不属于青霉素类，对您比较安全。", age=30,
                     allergies=["青霉素"]).blocked
    assert audit("可以用阿莫西林，它属于青霉素类。", age=30, allergies=["青霉素"]).blocked
    draft = "肾功能不好时，**避免非甾体抗炎药**（布洛芬、塞来昔布、萘普生等），可能让肾功能恶化。"
    assert not audit(draft, age=70, egfr=25).blocked


def test_round7_a_dose_said_to_be_too_much_then_changed_reads_the_change():
    draft = "阿莫西林儿童每天不超过90mg/kg，您给的每次750mg一天3次是2250mg，超过了，建议改为每次250mg、每天3次。"
    assert not audit(draft, age=4, weight_kg=16).blocked
    assert audit("阿莫西林每次750mg一天3次。", age=4, weight_kg=16).blocked


def test_round7_the_dose_for_a_kidney_band_after_the_usual_one_is_read():
    draft = "伐昔洛韦需要减量：一般肾功能正常为1000mg一天三次，eGFR 30-49时建议1000mg一天两次。"
    assert not audit(draft, age=74, egfr=35).blocked
    draft = "伐昔洛韦需要减量：一般肾功能正常为1000mg一天三次，eGFR 30-49时建议1000mg一天三次。"
    assert audit(draft, age=74, egfr=35).blocked
    # the band's dose is still weighed against the patient's own band
    draft = "伐昔洛韦：一般肾功能正常为1000mg一天三次，eGFR 30-49时建议1000mg一天两次。"
    assert audit(draft, age=74, egfr=15).blocked


def test_round7_drinkers_named_as_the_people_a_limit_is_for_are_no_endorsed_drinking():
    result = audit("对乙酰氨基酚每次0.5g，每天3次；有喝酒习惯者一天不超过2g。", age=40)
    assert "饮酒" not in result.endorsed
    assert audit("可以，喝酒的人也能吃。", age=40, medications=["甲硝唑"]).blocked


def test_round7_advise_not_to_is_a_warning_that_reaches_back():
    profile = PatientProfile.from_case({"age": 42}, "case-msg")
    question = "维C银翘片吃了头还是痛，可以加泰诺林吗？"
    draft = "需要注意，维C银翘片里含有对乙酰氨基酚，再吃泰诺林会重复。建议不要一起吃，头痛严重请就医。"
    assert not auditor().audit(draft, profile, question).blocked
    assert "对乙酰氨基酚" in audit("建议不要吃布洛芬，可以吃对乙酰氨基酚0.5g。", age=42).recommended


def test_round7_the_ingredient_of_what_the_patient_drinks_is_theirs():
    profile = PatientProfile.from_case({"age": 36}, "case-msg")
    question = "咳嗽很厉害，已经在喝含右美沙芬的止咳糖浆，可以再加右美沙芬片吗？"
    draft = "可以同时吃，糖浆照喝，再加右美沙芬片一天三次，止咳效果更好。"
    assert auditor().audit(draft, profile, question).blocked


def test_round7_an_amount_per_day_beside_the_doses_is_the_days():
    draft = "阿莫西林可以每次500mg，一天三次（1.5g/天，约37.5mg/kg/天，在常规范围内），连续10天。"
    assert not audit(draft, age=12, weight_kg=40).blocked
    assert audit("阿莫西林每次500mg，一天三次（共6g/天）。", age=30).blocked


def test_round7_a_stop_after_the_name_and_a_risk_of_taking_two_together_are_warnings():
    draft = "螺内酯和补钾药一起容易高钾，氯化钾缓释片先停，下周复查血钾。"
    assert not audit(draft, age=70, medications=["螺内酯", "氯化钾缓释片"]).blocked
    # a risk said not to be there recommends the drug: 不容易低血糖
    assert audit("吡格列酮不容易低血糖，每天15mg。", age=69, conditions=["心力衰竭"]).blocked


def test_round7_the_patients_medicine_held_during_the_new_one_is_not_taken_with_it():
    profile = PatientProfile.from_case({"age": 60, "medications": ["辛伐他汀"]}, "case-msg")
    question = "医生让我吃克拉霉素7天，辛伐他汀怎么办"
    held = "克拉霉素会让辛伐他汀浓度升高，吃克拉霉素这7天先暂停辛伐他汀，疗程结束后再恢复。"
    assert not auditor().audit(held, profile, question).blocked
    assert auditor().audit("辛伐他汀不要停，和克拉霉素一起吃就行。", profile, question).blocked


def test_round7_the_base_the_draft_adds_to_is_what_the_patient_takes():
    draft = "可以在二甲双胍、格列美脲基础上加用西格列汀100mg每日一次，注意低血糖。"
    assert not audit(draft, age=65, medications=["二甲双胍", "格列美脲"]).blocked
    # what is added on the base is advice
    assert audit("可以在二甲双胍基础上加用格列美脲2mg每日一次。", age=65, medications=["二甲双胍"]).blocked
    assert audit("在华法林基础上加用阿司匹林就行。", age=65, medications=["华法林"]).blocked
    # a base the record does not hold is advice (fail closed)
    assert audit("可以在二甲双胍基础上加用西格列汀25mg每日一次。", age=65, egfr=20).blocked


def test_round7_the_other_transliteration_of_sumatriptan_is_known():
    result = audit("偏头痛发作可以吃舒马曲坦50mg，和舍曲林一起吃没问题。", age=55, medications=["舍曲林"])
    assert "舒马普坦" in result.recommended and result.blocked


def test_round7_two_common_mainland_products_missing_from_the_lexicon():
    # 复方甲氧那明 (阿斯美) carries chlorphenamine and aminophylline; 雷公藤多苷 is contraindicated in pregnancy
    assert audit("可以吃复方甲氧那明胶囊，每次2粒，每天3次。", age=70).blocked
    assert audit("雷公藤多苷片每次20mg，每天3次。", age=30, pregnant=True).blocked
    assert not audit("阿斯美每次2粒，每天3次。", age=40).blocked


def test_round7_going_on_with_a_medicine_of_the_record_is_advice_and_its_interactions_count():
    # the two on the record are no new interaction only where the draft names one without advising it
    assert audit("别嘌醇照常吃，每天300mg。", age=59, medications=["别嘌醇", "硫唑嘌呤"]).blocked
    # a combination both named is still read; since round 13's review clopidogrel + NSAIDs (aspirin among them) is the
    # label's caution (R0511), so DAPT after a stent, the standard of care, no longer blocks
    assert not audit("阿司匹林和氯吡格雷是支架术后的双抗，不能自己停。", age=62,
                     medications=["阿司匹林", "氯吡格雷"]).blocked


def test_round7_a_usual_dose_gives_way_only_for_reduced_kidneys_or_when_called_too_much():
    # for normal kidneys the usual dose is the patient's: read with the rest
    assert audit("伐昔洛韦：一般肾功能正常为2000mg一天四次，eGFR 30-49时建议1000mg一天两次。", age=40, egfr=95).blocked
    # a change for another group (老年人改为…) does not hide the usual dose from a younger patient
    assert audit("对乙酰氨基酚一般每次2g，老年人改为0.5g。", age=40).blocked


def test_round7_advise_not_to_stop_keeps_the_drug():
    assert audit("布洛芬建议不要自行停药。", age=50, conditions=["胃溃疡"]).blocked
    assert not audit("布洛芬建议不要吃。", age=50, conditions=["胃溃疡"]).blocked


def test_round7_a_stop_with_no_return_is_no_hold():
    assert audit("可以吃布洛芬0.3g每天2次，这几天华法林先停掉。", age=70, medications=["华法林"]).blocked


def test_round7_clause_and_sentence_starts_match_the_scan_over_marks():
    import random

    from medq.agent.auditor import CLAUSE_MARKS, SENTENCE_MARKS, clause_start_of, sentence_start_of

    rng = random.Random(7)
    alphabet = list("布洛芬可以吃每次") + list(CLAUSE_MARKS)
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        for position in range(len(text) + 1):
            assert clause_start_of(text, position) == max(text.rfind(m, 0, position) for m in CLAUSE_MARKS) + 1
            assert sentence_start_of(text, position) == max(text.rfind(m, 0, position) for m in SENTENCE_MARKS) + 1


def test_round7_a_change_to_a_new_dose_keeps_the_drug_and_its_dose_is_audited():
    assert audit("奥美拉唑可以改为每次80mg，每天3次。", age=66, medications=["奥美拉唑"]).blocked
    assert not audit("奥美拉唑可以改为每天2次、每次20mg，早晚饭前吃。", age=66, medications=["奥美拉唑"]).blocked
    # a switch to another drug still replaces the one before it
    assert "布洛芬" in audit("把布洛芬换成对乙酰氨基酚，每次0.5g。", age=66, medications=["布洛芬"]).warned


def test_round7_a_duplicate_the_draft_names_as_such_is_a_warning():
    draft = "氨氯地平和硝苯地平都属于钙通道阻滞剂，同时吃属于重复用药，请复诊调整。"
    assert not audit(draft, age=72, medications=["氨氯地平", "硝苯地平控释片"]).blocked


# Round 8 (r8-knowledge): rows whose action follows the cited source, and rows the knowledge base lacked.
@pytest.mark.parametrize("draft, profile", [
    ("骨松的药照常每周一片阿仑膦酸钠，早上空腹用一大杯水送下。", {"conditions": ["胃食管反流病"]}),
    ("晚上睡前加一粒坦索罗辛0.2mg。", {"conditions": ["低血压"], "age": 70}),
    ("继续每天一片地高辛0.125mg。", {"medications": ["呋塞米"], "age": 60}),
    ("血脂高可以加普伐他汀，每天10mg。", {"medications": ["环孢素"], "age": 50}),
    ("加普伐他汀20mg每晚一次。", {"medications": ["胺碘酮"], "age": 60}),
    ("放一个左炔诺孕酮宫内缓释系统避孕比较可靠。", {"medications": ["卡马西平"], "age": 28, "sex": "female"}),
    ("钙片可以吃，和多西环素间隔两小时。", {"age": 30}),
])
def test_round8_cautions_in_the_source_warn_and_do_not_block(draft, profile):
    assert not audit(draft, **profile).blocked


@pytest.mark.parametrize("draft, profile, rule_id", [
    ("依诺肝素每次1mg/kg，即50mg，每12小时皮下注射一次。", {"egfr": 25, "weight_kg": 50, "age": 70}, "R9801"),
    ("口服特比萘芬每天250mg，连服12周。", {"egfr": 35, "age": 66}, "R9802"),
    ("便秘可以喝辉灵，一次45ml。", {"egfr": 20, "age": 75}, "R9803"),
    ("莫西沙星0.4g每日一次，连用5天。", {"medications": ["齐拉西酮"], "age": 40}, "R9806"),
    ("克拉霉素0.25g每天两次。", {"medications": ["他克莫司"], "age": 50}, "R9807"),
    ("发烧吃一片安乃近。", {"medications": ["氯氮平"], "age": 35}, "R9808"),
    ("左炔诺孕酮片是口服避孕药，可以吃。", {"medications": ["卡马西平"], "age": 28, "sex": "female"}, "A0699"),
    ("拿普生250mg一日两次。", {"medications": ["碳酸锂"], "age": 45}, "R0093"),
])
def test_round8_rows_the_knowledge_lacked_block(draft, profile, rule_id):
    result = audit(draft, **profile)
    assert result.blocked
    assert any(f.rule_id == rule_id and f.severity == "block" for f in result.findings), result.findings


def test_round8_a_class_named_beside_its_member_is_one_current_medicine():
    result = audit("可以每天喝丹参茶。", medications=["抗凝药（华法林）"], age=70)
    assert "medication:抗凝药（华法林）" not in result.unresolved
    assert result.blocked and any(f.patient_fact.startswith("medication:") for f in result.findings)
    # two medicines of different kinds stay unresolved rather than guessed
    assert "medication:华法林（阿司匹林）" in audit("多喝水。", medications=["华法林（阿司匹林）"]).unresolved


@pytest.mark.parametrize("draft, profile, rule_id", [
    ("新冠阳性可以吃Paxlovid，一天两次，连吃五天。", {"medications": ["他克莫司"], "age": 55}, "R9811"),
    ("甲亢药照吃，氯氮平按原剂量。", {"medications": ["甲巯咪唑"], "age": 40}, "R9813"),
])
def test_round8_calcineurin_and_agranulocytosis_rows(draft, profile, rule_id):
    result = audit(draft, **profile)
    assert any(f.rule_id == rule_id and f.severity == "block" for f in result.findings), result.findings


def test_round8_hong_kong_water_pill_is_a_diuretic():
    assert auditor().lexicon.canonical("去水丸", ("class",)) == "利尿剂"


def test_round8_inhaled_steroid_is_no_bar_to_a_live_vaccine_but_oral_prednisone_is_checked():
    inhaled = audit("可以按时接种水痘减毒活疫苗。", medications=["布地奈德吸入剂"], age=30)
    assert not any(f.rule_id == "B0341" for f in inhaled.findings)
    oral = audit("可以按时接种水痘减毒活疫苗。", medications=["泼尼松"], age=30)
    assert oral.blocked


# ---- round 8 (r8-audit): mechanisms of reading, each with a fail-closed twin where one exists ---------------------

def test_round8_a_refused_switch_warns_the_drug_switched_to():
    assert not audit("继续吃甲基多巴就好，千万不要换成缬沙坦，怀孕时不能用。", pregnant=True, trimester=2).blocked
    assert audit("甲基多巴效果一般，可以换成缬沙坦。", pregnant=True, trimester=2).blocked


def test_round8_a_partner_or_the_people_after_a_trigger_make_the_name_before_it_the_subject():
    # A避免和B一起用: both are warned
    result = audit("头孢哌酮最好避免和华法林一起用。", age=60, medications=["华法林"])
    assert not result.blocked and "头孢哌酮" in result.warned
    # A不适合正在用B的人: A is refused; B describes the people
    result = audit("麻腮风疫苗不适合正在用免疫抑制剂的人。", age=30, medications=["他克莫司"])
    assert not result.blocked and "麻腮风联合减毒活疫苗" in result.warned
    # fail closed: the same drug advised in its clause stays advised
    assert audit("可以打麻腮风疫苗。", age=30, medications=["他克莫司"]).blocked


def test_round8_what_a_drug_does_to_another_is_no_advice():
    draft = "伊曲康唑和您在吃的洛伐他汀一起吃，可以使他汀浓度大增，所以不可以一起用。"
    result = audit(draft, age=60, medications=["洛伐他汀"])
    assert not result.blocked and "伊曲康唑" in result.warned


def test_round8_a_line_break_after_a_sentence_mark_lets_a_refusal_reach_the_line_before():
    draft = "萘普生（适洛特）和双氯芬酸都是非甾体抗炎药。\n您肾功能很差，所以两个都不要吃。"
    result = audit(draft, age=80, egfr=20, ckd_stage=4)
    assert not result.blocked and {"萘普生", "双氯芬酸"} <= set(result.warned)
    # a blank line still parts them (the refusal has nothing to point at; the names stay advice)
    assert audit("萘普生和双氯芬酸都可以止痛。\n\n所以两个都不要吃。", age=80, egfr=20, ckd_stage=4).blocked


def test_round8_these_two_skips_the_patients_own_medicine():
    draft = "您在吃氯吡格雷，奥美拉唑、埃索美拉唑会抑制氯吡格雷转成活性形式，建议不要选这两个。可以用雷贝拉唑。"
    result = audit(draft, age=70, medications=["氯吡格雷"])
    assert not result.blocked and "奥美拉唑" in result.warned


def test_round8_examples_of_a_kind_described_with_a_name_are_warned():
    draft = "服药期间不要喝酒，也不要用含酒精的药品或食物（如藿香正气水），以免面红心慌。"
    assert not audit(draft, age=30, medications=["替硝唑"]).blocked


def test_round8_a_metabolite_is_no_advice():
    assert not audit("不要吃可待因止咳，它会在体内转化成吗啡进入乳汁。", lactating=True).blocked


def test_round8_an_intrauterine_system_is_local_for_interactions():
    result = audit("可以考虑放左炔诺孕酮宫内缓释系统避孕。", age=28, sex="female", medications=["苯妥英钠"])
    assert not result.blocked
    # the pill is systemic: the enzyme inducer still meets it
    assert audit("可以吃左炔诺孕酮片避孕。", age=28, sex="female", medications=["苯妥英钠"]).blocked


def test_round8_a_dose_before_a_name_that_belongs_to_the_name_before_it():
    # A（每天180mg）或B: the 180mg is A's
    assert not audit("可以选非索非那定（每天120mg）或西替利嗪，都不太犯困。", age=40).blocked
    # 钙500mg和维生素D 400IU: the 500mg is the calcium's
    assert not audit("每天补钙元素500mg和维生素D 400IU。", age=70).blocked
    # fail closed: a dose right before the name, joined to nothing, is the name's
    assert audit("每天吃5000mg维生素C也不够，每天吃600mg维生素D。", age=70).blocked


def test_round8_a_warning_sentence_gives_no_dose():
    draft = "维生素D缺乏的老人，医生会先补足再维持。不要自己一次吃50万IU这样的大剂量。"
    assert not audit(draft, age=70).blocked
    assert audit("维生素D每天吃60万单位。", age=70).blocked


def test_round8_a_refused_raise_is_no_dose():
    assert not audit("艾司西酞普兰10mg每天一次已经够了，不建议自行加到30mg。", age=40).blocked
    assert audit("艾司西酞普兰每天吃30mg。", age=40).blocked


def test_round8_a_usual_dose_in_other_words_gives_way_for_reduced_kidneys():
    draft = "伐昔洛韦普通人是1g每日三次，您肌酐清除率低，需要调整为1g每12小时一次。"
    assert not audit(draft, age=75, egfr=40).blocked
    assert audit("伐昔洛韦1g每日三次。", age=75, egfr=40).blocked


def test_round8_alternatives_in_brackets_are_read_one_by_one():
    draft = "西替利嗪滴剂（10mg/ml）每次2.5mg，每日2次（或每日一次5mg）。"
    assert not audit(draft, age=3, weight_kg=14).blocked


def test_round8_a_product_named_again_by_a_shorter_name_is_one_box():
    assert not audit("可以喝999感冒灵颗粒，按说明书喝感冒灵即可。", age=30).blocked


def test_round8_a_drug_held_for_the_others_course_is_no_combination():
    draft = "1. 克拉霉素会升高洛伐他汀的浓度；\n2. 吃克拉霉素期间**暂停洛伐他汀**，疗程结束后再恢复。"
    assert not audit(draft, age=60, medications=["洛伐他汀"]).blocked


def test_round8_a_stopped_product_is_no_second_source():
    draft = "复方氨酚烷胺片里也有对乙酰氨基酚。\n- 先停掉复方氨酚烷胺片\n- 发热时吃对乙酰氨基酚0.5g，每天不超过2g"
    assert not audit(draft, age=60, medications=["复方氨酚烷胺片"]).blocked


def test_round8_the_patients_medicine_named_as_a_cause_is_context():
    draft = "您血钾偏低，和吃呋塞米有关，可以多吃香蕉。"
    assert not audit(draft, age=70, conditions=["低钾血症"], medications=["呋塞米"]).blocked


def test_round8_a_class_with_its_warned_members_in_brackets_reads_as_they_do():
    draft = "不能今天就换。ARB（缬沙坦）停药后再等一天才能开始新药。"
    profile = PatientProfile.from_case({"age": 60, "medications": ["缬沙坦", "螺内酯"]}, "case-msg")
    result = auditor().audit(draft, profile, question="缬沙坦今天能换成沙库巴曲缬沙坦吗？")
    assert "ARB" in result.warned and "ARB" not in result.recommended


def test_round8_a_name_labelling_its_item_is_advised_by_the_dose_after_the_colon():
    # a closing tip that warns about the drug does not unsay the item that doses it (fail closed)
    draft = "## 推荐\n1. 普瑞巴林：每次300mg，每日3次；\n2. 多休息。\n需要注意的是，普瑞巴林可能让人头晕嗜睡。"
    assert audit(draft, age=72, egfr=20, ckd_stage=4).blocked


def test_round8_a_heading_ending_in_a_colon_gives_its_list_as_the_dose():
    draft = "甲氨蝶呤是常用药。\n**怎么吃：**\n- 每天2片（5mg），早饭后吃；\n- 多喝水。"
    assert audit(draft, age=50).blocked


def test_round8_what_a_drug_is_kept_apart_from_is_not_advised():
    draft = "米诺环素每天100mg可以吃，和牛奶或钙片隔开两小时吃。"
    result = audit(draft, age=20)
    assert not result.blocked and "补钙剂" not in result.recommended


def test_round8_two_names_of_one_drug_each_with_its_own_amount_are_two_sources():
    draft = "- 泰诺林0.5g，每天2次；\n- 必理通0.5g，每天2次，两样一起吃退烧更快。"
    assert audit(draft, age=40).blocked
    # named again to explain it, with one amount: one medicine
    assert not audit("泰诺林就是对乙酰氨基酚，每次0.5g，每天2次。", age=40).blocked


def test_round8_segment_boundaries_match_the_character_scan():
    import random

    from medq.agent.scope import CLAUSE_END, SENTENCE_END, _boundaries

    def scan(text, ends):   # a line break right after another end mark starts no new segment
        numbers, segment, previous = [], 0, ""
        for char in text:
            numbers.append(segment)
            if char in ends and not (char == "\n" and previous in ends and previous != "\n"):
                segment += 1
            previous = char
        return numbers + [segment]

    rng = random.Random(8)
    alphabet = list("布洛芬不要吃") + list("。\n，：;（）—")
    for _ in range(1000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        for ends in (SENTENCE_END, CLAUSE_END):
            assert _boundaries(text, ends) == scan(text, ends)


def test_round8_a_brand_in_brackets_with_one_amount_is_one_medicine():
    assert not audit("可以吃对乙酰氨基酚（比如泰诺林）0.5g，一天不超过2g。", age=30).blocked

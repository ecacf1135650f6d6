"""The auditor's rule kinds on the shipped knowledge: each kind with its own wording and card, the warning scope
(ConText table), profile normalisation, doses in ml and mg/kg, duplicates, the question, the registry."""

from __future__ import annotations

from functools import lru_cache

import pytest

from medq.agent.auditor import ContraindicationAuditor, default_rules
from medq.agent.facts import PatientProfile
from medq.agent.knowledge import Lexicon
from medq.agent.rules.base import SUMMARY_MAX
from medq.agent.scope import Span, warned_mentions


@lru_cache(maxsize=1)
def auditor() -> ContraindicationAuditor:
    return ContraindicationAuditor(Lexicon.load())


def audit(draft: str, question: str = "", **profile):
    return auditor().audit(draft, PatientProfile.from_case(profile, "msg-1"), question=question)


@pytest.mark.parametrize("draft, profile, rule", [
    ("可以吃阿莫西林。", {"allergies": ["青霉素"]}, "allergy"),
    ("可以用头孢克洛。", {"allergies": ["青霉素"]}, "allergy_cross_reactivity"),
    ("可以用阿托品。", {"conditions": ["闭角型青光眼"]}, "contraindicated_condition"),
    ("可以吃左氧氟沙星。", {"pregnant": True}, "pregnancy"),
    ("可以吃可待因。", {"lactating": True}, "lactation"),
    ("可以吃多西环素。", {"age": 5}, "min_age"),
    ("睡前吃一片地西泮。", {"age": 78}, "elderly"),
    ("二甲双胍每次0.5g，每日3次。", {"egfr": 25}, "renal"),
    ("布洛芬每次800mg，每日4次。", {}, "max_daily_dose"),
    ("可以吃布洛芬。", {"medications": ["华法林"]}, "interaction"),
    ("可以同时吃阿司匹林和华法林。", {}, "combination"),
    ("可以吃扑尔敏止痒。", {"occupation": "货车司机"}, "behaviour"),
    ("可以吃白加黑，再加一片泰诺林。", {}, "duplicate_ingredient"),
])
def test_each_rule_kind_blocks_with_its_own_card(draft, profile, rule):
    result = audit(draft, **profile)
    assert result.blocked, result.findings
    finding = next(f for f in result.findings if f.rule == rule)
    assert finding.severity == "block" and finding.reason
    assert finding.card is not None and len(finding.card.summary) <= SUMMARY_MAX
    assert finding.card.indicator in ("info", "warning", "critical") and finding.card.source["label"]
    as_dict = finding.as_dict()
    assert as_dict["card"]["summary"] == finding.card.summary and "rule_id" in as_dict


def test_the_rule_kinds_are_the_configured_list():
    names = [type(rule).__name__ for rule in default_rules()]
    assert names[0] == "QuestionRule" and "RenalRule" in names and "DuplicateRule" in names
    only_allergy = ContraindicationAuditor(Lexicon.load(), [{"_target_": "medq.agent.rules.allergy.AllergyRule"}])
    profile = PatientProfile.from_case({"allergies": ["青霉素"], "pregnant": True})
    rules = {f.rule for f in only_allergy.audit("可以吃阿莫西林和左氧氟沙星。", profile).findings}
    assert "allergy" in rules and "pregnancy" not in rules


@pytest.mark.parametrize("draft, profile", [
    ("布洛芬伤胃，您最好不要吃。可以用对乙酰氨基酚。", {"conditions": ["胃溃疡"]}),
    ("千万不要自己吃阿司匹林，有出血风险。", {"medications": ["华法林"]}),
    ("阿司匹林和华法林这两种药合用有风险，不建议合用。", {"medications": ["华法林"]}),
    ("华法林和布洛芬一起吃会增加出血风险，所以不要吃布洛芬。", {"medications": ["华法林"]}),
    ("布洛芬会增加出血风险。所以您最好不要吃它。", {"medications": ["华法林"]}),
    ("布洛芬会刺激胃黏膜，容易引起出血，所以不要吃。", {"conditions": ["胃溃疡"]}),
    ("克拉霉素会升高辛伐他汀的浓度，不要用。", {"medications": ["辛伐他汀"]}),
    ("## 建议\n- 多休息\n- 避免使用阿司匹林、布洛芬等药物\n- 如需止痛可选对乙酰氨基酚", {"medications": ["华法林"]}),
    ("以下药物不建议使用：\n- 阿司匹林\n- 布洛芬\n可以用对乙酰氨基酚。", {"medications": ["华法林"]}),
    ("建议停用阿司匹林，改用对乙酰氨基酚。", {"medications": ["华法林"]}),
    ("您对青霉素过敏，所以阿莫西林不能用，可以用阿奇霉素。", {"allergies": ["青霉素"]}),
    ("孕妇不能接种麻疹风疹腮腺炎联合减毒活疫苗，建议产后再接种。", {"pregnant": True}),
    ("需要注意的是，阿司匹林会增加出血风险。", {"medications": ["华法林"]}),
    ("服用甲硝唑期间及停药后3天内不要饮酒。", {"medications": ["甲硝唑"]}),
])
def test_a_drug_named_only_to_warn_against_it_passes(draft, profile):
    result = audit(draft, **profile)
    assert not result.blocked, (result.recommended, result.findings)


@pytest.mark.parametrize("draft, profile", [
    ("不用担心，可以吃阿莫西林。", {"allergies": ["青霉素"]}),
    ("可以吃布洛芬止痛，可能会引起胃部不适。", {"conditions": ["胃溃疡"]}),
    ("建议服用阿司匹林，注意它有出血风险。", {"medications": ["华法林"]}),
    ("### 需要避免的药物\n1. 阿司匹林\n### 可以使用\n- 布洛芬", {"medications": ["华法林"]}),
    ("降压药不要停，布洛芬每次200mg，每日3次。", {"medications": ["华法林"]}),
    ("吃甲硝唑期间可以少量喝点啤酒，没关系。", {"medications": ["甲硝唑"]}),
    ("可以吃對乙醯胺酚退燒，每次1g，每日4次。", {"conditions": ["肝硬化"]}),
    ("可以吃阿莫西邻。", {"allergies": ["青霉素"]}),        # a typo of the drug's name
    ("输完头孢可以喝点酒。", {"medications": ["头孢哌酮"]}),   # alcohol endorsed with a disulfiram-like drug
    ("可以吃布洛芬。", {"conditions": ["阿司匹林哮喘"]}),
    ("可以吃感冒清片，再吃一片泰诺林。", {}),               # a patent medicine with paracetamol inside
])
def test_recommendations_and_endorsements_are_still_caught(draft, profile):
    assert audit(draft, **profile).blocked


def test_scope_table_directions_and_anaphora():
    text = "可以吃对乙酰氨基酚，它和布洛芬不建议合用"
    spans = [Span(3, 9), Span(12, 15)]
    assert warned_mentions(text, spans) == [False, True]   # the antecedent's own clause recommends it
    text = "阿司匹林是常用药。它会刺激胃黏膜，所以不要吃。"
    assert warned_mentions(text, [Span(0, 4)]) == [True]


def test_the_question_drug_counts_when_the_draft_says_yes():
    assert audit("可以的，饭后吃就行。", question="我能吃布洛芬吗？", medications=["华法林"]).blocked
    assert not audit("不建议，布洛芬会增加出血风险。", question="我能吃布洛芬吗？", medications=["华法林"]).blocked
    assert not audit("可以的，饭后吃就行。", question="我能吃布洛芬吗？").blocked


def test_doses_in_ml_through_concentration_and_per_kg():
    # 布洛芬混悬液 20mg/ml: 10ml = 200mg per dose = 14.3 mg/kg for 14 kg, four times a day = 57 mg/kg/day
    high = audit("可以用布洛芬混悬液，每次10ml，每6小时一次。", age=3, weight_kg=14)
    assert high.blocked and {f.rule for f in high.findings} & {"max_single_dose_per_kg", "max_daily_dose_per_kg"}
    assert not audit("可以用布洛芬混悬液，每次5ml，每日3次。", age=3, weight_kg=14).blocked
    assert ContraindicationAuditor.daily_dose_mg("每次2片，每日3次", 500) == 3000


def test_profile_names_are_graded_resolved_or_reported():
    mild = audit("可以吃二甲双胍，每次0.5g，每日2次。", conditions=["慢性肾脏病2期"])
    assert not mild.blocked                                # CKD stage 2 is not renal failure
    severe = audit("可以吃二甲双胍，每次0.5g，每日2次。", conditions=["慢性肾脏病4期"])
    assert severe.blocked and any(f.rule == "renal" for f in severe.findings)
    assert not audit("可以用阿托品。", conditions=["开角型青光眼"]).blocked
    assert audit("可以用阿托品。", conditions=["青光眼"]).blocked   # unspecified: fails closed
    unknown = audit("可以吃布洛芬。", conditions=["某种罕见病"], medications=["某院内制剂"])
    assert unknown.unresolved == ["condition:某种罕见病", "medication:某院内制剂"]
    typo = audit("可以吃布洛芬。", medications=["华发林"])  # a typo of a current medicine still interacts
    assert typo.blocked and not typo.unresolved


def test_the_audit_is_deterministic():
    draft = "可以吃芬必得，每次2粒，每日4次，也可以吃新康泰克，喝点酒也没关系。"
    profile = {"conditions": ["高血压"], "medications": ["华法林"], "age": 70}
    first = [f.as_dict() for f in audit(draft, **profile).findings]
    assert first and all(first == [f.as_dict() for f in audit(draft, **profile).findings] for _ in range(3))


def test_iu_doses_and_stated_caps():
    blocked = audit("可以吃维生素A，每日25000IU。", pregnant=True)
    assert blocked.blocked and "孕期" in blocked.findings[0].reason
    assert not audit("维生素A每天5000国际单位。", pregnant=True).blocked
    # 每4-6小时 with a stated cap: at most 4 doses a day
    assert ContraindicationAuditor.daily_dose_mg("每次500mg，每4-6小时一次，24小时内不超过4次", None) == 2000
    assert ContraindicationAuditor.daily_dose_mg("每次500mg，每4小时一次", None) == 3000


@pytest.mark.parametrize("draft", ["建议把布洛芬换成对乙酰氨基酚。", "与其吃布洛芬，不如吃对乙酰氨基酚。",
                                   "比起布洛芬，更推荐对乙酰氨基酚。", "布洛芬会加重溃疡，所以不推荐用于您。"])
def test_a_replaced_or_dispreferred_drug_is_not_recommended(draft):
    result = audit(draft, conditions=["胃溃疡"])
    assert not result.blocked and "布洛芬" in result.warned, (result.recommended, result.findings)


@pytest.mark.parametrize("text, daily", [("每天吃3次，每次1g", 3000), ("每天吃6片", 3000), ("3次/日，每次2片", 3000),
                                         ("每次2片，一天最多吃4次", 4000)])
def test_dose_phrasings_with_a_verb_or_a_cap(text, daily):
    assert ContraindicationAuditor.daily_dose_mg(text, 500) == daily


def test_a_duplicate_needs_two_medicines_not_one_named_twice():
    assert not audit("继续吃布洛芬就行。", medications=["芬必得"]).blocked      # the same medicine, by its generic
    assert audit("可以吃泰诺林。", medications=["白加黑"]).blocked              # paracetamol in both


@pytest.mark.parametrize("draft, expected", [
    ("阿司匹林可以止痛，但是您在吃华法林，最好不要用。", "pass"),     # 可以 describes the drug; 但是 … 不要用 answers it
    ("阿司匹林可以吃，布洛芬别吃。", "block"),                        # 可以吃 after a drug is still advice
    ("- **避免**：阿司匹林、布洛芬\n- 可以用对乙酰氨基酚", "pass"),   # markdown around a trigger
])
def test_contrast_ability_and_markdown(draft, expected):
    assert audit(draft, medications=["华法林"]).verdict == expected


# ---- round 2 of issue 19: clinical categories from the references, on the shipped knowledge ----------------------
@pytest.mark.parametrize("draft, profile, rule", [
    # live vaccines: immunocompromised conditions, biologics, pregnancy
    ("可以按计划接种水痘疫苗。", {"age": 6, "conditions": ["急性髓系白血病"]}, "contraindicated_condition"),
    ("肾移植术后也可以打麻腮风疫苗。", {"conditions": ["肾移植术后"]}, "contraindicated_condition"),
    ("可以去接种感维。", {"medications": ["英夫利西单抗"]}, "interaction"),
    ("可以接种风疹疫苗。", {"pregnant": True}, "pregnancy"),
    # renal dose limits by eGFR band
    ("普瑞巴林每次150mg，每日2次。", {"egfr": 25}, "max_daily_dose"),
    ("泛昔洛韦500mg，每日3次。", {"egfr": 35}, "max_daily_dose"),
    ("可以用格列本脲2.5mg每天一次。", {"egfr": 50}, "renal"),
    ("二甲双胍每次1000mg，每日2次。", {"egfr": 40}, "max_daily_dose"),
    # lactation
    ("偏头痛发作时可以吃麦角胺咖啡因片。", {"lactating": True}, "lactation"),
    # condition contraindications from inserts
    ("戒烟可以吃安非他酮缓释片。", {"conditions": ["癫痫"]}, "contraindicated_condition"),
    # two members of one class: the patient's patent medicine with a sulfonylurea inside, and another one
    ("可以再加格列齐特80mg。", {"medications": ["消渴丸"]}, "interaction"),
    # herbs with antiplatelets
    ("可以长期吃银杏叶片改善循环。", {"medications": ["氯吡格雷"]}, "interaction"),
])
def test_round_two_categories_block(draft, profile, rule):
    result = audit(draft, **profile)
    assert result.blocked, (result.recommended, result.findings)
    assert any(f.rule == rule and f.severity == "block" for f in result.findings), result.findings


@pytest.mark.parametrize("draft, profile", [
    # a non-live vaccine for an immunosuppressed patient
    ("可以接种重组带状疱疹疫苗（欣安立适），两针间隔2个月。", {"medications": ["甲氨蝶呤"], "age": 60}),
    # doses within the patient's renal band, and mild CKD with a normal dose
    ("普瑞巴林每次75mg，每日2次。", {"egfr": 25}),
    ("二甲双胍每次500mg，每日2次。", {"egfr": 40}),
    ("二甲双胍每次1000mg，每日2次。", {"ckd_stage": 2}),
    # drugs LactMed finds compatible with breastfeeding
    ("哺乳期可以吃氯雷他定或西替利嗪，每日10mg。", {"lactating": True}),
    # folic acid with low-dose methotrexate is standard care
    ("甲氨蝶呤每周一次10mg，第二天吃叶酸5mg。", {"medications": ["甲氨蝶呤"]}),
    # a type-2 diabetic and the drugs that are contraindicated only in type 1 or in ketoacidosis
    ("可以加用达格列净10mg每天一次。", {"conditions": ["2型糖尿病"]}),
    ("二甲双胍每次500mg，每日3次。", {"conditions": ["糖尿病"]}),
])
def test_round_two_safe_drafts_pass(draft, profile):
    result = audit(draft, **profile)
    assert not result.blocked, result.findings


def test_profile_names_of_round_two_resolve():
    result = audit("多喝水。", conditions=["类风湿性关节炎", "急淋", "正在化疗"], allergies=["青酶素", "头胞"],
                   medications=["可邁丁"])
    assert result.unresolved == []


# ---- round 2: doses as drafts and questions state them; the question's facts ------------------------------------
@pytest.mark.parametrize("question, draft, profile", [
    # the draft doses the question's liquid without naming it, at the concentration the question states
    ("3岁15公斤，布洛芬混悬滴剂（40mg/ml）怎么喂？", "每次5ml，每6小时一次。", {"age": 3, "weight_kg": 15}),
    ("孩子4岁16公斤，阿莫西林干混悬剂（250mg/5ml）", "每次20ml，每天3次，连吃7天。", {"age": 4, "weight_kg": 16}),
    # a dose written before the name, in IU
    ("想补点维生素", "可以每天吃6万单位维生素D3，坚持3个月。", {}),
    # hourly dosing until relief
    ("痛风发作了", "秋水仙碱每小时0.5mg，吃到不痛为止。", {}),
    # a medicine the question says the patient takes, and a behaviour the draft allows without naming it
    ("在吃替硝唑，第二天了，晚上同学聚会能喝点红酒吗", "少喝一点问题不大，注意别空腹。", {}),
    ("中午吃了一包泰诺感冒片，下午头还疼，还能吃点啥", "可以再吃一片对乙酰氨基酚（500mg）。", {}),
    # a live vaccine the question names and the draft allows as "疫苗"
    ("在用阿达木单抗，社区让打水痘减毒活疫苗，能打吗", "可以打，接种疫苗能预防带状疱疹。", {}),
])
def test_doses_and_facts_from_the_question_block(question, draft, profile):
    result = audit(draft, question=question, **profile)
    assert result.blocked, (result.recommended, result.findings)


@pytest.mark.parametrize("question, draft, profile", [
    # a per-day mg/kg stated before the amount, split in two doses
    ("7岁22公斤，中耳炎", "阿莫西林按每天80-90mg/kg，分2次吃，每次约950mg。", {"age": 7, "weight_kg": 22}),
    # an infant of 6 months (age 0) with a drug licensed from 3 months
    ("5个月宝宝7公斤发烧39度，对乙酰氨基酚滴剂（100mg/ml）", "每次0.7ml，间隔4-6小时，每天不超过4次。",
     {"age": 0, "weight_kg": 7}),
    # a relative's medicine, and a medicine only asked about, are not the patient's
    ("我妈在吃华法林，我牙疼能吃布洛芬吗", "可以吃布洛芬缓释胶囊，每次0.3g，每日2次。", {}),
    ("能吃甲硝唑吗？最近牙龈发炎", "可以吃甲硝唑，每次0.4g，每日3次，服药期间和停药后3天内不要喝酒。", {}),
    # a behaviour the draft refuses
    ("在吃头孢克肟，晚上能喝点啤酒吗", "不行，服药期间和停药后一周内都不能喝酒。", {}),
])
def test_safe_question_and_dose_readings_pass(question, draft, profile):
    result = audit(draft, question=question, **profile)
    assert not result.blocked, result.findings


@pytest.mark.parametrize("draft, profile", [
    # a bare children's liquid dosed in ml: read through its lowest marketed concentration
    ("氨溴索口服溶液每次10ml，每天3次。", {"age": 3, "weight_kg": 14}),
    # the mass written beside the volume is the dose, whatever concentration the name suggests
    ("西替利嗪每次2ml（20mg），每天1次。", {"age": 4, "weight_kg": 16}),
])
def test_childrens_liquids_are_dosed(draft, profile):
    assert audit(draft, **profile).blocked


def test_an_ingredient_named_after_its_warned_product_is_warned():
    result = audit("哺乳期最好别吃新康泰克，里面的伪麻黄碱会抑制泌乳。可以用海盐水洗鼻。", lactating=True)
    assert not result.blocked and "伪麻黄碱" in result.warned


@pytest.mark.parametrize("draft, profile", [
    # on the skin: no systemic interaction, elderly, renal or condition row (oral terbinafine's liver row)
    ("膝盖疼可以外用双氯芬酸二乙胺乳胶剂，每天3次涂患处。", {"medications": ["华法林"], "age": 80, "egfr": 25}),
    ("脚气可以涂特比萘芬乳膏，每天2次。", {"conditions": ["肝功能不全"]}),
    # a risk stated about two drugs together, with words between 有 and 风险
    ("舍曲林和舒马普坦合用有5-羟色胺综合征风险。偏头痛时可以先吃对乙酰氨基酚0.5g。", {"medications": ["舍曲林"]}),
])
def test_skin_route_and_risk_statements_pass(draft, profile):
    result = audit(draft, **profile)
    assert not result.blocked, result.findings


def test_the_skin_route_does_not_hide_an_oral_dose_or_a_childs_potent_steroid():
    assert audit("可以吃双氯芬酸钠缓释片75mg，每天1次。", medications=["华法林"]).blocked
    assert audit("可以涂丙酸氯倍他索乳膏。", age=5).blocked


def test_two_members_of_a_class_block_but_a_switch_within_it_passes():
    assert audit("可以再加普萘洛尔10mg，每天3次。", medications=["倍他乐克"]).blocked
    assert not audit("可以把阿托伐他汀改用瑞舒伐他汀10mg，每晚一次。", medications=["阿托伐他汀"]).blocked
    assert not audit("建议改用利伐沙班15mg每天一次，停用华法林。", medications=["华法林"]).blocked


def test_the_questions_occupation_and_conditions_count():
    assert audit("可以吃氯苯那敏，每次4mg。", question="我是开出租的，鼻炎犯了").blocked
    assert audit("可以吃普萘洛尔10mg，每天3次。", question="我有哮喘，血压高吃什么").blocked
    assert not audit("可以吃普萘洛尔10mg，每天3次。", question="我妈有哮喘，我血压高吃什么").blocked


@pytest.mark.parametrize("draft, profile, blocked", [
    # Beers' immediate-release nifedipine row: not the controlled-release tablet or its brand
    ("可以吃拜新同30mg，每天一次。", {"age": 76}, False),
    ("可以吃硝苯地平缓释片20mg，每天2次。", {"age": 76}, False),
    ("血压高时嚼一片心痛定10mg。", {"age": 76}, True),
    # digoxin in older people: the dose limit blocks, the drug itself is a caution
    ("地高辛0.125mg每天一次。", {"age": 82}, False),
    ("地高辛0.25mg每天一次。", {"age": 82}, True),
    # an antipsychotic for a person with dementia
    ("晚上吵闹可以吃喹硫平25mg。", {"age": 84, "conditions": ["阿尔茨海默病"]}, True),
])
def test_elderly_rows_by_formulation_dose_and_condition(draft, profile, blocked):
    assert audit(draft, **profile).blocked is blocked


@pytest.mark.parametrize("draft, profile", [
    ("可以吃新速效感冒片，再加一片对乙酰氨基酚500mg。", {}),            # paracetamol in a patent cold remedy, twice
    ("咳嗽可以吃咳特灵，一次2粒。", {"occupation": "货车司机"}),          # chlorphenamine inside, for a driver
    ("睡不好可以吃朱砂安神丸。", {"pregnant": True}),                   # mercury (朱砂) in pregnancy
])
def test_patent_medicines_with_hidden_ingredients_block(draft, profile):
    assert audit(draft, **profile).blocked


def test_a_yes_about_an_alternative_does_not_endorse_the_drug_asked_about():
    assert not audit("可以先吃对乙酰氨基酚，每次500mg，一天不超过3次。", question="我胃溃疡，头疼能吃布洛芬吗",
                     conditions=["胃溃疡"]).blocked
    assert audit("可以的，按说明书吃就行。", question="我胃溃疡，头疼能吃布洛芬吗", conditions=["胃溃疡"]).blocked


def test_a_renal_dose_band_inside_a_stage_warns_and_a_stated_egfr_decides():
    stage_only = audit("二甲双胍每次1000mg，每天2次。", ckd_stage=3)
    assert not stage_only.blocked and any(f.rule == "max_daily_dose" for f in stage_only.findings)
    assert audit("二甲双胍每次1000mg，每天2次。", egfr=38).blocked
    assert audit("普瑞巴林每次150mg，每天2次。", ckd_stage=4).blocked     # stage 4 lies wholly below eGFR 30


@pytest.mark.parametrize("draft, profile", [
    ("鼻塞可以用赛洛唑啉滴鼻液，每天2次。", {"age": 4}),                  # decongestant drops under 6
    ("米非司酮可以吃。", {"pregnant": True}),                          # it ends a pregnancy
    ("晚上吃一片艾司唑仑，再加一片佐匹克隆。", {}),                      # two hypnotics together
])
def test_round_two_probe_categories_block(draft, profile):
    assert audit(draft, **profile).blocked


@pytest.mark.parametrize("draft, profile", [
    ("可以每天冲点田七粉喝，活血。", {"medications": ["华法林"]}),
    ("痛经可以喝点藏红花泡水。", {"pregnant": True}),
])
def test_blood_activating_herbs_block(draft, profile):
    assert audit(draft, **profile).blocked


@pytest.mark.parametrize("condition", ["树枝状角膜炎", "疱疹性角膜炎"])
def test_round4_a_steroid_eye_drop_in_herpetic_keratitis_blocks(condition):
    # the condition and its synonyms resolve; the steroid-antibiotic drop is contraindicated (label)
    result = audit("用妥布霉素地塞米松滴眼液，一天滴四次。", conditions=[condition], age=30)
    assert result.blocked and any(f.rule == "contraindicated_condition" for f in result.findings)
    assert not result.unresolved
    assert not audit("用妥布霉素地塞米松滴眼液，一天滴四次。", conditions=["结膜炎"], age=30).blocked


def test_round4_a_dose_stated_for_normal_kidneys_is_a_reference_for_a_patient_with_low_egfr():
    draft = "伐昔洛韦在肾功能正常者用1g每日3次；您肌酐清除率偏低，改成1g每日2次就够了。"
    assert not audit(draft, age=70, egfr=40).blocked
    # the reduced dose itself is still read, and a too-high one still blocks
    assert audit("伐昔洛韦在肾功能正常者用1g每日3次；您这个肾功能也照样1g每日3次吃。", age=70, egfr=40).blocked


def test_round4_a_bisphosphonate_with_calcium_is_spaced_not_avoided():
    # calcium is part of osteoporosis care: taken apart it is a caution card, not a block
    result = audit("阿仑膦酸钠每周一片，早上空腹吃；钙片隔开，午饭后再吃碳酸钙。", age=70)
    assert not result.blocked
    assert any(f.rule == "combination" and f.severity == "warn" for f in result.findings)
    # the bisphosphonate's own contraindications still block
    assert audit("阿仑膦酸钠每周一片，早上空腹吃；钙片隔开，午饭后再吃碳酸钙。", age=70, conditions=["低钙血症"]).blocked


# round 9: renal dose caps from the labels' renal tables, the dose reader's days apart / later daily totals / loading
# dose, women's-health and herb rows (sentences of our own)
@pytest.mark.parametrize("draft, profile", [
    ("替诺福韦每次300mg，每天吃一次就行。", {"egfr": 35}),                     # CrCl 30-49: every 48 h
    ("巴氯芬每次10mg，一日三次。", {"ckd_stage": 5}),                          # kidney failure: about 5 mg a day
    ("卡格列净每天早上300mg。", {"egfr": 50}),                                 # eGFR 30-<60: 100 mg
    ("缬更昔洛韦每次900mg，每日两次。", {"egfr": 45}),
    ("先吃瑞舒伐他汀每天5mg，两周后可以加到每天20mg。", {"egfr": 20}),         # the later daily total counts
    ("恩替卡韦是抗乙肝病毒药：每天1mg。", {"egfr": 20}),                       # the class it is said to be
    ("痛风又有肾结石的话，苯溴马隆每天50mg。", {"conditions": ["肾结石"]}),
    ("更年期潮热可以用结合雌激素，每天0.625mg。", {"sex": "female", "age": 55, "conditions": ["乳腺癌"]}),
    ("替勃龙每天2.5mg，改善潮热。", {"sex": "female", "age": 56, "conditions": ["脑梗死"]}),
    ("喂奶期间发烧可以吃尼美舒利，每次50mg。", {"sex": "female", "lactating": True}),
    ("黄连煮水喝两天就好。", {"age": 0, "conditions": ["G6PD缺乏症"]}),
    ("青木香可以理气止痛，煎水喝。", {"age": 50}),
])
def test_round9_renal_caps_and_womens_health_rows_block(draft, profile):
    assert audit(draft, **profile).blocked


@pytest.mark.parametrize("draft, profile", [
    ("替诺福韦每次300mg，每72小时一次。", {"egfr": 25}),
    ("恩替卡韦每7天服用0.5mg，透析后服。", {"ckd_stage": 5, "egfr": 8}),     # 0.07 mg a day on average
    ("左氧氟沙星第一次吃500mg，之后每48小时吃250mg。", {"egfr": 15}),        # the first dose is not reduced
    ("卡格列净每天100mg就够了。", {"egfr": 50}),
])
def test_round9_reduced_renal_doses_pass(draft, profile):
    result = audit(draft, **profile)
    assert not any(f.rule == "max_daily_dose" for f in result.findings), result.reasons


def test_round9_a_drug_described_as_one_to_avoid_is_warned():
    # …属于老年人应避免的药物: the trigger's tail (的药物) is no other topic, so it points back at the drug
    assert not audit("地西泮作用时间长，是老年人应该避免的药物，可以先调整作息。", age=82).blocked
    assert audit("地西泮作用时间长，可以睡前吃一片。", age=82).blocked


@pytest.mark.parametrize("draft, profile", [
    ("帕利哌酮缓释片每天6mg。", {"egfr": 40}),                                  # CrCl 10-49: 3 mg at most
    ("头孢克肟每次200mg，每日2次。", {"egfr": 40}),                              # CrCl 21-59: 260 mg a day
    ("依普利酮每天50mg控制血压。", {"egfr": 25}),
    ("氯氮平可以继续吃，喂奶没关系。", {"sex": "female", "lactating": True}),
    ("来曲唑每天2.5mg，照常喂奶。", {"sex": "female", "lactating": True}),
])
def test_round9_label_rows_for_the_next_author_block(draft, profile):
    assert audit(draft, **profile).blocked


def test_round9_cefixime_at_the_reduced_daily_dose_passes():
    assert not audit("头孢克肟每日200mg。", egfr=40).blocked


def test_round9_an_amount_named_as_calcium_is_not_the_vitamin_d_of_the_product():
    result = audit("骨量偏低的话，碳酸钙D3片每天补600mg元素钙就行。", age=62, sex="female")
    assert not any(f.rule == "max_daily_dose" for f in result.findings), result.reasons
    assert audit("维生素D3每天2mg。", age=62, sex="female").blocked     # vitamin D named alone is still read

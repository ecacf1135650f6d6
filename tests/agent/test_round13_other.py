"""Round 13 label sweep, ATC groups L, R, D, S, V and drugs without an ATC code (rule ids Q…), on sentences written
for these tests: a draft that recommends the drug for the population the label names blocks; the same drug for a
patient outside it passes; a draft that warns against it passes."""

import pytest

from medq.agent.knowledge import Lexicon

from .probes import audit, blocked_ids as rule_ids


def rules_of(subject: str) -> dict[str, object]:
    return {r.id: r for r in Lexicon.load().rules.values() if r.subject == subject and r.id.startswith("Q")}


# ---- immunomodulators (L04): label contraindications, kidney caps, interactions ------------------------------------
def test_leflunomide_in_severe_liver_impairment_only():
    assert rule_ids(audit("类风湿可以用来氟米特，每日20mg。", conditions=["严重肝功能不全"], age=60)) & set(rules_of("来氟米特"))
    assert not audit("类风湿可以用来氟米特，每日20mg。", conditions=["高血压"], age=60).blocked


@pytest.mark.parametrize("draft, egfr, blocked", [("托法替布5mg，每日2次。", 40, True), ("托法替布5mg，每日1次。", 40, False),
                                                  ("托法替布5mg，每日2次。", 85, False),
                                                  ("巴瑞替尼每日4mg。", 45, True), ("巴瑞替尼每日2mg。", 45, False),
                                                  ("巴瑞替尼每日2mg。", 20, True)])
def test_jak_inhibitor_kidney_caps(draft, egfr, blocked):
    assert audit(draft, egfr=egfr, age=62).blocked is blocked


def test_fingolimod_in_sick_sinus_and_with_amiodarone():
    assert audit("可以用芬戈莫德胶囊0.5mg每日一次。", conditions=["病窦综合征"], age=35).blocked
    assert not audit("可以用芬戈莫德胶囊0.5mg每日一次。", age=35).blocked
    assert audit("芬戈莫德照常服用，心律失常再加胺碘酮200mg每日一次。", age=45).blocked


def test_lenalidomide_kidney_cap():
    assert audit("来那度胺每日25mg，连用21天。", egfr=40, age=70).blocked
    assert not audit("来那度胺每日10mg，连用21天。", egfr=40, age=70).blocked
    assert not audit("来那度胺每日25mg，连用21天。", egfr=80, age=70).blocked


def test_thalidomide_and_driving():
    assert audit("沙利度胺每晚100mg，服药后照常开车上班没问题。", age=50).blocked
    assert not audit("沙利度胺每晚100mg，服药后不要开车。", age=50).blocked


def test_interferon_in_autoimmune_hepatitis():
    assert rule_ids(audit("可以用干扰素α抗病毒治疗。", conditions=["自身免疫性肝炎"], age=40)) & set(rules_of("干扰素α"))


def test_iguratimod_in_peptic_ulcer():
    assert audit("艾拉莫德25mg每日两次。", conditions=["胃溃疡"], age=50).blocked
    assert not audit("艾拉莫德25mg每日两次。", conditions=["高血压"], age=50).blocked


# ---- respiratory, skin, eye, various -----------------------------------------------------------------------------
@pytest.mark.parametrize("draft, blocked", [("扎鲁司特每次40mg，每日2次。", True), ("扎鲁司特每次20mg，每日2次。", False),
                                            ("丙卡特罗片每次100μg，每日2次。", True), ("丙卡特罗片每次50μg，每日2次。", False),
                                            # no tablet maximum on terbutaline: it would read the nebuliser's 5 mg
                                            # four times daily (EU SPC: up to 10 mg 2-4 times) as an overdose
                                            ("特布他林雾化液每次5mg，每日4次雾化。", False)])
def test_asthma_tablet_maximum_doses(draft, blocked):
    assert audit(draft, age=40).blocked is blocked


def test_salmeterol_with_a_strong_cyp3a4_inhibitor():
    assert audit("沙美特罗和酮康唑一起用没问题。", age=40).blocked


def test_latanoprost_in_pregnancy():
    assert audit("拉坦前列素滴眼液每晚一滴。", pregnant=True, trimester=2, age=30).blocked
    assert not audit("拉坦前列素滴眼液每晚一滴。", age=60).blocked
    assert not audit("怀孕期间不要用拉坦前列素滴眼液，请眼科换药。", pregnant=True, trimester=2, age=30).blocked


def test_pimecrolimus_under_two_years():
    assert audit("孩子湿疹可以抹吡美莫司乳膏。", age=1).blocked
    assert not audit("孩子湿疹可以抹吡美莫司乳膏。", age=5).blocked


def test_methoxyphenamine_compound_in_young_children_and_breastfeeding():
    assert "Q0012" in rule_ids(audit("可以吃阿斯美，每次2粒每日3次。", age=6))
    assert "Q0012" not in rule_ids(audit("可以吃阿斯美，每次2粒每日3次。", age=30))
    assert "Q0013" in rule_ids(audit("可以吃复方甲氧那明胶囊，每次2粒每日3次。", age=30, lactating=True))


def test_phosphate_binder_in_bowel_obstruction_and_leucovorin_in_pernicious_anaemia():
    assert audit("司维拉姆随餐服用，每次800mg。", conditions=["肠梗阻"], age=60, egfr=10).blocked
    assert not audit("司维拉姆随餐服用，每次800mg。", age=60, egfr=10).blocked
    assert audit("亚叶酸钙每日15mg口服。", conditions=["恶性贫血"], age=70).blocked


def test_camphor_on_the_skin_of_an_infant():
    # an age row reaches a drug on the skin (condition rows about systemic exposure do not: population.py)
    assert audit("鼻塞可以在胸口涂樟脑软膏。", age=1).blocked
    assert not audit("鼻塞可以在胸口涂樟脑软膏。", age=30).blocked


# ---- cancer drugs (L01/L02) ----------------------------------------------------------------------------------------
def test_mtor_inhibitors_with_strong_cyp3a4_inhibitors_and_grapefruit():
    assert audit("西罗莫司继续吃，同时加用克拉霉素500mg每日两次。", age=50).blocked
    assert audit("依维莫司每天10mg，可以配葡萄柚汁吃。", age=50).blocked
    assert not audit("依维莫司每天10mg，服药期间不要喝葡萄柚汁。", age=50).blocked


def test_toremifene_in_long_qt():
    assert audit("托瑞米芬每日60mg。", conditions=["长QT综合征"], age=60, sex="female").blocked
    assert not audit("托瑞米芬每日60mg。", age=60, sex="female").blocked


def test_s1_with_capecitabine():
    assert audit("替吉奥和卡培他滨一起吃效果更好。", age=60).blocked
    assert not audit("替吉奥不能和卡培他滨一起吃。", age=60).blocked


def test_bicalutamide_in_a_woman_not_a_man():
    assert audit("比卡鲁胺每日50mg。", age=50, sex="female").blocked
    assert not audit("比卡鲁胺每日50mg。", age=70, sex="male").blocked


@pytest.mark.parametrize("draft, profile", [("奥沙利铂化疗照常进行。", dict(egfr=25)),
                                            ("培美曲塞可以继续用。", dict(egfr=35)),
                                            ("多西他赛化疗照常进行。", dict(conditions=["中性粒细胞减少"])),
                                            ("伊立替康化疗照常进行。", dict(conditions=["克罗恩病"])),
                                            ("顺铂化疗照常进行。", dict(conditions=["耳聋"]))])
def test_chemotherapy_label_contraindications(draft, profile):
    assert audit(draft, age=60, **profile).blocked
    assert not audit(draft, age=60).blocked


def test_fluorouracil_first_trimester_only():
    assert audit("可以用氟尿嘧啶化疗。", pregnant=True, trimester=1, age=32).blocked
    assert not any(i.startswith("Q") for i in rule_ids(audit("可以用氟尿嘧啶化疗。", pregnant=True, trimester=3, age=32)))


# ---- drugs added this round: names patients write, and their rows -----------------------------------------------
@pytest.mark.parametrize("name, substance", [("可瑞达", "帕博利珠单抗"), ("欧狄沃", "纳武利尤单抗"), ("达伯舒", "信迪利单抗"),
                                             ("诺雷得", "戈舍瑞林"), ("抑那通", "亮丙瑞林"), ("芙仕得", "氟维司群"),
                                             ("维加特", "尼达尼布"), ("艾思瑞", "吡非尼酮"), ("米芙", "麦考酚钠"),
                                             ("乐卫玛", "仑伐替尼"), ("吉泰瑞", "阿法替尼"), ("赫赛汀", "曲妥珠单抗")])
def test_brand_names_resolve(name, substance):
    lex = Lexicon.load()
    found = [m for m in lex.find_mentions(f"医生说要用{name}") if m.kind == "drug"]
    assert found and found[0].canonical == substance


def test_pd1_antibodies_in_pregnancy_through_their_class():
    assert audit("可瑞达每3周200mg静滴。", pregnant=True, trimester=2, age=33).blocked
    assert audit("信迪利单抗可以继续用。", lactating=True, age=33).blocked
    assert not audit("可瑞达每3周200mg静滴。", age=60).blocked


def test_gnrh_agonist_in_pregnancy():
    assert audit("可以打诺雷得3.6mg。", pregnant=True, age=33).blocked
    assert not audit("可以打诺雷得3.6mg。", age=45, sex="female").blocked


def test_pirfenidone_with_fluvoxamine_and_nintedanib_with_a_peanut_allergy():
    assert audit("吡非尼酮和氟伏沙明可以一起吃。", age=70).blocked
    assert audit("维加特每次150mg每日两次。", age=70, allergies=["花生"]).blocked
    assert not audit("维加特每次150mg每日两次。", age=70).blocked


def test_roflumilast_severe_liver_and_rupatadine_grapefruit():
    assert audit("罗氟司特每日500μg。", age=70, conditions=["严重肝功能不全"]).blocked
    assert not audit("罗氟司特每日500μg。", age=70).blocked
    assert audit("卢帕他定10mg每日一次，可以用葡萄柚汁送服。", age=30).blocked
    assert not audit("卢帕他定10mg每日一次。", age=30).blocked


def test_fluorometholone_in_herpetic_keratitis():
    assert audit("氟米龙滴眼液一天4次。", age=30, conditions=["疱疹性角膜炎"]).blocked
    assert not audit("氟米龙滴眼液一天4次。", age=30, conditions=["过敏性结膜炎"]).blocked


# ---- drugs without an ATC code, combinations, inhalers ---------------------------------------------------------------
def test_huperzine_in_epilepsy():
    assert audit("记忆力差可以吃石杉碱甲片，每次0.1mg每日2次。", conditions=["癫痫"], age=72).blocked
    assert not audit("记忆力差可以吃石杉碱甲片，每次0.1mg每日2次。", age=72).blocked


@pytest.mark.parametrize("draft, egfr, blocked", [("哌拉西林他唑巴坦4.5g，每6小时一次静滴。", 25, True),
                                                  ("哌拉西林他唑巴坦4.5g，每8小时一次静滴。", 30, False),
                                                  ("哌拉西林他唑巴坦4.5g，每6小时一次静滴。", 90, False),
                                                  ("阿莫西林克拉维酸钾1g，每12小时一次。", 20, True),
                                                  ("阿莫西林克拉维酸钾625mg，每12小时一次。", 20, False)])
def test_beta_lactam_combination_kidney_caps(draft, egfr, blocked):
    assert audit(draft, egfr=egfr, age=70).blocked is blocked


def test_triple_inhaler_product_reaches_its_ingredients():
    lex = Lexicon.load()
    found = [m for m in lex.find_mentions("慢阻肺可以用全再乐") if m.kind == "product"]
    assert found and set(lex.ingredients(found[0].canonical)) == {"氟替卡松", "乌美溴铵", "维兰特罗"}
    assert audit("全再乐每天一吸，同时吃酮康唑没关系。", age=70).blocked
    assert not audit("全再乐每天一吸。", age=70).blocked


def test_acetazolamide_in_cirrhosis():
    assert audit("乙酰唑胺250mg每日2次降眼压。", conditions=["肝硬化"], age=70).blocked
    assert not audit("乙酰唑胺250mg每日2次降眼压。", conditions=["闭角型青光眼"], age=70).blocked


# ---- immunomodulators and antidotes patients name, the alcohol in 藿香正气水 ---------------------------------------------
def test_thymalfasin_after_an_organ_transplant():
    assert audit("可以打日达仙增强免疫力，每周两次。", conditions=["肾移植术后"], age=50).blocked
    assert not audit("可以打日达仙增强免疫力，每周两次。", conditions=["乙肝"], age=50).blocked


def test_deferasirox_kidney_bound_and_deferiprone_with_clozapine():
    assert audit("恩瑞格每日20mg/kg照常服用。", egfr=35, age=40).blocked
    assert not audit("恩瑞格每日20mg/kg照常服用。", egfr=75, age=40).blocked
    assert audit("去铁酮照常吃，精神科的氯氮平也可以一起吃。", age=30).blocked


def test_methylene_blue_with_an_ssri():
    assert audit("可以用亚甲蓝，舍曲林照常吃。", age=50).blocked


def test_clemastine_in_breastfeeding():
    assert audit("过敏可以吃氯马斯汀，每次1mg每日2次。", lactating=True, age=30).blocked
    assert not audit("过敏可以吃氯马斯汀，每次1mg每日2次。", age=30).blocked


def test_huoxiang_zhengqi_water_and_driving_or_a_disulfiram_like_drug():
    assert audit("中暑了喝一支藿香正气水，喝完照常开车没事。", age=35).blocked
    assert not audit("中暑了喝一支藿香正气水，喝完别开车。", age=35).blocked
    assert audit("藿香正气水一次10ml，和呋喃唑酮一起吃没问题。", age=35).blocked


# ---- label maximum doses -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("draft, blocked", [("吗替麦考酚酯每次2g，每日2次。", True), ("吗替麦考酚酯每次1g，每日2次。", False),
                                            ("比卡鲁胺每日300mg。", True), ("比卡鲁胺每日150mg。", False),
                                            ("氟他胺每次250mg，每日4次。", True), ("氟他胺每次250mg，每日3次。", False)])
def test_immunosuppressant_and_antiandrogen_maximum_doses(draft, blocked):
    assert audit(draft, age=65, sex="male").blocked is blocked


def test_griseofulvin_in_porphyria():
    assert audit("头癣口服灰黄霉素，每日500mg。", conditions=["卟啉症"], age=30).blocked
    assert not audit("头癣口服灰黄霉素，每日500mg。", age=30).blocked


def test_jak_inhibitor_with_a_potent_immunosuppressant_and_interferon_with_telbivudine():
    assert audit("类风湿加用托法替布5mg每日2次，硫唑嘌呤继续吃。", age=50).blocked
    assert not audit("类风湿加用托法替布5mg每日2次，甲氨蝶呤继续每周一次。", age=50).blocked
    assert audit("乙肝可以干扰素联合替比夫定一起用。", age=30).blocked


@pytest.mark.parametrize("draft, blocked", [("氯马斯汀每次1.34mg，每日2次。", False), ("氯马斯汀每次2.68mg，每日3次。", False),
                                            ("氯马斯汀每次2.68mg，每日4次。", True)])
def test_clemastine_daily_maximum_in_the_fumarate(draft, blocked):
    assert audit(draft, age=40).blocked is blocked


def test_tranilast_in_pregnancy_and_dacomitinib_with_a_ppi():
    assert audit("过敏性鼻炎可以吃曲尼司特，每次0.1g每日3次。", pregnant=True, trimester=1, age=28).blocked
    assert not audit("过敏性鼻炎可以吃曲尼司特，每次0.1g每日3次。", age=28).blocked
    assert audit("达可替尼每日45mg，胃不舒服加奥美拉唑20mg每日一次。", age=60).blocked
    assert not audit("达可替尼每日45mg。", age=60).blocked

"""Round 13 label sweep, anti-infectives (ATC J) and antiparasitics (ATC P): rows written drug by drug from the
package inserts (ritonavir/lopinavir/atazanavir/efavirenz boosters and their contraindicated partners, nirmatrelvir
by eGFR, zanamivir in airway disease, cycloserine, anthelmintics in pregnancy and infancy, ...), probed on sentences
written for these tests: the drug recommended for the population blocks, the same drug outside it passes, and a draft
that warns against it passes."""

import pytest

from medq.agent.knowledge import Lexicon

from .probes import audit, blocked_ids


def y_blocks(result) -> set[str]:
    # round 15's class rows (partner + 强效CYP3A4抑制剂, ids P…) report first where they cover the same pair
    return {i for i in blocked_ids(result) if i.startswith(("Y", "P"))}


# ---- boosters: the partner the label forbids blocks; an unrelated medicine does not ------------------------------
@pytest.mark.parametrize("draft, meds", [
    ("前列腺增生可以吃阿夫唑嗪缓释片，每晚10mg。", ["利托那韦"]),
    ("心律不齐可以口服普罗帕酮150mg，每日3次。", ["利托那韦"]),
    ("癫痫可以用卡马西平，每次200mg每日2次。", ["奈玛特韦片/利托那韦片组合包装"]),
    ("精神分裂症可以用鲁拉西酮40mg每晚一次。", ["洛匹那韦"]),
    ("降脂可以吃辛伐他汀20mg每晚一次。", ["阿扎那韦"]),
    ("失眠可以睡前吃三唑仑0.25mg。", ["依非韦伦"]),
])
def test_booster_contraindicated_partners_block(draft, meds):
    assert y_blocks(audit(draft, medications=meds, age=45))
    assert not y_blocks(audit(draft, medications=["二甲双胍"], age=45))


def test_paxlovid_recommended_to_a_patient_on_carbamazepine():
    result = audit("新冠可以吃Paxlovid，奈玛特韦300mg加利托那韦100mg每12小时一次，连服5天。", medications=["卡马西平"], age=60)
    assert y_blocks(result)


def test_efavirenz_with_standard_dose_voriconazole():
    assert y_blocks(audit("曲霉感染可以口服伏立康唑200mg，每日2次。", medications=["依非韦伦"], age=38))


def test_nevirapine_in_decompensated_cirrhosis_but_not_without_liver_disease():
    draft = "抗病毒方案可以加用奈韦拉平200mg每日一次，两周后改为每日2次。"
    assert y_blocks(audit(draft, conditions=["失代偿期肝硬化"], age=50))
    assert not y_blocks(audit(draft, conditions=["高血压"], age=50))


def test_telbivudine_with_peginterferon():
    # Y0059 and the L sweep's Q0325 state the same pair from the two labels (Tyzeka, Sebivo SPC): either one blocks
    assert blocked_ids(audit("乙肝可以加用聚乙二醇干扰素，每周一次皮下注射。", medications=["替比夫定"], age=35)) & {"Y0059", "Q0325"}


# ---- nirmatrelvir by eGFR ----------------------------------------------------------------------------------------
def test_nirmatrelvir_in_severe_renal_impairment_and_full_dose_in_moderate():
    draft = "新冠高风险，建议奈玛特韦300mg+利托那韦100mg，每12小时一次，共5天。"
    assert y_blocks(audit(draft, egfr=22, age=72))
    assert y_blocks(audit(draft, egfr=45, age=72))
    assert not y_blocks(audit(draft, egfr=85, age=72))
    assert not y_blocks(audit("肾功能中度下降，奈玛特韦减为150mg+利托那韦100mg，每12小时一次。", egfr=45, age=72))


# ---- influenza -----------------------------------------------------------------------------------------------------
def test_zanamivir_in_asthma_but_not_in_a_healthy_adult():
    draft = "流感可以吸入扎那米韦，每次10mg，每日2次，连用5天。"
    assert y_blocks(audit(draft, conditions=["哮喘"], age=30))
    assert not y_blocks(audit(draft, age=30))
    assert not y_blocks(audit("有哮喘不建议用扎那米韦吸入，可以改用奥司他韦。", conditions=["哮喘"], age=30))


def test_peramivir_dose_by_renal_band():
    assert y_blocks(audit("静滴帕拉米韦600mg，一次即可。", egfr=25, age=70))
    assert not y_blocks(audit("静滴帕拉米韦600mg，一次即可。", egfr=90, age=40))


# ---- tuberculosis ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("condition", ["癫痫", "抑郁症", "精神分裂症"])
def test_cycloserine_in_epilepsy_depression_and_psychosis(condition):
    assert y_blocks(audit("耐药结核方案加环丝氨酸250mg，每日2次。", conditions=[condition], age=40))


def test_cycloserine_without_those_conditions_and_alcohol():
    assert not y_blocks(audit("耐药结核方案加环丝氨酸250mg，每日2次。", conditions=["肺结核"], age=40))
    assert y_blocks(audit("环丝氨酸照常吃，晚上喝点白酒没关系。", medications=["环丝氨酸"], age=40))


# ---- antibacterials ----------------------------------------------------------------------------------------------
def test_sulfadoxine_in_a_young_infant():
    assert y_blocks(audit("可以口服磺胺多辛，按体重一次服用。", age=0, weight_kg=4))
    assert not y_blocks(audit("可以口服磺胺多辛，按体重一次服用。", age=10, weight_kg=30))


def test_thiamphenicol_in_pregnancy():
    assert y_blocks(audit("可以口服甲砜霉素0.5g，每日3次。", pregnant=True, trimester=2, age=28))
    assert not y_blocks(audit("可以口服甲砜霉素0.5g，每日3次。", age=28, sex="male"))


# ---- anthelmintics and antimalarials --------------------------------------------------------------------------------
def test_pyrantel_in_pregnancy_and_infancy_not_in_a_school_child():
    draft = "蛲虫可以吃双羟萘酸噻嘧啶，按体重一次顿服。"
    assert y_blocks(audit(draft, pregnant=True, trimester=1, age=26))
    assert not y_blocks(audit(draft, age=8, weight_kg=25))


def test_levamisole_in_first_trimester():
    assert y_blocks(audit("驱蛔虫可以吃左旋咪唑150mg，睡前顿服。", pregnant=True, trimester=1, age=27))


def test_praziquantel_in_ocular_cysticercosis():
    assert y_blocks(audit("囊虫病可以口服吡喹酮，每次20mg/kg，每日3次。", conditions=["眼囊虫病"], age=35))


def test_ivermectin_in_pregnancy_not_in_an_adult_man():
    assert y_blocks(audit("疥疮可以口服伊维菌素，按200μg/kg单次服用。", pregnant=True, trimester=2, age=30))
    assert not y_blocks(audit("疥疮可以口服伊维菌素，按200μg/kg单次服用。", age=30, sex="male"))


def test_hpv_vaccine_in_pregnancy():
    assert y_blocks(audit("可以接种九价HPV疫苗，按0、2、6月程序。", pregnant=True, trimester=1, age=25))
    assert not y_blocks(audit("可以接种九价HPV疫苗，按0、2、6月程序。", age=25, sex="female"))


# ---- drugs added this round: names patients write, and their label rows ----------------------------------------------
@pytest.mark.parametrize("text, canonical", [("必妥维", "比克恩丙诺片"), ("Biktarvy", "比克恩丙诺片"), ("普泽力", "达芦那韦考比司他片"),
                                             ("快利佳", "洛匹那韦利托那韦片"), ("帕罗韦德", "奈玛特韦片/利托那韦片组合包装"),
                                             ("先诺欣", "先诺特韦片/利托那韦片组合包装"), ("利卓瑞", "莫诺拉韦"), ("法匹拉韦", "法维拉韦"),
                                             ("艾诺全", "格卡瑞韦哌仑他韦"), ("择必达", "艾尔巴韦格拉瑞韦"), ("夏帆宁", "来迪派韦索磷布韦"),
                                             ("丙种球蛋白", "人免疫球蛋白"), ("纽再乐", "奥马环素"), ("佳达修", "HPV疫苗"),
                                             ("流脑疫苗", "脑膜炎球菌疫苗"), ("绥美凯", "多替阿巴拉米片"), ("去氧羥四環素", "多西环素"),
                                             ("貝樂克", "恩替卡韦"), ("宜譜莎", "索磷布韦维帕他韦"), ("必賴克廔", "羟氯喹")])
def test_new_names_resolve(text, canonical):
    assert canonical in {m.canonical for m in Lexicon.load().find_mentions(f"医生让我用{text}")}


def test_short_brand_names_do_not_fire_inside_ordinary_words():
    lex = Lexicon.load()
    assert not lex.find_mentions("务必特别注意饮食，前辈力荐多喝水")


def test_boosted_products_carry_ritonavir_and_cobicistat_rows():
    # 先诺欣 carries ritonavir, 普泽力 cobicistat: a statin the labels forbid blocks through the product
    assert y_blocks(audit("血脂高可以吃辛伐他汀20mg每晚一次。", medications=["普泽力"], age=50))
    # round 14 wrote simnotrelvir's own inducer rows (K0022-K0025): either they or ritonavir's Y row block
    assert blocked_ids(audit("癫痫可以用苯妥英钠，每次100mg每日3次。", medications=["先诺欣"], age=50))
    assert y_blocks(audit("前列腺增生可以吃阿夫唑嗪10mg每晚一次。", medications=["快利佳"], age=66))


def test_bictegravir_with_rifampicin_but_not_with_isoniazid():
    assert y_blocks(audit("结核可以用利福平600mg每日一次。", medications=["必妥维"], age=40))
    assert not y_blocks(audit("潜伏结核可以单用异烟肼300mg每日一次。", medications=["必妥维"], age=40))


def test_molnupiravir_and_favipiravir_in_pregnancy_and_youth():
    assert y_blocks(audit("新冠可以吃莫诺拉韦800mg，每12小时一次，共5天。", pregnant=True, trimester=2, age=30))
    assert y_blocks(audit("新冠可以吃莫诺拉韦800mg，每12小时一次，共5天。", age=15))
    assert not y_blocks(audit("新冠可以吃莫诺拉韦800mg，每12小时一次，共5天。", age=70))
    assert y_blocks(audit("流感可以吃法维拉韦，首日1600mg每日2次。", pregnant=True, trimester=1, age=29))


@pytest.mark.parametrize("drug", ["艾诺全", "择必达"])
def test_hcv_protease_inhibitors_in_decompensated_cirrhosis(drug):
    draft = f"丙肝可以用{drug}，每日一次，疗程8到12周。"
    assert y_blocks(audit(draft, conditions=["失代偿期肝硬化"], age=58))
    assert not y_blocks(audit(draft, conditions=["病毒性肝炎"], age=58))


def test_hcv_regimens_with_their_forbidden_partners():
    assert y_blocks(audit("丙肝可以用择必达，每日一片。", medications=["环孢素"], age=45))
    assert y_blocks(audit("丙肝可以用夏帆宁，每日一片。", medications=["胺碘酮"], age=70))
    assert y_blocks(audit("丙肝可以用艾诺全，每日3片随餐。", medications=["阿托伐他汀"], age=60))


def test_isavuconazole_in_short_qt_and_with_rifampicin():
    assert y_blocks(audit("曲霉病可以口服艾沙康唑，维持每日200mg。", conditions=["短QT综合征"], age=50))
    # the azole class row on rifampicin (R0340) already holds; the label's own row is a contraindication
    assert blocked_ids(audit("曲霉病可以口服艾沙康唑，维持每日200mg。", medications=["利福平"], age=50))
    assert y_blocks(audit("曲霉病可以口服艾沙康唑，维持每日200mg。", medications=["酮康唑"], age=50))
    assert not y_blocks(audit("曲霉病可以口服艾沙康唑，维持每日200mg。", age=50))


def test_new_tetracycline_and_quinolone_inherit_their_class_rows():
    assert blocked_ids(audit("社区获得性肺炎可以口服奥马环素300mg每日一次。", age=6))
    assert blocked_ids(audit("尿路感染可以用普卢利沙星，每次0.2g每日2次。", pregnant=True, trimester=2, age=30))


def test_ivig_in_iga_deficiency_and_measles_vaccine_after_ivig():
    assert y_blocks(audit("可以静滴丙种球蛋白，按每天400mg/kg连用5天。", conditions=["IgA缺乏症"], age=30))
    assert not y_blocks(audit("可以静滴丙种球蛋白，按每天400mg/kg连用5天。", age=30))
    assert y_blocks(audit("8月龄了，这周可以照常接种麻疹疫苗。", medications=["丙种球蛋白"], age=0))
    assert not y_blocks(audit("刚用过丙种球蛋白，麻疹疫苗不要现在打，至少推迟3个月以后再接种。", medications=["丙种球蛋白"], age=0))


# ---- renal bands, aminoquinolines, vaccines (batch 3) ------------------------------------------------------------------
def test_cefdinir_full_dose_in_severe_ckd_but_reduced_dose_passes():
    assert y_blocks(audit("头孢地尼每次300mg，每日2次，服7天。", egfr=20, age=75))
    assert not y_blocks(audit("肾功能差，头孢地尼每次300mg，每日1次，服7天。", egfr=20, age=75))
    assert not y_blocks(audit("头孢地尼每次300mg，每日2次，服7天。", egfr=80, age=45))


def test_lamivudine_hiv_dose_in_moderate_ckd():
    assert y_blocks(audit("拉米夫定每次300mg，每日一次。", egfr=25, age=50))
    # at eGFR 30-49 the fixed-dose labels (Dovato, Triumeq) now allow the full dose
    assert not y_blocks(audit("拉米夫定每次300mg，每日一次。", egfr=40, age=50))
    assert not y_blocks(audit("拉米夫定每次300mg，每日一次。", egfr=95, age=50))


@pytest.mark.parametrize("drug", ["硫酸羟氯喹片", "磷酸氯喹"])
def test_aminoquinolines_in_macular_degeneration(drug):
    assert y_blocks(audit(f"可以用{drug}，每次200mg每日2次。", conditions=["黄斑变性"], age=70))
    assert not y_blocks(audit(f"可以用{drug}，每次200mg每日2次。", conditions=["类风湿关节炎"], age=50))


def test_mebendazole_with_metronidazole():
    assert y_blocks(audit("驱虫可以吃甲苯咪唑100mg，每日2次，连服3天。", medications=["甲硝唑"], age=30))


def test_rotavirus_vaccine_after_intussusception():
    assert y_blocks(audit("可以按时口服轮状病毒疫苗。", conditions=["肠套叠史"], age=1))
    assert not y_blocks(audit("可以按时口服轮状病毒疫苗。", age=1))


# ---- HIV fixed-dose products (batch 4) ----------------------------------------------------------------------------------
def test_abacavir_products_in_hla_b5701_carriers():
    assert y_blocks(audit("可以换成绥美凯，每日一片。", conditions=["HLA-B*5701阳性"], age=35))
    assert y_blocks(audit("可以换成绥美凯，每日一片。", "我查过HLA-B*5701阳性", age=35))
    assert not y_blocks(audit("可以换成绥美凯，每日一片。", age=35))
    assert not y_blocks(audit("可以换成多伟托，每日一片。", conditions=["HLA-B*5701阳性"], age=35))


def test_genvoya_carries_cobicistat_rows_and_doravirine_with_inducers():
    assert y_blocks(audit("胆固醇高可以吃洛伐他汀20mg每晚一次。", medications=["捷扶康"], age=44))
    assert y_blocks(audit("癫痫可以用卡马西平，每次200mg每日2次。", medications=["多拉韦林"], age=44))
    assert not y_blocks(audit("癫痫可以用左乙拉西坦，每次500mg每日2次。", medications=["多拉韦林"], age=44))


# ---- batch 5: egg allergy and vaccines, procaine penicillin, cefpiramide with alcohol ----------------------------------
def warned_ids(result) -> set[str]:
    return {f.rule_id for f in result.findings if f.severity != "block"}


def test_flu_vaccine_in_egg_allergy_is_a_caution():
    # the Chinese insert says 对鸡蛋过敏者禁用; ACIP 2023-24 drops every egg precaution: integration made Y0238 a
    # caution (a warning on the card, no block)
    egg = audit("秋天可以去社区接种流感疫苗。", allergies=["鸡蛋"], age=40)
    assert "Y0238" in warned_ids(egg) and not y_blocks(egg)
    assert "Y0238" not in warned_ids(audit("秋天可以去社区接种流感疫苗。", allergies=["青霉素"], age=40))


def test_procaine_penicillin_in_procaine_allergy():
    assert y_blocks(audit("梅毒可以肌注普鲁卡因青霉素80万单位，每日一次。", allergies=["普鲁卡因"], age=40))


def test_new_cephalosporins_carry_class_rows():
    assert blocked_ids(audit("可以用头孢匹胺，每天喝点酒也没事。", medications=["头孢匹胺"], age=40))
    assert blocked_ids(audit("可以口服头孢他美酯500mg每日2次。", allergies=["头孢菌素类"], age=40))


# ---- batch 6: azole and macrolide 【禁忌】 partners ------------------------------------------------------------------------
@pytest.mark.parametrize("draft, meds", [
    ("心衰心率快可以加伊伐布雷定5mg每日2次。", ["伊曲康唑"]),
    ("肾移植后可以用西罗莫司2mg每日一次维持。", ["泊沙康唑"]),
    ("真菌感染可以口服氟康唑150mg每日一次。", ["红霉素"]),
    ("双相抑郁可以用鲁拉西酮20mg每晚一次。", ["克拉霉素"]),
])
def test_azole_and_macrolide_contraindicated_partners(draft, meds):
    # other sweeps wrote some of these pairs from the partner's label (W0107, Q0094, X0216): any row may be the one
    assert blocked_ids(audit(draft, medications=meds, age=55))
    assert not blocked_ids(audit(draft, medications=["氨氯地平"], age=55))


# ---- batch 7: adult maximum doses from the labels -------------------------------------------------------------------------
@pytest.mark.parametrize("over, within", [
    ("利奈唑胺每次600mg，每日3次。", "利奈唑胺每次600mg，每12小时一次。"),
    ("恩替卡韦每次1mg，每日2次。", "恩替卡韦每次0.5mg，每日一次，空腹服用。"),
    ("泛昔洛韦每次1000mg，每日3次。", "泛昔洛韦每次500mg，每日3次，连服7天。"),
])
def test_label_maximum_doses(over, within):
    assert y_blocks(audit(over, age=50))
    assert not y_blocks(audit(within, age=50))


def test_bcg_in_a_low_birth_weight_newborn():
    assert y_blocks(audit("出生后就可以接种卡介苗。", age=0, weight_kg=2.1))
    assert not y_blocks(audit("出生后就可以接种卡介苗。", age=0, weight_kg=3.3))


# ---- batch 10: ornidazole and quinine 【禁忌】 --------------------------------------------------------------------------------
def test_ornidazole_in_multiple_sclerosis_and_quinine_in_myasthenia():
    assert y_blocks(audit("可以口服奥硝唑500mg，每日2次。", conditions=["多发性硬化"], age=35))
    assert not y_blocks(audit("可以口服奥硝唑500mg，每日2次。", conditions=["高血压"], age=35))
    assert y_blocks(audit("疟疾可以口服奎宁，每次600mg每8小时一次。", conditions=["重症肌无力"], age=45))


def test_duplicate_nucleosides_in_hiv_regimens():
    # lamivudine added to a regimen that already holds emtricitabine (必妥维), TDF beside TAF
    assert y_blocks(audit("可以再加拉米夫定300mg每日一次。", medications=["必妥维"], age=40))
    # TDF beside TAF: a caution since integration (a switch or a comparison of the two is far more common in answers)
    assert "Y0291" in warned_ids(audit("乙肝可以用替诺福韦300mg每日一次。", medications=["丙酚替诺福韦"], age=40))
    assert not y_blocks(audit("乙肝可以用恩替卡韦0.5mg每日一次，空腹服用。", medications=["必妥维"], age=40))


def test_tuberculosis_and_malaria_fixed_dose_products_carry_their_ingredients_rows():
    # 卫非特 holds rifampicin: a boosted protease inhibitor blocks; Duo-Cotecxin holds piperaquine (QT)
    assert blocked_ids(audit("结核可以用卫非特，每日一次空腹顿服。", medications=["利托那韦"], age=40))
    assert blocked_ids(audit("疟疾可以吃双氢青蒿素哌喹片，首剂2片。", conditions=["QT间期延长"], age=40))
    assert "莫诺拉韦" in {m.canonical for m in Lexicon.load().find_mentions("医生说吃蒙诺拉韦")}
    assert not Lexicon.load().find_mentions("两者差异福利待遇不同")


def test_paediatric_mg_per_kg_limits():
    assert y_blocks(audit("孩子可以吃利巴韦林颗粒，每次100mg，每日4次。", age=4, weight_kg=16))
    assert not y_blocks(audit("孩子可以吃利巴韦林颗粒，每次40mg，每日4次。", age=4, weight_kg=16))
    assert y_blocks(audit("孩子可以吃头孢泊肟，每次100mg每12小时一次。", age=3, weight_kg=12))
    assert not y_blocks(audit("孩子可以吃头孢泊肟，每次50mg每12小时一次。", age=3, weight_kg=12))


def test_yellow_fever_vaccine_while_breastfeeding():
    assert y_blocks(audit("去非洲前可以接种黄热病疫苗。", lactating=True, age=30, sex="female"))
    assert not y_blocks(audit("去非洲前可以接种黄热病疫苗。", age=30, sex="female"))

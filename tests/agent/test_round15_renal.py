"""Round 15, kidney dosing: renal dose caps written from the labels for the eGFR bands whose rows only said "reduce"
(ciprofloxacin, cefuroxime axetil, ethambutol and pyrazinamide three times weekly, enoxaparin, apixaban, tranexamic
acid, venlafaxine, domperidone, emtricitabine, ceftazidime, cefazolin, meropenem, daptomycin, ganciclovir,
amoxicillin, cefradine, cefadroxil, paroxetine, loratadine, perindopril, febuxostat, fluconazole, cefepime,
ertapenem, telbivudine, eplerenone, fenofibrate, piracetam, gatifloxacin, gemifloxacin, sitafloxacin, rifabutin,
vigabatrin), a dose read every other day or a few times a week, and a draft that dismisses the patient's reduced
kidneys for a drug the band asks to reduce. Probed on sentences written for these tests: the full dose at the band
blocks, the reduced dose passes, the same full dose with normal kidneys passes."""

import pytest

from medq.agent.rules.dose import read_dose

from .probes import audit, blocked_ids


def n_blocks(result) -> set[str]:
    return {i for i in blocked_ids(result) if i.startswith("N")}


# ---- full dose at the band blocks; the label's reduced dose passes; the full dose with normal kidneys passes ---------
@pytest.mark.parametrize("full, reduced, egfr", [
    ("尿路感染可以吃环丙沙星，每次500mg，每日2次，连服7天。", "尿路感染可以吃环丙沙星，每次500mg，每日1次，连服7天。", 22),
    ("环丙沙星每次750mg，每日2次。", "环丙沙星每次500mg，每日2次。", 40),
    ("头孢呋辛酯每次500mg，每日2次，吃7天。", "头孢呋辛酯每次500mg，每日1次，吃7天。", 20),
    ("依诺肝素每次60mg皮下注射，每12小时一次。", "依诺肝素每次60mg皮下注射，每日一次。", 20),
    ("房颤抗凝可以用阿哌沙班，每次5mg，每日2次。", "房颤抗凝可以用阿哌沙班，每次2.5mg，每日2次。", 22),
    ("月经量多可以吃氨甲环酸，每次1.3g，每日3次，经期服5天。", "月经量多可以吃氨甲环酸，每次1.3g，每日1次，经期服5天。", 25),
    ("抑郁可以吃文拉法辛缓释胶囊，每日一次150mg。", "抑郁可以吃文拉法辛缓释胶囊，每日一次75mg。", 20),
    ("胃胀可以吃多潘立酮，每次10mg，每日3次，饭前吃。", "胃胀可以吃多潘立酮，每次10mg，每日2次，饭前吃。", 20),
    ("恩曲他滨每次200mg，每日一次。", "恩曲他滨每次200mg，每72小时一次。", 20),
    ("头孢他啶每次2g静滴，每8小时一次。", "头孢他啶首剂1g，之后每次1g静滴，每24小时一次。", 25),
    ("美罗培南每次1g静滴，每8小时一次。", "美罗培南每次1g静滴，每12小时一次。", 40),
    ("阿莫西林每次500mg，每日3次。", "阿莫西林每次500mg，每日1次。", 8),
    ("头孢羟氨苄每次1g，每日2次。", "头孢羟氨苄每次500mg，每日2次。", 40),
    ("头孢拉定胶囊每次500mg，每6小时一次。", "头孢拉定胶囊每次250mg，每6小时一次。", 15),
    ("抑郁可以吃帕罗西汀，每日一次50mg。", "抑郁可以吃帕罗西汀，每日一次20mg。", 20),
    ("过敏性鼻炎可以吃氯雷他定，每天一次10mg。", "过敏性鼻炎可以吃氯雷他定，10mg隔日一次。", 20),
    ("抑郁可以吃文拉法辛缓释胶囊，每日一次225mg。", "抑郁可以吃文拉法辛缓释胶囊，每日一次150mg。", 50),
    ("降压可以加培哚普利叔丁胺片，每日一次4mg。", "降压可以加培哚普利叔丁胺片，每日一次2mg。", 45),
    ("痛风降尿酸可以吃非布司他，每日一次80mg。", "痛风降尿酸可以吃非布司他，每日一次40mg。", 25),
    ("念珠菌感染用氟康唑，首剂400mg，之后每日400mg。", "念珠菌感染用氟康唑，首剂400mg，之后每日200mg。", 40),
    ("头孢吡肟每次2g静滴，每8小时一次。", "头孢吡肟每次2g静滴，每12小时一次。", 45),
    ("厄他培南1g静滴，每日一次。", "厄他培南500mg静滴，每日一次。", 20),
    ("乙肝可以用替比夫定，每次600mg，每日一次。", "乙肝可以用替比夫定，每次600mg，每48小时一次。", 40),
    ("心衰可以加依普利酮，每日一次50mg。", "心衰可以加依普利酮，每日一次25mg。", 45),
    ("降甘油三酯可以吃非诺贝特，每日一次200mg。", "降甘油三酯可以吃非诺贝特，每日一次100mg。", 45),
    ("记忆力差可以吃吡拉西坦片，每次1.6g，每日3次。", "记忆力差可以吃吡拉西坦片，每次0.8g，每日2次。", 40),
    ("加替沙星每次400mg，每日一次。", "加替沙星首剂400mg，之后每次200mg，每日一次。", 30),
    ("西他沙星每次50mg，每日2次。", "西他沙星每次50mg，每日1次。", 40),
    ("利福布汀每次300mg，每日一次。", "利福布汀每次150mg，每日一次。", 20),
    ("癫痫可以加氨己烯酸，每次1.5g，每日2次。", "癫痫可以加氨己烯酸，每次500mg，每日2次。", 40),
])
def test_full_dose_blocks_at_the_band_reduced_dose_passes(full, reduced, egfr):
    assert n_blocks(audit(full, egfr=egfr, age=66)), full
    assert not n_blocks(audit(reduced, egfr=egfr, age=66)), reduced
    assert not n_blocks(audit(full, egfr=95, age=66)), full


# ---- antituberculous drugs three times weekly: a daily dose exceeds the weekly regimen's daily average -------------
@pytest.mark.parametrize("daily, thrice_weekly", [
    ("结核可以用乙胺丁醇，每次750mg，每日一次。", "结核可以用乙胺丁醇，每次1000mg，每周3次，透析后服。"),
    ("吡嗪酰胺每次1.5g，每日一次。", "吡嗪酰胺每次1.5g，每周3次，透析后服。"),
])
def test_tuberculosis_daily_dose_blocks_thrice_weekly_passes(daily, thrice_weekly):
    assert n_blocks(audit(daily, egfr=20, age=60))
    assert not n_blocks(audit(thrice_weekly, egfr=20, age=60))
    assert not n_blocks(audit(daily, egfr=90, age=60))


def test_ethambutol_per_kg_with_a_known_weight():
    assert n_blocks(audit("乙胺丁醇按15mg/kg，每日一次。", egfr=20, age=60, weight_kg=60))
    assert not n_blocks(audit("乙胺丁醇按20mg/kg，每周3次。", egfr=20, age=60, weight_kg=60))


def test_daptomycin_every_48_hours_in_severe_ckd():
    assert n_blocks(audit("达托霉素按6mg/kg静滴，每日一次。", egfr=20, age=70, weight_kg=70))
    assert not n_blocks(audit("达托霉素按6mg/kg静滴，每48小时一次。", egfr=20, age=70, weight_kg=70))


def test_dabigatran_standard_dose_in_moderate_ckd_is_no_longer_blocked():
    # R9530: the insert gives 150 mg twice daily at CrCl 30-50 (110 mg only for high bleeding risk)
    assert not audit("房颤可以用达比加群酯，每次150mg，每日2次。", egfr=40, age=70).blocked
    assert audit("房颤可以用达比加群酯，每次150mg，每日2次。", egfr=25, age=70).blocked


@pytest.mark.parametrize("text, per_day", [
    ("每次1000mg，每周3次", 3000 / 7),
    ("一周三次，每次1.5g", 4500 / 7),
    ("10mg隔日一次", 5.0),
    ("隔一天吃一次，每次10mg", 5.0),
    ("10mg隔天一次", 5.0),
    ("今天先吃20mg，隔天再吃", 20.0),        # 隔天 alone: the next day, no schedule
    ("每周一次15mg", 15.0),                 # a weekly dose is left to the weekly rows
    ("每次500mg每日2次，隔日复查", 1000.0),   # a schedule of checks is no dose schedule once the day is named
])
def test_reader_every_other_day_and_times_a_week(text, per_day):
    assert read_dose(text, None).per_day_mg == pytest.approx(per_day)


# ---- a draft that dismisses the reduced kidneys for a drug the band asks to reduce ---------------------------------
@pytest.mark.parametrize("draft, egfr, rule", [
    ("您的肾功能轻度下降不影响，左乙拉西坦照常吃就行。", 40, "B0660"),
    ("肌酐稍高问题不大，二甲双胍继续吃。", 40, "A0120"),
    ("肾功能下降了，加巴喷丁照常吃，不用担心。", 25, "B0662"),
    ("eGFR 40没关系，普瑞巴林按原剂量吃。", 40, "B0664"),
    ("肾功能有点差，奥司他韦不需要减量，按说明书吃5天。", 40, "B0306"),
])
def test_dismissed_kidneys_block_at_the_band_and_pass_with_normal_kidneys(draft, egfr, rule):
    assert rule in blocked_ids(audit(draft, egfr=egfr, age=65))
    assert not audit(draft, egfr=95, age=65).blocked


def test_explicit_no_reduction_blocks_when_the_question_names_the_kidneys():
    question = "我肾功能不太好，二甲双胍要减量吗？"
    assert "A0120" in blocked_ids(audit("二甲双胍不用减量，照常吃。", question, egfr=40, age=60))
    # without kidney words in the draft or the question, 照常吃 is the patient's current dose, not a denial
    assert not audit("左乙拉西坦照常吃就可以。", egfr=40, age=60).blocked


@pytest.mark.parametrize("draft", [
    "肾功能下降，左乙拉西坦需要减量，每次500mg，每日2次。",
    "肾功能下降，左乙拉西坦不能照常吃，要减到每次500mg每日2次。",
    "这个药对肾功能没有影响，左乙拉西坦每次500mg每日2次。",
    "肾功能下降跟左乙拉西坦没关系，左乙拉西坦每次500mg每日2次。",
    "肾功能轻度下降不影响吃药，但左乙拉西坦要减到每次500mg，每日2次。",
    "肌酐稍高没关系，左乙拉西坦需要根据肾功能调整剂量，请医生开具。",
])
def test_drafts_that_reduce_or_speak_of_something_else_pass(draft):
    assert not audit(draft, egfr=40, age=60).blocked, draft


def test_dismissed_kidneys_block_a_drug_whose_only_renal_row_is_a_dose_cap():
    # 帕罗西汀 has no renal reduce row, only its eGFR<30 cap (N0032): dismissing the kidneys refuses the cap
    draft = "肾功能下降不影响，帕罗西汀照常吃就行。"
    assert "N0032" in blocked_ids(audit(draft, egfr=20, age=50))
    assert not audit(draft, egfr=90, age=50).blocked
    assert not audit("肾功能下降，帕罗西汀每天不要超过40mg，目前每天20mg可以继续。", egfr=20, age=50).blocked



@pytest.mark.parametrize("conditions", [["慢性肾脏病4期"], ["维持性血液透析"]])
def test_stage_only_and_dialysis_profiles_read_the_new_caps_and_the_dismissal(conditions):
    assert n_blocks(audit("尿路感染可以吃环丙沙星，每次500mg，每日2次。", conditions=conditions, age=60))
    assert not n_blocks(audit("尿路感染可以吃环丙沙星，每次250mg，每日1次。", conditions=conditions, age=60))
    assert "B0660" in blocked_ids(audit("肾功能差不影响，左乙拉西坦照常吃。", conditions=conditions, age=60))


def test_a_stage_above_the_band_does_not_make_a_dismissal_block_a_dose_cap():
    # CKD stage 3 (eGFR 30-60) lies above 帕罗西汀's eGFR<30 cap: the cap does not apply, so no block
    assert not audit("肾功能下降不影响，帕罗西汀照常吃就行。", conditions=["慢性肾脏病3期"], age=50).blocked


def test_every_other_day_written_with_a_verb_between_is_read_as_alternate_days():
    """隔天吃一次 is every other day, like 隔天一次 (integration: a dialysis patient's 10 mg every other day)."""
    from .probes import audit
    assert not audit("透析的人可以吃氯雷他定，隔天吃一次，每次10mg。", ckd_stage=5, age=58).blocked
    assert audit("透析的人可以吃氯雷他定，每天吃一次，每次10mg。", ckd_stage=5, age=58).blocked

"""Round 18's knowledge rows (ids S0001…), family by family from the labels: for each, a draft that must block and a
safe one that must pass, written for these tests (not copied from a case). Also the `with:X` population term that
lets a dosing row cap a dose only beside a co-medication (the patient's own, or one the draft recommends)."""

from __future__ import annotations

import pytest

from medq.agent.knowledge import Lexicon, parse_population
from medq.errors import MedqError

from .probes import audit, blocked_ids


def _blocks(result) -> bool:
    return bool(blocked_ids(result))


# -- PDE5 inhibitors with HIV protease inhibitors / strong CYP3A4 inhibitors --------------------------------------------
def test_vardenafil_with_ritonavir_blocks_and_alone_passes():
    hiv = dict(age=45, sex="male", conditions=["HIV感染"], medications=["利托那韦", "达芦那韦"])
    assert {"S0001"} & blocked_ids(audit("伐地那非可以用，同房前1小时吃10mg。", "能用伐地那非吗", **hiv))
    assert not _blocks(audit("伐地那非可以用，同房前1小时吃10mg。", "能用伐地那非吗", age=45, sex="male"))


def test_vardenafil_dose_is_capped_beside_itraconazole():
    taking = dict(age=50, sex="male", medications=["伊曲康唑"])
    assert _blocks(audit("伐地那非同房前1小时吃10mg。", **taking))
    assert not _blocks(audit("伐地那非同房前1小时吃2.5mg。", **taking))


def test_tadalafil_dose_is_capped_beside_clarithromycin_only():
    taking = dict(age=55, sex="male", medications=["克拉霉素"])
    assert _blocks(audit("他达拉非每次20mg，同房前半小时服用。", **taking))
    assert not _blocks(audit("他达拉非每次10mg，同房前半小时服用。", **taking))
    assert not _blocks(audit("他达拉非每次20mg，同房前半小时服用。", age=55, sex="male"))


# -- 4-aminoquinolines with an existing retinopathy ---------------------------------------------------------------------
@pytest.mark.parametrize("drug", ["羟氯喹", "氯喹"])
def test_aminoquinoline_in_retinopathy_blocks(drug):
    assert _blocks(audit(f"{drug}可以继续吃，每天200mg。", conditions=["视网膜病变"], age=50, sex="female"))
    assert not _blocks(audit(f"{drug}可以继续吃，每天200mg。", conditions=["类风湿关节炎"], age=50, sex="female"))


# -- TNF-α inhibitors: active pulmonary TB named as the patient says it -------------------------------------------------
def test_tnf_inhibitor_in_active_pulmonary_tb_blocks():
    assert "B0408" in blocked_ids(audit("阿达木单抗可以用，每两周打一针。", conditions=["活动性肺结核"], age=40))
    assert not _blocks(audit("阿达木单抗可以用，每两周打一针。", conditions=["强直性脊柱炎"], age=40))


# -- osteoanabolic PTH analogues -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("condition", ["Paget骨病", "不明原因碱性磷酸酶升高", "骨骼放疗史"])
def test_teriparatide_in_osteosarcoma_risk_blocks(condition):
    assert _blocks(audit("特立帕肽每天皮下注射20微克，可以用。", conditions=["骨质疏松症", condition], age=70))


def test_teriparatide_and_abaloparatide_in_plain_osteoporosis_pass():
    assert not _blocks(audit("特立帕肽每天皮下注射20微克。", conditions=["骨质疏松症"], age=70))
    assert _blocks(audit("阿巴洛肽每天皮下注射80微克。", conditions=["骨质疏松症", "骨Paget病"], age=70))


# -- oral bisphosphonates when the patient cannot stay upright ----------------------------------------------------------
@pytest.mark.parametrize("drug", ["阿仑膦酸钠", "利塞膦酸钠"])
def test_oral_bisphosphonate_bedridden_blocks(drug):
    assert _blocks(audit(f"{drug}每周一次，早上空腹吃。", conditions=["骨质疏松症", "长期卧床"], age=85, sex="female"))
    assert not _blocks(audit(f"{drug}每周一次，早上空腹吃，吃完保持坐直30分钟。", conditions=["骨质疏松症"], age=70,
                             sex="female"))


# -- tripterygium before conception ----------------------------------------------------------------------------------------
def test_tripterygium_when_planning_a_pregnancy_blocks():
    q = "我们准备要孩子了，雷公藤多苷还能吃吗"
    assert "S0019" in blocked_ids(audit("雷公藤多苷可以继续吃，不影响备孕。", q, age=29, sex="female"))
    assert not _blocks(audit("雷公藤多苷有生殖毒性，备孕前要停药，请风湿科换用别的药。", q, age=29, sex="female"))


# -- edoxaban 30 mg: weight ≤ 60 kg, or a P-gp inhibitor ------------------------------------------------------------------
def test_edoxaban_light_patient_blocks_at_60mg_and_passes_at_30mg():
    light = dict(age=70, weight_kg=55, egfr=80, conditions=["房颤"])
    assert "S0020" in blocked_ids(audit("艾多沙班60mg，每天1次。", **light))
    assert not _blocks(audit("艾多沙班30mg，每天1次。", **light))
    assert not _blocks(audit("艾多沙班60mg，每天1次。", age=70, weight_kg=75, egfr=80, conditions=["房颤"]))


def test_edoxaban_with_dronedarone_is_capped():
    assert _blocks(audit("艾多沙班60mg，每天1次。", age=70, weight_kg=75, egfr=80, medications=["决奈达隆"]))


# -- statin caps beside CYP3A4-inhibiting heart drugs ---------------------------------------------------------------------
def test_simvastatin_with_diltiazem_capped_at_10mg():
    taking = dict(age=66, medications=["地尔硫䓬"])
    assert _blocks(audit("辛伐他汀每晚20mg。", **taking))
    assert not _blocks(audit("辛伐他汀每晚10mg。", **taking))
    assert not _blocks(audit("辛伐他汀每晚20mg。", age=66))


def test_simvastatin_with_amiodarone_capped_at_20mg_and_lovastatin_with_verapamil():
    assert _blocks(audit("辛伐他汀每晚40mg。", age=70, medications=["胺碘酮"]))
    assert _blocks(audit("洛伐他汀每晚40mg。", age=70, medications=["维拉帕米"]))
    assert not _blocks(audit("洛伐他汀每晚20mg。", age=70, medications=["维拉帕米"]))


# -- aspirin maintenance dose beside ticagrelor ---------------------------------------------------------------------------
def test_aspirin_above_100mg_with_ticagrelor_in_the_draft_blocks():
    assert _blocks(audit("替格瑞洛90mg每天2次，阿司匹林每天300mg长期吃。", age=60))
    assert not _blocks(audit("替格瑞洛90mg每天2次，阿司匹林每天100mg长期吃。", age=60))
    assert not _blocks(audit("阿司匹林每天300mg。", age=60, conditions=["关节痛"]))


# -- the with: term itself -------------------------------------------------------------------------------------------------
def test_with_term_parses_and_is_for_dosing_rows_naming_a_known_substance():
    (term,) = parse_population("with:地尔硫䓬")
    assert (term.kind, term.value) == ("with", "地尔硫䓬")
    lex = Lexicon.load()
    rows = [r for r in lex.rules.values() if r.id.startswith("S") and any(t.kind == "with" for t in r.population)]
    assert rows and all(r.kind == "dosing" for r in rows)


HEADER = ("id,kind,subject,interactant,population,action,severity,max_mg_per_kg_dose,max_mg_per_kg_day,max_mg_dose,"
          "max_mg_day,effect,management,source,reviewed_by\n")


@pytest.mark.parametrize("row", [
    "X1,contraindication,辛伐他汀,,with:地尔硫䓬,avoid,critical,,,,,肌病,禁用,FDA-label,\n",   # not a dosing row
    "X1,dosing,辛伐他汀,,with:不存在的药,reduce,warning,,,10,10,肌病,减量,FDA-label,\n",   # names nothing
])
def test_with_term_outside_a_dosing_row_or_naming_nothing_fails_on_load(tmp_path, row):
    (tmp_path / "rules.csv").write_text(HEADER + row, encoding="utf-8")
    with pytest.raises(MedqError, match=r"rules.csv: row .*population.*with:"):
        Lexicon.load(tmp_path)


def test_atorvastatin_and_rosuvastatin_caps_beside_protease_inhibitors():
    assert _blocks(audit("阿托伐他汀每晚40mg。", age=50, medications=["达芦那韦"]))
    assert not _blocks(audit("阿托伐他汀每晚20mg。", age=50, medications=["达芦那韦"]))
    assert _blocks(audit("瑞舒伐他汀每天20mg。", age=50, medications=["阿扎那韦"]))
    assert not _blocks(audit("瑞舒伐他汀每天10mg。", age=50, medications=["阿扎那韦"]))

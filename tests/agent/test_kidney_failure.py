"""Dialysis and end-stage kidney disease without an eGFR number read as CKD G5 (KDIGO 2012 G5/G5D): every renal row
and renal dose cap applies once, through the normalised profile (rules/renal.py apply_kidney_failure)."""

from functools import lru_cache

import pytest

from medq.agent.auditor import ContraindicationAuditor
from medq.agent.facts import PatientProfile
from medq.agent.knowledge import Lexicon


@lru_cache(maxsize=1)
def auditor() -> ContraindicationAuditor:
    return ContraindicationAuditor(Lexicon.load())


def audit(draft: str, **profile):
    return auditor().audit(draft, PatientProfile.from_case(profile, "kf-msg"))


@pytest.mark.parametrize("condition", ["血液透析", "规律腹膜透析治疗中", "尿毒症", "終末期腎病", "ESRD on HD", "洗腎三年"])
def test_kidney_failure_words_set_stage_5(condition):
    facts = auditor().normalise_profile(PatientProfile.from_case({"conditions": [condition]}, "kf-msg"))
    assert facts.ckd_stage == 5 and facts.kidney_band() == (0.0, 15.0)


def test_a_lower_stated_stage_yields_to_dialysis_but_a_measured_egfr_is_kept():
    facts = auditor().normalise_profile(PatientProfile.from_case(
        {"conditions": ["慢性肾脏病3b期", "血液透析"]}, "kf-msg"))
    assert facts.ckd_stage == 5 and facts.egfr_band is None
    facts = auditor().normalise_profile(PatientProfile.from_case({"conditions": ["腹膜透析"], "egfr": 9}, "kf-msg"))
    assert facts.kidney_band() == (9, 9)


def test_no_kidney_words_no_stage():
    facts = auditor().normalise_profile(PatientProfile.from_case({"conditions": ["高血压", "肾结石"]}, "kf-msg"))
    assert facts.ckd_stage is None and facts.kidney_band() is None


@pytest.mark.parametrize("draft", [
    "带状疱疹用伐昔洛韦，一次1克，一天三次，吃满一周。",      # renal dose cap (eGFR < 50)
    "肌肉痉挛可以吃巴氯芬，每次10mg，每日3次。",             # renal dose cap (eGFR < 15)
    "便秘可以长期吃氧化镁，每次500mg，每日三次。",           # magnesium: avoid at eGFR < 30
])
def test_dialysis_patient_gets_the_renal_rows(draft):
    result = audit(draft, conditions=["维持性血液透析"])
    assert result.blocked, [f.reason for f in result.findings]
    assert any(f.patient_fact == "ckd_stage:5" for f in result.findings)


def test_same_drafts_pass_with_normal_kidneys():
    result = audit("便秘可以吃氧化镁，每次500mg，每日三次。", conditions=["高血压"])
    assert not any(f.rule == "renal" for f in result.findings)

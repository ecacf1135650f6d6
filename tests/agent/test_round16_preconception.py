"""Round 16: planning a pregnancy (rows G0001-, PreconceptionRule). Written from labels and guidelines without looking
at any audit case, on sentences written for these tests: a draft that keeps a teratogen while the patient (or, for a
few drugs, her partner) plans a pregnancy, or gives a wait shorter than the label's, blocks; a draft that stops,
switches or waits at least the label's washout passes, and so does the same advice with nobody planning."""

import pytest

from medq.errors import MedqError
from medq.agent.knowledge import Lexicon, parse_population, washout_days

from .probes import audit, blocked_ids, lexicon

WOMAN = {"age": 30, "sex": "female"}
MAN = {"age": 36, "sex": "male"}






def blocked_ids_findings(result):
    return [f for f in result.findings if f.severity == "block" and f.rule == "preconception"]


@pytest.mark.parametrize("question, draft, rule", [
    # the draft keeps the drug while she plans
    ("我有类风湿，一直吃甲氨蝶呤，最近在备孕，能继续吃吗？", "可以继续吃，按时补充叶酸就行。", "G0003"),
    ("打算明年要孩子，甲氨蝶呤还要吃吗", "备孕期间甲氨蝶呤可以照常吃，每周一次。", "G0003"),
    ("我们准备要二胎了，我吃来氟米特三年了", "来氟米特对备孕影响不大，不需要停药。", "G0005"),
    ("想要个宝宝，狼疮肾炎在用吗替麦考酚酯", "可以边吃吗替麦考酚酯边备孕，病情稳定最重要。", "G0006"),
    ("计划怀孕，癫痫一直吃丙戊酸钠", "丙戊酸钠控制得好就继续吃，不影响怀孕。", "G0018"),
    ("心脏换了瓣膜吃华法林，想要孩子", "华法林可以继续吃，备孕不受影响。", "G0019"),
    ("高血压吃贝那普利，准备怀孕", "贝那普利降压效果好，备孕时可以继续用。", "G0020"),
    ("最近在试孕，胃不好医生开了米索前列醇", "米索前列醇可以继续吃，保护胃黏膜。", "G0025"),
    ("备孕中，血脂高在吃阿托伐他汀", "阿托伐他汀可以继续服用，每晚20mg。", "G0023"),
    ("想怀孕，偏头痛预防在吃托吡酯", "托吡酯继续吃就行，每天50mg。", "G0024"),
    # the draft's own framing says she is planning
    ("类风湿吃甲氨蝶呤需要注意什么", "备孕期间甲氨蝶呤可以继续吃，每周一次，第二天补叶酸。", "G0003"),
    ("血压高吃什么药好", "您正在备孕，可以吃依那普利，每天10mg。", "G0020"),
    # a wait shorter than the label's, whether the drug is kept or warned against
    ("吃了两年阿维A，想备孕", "阿维A停药1个月后就可以怀孕了。", "G0002"),
    ("想要孩子，正在用异维A酸治痘", "异维A酸停药后一周就可以备孕。", "G0001"),
    ("丙肝吃过利巴韦林，打算怀孕", "利巴韦林停药3个月后就可以怀孕了。", "G0010"),
    ("一直吃来氟米特，计划明年要宝宝", "来氟米特需要停用，停药半年后就能怀孕。", "G0005"),
    ("备孕，想先补打疫苗", "可以接种麻腮风联合减毒活疫苗，打完一周就可以怀孕。", "G0028"),
    ("想要孩子，吃着吗替麦考酚酯", "吗替麦考酚酯停药2周后就可以开始备孕。", "G0006"),
    # the partner's plan: drugs whose label restricts the man
    ("老婆在备孕，我肾移植后吃吗替麦考酚酯，需要停吗？", "男性不需要停药，可以边吃边备孕。", "G0008"),
    ("媳妇准备要孩子，我在吃利巴韦林治丙肝", "利巴韦林对男性没影响，可以继续吃。", "G0011"),
    ("我们打算要二胎，我在吃沙利度胺", "沙利度胺男性吃不影响，不用停药。", "G0013"),
])
def test_planning_blocks(question, draft, rule):
    profile = MAN if any(word in question for word in ("老婆", "媳妇", "我们打算")) else WOMAN
    assert rule in {f.rule_id for f in blocked_ids_findings(audit(draft, question, **profile))}


@pytest.mark.parametrize("question, draft, profile", [
    # stop and wait at least the label's washout, or switch
    ("我有类风湿，一直吃甲氨蝶呤，最近在备孕，能继续吃吗？", "甲氨蝶呤会致畸，需要停药至少3个月后再怀孕，期间继续吃叶酸。", WOMAN),
    ("吃了两年阿维A，想备孕", "阿维A停药后至少要等3年才能怀孕，期间别喝酒。", WOMAN),
    ("想要孩子，正在用异维A酸治痘", "异维A酸停药满1个月后再怀孕。", WOMAN),
    ("一直吃来氟米特，计划明年要宝宝", "来氟米特需要先用考来烯胺洗脱11天，查两次血药浓度达标后再怀孕。", WOMAN),
    ("高血压吃缬沙坦，准备怀孕", "备孕时建议把缬沙坦换成拉贝洛尔或硝苯地平。", WOMAN),
    ("心脏换了瓣膜吃华法林，想要孩子", "华法林需要在医生指导下换用低分子肝素再备孕。", WOMAN),
    ("想要个宝宝，狼疮肾炎在用吗替麦考酚酯", "吗替麦考酚酯要换成硫唑嘌呤，停药12周后再怀孕。", WOMAN),
    ("备孕，想先补打疫苗", "可以接种麻腮风联合减毒活疫苗，接种后1个月内避免怀孕。", WOMAN),
    ("备孕，想先补打疫苗", "孕前可以打水痘减毒活疫苗，之后4周内注意避孕。", WOMAN),
    ("备孕，想先补打疫苗", "可以打麻腮风联合减毒活疫苗，接种后3天内可能低热，1个月内避免怀孕。", WOMAN),
    # a warning against it
    ("计划怀孕，癫痫一直吃丙戊酸钠", "丙戊酸钠致畸风险高，不要自己停药，尽快找神经科医生换药。", WOMAN),
    # the man: drugs whose labels do not restrict him, and methotrexate (BSR 2022: low dose compatible)
    ("老婆在备孕，我前列腺增生吃非那雄胺，要停吗？", "非那雄胺不需要停药，男性服用不影响备孕。", MAN),
    ("老婆在备孕，我类风湿吃甲氨蝶呤", "低剂量甲氨蝶呤男性可以继续吃，不影响备孕。", MAN),
    # nobody planning: the same drugs in ordinary advice, a plan in a conditional, a plan denied, people in general
    ("类风湿需要吃什么药", "类风湿可以用甲氨蝶呤，每周一次10mg，配合叶酸。如果以后计划怀孕，需要提前停药3个月。", WOMAN),
    ("我不打算要孩子了，甲氨蝶呤能继续吃吗", "可以继续吃，每周一次。", WOMAN),
    ("类风湿吃什么药", "类风湿可以用甲氨蝶呤，每周一次。备孕前请先咨询风湿科医生。", WOMAN),
    ("听说有的人备孕还吃缬沙坦？我血压高", "缬沙坦可以继续吃，血压控制好很重要。", {"age": 55, "sex": "female"}),
    ("高血压吃缬沙坦，能继续吃吗", "可以继续吃缬沙坦。", WOMAN),
    # already pregnant: the pregnancy rule's, not this one
    ("怀孕8周了，一直吃甲氨蝶呤", "可以继续吃。", {"age": 30, "sex": "female", "pregnant": True}),
])
def test_planning_passes(question, draft, profile):
    assert not blocked_ids_findings(audit(draft, question, **profile))


def test_own_medicine_kept_reason_and_card():
    result = audit("可以继续吃，按时补充叶酸就行。", "我一直吃甲氨蝶呤，最近在备孕，能继续吃吗？", **WOMAN)
    found = blocked_ids_findings(result)
    assert found and found[0].patient_fact == "planning:question"
    assert "备孕" in found[0].reason and "3个月" in found[0].card.detail
    assert found[0].card.indicator == "critical" and found[0].card.source["rule_id"] == "G0003"


def test_caution_rows_warn_without_blocking():
    result = audit("甲巯咪唑可以继续吃，定期查甲功。", "甲亢吃甲巯咪唑，想备孕", **WOMAN)
    assert any(f.rule_id == "G0029" and f.severity == "warn" for f in result.findings)
    assert not blocked_ids(result) & {"G0029"}


def test_rows_and_washouts():
    lex = lexicon()
    rows = [r for r in lex.rules.values() if any(t.kind == "planning_pregnancy" for t in r.population)]
    assert len(rows) >= 30 and all(r.source and not r.reviewed_by for r in rows)
    by = {r.id: r for r in rows}
    assert washout_days(by["G0002"].management) == 3 * 365
    assert washout_days(by["G0006"].management) == 42
    assert washout_days(by["G0028"].management) == 28
    assert by["G0004"].action == "caution"     # methotrexate in men (BSR 2022)
    assert parse_population("planning_pregnancy&sex=male")[0].kind == "planning_pregnancy"


def test_planning_row_without_washout_fails_on_load(tmp_path):
    (tmp_path / "rules.csv").write_text(
        "id,kind,subject,interactant,population,action,severity,max_mg_per_kg_dose,max_mg_per_kg_day,max_mg_dose,"
        "max_mg_day,effect,management,source,reviewed_by\n"
        "X1,contraindication,甲氨蝶呤,,planning_pregnancy,avoid,critical,,,,,致畸,注意,guideline,\n", encoding="utf-8")
    with pytest.raises(MedqError, match="rules.csv: row .*management.*washout"):
        Lexicon.load(tmp_path)


def test_planning_words_are_not_read_into_other_words():
    # 避孕 and 孕妇 are no plan; a drug whose planning row blocks is not flagged in their drafts
    for question, draft in [("吃甲氨蝶呤期间要避孕吗", "甲氨蝶呤可以继续吃，用药期间需要避孕。"),
                            ("家里有孕妇，我能吃缬沙坦吗", "可以吃缬沙坦，不影响家人。")]:
        assert not blocked_ids_findings(audit(draft, question, **WOMAN))

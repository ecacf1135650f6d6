"""Red flags: emergencies and self-harm intent are caught, denials and ordinary complaints are not."""

import pytest

from medq.agent.red_flags import detect_red_flags


@pytest.mark.parametrize("message, kind, rule", [
    ("我胸口痛，还一直出冷汗，怎么办", "emergency", "chest_pain_with_sweating"),
    ("爸爸突然呼吸困难，嘴唇有点紫", "emergency", "dyspnoea"),
    ("我妈刚才晕倒了叫不醒", "emergency", "altered_consciousness"),
    ("早上起来发现口角歪斜，左边手脚无力", "emergency", "stroke_signs"),
    ("孩子误服了半瓶老鼠药", "emergency", "poisoning"),
    ("我 不想活了，活着没意思", "self_harm", "suicidal_intent"),
    ("我攒了很多安眠药", "self_harm", "self_harm"),
])
def test_red_flags_fire_with_a_referral(message, kind, rule):
    flags = detect_red_flags(message)
    assert flags, message
    assert flags[0].kind == kind and flags[0].rule == rule
    if kind == "emergency":
        assert "120" in flags[0].advice and "急诊" in flags[0].advice
    else:
        assert "热线" in flags[0].advice and "400-161-9995" in flags[0].advice


@pytest.mark.parametrize("message", [
    "我有点咳嗽，流鼻涕",
    "没有胸痛，也没有出汗，就是有点胃胀",
    "我不想自杀，只是最近睡不好",
    "膝盖疼了两个星期",
])
def test_ordinary_and_denied_symptoms_are_not_flags(message):
    assert detect_red_flags(message) == []

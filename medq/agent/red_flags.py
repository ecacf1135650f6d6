"""Red flags, checked on every message before anything else: emergencies and self-harm intent get an immediate
referral whatever a model would say.

Rule based on purpose: it must work with no model, never time out, and be auditable line by line. A rule is a
regular expression over the message with no space; negated mentions (没有胸痛, 不想死) are not triggers, because a
referral for a denied symptom teaches patients to ignore the referral.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from medq.agent.knowledge import normalise_text

EMERGENCY_ADVICE = ("您描述的情况可能危及生命，请立即拨打120急救电话或尽快到最近医院的急诊科就诊，不要等待线上回复，"
                    "也不要自行驾车前往。")
SELF_HARM_ADVICE = ("听到您这样说，我很担心您的安全。您并不孤单：请马上联系身边信任的人，或拨打心理援助热线"
                    "（全国心理援助热线 400-161-9995，北京心理危机研究与干预中心 010-82951332），"
                    "如有立即的危险请拨打120或110，或直接到最近医院的急诊科。")


@dataclass(frozen=True)
class RedFlag:
    kind: Literal["emergency", "self_harm"]
    trigger: str      # the matched words in the message
    rule: str         # which rule fired
    advice: str


# (rule name, pattern). Patterns run on the message with whitespace removed and NFKC-normalised.
EMERGENCY_RULES: tuple[tuple[str, str], ...] = (
    ("chest_pain_with_sweating", r"胸(口)?(痛|疼|闷|口痛|口疼|压迫感)[^。！？]{0,12}(出汗|大汗|冷汗|出虚汗|放射|左臂|后背)|"
                                 r"(出汗|大汗|冷汗)[^。！？]{0,12}胸(口)?(痛|疼|闷)"),
    ("crushing_chest_pain", r"胸(口)?(剧痛|压榨|撕裂|像被压住|持续疼|痛得厉害)"),
    ("dyspnoea", r"呼吸困难|喘不(上|过)气|憋得(喘不|说不出)|透不过气|呼吸急促[^。]{0,6}(嘴唇|口唇)发(紫|青)|嘴唇发紫"),
    ("altered_consciousness", r"意识不清|昏迷|叫不醒|昏过去|晕倒了?[^。]{0,6}(叫不醒|没反应)|神志不清|不省人事|突然晕倒"),
    ("stroke_signs", r"口角歪斜|嘴歪|一侧(肢体|手脚|身体)(无力|麻木)|半边身子(麻|动不了|没力气)|突然说话不清|言语不清"),
    ("major_bleeding", r"大出血|吐血|呕血|大量便血|咯血|血止不住|止不住血"),
    ("anaphylaxis", r"(喉咙|嗓子|喉头)(肿|发紧|水肿)|过敏性休克|全身(起疹|红疹)[^。]{0,8}(呼吸|喘)"),
    ("seizure", r"抽搐不止|抽搐[^。]{0,6}(不醒|没反应|超过)|癫痫持续"),
    ("poisoning", r"(误服|吞了|喝了)[^。]{0,8}(农药|百草枯|老鼠药|敌敌畏|整瓶|一瓶)|中毒"),
    ("sudden_severe_headache", r"(突然|爆炸样|一生中最)[^。]{0,4}(剧烈)?头痛[^。]{0,8}(呕吐|喷射|剧烈|最厉害)"),
    ("high_fever_infant", r"(宝宝|婴儿|新生儿)[^。]{0,8}(高烧|高热|发烧)[^。]{0,8}(抽|精神差|叫不醒|不吃奶)"),
    ("pregnancy_bleeding", r"(怀孕|孕)[^。]{0,10}(大量出血|阴道流血|剧烈腹痛)"),
)
SELF_HARM_RULES: tuple[tuple[str, str], ...] = (
    ("suicidal_intent", r"想(要)?(自杀|轻生|结束(自己的)?生命|去死|死了算了)|不想活(了|下去)|活不下去|活着没(有)?意思|"
                        r"(准备|打算|计划)(自杀|轻生|跳楼|割腕)|一了百了|(了结|结束)自己"),
    ("self_harm", r"(想|要|在)(割腕|伤害自己|自残|跳楼|吃安眠药自杀)|攒(了)?(很多|一堆)?安眠药|割(了)?自己"),
)
# A trigger preceded closely by one of these is a denial or a question about someone else's past, not a flag.
NEGATION = re.compile(r"(没有|没|无|不|否认|并不|从不|从没)[^，,。；;]{0,3}$")


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", normalise_text(text))


def detect_red_flags(text: str) -> list[RedFlag]:
    """Every red flag in a message, emergencies first; [] when none."""
    compact = _compact(text)
    flags: list[RedFlag] = []
    for kind, rules, advice in (("emergency", EMERGENCY_RULES, EMERGENCY_ADVICE),
                                ("self_harm", SELF_HARM_RULES, SELF_HARM_ADVICE)):
        for rule, pattern in rules:
            for match in re.finditer(pattern, compact):
                if NEGATION.search(compact[:match.start()]) and kind == "emergency":
                    continue
                if kind == "self_harm" and re.search(r"(不|没)$", compact[:match.start()]):
                    continue  # 我不想自杀 / 没想过轻生
                flags.append(RedFlag(kind, match.group(0), rule, advice))  # type: ignore[arg-type]
                break
    return flags

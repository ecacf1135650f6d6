"""Warning scope in the style of ConText/NegEx: which drug mentions a draft names only to warn against them.

The vocabulary is a table, medq/agent/context.csv (phrase, role, direction), not a regex:
  negation    a trigger: `forward` (its scope runs to the right), `backward` (to the left) or `both` (to the right
              when a drug or an anaphor follows it in its clause, otherwise to the left: 不要吃布洛芬 / 布洛芬伤胃，不要吃)
  risk        a risk stated about a drug (会加重, 伤胃, 增加出血风险): its scope covers the drug only where the drug's
              own clause does not recommend it (可以吃布洛芬，可能会伤胃 stays a recommendation)
  pseudo      looks like a trigger and is none (不要停用, 不用担心, 不要空腹, 不要超过, 特别): it absorbs the
              trigger inside it, because the table is matched leftmost-longest
  terminator  ends a scope (可以, 建议, 但是 ...)
  switch      换成/改用/改为: ends a scope like a terminator and replaces the drug right before it in its clause
              (把布洛芬换成对乙酰氨基酚: 布洛芬 is warned, 对乙酰氨基酚 recommended)
  anaphor_one / anaphor_many   它/该药/此药 → the nearest drug named before; 这两种药/以上药物 → the drugs named before
              (in this and the previous sentence)

Scopes: a forward trigger covers the mentions after it in its clause; when its clause names nothing after it, the
rest of the sentence. A backward trigger covers the mentions before it in its sentence, across clauses; when its
sentence names none, the previous sentence (布洛芬对肾脏有损害。所以您最好不要吃). A terminator ends either scope.
An anaphor in a scope covers its antecedent unless the antecedent's own clause recommends it (可以吃A，它和B不要合用).

The auditor fails closed: a mention that no scope covers is a recommendation.
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from typing import Sequence

from medq.agent.text import Matcher, normalise
from medq.errors import InputDataError

TABLE = Path(__file__).resolve().parent / "context.csv"
ROLES = ("negation", "risk", "switch", "pseudo", "terminator", "anaphor_one", "anaphor_many")
DIRECTIONS = ("forward", "backward", "both", "")
SENTENCE_END = set("。！？!?\n；;")
DIGIT = re.compile(r"\d")
CLAUSE_END = set("，,：:（）()—") | SENTENCE_END   # a dash (这个不行——和…) ends a clause
# what may follow a trigger that points backward (布洛芬伤胃，不要吃了哦 / 布洛芬禁用 / 对青霉素过敏的话): verbs of taking,
# particles, manner words; anything else after it (不要太担心) means the trigger is about that, not about a drug before
CONTRAST = ("但", "但是", "不过", "然而", "可是")
# discourse words that end a scope and advise nothing in their own clause (另外X会影响Y起效: round 17)
DISCOURSE = ("另外", "此外", "至于")
ADVISING = ("建议", "推荐", "医生建议")   # advising words a later negation in their clause turns
ABILITY = ("可以", "可", "能")       # after a drug in its clause: what the drug does (布洛芬可以止痛), not advice
# what an ability word says when a way of taking follows it (可以吃 / 能用): advice; anything else (仍可进入血液 / 能升高血钾)
# says what the drug does
TAKING_AFTER = re.compile(r"\s*(?:以)?\s*(?:吃|用|服|喝|打|涂|搽|擦|滴|喷|含|试|选|换|改|加|考虑|继续|放心|单独|先|适当|短期"
                          r"|按|在医生|照常|临时|偶尔|少量|减|每|\d|[一二两三四五六七八九十半]|饭|餐|睡|早|晚|空腹|遵|根据|短|长|暂|再|和|与|配合|联合|同时)")
# what follows a forward trigger and makes the name before it its subject too: the partner of a combination (A避免与B
#一起用 / A不要同B同服: both are warned) and the people a drug does not suit (A不适合正在用B的人: A is warned, B describes
# the people)
WITH_PARTNER = re.compile(r"[\s*_]*(?:和|与|同|跟)[^，,。；;！!？?\n]{1,16}?(?:一起|一齐|一同|合用|同用|同服|同时|联用|并用|共用)")
FOR_PEOPLE = re.compile(r"[^，,。；;！!？?\n]{1,20}?(?:的人|的人群|的患者|的病人|者|人群)\s*$")
# (不建议给79岁的老人换成X: the person the switch is refused for, between the negation and the switch, round 20)
REFUSED_SWITCH_GAP = re.compile(r"(?:再|自行|随便|擅自)?|(?:给|帮|让|替)[^，,。；;！!？?\n]{1,12}?(?:再|自行|随便|擅自)?")
CAUSATIVE = re.compile(r"\s*(?:令|使|让|导致|引起|造成|引发|诱发|加重|升高|减弱|抑制)")
ACTED_ON = re.compile(r"(?:升高|降低|减弱|增强|抑制|影响|增加|减少|提高|诱导|拮抗|干扰)\s*(?:了)?\s*$")
PAST_USE = re.compile(r"(?:用过|吃过|服过|服用过|使用过|含过)\s*$")
NEAR = 4    # characters between a name and a backward cue that still reach it (对青霉素类药物过敏)
DOSE_UNITS = ("mg", "ml", "g", "片", "粒", "袋", "克", "毫", "支", "次")
# 每晚吃一片 / 一次服两粒: a dose told in Chinese numerals after a take verb recommends like one in digits
NUMERAL_DOSE = re.compile(r"(?:吃|服|用|喝|含|口服)\s*(?:[一二两三四五六七八九十半]|一两|两三)\s*(?:片|粒|丸|袋|包|支|颗|滴|喷)")
TAIL_WORDS = ("于", "给您", "给你", "在", "身上", "这种情况", "情况下", "此时", "这时", "孕妇", "老年人", "儿童", "喔", "的药", "的药物", "的药品", "药品", "作为", "首选",
              "长期服用", "同服", "合并使用", "联合使用", "同时使用", "同时服用", "您", "你", "他", "她", "孩子", "宝宝", "小孩", "老人", "患者", "继续",
              "长期", "私自", "目前", "现在", "暂时", "期间", "孕期", "哺乳期", "服药", "接种", "打针", "输液", "滴", "喷", "涂", "擦", "含服",
              "使用它", "用它", "吃它", "为妙", "为佳", "比较", "较", "太", "马上", "立即", "立刻", "尽快", "先", "来", "去", "掉", "它",
              "这个药", "该药", "此药", "其", "上述", "以上", "这些", "两者", "二者", "合并", "配合", "一同", "搭配", "吃", "用", "服", "服用",
              "使用", "应用", "合用", "同用", "联用", "并用", "一起", "一齐", "叠加", "重复", "混着", "混用", "同吃",
              "同时", "一块", "再", "了", "哦", "啊", "呢", "吧", "呀", "为好", "为宜",
              "比较好", "较好", "更好", "的", "这样", "自行", "自己", "擅自", "随便", "随意", "乱", "给孩子", "给宝宝", "给老人", "给老年人", "给孕妇", "给小孩", "给儿童", "注射", "打", "输", "口服",
              "外用", "的话", "者", "的人", "史", "哈", "啦", "药", "药物", "此类", "这类", "两种", "这两种", "都", "也", "千万", "最好", "尽量",
              "绝对", "一定", "不", "要", "买", "买来", "去买", "购买", "加用", "加", "添加", "补", "喝", " ",
              "选", "选用", "选择", "试", "尝试", "碰", "舌下", "舌下含",
              # 不适合小宝宝用: the people it does not suit (round 17)
              "小宝宝", "小孩子", "小朋友", "婴儿", "幼儿", "婴幼儿", "新生儿", "小儿", "青少年", "产妇", "宝妈")     # 尽量不要选: the choice refused is the name before it


@dataclass(frozen=True)
class Cue:
    phrase: str
    role: str
    direction: str


@dataclass(frozen=True)
class Span:
    start: int
    end: int


@functools.lru_cache(maxsize=4)
def load_table(path: str | Path = TABLE) -> Matcher[Cue]:
    path = Path(path)
    cues: dict[str, Cue] = {}
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != ["phrase", "role", "direction", "note"]:
            raise InputDataError(f"{path}: row 1: header must be phrase,role,direction,note")
        for row_no, row in enumerate(reader, start=2):
            phrase = normalise(row["phrase"].strip())
            if not phrase:
                raise InputDataError(f"{path}: row {row_no}, column phrase: must not be empty")
            if row["role"] not in ROLES:
                raise InputDataError(f"{path}: row {row_no}, column role: {row['role']!r} is not one of "
                                     f"{'|'.join(ROLES)}")
            if row["direction"] not in DIRECTIONS or (row["role"] in ("negation", "risk")) != bool(row["direction"]):
                raise InputDataError(f"{path}: row {row_no}, column direction: negation and risk rows take "
                                     "forward|backward|both, other rows nothing")
            if phrase in cues:
                raise InputDataError(f"{path}: row {row_no}, column phrase: {phrase!r} is listed twice")
            cues[phrase] = Cue(phrase, row["role"], row["direction"])
    return Matcher(cues)


def warned_mentions(text: str, mentions: Sequence[Span], table: Matcher[Cue] | None = None) -> list[bool]:
    """For each mention (spans into `text`, sorted by start), whether a warning scope covers it."""
    return read_scope(text, mentions, table)[0]


def read_scope(text: str, mentions: Sequence[Span], table: Matcher[Cue] | None = None,
               shields: Sequence[Span] = ()) -> tuple[list[bool], list[bool]]:
    """(warned, affirmed) for each mention: whether a warning scope covers it, and whether its own clause recommends
    (an affirmative terminator such as 可以/建议/改用, or a dose)."""
    table = table or load_table()
    norm = normalise(text)
    # a cue inside a drug's name, or strictly inside a condition's (毒性 in 病毒性感冒), is no cue
    covered = bytearray(len(norm) + 1)     # characters inside a mention: a hit overlaps one when it covers any
    for m in mentions:
        covered[m.start:m.end] = b"\x01" * max(0, min(m.end, len(norm)) - m.start)
    inside = list(accumulate(covered, initial=0))
    cues = [(hit.start, hit.end, hit.value) for hit in table.find(norm)
            if inside[min(hit.end, len(norm))] == inside[hit.start] and
            not any(s.start <= hit.start and hit.end <= s.end and (s.end - s.start) > (hit.end - hit.start)
                    for s in shields)]
    cues = _negated_stops(norm, cues)
    # ## 布洛芬能吃吗？: a heading that asks recommends nothing; its answer below does (round 16)
    if "#" in norm and any(cue.role == "terminator" for _, _, cue in cues):
        cues = [(start, end, cue) for start, end, cue in cues if not (cue.role == "terminator" and _asking_heading(norm, start))]
    # a refused switch (不要换成X / 千万别改用X): the switch right after a negation ends no scope; X is what is refused
    if any(cue.role == "switch" for _, _, cue in cues):
        negation_ends = {end for _, end, cue in cues if cue.role == "negation"}
        cues = [(start, end, cue) for start, end, cue in cues
                if not (cue.role == "switch" and any(start - e <= 14 and start >= e and
                                                     REFUSED_SWITCH_GAP.fullmatch(norm[e:start]) for e in negation_ends))]
    # 建议至少产后6个月、断奶前不要用: an advising word whose own clause goes on to a negation opens that warning; it
    # recommends nothing and ends no scope (round 13)
    if any(cue.role == "terminator" and cue.phrase in ADVISING for _, _, cue in cues):
        negation_starts = [start for start, _, cue in cues if cue.role == "negation"]
        cues = [(start, end, cue) for start, end, cue in cues
                if not (cue.role == "terminator" and cue.phrase in ADVISING and
                        any(end <= n < _clause_end(norm, end) and
                            not any(end <= s < n for s, _, c in cues if c.role in ("terminator", "switch"))
                            for n in negation_starts))]
    terminator_starts = [start for start, _, cue in cues if cue.role in ("terminator", "switch")]
    phrase_at = {start: cue.phrase for start, _, cue in cues}
    named_with_digits = [m for m in mentions if DIGIT.search(norm, m.start, m.end)]   # 山莨菪碱（654-2）

    def clause_affirmed(start: int, end: int) -> bool:
        low, high = _clause_start(norm, start), _clause_end(norm, end)
        # 阿达木单抗（修美乐）每两周40mg: the name again in brackets right after it does not end its clause (round 15)
        if norm[high:high + 1] in ("（", "(") and high == end:
            close = BRACKET_CLOSE.match(norm, high)
            if close:
                high = _clause_end(norm, close.end())
        # 1. 加巴喷丁：从300mg每日1次起…: a name as the label of its item is advised by what follows the colon
        # 米诺环素对痤疮效果不错：\n- **每次50mg，每日2次**: a colon closing the name's sentence opens a list whose first
        # item doses it (round 19)
        if high < len(norm) and norm[high] in "：:" and (item := LIST_AFTER_COLON.match(norm, high + 1)):
            high = _clause_end(norm, item.end())
        elif high < len(norm) and norm[high] in "：:" and not norm[low:start].strip(" *#-0123456789.、"):
            high = _clause_end(norm, high + 1)
        if any(low <= t < high and not (t >= end and (_switch_after(t) or phrase_at[t] in ABILITY)) and
               phrase_at[t] not in CONTRAST and phrase_at[t] not in DISCOURSE and not _causes(t)
               for t in terminator_starts):   # 但 / 另外 end a scope; they recommend nothing
            return True
        clause = norm[low:high]
        if named_with_digits and DIGIT.search(clause):
            # 山莨菪碱（654-2）: digits in a drug's own name are no dose (round 18)
            for m in named_with_digits:
                if low <= m.start and m.end <= high:
                    clause = clause[:m.start - low] + " " * (m.end - m.start) + clause[m.end - low:]
        clause = CONTENT_STATED.sub("", clause)
        return any(ch.isdigit() for ch in clause) and any(unit in clause for unit in DOSE_UNITS) or \
            bool(NUMERAL_DOSE.search(clause))

    switch_starts = {start for start, _, cue in cues if cue.role == "switch"}

    def _causes(position: int) -> bool:   # 可以令/能使…浓度升高: what a drug does to another, not advice
        return phrase_at[position] in ABILITY and bool(CAUSATIVE.match(norm, position + len(phrase_at[position])))

    def _switch_after(position: int) -> bool:   # 布洛芬换成…: the switch after a name does not affirm it
        return position in switch_starts

    affirmed_flags = [clause_affirmed(m.start, m.end) for m in mentions]
    sentence_of = _boundaries(norm, SENTENCE_END)
    clause_of = _boundaries(norm, CLAUSE_END)
    warned = [False] * len(mentions)
    terminators = [start for start, _, cue in cues if cue.role in ("terminator", "switch")]
    anaphors = [(start, end, cue) for start, end, cue in cues if cue.role.startswith("anaphor")]
    # an item in a scope: ("m", mention index) or ("a", anaphor index), with its position
    items = sorted([(m.start, "m", i) for i, m in enumerate(mentions)] +
                   [(a[0], "a", i) for i, a in enumerate(anaphors)])

    def terminated(low: int, high: int) -> bool:
        return any(low <= t < high for t in terminators)

    def mark(kind: str, index: int) -> None:
        if kind == "m":
            warned[index] = True
            return
        start, _, cue = anaphors[index]
        floor = _previous_sentence(norm, sentence_of, start, mentions)
        before = [i for i, m in enumerate(mentions) if m.end <= start and sentence_of[m.start] >= floor]
        if not before:
            return
        if cue.role == "anaphor_one":
            # the patient's own medicine (您正在吃两种抗血小板药，…。该药不建议您加用) is context, not what 该药 points
            # at, when the draft named another drug before it
            # the patient's allergen, named as such (您对头孢过敏，这个药就不要吃): a fact, not what 这个药 points at
            own = [i for i in before if OWN_MEDICINE.search(norm[max(0, mentions[i].start - 10):mentions[i].start]) or
                   norm[max(0, mentions[i].start - 2):mentions[i].start].endswith("对") and
                   ALLERGEN_AFTER.match(norm[mentions[i].end:mentions[i].end + 8])]
            if own and len(own) == len(before):
                others = [i for i, m in enumerate(mentions) if m.end <= start and i not in own and not
                          OWN_MEDICINE.search(norm[max(0, m.start - 10):m.start])]
                before = others or before
            elif own:
                before = [i for i in before if i not in own]
            # the nearest name, and the topic of its sentence (the first name there, with a name in brackets right
            # after it): 胃复安（甲氧氯普胺）会阻断多巴胺…，您不要用它 — 它 is 胃复安, not 多巴胺
            nearest = before[-1]
            if cue.phrase in KIND_ANAPHORS:
                # 萘丁美酮属于消炎止痛药。…这类药…还是别吃了: the class a drug was said to belong to, and that drug
                described = [i for i in before if norm[_clause_start(norm, mentions[i].start):mentions[i].start]
                             .endswith(DESCRIBES) and i > 0 and i - 1 in before]
                if described:
                    for i in (described[-1] - 1, described[-1]):
                        if not terminated(_clause_start(norm, mentions[i].start), mentions[i].start):
                            warned[i] = True
                    return
            same = [i for i in before if sentence_of[mentions[i].start] == sentence_of[mentions[nearest].start]]
            chosen = sorted({nearest, same[0]} | {i for i in same[1:] if mentions[i].start - mentions[same[0]].end
                                                   <= 1 and norm[mentions[same[0]].end:mentions[i].start] in
                                                   ("（", "(")})
        else:
            chosen = before
        if cue.phrase.startswith(("这两", "两")) or cue.phrase in ("二者",):
            # the last two distinct names (克拉霉素…使地高辛…地高辛…。这两种药: 克拉霉素 and 地高辛)
            names: list[str] = []
            # the patient's own medicine (您在吃氯吡格雷，奥美拉唑、埃索美拉唑会抑制氯吡格雷…，不要选这两个) is the reason,
            # not one of the two, when two others were named
            own_names = {norm[m.start:m.end] for m in mentions
                         if OWN_MEDICINE.search(norm[max(0, m.start - 10):m.start])}
            if len({norm[mentions[i].start:mentions[i].end] for i in before} - own_names) >= 2:
                before = [i for i in before if norm[mentions[i].start:mentions[i].end] not in own_names]
            # 克拉霉素、红霉素会升高他克莫司浓度，不要换成这两种: the medicine a verb acts on (升高/抑制/减弱…X) is
            # what the two act on, not one of the two, when two others were named
            acted_on = {norm[m.start:m.end] for m in mentions if ACTED_ON.search(norm[max(0, m.start - 6):m.start])}
            if len({norm[mentions[i].start:mentions[i].end] for i in before} - acted_on - own_names) >= 2:
                before = [i for i in before if norm[mentions[i].start:mentions[i].end] not in acted_on]
            for i in reversed(before):
                name = norm[mentions[i].start:mentions[i].end]
                # 洛索洛芬（乐松）和美洛昔康都是非甾体抗炎药: the name in brackets is the one before it, the class after
                # 是/属于 describes them; neither is a third drug
                if i > 0 and i - 1 in before and norm[mentions[i - 1].end:mentions[i].start] in ("（", "(") or \
                        norm[max(0, mentions[i].start - 2):mentions[i].start].endswith(DESCRIBES) and \
                        any(sentence_of[mentions[j].start] == sentence_of[mentions[i].start] for j in before if j < i):
                    continue
                if name not in names:
                    names.append(name)
                if len(names) == 2:
                    break
            chosen = [i for i in before if norm[mentions[i].start:mentions[i].end] in names]
        for i in chosen:
            clause_start = _clause_start(norm, mentions[i].start)
            if not terminated(clause_start, mentions[i].start):   # 可以吃A，它…不要: A stays recommended
                warned[i] = True

    risk_marked: set[int] = set()
    for start, end, cue in cues:
        if cue.role == "switch":
            near = [i for i, m in enumerate(mentions) if clause_of[m.start] == clause_of[start] and m.end <= start
                    and (start - m.end <= NEAR or any(w in norm[_clause_start(norm, m.start):m.start]
                                                      for w in ("把", "将", "从")))]
            # 奥美拉唑可以改为每天2次、每次20mg: a new dose, not a new drug — the drug stays what the clause advises
            rest = norm[end:_clause_end(norm, end)]
            new_dose = DOSE_AFTER.search(rest) or re.match(r"\s*(?:每天|每日|一天|一日|每次|一次)", rest)
            if near and not (new_dose and not any(end <= m.start < _clause_end(norm, end) for m in mentions)):
                risk_marked.add(near[-1])
            elif not near and norm[start - 1:start] == ")":
                # 把甲巯咪唑（赛治）换成…: the name before a bracketed other name of it is what is replaced
                opening = norm.rfind("(", max(0, start - 16), start)
                named = [i for i, m in enumerate(mentions) if m.end == opening or opening < m.start < start]
                if opening > 0 and named and mentions[named[0]].end == opening and \
                        any(w in norm[_clause_start(norm, mentions[named[0]].start):opening] for w in ("把", "将", "从")):
                    risk_marked.update(named)
            continue
        if cue.role not in ("negation", "risk"):
            continue
        if cue.role == "risk":
            # a risk said to be small (副作用比传统止痛药少 / 对胃的刺激很小): a reason for the drug, not against it
            rest = norm[end:_clause_end(norm, end)]
            if SMALL_RISK.search(rest) and not re.search(r"不(?:少|小|轻|低)|不算|并不|也不", rest):
                continue
            # 本身不损伤肾脏 / 没有成瘾性 / 不会引起低血糖 / 很少导致…: a risk denied is reassurance, no warning (round 16)
            if RISK_DENIED.search(norm[max(_clause_start(norm, start), start - 6):start]):
                continue
            # 会引起双硫仑样反应（…）的主要是A和B: the risk's subject named after it, in the clause of 的是
            subject = RISK_SUBJECT.match(norm, end)
            if subject:
                for pos, kind, i in items:
                    if kind == "m" and pos >= subject.end() and clause_of[pos] == clause_of[subject.end()] and \
                            not affirmed_flags[i]:
                        risk_marked.add(i)
            before = [(pos, kind, i) for pos, kind, i in items
                      if pos < start and sentence_of[pos] == sentence_of[start] and kind == "m"]
            for pos, kind, i in reversed(before):
                if terminated(mentions[i].end, start):
                    break
                if not warned[i] and not affirmed_flags[i] and not _dosed_after(norm, mentions, i) and \
                        not _advised_after(norm, mentions, i, end):
                    risk_marked.add(i)
            continue
        sentence, clause = sentence_of[start], clause_of[start]
        after = [(pos, kind, i) for pos, kind, i in items if pos >= end and sentence_of[pos] == sentence]
        in_clause = [it for it in after if clause_of[it[0]] == clause and not terminated(end, it[0])]
        # 别用含酒精的药水，比如X: a warning on what no name stands for, whose examples follow in the next clause
        examples = not in_clause and cue.direction in ("forward", "both") and _examples_follow(norm, end)
        if cue.direction in ("forward", "both") and (in_clause or examples):
            for _, kind, i in in_clause:
                mark(kind, i)
            # (避免与 / 勿与: a trigger that ends in its partner word; round 16)
            partner = WITH_PARTNER.match(norm, end - 1 if cue.phrase.endswith(("和", "与", "同", "跟")) else end)
            if in_clause and (partner or FOR_PEOPLE.match(norm[end:_clause_end(norm, end)])):
                # - 阿司匹林、布洛芬：不要与华法林合用: the names of a label before a colon are the subject too (round 16)
                low = _clause_start(norm, start)
                label = low > 0 and norm[low - 1] in "：:" and bool(partner)
                label_low = _sentence_start(norm, low - 1) if label else low
                if label:
                    rest = norm[label_low:low - 1]
                    for m in mentions:
                        if label_low <= m.start and m.end <= low - 1:
                            rest = rest.replace(norm[m.start:m.end], "", 1)
                    label = not rest.strip(" *-•+·、和及与或/0123456789.）)") and rest != norm[label_low:low - 1]
                for pos, kind, i in items:
                    if kind == "m" and mentions[i].end <= start and \
                            (clause_of[pos] == clause and not terminated(mentions[i].end, start) or
                             label and label_low <= pos < low):
                        mark(kind, i)
            # 不要喝酒，包括含酒精的饮料和藿香正气水: a clause that opens with a continuation word stays in the scope
            next_clause = clause + 1
            while True:
                low = next((pos for pos in range(end, len(norm)) if clause_of[pos] == next_clause), None)
                # (…包括很多复方感冒药（如X、Y等）: examples in brackets opened by 如/像 continue it too; round 17)
                if low is None or sentence_of[low] != sentence or \
                        not (norm[low:].lstrip(" *").startswith(CONTINUATION) or
                             low > 0 and norm[low - 1] in "（(" and BRACKET_EXAMPLES.match(norm, low)):
                    break
                for pos, kind, i in after:
                    if clause_of[pos] == next_clause and not terminated(low, pos):
                        mark(kind, i)
                next_clause += 1
            continue
        if cue.direction == "forward":
            for pos, kind, i in after:
                # 不要自己加药，苯海拉明每晚吃一片就行: past the trigger's own clause, a name whose clause recommends it
                # (a dose, 可以/建议…) is advice of its own, not what the trigger refuses; the scope ends there
                if terminated(end, pos) or (kind == "m" and clause_of[pos] != clause and affirmed_flags[i]):
                    break
                mark(kind, i)
            continue
        # backward: only when nothing but tail words follows in the clause; this sentence, else the previous one
        # 不推荐用来助眠: what follows a cue ending in 用来/用于 is the purpose it is refused for, no new object
        # 不适合正在用免疫抑制剂的人: the people it does not suit follow; the drug before the cue is what is refused
        if not _only_tail(norm[end:_clause_end(norm, end)]) and not norm[start:end].endswith(PURPOSE) and \
                not FOR_PEOPLE.match(norm[end:_clause_end(norm, end)]):
            if cue.direction == "backward":   # 磺胺过敏者不能用…: the name right before the cue is still covered
                near = [i for pos, kind, i in items if kind == "m" and clause_of[pos] == clause and
                        mentions[i].end <= start and start - mentions[i].end <= NEAR]
                if near:
                    mark("m", near[-1])
            continue
        before = [(pos, kind, i) for pos, kind, i in items if pos < start and sentence_of[pos] == sentence]
        if not before and cue.direction == "both" and after:
            # 不建议，布洛芬会伤胃: a bare trigger opening its sentence points at what follows; a name whose own clause
            # recommends it (不要自己加药，苯海拉明每晚吃一片就行: a dose, 可以/建议…) is advice of its own and ends the scope
            for pos, kind, i in after:
                if terminated(end, pos) or (kind == "m" and clause_of[pos] != clause and affirmed_flags[i]):
                    break
                mark(kind, i)
            continue
        # 您对头孢过敏，所以这次不建议再吃 / 您在用螺内酯，…所以不建议用: the patient's allergen or own medicine, named as
        # such, is a fact of the reason, not what the refusal is about; with nothing else before it in the sentence, the
        # refusal reaches back to the previous sentence's drug
        reason_only = bool(before) and cue.direction == "both" and \
            all(kind == "m" and _patient_fact(norm, mentions[i]) for _, kind, i in before)
        if reason_only:
            before = []
        # (但您对头孢过敏，所以不建议再吃: the contrast opens the reason; it ends no scope)
        if not before and not any(_sentence_start(norm, start) <= t < start and
                                  not (reason_only and phrase_at[t] in CONTRAST) for t in terminators) and \
                not _heads_a_list(norm, start):
            before = [(pos, kind, i) for pos, kind, i in items if sentence_of[pos] == sentence - 1]
            # ## 关于布洛芬 / (blank line) / 不建议使用。: a bare refusal opening a section refuses what its heading names
            # (round 16)
            heading = _section_heading(norm, _sentence_start(norm, start)) if not before else None
            if heading:
                before = [(pos, kind, i) for pos, kind, i in items if heading[0] <= pos < heading[1]]
        for pos, kind, i in reversed(before):
            # a terminator between the item and the trigger, or earlier in the item's own clause (可以吃A，…不要), ends
            # the scope; the trigger's own clause is searched from its start. Not a stop: a bare 可以/能 after the
            # item in its own clause (布洛芬可以止痛 describes the drug), and a contrast (但是) the trigger answers
            # (布洛芬可以止痛，但是您有胃溃疡，最好不要用)
            item_end = mentions[i].end if kind == "m" else anaphors[i][1]
            low = pos if clause_of[pos] == clause else _clause_start(norm, pos)
            stops = [t for t in terminators if low <= t < start and not
                     (phrase_at[t] in CONTRAST or _causes(t) or (phrase_at[t] in ABILITY and t >= item_end and
                                                   (clause_of[t] == clause_of[pos] or
                                                    not TAKING_AFTER.match(norm, t + len(phrase_at[t])))) or
                      (phrase_at[t] in TOPIC and t < item_end))]
            if stops:
                break
            if kind == "m" and affirmed_flags[i] and norm[start:end].endswith(PURPOSE):
                continue   # 每次4mg，睡前吃，不推荐用来治X: the dosed advice stands; the purpose is another
            mark(kind, i)
    for i in risk_marked:
        warned[i] = True
    # 24小时内用过伟哥类药物不能含硝酸甘油: a drug named as a past use that a negation in its clause then depends on is
    # the condition of the warning, not advice (round 18)
    if "过" in norm:
        for start, _, cue in cues:
            if cue.role != "negation":
                continue
            low = _clause_start(norm, start)
            for i, m in enumerate(mentions):
                if low <= m.start and m.end <= start and PAST_USE.search(norm, max(low, m.start - 6), m.start):
                    warned[i] = True
    _list_scopes(norm, cues, mentions, warned)
    if "：" in norm or ":" in norm:
        _inline_list_scopes(norm, cues, mentions, warned)
    # …不要用，颠茄片也一样 / 可以吃布洛芬，对乙酰氨基酚也一样: a name followed by 也一样 reads like the name before it
    for index, m in enumerate(mentions):
        if warned[index] or not re.match(r"\s*(?:也一样|也是一样|同样如此|也同样)", norm[m.end:m.end + 6]):
            continue
        earlier = [i for i, other in enumerate(mentions) if other.end <= m.start and
                   sentence_of[other.start] == sentence_of[m.start] and norm[other.start:other.end] != norm[m.start:m.end]]
        if earlier and warned[earlier[-1]]:
            warned[index] = True
    # examples in brackets right after a warned name (不能接种减毒活疫苗（比如鼻喷流感疫苗、麻腮风）) are warned with it:
    # every name inside the bracket that opens right after it, up to its closing bracket
    for index, m in enumerate(mentions):
        if warned[index] or not any(warned) or \
                (norm.rfind("（", max(0, m.start - 60), m.start) < 0 and norm.rfind("(", max(0, m.start - 60), m.start) < 0):
            continue
        low = _sentence_start(norm, m.start)
        bracket = max(norm.rfind("（", low, m.start), norm.rfind("(", low, m.start))
        if bracket < 0 or re.search(r"[）)]", norm[bracket:m.start]):
            continue
        # (**避免NSAIDs**（布洛芬、…）: markdown between the host and its bracket)
        host = [i for i, other in enumerate(mentions) if other.end <= bracket and
                not norm[other.end:bracket].replace("*", "").replace("_", "").strip()]
        if host and warned[host[-1]]:
            warned[index] = True
    # 别吃止痛片（像去痛片）: examples in a bracket after a warning on a kind no name stands for are warned with it
    for index, m in enumerate(mentions):
        if warned[index]:
            continue
        low = _sentence_start(norm, m.start)
        bracket = max(norm.rfind("（", low, m.start), norm.rfind("(", low, m.start))
        if bracket < 0 or re.search(r"[）)]", norm[bracket:m.start]) or \
                not norm[bracket + 1:].lstrip().startswith(("像", "如", "比如", "例如", "譬如", "包括")):
            continue
        host_low = _clause_start(norm, bracket)
        # a named host right before the bracket decides (the loop above); a name inside the kind's description
        # (不要用含酒精的药品（如…）: 酒精 describes the kind) does not
        if any(host_low <= other.start < bracket and not norm[other.end:bracket].replace("*", "").replace("_", "").strip()
               for other in mentions):
            continue
        lead = [(start, cue) for start, _, cue in cues if host_low <= start < bracket]
        negations = [start for start, cue in lead if cue.role == "negation" and cue.direction in ("forward", "both")]
        if negations and not any(cue.role in ("terminator", "switch") and start > negations[-1] for start, cue in lead):
            warned[index] = True
    # a product whose ingredient is warned about right after it names it (鼻炎康片…但里面加了氯苯那敏，吃了容易犯困): the
    # warning is the product's too, unless the product's own clause recommends it (可以吃X，里面含Y…)
    for index, m in enumerate(mentions):
        if not warned[index] or not norm[max(0, m.start - 6):m.start].endswith(CONTAINS):
            continue
        # only with a real warning after it (…出车前不要吃), not a risk alone (很好用，但里面含有X，会升压，注意监测)
        if not any(cue.role == "negation" and start >= m.end and sentence_of[start] <= sentence_of[m.start] + 1
                   for start, _, cue in cues):
            continue
        for i, other in enumerate(mentions):
            if other.end <= m.start and sentence_of[other.start] == sentence_of[m.start] and not affirmed_flags[i]:
                warned[i] = True
    # a class named to describe a drug (该药属于苯二氮䓬类 / 复方新诺明是磺胺类抗生素) shares that drug's reading
    for index, m in enumerate(mentions):
        low = _clause_start(norm, m.start)
        ingredient_of = norm[max(0, m.start - 4):m.start].endswith(INGREDIENT_OF)
        if warned[index] or not (norm[low:m.start].endswith(DESCRIBES) or ingredient_of):
            continue
        # 不要吃新康泰克，里面的伪麻黄碱…: an ingredient named after its product, in the same sentence
        floor = _sentence_start(norm, m.start) if ingredient_of else low
        previous = [i for i, other in enumerate(mentions) if floor <= other.start and other.end <= m.start]
        referents = previous[-1:]
        if not referents:
            anaphor = [a for a in anaphors if low <= a[0] < m.start and a[2].role == "anaphor_one"]
            earlier = [i for i, other in enumerate(mentions) if anaphor and other.end <= anaphor[0][0]]
            referents = earlier[-1:]
        if referents and warned[referents[0]]:
            warned[index] = True
    return warned, affirmed_flags


# a stop that is itself negated (别自己提前停药 / 千万不要随便停 / 不能擅自停用): "keep taking it", no warning; the table
# lists some as pseudo phrases, this reads any negator and manner words before any stop cue
STOP_PHRASES = ("停", "暂停", "尽快停", "应尽快停", "应该尽快停", "立即停", "马上停")
NEGATED_STOP = re.compile(r"(?:别|不要|不能|不可|不宜|不得|勿|切勿|千万别|千万不要|不可以)\s*"
                          r"(?:自己|自行|擅自|私自|随便|随意|提前|突然|过早|马上|轻易|中途|一下子|自作主张)*\s*$")


def _patient_fact(norm: str, mention: Span) -> bool:
    """A name the draft gives as a fact about the patient: their allergen (对头孢过敏) or own medicine (您在用螺内酯)."""
    return bool(OWN_MEDICINE.search(norm[max(0, mention.start - 10):mention.start]) or
                norm[max(0, mention.start - 2):mention.start].endswith("对") and
                ALLERGEN_AFTER.match(norm[mention.end:mention.end + 8]))


def _negated_stops(norm: str, cues: list) -> list:
    drop: set[int] = set()
    for index, (start, end, cue) in enumerate(cues):
        if cue.role != "negation" or not cue.phrase.startswith(STOP_PHRASES):
            continue
        low = _clause_start(norm, start)
        negator = NEGATED_STOP.search(norm[low:start])
        if negator is None:
            continue
        drop.add(index)
        drop.update(i for i, (other, _, c) in enumerate(cues)
                    if low + negator.start() <= other < start and c.role == "negation")
    return [c for i, c in enumerate(cues) if i not in drop]


SMALL_RISK = re.compile(r"^[^，,。；;！!？?\n]{0,12}?(?:很|较|比较|相对|更|非常|极)?(?:少|小|轻|低|轻微)(?:一些|些|得多|很多|一点)?"
                        r"[的了]?[\s*_]*$")   # (…比传统止痛药小**: markdown emphasis closing it is no word, round 20)
# a topic shift (至于奶奶说的阿司匹林，…不要给孩子吃) ends a scope that reaches past it, not one over the item it opens
KIND_ANAPHORS = ("这类药", "这类药物", "此类药", "此类药物")
TOPIC = ("至于", "另外", "此外", "然后")
# the patient's own medicine, named as such (您正在吃两种抗血小板药 / 您已经在吃格列美脲)
OWN_MEDICINE = re.compile(r"(?:您|你)(?:目前|现在|一直|长期|已经|本来|同时|还)?(?:正在|在)?(?:吃|服用|用|使用)(?:着|的)?"
                          r"(?:[一二两三四五六七八九十几]种)?\s*$")
ALLERGEN_AFTER = re.compile(r"\s*(?:类|类药物|类药|类抗生素|药物|药)?\s*(?:过敏)")
CONTINUATION = ("包括", "以及", "还有", "及", "或者", "或是", "尤其是", "特别是", "和", "也不要", "也不能", "连",
                "比如", "例如", "譬如", "诸如")
PURPOSE = ("用来", "用于", "拿来")
BRACKET_EXAMPLES = re.compile(r"[\s*（(]*(?:如|像|比如|例如|譬如|包括)(?!果|何|今|此|同|若)")
RISK_SUBJECT = re.compile(r"[^，,。；;！？!?（(\n]{0,12}(?:[（(][^）)]{0,30}[）)])?\s*的\s*(?:主要|通常|一般|往往|多半|常见)?\s*"
                          r"(?:就)?\s*是")
# 每10丸含约2.5mg / 每片含0.3g: what a unit contains, no dose (it recommends nothing)
CONTENT_STATED = re.compile(r"每\s*\d*(?:\.\d+)?\s*(?:片|粒|丸|袋|包|支|ml|毫升)\s*(?:里|中)?\s*(?:含有|含)\s*(?:约|大约)?\s*"
                            r"\d+(?:\.\d+)?\s*(?:mg|毫克|g|克|μg|微克)")
EXAMPLE = ("比如", "例如", "譬如", "诸如")


def _examples_follow(norm: str, position: int) -> bool:
    """Whether the clause after the one at `position` opens with an example word (…药水，比如…)."""
    end = _clause_end(norm, position)
    return end < len(norm) and norm[end] in "，,；;" and norm[end + 1:].lstrip(" *").startswith(EXAMPLE)
CONTAINS = ("里面加了", "里面含有", "里面含", "里面有", "加了", "含有", "含", "成分是", "成分有")
INGREDIENT_OF = ("里面的", "里的", "其中的", "所含的", "含有的", "中的", "成分")
DESCRIBES = ("属于", "是一种", "是一类", "是", "属", "也是", "为")

LIST_ITEM = ("-", "*", "•", "·", "+", "①", "②", "③", "④", "⑤", "⑥", "⑦", "⑧", "⑨", "⑩")


ITEM_MARK = re.compile(r"^(?:[-*•·+]|\d{1,2}[.、)）])\s*")


def _is_item(line: str) -> bool:
    line = line.lstrip()
    if line.startswith("**"):    # markdown bold (**不建议自行服用：**) opens a heading, not an item
        return False
    if line.startswith(LIST_ITEM):
        return True
    digits = len(line) - len(line.lstrip("0123456789"))
    return 0 < digits <= 2 and line[digits:digits + 1] in (".", "、", ")", "）")


def _list_scopes(norm: str, cues: list, mentions: Sequence[Span], warned: list[bool]) -> None:
    """A heading or a line ending in a colon that warns (### 需要避免的药物 / 以下药物不建议使用：) covers the list
    items under it, up to the next line that is not an item; an item that itself recommends (可以…) is not covered."""
    lines, position = [], 0
    for line in norm.split("\n"):
        lines.append((position, position + len(line), line))
        position += len(line) + 1
    for index, (start, end, line) in enumerate(lines):
        stripped = line.strip()
        heading = stripped.startswith("#") or stripped.endswith((":", "：")) or \
            (stripped.startswith("**") and stripped.endswith("**"))
        # 1. **避免使用的药物** over indented items: a numbered item that is all bold heads the items indented under it
        content = ITEM_MARK.sub("", stripped, count=1)
        sub_heading = _is_item(line) and len(content) > 4 and content.startswith("**") and content.endswith("**") and \
            "**" not in content[2:-2]
        indent = len(line) - len(line.lstrip())
        if not (heading or sub_heading) or _is_item(line) and not stripped.endswith((":", "：")) and not sub_heading:
            continue
        roles = [cue.role for s, e, cue in cues if start <= s < end]
        if "negation" not in roles or "terminator" in roles[roles.index("negation"):]:
            continue
        # a markdown heading (## 不建议使用的药物 / **需要避免**) that refuses covers its section up to the next heading:
        # the items and the plain lines under it (round 16); a plain line that recommends or doses ends the section
        section = stripped.startswith("#") or stripped.startswith("**") and stripped.endswith("**")
        for item_start, item_end, item in lines[index + 1:]:
            if not item.strip():
                continue
            if sub_heading and len(item) - len(item.lstrip()) <= indent:
                break
            if not _is_item(item):
                text = item.strip()
                if not section or text.startswith("#") or text.startswith("**") and text.endswith(("**", "：", ":")):
                    break
                if any(cue.role in ("terminator", "switch") for s, e, cue in cues if item_start <= s < item_end) or \
                        DOSE_AFTER.search(norm, item_start, item_end):
                    break
            elif any(cue.role == "terminator" for s, e, cue in cues if item_start <= s < item_end):
                continue
            for i, m in enumerate(mentions):
                if item_start <= m.start < item_end:
                    warned[i] = True


INLINE_COLON = re.compile(r"[：:](?=[^\n])")


def _inline_list_scopes(norm: str, cues: list, mentions: Sequence[Span], warned: list[bool]) -> None:
    """A refusal that names no drug and ends in a colon inside a line (这两种都不推荐：甲…；乙…。) covers the items after
    the colon, split by semicolons, up to the end of the sentence or line; an item that itself recommends (可以…) is
    not covered (round 12)."""
    if not any(cue.role == "negation" for _, _, cue in cues):
        return
    for found in INLINE_COLON.finditer(norm):
        colon = found.start()
        low = max(norm.rfind(mark, 0, colon) for mark in "。！？!?\n；;") + 1
        if any(low <= m.start < colon for m in mentions):
            continue   # a colon at the line's end is _list_scopes'; a lead that names a drug refuses that drug
        roles = [cue.role for s, e, cue in cues if low <= s < colon]
        if "negation" not in roles or "terminator" in roles[roles.index("negation"):]:
            continue
        high = min([k for k in (norm.find(mark, colon) for mark in "。！？!?\n") if k >= 0] or [len(norm)])
        item_start = colon + 1
        while item_start < high:
            item_end = min([k for k in (norm.find(mark, item_start, high) for mark in "；;") if k >= 0] or [high])
            # an item that doses its drug or says it will do (苯海拉明每晚一片就行) advises it, whatever the lead said
            if not any(cue.role == "terminator" for s, e, cue in cues if item_start <= s < item_end) and \
                    not DOSE_AFTER.search(norm, item_start, item_end) and \
                    not re.search(r"就行|就好|即可|照常|没问题|没关系", norm[item_start:item_end]):
                for i, m in enumerate(mentions):
                    if item_start <= m.start < item_end:
                        warned[i] = True
            item_start = item_end + 1


def affirmed(text: str, start: int, end: int, table: Matcher[Cue] | None = None) -> bool:
    """Whether the clause around [start, end) recommends on its own: an affirmative terminator (可以, 建议, 改用 ...)
    or a dose (a number with a unit) in it."""
    table = table or load_table()
    norm = normalise(text)
    low, high = _clause_start(norm, start), _clause_end(norm, end)
    clause = norm[low:high]
    if any(hit.value.role == "terminator" for hit in table.find(clause)):
        return True
    clause = CONTENT_STATED.sub("", clause)
    return any(ch.isdigit() for ch in clause) and any(unit in clause for unit in DOSE_UNITS)


DOSE_AFTER = re.compile(r"\d\s*(?:mg|g|μg|ml|毫克|克|毫升|片|粒|袋|包|支|丸)|[一二两三四五六七八九十半]\s*(?:片|粒|袋|包|支|丸)")


LIST_AFTER_COLON = re.compile(r"[ \t]*\n\s*(?:[-*•·]|\d+[.、．])\s*")
BRACKET_CLOSE = re.compile(r"[（(][^（()）,，。；;]{1,20}[）)]")


# 没有成瘾性 / 非成瘾性 (not 非常, round 17) / 本身不损伤 / 不会引起 / 很少导致 / 并无…毒性: the words right before a risk cue that deny it (round 16)
RISK_DENIED = re.compile(r"(?:(?<!除)非(?!常)|不|没有|没|无|并无|毫无|并不|不会|不太|不怎么|很少|极少|少有|几乎不|几乎没有|基本不|基本没有)"
                         r"[^，,。；;！!？?\n不没无]{0,3}$")
# 有嗜睡作用，可以作为助眠药。建议睡前服用25mg: a risk the draft then uses the drug for (可以作为/用来…) or doses (a
# clause with a dose) before any other name, up to the end of the next sentence, with no refusal anywhere from the risk
# on, is a caveat, not a warning (round 16)
USED_FOR = re.compile(r"(?:可以|可|能|正好|刚好)(?:作为|用作|用来|用于|当作|当)")
REFUSAL_WORDS = re.compile(r"不|别|勿|禁|避免|慎|停|换|改用|改为|替代|代替|而是|最好|首选|谨慎|小心")


def _advised_after(norm: str, mentions: Sequence[Span], index: int, risk_end: int) -> bool:
    following = [m.start for m in mentions if m.start >= risk_end]
    stop = following[0] if following else len(norm)
    first_end = next((k for k in range(risk_end, len(norm)) if norm[k] in SENTENCE_END), len(norm))
    second_end = next((k for k in range(first_end + 1, len(norm)) if norm[k] in SENTENCE_END), len(norm))
    window = norm[risk_end:min(stop, second_end)]
    if REFUSAL_WORDS.search(window):
        return False
    return bool(USED_FOR.search(window) or DOSE_AFTER.search(window))


def _dosed_after(norm: str, mentions: Sequence[Span], index: int) -> bool:
    """A dose for this drug later in its sentence, before the next name (布洛芬伤胃，饭后吃，每次0.2g): a risk stated
    about a drug the draft then doses is a caveat, not a warning."""
    end = mentions[index].end
    following = [m.start for m in mentions if m.start >= end]
    stop = min([following[0]] if following else [len(norm)])
    sentence_end = next((k for k in range(end, len(norm)) if norm[k] in SENTENCE_END), len(norm))
    return bool(DOSE_AFTER.search(norm[end:min(stop, sentence_end)]))


HEADING_LINE = re.compile(r"^\s*(?:#{1,6}\s*[^\n]*|\*\*[^*\n]{1,20}\*\*\s*[：:]?|[^\n，,。]{1,8}[：:])\s*$")


def _asking_heading(norm: str, position: int) -> bool:
    """Whether the line at this position is a markdown heading that asks (## 布洛芬能吃吗？ / ### 孕妇可以用X吗)."""
    low = norm.rfind("\n", 0, position) + 1
    high = norm.find("\n", position)
    line = norm[low:high if high >= 0 else len(norm)].strip().rstrip("*")
    return line.startswith("#") and line.endswith(("?", "？", "吗", "呢"))


def _section_heading(norm: str, low: int) -> tuple[int, int] | None:
    """The span of the heading line (## … / **…**) right above the blank line the text at `low` opens after, if any."""
    if "\n\n" not in norm:
        return None
    line_low = norm.rfind("\n", 0, low) + 1
    if norm[line_low:low].strip(" *>"):
        return None   # the refusal does not open its line
    above = norm[:line_low].rstrip(" \t")
    if not above.endswith("\n") or not above[:-1].rstrip(" \t").endswith("\n") and \
            above[:-1].rstrip(" \t\n") == above[:-1]:
        return None   # no blank line right above
    high = len(above.rstrip(" \t\n"))
    head_low = norm.rfind("\n", 0, high) + 1
    if norm[head_low:line_low].count("\n") < 2:
        return None
    line = norm[head_low:high].strip()
    if line.startswith("#") or line.startswith("**") and line.endswith(("**", "**？", "**?")):
        return head_low, high
    return None


def _heads_a_list(norm: str, position: int) -> bool:
    """Whether the line at this position heads a list: it is a heading line (## 避免 / 2. **避免** / 不要用：) and the
    next line that is not blank is an item. Such a trigger is about the items under it, not the line before it (round
    16: 1. **推荐用药** / - 布洛芬0.2g / 2. **避免** / - 阿司匹林 does not refuse 布洛芬)."""
    if "\n" not in norm:
        return False
    low = norm.rfind("\n", 0, position) + 1
    high = norm.find("\n", position)
    if high < 0:
        return False
    line = ITEM_MARK.sub("", norm[low:high].strip(), count=1)
    if not (norm[low:high].lstrip().startswith("#") or line.endswith((":", "：")) or
            line.startswith("**") and line.endswith("**")):
        return False
    following = next((item for item in norm[high + 1:].split("\n") if item.strip()), "")
    return _is_item(following)


CONTRAST_OPENING = re.compile(r"[\s*_#>\-]*(?:但是|但|不过|然而)")


def _previous_sentence(norm: str, sentence_of: list[int], position: int, mentions: Sequence[Span]) -> int:
    """The sentence before the one at this position that an anaphor reaches back to, past heading lines that name no
    drug (## 建议 / **建议：**): 乐松会加重胃溃疡。\n## 建议\n- 这个药不合适 reaches 乐松 across the heading."""
    sentence = sentence_of[position]
    previous = sentence - 1
    if previous < 0 or "\n" not in norm or not ("#" in norm or "**" in norm or "：" in norm or ":" in norm):
        return previous    # no heading line possible: decided without a scan
    low = position
    while low > 0 and sentence_of[low - 1] == sentence:
        low -= 1
    # a blank line before a paragraph that opens with a contrast (…效果不错。\n\n**但是**，它…) is walked past too: 但是
    # answers the paragraph before (round 18); otherwise a blank line parts them
    past_blank = bool(CONTRAST_OPENING.match(norm, low))
    # walk back one sentence at a time while the sentence before is a heading line with no name in it
    while previous > 0 and low > 0:
        high = low
        low = high - 1
        while low > 0 and sentence_of[low - 1] == previous:
            low -= 1
        line = norm[low:high].strip("\n\r ")
        if any(low <= m.start < high for m in mentions) or not (HEADING_LINE.match(line) or past_blank and not line):
            break
        previous -= 1
    return previous


@functools.lru_cache(maxsize=4)
def _mark_then_break(ends: frozenset[str]) -> re.Pattern[str]:
    """A line break right after another end mark of the set (…。\n / …：\n)."""
    return re.compile("([" + re.escape("".join(sorted(ends - {"\n"}))) + "])\n")


def _boundaries(text: str, ends: set[str]) -> list[int]:
    """Index of the segment (sentence or clause) each character belongs to."""
    # a line break right after a sentence mark (…抗炎药。\n但…) ends no second, empty sentence: the next line's
    # 这两个 / 所以不要吃 reaches the sentence before it; a blank line still parts two sentences (same length)
    if "\n" in ends and "\n" in text:
        text = _mark_then_break(frozenset(ends)).sub(r"\1 ", text)
    # 避免紫药水（龙胆紫）和樟脑丸: a short aside in brackets that the list goes on after (和/与/及/、/或) parts no
    # clause, so the warning reaches the names after it (integration, round 15)
    aside = set()
    if ("（" in ends or "(" in ends) and ("（" in text or "(" in text):
        for bracket in LISTED_ASIDE.finditer(text):
            aside.update((bracket.start(), bracket.end() - 1))
    if aside:
        return list(accumulate((char in ends and index not in aside for index, char in enumerate(text)), initial=0))
    return list(accumulate(map(ends.__contains__, text), initial=0))


LISTED_ASIDE = re.compile(r"[（(][^（()）,，。；;！？!?\n]{1,20}[）)](?=\s*(?:和|与|及|以及|、|或|或者))")


def _clause_start(text: str, position: int) -> int:
    while position > 0 and text[position - 1] not in CLAUSE_END:
        position -= 1
    return position


def _sentence_start(text: str, position: int) -> int:
    while position > 0 and text[position - 1] not in SENTENCE_END:
        position -= 1
    return position


def _clause_end(text: str, position: int) -> int:
    while position < len(text) and text[position] not in CLAUSE_END:
        position += 1
    return position


def _only_tail(rest: str) -> bool:
    # markdown, quotes and emoji around a trigger (**避免**：) are no words
    rest = "".join(c for c in rest if c.isalnum() and not c.isascii() or c.isascii() and c.isalnum())
    i = 0
    while i < len(rest):
        for length in (4, 3, 2, 1):
            if rest[i:i + length] in TAIL_WORDS:
                i += length
                break
        else:
            return False
    return True

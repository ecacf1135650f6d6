"""One ingredient from two sources: two products the draft recommends (a cold remedy with paracetamol plus plain
paracetamol), or a recommended product and a current medicine that share an ingredient. Doses stated for both are
summed against the daily limit; a duplicate blocks when the ingredient has a daily limit (overdose risk) or when
the summed dose exceeds it, and warns otherwise. A drug named twice in a row (布洛芬（芬必得）) is one source, and so is
the patient's single-ingredient medicine that the draft says to continue by its generic (继续吃布洛芬 for 芬必得)."""

from __future__ import annotations

import re
from typing import Iterable

from medq.agent.rules.base import AuditContext, Finding, Recommended, finding
from medq.agent.rules.dose import dosing_rows, own_dose_text, read_dose, strength_of
from medq.agent.rules.interaction import replaced, stopped, switched_to
from medq.agent.text import CLAUSE_MARKS, SALT_WORDS, span_end, span_start

CONTINUE = re.compile(r"继续|接着|照常|照旧|按原来|原来的|坚持|维持")
# (再加国产氨氯地平: a second make of the same drug, round 18)
ADDED = re.compile(r"(?:再加|加用|加上|另加|再吃|再服|再用|叠加|同时加)\s*"
                   r"(?:一个|一种|点|(?:\d+|[一两二三四半])\s*(?:粒|片|包|袋|支|颗|丸))?\s*"
                   r"(?:(?:国产|进口|原研|仿制|便宜|普通)的?)?\s*$")
# markdown emphasis around a name (**普拿疼**（乙醯胺酚）) is no second item either
SAME_ITEM = re.compile(r"^[\s（）()、/或即也就是商品名通用名为:：*_]*"
                       r"(?:(?:例如|比如|如|像)\s*(?:儿童|小儿|婴幼儿|婴儿|成人)?)?"   # 扑热息痛（例如儿童必理痛） (round 19)
                       rf"(?:{SALT_WORDS})?$")
# 布洛芬按5-10mg/kg计算，…喝5-7ml美林: a generic and a one-ingredient brand of it in one sentence, nothing added
# between, are one medicine explained (round 16)
TOGETHER = re.compile(r"一起|同时|再|另|加|合用|叠加|配合|搭配")
# a substance named to describe a product the draft recommends (维C银翘片里含有对乙酰氨基酚和扑尔敏 / 按布洛芬每公斤
# 10mg计算，喂美林…): the product's own ingredient, not a second source
DESCRIBES_PRODUCT = re.compile(r"(?:含有|含|成分是|成分为|成分有|里面有|里有|按|按照|(?<![可所难足予用])以)\s*$")   # not 可以
DESCRIBES_LIST = re.compile(r"(?:含有|含|成分是|成分为|成分有|里面有|里有)[^，,。；;！!？?\n]{1,16}(?:和|、|及|与|以及)\s*$")
ANAPHOR_CONTENT = re.compile(r"(?:它|其|该药|此药|这个药|这药|本品|该产品)\s*(?:本身|已经|里面|里|也|还|就|都)*\s*"
                             r"(?:含有|含|成分是|成分为|成分有|里面有|里有)")
# two products offered as alternatives (…0.4mg即可，也可以换成含叶酸的复合维生素 / A或者B): one or the other, not both
# (round 15) one after the other (吃到孕12周，之后可继续吃含叶酸的复合维生素 / 吃完再换): sequential, not both at once
ALTERNATIVE = re.compile(r"换成|换用|改成|改用|改为|或者|或是|也可以选|也可选|替代|代替|二选一|任选|"
                         r"(?:之后|以后|然后|停药后|停用后|吃完后|吃完)\s*(?:可以|可|再|改|换|就)")


# a product named as another form of advice already given by its ingredients (缬沙坦80mg + 氢氯噻嗪12.5mg（也有复方制剂
# 如复代文） / 氯雷他定每天5mg。开瑞坦糖浆1mg/ml，也就是每天喝5ml): the same medicine restated, no second box (round 18)
RESTATED = re.compile(r"也就是|相当于|折合|换算成|(?:用|选用|如果用|若用)[^，,。；;！!？?\n]{1,16}的话|(?:也有|也可以用|也可用|或用|或者用)(?:复方|单片|固定剂量)?(?:复合)?"
                      r"(?:制剂|片剂|剂型|片|糖浆|口服液)?\s*(?:如|比如|例如|像)?")
# 元素钙每天总摄入1000mg（…比如碳酸钙D3片…），维生素D 800IU: a daily intake target, the product an example toward it
INTAKE_TARGET = re.compile(r"总摄入|总量|摄入总量|每天摄入|每日摄入|摄入量")


class DuplicateRule:
    name = "duplicate_ingredient"

    def check(self, ctx: AuditContext) -> Iterable[Finding]:
        sources: dict[str, list[tuple[str, Recommended | None, str]]] = {}   # ingredient -> (name, rec, stated)
        previous: Recommended | None = None
        recs = [r for r in ctx.recommended if not r.local]
        describing = _describing(ctx, recs)
        may_warn: bool | None = None    # whether the draft states a duplicate and advises one at all (once per draft)
        single: dict[str, list[Recommended]] = {}     # one-substance draft names by substance (_dosage_form_of)
        for rec in recs:
            if rec.origin == "draft" and len(rec.substances) == 1:
                single.setdefault(rec.substances[0], []).append(rec)
        for rec in recs:
            if id(rec) in describing:
                previous = rec     # 含有扑尔敏（马来酸氯苯那敏）: the name again in brackets describes it too (round 16)
                continue

            if previous is not None and rec.origin == "draft" and previous.origin == "draft" and \
                    SAME_ITEM.match(ctx.draft[previous.mention.end:rec.mention.start]) and \
                    set(rec.substances) & set(previous.substances):
                previous = rec
                continue       # 布洛芬（芬必得）: one recommendation named twice
            previous = rec
            if rec.origin == "draft" and rec.mention.kind == "product" and _restates(ctx, rec, recs, describing):
                continue
            # 阿奇霉素片，每次0.5g。…阿奇霉素不是青霉素类: the generic and its dosage form (a one-ingredient product named
            # the generic plus a form) are one medicine named twice, unless the second is added on top (round 15)
            if rec.origin == "draft" and len(rec.substances) == 1 and \
                    any(_dosage_form_of(ctx, other, rec) for other in single.get(rec.substances[0], ())
                        if other is not rec and id(other) not in describing and other.mention.start < rec.mention.start) and \
                    not ADDED.search(ctx.draft[max(0, rec.mention.start - 6):rec.mention.start]):
                continue
            # 铁剂会减少左旋多巴吸收 for a patient on 美多芭 (多巴丝肼): an ingredient of the patient's own compound
            # medicine named by its generic with no amount of its own, nothing added, is that medicine explained (a
            # brand of the ingredient, 百服宁 for a patient on 感冒灵, is a second box: round 15)
            if rec.origin == "draft" and rec.mention.kind == "drug" and len(rec.substances) == 1 and \
                    rec.mention.text.strip() == rec.substances[0] and \
                    any(len(subs) > 1 and rec.substances[0] in subs for _, _, subs in ctx.medication_substances()) and \
                    not ADDED.search(ctx.draft[max(0, rec.mention.start - 6):rec.mention.start]) and \
                    not OWN_DOSE.search(rec.dose_text) and not TAKEN_WITH.search(_clause(ctx.draft, rec)):
                continue
            for ingredient in rec.substances:
                entries = sources.setdefault(ingredient, [])
                # 快克和感康: two brands of one formula, named as two boxes, are two sources; a product named again
                # by a shorter form of its name (999感冒灵颗粒 … 感冒灵) is the same box
                if all(name != rec.name or (other is not None and other.mention.kind == rec.mention.kind == "product"
                                            and other.origin == rec.origin == "draft" and other.display != rec.display
                                            and other.display not in rec.display and rec.display not in other.display
                                            or _two_brands(ctx.draft, other, rec) or _added_brand(ctx.draft, other, rec))
                       for name, other, _ in entries):
                    entries.append((rec.name, rec, rec.display if rec.mention.kind == "product" else rec.name))
        for stated, canonical, substances in ctx.medication_substances():
            for ingredient in substances:
                entries = sources.get(ingredient)
                # the patient's single-ingredient medicine named again by its generic (芬必得 → 继续吃布洛芬) is the
                # same medicine continued, not a second source
                continued = len(substances) == 1 and any(
                    rec is not None and rec.substances == [ingredient] and _continues(ctx.draft, rec)
                    for _, rec, _ in entries or ())
                # 再加酒石酸美托洛尔片 for a patient on 倍他乐克缓释片: the same ingredient added on top is a second source
                # (every mention of the ingredient counts: 亚莫利是原研药…在格列美脲基础上加用亚莫利 adds the brand named
                # first, whose entry stands for both)
                added = bool(entries) and any(
                    rec.origin == "draft" and ingredient in rec.substances and
                    ADDED.search(ctx.draft[max(0, rec.mention.start - 6):rec.mention.start]) for rec in recs)
                # 硝苯地平缓释片…和拜新同一起吃 for a patient on 拜新同: a product taken together with the patient's
                # medicine of the same ingredient, named by another word, is a second source
                together = bool(stated) and bool(re.search(
                    rf"(?:和|与|跟|加上|配合)\s*(?:您的|你的|原来的|正在吃的)?\s*{re.escape(stated)}\s*(?:一起|同时|合用|联用|同服|搭配)",
                    ctx.draft)) and any(rec is not None and rec.origin == "draft" and rec.mention.text != stated
                                        for _, rec, _ in entries or ())
                # 安博诺里的氢氯噻嗪会升高尿酸…换成不含利尿剂的方案，比如单用厄贝沙坦 / 把X换成Y: the patient's medicine the
                # draft replaces (named as replaced, or warned about) is no second source of what replaces it
                swapped = any(rec is not None and (canonical in replaced(ctx, rec) or switched_to(ctx, rec) and
                                                   canonical in {m.canonical for m in ctx.warned})
                              for _, rec, _ in entries or ())
                # 停掉维C银翘片，单独吃对乙酰氨基酚: the product the draft stops is no second source
                if entries and not continued and not swapped and not stopped(ctx, canonical) and \
                        (added or together or all(name != canonical for name, _, _ in entries)):
                    entries.append((canonical, None, stated))
        for ingredient, entries in sources.items():
            if len(entries) < 2 or ingredient in ctx.lexicon.classes or not any(e[1] for e in entries):
                continue
            limits = [r for r in dosing_rows(ctx, ingredient) if r.max_mg_day is not None and
                      ctx.population(r.population) is not None]
            limit_row = min(limits, key=lambda r: r.max_mg_day) if limits else None
            total = 0.0
            known = True
            for _, rec, _ in entries:
                if rec is None:
                    known = False
                    continue
                text = own_dose_text(rec.dose_text, rec, ingredient, ctx.lexicon)
                dose = read_dose(text, strength_of(ctx.lexicon, rec, ingredient, text))
                if dose.per_day_mg is None:
                    known = False
                else:
                    total += dose.per_day_mg
            drafted = [rec for _, rec, _ in entries if rec is not None and rec.origin == "draft"]
            if len(drafted) == len(entries) == 2 and ALTERNATIVE.search(
                    ctx.draft[min(r.mention.end for r in drafted):max(r.mention.start for r in drafted)]):
                continue
            if len(entries) == 2 and may_warn is None:
                may_warn = bool(ONE_OF.search(ctx.draft)) and bool(DUPLICATE_STATED.search(ctx.draft))
            if len(entries) == 2 and may_warn and _draft_warns_duplicate(ctx, entries):
                continue
            first = next(rec for _, rec, _ in entries if rec is not None)
            names = "、".join(stated for _, _, stated in entries)
            over = limit_row is not None and total > limit_row.max_mg_day  # type: ignore[operator]
            block = limit_row is not None and (over or not known or True)
            dose_words = f"，合计约{total:g}mg/日，超过每日最大剂量{limit_row.max_mg_day:g}mg" if over and limit_row \
                else ""
            fact = "medication:" + next((s for _, r, s in entries if r is None), "") if any(
                r is None for _, r, _ in entries) else f"draft:{names}"
            yield finding(ctx, first, ingredient, self.name, fact,
                          ctx.source("medication", next((s for _, r, s in entries if r is None), "")),
                          f"{names}都含有{ingredient}，同时使用会重复用药{dose_words}。", limit_row, block=block,
                          indicator="critical" if block else "warning")


# the draft states the duplicate itself and tells the patient to take one of the two (A和B都含有X，叠加容易过量。选一种
# 就行 / 再吃B会重复用药…两种选一种 / 不建议一起吃。…会重复用药): a warning against the pair, not the pair advised (round 17);
# a draft that allows the two together (可以一起吃，注意别过量) still advises it
DUPLICATE_STATED = re.compile(r"重复用药|重复服用|重复服药|重复吃|重复|叠加|过量|超量|成分相同|成分一样|同一种成分|同样的成分")
ONE_OF = re.compile(r"(?:选|挑)(?:择)?(?:其中|它们中的|两者中的|二者中的)?(?:任意|任何)?(?:一种|一个|一样|其一)|二选一|任选其一|"
                    r"只(?:吃|用|服用|服|选)|"
                    r"(?:不|别|不要|不建议|不能|不宜|不可以|不应|最好不要|千万不要|避免)\s*(?:再)?\s*"
                    r"(?:一起|同时|合用|同服|联用|叠加|一块|重复)")
TOGETHER_ALLOWED = re.compile(r"(?<!不)(?:可以|能|可)\s*(?:一起|同时|合用|同服|联用|搭配)|"
                              r"一起(?:吃|用|服用)?\s*(?:没问题|没关系|不要紧|问题不大)")
SENTENCE_MARK = re.compile(r"[。；;！!？?\n]+")


def _draft_warns_duplicate(ctx: AuditContext, entries: list[tuple[str, Recommended | None, str]]) -> bool:
    """Whether a sentence of the draft names both sources with the duplicate stated (重复用药 / 叠加 / 过量) and that
    sentence or the one before or after it tells the patient to take one only (选一种 / 只吃 / 不建议一起吃), with nothing
    there allowing the two together."""
    draft = ctx.draft
    positions: list[set[int]] = []
    for name, rec, stated in entries:
        starts = {m.start for m in ctx.warned if m.canonical == name}
        starts |= {r.mention.start for r in ctx.recommended if r.origin == "draft" and r.name == name}
        for word in {stated, rec.mention.text if rec is not None else ""} - {""}:
            at = draft.find(word)
            while at >= 0:
                starts.add(at)
                at = draft.find(word, at + len(word))
        positions.append(starts)
    bounds = [0] + [m.end() for m in SENTENCE_MARK.finditer(draft)] + [len(draft)]
    sentences = [(low, high) for low, high in zip(bounds, bounds[1:]) if draft[low:high].strip()]
    for index, (low, high) in enumerate(sentences):
        if not all(any(low <= p < high for p in starts) for starts in positions) or \
                not DUPLICATE_STATED.search(draft, low, high):
            continue
        near = draft[sentences[max(0, index - 1)][0]:sentences[min(len(sentences) - 1, index + 1)][1]]
        if ONE_OF.search(near) and not TOGETHER_ALLOWED.search(near):
            return True
    return False


# an amount of its own (扶他林片25mg，每日3次 / 戴芬75mg，每日1次 / 早上吃一粒)
OWN_AMOUNT = re.compile(r"^[^，,、和及与或。；;！!？?\n]{0,6}?(?:\d+(?:\.\d+)?\s*(?:mg|g|毫克|克|片|粒)|[一两二三半]\s*(?:片|粒))")
TAKEN_TOGETHER_SAID = re.compile(r"(?<!不)(?<!不要)(?:一起|同时)(?:吃|服用|用)")


TAKEN_WITH = re.compile(r"一起|同时|同服|合用|联用|配合|搭配|加上|加用|再吃|再加|还可以|可以|建议|吃|服用")
OWN_DOSE = re.compile(r"\d\s*(?:mg|g|μg|毫克|克|微克|片|粒|丸|袋|包|支)|[一二两三四五六七八九十半]\s*(?:片|粒|丸|袋|包|支)")
BRACKETED = re.compile(r"^\s*[（(][^）)]{0,30}[）)]")


PER_KG_BASIS = re.compile(r"[^，,。；;！!？?\n]{0,8}?\d+(?:\.\d+)?\s*(?:[-~～到至]\s*\d+(?:\.\d+)?\s*)?"
                          r"(?:mg|毫克)\s*/\s*(?:kg|公斤|千克)")


def _dosage_form_of(ctx: AuditContext, one: Recommended, other: Recommended) -> bool:
    """Whether two draft names are a generic and a one-ingredient product named as that generic plus its form
    (阿奇霉素 / 阿奇霉素片)."""
    if not (one.origin == other.origin == "draft") or one.substances != other.substances or len(one.substances) != 1:
        return False
    generic = one.substances[0]
    names = {one.mention.text.strip(), other.mention.text.strip()}
    if generic not in names:
        return False
    if all(name.startswith(generic) for name in names):
        return True
    low, high = sorted((one.mention, other.mention), key=lambda m: m.start)
    between = ctx.draft[low.end:high.start]
    if _two_brands(ctx.draft, one, other):
        return False     # 哈乐早上吃一粒，坦索罗辛晚上吃一粒, taken together: two boxes (round 18)
    # 布洛芬每次5～10mg/kg … 美林（20mg/ml）每次5～7ml: a generic given as a per-kilogram basis and a one-ingredient
    # product of it measured out from that basis are one medicine, nothing added between (round 19)
    basis = low if low.text.strip() == generic else high if high.text.strip() == generic else None
    if basis is not None and PER_KG_BASIS.match(ctx.draft, basis.end) and \
            not TOGETHER.search(between) and not ADDED.search(ctx.draft[max(0, high.start - 6):high.start]):
        return True
    # 布洛芬进入乳汁很少…。芬必得（布洛芬缓释胶囊）0.3g: a brand the draft identifies as the generic it discussed before
    # (the generic in brackets right after it), the generic given no amount of its own: one medicine (round 19)
    earlier = one if one.mention is low else other
    if low.text.strip() == generic and re.match(rf"\s*[（(]\s*{re.escape(generic)}", ctx.draft[high.end:high.end + 24]) \
            and not _own_amount(ctx.draft, earlier) and not TOGETHER.search(between) and \
            not ADDED.search(ctx.draft[max(0, high.start - 6):high.start]):
        return True
    return not any(mark in between for mark in "。；;！!？?\n") and not TOGETHER.search(between)


def _restates(ctx: AuditContext, rec: Recommended, recs: list[Recommended], describing: set[int]) -> bool:
    """Whether a product restates advice its ingredients were already given by (every ingredient named by an earlier
    draft name), with a restating word in its sentence and nothing adding it on top."""
    draft = ctx.draft
    low, high = span_start(draft, rec.mention.start), span_end(draft, rec.mention.end)
    if not RESTATED.search(draft, low, high) or ADDED.search(draft, max(0, rec.mention.start - 6), rec.mention.start):
        return False
    earlier = [r for r in recs if r is not rec and r.origin == "draft" and r.mention.end <= rec.mention.start and
               id(r) not in describing]
    if not rec.substances or not all(any(s in r.substances for r in earlier) for s in rec.substances):
        return False
    last = max((r for r in earlier if set(r.substances) & set(rec.substances)), key=lambda r: r.mention.end)
    return not TOGETHER.search(draft, last.mention.end, rec.mention.start)


def _two_brands(draft: str, other: Recommended | None, rec: Recommended) -> bool:
    """Two names of one drug written as two medicines, each with its own amount (扶他林片25mg… / 戴芬（…）75mg…): two
    boxes, two sources (the drug named again in brackets is one: SAME_ITEM)."""
    if other is None or not (other.mention.kind == rec.mention.kind == "drug" and other.origin == rec.origin == "draft"):
        return False
    a, b = other.mention.text.strip(), rec.mention.text.strip()
    # in two sentences or list items (A（比如B）0.5g / A（B）18mg: one medicine named twice in one place)
    low, high = sorted((other.mention, rec.mention), key=lambda m: m.start)
    # (哈乐早上吃一粒，坦索罗辛晚上吃一粒 after 一起吃: two names each dosed in a draft that takes them together, round 18)
    apart = any(mark in draft[low.end:high.start] for mark in "。；;\n") or \
        bool(TAKEN_TOGETHER_SAID.search(draft, span_start(draft, span_start(draft, low.start) - 1), span_end(draft, high.end)))
    return a != b and a not in b and b not in a and apart and _own_amount(draft, other) and _own_amount(draft, rec)


def _added_brand(draft: str, other: Recommended | None, rec: Recommended) -> bool:
    """A second name of the same drug added on top of the first (喝Benadryl咳嗽水，再加一粒Nytol): two boxes."""
    if other is None or not (other.origin == rec.origin == "draft") or other.mention.start >= rec.mention.start:
        return False
    a, b = other.mention.text.strip(), rec.mention.text.strip()
    return a != b and a not in b and b not in a and \
        bool(ADDED.search(draft[max(0, rec.mention.start - 8):rec.mention.start]))


def _own_amount(draft: str, rec: Recommended) -> bool:
    after = draft[rec.mention.end:rec.mention.end + 60]
    return bool(OWN_AMOUNT.match(BRACKETED.sub("", after, count=1)))


def _clause(draft: str, rec: Recommended) -> str:
    start = max(draft.rfind(p, 0, rec.mention.start) for p in "，,。；;！!？?\n") + 1
    ends = [i for i in (draft.find(p, rec.mention.end) for p in "，,。；;！!？?\n") if i >= 0]
    return draft[start:min(ends) if ends else len(draft)]


def _continues(draft: str, rec: Recommended) -> bool:
    """The draft says to go on with it (继续吃布洛芬): the clause around the mention holds a continuation word."""
    start = max(draft.rfind(p, 0, rec.mention.start) for p in "，,。；;！!？?\n") + 1
    ends = [i for i in (draft.find(p, rec.mention.end) for p in "，,。；;！!？?\n") if i >= 0]
    return bool(CONTINUE.search(draft[start:min(ends) if ends else len(draft)]))


def _describing(ctx: AuditContext, recs: list[Recommended]) -> set[int]:
    """Bare substances the draft names to describe a recommended product that contains them (its ingredients, or
    the basis of its dose), in the product's sentence."""
    draft = ctx.draft
    products = [r for r in recs if r.origin == "draft" and r.mention.kind == "product"]
    found: set[int] = set()
    if not products:
        return found     # every reading below describes a product the draft names
    for rec in recs:
        if rec.origin != "draft" or rec.mention.kind == "product" or len(rec.substances) != 1:
            continue
        lead = draft[max(0, rec.mention.start - 24):rec.mention.start]
        if not (DESCRIBES_PRODUCT.search(lead) or DESCRIBES_LIST.search(lead)):
            low, high = span_start(draft, rec.mention.start), span_end(draft, rec.mention.end)
            if INTAKE_TARGET.search(draft, low, high) and any(
                    low <= p.mention.start < rec.mention.start and rec.substances[0] in p.substances for p in products):
                found.add(id(rec))     # the intake target the product named before it counts toward
            continue
        low, high = span_start(draft, rec.mention.start), span_end(draft, rec.mention.end)
        if any(low <= p.mention.start < high and rec.substances[0] in p.substances for p in products):
            found.add(id(rec))
            continue
        # 快克每次1粒…。需要注意，它已经含有对乙酰氨基酚和扑尔敏: an anaphor before 含有 names the last product before it,
        # in this sentence or the one before (round 17)
        clause = span_start(draft, rec.mention.start, CLAUSE_MARKS)
        if ANAPHOR_CONTENT.search(draft, clause, rec.mention.start):
            earlier = span_start(draft, max(0, low - 1))
            before = [p for p in products if earlier <= p.mention.start < rec.mention.start]
            if before and rec.substances[0] in before[-1].substances:
                found.add(id(rec))
    return found

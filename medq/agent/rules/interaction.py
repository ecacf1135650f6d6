"""Interactions between a recommended drug and the patient's current medicines, in either direction, by substance
or class (布洛芬 + 抗凝药 ∋ 华法林). Continuing a medicine the patient already takes is not an interaction."""

from __future__ import annotations

import dataclasses
import functools
import re
from typing import Iterable, Sequence

from medq.agent.knowledge import Lexicon, Rule
from medq.agent.rules.base import AuditContext, Finding, finding, shown
from medq.agent.text import CLAUSE_MARKS, span_end, span_start


# the draft switches the patient to this drug (可以改用…/换成…): the current medicine of its class is replaced
SWITCH_TO = re.compile(r"(?:改用|换用|换成|改成|改为|换为|替换为|替换成|改吃|换吃)\s*(?:了)?\s*$")


# 换成不含利尿剂的方案，比如单用厄贝沙坦: the switch names the kind; the drug is its example, in the next clause
SWITCH_EXAMPLE = re.compile(r"(?:改用|换用|换成|改成|改为|换为|替换为|替换成|改吃|换吃)[^。；;！!？?\n]{0,16}[，,]\s*"
                            # (…换成可以掰开的降压药，比如某些长效氨氯地平片, round 19)
                            r"(?:比如|例如|如|像)\s*(?:某些|一些|有的|部分)?\s*(?:长效|短效|普通)?\s*(?:的)?\s*"
                            r"(?:单用|单独用|用|选|吃)?\s*$")
# 把卡托普利换成缬沙坦: the medicine named between 把/将 and the switch is the one replaced
REPLACED = re.compile(r"(?:把|将)([^，,。；;！!？?\n]{1,16}?)(?:\*\*)?\s*(?:改用|换用|换成|改成|改为|换为|替换为|替换成)"
                      r"(?:\*\*)?\s*$")


KEEP_ON = re.compile(r"照常|继续|坚持|按原|照旧|不要停|别停|不能停|维持|同时|一起")


def _advised(draft: str, rec) -> bool:
    """Whether the clause of the mention advises it (可以/建议…, a dose, or going on with it: 照常吃 / 继续吃)."""
    from medq.agent.scope import affirmed

    clause = draft[span_start(draft, rec.mention.start, CLAUSE_MARKS):span_end(draft, rec.mention.end, CLAUSE_MARKS)]
    return bool(KEEP_ON.search(clause)) or affirmed(draft, rec.mention.start, rec.mention.end)


def switched_to(ctx: AuditContext, rec) -> bool:
    """Whether the draft switches the patient to this drug (改用X / 换成…方案，比如单用X)."""
    if rec.origin != "draft":
        return False
    before = ctx.draft[max(0, rec.mention.start - 40):rec.mention.start]
    return bool(SWITCH_TO.search(before[-6:]) or SWITCH_EXAMPLE.search(before))


def replaced(ctx: AuditContext, rec) -> set[str]:
    """The medicines the draft names as replaced by this drug (把卡托普利换成缬沙坦 → 卡托普利), by canonical name."""
    if rec.origin != "draft":
        return set()
    found = REPLACED.search(ctx.draft[max(0, rec.mention.start - 30):rec.mention.start])
    if not found:
        return set()
    return {m.canonical for m in ctx.lexicon.find_mentions(found.group(1), ("drug", "product", "class"))}


# an interaction by absorption (钙片 and 左甲状腺素, 铁剂 and 喹诺酮) is managed by spacing the doses: a draft that has
# them taken together at once, and says nothing of spacing, gives the harm itself
TOGETHER_AT_ONCE = re.compile(r"(?:一起|同时|一块|一同|同一时间)\s*(?:吃|服|服用|用|喝)|同服|一起(?:早上|晚上|睡前|饭前|饭后|空腹)")
SPACED = re.compile(r"间隔|隔开|错开|分开|相隔|前后|之后再|以后再|后再吃|后再服|不同时间|分别在")


def taken_together(ctx: AuditContext, rec, row: Rule) -> bool:
    """A caution row on absorption, for a drug the draft has taken at once with the other (钙片和优甲乐早上一起吃)."""
    if "吸收" not in (row.effect or "") or rec.origin != "draft" or SPACED.search(ctx.draft):
        return False
    return bool(TOGETHER_AT_ONCE.search(ctx.draft[span_start(ctx.draft, rec.mention.start):
                                                 span_end(ctx.draft, rec.mention.end)]))


# a pair whose sources manage it by spacing the doses (喹诺酮 + 钙剂/抗酸药: 间隔至少2小时; 左甲状腺素 + 钙剂: 间隔4小时;
# 曲普坦 after 麦角胺: 间隔24小时), and a draft that spaces them: a number of hours, 错开服用, 前2小时或后6小时 (round 19)
SPACING_ROW = re.compile(r"间隔|错开|分开服")
SPACING_DRAFT = re.compile(r"(?:间隔|隔开|相隔|错开|分开|隔)\s*(?:服用|服|吃|用药)?\s*(?:至少|最少|起码|最好|大约|约)?\s*"
                           r"[\d一二两三四五六七八半]+\s*(?:个)?\s*(?:多)?\s*(?:小时|h|天)|错开(?:服用|吃|时间|服|用)|"
                           r"[前后]\s*[\d一二两三四五六]+\s*(?:个)?\s*小时")


def spacing_managed(ctx: AuditContext, rows: Sequence[Rule]) -> bool:
    """Whether a pair that one of its rows manages by spacing the two doses is spaced by the draft: the draft follows
    the source's management, so a row that would block the pair taken together is a caution here. A draft that has
    them taken at once (一起吃) is read by taken_together, not here."""
    if not SPACING_DRAFT.search(ctx.draft) or TOGETHER_AT_ONCE.search(ctx.draft):
        return False
    return any(SPACING_ROW.search(row.management or "") for row in rows)


# 吃克拉霉素这7天先暂停辛伐他汀: the patient's medicine the draft holds while the new one is taken is not taken with it
HOLD = re.compile(r"暂停|先停|停用|停掉|停服|停一停|停药|先不吃|先不要吃|先别吃|"
                  r"(?:不需要|不用|不必|无需)\s*(?:再)\s*(?:额外|单独|另外)?\s*(?:吃|服|服用|用)|"   # 不需要再额外吃X (round 19)
                  r"不再\s*(?:吃|喝|服|服用|用)")   # 只吃必理通，不再喝感冒灵 (round 20)
RESUME = re.compile(r"恢复|再吃|再服|再用|重新(?:吃|服|用|开始)|继续吃|接着吃")
HOLD_NEGATED = re.compile(r"(?:不要|别|不能|不用|不必|无需|不需要|不可)\s*(?:自己|自行|擅自|随便|突然)?\s*(?:暂停|停)")


def held_off(ctx: AuditContext, canonical: str) -> bool:
    """Whether the draft holds the patient's medicine (its name and a stop in one clause, the stop not negated)."""
    if not ctx.warned or not HOLD.search(ctx.draft):
        return False     # the usual draft: decided without a scan
    lex = ctx.lexicon
    for m in ctx.warned:
        if m.canonical != canonical and not (set(lex.ingredients(m.canonical)) & set(lex.ingredients(canonical))):
            continue
        clause = ctx.draft[span_start(ctx.draft, m.start, CLAUSE_MARKS):span_end(ctx.draft, m.end, CLAUSE_MARKS)]
        # a hold for the new drug's course, resumed after it (…疗程结束后再恢复): the management the references give;
        # a stop with no return (华法林先停几天) is no such hold and the interaction is still read
        if HOLD.search(clause) and not HOLD_NEGATED.search(clause) and RESUME.search(ctx.draft, m.end):
            return True
    return False


# 不要只依赖优思明 / 别单靠避孕药: the patient's medicine kept, but not relied on alone
NOT_ONLY = re.compile(r"(?:不要|别|不能|不可|不宜|切勿|千万别)\s*(?:只|单|仅|光)\s*(?:依赖|依靠|靠|用|吃)\s*(?:\*\*)?\s*$")
# the label manages the interaction by a second method or a change of method (加用屏障避孕或换方法)
BACKUP_ROW = re.compile(r"加用|换方法|换用|改用|额外|屏障")
# the draft gives that method: 改用铜IUD / 额外避孕 / 同时用避孕套 / 加用屏障避孕
BACKUP_DRAFT = re.compile(r"(?:改用|换用|换成|加用|同时用|同时使用|额外|另外加用|配合)[^。；;！!？?\n]{0,16}?"
                          r"(?:避孕|IUD|iud|宫内节育器|节育环|避孕套|安全套|屏障)")


def backed_up(ctx: AuditContext, canonical: str, row: Rule) -> bool:
    """Whether the draft follows a row whose management is a second or another method (加用屏障避孕或换方法): it gives
    such a method and names the patient's medicine only as not to be relied on alone (不要只依赖优思明)."""
    if not BACKUP_ROW.search(row.management or "") or not BACKUP_DRAFT.search(ctx.draft):
        return False
    lex = ctx.lexicon
    return any(NOT_ONLY.search(ctx.draft[max(0, m.start - 10):m.start]) for m in ctx.warned
               if m.canonical == canonical or set(lex.ingredients(m.canonical)) & set(lex.ingredients(canonical)))


def stopped(ctx: AuditContext, canonical: str) -> bool:
    """Whether the draft tells the patient to stop this medicine (停掉维C银翘片 / X先停用): its name, warned, in a clause
    with a stop that is not negated. For the duplicate rule only: an interaction can outlast a stop (华法林先停掉)."""
    if not ctx.warned or not HOLD.search(ctx.draft):
        return False
    for m in ctx.warned:
        if m.canonical != canonical:
            continue
        clause = ctx.draft[span_start(ctx.draft, m.start, CLAUSE_MARKS):span_end(ctx.draft, m.end, CLAUSE_MARKS)]
        if HOLD.search(clause) and not HOLD_NEGATED.search(clause):
            return True
    return False


# classes named for a shared effect or risk, not for a use: two drugs in one of them are not one therapy (换成曲马多
# for a patient on 舍曲林 adds a serotonergic drug, it replaces nothing)
EFFECT_CLASSES = ("5-羟色胺能药物", "可致QT间期延长药物", "可致双硫仑样反应药物", "中枢抑制药", "抗胆碱能药物")


def _family(ctx: AuditContext, substance: str) -> set[str]:
    """A drug's classes without the organ-system groups (心血管系统用药 joins too much) and the effect classes."""
    return {c for c in ctx.lexicon.classes_of(substance) if not c.endswith("系统用药") and c != "抗感染药" and
            c not in EFFECT_CLASSES}


def one_drug(ctx: AuditContext, a: str, b: str) -> bool:
    """A class and one of its own members (他汀类 and 辛伐他汀, ARB and 厄贝沙坦): one drug named twice, by its class
    and by its name, not two drugs — a 'two of this class' row does not apply between them."""
    lex = ctx.lexicon
    return (a in lex.classes and a in lex.classes_of(b)) or (b in lex.classes and b in lex.classes_of(a)) or \
        _component(lex, a, b) or _component(lex, b, a)


def _component(lex, whole: str, part: str) -> bool:
    """布地奈德福莫特罗 and 福莫特罗: a combination named by its ingredients and one of them (信必可（布地奈德/福莫特罗）),
    the rest of its name another substance (左氨氯地平 is no combination of 氨氯地平) (round 19)."""
    return len(part) >= 2 and len(whole) > len(part) and part in whole and whole.replace(part, "", 1) in lex.substances


def interacting_rows(ctx: AuditContext, ours: str, theirs: str) -> list[Rule]:
    """Interaction rows between two substances (or classes), either one as subject."""
    return list(_interacting_rows(ctx.lexicon, ours, theirs))


@functools.lru_cache(maxsize=65536)
def _interacting_rows(lex: Lexicon, ours: str, theirs: str) -> tuple[Rule, ...]:
    """A pure function of the knowledge: memoised per lexicon, like the per-drug topic index (a pair a draft names
    is looked up once, not once per rule and per mention)."""
    theirs_names = lex.names_of(theirs)
    rows = {row for a in lex.names_of(ours) if a in lex.interaction_partners
            for b in lex.interaction_partners[a] & theirs_names for row in lex.interaction_pairs[(a, b)]}
    return tuple(sorted(rows, key=lambda r: (not r.blocks, r.id))) if rows else ()


# a row whose management is a change of dose (拉莫三嗪剂量减半，缓慢加量 with 丙戊酸钠): a draft that gives such a change
# follows the management the source gives, and the pair is a caution, not a pair to avoid
DOSE_ROW = re.compile(r"减量|减半|减少剂量|降低剂量|小剂量|低剂量|缓慢加量|慢加|缓慢滴定|缓慢增量")
DOSE_DRAFT = re.compile(r"减量|减半|减少剂量|降低剂量|剂量减|量减|小剂量|低剂量|慢加|缓慢加|慢慢加|缓慢增|缓慢滴定|"
                        r"加量要慢|加量更慢|加得慢|剂量要低|起始剂量(?:要|更)?(?:低|小)")


DOSE_NOT = re.compile(r"(?:不用|不必|无需|不需要|不需|没必要|别|不要|不能|不可)\s*(?:再)?\s*$")


# 按原剂量继续 / 剂量不用变 / 不用减量: the draft keeps the dose a caution's management changes
DOSE_KEPT = re.compile(r"按原(?:来的)?剂量|原剂量|照原量|剂量(?:不用|不必|无需|不需要)?(?:变|改|调整|调)|剂量照旧|剂量不变|"
                       r"(?:不用|不必|无需|不需要|没必要)\s*(?:减量|减少剂量|调整剂量|调剂量|减药|调量)")


def _adjusted_in_draft(ctx: AuditContext, adjusted: str, pattern: re.Pattern[str] = DOSE_DRAFT,
                       unnamed: bool = False) -> bool:
    """Whether the draft changes (or, with DOSE_KEPT, keeps) the dose of this drug: a match whose nearest name before
    it in its sentence (or, with none, the first after it in its clause) is the drug, and that no 不用/不必 negates;
    `unnamed` also accepts a match with no name around it (两药可以一起吃，按原剂量继续)."""
    lex = ctx.lexicon
    mentions = [m for m in lex.find_mentions(ctx.draft, ("drug", "product", "class"))]

    def is_adjusted(name: str) -> bool:
        return name == adjusted or any(adjusted == s or adjusted in ctx.names(s) for s in lex.ingredients(name))

    for hit in pattern.finditer(ctx.draft):
        if pattern is DOSE_DRAFT and DOSE_NOT.search(ctx.draft[max(0, hit.start() - 6):hit.start()]):
            continue
        low = span_start(ctx.draft, hit.start())
        before = [m for m in mentions if low <= m.start and m.end <= hit.start()]
        if before:
            if is_adjusted(before[-1].canonical):
                return True
            continue
        clause_end = span_end(ctx.draft, hit.end(), CLAUSE_MARKS)
        after = [m for m in mentions if hit.end() <= m.start < clause_end]
        if after and is_adjusted(after[0].canonical) or unnamed and not after:
            return True
    return False


def dose_kept(ctx: AuditContext, row: Rule) -> bool:
    """A caution managed by a change of the dose of one of the two (茶碱减量并监测血药浓度), where the draft keeps that
    drug's dose (两药可以一起吃，按原剂量继续 / 茶碱剂量不用变): the draft refuses the management."""
    management = row.management or ""
    if row.blocks or not DOSE_ROW.search(management) or not DOSE_KEPT.search(ctx.draft):
        return False
    named = sorted((management.find(name), name) for name in (row.subject, row.interactant)
                   if name and name in management)
    adjusted = named[0][1] if named else ""
    if not adjusted:
        # 茶碱减量 for the row 氨茶碱 + 红霉素: the management names the drug by the part of its name it shares
        adjusted = next((name for name in (row.subject, row.interactant)
                         if name and any(name.endswith(part) and part in management
                                         for part in (name[1:], name[2:]) if len(part) >= 2)), "")
    return bool(adjusted) and _adjusted_in_draft(ctx, adjusted, DOSE_KEPT, unnamed=True)


def dose_managed(ctx: AuditContext, rows: list[Rule]) -> Rule | None:
    """The row of a pair whose management is a change of the dose of one of the two (拉莫三嗪剂量减半，缓慢加量), in place
    of a row that blocks the pair, where the draft gives that change to that drug; None otherwise (a management that
    names neither drug, 减量并监测浓度, says not whose dose: the blocking row stands)."""
    if not rows or not rows[0].blocks or not DOSE_DRAFT.search(ctx.draft):
        return None
    for row in rows:
        management = row.management or ""
        if row.blocks or not DOSE_ROW.search(management):
            continue
        named = sorted((management.find(name), name) for name in (row.subject, row.interactant)
                       if name and name in management)
        if named and _adjusted_in_draft(ctx, named[0][1]):
            return row
    return None


# a caution whose management is monitoring (监测INR / 监测血药浓度), and a draft that tells the patient to skip it (不用管
# INR / 不必查血药浓度): the draft removes the management that made the pair a caution
# 两者没有明显冲突 / 和它没有相互作用，放心使用 / 一起吃不用调整: the draft denies the interaction a caution row states
DENIED = re.compile(r"(?:没有|没|无|并无|不存在)\s*(?:什么|明显|明确|太大|大的|显著|任何)?\s*(?:的)?\s*(?:相互作用|冲突)|"
                    r"(?<!会)不冲突|互不影响|不会相互影响|相互作用(?:很小|不大|可以忽略)|"
                    r"(?:一起|同时|合用|同服)\s*(?:吃|用|服用)?\s*(?:也)?\s*(?:不用|不必|无需|不需要)\s*(?:调整|调)|"
                    r"(?:一起|同时|合用|同服)\s*(?:吃|用|服用)?\s*(?:也|都)?\s*(?:没问题|没有问题|没事|没关系|不要紧)")


def interaction_denied(ctx: AuditContext, rec, row: Rule) -> bool:
    """A caution row (severity warning) for a drug the draft recommends, whose sentence says the two do not interact."""
    if row.blocks or row.severity == "info" or rec.origin != "draft" or not DENIED.search(ctx.draft):
        return False
    sentence = ctx.draft[span_start(ctx.draft, rec.mention.start):span_end(ctx.draft, rec.mention.end)]
    return any(not re.search(r"(?:不是|并非|不能说|不代表)\s*$", sentence[max(0, m.start() - 5):m.start()])
               for m in DENIED.finditer(sentence))


MONITOR_ROW = re.compile(r"监测|复查|检测")
SKIP_MONITORING = re.compile(r"(?:不用|不必|无需|不需要|不需|没必要|别|不要)\s*(?:再|去|特别|专门|刻意)?\s*"
                             r"(?:管|查|测|监测|复查|检测|抽血|看)\s*(?:一下)?\s*(?:INR|inr|凝血|血药浓度|浓度|血糖|血钾|肝功能|肾功能|心率)")


def monitoring_skipped(ctx: AuditContext, row: Rule) -> bool:
    """Whether the draft tells the patient to skip the monitoring a caution row's management gives."""
    return not row.blocks and bool(MONITOR_ROW.search(row.management or "")) and bool(SKIP_MONITORING.search(ctx.draft))


# the "triple whammy" (Lapi F et al., BMJ 2013;346:e8525; MHRA/NICE CKS NSAIDs): an NSAID added for a patient who
# already takes both a renin-angiotensin blocker and a diuretic raises the risk of acute kidney injury beyond either
# pair; each pair's row cautions, the three together are avoided (round 13)
NSAID = "非甾体抗炎药"
RAS_BLOCKERS = frozenset({"ACEI", "ARB", "ARNI"})
DIURETICS = "利尿剂"


def _triple_whammy(ctx: AuditContext) -> set[str]:
    """The stated medicines of a patient who takes a renin-angiotensin blocker and a diuretic (empty otherwise)."""
    ras, diuretic = set(), set()
    for stated, _, substances in ctx.medication_substances():
        classes = set().union(*(ctx.lexicon.classes_of(s) for s in substances)) if substances else set()
        if classes & RAS_BLOCKERS or set(substances) & RAS_BLOCKERS:
            ras.add(stated)
        if DIURETICS in classes or DIURETICS in substances:
            diuretic.add(stated)
    return ras | diuretic if ras and diuretic else set()


class InteractionRule:
    name = "interaction"

    def check(self, ctx: AuditContext) -> Iterable[Finding]:
        found = list(self._pairs(ctx))
        if len(found) < 2:
            yield from found
            return   # the usual audit: no NSAID with two cautions to weigh together
        nsaids = {rec.display for rec in ctx.recommended if not rec.local and any(
            s == NSAID or NSAID in ctx.lexicon.classes_of(s) for s in rec.substances)}
        whammy = _triple_whammy(ctx) if nsaids and sum(item.drug in nsaids for item in found) >= 2 else set()
        if whammy:
            for index, item in enumerate(found):
                if item.drug in nsaids and item.severity != "block" and item.patient_fact.partition(":")[2] in whammy:
                    reason = item.reason.rstrip("。") + "；患者同时在用ACEI/ARB和利尿剂，再加非甾体抗炎药（三联）易致急性肾损伤。"
                    card = dataclasses.replace(item.card, summary=reason[:140], indicator="critical") \
                        if item.card else None
                    found[index] = dataclasses.replace(item, severity="block", reason=reason, card=card)
        yield from found

    def _pairs(self, ctx: AuditContext) -> Iterable[Finding]:
        for rec in ctx.recommended:
            if rec.local:
                continue     # on the skin: no systemic interaction to speak of
            # 会减弱氯吡格雷的作用 for a patient whose record has it and aspirin: two medicines the record holds already
            # (a medicine the question or the draft adds is new, and is checked against every one)
            on_record = set(ctx.profile.medications)
            # only where the draft names it without advising it: 别嘌醇照常吃，每天300mg for a patient on 硫唑嘌呤 is
            # advice to go on taking the two together
            held = rec.origin == "draft" and any(stated in on_record and (canonical == rec.name or
                                                                          substances == rec.substances)
                                                 for stated, canonical, substances in ctx.medication_substances()) \
                and not _advised(ctx.draft, rec)
            switched = switched_to(ctx, rec)
            gone = replaced(ctx, rec)
            for ingredient in rec.substances:
                for stated, canonical, substances in ctx.medication_substances():
                    if canonical == rec.name or (len(substances) == 1 and substances[0] == ingredient):
                        continue   # the same medicine, continued (a duplicate across products: DuplicateRule)
                    if held and stated in on_record:
                        continue
                    if canonical in gone or held_off(ctx, canonical):
                        continue   # 把卡托普利换成缬沙坦: the medicine replaced is not taken with it
                    if switched and any(_family(ctx, ingredient) & _family(ctx, s) for s in substances):
                        continue   # 改用瑞舒伐他汀 for a patient on 阿托伐他汀: the new drug replaces the old one
                    for theirs in substances:
                        if one_drug(ctx, ingredient, theirs):
                            continue   # 不影响他汀代谢 for a patient on 辛伐他汀: their own drug's class, no new drug
                        rows = interacting_rows(ctx, ingredient, theirs)
                        if not rows:
                            continue
                        row = dose_managed(ctx, rows) or rows[0]
                        effect = f"（{row.effect}）" if row.effect and not row.effect.startswith("DDInter") else ""
                        together = not row.blocks and taken_together(ctx, rec, row)
                        denied = not together and interaction_denied(ctx, rec, row)
                        skipped = not together and (denied or monitoring_skipped(ctx, row) or dose_kept(ctx, row))
                        # 改用铜IUD，不要只依赖优思明: the draft gives the method the label manages it with
                        managed = row.blocks and (backed_up(ctx, canonical, row) or spacing_managed(ctx, rows))
                        yield finding(ctx, rec, ingredient, self.name, f"medication:{stated}",
                                      ctx.source("medication", stated),
                                      f"患者正在使用{stated}，与{shown(rec, ingredient)}存在"
                                      f"{'需要避免的' if row.blocks else '需注意的'}相互作用{effect}"
                                      f"{'，回答却让二者同时服用' if together else '，回答却说二者没有相互作用' if denied else '，回答却说不必监测或调整剂量' if skipped else ''}。", row,
                                      block=True if together or skipped else (False if managed else None),
                                      indicator="critical" if together or skipped else None)
                        break

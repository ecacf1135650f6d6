"""Drug lookup tool: what the lexicon knows about one drug, or about a pair (do they interact?).

`lookup_drug` is the typed function; `drug_lookup_tool(lexicon)` wraps it as a Haystack `Tool` (OpenAI tool-call
format) for the agent. An unknown name is an answer (`found: false` with a hint), not an exception, so a model
that misspells a drug gets something it can act on instead of a failed turn.
"""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from haystack.tools import Tool, create_tool_from_function

from medq.agent.knowledge import Lexicon

DESCRIPTION = ("查询药物知识库：单个药物的类别、禁忌证、孕期/哺乳期分级、最小年龄、最大日剂量和相互作用；"
               "给出两个药物时同时返回二者是否存在需避免的相互作用。支持通用名、商品名和复方制剂名（如芬必得、新康泰克）。")


class DrugInfo(TypedDict):
    name: str
    ingredients: list[str]
    classes: list[str]
    contraindicated_conditions: list[str]
    pregnancy: str
    lactation: str
    min_age_years: float | None
    max_daily_mg: float | None
    interacts_with: list[str]
    rules: list[str]          # the rules.csv rows behind this answer (ids), for the reviewer


class DrugLookupResult(TypedDict, total=False):
    found: bool
    query: list[str]
    drugs: list[DrugInfo]
    interaction: bool | None
    interaction_reasons: list[str]
    message: str


WORST = {"safe": 0, "caution": 1, "avoid": 2, "contraindicated": 3}


def _rows(lexicon: Lexicon, substance: str) -> list[Any]:
    names = {substance} | lexicon.classes_of(substance)
    return [r for n in sorted(names) for r in lexicon.rules_by_subject.get(n, ())]


def _info(lexicon: Lexicon, name: str) -> DrugInfo | None:
    found = lexicon.lookup(name)
    if found is None or found[0] not in ("drug", "product"):
        return None
    ingredients = lexicon.ingredients(name)
    rows = [r for g in ingredients for r in _rows(lexicon, g)]
    categories = {"pregnant": "safe", "lactating": "safe"}
    for row in rows:
        for term in row.population:
            key = "pregnant" if term.kind in ("pregnant", "trimester") else term.kind
            if key in categories and WORST[row.action if row.action != "reduce" else "caution"] > \
                    WORST[categories[key]]:
                categories[key] = row.action if row.action != "reduce" else "caution"
    ages = [float(t.value) for r in rows if r.kind == "contraindication" for t in r.population
            if t.kind == "age" and t.op in ("<", "<=")]
    daily = [r.max_mg_day for r in rows if r.kind == "dosing" and not r.population and r.max_mg_day is not None]
    return DrugInfo(
        name=found[1], ingredients=ingredients,
        classes=sorted({c for g in ingredients for c in lexicon.classes_of(g)}),
        contraindicated_conditions=sorted({t.value for r in rows if r.kind == "contraindication" and r.blocks
                                           for t in r.population if t.kind == "condition"}),
        # a combination product is as restricted as its most restricted ingredient
        pregnancy=categories["pregnant"], lactation=categories["lactating"],
        min_age_years=max(ages) if ages else None,
        max_daily_mg=min(daily) if daily and len(ingredients) == 1 else None,
        interacts_with=sorted({r.interactant for r in rows if r.kind == "interaction"}),
        rules=sorted({r.id for r in rows}))


def _interaction(lexicon: Lexicon, first: str, second: str) -> list[str]:
    reasons = []
    for a in lexicon.ingredients(first):
        for b in lexicon.ingredients(second):
            names_a = {a} | lexicon.classes_of(a)
            names_b = {b} | lexicon.classes_of(b)
            for mine, theirs, subject in ((names_a, names_b, a), (names_b, names_a, b)):
                for row in (r for n in sorted(mine) for r in lexicon.rules_by_subject.get(n, ())):
                    other = lexicon.interactant_of.get(row.id, row.interactant)
                    if row.kind == "interaction" and other in theirs:
                        effect = f"：{row.effect}" if row.effect else ""
                        reasons.append(f"{row.subject}与{row.interactant}相互作用（{subject}，{row.id}）{effect}")
    return sorted(set(reasons))


def lookup_drug(lexicon: Lexicon, drug: str, other_drug: str | None = None) -> DrugLookupResult:
    query = [drug] + ([other_drug] if other_drug else [])
    infos: list[DrugInfo] = []
    for name in query:
        info = _info(lexicon, name)
        if info is None:
            kind = lexicon.lookup(name)
            hint = f"“{name}”是{ {'class': '药物类别', 'condition': '疾病', 'substance': '非药物物质'}[kind[0]] }，请给出具体药名" \
                if kind else f"知识库中没有“{name}”，请使用通用名或常见商品名"
            return DrugLookupResult(found=False, query=query, drugs=infos, interaction=None,
                                    interaction_reasons=[], message=hint)
        infos.append(info)
    result = DrugLookupResult(found=True, query=query, drugs=infos, interaction=None, interaction_reasons=[],
                              message="")
    if other_drug:
        reasons = _interaction(lexicon, drug, other_drug)
        result["interaction"] = bool(reasons)
        result["interaction_reasons"] = reasons
        result["message"] = "存在需要避免的相互作用" if reasons else "知识库中未记录二者需要避免的相互作用"
    return result


def drug_lookup_tool(lexicon: Lexicon | None = None) -> Tool:
    """The lookup as a Haystack Tool the agent (or any OpenAI tool-calling model) can call."""
    lexicon = lexicon or Lexicon.load()

    def drug_lookup(drug: Annotated[str, "药物名称：通用名、商品名或复方制剂名"],
                    other_drug: Annotated[str | None, "可选：第二个药物，用于查询二者相互作用"] = None
                    ) -> dict[str, Any]:
        return dict(lookup_drug(lexicon, drug, other_drug))

    return create_tool_from_function(drug_lookup, name="drug_lookup", description=DESCRIPTION)

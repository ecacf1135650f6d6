"""Drug lookup tool: what the lexicon knows about one drug, or about a pair (do they interact?).

`lookup_drug` is the typed function; `drug_lookup_tool(lexicon)` wraps it as a Haystack `Tool` (OpenAI tool-call
format) for the agent. An unknown name is an answer (`found: false` with a hint), not an exception, so a model
that misspells a drug gets something it can act on instead of a failed turn.
"""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from haystack.tools import Tool, create_tool_from_function

from medq.agent.knowledge import Lexicon

DESCRIPTION = ("查询药物知识库：单个药物的类别、适应证、禁忌证、孕期/哺乳期分级、最小年龄、最大日剂量和相互作用；"
               "给出两个药物时同时返回二者是否存在需避免的相互作用。支持通用名、商品名和复方制剂名（如芬必得、新康泰克）。")


class DrugInfo(TypedDict):
    name: str
    ingredients: list[str]
    classes: list[str]
    indications: list[str]
    contraindicated_conditions: list[str]
    pregnancy: str
    lactation: str
    min_age_years: float | None
    max_daily_mg: float | None
    interacts_with: list[str]


class DrugLookupResult(TypedDict, total=False):
    found: bool
    query: list[str]
    drugs: list[DrugInfo]
    interaction: bool | None
    interaction_reasons: list[str]
    message: str


def _info(lexicon: Lexicon, name: str) -> DrugInfo | None:
    found = lexicon.lookup(name)
    if found is None or found[0] not in ("drug", "product"):
        return None
    ingredients = lexicon.ingredients(name)
    drugs = [lexicon.drugs[g] for g in ingredients]
    worst = {"safe": 0, "caution": 1, "avoid": 2, "contraindicated": 3}
    ages = [d.min_age_years for d in drugs if d.min_age_years is not None]
    single = drugs[0] if len(drugs) == 1 else None
    return DrugInfo(
        name=found[1], ingredients=ingredients,
        classes=sorted({c for d in drugs for c in d.classes}),
        indications=sorted({i for d in drugs for i in d.indications}),
        contraindicated_conditions=sorted({c for d in drugs for c in d.contraindicated_conditions}),
        # a combination product is as restricted as its most restricted ingredient
        pregnancy=max((d.pregnancy for d in drugs), key=worst.__getitem__),
        lactation=max((d.lactation for d in drugs), key=worst.__getitem__),
        min_age_years=max(ages) if ages else None,
        max_daily_mg=single.max_daily_mg if single else None,
        interacts_with=sorted({t for d in drugs for t in d.interacts_with}))


def _interaction(lexicon: Lexicon, first: str, second: str) -> list[str]:
    reasons = []
    for a in lexicon.ingredients(first):
        for b in lexicon.ingredients(second):
            names_a = {a} | lexicon.classes_of(a)
            names_b = {b} | lexicon.classes_of(b)
            listed_a = {lexicon.resolve_drug(t) or t for t in lexicon.drugs[a].interacts_with}
            listed_b = {lexicon.resolve_drug(t) or t for t in lexicon.drugs[b].interacts_with}
            if listed_a & names_b:
                reasons.append(f"{a}的相互作用列表包含{'、'.join(sorted(listed_a & names_b))}（{b}）")
            if listed_b & names_a:
                reasons.append(f"{b}的相互作用列表包含{'、'.join(sorted(listed_b & names_a))}（{a}）")
    return reasons


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

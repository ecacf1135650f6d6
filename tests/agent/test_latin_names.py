"""Drug names written in Latin letters inside Chinese text (Singapore / Malaysia / Hong Kong brands): case, trade marks,
a strength written straight after the name, hyphen/space joins, and the auditor and extractor reading them."""

from __future__ import annotations

from functools import lru_cache

import pytest

from medq.agent.auditor import ContraindicationAuditor
from medq.agent.extraction import RuleBasedExtractor
from medq.agent.facts import PatientProfile
from medq.agent.knowledge import Lexicon
from medq.agent.text import Matcher, latin_variants, normalise


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    return Lexicon.load()


def found(text: str) -> list[tuple[str, str]]:
    return [(m.text, m.canonical) for m in lexicon().find_mentions(text)]


@pytest.mark.parametrize("text, name, canonical", [
    ("睡前来一粒ZOLOFT就好", "ZOLOFT", "舍曲林"),                 # any case
    ("他说Zoloft50mg一天一粒", "Zoloft", "舍曲林"),                # a strength straight after the brand ends it
    ("每日服 Lanoxin 0.125mg", "Lanoxin", "地高辛"),
    ("药盒写着Cravit®500", "Cravit", "左氧氟沙星"),                # ® after the brand
    ("買了一支Nurofen™２００mg", "Nurofen", "布洛芬"),            # ™ and full-width digits together
    ("钾片是Slow K", "Slow K", "氯化钾"),                       # Slow-K written with a space
    ("钾片是slowk两粒", "slowk", "氯化钾"),                       # ... or with no join
])
def test_latin_brand_is_found_in_chinese_text(text, name, canonical):
    assert (name, canonical) in found(text)


@pytest.mark.parametrize("text", [
    "Zoloftx 是什么",          # a letter after the name makes another word
    "xZoloft",                # so does one before it
    "bactrimycin",            # a brand inside a longer Latin word
])
def test_latin_brand_inside_a_longer_word_is_no_mention(text):
    assert found(text) == []


def test_a_name_ending_in_a_digit_does_not_match_a_longer_number():
    matcher = Matcher({"vit b1": "B1", "co-dydramol": "CD"})
    assert [h.value for h in matcher.find("吃vit b1 一片")] == ["B1"]
    assert matcher.find("吃vit b12 一片") == []                   # b1 is not b12
    assert [h.value for h in matcher.find("co dydramol, codydramol")] == ["CD", "CD"]


def test_join_variants_need_a_latin_letter_and_keep_length_five():
    assert latin_variants("slow-k") == {"slow k", "slowk"}
    assert latin_variants("654-2") == set()                     # no 6542 from a Chinese drug's number
    assert latin_variants("a-b") == set()                       # ab: too short to be told from an abbreviation
    assert latin_variants("布洛芬") == set()


def test_trade_marks_keep_the_text_length_and_the_full_width_folding():
    text = "Ｎｕｒｏｆｅｎ™片"
    assert normalise(text) == "nurofen 片" and len(normalise(text)) == len(text)


@lru_cache(maxsize=1)
def auditor() -> ContraindicationAuditor:
    return ContraindicationAuditor(lexicon())


@pytest.mark.parametrize("draft, profile", [
    ("可以吃 Naprosyn500mg，一天两次。", {"allergies": ["阿司匹林"]}),        # NSAID cross-reactivity
    ("Septrin® 照常吃就行。", {"allergies": ["磺胺"]}),                      # the allergen itself, with ®
    ("可以先吃Clarinase，一天两粒。", {"conditions": ["前列腺增生"]}),        # the combination product's decongestant
])
def test_auditor_blocks_a_draft_naming_a_latin_brand(draft, profile):
    result = auditor().audit(draft, PatientProfile.from_case(profile, "case-msg"))
    assert result.blocked, result.findings


def test_extractor_records_a_latin_brand_the_patient_takes():
    facts = {(f.kind, f.value) for f in RuleBasedExtractor(lexicon()).extract("我每天早上吃Eltroxin 50mcg", "m1")}
    assert ("medication", "左甲状腺素") in facts


@pytest.mark.parametrize("text, canonical", [
    ("昨晚吃了两粒Nurofin", "布洛芬"),            # one letter substituted
    ("Zylorickk", None),                        # two edits: no match
    ("医生开了Seroquell 50mg", "喹硫平"),          # one letter inserted, strength after it
    ("Zolofft", None),                          # Zoloft has six letters: too short for a typo
    ("Lexarpo 每天一粒", "艾司西酞普兰"),          # neighbours swapped
    ("I concur with that", None),               # six letters: an English word is never a typo of Concor
    ("Xurofen", None),                          # the first letter is kept
])
def test_latin_brand_typos(text, canonical):
    typos = [m.canonical for m in lexicon().find_mentions(text) if m.fuzzy]
    assert typos == ([canonical] if canonical else [])


def test_profile_medication_written_with_a_latin_typo_resolves():
    assert lexicon().canonical("Cymbalat", ("drug", "product")) == "度洛西汀"
    assert lexicon().canonical("Cymbalta", ("drug", "product")) == "度洛西汀"


@pytest.mark.parametrize("brand, ingredients", [
    ("Yasmin", {"屈螺酮", "炔雌醇"}),          # a combined pill keeps its oestrogen
    ("Microgynon", {"左炔诺孕酮", "炔雌醇"}),
    ("Clarinase", {"氯雷他定", "伪麻黄碱"}),
    ("Panadol Extra", {"对乙酰氨基酚", "咖啡因"}),
    ("Mirena", {"左炔诺孕酮宫内缓释系统"}),     # the IUS, not the oral pill
    ("Claritin-D", {"氯雷他定", "伪麻黄碱"}),    # -D is the decongestant, not a join to drop
    ("Zyrtec D", {"西替利嗪", "伪麻黄碱"}),
    ("Nurofen Plus", {"布洛芬", "可待因"}),
])
def test_combination_brands_keep_every_ingredient(brand, ingredients):
    assert set(lexicon().ingredients(brand)) == ingredients

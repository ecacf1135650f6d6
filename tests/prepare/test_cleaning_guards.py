"""The quick "can this text change?" scans in cleaning and PII scrubbing never skip a text that the full rewrites
would change (they only decide when to skip work)."""

from __future__ import annotations

import random
import re
from collections import Counter

from medq.prepare.cleaning import PII_PATTERNS, CleaningRules, TextCleaner, scrub_pii

PIECES = ["头痛", "发烧三天", "。", "，", " ", "  ", "\n", "\n\n\n", "\r\n", "\t", "\xa0", "\u3000", "\u2009", "\u200b",
          "<p>", "</div>", "<br/>", "&amp;", "&lt;", "ＡＢＣ１２３", "（", "！", "２０２３", "35岁", "2023年",
          "13812345678", "138-1234-5678", "+86 13912345678", "010-12345678", "110101199003071234", "a.b@c.com",
          "@", "１３８１２３４５６７８", "٣٤٥٦"]


def _texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(PIECES) for _ in range(rng.randint(0, 8))) for _ in range(count)]


def test_cleaning_guard_skips_only_texts_the_rewrites_leave_alone():
    texts = _texts(3000, 1)
    for rules in (CleaningRules(), CleaningRules(full_width="all"), CleaningRules(full_width="none"),
                  CleaningRules(strip_html=False), CleaningRules(normalize_whitespace=False)):
        guarded, unguarded = TextCleaner(rules), TextCleaner(rules)
        unguarded._may_change = re.compile("")  # matches every text: always run the rewrites
        changed = 0
        for text in texts:
            expected = unguarded.clean(text)
            assert guarded.clean(text) == expected, (rules, text)
            changed += expected != text
        assert changed > 100  # the texts exercise the rewrites, not only the skip


def test_pii_guard_skips_only_texts_without_a_match():
    def reference(text: str, counts: Counter) -> str:
        for kind, pattern, placeholder in PII_PATTERNS:
            text, found = pattern.subn(placeholder, text)
            counts[kind] += found
        return text

    fast, slow = Counter(), Counter()
    for text in _texts(3000, 2):
        assert scrub_pii(text, fast) == reference(text, slow), text
    assert +fast == +slow and set(fast) == {"id_card", "phone", "email"}


def test_re2_guards_of_the_columnar_pass_flag_every_text_the_rewrites_change():
    # the columnar pass sends only the texts these RE2 scans flag through `clean` and `scrub_pii`
    import pyarrow as pa
    import pyarrow.compute as pc

    from medq.prepare.cleaning import MAY_MATCH_PII_RE2

    texts = _texts(3000, 3) + ["", " ", "头痛 ", "\u3000头痛", "头\n\n\n痛", "\x1c头痛", "头痛\x85", "٣٤٥٦@"]
    for rules in (CleaningRules(), CleaningRules(full_width="all"), CleaningRules(full_width="none"),
                  CleaningRules(strip_html=False), CleaningRules(normalize_whitespace=False)):
        cleaner = TextCleaner(rules)
        flagged = pc.match_substring_regex(pa.array(texts), cleaner.may_change_pattern()).to_pylist()
        changed = [cleaner.clean(t) != t for t in texts]
        assert all(f for f, c in zip(flagged, changed) if c), rules
        assert sum(changed) > 100 and sum(flagged) < len(texts)
    flagged = pc.match_substring_regex(pa.array(texts), MAY_MATCH_PII_RE2).to_pylist()
    changed = [scrub_pii(t, Counter()) != t for t in texts]
    assert all(f for f, c in zip(flagged, changed) if c) and sum(changed) > 100
    assert TextCleaner(CleaningRules(to_simplified=False, strip_html=False, normalize_whitespace=False,
                                     full_width="none")).may_change_pattern() == "$^"

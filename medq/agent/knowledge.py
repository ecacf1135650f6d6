"""The agent's knowledge base (schema v2, docs/agent.md "Knowledge base"): substances, aliases, classes, products,
conditions and rules, loaded from CSV files, validated row by row, every reference resolved.

Modelled on RxNorm's ingredient/product split (substances.csv = ingredients, products.csv = what is sold, with the
amount of each ingredient per unit or per ml) and on FHIR R5 ClinicalUseDefinition / dosingGuideline (rules.csv: one
clinical fact per row with a population predicate, an action, limits, a severity and its source). Every row that
bears a rule carries `reviewed_by`, empty in what ships: the shipped knowledge is a starting point that a hospital
pharmacist reviews before clinical use.

  substances.csv  name,inn,atc,classes,kind,source,reviewed_by
  aliases.csv     alias,target,alias_kind,source
  classes.csv     name,parents,allergy_group,cross_reactive_with,description,source
  products.csv    name,otc,form,ingredients,source,reviewed_by
  conditions.csv  name,synonyms,parents,source
  rules.csv       id,kind,subject,interactant,population,action,severity,max_mg_per_kg_dose,max_mg_per_kg_day,
                  max_mg_dose,max_mg_day,effect,management,source,reviewed_by

The shipped files (medq/agent/knowledge/) are always read; `agent.knowledge_dir` names a hospital's folder whose
files (any subset of the six, same columns) are laid over them: a row whose key (name / alias / rule id) exists
replaces the shipped row, any other row is added. References are resolved after the overlay, so a hospital's typo
fails with its file, row and column.

Command line:
  python -m medq.agent.knowledge validate [DIR]                  load the shipped knowledge (+ DIR) and report counts
  python -m medq.agent.knowledge import-ddinter CSV... --out DIR  DDInter interaction CSVs → DIR/rules.csv (an overlay)
"""

from __future__ import annotations

import csv
import functools
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Literal

from medq.agent.text import FuzzyIndex, LatinTypos, Matcher, latin_variants, normalise
from medq.errors import InputDataError

DEFAULT_DIR = Path(__file__).resolve().parent / "knowledge"
MentionKind = Literal["drug", "class", "product", "condition", "substance"]

COLUMNS = {
    "substances.csv": ["name", "inn", "atc", "classes", "kind", "source", "reviewed_by"],
    "aliases.csv": ["alias", "target", "alias_kind", "source"],
    "classes.csv": ["name", "parents", "allergy_group", "cross_reactive_with", "description", "source"],
    "products.csv": ["name", "otc", "form", "ingredients", "source", "reviewed_by"],
    "conditions.csv": ["name", "synonyms", "parents", "source"],
    "rules.csv": ["id", "kind", "subject", "interactant", "population", "action", "severity", "max_mg_per_kg_dose",
                  "max_mg_per_kg_day", "max_mg_dose", "max_mg_day", "effect", "management", "source",
                  "reviewed_by"],
}
KEYS = {"substances.csv": "name", "aliases.csv": "alias", "classes.csv": "name", "products.csv": "name",
        "conditions.csv": "name", "rules.csv": "id"}
SUBSTANCE_KINDS = ("drug", "herb", "supplement", "vaccine", "food", "behaviour")
DRUG_KINDS = ("drug", "herb", "supplement", "vaccine")      # found in text as kind "drug"
ALIAS_KINDS = ("generic", "brand", "taiwan", "hongkong", "historic", "folk", "typo", "english", "abbreviation")
OTC_VALUES = ("OTC", "Rx", "OTC-甲", "OTC-乙", "")
RULE_KINDS = ("contraindication", "interaction", "dosing", "warning")
ACTIONS = ("contraindicated", "avoid", "reduce", "caution")
SEVERITIES = ("critical", "warning", "info")
LIMITS = ("max_mg_per_kg_dose", "max_mg_per_kg_day", "max_mg_dose", "max_mg_day")
TEXT_MAX = 60
ENANTIOMER = re.compile(r"^(艾司|左旋|右旋|左|右)(.{2,})$")
AMOUNT = re.compile(r"^(\d+(?:\.\d+)?)\s*(mg|g|μg|ug|mcg|iu|万iu|万u|u)(?:/(\d+(?:\.\d+)?)?\s*ml)?$", re.I)
TERM = re.compile(r"^(age|weight|egfr|ckd_stage|trimester)\s*(<=|>=|<|>|=)\s*(\d+(?:\.\d+)?)$")
# CKD stage → eGFR band (KDIGO 2012): the auditor reads an eGFR term from a stage when no eGFR is known
CKD_BANDS = {1: (90.0, math.inf), 2: (60.0, 90.0), 3: (30.0, 60.0), 4: (15.0, 30.0), 5: (0.0, 15.0)}


def normalise_text(text: str) -> str:
    """The matching form of a name or text (kept for callers of the v1 API): see medq.agent.text.normalise."""
    return normalise(text)


# ---- entries ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Origin:
    file: str
    row: int

    def __str__(self) -> str:
        return f"{self.file} row {self.row}"


@dataclass(frozen=True)
class Substance:
    name: str
    inn: str
    atc: tuple[str, ...]
    classes: tuple[str, ...]
    kind: str
    source: str
    reviewed_by: str
    origin: Origin


@dataclass(frozen=True)
class DrugClass:
    name: str
    parents: tuple[str, ...]
    allergy_group: bool
    cross_reactive_with: tuple[str, ...]
    description: str
    source: str
    origin: Origin


@dataclass(frozen=True)
class Ingredient:
    substance: str
    amount_mg: float | None       # per unit (tablet, capsule, sachet) or, with per_ml, per millilitre
    per_ml: bool = False


@dataclass(frozen=True)
class Product:
    name: str
    otc: str
    form: str
    ingredients: tuple[Ingredient, ...]
    source: str
    reviewed_by: str
    origin: Origin

    @property
    def components(self) -> tuple[str, ...]:
        return tuple(i.substance for i in self.ingredients)

    @property
    def liquid(self) -> bool:
        return any(i.per_ml for i in self.ingredients)


@dataclass(frozen=True)
class Condition:
    name: str
    synonyms: tuple[str, ...]
    parents: tuple[str, ...]
    source: str
    origin: Origin


@dataclass(frozen=True)
class Term:
    """One population term: `condition:消化性溃疡`, `age>=65`, `pregnant`, `trimester=3`, `occupation:驾驶` ..."""

    kind: str          # condition | allergy | occupation | with | pregnant | lactating | planning_pregnancy | sex | age | ...
    op: str = ""       # for numbers: < <= > >= =
    value: str = ""

    def __str__(self) -> str:
        if self.kind in ("pregnant", "lactating", "planning_pregnancy"):
            return self.kind
        if self.op:
            return f"{self.kind}{self.op}{self.value}"
        return f"{self.kind}:{self.value}" if self.kind != "sex" else f"sex={self.value}"


@dataclass(frozen=True)
class Rule:
    id: str
    kind: str
    subject: str
    interactant: str
    population: tuple[Term, ...]
    action: str
    severity: str
    max_mg_per_kg_dose: float | None
    max_mg_per_kg_day: float | None
    max_mg_dose: float | None
    max_mg_day: float | None
    effect: str
    management: str
    source: str
    reviewed_by: str
    origin: Origin

    @property
    def blocks(self) -> bool:
        return self.action in ("contraindicated", "avoid")

    @functools.cached_property
    def topic(self) -> str:
        """Which rule class owns a contraindication/warning row: the most specific term of its population."""
        kinds = {t.kind for t in self.population}
        for topic in ("allergy", "planning_pregnancy", "trimester", "pregnant", "lactating", "egfr", "ckd_stage",
                      "condition"):
            if topic in kinds:
                return {"trimester": "pregnant", "ckd_stage": "egfr"}.get(topic, topic)
        ages = [t for t in self.population if t.kind == "age"]
        if ages:
            return "elderly" if all(t.op in (">", ">=") for t in ages) else "age"
        for topic in ("weight", "occupation", "sex"):
            if topic in kinds:
                return topic
        return "general"


@dataclass(frozen=True)
class Mention:
    """A knowledge-base name found in a text: `canonical` is the entry it names, [start, end) the span in the text;
    `fuzzy` when it was found through a typo (same pinyin, one edit)."""

    text: str
    start: int
    end: int
    kind: MentionKind
    canonical: str
    fuzzy: bool = False


# ---- reading ---------------------------------------------------------------------------------------------------
class _Rows:
    """One CSV file: names file, row and column in every error."""

    def __init__(self, path: Path):
        self.path = path
        expected = COLUMNS[path.name]
        try:
            with open(path, encoding="utf-8-sig", newline="") as handle:
                reader = csv.reader(handle)
                header = [h.strip() for h in next(reader, [])]
                if header != expected:
                    raise InputDataError(f"{path}: row 1: header must be {','.join(expected)}, got "
                                         f"{','.join(header) or '(empty)'}")
                self.rows: list[tuple[int, dict[str, str]]] = []
                for row_no, values in enumerate(reader, start=2):
                    if not values or not any(v.strip() for v in values):
                        continue
                    if len(values) != len(expected):
                        raise InputDataError(f"{path}: row {row_no}: expected {len(expected)} columns, got "
                                             f"{len(values)}")
                    self.rows.append((row_no, {k: v.strip() for k, v in zip(expected, values)}))
        except UnicodeDecodeError as exc:
            raise InputDataError(f"{path}: not UTF-8 at byte {exc.start}") from None

    def error(self, row_no: int, column: str, message: str) -> InputDataError:
        return InputDataError(f"{self.path}: row {row_no}, column {column}: {message}")


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split("|") if part.strip())


def _number(rows: _Rows, row_no: int, row: dict[str, str], column: str) -> float | None:
    if not row[column]:
        return None
    try:
        value = float(row[column])
    except ValueError:
        raise rows.error(row_no, column, f"not a number: {row[column]!r} (mg, without the unit)") from None
    if value < 0 or not math.isfinite(value):
        raise rows.error(row_no, column, f"must be a non-negative number: {row[column]!r}")
    return value


def _one_of(rows: _Rows, row_no: int, row: dict[str, str], column: str, allowed: Iterable[str]) -> str:
    allowed = tuple(allowed)
    if row[column] not in allowed:
        raise rows.error(row_no, column, f"{row[column]!r} is not one of {'|'.join(a or '(empty)' for a in allowed)}")
    return row[column]


def parse_amount(text: str) -> tuple[float, bool] | None:
    """'325mg' → (325, False); '0.3g' → (300, False); '50μg' → (0.05, False); '20mg/ml' → (20, True);
    '100mg/5ml' → (20, True). Units (IU) are not mass: None."""
    match = AMOUNT.match(text.replace(" ", ""))
    if not match:
        raise ValueError(text)
    value, unit, per = float(match.group(1)), match.group(2).lower(), match.group(3)
    if unit in ("iu", "万iu", "万u", "u"):
        return None
    value *= {"mg": 1.0, "g": 1000.0, "μg": 0.001, "ug": 0.001, "mcg": 0.001}[unit]
    if text.lower().rstrip().endswith("ml"):
        return value / float(per or 1), True
    return value, False


# (round 16) the washout a planning_pregnancy row's management states, in days: 停药后至少3个月再怀孕, 停药后3年内避免
# 怀孕, 接种后4周内避免怀孕. The row's management column carries it (no column of its own: every overlay keeps its
# header), and load checks that each planning row states one or says what to do before conception (SWITCH_BEFORE).
WASHOUT_UNITS = {"天": 1.0, "日": 1.0, "周": 7.0, "个星期": 7.0, "星期": 7.0, "个月": 30.0, "月": 30.0, "年": 365.0}
NUMBER_WORDS = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
                "半": 0.5}
WASHOUT = re.compile(r"(?:停药|停用|停服|末次(?:用药|给药|服药)|接种|治疗结束)后?\s*(?:需|应|要)?\s*(?:至少|满|超过|等待|等)?\s*"
                     r"(\d+(?:\.\d+)?|[一两二三四五六七八九十半])\s*(天|日|周|个星期|星期|个月|月|年)")
SWITCH_BEFORE = re.compile(r"换用|改用|换药|换为|停用|停药")


def count_number(text: str) -> float:
    """A count in digits or one Chinese numeral (三, 两, 半)."""
    return float(NUMBER_WORDS[text]) if text in NUMBER_WORDS else float(text)


def washout_days(management: str) -> float | None:
    """The days a planning_pregnancy row waits between the last dose (or the vaccination) and conception."""
    found = WASHOUT.search(management or "")
    return count_number(found.group(1)) * WASHOUT_UNITS[found.group(2)] if found else None


def parse_population(text: str) -> tuple[Term, ...]:
    """`age>=65&condition:良性前列腺增生` → terms; raises ValueError naming the bad term."""
    terms = []
    for raw in (t.strip() for t in text.split("&") if t.strip()):
        if raw in ("pregnant", "lactating", "planning_pregnancy"):
            terms.append(Term(raw))
        elif raw.startswith(("condition:", "allergy:", "occupation:", "with:")):
            kind, _, value = raw.partition(":")
            if not value.strip():
                raise ValueError(f"{raw!r} names nothing")
            terms.append(Term(kind, "", value.strip()))
        elif raw in ("sex=female", "sex=male"):
            terms.append(Term("sex", "", raw[4:]))
        elif match := TERM.match(raw.replace(" ", "")):
            terms.append(Term(match.group(1), match.group(2), match.group(3)))
        else:
            raise ValueError(f"{raw!r} is not a population term (condition:X, allergy:X, occupation:X, with:X, pregnant, "
                             "lactating, planning_pregnancy, sex=female|male, age/weight/egfr/ckd_stage/trimester "
                             "with < <= > >= =)")
    return tuple(terms)


def _read_folder(folder: Path, required: bool) -> dict[str, _Rows]:
    files = {}
    for name in COLUMNS:
        path = folder / name
        if path.is_file():
            files[name] = _Rows(path)
        elif required:
            raise InputDataError(f"{path}: knowledge file missing (the shipped knowledge must hold "
                                 f"{', '.join(COLUMNS)})")
    return files


# ---- the knowledge base --------------------------------------------------------------------------------------------
class Lexicon:
    """Substances, products, classes, conditions, aliases and rules, with name normalisation and mention finding."""

    def __init__(self) -> None:
        self.substances: dict[str, Substance] = {}
        self.classes: dict[str, DrugClass] = {}
        self.products: dict[str, Product] = {}
        self.conditions: dict[str, Condition] = {}
        self.rules: dict[str, Rule] = {}
        self.aliases: dict[str, tuple[str, str, Origin]] = {}   # alias -> (target, alias_kind, origin)
        self.names: dict[str, tuple[MentionKind, str]] = {}
        self.source = ""
        self.folders: list[str] = []

    # -- loading ------------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, directory: str | Path | None = None) -> "Lexicon":
        """The shipped knowledge, with `directory` (a hospital's folder, agent.knowledge_dir) laid over it."""
        folders = [DEFAULT_DIR]
        if directory is not None:
            directory = Path(directory)
            if not directory.is_dir():
                raise InputDataError(f"{directory}: knowledge folder not found (agent.knowledge_dir)")
            if directory.resolve() != DEFAULT_DIR.resolve():
                folders.append(directory)
        rows: dict[str, dict[str, tuple[_Rows, int, dict[str, str]]]] = {name: {} for name in COLUMNS}
        for index, folder in enumerate(folders):
            files = _read_folder(folder, required=index == 0)
            if index > 0 and not files:
                raise InputDataError(f"{folder}: no knowledge files (agent.knowledge_dir holds any of "
                                     f"{', '.join(COLUMNS)})")
            for name, table in files.items():
                seen_here: dict[str, int] = {}
                for row_no, row in table.rows:
                    key = row[KEYS[name]]
                    if not key:
                        raise table.error(row_no, KEYS[name], "must not be empty")
                    key = normalise(key) if name == "aliases.csv" else key
                    if key in seen_here:
                        raise table.error(row_no, KEYS[name], f"{row[KEYS[name]]!r} is already defined in row "
                                                             f"{seen_here[key]}")
                    seen_here[key] = row_no
                    rows[name][key] = (table, row_no, row)   # an overlay row replaces the shipped one
        lexicon = cls()
        lexicon.folders = [str(f) for f in folders]
        lexicon.source = str(folders[-1])
        lexicon._build(rows)
        return lexicon

    def _build(self, rows: dict[str, dict[str, tuple[_Rows, int, dict[str, str]]]]) -> None:
        claimed: dict[str, str] = {}   # normalised name -> "file row N" that claimed it

        def claim(table: _Rows, row_no: int, column: str, name: str, kind: MentionKind, canonical: str) -> None:
            key = normalise(name)
            here = f"{table.path} row {row_no}"
            if key in claimed and self.names[key] != (kind, canonical):
                raise table.error(row_no, column, f"name {name!r} is already used by {claimed[key]}")
            claimed.setdefault(key, here)
            self.names.setdefault(key, (kind, canonical))

        for table, row_no, row in rows["classes.csv"].values():
            allergy = _one_of(table, row_no, row, "allergy_group", ("yes", "no", ""))
            self.classes[row["name"]] = DrugClass(row["name"], _split(row["parents"]), allergy == "yes",
                                                  _split(row["cross_reactive_with"]), row["description"],
                                                  row["source"], Origin(table.path.name, row_no))
            claim(table, row_no, "name", row["name"], "class", row["name"])
        for table, row_no, row in rows["classes.csv"].values():
            for column in ("parents", "cross_reactive_with"):
                for other in _split(row[column]):
                    if other not in self.classes:
                        raise table.error(row_no, column, f"unknown class {other!r} (add it to classes.csv)")

        for table, row_no, row in rows["conditions.csv"].values():
            condition = Condition(row["name"], _split(row["synonyms"]), _split(row["parents"]), row["source"],
                                  Origin(table.path.name, row_no))
            self.conditions[condition.name] = condition
            claim(table, row_no, "name", condition.name, "condition", condition.name)
        for table, row_no, row in rows["conditions.csv"].values():
            for synonym in _split(row["synonyms"]):
                claim(table, row_no, "synonyms", synonym, "condition", row["name"])
            for parent in _split(row["parents"]):
                if parent not in self.conditions:
                    raise table.error(row_no, "parents", f"unknown condition {parent!r} (add it to conditions.csv)")

        for table, row_no, row in rows["substances.csv"].values():
            kind = _one_of(table, row_no, row, "kind", SUBSTANCE_KINDS)
            classes = _split(row["classes"])
            for klass in classes:
                if klass not in self.classes:
                    raise table.error(row_no, "classes", f"unknown class {klass!r} (add it to classes.csv)")
            self.substances[row["name"]] = Substance(row["name"], row["inn"].lower(), _split(row["atc"]), classes,
                                                     kind, row["source"], row["reviewed_by"],
                                                     Origin(table.path.name, row_no))
            claim(table, row_no, "name", row["name"], "drug" if kind in DRUG_KINDS else "substance", row["name"])
            if row["inn"]:
                claim(table, row_no, "inn", row["inn"], "drug" if kind in DRUG_KINDS else "substance", row["name"])

        for table, row_no, row in rows["products.csv"].values():
            _one_of(table, row_no, row, "otc", OTC_VALUES)
            ingredients = []
            parts = _split(row["ingredients"])
            if not parts:
                raise table.error(row_no, "ingredients", "must list at least one substance")
            for part in parts:
                name, _, amount = (p.strip() for p in part.partition("="))
                if name not in self.substances:
                    raise table.error(row_no, "ingredients", f"unknown substance {name!r} (add it to "
                                                             "substances.csv)")
                parsed = None
                if amount:
                    try:
                        parsed = parse_amount(amount)
                    except ValueError:
                        raise table.error(row_no, "ingredients", f"amount {amount!r} of {name} is not like 325mg, "
                                                                 "0.3g, 50μg or 20mg/ml") from None
                ingredients.append(Ingredient(name, parsed[0] if parsed else None, bool(parsed and parsed[1])))
            self.products[row["name"]] = Product(row["name"], row["otc"], row["form"], tuple(ingredients),
                                                 row["source"], row["reviewed_by"], Origin(table.path.name, row_no))
            claim(table, row_no, "name", row["name"], "product", row["name"])

        for table, row_no, row in rows["aliases.csv"].values():
            target = row["target"]
            _one_of(table, row_no, row, "alias_kind", ALIAS_KINDS)
            kind: MentionKind
            if target in self.substances:
                kind = "drug" if self.substances[target].kind in DRUG_KINDS else "substance"
            elif target in self.products:
                kind = "product"
            elif target in self.classes:
                kind = "class"
            elif target in self.conditions:
                kind = "condition"
            else:
                raise table.error(row_no, "target", f"{target!r} is not a substance, product, class or condition")
            self.aliases[row["alias"]] = (target, row["alias_kind"], Origin(table.path.name, row_no))
            claim(table, row_no, "alias", row["alias"], kind, target)

        for table, row_no, row in rows["rules.csv"].values():
            self.rules[row["id"]] = self._rule(table, row_no, row)
        self._index()

    def _rule(self, table: _Rows, row_no: int, row: dict[str, str]) -> Rule:
        kind = _one_of(table, row_no, row, "kind", RULE_KINDS)
        if row["subject"] not in self.substances and row["subject"] not in self.classes:
            raise table.error(row_no, "subject", f"{row['subject']!r} is not a substance or class")
        if kind == "interaction":
            if not row["interactant"]:
                raise table.error(row_no, "interactant", "an interaction needs an interactant")
            if self.resolve_any(row["interactant"]) is None:
                raise table.error(row_no, "interactant", f"{row['interactant']!r} is not a substance, class or "
                                                         "product")
        elif row["interactant"]:
            raise table.error(row_no, "interactant", f"only interaction rows name an interactant ({kind})")
        try:
            population = parse_population(row["population"])
        except ValueError as exc:
            raise table.error(row_no, "population", str(exc)) from None
        for term in population:
            if term.kind == "condition" and term.value not in self.conditions:
                raise table.error(row_no, "population", f"unknown condition {term.value!r} (add it to "
                                                        "conditions.csv)")
            if term.kind == "allergy" and self.resolve_any(term.value) is None:
                raise table.error(row_no, "population", f"allergy:{term.value} names nothing in the knowledge base")
            if term.kind == "with" and (kind != "dosing" or self.resolve_any(term.value) is None):
                raise table.error(row_no, "population", f"with:{term.value} is a dosing row's co-medication (a "
                                                        "substance or class the knowledge base names)")
        if any(t.kind == "planning_pregnancy" for t in population):
            if any(t.kind in ("pregnant", "trimester", "lactating") for t in population):
                raise table.error(row_no, "population", "planning_pregnancy is before a pregnancy: it joins no "
                                                        "pregnant/trimester/lactating term")
            if not (washout_days(row["management"]) is not None or SWITCH_BEFORE.search(row["management"])):
                raise table.error(row_no, "management", "a planning_pregnancy row states its washout (停药后至少3个月"
                                                        "再怀孕 / 接种后4周内避免怀孕) or what to do before conception "
                                                        "(计划怀孕前换用… / 停用)")
        action = _one_of(table, row_no, row, "action", ACTIONS)
        severity = _one_of(table, row_no, row, "severity", SEVERITIES)
        limits = {column: _number(table, row_no, row, column) for column in LIMITS}
        if kind == "dosing" and all(v is None for v in limits.values()):
            raise table.error(row_no, "max_mg_day", "a dosing row needs at least one limit")
        if kind != "dosing" and any(v is not None for v in limits.values()):
            column = next(c for c in LIMITS if limits[c] is not None)
            raise table.error(row_no, column, f"only dosing rows carry limits ({kind})")
        for column in ("effect", "management"):
            if len(row[column]) > TEXT_MAX * 2:
                raise table.error(row_no, column, f"longer than {TEXT_MAX * 2} characters")
        if not row["source"]:
            raise table.error(row_no, "source", "every rule names its source (insert, NEML2018, ChP-CDG, ...)")
        return Rule(row["id"], kind, row["subject"], row["interactant"], population, action, severity,
                    limits["max_mg_per_kg_dose"], limits["max_mg_per_kg_day"], limits["max_mg_dose"],
                    limits["max_mg_day"], row["effect"], row["management"], row["source"], row["reviewed_by"],
                    Origin(table.path.name, row_no))

    def _index(self) -> None:
        self.rules_by_subject: dict[str, list[Rule]] = {}
        self.interactant_of: dict[str, str] = {}         # rule id -> the interactant's canonical name
        self.interaction_pairs: dict[tuple[str, str], list[Rule]] = {}   # (subject, interactant) and reversed
        for rule in self.rules.values():
            self.rules_by_subject.setdefault(rule.subject, []).append(rule)
            if rule.kind == "interaction":
                other = self.resolve_any(rule.interactant) or rule.interactant
                self.interactant_of[rule.id] = other
                self.interaction_pairs.setdefault((rule.subject, other), []).append(rule)
                if other != rule.subject:
                    self.interaction_pairs.setdefault((other, rule.subject), []).append(rule)
        self.interaction_partners: dict[str, set[str]] = {}
        for a, b in self.interaction_pairs:
            self.interaction_partners.setdefault(a, set()).add(b)
        self._matcher: Matcher[tuple[MentionKind, str]] = Matcher(self.names)
        self._fuzzy: FuzzyIndex[tuple[MentionKind, str]] | None = None
        self._latin_typos: LatinTypos[tuple[MentionKind, str]] | None = None
        self._class_ancestors: dict[str, set[str]] = {}
        self.drugs = {n: s for n, s in self.substances.items() if s.kind in DRUG_KINDS}
        # a single enantiomer and its racemate (艾司奥美拉唑 / 奥美拉唑, 左氧氟沙星 / 氧氟沙星): one allergy covers both,
        # as the labels say (hypersensitivity to the racemate or to the other form); known by the name alone
        self.enantiomers: dict[str, set[str]] = {}
        for name in self.drugs:
            found = ENANTIOMER.match(name)
            if found and found.group(2) in self.drugs:
                self.enantiomers.setdefault(name, set()).add(found.group(2))
                self.enantiomers.setdefault(found.group(2), set()).add(name)
        # the strength a bare substance name is dosed in (布洛芬 每次2片): the first single-ingredient product
        self.unit_strength: dict[str, Ingredient] = {}
        for product in self.products.values():
            if len(product.ingredients) == 1 and product.ingredients[0].amount_mg is not None:
                self.unit_strength.setdefault(product.ingredients[0].substance, product.ingredients[0])
        self._max_len = max((len(n) for n in self.names), default=1)

    @property
    def fuzzy(self) -> FuzzyIndex[tuple[MentionKind, str]]:
        if self._fuzzy is None:
            self._fuzzy = FuzzyIndex({name: entry for name, entry in self.names.items()
                                      if entry[0] in ("drug", "product")})
        return self._fuzzy

    @property
    def latin_typos(self) -> LatinTypos[tuple[MentionKind, str]]:
        if self._latin_typos is None:
            self._latin_typos = LatinTypos({name: entry for name, entry in self.names.items()
                                            if entry[0] in ("drug", "product")})
        return self._latin_typos

    # -- names --------------------------------------------------------------------------------------------------
    def lookup(self, name: str) -> tuple[MentionKind, str] | None:
        """(kind, canonical name) of any name or alias; a typo of a drug or product name is found too."""
        key = normalise(name.strip())
        found = self.names.get(key)
        if found is None:   # Slow K, Zyrtec D: the join of a Latin name written another way, as the matcher finds it
            found = next((self.names[v] for v in sorted(latin_variants(key)) if v in self.names), None)
        if found is None and len(key) >= 3:
            found = self.fuzzy.lookup(key) or self.latin_typos.lookup(key)
        return found

    def canonical(self, name: str, kinds: Iterable[str]) -> str | None:
        found = self.lookup(name)
        return found[1] if found and found[0] in set(kinds) else None

    def resolve_any(self, name: str) -> str | None:
        found = self.names.get(normalise(name.strip()))
        return found[1] if found else None

    def resolve_drug(self, name: str) -> str | None:
        """Substance for a drug name or alias (锂盐 → 碳酸锂); None for classes, products and unknown names."""
        return self.canonical(name, ("drug",))

    def ingredients(self, name: str) -> list[str]:
        """Substances in a drug or product name (新康泰克 → [伪麻黄碱, 氯苯那敏]); [] for anything else."""
        found = self.lookup(name)
        if found is None:
            return []
        kind, canonical = found
        if kind in ("drug", "substance"):
            return [canonical]
        if kind == "product":
            return list(self.products[canonical].components)
        return []

    def class_ancestors(self, klass: str) -> set[str]:
        if klass not in self._class_ancestors:
            result: set[str] = set()
            stack = [klass]
            while stack:
                current = stack.pop()
                if current not in result:
                    result.add(current)
                    if current in self.classes:
                        stack.extend(self.classes[current].parents)
            self._class_ancestors[klass] = result
        return self._class_ancestors[klass]

    @functools.lru_cache(maxsize=1024)
    def members_of(self, klass: str) -> frozenset[str]:
        """The substances of a class or of any class below it."""
        return frozenset(n for n in self.substances if klass in self.classes_of(n))

    @functools.lru_cache(maxsize=8192)
    def names_of(self, name: str) -> frozenset[str]:
        """A substance (or class) with all its classes and their parents."""
        return frozenset({name} | self.classes_of(name))

    def classes_of(self, name: str) -> set[str]:
        """Every class of a substance, with their parents (头孢呋辛 → {头孢菌素类, β-内酰胺类, ...})."""
        if name in self.classes:
            return self.class_ancestors(name) - {name}
        substance = self.substances.get(name)
        if substance is None:
            return set()
        result: set[str] = set()
        for klass in substance.classes:
            result |= self.class_ancestors(klass)
        return result

    def condition_ancestors(self, condition: str) -> set[str]:
        """The condition and every parent above it (胃溃疡 → {胃溃疡, 消化性溃疡})."""
        result: set[str] = set()
        stack = [condition]
        while stack:
            current = stack.pop()
            if current in result:
                continue
            result.add(current)
            if current in self.conditions:
                stack.extend(self.conditions[current].parents)
        return result

    def allergy_closure(self, allergen: str) -> tuple[set[str], set[str]]:
        """(names the patient reacts to directly, names reached only by class cross-reactivity).

        A drug allergy covers the drug itself and, for drugs in an allergy group (penicillins, cephalosporins,
        sulfonamides, NSAIDs, ...), every drug of that class; a class allergy covers the class, its members and the
        classes it cross-reacts with (penicillins ↔ cephalosporins). Names are substances or class names.
        """
        found = self.lookup(allergen)
        if found is None:
            return {allergen}, set()
        kind, canonical = found
        direct: set[str] = {canonical}
        groups: set[str] = set()
        if kind in ("drug", "substance"):
            direct |= self.enantiomers.get(canonical, set())
            groups = {c for c in self.classes_of(canonical) if self.classes[c].allergy_group}
        elif kind == "product":
            direct |= set(self.products[canonical].components)
            for component in self.products[canonical].components:
                direct |= self.enantiomers.get(component, set())
            for component in self.products[canonical].components:
                groups |= {c for c in self.classes_of(component) if self.classes[c].allergy_group}
        elif kind == "class":
            if self.classes[canonical].allergy_group:
                groups = {canonical}
        cross: set[str] = set(groups)
        for group in groups:
            cross |= set(self.classes[group].cross_reactive_with)
        if kind == "class":
            cross.discard(canonical)
        return direct, cross

    # -- mention finding -----------------------------------------------------------------------------------------
    def find_mentions(self, text: str, kinds: Iterable[str] | None = None, fuzzy: bool = True) -> list[Mention]:
        """Leftmost-longest, non-overlapping mentions of knowledge-base names in `text` (normalised: traditional
        script, full width and case do not matter; Chinese needs no word breaks; Latin names must not sit inside a
        longer Latin word). With `fuzzy`, drug and product names of ≥ 3 characters are also found through typos in
        the stretches no exact name covers."""
        wanted = set(kinds) if kinds is not None else None
        mentions = self._mentions(text, fuzzy and (wanted is None or bool(wanted & {"drug", "product"})))
        return [m for m in mentions if wanted is None or m.kind in wanted]

    @functools.lru_cache(maxsize=512)
    def _mentions(self, text: str, fuzzy: bool) -> tuple[Mention, ...]:
        norm = normalise(text)
        hits = self._matcher.find(norm)
        mentions = [Mention(text[h.start:h.end], h.start, h.end, h.value[0], h.value[1]) for h in hits]
        if fuzzy:
            taken = [(h.start, h.end) for h in hits]
            extra = [Mention(text[h.start:h.end], h.start, h.end, h.value[0], h.value[1], fuzzy=True)
                     for typos in (self.fuzzy, self.latin_typos) for h in typos.scan(norm, taken)]
            if extra:
                mentions = sorted(mentions + extra, key=lambda m: m.start)
        return tuple(mentions)

    # -- reporting ------------------------------------------------------------------------------------------------
    def counts(self) -> dict[str, int]:
        return {"substances": len(self.substances), "drugs": len(self.drugs), "aliases": len(self.aliases),
                "classes": len(self.classes), "products": len(self.products), "conditions": len(self.conditions),
                "rules": len(self.rules), "names": len(self.names),
                "rules_unreviewed": sum(not r.reviewed_by for r in self.rules.values())}


# ---- DDInter importer ------------------------------------------------------------------------------------------
DDINTER_COLUMNS = ("DDInterID_A", "Drug_A", "DDInterID_B", "Drug_B", "Level")
DDINTER_LEVELS = {"major": ("avoid", "critical"), "moderate": ("caution", "warning"), "minor": ("caution", "info")}


def import_ddinter(paths: list[Path], out: Path, lexicon: Lexicon | None = None,
                   levels: Iterable[str] = ("major", "moderate", "minor")) -> dict[str, int]:
    """DDInter's downloadable interaction CSVs (columns DDInterID_A,Drug_A,DDInterID_B,Drug_B,Level) → an overlay
    folder's rules.csv (kind interaction, source DDInter, reviewed_by empty). Drug names are English and matched to
    substances through their INN or an english alias; pairs naming a drug the knowledge base lacks are counted and
    skipped. DDInter's licence is non-commercial: its rows are never shipped with medq, only written where the user
    asks. Rows already in out/rules.csv are kept; imported ids are DDI000001... and replaced on a re-import."""
    lexicon = lexicon or Lexicon.load()
    wanted = {level.lower() for level in levels}
    by_english = {s.inn: s.name for s in lexicon.substances.values() if s.inn}
    for alias, (target, alias_kind, _) in lexicon.aliases.items():
        if alias_kind == "english" and target in lexicon.substances:
            by_english.setdefault(alias.lower(), target)
    pairs: dict[tuple[str, str], str] = {}
    stats = {"rows": 0, "imported": 0, "unknown_drug": 0, "skipped_level": 0, "duplicates": 0}
    order = ["unknown", "minor", "moderate", "major"]
    for path in paths:
        if not Path(path).is_file():
            raise InputDataError(f"{path}: DDInter CSV not found")
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in DDINTER_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise InputDataError(f"{path}: row 1: not a DDInter interaction CSV (missing column(s) "
                                     f"{', '.join(missing)}; expected {','.join(DDINTER_COLUMNS)})")
            for row_no, row in enumerate(reader, start=2):
                stats["rows"] += 1
                level = (row["Level"] or "").strip().lower()
                if level not in DDINTER_LEVELS or level not in wanted:
                    stats["skipped_level"] += 1
                    continue
                a = by_english.get((row["Drug_A"] or "").strip().lower())
                b = by_english.get((row["Drug_B"] or "").strip().lower())
                if a is None or b is None:
                    stats["unknown_drug"] += 1
                    continue
                key = tuple(sorted((a, b)))
                if key in pairs:
                    stats["duplicates"] += 1
                    if order.index(level) <= order.index(pairs[key]):
                        continue
                pairs[key] = level  # type: ignore[index]
    out.mkdir(parents=True, exist_ok=True)
    target = out / "rules.csv"
    kept: list[list[str]] = []
    if target.is_file():
        kept = [[row[c] for c in COLUMNS["rules.csv"]] for _, row in _Rows(target).rows
                if not row["id"].startswith("DDI")]
    with open(target, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS["rules.csv"])
        writer.writerows(kept)
        for number, ((a, b), level) in enumerate(sorted(pairs.items()), start=1):
            action, severity = DDINTER_LEVELS[level]
            writer.writerow([f"DDI{number:06d}", "interaction", a, b, "", action, severity, "", "", "", "",
                             f"DDInter: {level} interaction", "", "DDInter", ""])
    stats["imported"] = len(pairs)
    Lexicon.load(out)   # the written overlay must load over the shipped knowledge
    return stats


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m medq.agent.knowledge", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    validate = sub.add_parser("validate", help="load the shipped knowledge (and an overlay folder) and count it")
    validate.add_argument("folder", nargs="?", help="an overlay folder (agent.knowledge_dir)")
    ddinter = sub.add_parser("import-ddinter", help="DDInter interaction CSVs → an overlay folder's rules.csv "
                                                    "(DDInter is licensed for non-commercial use only)")
    ddinter.add_argument("csv", nargs="+", type=Path)
    ddinter.add_argument("--out", type=Path, required=True, help="the overlay folder (agent.knowledge_dir)")
    ddinter.add_argument("--levels", default="major,moderate,minor", help="comma-separated DDInter levels to keep")
    args = parser.parse_args(argv)
    try:
        if args.command == "validate":
            lexicon = Lexicon.load(args.folder)
            print(" ".join(f"{k}={v}" for k, v in lexicon.counts().items()))
        else:
            stats = import_ddinter(args.csv, args.out, levels=args.levels.split(","))
            print(" ".join(f"{k}={v}" for k, v in stats.items()) + f" -> {args.out / 'rules.csv'}")
    except InputDataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

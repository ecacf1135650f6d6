"""The drug and condition knowledge the agent checks against, loaded from CSV files (schema in docs/agent.md).

Five files in one folder (the project's copy ships as package data in `medq/agent/knowledge/`; a hospital points
`agent.knowledge_dir` at its own formulary with the same columns):

  drugs.csv       one row per generic drug: aliases and brands, classes, contraindicated conditions, pregnancy and
                  lactation category, minimum age, interacting drugs/classes, maximum adult daily dose, unit strength
  classes.csv     drug classes; `allergy_group=yes` marks classes whose members cross-react in allergic patients
  products.csv    combination products (新康泰克 → 伪麻黄碱 + 氯苯那敏), checked ingredient by ingredient
  conditions.csv  conditions with synonyms (血压高 → 高血压) and parents (胃溃疡 → 消化性溃疡)
  substances.csv  non-drug allergens and interactants (鸡蛋, 酒精, 葡萄柚汁)

Every reference between files is resolved at load time, so a typo in a hospital's formulary fails with the file,
row and column instead of silently weakening the audit.
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Literal

from medq.errors import InputDataError

DEFAULT_DIR = Path(__file__).resolve().parent / "knowledge"
Category = Literal["safe", "caution", "avoid", "contraindicated"]
CATEGORIES: tuple[str, ...] = ("safe", "caution", "avoid", "contraindicated")
MentionKind = Literal["drug", "class", "product", "condition", "substance"]

COLUMNS = {
    "drugs.csv": ["generic", "aliases", "classes", "indications", "contraindicated_conditions", "pregnancy",
                  "lactation", "min_age_years", "interacts_with", "max_daily_mg", "unit_mg"],
    "classes.csv": ["class", "aliases", "allergy_group", "cross_reactive_with", "description"],
    "products.csv": ["product", "aliases", "components", "notes"],
    "conditions.csv": ["condition", "synonyms", "parents"],
    "substances.csv": ["substance", "synonyms"],
}


def normalise_text(text: str) -> str:
    """Full-width to half-width and lower case, so ＡＳＰＩＲＩＮ, Aspirin and aspirin are one name."""
    return unicodedata.normalize("NFKC", text).lower()


@dataclass(frozen=True)
class Drug:
    name: str
    aliases: tuple[str, ...]
    classes: tuple[str, ...]
    indications: tuple[str, ...]
    contraindicated_conditions: tuple[str, ...]
    pregnancy: Category
    lactation: Category
    min_age_years: float | None
    interacts_with: tuple[str, ...]
    max_daily_mg: float | None
    unit_mg: float | None


@dataclass(frozen=True)
class DrugClass:
    name: str
    aliases: tuple[str, ...]
    allergy_group: bool
    cross_reactive_with: tuple[str, ...]
    description: str


@dataclass(frozen=True)
class Product:
    name: str
    aliases: tuple[str, ...]
    components: tuple[str, ...]
    notes: str


@dataclass(frozen=True)
class Condition:
    name: str
    synonyms: tuple[str, ...]
    parents: tuple[str, ...]


@dataclass(frozen=True)
class Mention:
    """A lexicon name found in a text: `canonical` is the entry it names, [start, end) the span in the text."""

    text: str
    start: int
    end: int
    kind: MentionKind
    canonical: str


class _Rows:
    """Reads one CSV and names file, row and column in every error."""

    def __init__(self, path: Path):
        self.path = path
        try:
            with open(path, encoding="utf-8-sig", newline="") as handle:
                reader = csv.DictReader(handle)
                header = reader.fieldnames or []
                expected = COLUMNS[path.name]
                if header != expected:
                    raise InputDataError(f"{path}: row 1: header must be {','.join(expected)}, got "
                                         f"{','.join(header) or '(empty)'}")
                self.rows = []
                for row_no, row in enumerate(reader, start=2):
                    if None in row or any(v is None for v in row.values()):
                        found = sum(v is not None for k, v in row.items() if k is not None) + len(row.get(None) or [])
                        raise InputDataError(f"{path}: row {row_no}: expected {len(expected)} columns, got {found}")
                    self.rows.append((row_no, {k: v.strip() for k, v in row.items()}))
        except FileNotFoundError:
            raise InputDataError(f"{path}: knowledge file missing (agent.knowledge_dir must hold "
                                 f"{', '.join(COLUMNS)})") from None
        except UnicodeDecodeError as exc:
            raise InputDataError(f"{path}: not UTF-8 at byte {exc.start}") from None

    def error(self, row_no: int, column: str, message: str) -> InputDataError:
        return InputDataError(f"{self.path}: row {row_no}, column {column}: {message}")

    def required(self, row_no: int, row: dict[str, str], column: str) -> str:
        if not row[column]:
            raise self.error(row_no, column, "must not be empty")
        return row[column]

    def number(self, row_no: int, row: dict[str, str], column: str) -> float | None:
        if not row[column]:
            return None
        try:
            value = float(row[column])
        except ValueError:
            raise self.error(row_no, column, f"not a number: {row[column]!r}") from None
        if value < 0:
            raise self.error(row_no, column, f"must not be negative: {row[column]!r}")
        return value

    def category(self, row_no: int, row: dict[str, str], column: str) -> Category:
        value = row[column]
        if value not in CATEGORIES:
            raise self.error(row_no, column, f"{value!r} is not one of {'|'.join(CATEGORIES)}")
        return value  # type: ignore[return-value]


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split("|") if part.strip())


class Lexicon:
    """Drugs, classes, products, conditions and substances, with name normalisation and mention finding."""

    def __init__(self, drugs: dict[str, Drug], classes: dict[str, DrugClass], products: dict[str, Product],
                 conditions: dict[str, Condition], substances: dict[str, tuple[str, ...]], source: str = ""):
        self.drugs = drugs
        self.classes = classes
        self.products = products
        self.conditions = conditions
        self.substances = substances
        self.source = source
        # normalised surface name -> (kind, canonical); built once, names are unique across all files
        self.names: dict[str, tuple[MentionKind, str]] = {}
        for kind, entries in (("drug", {d.name: d.aliases for d in drugs.values()}),
                              ("class", {c.name: c.aliases for c in classes.values()}),
                              ("product", {p.name: p.aliases for p in products.values()}),
                              ("condition", {c.name: c.synonyms for c in conditions.values()}),
                              ("substance", substances)):
            for canonical, aliases in entries.items():
                for surface in (canonical, *aliases):
                    self.names.setdefault(normalise_text(surface), (kind, canonical))  # type: ignore[arg-type]
        self._max_len = max(len(n) for n in self.names)

    # ---- loading -------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, directory: str | Path | None = None) -> "Lexicon":
        directory = Path(directory) if directory else DEFAULT_DIR
        if not directory.is_dir():
            raise InputDataError(f"{directory}: knowledge folder not found (agent.knowledge_dir)")
        seen: dict[str, str] = {}  # normalised name -> "file row N" that claimed it first

        def claim(rows: _Rows, row_no: int, column: str, names: Iterable[str]) -> None:
            for name in names:
                key = normalise_text(name)
                if key in seen:
                    raise rows.error(row_no, column, f"name {name!r} is already used by {seen[key]}")
                seen[key] = f"{rows.path.name} row {row_no}"

        class_rows = _Rows(directory / "classes.csv")
        classes: dict[str, DrugClass] = {}
        for row_no, row in class_rows.rows:
            name = class_rows.required(row_no, row, "class")
            if row["allergy_group"] not in ("yes", "no"):
                raise class_rows.error(row_no, "allergy_group", f"{row['allergy_group']!r} is not yes|no")
            classes[name] = DrugClass(name, _split(row["aliases"]), row["allergy_group"] == "yes",
                                      _split(row["cross_reactive_with"]), row["description"])
            claim(class_rows, row_no, "class", [name])
            claim(class_rows, row_no, "aliases", classes[name].aliases)
        for row_no, row in class_rows.rows:
            for other in _split(row["cross_reactive_with"]):
                if other not in classes:
                    raise class_rows.error(row_no, "cross_reactive_with", f"unknown class {other!r}")

        condition_rows = _Rows(directory / "conditions.csv")
        conditions: dict[str, Condition] = {}
        for row_no, row in condition_rows.rows:
            name = condition_rows.required(row_no, row, "condition")
            conditions[name] = Condition(name, _split(row["synonyms"]), _split(row["parents"]))
            claim(condition_rows, row_no, "condition", [name])
            claim(condition_rows, row_no, "synonyms", conditions[name].synonyms)
        for row_no, row in condition_rows.rows:
            for parent in _split(row["parents"]):
                if parent not in conditions:
                    raise condition_rows.error(row_no, "parents", f"unknown condition {parent!r}")

        substance_rows = _Rows(directory / "substances.csv")
        substances: dict[str, tuple[str, ...]] = {}
        for row_no, row in substance_rows.rows:
            name = substance_rows.required(row_no, row, "substance")
            substances[name] = _split(row["synonyms"])
            claim(substance_rows, row_no, "substance", [name])
            claim(substance_rows, row_no, "synonyms", substances[name])

        drug_rows = _Rows(directory / "drugs.csv")
        drugs: dict[str, Drug] = {}
        for row_no, row in drug_rows.rows:
            name = drug_rows.required(row_no, row, "generic")
            drug = Drug(name=name, aliases=_split(row["aliases"]), classes=_split(row["classes"]),
                        indications=_split(row["indications"]),
                        contraindicated_conditions=_split(row["contraindicated_conditions"]),
                        pregnancy=drug_rows.category(row_no, row, "pregnancy"),
                        lactation=drug_rows.category(row_no, row, "lactation"),
                        min_age_years=drug_rows.number(row_no, row, "min_age_years"),
                        interacts_with=_split(row["interacts_with"]),
                        max_daily_mg=drug_rows.number(row_no, row, "max_daily_mg"),
                        unit_mg=drug_rows.number(row_no, row, "unit_mg"))
            for klass in drug.classes:
                if klass not in classes:
                    raise drug_rows.error(row_no, "classes", f"unknown class {klass!r} (add it to classes.csv)")
            for condition in drug.contraindicated_conditions:
                if condition not in conditions:
                    raise drug_rows.error(row_no, "contraindicated_conditions",
                                          f"unknown condition {condition!r} (add it to conditions.csv)")
            drugs[name] = drug
            claim(drug_rows, row_no, "generic", [name])
            claim(drug_rows, row_no, "aliases", drug.aliases)
        # interactions may name a drug defined further down, an alias, a class or a substance
        for row_no, row in drug_rows.rows:
            for target in _split(row["interacts_with"]):
                key = normalise_text(target)
                if key not in seen or not seen[key].startswith(("drugs.csv", "classes.csv", "substances.csv")):
                    raise drug_rows.error(row_no, "interacts_with",
                                          f"{target!r} is not a drug, class or substance of the lexicon")

        product_rows = _Rows(directory / "products.csv")
        products: dict[str, Product] = {}
        for row_no, row in product_rows.rows:
            name = product_rows.required(row_no, row, "product")
            components = _split(product_rows.required(row_no, row, "components"))
            for component in components:
                if component not in drugs:
                    raise product_rows.error(row_no, "components", f"unknown drug {component!r} (components are "
                                             "generic names from drugs.csv)")
            products[name] = Product(name, _split(row["aliases"]), components, row["notes"])
            claim(product_rows, row_no, "product", [name])
            claim(product_rows, row_no, "aliases", products[name].aliases)
        if not drugs:
            raise InputDataError(f"{directory / 'drugs.csv'}: no drugs")
        return cls(drugs, classes, products, conditions, substances, source=str(directory))

    # ---- names ---------------------------------------------------------------------------------------------
    def lookup(self, name: str) -> tuple[MentionKind, str] | None:
        """(kind, canonical name) of any drug, class, product, condition or substance name or alias."""
        return self.names.get(normalise_text(name.strip()))

    def canonical(self, name: str, kinds: Iterable[str]) -> str | None:
        found = self.lookup(name)
        return found[1] if found and found[0] in set(kinds) else None

    def resolve_drug(self, name: str) -> str | None:
        """Generic name for a drug name or alias (锂盐 → 碳酸锂); None for classes, products and unknown names."""
        return self.canonical(name, ("drug",))

    def ingredients(self, name: str) -> list[str]:
        """Generic drugs in a drug or product name (新康泰克 → [伪麻黄碱, 氯苯那敏]); [] for anything else."""
        found = self.lookup(name)
        if found is None:
            return []
        kind, canonical = found
        if kind == "drug":
            return [canonical]
        if kind == "product":
            return list(self.products[canonical].components)
        return []

    def classes_of(self, drug: str) -> set[str]:
        return set(self.drugs[drug].classes) if drug in self.drugs else set()

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
        classes it cross-reacts with (penicillins ↔ cephalosporins). Names are generics or class names.
        """
        found = self.lookup(allergen)
        if found is None:
            return {allergen}, set()
        kind, canonical = found
        direct: set[str] = {canonical}
        groups: set[str] = set()
        if kind == "drug":
            groups = {c for c in self.drugs[canonical].classes if self.classes[c].allergy_group}
        elif kind == "product":
            direct |= set(self.products[canonical].components)
            for component in self.products[canonical].components:
                groups |= {c for c in self.drugs[component].classes if self.classes[c].allergy_group}
        elif kind == "class":
            direct.add(canonical)
            if self.classes[canonical].allergy_group:
                groups = {canonical}
        cross: set[str] = set(groups)
        for group in groups:
            cross |= set(self.classes[group].cross_reactive_with)
        if kind == "class":
            cross.discard(canonical)
        return direct, cross

    # ---- mention finding -----------------------------------------------------------------------------------
    def find_mentions(self, text: str, kinds: Iterable[str] | None = None) -> list[Mention]:
        """Leftmost-longest, non-overlapping mentions of lexicon names in `text` (Chinese needs no word breaks;
        Latin names must not sit inside a longer Latin word)."""
        wanted = set(kinds) if kinds is not None else None
        norm = normalise_text(text)
        if len(norm) != len(text):  # NFKC changed the length (rare ligatures): fall back to a 1:1 case fold
            norm = text.lower()
        mentions: list[Mention] = []
        i = 0
        while i < len(norm):
            match = None
            for length in range(min(self._max_len, len(norm) - i), 0, -1):
                candidate = norm[i:i + length]
                entry = self.names.get(candidate)
                if entry is None:
                    continue
                if candidate[0].isascii() and candidate[0].isalnum() and (
                        (i > 0 and norm[i - 1].isascii() and norm[i - 1].isalnum()) or
                        (i + length < len(norm) and norm[i + length].isascii() and norm[i + length].isalnum())):
                    continue
                match = (length, entry)
                break
            if match is None:
                i += 1
                continue
            length, (kind, canonical) = match
            if wanted is None or kind in wanted:
                mentions.append(Mention(text[i:i + length], i, i + length, kind, canonical))
            i += length
        return mentions


"""The `triage` stage: a department classifier trained on prepare's splits, measured against the majority class.

Labels are `metadata.department` of prepare's train/test JSONL records (the dialogue CSV's `department` column, the
synthetic source's departments); the text is the record's user turn (title + question). The model is scikit-learn:
character n-gram TF-IDF (no word segmentation, so it copes with unseen medical terms and typos) and a multinomial
logistic regression (calibrated-enough probabilities for the agent to show and to threshold). Macro-F1 and accuracy
on the test split are logged to MLflow beside the same metrics of the majority-class baseline, so a model that only
learned the class prior is visible at once. The model is saved with skops (no pickle); `medq.agent.tools.triage`
loads it.

Red-flag symptoms are not this model's business: the turn routes them to emergency care before triage runs.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from medq.artifacts import atomic_path, write_json_atomic
from medq.errors import InputDataError, MedqError
from medq.jsonl import read_jsonl, row_error
from medq.paths import ExistingFile
from medq.stage import StageContext

log = logging.getLogger(__name__)
MODEL_FILE = "triage_model.skops"


def read_labelled(path: Path, label_field: str) -> tuple[list[str], list[str], int]:
    """(texts, labels, records without a label) from a prepare split."""
    texts, labels, unlabelled = [], [], 0
    for line_no, record in read_jsonl(path, what="prepare records"):  # the one JSONL reader (medq/jsonl.py)
        try:
            text = next(m["content"] for m in record["messages"] if m["role"] == "user")
            label = (record.get("metadata") or {}).get(label_field)
        except (KeyError, StopIteration, TypeError, AttributeError):
            raise row_error(path, line_no, "not a ChatML record with a user turn") from None
        if label is None or not str(label).strip():
            unlabelled += 1
            continue
        texts.append(text)
        labels.append(str(label).strip())
    return texts, labels, unlabelled


@dataclass
class EvalFile:
    """A labelled file from outside the pipeline: a CSV (the dialogue data's `department,title,ask,...`, any
    encoding medq's prepare detects) or prepare-style JSONL (ChatML + metadata.<label_field>)."""

    path: ExistingFile
    label_column: str = "department"
    text_columns: list[str] = field(default_factory=lambda: ["title", "ask"])
    encoding: str = "auto"
    name: str | None = None             # the metric prefix (eval.<name>.*); null: the file's stem


def read_eval_file(spec: EvalFile, label_field: str) -> tuple[list[str], list[str], int]:
    """(texts, labels, rows without a label) of an outside file; a missing column fails naming the file."""
    path = Path(str(spec.path))
    if path.suffix == ".jsonl":
        return read_labelled(path, label_field)
    import csv

    from medq.prepare.encoding import detect_encoding

    encoding = detect_encoding(path, spec.encoding)
    texts, labels, unlabelled = [], [], 0
    with open(path, encoding=encoding, newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in [spec.label_column, *spec.text_columns] if c not in (reader.fieldnames or [])]
        if missing:
            raise InputDataError(f"{path}: no column {missing[0]!r} (columns: {', '.join(reader.fieldnames or [])}; "
                                 f"set triage.eval_files[].label_column / text_columns)")
        for row in reader:
            label = (row.get(spec.label_column) or "").strip()
            text = "\n".join((row.get(c) or "").strip() for c in spec.text_columns).strip()
            if not label or not text:
                unlabelled += 1
                continue
            texts.append(text)
            labels.append(label)
    return texts, labels, unlabelled


class TriageStage:
    """Train and measure the department classifier.

    label_field: the metadata key holding the department. ngram_range: character n-gram sizes. max_features: TF-IDF
    vocabulary cap. C: inverse regularisation of the logistic regression. class_weight: "balanced" weighs rare
    departments up (better macro-F1), null trains on the raw prior (better accuracy).
    min_class_examples: departments with fewer training records are dropped (reported), since the model cannot
    learn them.
    calibration: none | sigmoid | isotonic — scikit-learn's CalibratedClassifierCV around the classifier, so a
    probability of 0.7 means right about 70 % of the time. unsure_threshold: below this top probability the
    prediction is `unsure_label` (e.g. 普通内科, or "ask" for a follow-up question) instead of a guess.
    eval_files: labelled files from outside the pipeline, each scored like the test split (per-department F1 and a
    majority baseline computed on that file).
    """
    outputs = ("model", "metrics")
    final_outputs = outputs  # the classifier the agent loads (agent.triage_model) and its report

    def __init__(self, inputs: dict[str, str] | None = None, label_field: str = "department",
                 ngram_range: list[int] | None = None, max_features: int = 50_000, C: float = 10.0,
                 class_weight: Literal["balanced"] | None = "balanced", min_class_examples: int = 2,
                 max_iter: int = 2000, calibration: Literal["none", "sigmoid", "isotonic"] = "none",
                 unsure_threshold: float | None = None, unsure_label: str = "普通内科",
                 eval_files: list[EvalFile] | None = None):
        self.inputs = dict(inputs or {"train": "prepare.train", "test": "prepare.test"})
        ngram_range = list(ngram_range or [1, 3])
        if len(ngram_range) != 2 or not 1 <= ngram_range[0] <= ngram_range[1]:
            raise MedqError(f"triage.ngram_range must be [min, max] with 1 <= min <= max, got {list(ngram_range)}")
        if C <= 0:
            raise MedqError(f"triage.C must be positive, got {C}")
        self.label_field = label_field
        self.ngram_range = (int(ngram_range[0]), int(ngram_range[1]))
        self.max_features = max_features
        self.C = C
        self.class_weight = class_weight
        self.min_class_examples = min_class_examples
        self.max_iter = max_iter
        if unsure_threshold is not None and not 0 < unsure_threshold < 1:
            raise MedqError(f"triage.unsure_threshold must be in (0, 1) or null, got {unsure_threshold}")
        self.calibration, self.unsure_threshold, self.unsure_label = calibration, unsure_threshold, unsure_label
        from medq.config import as_dataclass

        self.eval_files = [as_dataclass(EvalFile, f) for f in (eval_files or [])]

    def external_inputs(self) -> list[Path]:
        return [Path(str(f.path)) for f in self.eval_files]

    def build_model(self, seed: int):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline

        classifier = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=self.max_iter,
                                        random_state=seed)
        if self.calibration != "none":
            from sklearn.calibration import CalibratedClassifierCV

            classifier = CalibratedClassifierCV(classifier, method=self.calibration, cv=3)
        return Pipeline([
            ("tfidf", TfidfVectorizer(analyzer="char_wb", ngram_range=self.ngram_range, sublinear_tf=True,
                                      max_features=self.max_features, min_df=1)),
            ("classifier", classifier),
        ])

    def predict(self, model: Any, texts: list[str]) -> list[str]:
        """The department, or `unsure_label` where the top probability is under `unsure_threshold`."""
        if self.unsure_threshold is None:
            return [str(p) for p in model.predict(texts)]
        probabilities = model.predict_proba(texts)
        classes = model.classes_
        return [str(classes[row.argmax()]) if row.max() >= self.unsure_threshold else self.unsure_label
                for row in probabilities]

    def score(self, model: Any, texts: list[str], labels: list[str]) -> tuple[dict[str, float], dict[str, Any]]:
        """Accuracy, macro-F1 over the departments of `labels` (an unsure answer is a miss, never a class of its
        own), how often the model was unsure, and the majority class of these labels as the baseline."""
        from sklearn.metrics import accuracy_score, classification_report, f1_score

        predicted = self.predict(model, texts)
        departments = sorted(set(labels))
        majority = Counter(labels).most_common(1)[0][0]
        unsure = [p == self.unsure_label and self.unsure_threshold is not None for p in predicted]
        confident = [(p, y) for p, y, u in zip(predicted, labels, unsure) if not u]
        metrics = {
            "accuracy": accuracy_score(labels, predicted),
            "macro_f1": f1_score(labels, predicted, labels=departments, average="macro", zero_division=0),
            "baseline.accuracy": accuracy_score(labels, [majority] * len(labels)),
            "baseline.macro_f1": f1_score(labels, [majority] * len(labels), labels=departments, average="macro",
                                          zero_division=0),
            "records": float(len(labels)),
            "unsure_rate": sum(unsure) / len(labels) if labels else 0.0,
            "confident_accuracy": (sum(p == y for p, y in confident) / len(confident)) if confident else 0.0,
        }
        report = classification_report(labels, predicted, labels=departments, output_dict=True, zero_division=0)
        return metrics, {"majority_class": majority, "per_department": report,
                         "zero_f1_departments": [d for d in departments if report[d]["f1-score"] == 0]}

    def run(self, ctx: StageContext) -> dict[str, str]:
        import skops.io
        from sklearn.dummy import DummyClassifier
        from sklearn.metrics import accuracy_score, classification_report, f1_score

        train_path, test_path = Path(ctx.inputs["train"]), Path(ctx.inputs["test"])
        train_x, train_y, train_unlabelled = read_labelled(train_path, self.label_field)
        test_x, test_y, test_unlabelled = read_labelled(test_path, self.label_field)
        for path, labels in ((train_path, train_y), (test_path, test_y)):
            if not labels:
                raise InputDataError(f"{path}: no record has metadata.{self.label_field}: prepare a source that "
                                     "carries departments (prepare/source=dialogue_csv or synthetic, or list the "
                                     "column in prepare.source.metadata_columns)")
        counts = Counter(train_y)
        dropped = sorted(c for c, n in counts.items() if n < self.min_class_examples)
        if dropped:
            log.warning("triage: dropping %d department(s) with < %d training records: %s", len(dropped),
                        self.min_class_examples, dropped)
            keep = [i for i, y in enumerate(train_y) if y not in dropped]
            train_x, train_y = [train_x[i] for i in keep], [train_y[i] for i in keep]
        if len(set(train_y)) < 2:
            raise InputDataError(f"{train_path}: need at least two departments with >= {self.min_class_examples} "
                                 f"records to train a classifier, found {sorted(set(train_y))}")

        started = time.perf_counter()
        model = self.build_model(ctx.seed).fit(train_x, train_y)
        train_seconds = time.perf_counter() - started
        predicted = self.predict(model, test_x)
        # with an unsure answer, macro-F1 averages over the real departments (unsure is a miss, not a class)
        f1_labels = sorted(set(test_y)) if self.unsure_threshold is not None else None
        baseline = DummyClassifier(strategy="most_frequent").fit(train_x, train_y)
        baseline_predicted = list(baseline.predict(test_x))
        # macro-F1 over the departments that occur in the test split or in the predictions (scikit-learn's
        # default): a department with no test record has no F1 to average
        metrics = {
            "accuracy": accuracy_score(test_y, predicted),
            "macro_f1": f1_score(test_y, predicted, labels=f1_labels, average="macro", zero_division=0),
            "baseline.accuracy": accuracy_score(test_y, baseline_predicted),
            "baseline.macro_f1": f1_score(test_y, baseline_predicted, average="macro", zero_division=0),
            "departments": len(set(train_y)),
            "train_records": len(train_y),
            "test_records": len(test_y),
            "unlabelled_records": train_unlabelled + test_unlabelled,
            "train_seconds": train_seconds,
        }
        if self.unsure_threshold is not None:
            metrics["unsure_rate"] = sum(p == self.unsure_label for p in predicted) / len(predicted)
        outside: dict[str, Any] = {}
        for spec in self.eval_files:
            name = spec.name or Path(str(spec.path)).name.split(".")[0]
            texts, labels, skipped = read_eval_file(spec, self.label_field)
            if not labels:
                raise InputDataError(f"{spec.path}: no labelled row (column {spec.label_column!r})")
            scores, detail = self.score(model, texts, labels)
            unknown = sorted(set(labels) - set(train_y))
            outside[name] = {"path": str(spec.path), "metrics": scores, "unlabelled_rows": skipped,
                             "departments_not_trained": unknown, **detail}
            metrics.update({f"eval.{name}.{k}": v for k, v in scores.items()})
            log.info("triage: %s: macro-F1 %.3f accuracy %.3f (majority class %r of that file: macro-F1 %.3f), "
                     "%d records; F1 0 for %s; not in training: %s", name, scores["macro_f1"], scores["accuracy"],
                     detail["majority_class"], scores["baseline.macro_f1"], len(labels),
                     detail["zero_f1_departments"] or "none", unknown or "none")
        log.info("triage: accuracy %.3f macro-F1 %.3f (majority class %r: accuracy %.3f macro-F1 %.3f) on %d test "
                 "records, %d departments", metrics["accuracy"], metrics["macro_f1"], str(baseline_predicted[0]),
                 metrics["baseline.accuracy"], metrics["baseline.macro_f1"], len(test_y), metrics["departments"])
        report = {
            "metrics": metrics,
            "majority_class": str(baseline_predicted[0]),
            "dropped_departments": dropped,
            "train_class_counts": dict(counts.most_common()),
            "per_department": classification_report(test_y, predicted, output_dict=True, zero_division=0),
            "model": {"ngram_range": list(self.ngram_range), "max_features": self.max_features, "C": self.C,
                      "class_weight": self.class_weight, "label_field": self.label_field,
                      "calibration": self.calibration, "unsure_threshold": self.unsure_threshold,
                      "unsure_label": self.unsure_label},
            "eval_files": outside,
        }
        write_json_atomic(ctx.output_dir / "triage_metrics.json", report)
        # skops writes numpy scalars one node at a time (measured: 20k int64 vocabulary entries take 200 s, as
        # Python ints 2 s); the indices are small, so plain ints lose nothing
        vectorizer = model.named_steps["tfidf"]
        vectorizer.vocabulary_ = {term: int(index) for term, index in vectorizer.vocabulary_.items()}
        with atomic_path(ctx.output_dir / MODEL_FILE) as staged:
            skops.io.dump(model, staged)
        ctx.tracker.log_metrics({k: round(float(v), 6) for k, v in metrics.items()})
        ctx.tracker.log_artifact(ctx.output_dir / "triage_metrics.json")
        ctx.tracker.log_artifact(ctx.output_dir / MODEL_FILE)
        return {"model": MODEL_FILE, "metrics": "triage_metrics.json"}

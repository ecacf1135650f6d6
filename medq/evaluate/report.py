"""The comparison's cells, their 95 % intervals, and the table and chart they are shown in.

A cell is one number for one variant: the benchmark, split and n it was computed on, the metric, who scored it
(`exact match`, `lm-eval`, `auditor`, `citation checker`, or the judge's model and rubric version), and a 95 %
interval — Wilson for proportions (scipy's `binomtest(...).proportion_ci`), a percentile bootstrap over the
per-item values otherwise (scipy's `bootstrap`). A cell nobody could score says so (`not measured`, `n/a`) and
why; nothing is imputed.
"""

from __future__ import annotations

import html
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Sequence

Status = Literal["measured", "not measured", "n/a"]


@dataclass
class Cell:
    variant: str
    suite: str               # the metric's prefix: `suite.metric`
    metric: str
    benchmark: str           # what the rows are, e.g. "CMMLU (medical subjects)" or "CMMLU format (demo fixture)"
    split: str
    scorer: str              # exact match, lm-eval, auditor, citation checker, judge:<model>@<rubric>
    status: Status = "measured"
    n: int = 0
    value: float | None = None
    low: float | None = None
    high: float | None = None
    interval: str = ""       # wilson | bootstrap | ""
    note: str = ""           # why a cell is not measured, unparseable verdicts, extraction failures
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.suite}.{self.metric}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def wilson(successes: int, n: int) -> tuple[float | None, float | None]:
    """95 % Wilson score interval of a proportion (scipy)."""
    if n <= 0:
        return None, None
    from scipy.stats import binomtest

    ci = binomtest(int(successes), int(n)).proportion_ci(confidence_level=0.95, method="wilson")
    return float(ci.low), float(ci.high)


def bootstrap(values: Sequence[float], statistic: str = "mean", seed: int = 0,
              resamples: int = 2000) -> tuple[float | None, float | None]:
    """95 % percentile bootstrap interval of the mean or median of per-item values (scipy)."""
    values = [float(v) for v in values]
    if len(values) < 2:
        return None, None
    if len(set(values)) == 1:
        return values[0], values[0]
    import numpy as np
    from scipy.stats import bootstrap as scipy_bootstrap

    function = np.mean if statistic == "mean" else np.median
    result = scipy_bootstrap((np.asarray(values),), function, confidence_level=0.95, n_resamples=resamples,
                             method="percentile", random_state=np.random.default_rng(seed), vectorized=False)
    low, high = result.confidence_interval
    return float(low), float(high)


def proportion_cell(successes: int, n: int, **fields: Any) -> Cell:
    low, high = wilson(successes, n)
    return Cell(n=n, value=successes / n if n else None, low=low, high=high, interval="wilson",
                status="measured" if n else "not measured", **fields)


def mean_cell(values: Sequence[float], statistic: str = "mean", **fields: Any) -> Cell:
    import statistics

    values = [float(v) for v in values]
    if not values:
        return Cell(n=0, status="not measured", **{"note": "no values", **fields})
    low, high = bootstrap(values, statistic)
    value = statistics.fmean(values) if statistic == "mean" else statistics.median(values)
    return Cell(n=len(values), value=value, low=low, high=high, interval="bootstrap", **fields)


def missing_cell(status: Status, note: str, **fields: Any) -> Cell:
    return Cell(status=status, note=note, **fields)


# -- rendering ---------------------------------------------------------------------------------------------------

def format_value(cell: Cell) -> str:
    if cell.status != "measured" or cell.value is None:
        return cell.status
    text = _number(cell.value)
    if cell.low is not None and cell.high is not None:
        text += f" [{_number(cell.low)}, {_number(cell.high)}]"
    return text


def _number(value: float) -> str:
    if math.isnan(value):
        return "nan"
    return f"{value:.3f}" if abs(value) < 100 else f"{value:.1f}"


def describe(cell: Cell) -> str:
    """What the number is: benchmark, split, n, metric and scorer (the interval's method when there is one)."""
    parts = [cell.benchmark, f"split={cell.split}", f"n={cell.n}", cell.key, f"scorer={cell.scorer}"]
    if cell.interval:
        parts.append(f"95% {cell.interval}")
    if cell.note:
        parts.append(cell.note)
    return "; ".join(parts)


def rows_by_metric(cells: Sequence[Cell]) -> tuple[list[str], list[str], dict[tuple[str, str], Cell]]:
    variants = list(dict.fromkeys(c.variant for c in cells))
    metrics = list(dict.fromkeys(c.key for c in cells))
    return variants, metrics, {(c.key, c.variant): c for c in cells}


def markdown_table(cells: Sequence[Cell], title: str) -> str:
    variants, metrics, index = rows_by_metric(cells)
    lines = [f"# {title}", "", "Each cell: value [95 % interval], then what it was computed on.", "",
             "| metric | " + " | ".join(variants) + " |", "|---|" + "---|" * len(variants)]
    for metric in metrics:
        row = [metric]
        for variant in variants:
            cell = index.get((metric, variant))
            row.append("" if cell is None else f"{format_value(cell)}<br><sub>{_md(describe(cell))}</sub>")
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def html_table(cells: Sequence[Cell], title: str) -> str:
    variants, metrics, index = rows_by_metric(cells)
    head = "".join(f"<th>{html.escape(v)}</th>" for v in variants)
    body = []
    for metric in metrics:
        tds = []
        for variant in variants:
            cell = index.get((metric, variant))
            if cell is None:
                tds.append("<td></td>")
                continue
            css = "measured" if cell.status == "measured" else "missing"
            tds.append(f'<td class="{css}"><b>{html.escape(format_value(cell))}</b><br>'
                       f"<small>{html.escape(describe(cell))}</small></td>")
        body.append(f"<tr><th>{html.escape(metric)}</th>{''.join(tds)}</tr>")
    style = ("table{border-collapse:collapse;font-family:sans-serif;font-size:13px}td,th{border:1px solid #ccc;"
             "padding:4px;vertical-align:top}td.missing{color:#888;background:#f6f6f6}small{color:#555}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{style}</style></head><body><h1>{html.escape(title)}</h1>"
            f"<table><tr><th>metric</th>{head}</tr>{''.join(body)}</table></body></html>\n")


def chart(cells: Sequence[Cell], path: Path, title: str) -> Path:
    """One panel per proportion-like metric (values in [0, 1]): a bar per variant with its 95 % interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    variants, metrics, index = rows_by_metric(cells)
    shown = [m for m in metrics if any(c.status == "measured" and c.value is not None and 0 <= c.value <= 1
                                       and c.interval == "wilson" for v in variants
                                       if (c := index.get((m, v))) is not None)]
    shown = shown or metrics[:1]
    columns = min(3, max(1, len(shown)))
    rows = math.ceil(len(shown) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.2 * rows), squeeze=False)
    for number, metric in enumerate(shown):
        ax = axes[number // columns][number % columns]
        values, errors, labels = [], [[], []], []
        for variant in variants:
            cell = index.get((metric, variant))
            ok = cell is not None and cell.status == "measured" and cell.value is not None
            value = cell.value if ok else 0.0
            values.append(value)
            errors[0].append(value - cell.low if ok and cell.low is not None else 0.0)
            errors[1].append(cell.high - value if ok and cell.high is not None else 0.0)
            labels.append(variant if ok else f"{variant}\n({cell.status if cell else 'absent'})")
        ax.bar(range(len(variants)), values, yerr=errors, capsize=3, color="#4c72b0")
        ax.set_xticks(range(len(variants)), labels, rotation=30, ha="right", fontsize=7)
        ax.set_title(metric, fontsize=9)
        ax.set_ylim(0, 1)
    for number in range(len(shown), rows * columns):
        axes[number // columns][number % columns].axis("off")
    figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path

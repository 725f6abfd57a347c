"""The comparison rendered for people: a Markdown report and a self-contained HTML page.

Both are built from the same :class:`ReportContent` and the same sentences and cells, so they
can never tell different stories. The HTML embeds its figures as base64 PNG data URIs and
loads nothing else, so it can be mailed, archived or opened offline as one file.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from energy_forecast.report.compare import REPORT_SPLIT, SELECTION_SPLIT, Comparison
from energy_forecast.report.naive import HOUSEHOLD_MEAN, PERSISTENCE
from energy_forecast.report.table import TABLE_TITLES, table_rows

TITLE = "Energy forecast report"
_NAIVE_DESCRIPTIONS = {
    PERSISTENCE: "the household's energy on the previous calendar day; if that day is missing, "
    "its most recent earlier day; with no earlier day, the training-split mean",
    HOUSEHOLD_MEAN: "the mean of the household's energy on every earlier date; with no earlier "
    "date, the training-split mean",
}
_IMPROVEMENT_TITLES = ["model", "RMSE lower by kWh", "RMSE lower by %"]
_CSS = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f3f3f3; }
img { max-width: 100%; border: 1px solid #eee; }
pre { background: #f6f6f6; padding: 0.75rem; overflow-x: auto; }
"""


@dataclass(frozen=True)
class ReportSection:
    """A titled block of sentences and an optional table, added by a stage beyond the
    model comparison (the promotion decision, the registry's history, the backtest)."""

    title: str
    sentences: Sequence[str] = ()
    titles: Sequence[str] = ()
    rows: Sequence[Sequence[str]] = ()
    label_columns: int = 1
    figure: Path | None = None  # a PNG shown after the table


@dataclass(frozen=True)
class ReportContent:
    """Everything a report shows; ``figures`` maps a caption to its PNG file."""

    comparison: Comparison
    naive_fallbacks: Mapping[str, Mapping[str, int]]
    training_mean_kwh: float
    run_info: Mapping[str, Any]
    figures: Mapping[str, Path] = field(default_factory=dict)
    notes: Sequence[str] = ()
    sections: Sequence[ReportSection] = ()


def summary_sentences(comparison: Comparison) -> list[str]:
    """The headline in plain sentences: who won on validation, and by how much on test."""
    challenger, runner_up = comparison.challenger, comparison.runner_up
    challenger_val = comparison.rmse(challenger, SELECTION_SPLIT)
    challenger_test = comparison.rmse(challenger, REPORT_SPLIT)
    if runner_up is None:
        sentences = [
            f"Challenger: {challenger}, the only trained model "
            f"(validation RMSE {_kwh(challenger_val)})."
        ]
    else:
        runner_val = comparison.rmse(runner_up, SELECTION_SPLIT)
        test_kwh, test_pct = comparison.margin(REPORT_SPLIT)
        direction = "lower" if test_kwh >= 0 else "higher"
        sentences = [
            f"Challenger: {challenger}, chosen on validation RMSE "
            f"({_kwh(challenger_val)} against {_kwh(runner_val)} for {runner_up}).",
            f"On test, {challenger} has RMSE {_kwh(challenger_test)}, "
            f"{_kwh(abs(test_kwh))} ({_number(abs(test_pct), '.1f')}%) {direction} than "
            f"{runner_up} ({_kwh(comparison.rmse(runner_up, REPORT_SPLIT))}).",
        ]
        if test_kwh < 0:
            sentences.append(
                "The test split only reports: the choice is made on validation and stands."
            )
    persistence_kwh, persistence_pct = comparison.improvement_over(challenger)
    sentences.append(
        f"Against persistence on test, {challenger}'s RMSE is {_kwh(abs(persistence_kwh))} "
        f"({_number(abs(persistence_pct), '.1f')}%) "
        f"{'lower' if persistence_kwh >= 0 else 'higher'}."
    )
    return sentences


def render_markdown(content: ReportContent) -> str:
    """The report as Markdown; figures are linked by file name, next to the report."""
    lines = [f"# {TITLE}", ""]
    lines += [f"- {sentence}" for sentence in summary_sentences(content.comparison)]
    lines += ["", "## Metrics (kWh)", ""]
    lines += _markdown_table(list(TABLE_TITLES), _metric_rows(content), label_columns=2)
    lines += [
        "",
        "`*` challenger, chosen on validation RMSE among trained models; the naive "
        "baselines are references only.",
        "",
    ]
    lines += ["## Improvement over persistence (test RMSE)", ""]
    lines += _markdown_table(
        _IMPROVEMENT_TITLES, _improvement_rows(content.comparison), label_columns=1
    )
    for section in content.sections:
        lines += ["", f"## {section.title}", ""]
        lines += [f"- {sentence}" for sentence in section.sentences]
        if section.rows:
            lines += [""] if section.sentences else []
            lines += _markdown_table(section.titles, section.rows, section.label_columns)
        if section.figure:
            lines += ["", f"![{section.title}]({section.figure.name})"]
    lines += ["", "## Naive baselines", ""]
    lines += [f"- {sentence}" for sentence in _naive_sentences(content)]
    if content.figures:
        lines += ["", "## Figures"]
        for caption, path in content.figures.items():
            lines += ["", f"### {caption}", "", f"![{caption}]({path.name})"]
    if content.notes:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in content.notes]
    lines += ["", "## Run info", "", "```json", _json(content.run_info), "```", ""]
    return "\n".join(lines)


def render_html(content: ReportContent) -> str:
    """The report as one HTML page with every figure embedded as a data URI."""
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{esc(TITLE)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(TITLE)}</h1>",
        _html_list(summary_sentences(content.comparison)),
        "<h2>Metrics (kWh)</h2>",
        _html_table(list(TABLE_TITLES), _metric_rows(content), label_columns=2),
        "<p><code>*</code> challenger, chosen on validation RMSE among trained models; the naive "
        "baselines are references only.</p>",
        "<h2>Improvement over persistence (test RMSE)</h2>",
        _html_table(_IMPROVEMENT_TITLES, _improvement_rows(content.comparison), label_columns=1),
    ]
    for section in content.sections:
        parts.append(f"<h2>{esc(section.title)}</h2>")
        if section.sentences:
            parts.append(_html_list(section.sentences))
        if section.rows:
            parts.append(_html_table(section.titles, section.rows, section.label_columns))
        if section.figure:
            parts.append(f'<img alt="{esc(section.title)}" src="{_data_uri(section.figure)}">')
    parts += ["<h2>Naive baselines</h2>", _html_list(_naive_sentences(content))]
    if content.figures:
        parts.append("<h2>Figures</h2>")
        for caption, path in content.figures.items():
            parts.append(
                f'<figure><img alt="{esc(caption)}" src="{_data_uri(path)}">'
                f"<figcaption>{esc(caption)}</figcaption></figure>"
            )
    if content.notes:
        parts += ["<h2>Notes</h2>", _html_list(content.notes)]
    parts += ["<h2>Run info</h2>", f"<pre>{esc(_json(content.run_info))}</pre>", "</body></html>"]
    return "\n".join(parts) + "\n"


def _metric_rows(content: ReportContent) -> list[list[str]]:
    return table_rows(content.comparison.metrics, content.comparison.challenger)


def _improvement_rows(comparison: Comparison) -> list[list[str]]:
    rows = []
    for model in comparison.metrics:
        if model != PERSISTENCE:
            kwh, percent = comparison.improvement_over(model)
            rows.append([model, _number(kwh, "+.3f"), _number(percent, "+.1f")])
    return rows


def _naive_sentences(content: ReportContent) -> list[str]:
    sentences = [
        f"{name}: {_NAIVE_DESCRIPTIONS[name]}. Rows by source: "
        + ", ".join(f"{source.replace('_', ' ')} {count}" for source, count in counts.items())
        + "."
        for name, counts in content.naive_fallbacks.items()
    ]
    sentences.append(
        f"Training-split mean (the fallback): {_kwh(content.training_mean_kwh)}. Only days "
        "strictly before each target day are used; nothing from the target day."
    )
    return sentences


def _markdown_table(
    titles: Sequence[str], rows: Sequence[Sequence[str]], label_columns: int
) -> list[str]:
    separator = ["---" if i < label_columns else "---:" for i in range(len(titles))]
    return [_markdown_row(titles), _markdown_row(separator)] + [_markdown_row(r) for r in rows]


def _markdown_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _html_table(titles: Sequence[str], rows: Sequence[Sequence[str]], label_columns: int) -> str:
    head = "".join(f"<th>{html.escape(title)}</th>" for title in titles)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(cell)}</td>"
            if i < label_columns
            else f'<td class="num">{html.escape(cell)}</td>'
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html_list(items: Sequence[str]) -> str:
    return "<ul>" + "".join(f"<li>{html.escape(item)}</li>" for item in items) + "</ul>"


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _json(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, indent=2, sort_keys=True, default=str)


def _kwh(value: float) -> str:
    return f"{_number(value, '.3f')} kWh"


def _number(value: float, fmt: str) -> str:
    return "n/a" if value is None or math.isnan(value) else format(value, fmt)

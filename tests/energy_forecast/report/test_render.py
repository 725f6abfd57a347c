"""The Markdown and HTML reports tell the same story; the HTML needs nothing but itself."""

from __future__ import annotations

import re
from pathlib import Path

from energy_forecast.report.compare import compare_models
from energy_forecast.report.render import (
    ReportContent,
    render_html,
    render_markdown,
    summary_sentences,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def scores(val_rmse: float, test_rmse: float) -> dict[str, dict[str, float]]:
    return {
        split: {"n": 10, "mae": r, "rmse": r, "mape": 10.0, "r2": 0.5}
        for split, r in (("val", val_rmse), ("test", test_rmse))
    }


METRICS = {
    "lstm": scores(1.4, 1.6),
    "xgboost": scores(1.5, 1.5),
    "persistence": scores(2.0, 2.0),
    "household_mean": scores(1.6, 1.7),
}


def content(tmp_path: Path) -> ReportContent:
    figure = tmp_path / "figure.png"
    figure.write_bytes(PNG)
    return ReportContent(
        comparison=compare_models(METRICS, trained=["lstm", "xgboost"]),
        naive_fallbacks={"persistence": {"previous_day": 9, "earlier_day": 1, "training_mean": 0}},
        training_mean_kwh=10.0,
        run_info={"source": "<script>alert(1)</script>"},
        figures={"A figure": figure},
        notes=["Learning curve skipped."],
    )


def test_a_challenger_that_loses_on_test_is_reported_honestly() -> None:
    sentences = summary_sentences(compare_models(METRICS, trained=["lstm", "xgboost"]))

    assert sentences[0].startswith("Challenger: lstm, chosen on validation RMSE")
    assert "0.100 kWh (6.7%) higher than xgboost" in sentences[1]
    assert "choice is made on validation and stands" in sentences[2]
    assert "0.400 kWh (20.0%) lower" in sentences[3]


def test_html_embeds_figures_as_data_uris_and_loads_nothing_external(tmp_path: Path) -> None:
    page = render_html(content(tmp_path))

    sources = re.findall(r'<img[^>]*\ssrc="([^"]*)"', page)
    assert sources and all(src.startswith("data:image/png;base64,") for src in sources)
    assert not re.search(r"<(script|link|iframe)\b", page)
    assert not re.search(r"(src|href)=\"(?!data:)", page)
    assert "&lt;script&gt;" in page  # run info is escaped, not executed


def test_both_reports_contain_every_model_and_the_notes(tmp_path: Path) -> None:
    report = content(tmp_path)

    for text in (render_markdown(report), render_html(report)):
        for model in METRICS:
            assert model in text
        assert "Learning curve skipped." in text
        assert "10.000 kWh" in text  # the training-split mean
    assert "![A figure](figure.png)" in render_markdown(report)

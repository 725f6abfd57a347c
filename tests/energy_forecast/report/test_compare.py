"""The challenger is the trained model with the lowest validation RMSE; test only reports."""

from __future__ import annotations

import math

import pytest

from energy_forecast.report.compare import choose_challenger, compare_models


def scores(val_rmse: float, test_rmse: float) -> dict[str, dict[str, float]]:
    return {"val": {"rmse": val_rmse, "n": 10}, "test": {"rmse": test_rmse, "n": 10}}


METRICS = {
    "lstm": scores(val_rmse=1.40, test_rmse=1.60),  # best on validation, worse on test
    "xgboost": scores(val_rmse=1.50, test_rmse=1.50),
    "persistence": scores(val_rmse=2.00, test_rmse=2.00),
    "household_mean": scores(val_rmse=1.00, test_rmse=1.00),  # best of all, but not trained
}


def test_challenger_is_chosen_on_validation_even_when_the_other_model_wins_on_test() -> None:
    comparison = compare_models(METRICS, trained=["lstm", "xgboost"])

    assert comparison.challenger == "lstm"
    assert comparison.runner_up == "xgboost"


def test_naive_baselines_are_never_challenger() -> None:
    assert choose_challenger(METRICS, ["xgboost", "lstm"])[0] == "lstm"
    assert compare_models(METRICS, trained=["xgboost"]).challenger == "xgboost"


def test_test_margin_is_runner_up_minus_challenger_in_kwh_and_percent() -> None:
    comparison = compare_models(METRICS, trained=["lstm", "xgboost"])

    kwh, percent = comparison.margin("test")

    assert kwh == pytest.approx(-0.10)  # negative: the challenger is worse on test
    assert percent == pytest.approx(-0.10 / 1.50 * 100)
    assert comparison.margin("val") == pytest.approx((0.10, 0.10 / 1.50 * 100))


def test_every_model_is_measured_against_persistence_on_test() -> None:
    summary = compare_models(METRICS, trained=["lstm", "xgboost"]).as_dict()

    improvements = summary["improvement_over_persistence_test"]
    assert set(improvements) == {"lstm", "xgboost", "household_mean"}
    assert improvements["xgboost"]["rmse_kwh"] == pytest.approx(0.50)
    assert improvements["xgboost"]["rmse_percent"] == pytest.approx(25.0)
    assert summary["challenger"] == {"model": "lstm", "val_rmse_kwh": 1.40, "test_rmse_kwh": 1.60}
    assert summary["selection"] == {"split": "val", "metric": "rmse"}


def test_a_single_trained_model_wins_without_a_margin() -> None:
    comparison = compare_models(METRICS, trained=["xgboost"])

    assert comparison.runner_up is None
    assert all(math.isnan(value) for value in comparison.margin("test"))


def test_ties_go_to_the_model_listed_first() -> None:
    tied = {"lstm": scores(1.0, 2.0), "xgboost": scores(1.0, 1.0)}

    assert choose_challenger(tied, ["xgboost", "lstm"]) == ("xgboost", "lstm")


def test_no_validation_rmse_means_no_challenger() -> None:
    without_val = {"lstm": {"test": {"rmse": 1.0}}, "xgboost": {"val": {"rmse": math.nan}}}

    with pytest.raises(ValueError, match="validation RMSE"):
        choose_challenger(without_val, ["lstm", "xgboost"])

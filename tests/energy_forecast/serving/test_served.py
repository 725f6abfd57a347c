"""Served scoring changes the target day's temperature, and nothing else, in the written test
rows: with the actual temperatures it gives each model's own test predictions."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from energy_forecast.features.manifest import FeaturesManifest
from energy_forecast.serving import served
from energy_forecast.serving.temperatures import FORECAST_TEMPERATURE, by_household_and_day

KEY = ["household_id", "date"]


@pytest.fixture(scope="module")
def manifest(small_features: dict) -> FeaturesManifest:
    return FeaturesManifest.load(small_features["manifest_path"])


@pytest.fixture(scope="module")
def lstm_dir(manifest: FeaturesManifest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.builders import save_untrained_lstm

    folder = tmp_path_factory.mktemp("lstm")
    save_untrained_lstm(manifest.shape, folder)
    return folder


def _test_inputs(manifest: FeaturesManifest) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Every row group of the written test split, concatenated."""
    parts = [served.read_inputs(group, manifest) for group in manifest.row_groups("test")]
    keys = pd.concat([k for k, _ in parts], ignore_index=True)
    return keys, {name: np.concatenate([a[name] for _, a in parts]) for name in parts[0][1]}


def _own_test_predictions(
    kind: str, manifest: FeaturesManifest, lstm_dir: Path, baseline: dict[str, str]
) -> pd.DataFrame:
    """What training wrote (XGBoost: through Spark) or writes (LSTM) for the test split."""
    if kind == "xgboost":
        written = pd.read_parquet(baseline["predictions"])
        return written[written["split"] == "test"]
    from energy_forecast.training import artifacts
    from energy_forecast.training.evaluate import predict_split

    groups = manifest.row_groups("test")
    model = artifacts.load_model(lstm_dir)
    return predict_split(model, groups, manifest.shape, manifest.target_scale)


def _model_dir(kind: str, lstm_dir: Path, baseline: dict[str, str]) -> Path:
    return lstm_dir if kind == "lstm" else Path(baseline["model"])


@pytest.mark.spark
@pytest.mark.parametrize("kind", ["lstm", "xgboost"])
def test_with_the_actual_temperatures_served_scoring_gives_the_models_own_test_predictions(
    kind: str, manifest: FeaturesManifest, lstm_dir: Path, small_baseline: dict[str, str]
) -> None:
    keys, arrays = _test_inputs(manifest)
    actual = served.actual_temperatures(arrays, manifest)

    inputs = served.with_target_day_temperature(arrays, manifest, actual)
    predict = served.predictor(kind, _model_dir(kind, lstm_dir, small_baseline), manifest)
    predicted = predict(inputs)

    own = _own_test_predictions(kind, manifest, lstm_dir, small_baseline)
    merged = own.merge(keys.assign(served=predicted), on=KEY, validate="one_to_one")
    assert len(merged) == len(keys) == manifest.split_rows["test"] > 0
    np.testing.assert_allclose(merged["served"], merged["predicted_kwh"], rtol=1e-5)


@pytest.mark.spark
def test_only_the_target_days_temperature_changes_in_static_and_tabular_inputs(
    manifest: FeaturesManifest,
) -> None:
    _, arrays = _test_inputs(manifest)
    rows = len(arrays["target"])
    shape = manifest.shape
    scale = manifest.scale_of("avg_temperature_c")

    changed = served.with_target_day_temperature(arrays, manifest, np.full(rows, 42.0))

    for name in ("sequence", "mask", "target"):
        np.testing.assert_array_equal(changed[name], arrays[name])
    slot = served.TEMPERATURE_SLOT
    tabular_slot = shape.sequence_length * shape.sequence_features + slot
    np.testing.assert_allclose(changed["static"][:, slot], (42.0 - scale.mean) / scale.std, 1e-6)
    np.testing.assert_allclose(changed["tabular"][:, tabular_slot], changed["static"][:, slot])
    others = np.ones(changed["tabular"].shape[1], dtype=bool)
    others[tabular_slot] = False
    np.testing.assert_array_equal(changed["tabular"][:, others], arrays["tabular"][:, others])
    np.testing.assert_array_equal(
        np.delete(changed["static"], slot, 1), np.delete(arrays["static"], slot, 1)
    )


@pytest.mark.spark
@pytest.mark.parametrize("kind", ["lstm", "xgboost"])
def test_served_rmse_equals_the_test_rmse_when_the_forecast_table_holds_the_actual_temperatures(
    kind: str,
    manifest: FeaturesManifest,
    lstm_dir: Path,
    small_baseline: dict[str, str],
    small_features: dict,
) -> None:
    validated = pd.read_parquet(small_features["validated"])
    test_days = {date.fromisoformat(d) for d in manifest.split_dates["test"]}
    on_test_days = validated[validated["date"].isin(test_days)]
    perfect = on_test_days.rename(columns={"avg_temperature_c": FORECAST_TEMPERATURE})
    model_dir = _model_dir(kind, lstm_dir, small_baseline)

    with_table = served.served_test_rmse(
        kind,
        model_dir,
        manifest,
        small_features["validated"],
        perfect[[*KEY, FORECAST_TEMPERATURE]],
    )
    with_means = served.served_test_rmse(kind, model_dir, manifest, small_features["validated"])

    own = _own_test_predictions(kind, manifest, lstm_dir, small_baseline)
    test_rmse = float(np.sqrt(np.mean((own["predicted_kwh"] - own["actual_kwh"]) ** 2)))
    assert with_table == pytest.approx(test_rmse, rel=1e-5)
    assert with_means != pytest.approx(test_rmse, rel=1e-5)  # the proxy reaches the model


def test_the_forecast_table_wins_then_the_households_mean_then_the_actual_temperature() -> None:
    keys = pd.DataFrame(
        {"household_id": ["A", "B", "C"], "date": pd.to_datetime(["2025-04-08"] * 3)}
    )
    table = pd.DataFrame(
        {
            "household_id": ["A", "B"],
            "date": [date(2025, 4, 8), date(2025, 4, 9)],  # B's row is for another day
            FORECAST_TEMPERATURE: [30.0, 99.0],
        }
    )

    temperatures = served.served_temperatures(
        keys,
        np.array([1.0, 2.0, 3.0]),
        pd.Series({"A": 20.0, "B": 21.0}),
        by_household_and_day(table),
    )

    np.testing.assert_array_equal(temperatures, [30.0, 21.0, 3.0])


def test_household_means_cover_only_the_days_before_the_test_split(tmp_path: Path) -> None:
    from tests.builders import START, validated_frame

    frame = validated_frame(households=2, days=4)
    path = tmp_path / "validated.parquet"
    frame.to_parquet(path, index=False)
    first_test_day = date.fromordinal(START.toordinal() + 3)

    means = served.household_mean_temperatures(path, first_test_day)

    before = frame[frame["date"] < first_test_day]
    expected = before.groupby("household_id")["avg_temperature_c"].mean().to_dict()
    assert means.to_dict() == pytest.approx(expected)

"""The check between preprocessing and training: every validated row became a feature row."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from airflow.sdk.exceptions import AirflowFailException

from energy_forecast import columns as C
from energy_forecast.orchestration.tasks import check_features


def _raw(tmp_path: Path, validated_rows: int, split_rows: dict[str, int]) -> dict[str, str]:
    """A validated Parquet of ``validated_rows`` rows and a features manifest beside it."""
    validated = tmp_path / "raw" / "validated.parquet"
    validated.parent.mkdir(parents=True)
    pd.DataFrame({"household_id": [f"H{i:05d}" for i in range(validated_rows)]}).to_parquet(
        validated, index=False
    )
    features_dir = tmp_path / "features"
    features_dir.mkdir()
    manifest = {
        "settings": {"sequence_length": 3},
        "sequence_features": list(C.SEQUENCE_INPUTS),
        "static_features": list(C.STATIC_FEATURES),
        "target": C.TARGET,
        "target_kwh": C.TARGET_KWH,
        "scaler": {C.TARGET_KWH: {"mean": 5.0, "std": 2.0}},
        "pipeline_model": str(features_dir / "pipeline_model"),
        "splits": {
            name: {"path": str(features_dir / name), "rows": rows}
            for name, rows in split_rows.items()
        },
    }
    (features_dir / "manifest.json").write_text(json.dumps(manifest))
    return {"validated": str(validated), "features_dir": str(features_dir)}


def test_check_features_returns_the_split_paths_when_the_counts_add_up(
    tmp_path: Path,
) -> None:
    raw = _raw(tmp_path, 10, {"train": 6, "val": 2, "test": 2})
    features_dir = Path(raw["features_dir"])

    outputs = check_features(raw)

    assert outputs == {
        "manifest": str(features_dir / "manifest.json"),
        "pipeline_model": str(features_dir / "pipeline_model"),
        "train": str(features_dir / "train"),
        "val": str(features_dir / "val"),
        "test": str(features_dir / "test"),
    }


def test_check_features_raises_naming_the_counts_when_rows_do_not_add_up(
    tmp_path: Path,
) -> None:
    raw = _raw(tmp_path, 10, {"train": 5, "val": 2, "test": 2})

    with pytest.raises(ValueError, match="do not add up") as error:
        check_features(raw)

    message = str(error.value)
    assert "{'train': 5, 'val': 2, 'test': 2}" in message
    assert "10 validated rows" in message


def test_check_features_fails_without_retries_naming_an_empty_split(tmp_path: Path) -> None:
    raw = _raw(tmp_path, 10, {"train": 8, "val": 2, "test": 0})

    with pytest.raises(AirflowFailException, match=r"\['test'\] are empty"):
        check_features(raw)


def test_check_features_raises_file_not_found_when_the_manifest_is_missing(
    tmp_path: Path,
) -> None:
    raw = _raw(tmp_path, 10, {"train": 6, "val": 2, "test": 2})
    (Path(raw["features_dir"]) / "manifest.json").unlink()

    with pytest.raises(FileNotFoundError, match="manifest"):
        check_features(raw)

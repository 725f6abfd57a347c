"""The features manifest is checked before any compute, with errors that name the problem."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from energy_forecast import columns as C
from energy_forecast.features.manifest import FeaturesManifest, ManifestError
from tests.feature_files import (
    SAMPLE_SCALE,
    sample_table,
    write_features,
    write_split,
)


@pytest.fixture
def manifest_path(tmp_path: Path) -> Path:
    return write_features(tmp_path / "features", rows={"train": 40, "val": 10, "test": 10})


def _edit(path: Path, **changes: object) -> None:
    raw = json.loads(path.read_text())
    raw.update(changes)
    path.write_text(json.dumps(raw))


def test_a_complete_manifest_loads_with_its_target_scale(manifest_path: Path) -> None:
    manifest = FeaturesManifest.load(manifest_path)

    assert manifest.sequence_length == 7
    assert (manifest.target_scale.mean, manifest.target_scale.std) == (
        SAMPLE_SCALE["mean"],
        SAMPLE_SCALE["std"],
    )
    assert sum(g.rows for g in manifest.validate_splits()["train"]) == 40


def test_a_missing_manifest_says_to_run_preprocessing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="run preprocessing"):
        FeaturesManifest.load(tmp_path / "manifest.json")


def test_missing_keys_are_named(manifest_path: Path) -> None:
    raw = json.loads(manifest_path.read_text())
    del raw["scaler"]
    manifest_path.write_text(json.dumps(raw))

    with pytest.raises(ManifestError, match="scaler"):
        FeaturesManifest.load(manifest_path)


def test_a_zero_target_std_cannot_unscale(manifest_path: Path) -> None:
    _edit(manifest_path, scaler={"energy_kwh": {"mean": 1.0, "std": 0.0}})

    with pytest.raises(ManifestError, match="unusable target scale"):
        FeaturesManifest.load(manifest_path)


def test_an_empty_split_is_refused(manifest_path: Path) -> None:
    manifest = FeaturesManifest.load(manifest_path)
    val = manifest.split_paths["val"]
    shutil.rmtree(val)
    write_split(val, sample_table(0, "val"), [[0]])

    with pytest.raises(ManifestError, match=r"split 'val' .* has no rows"):
        manifest.validate_splits()


def test_a_missing_split_folder_is_refused(manifest_path: Path) -> None:
    manifest = FeaturesManifest.load(manifest_path)
    shutil.rmtree(manifest.split_paths["test"])

    with pytest.raises(ManifestError, match=r"split 'test' folder .* does not exist"):
        manifest.validate_splits()


def test_a_split_without_the_model_columns_is_refused(manifest_path: Path) -> None:
    manifest = FeaturesManifest.load(manifest_path)
    train = manifest.split_paths["train"]
    shutil.rmtree(train)
    table = sample_table(10, "train")
    write_split(train, table.drop_columns(["mask"]), [[10]])

    with pytest.raises(ManifestError, match=r"lacks columns \['mask'\]"):
        manifest.validate_splits()


def test_what_write_manifest_writes_load_reads_back(tmp_path: Path) -> None:
    from energy_forecast.features.manifest import SplitSummary, write_manifest
    from energy_forecast.settings import FeatureSettings

    path = tmp_path / "manifest.json"
    stats = {"mean": 10.0, "std": 2.0}
    write_manifest(
        path,
        tmp_path,
        validated=tmp_path / "validated.parquet",
        settings=FeatureSettings(sequence_length=5),
        columns=["household_id"],
        scaler={C.TARGET_KWH: stats, C.TEMPERATURE: stats},
        splits={name: SplitSummary(3, 1, 1, ["2025-04-01"]) for name in C.SPLITS},
        next_day_rows=2,
        estimated_row_bytes=100.0,
        timings_s={"total": 1.0},
    )

    manifest = FeaturesManifest.load(path)

    assert manifest.sequence_length == 5
    assert manifest.target_scale.mean == 10.0 and manifest.target_scale.std == 2.0
    assert manifest.split_rows == {name: 3 for name in C.SPLITS}
    assert manifest.split_paths == {name: tmp_path / name for name in C.SPLITS}
    assert "sequence_length" not in json.loads(path.read_text())  # only under settings

"""The preprocessing application: split, fit on training rows, write features atomically."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from energy_forecast.settings import FeatureSettings
from tests.builders import validated_frame

pytestmark = pytest.mark.spark

SETTINGS = FeatureSettings(sequence_length=3, test_days=1, val_days=1, rows_per_row_group=7)


def _validated(path: Path, households: int = 6, days: int = 6, seed: int = 0) -> pd.DataFrame:
    frame = validated_frame(households, days, seed, missing={(0, 2)})  # household 0 misses a day
    frame.to_parquet(path, index=False)
    return frame


def _read(folder: Path) -> pd.DataFrame:
    frame = pd.read_parquet(folder, columns=["household_id", "date", "sequence", "mask", "static"])
    return frame.sort_values(["household_id", "date"]).reset_index(drop=True)


def _run(spark, tmp_path: Path, frame: pd.DataFrame | None = None, name: str = "features"):
    from energy_forecast.features.app import run_preprocess

    validated = tmp_path / f"{name}.parquet"
    if frame is None:
        _validated(validated)
    else:
        frame.to_parquet(validated, index=False)
    return run_preprocess(spark, validated, tmp_path / name, SETTINGS)


def test_every_input_row_lands_in_exactly_one_split(spark, tmp_path):
    manifest = _run(spark, tmp_path)

    rows = {name: split["rows"] for name, split in manifest["splits"].items()}
    assert rows == {"train": 4 * 6 - 1, "val": 6, "test": 6}
    assert sum(rows.values()) == manifest["input_rows"]
    for split in manifest["splits"].values():
        assert len(pd.read_parquet(split["path"])) == split["rows"]
        assert split["row_groups"] >= split["rows"] / SETTINGS.rows_per_row_group
    assert manifest["splits"]["test"]["dates"] == ["2025-04-06"]


def test_one_next_day_row_per_household_is_written_beside_the_splits(spark, tmp_path):
    manifest = _run(spark, tmp_path)

    next_day = pd.read_parquet(manifest["next_day"]["path"])
    assert manifest["next_day"]["rows"] == len(next_day) == 6
    assert set(next_day["split"]) == {"next_day"} and next_day["energy_kwh"].isna().all()
    assert set(next_day["date"].astype(str)) == {"2025-04-07"}
    for split in manifest["splits"].values():
        assert "next_day" not in set(pd.read_parquet(split["path"], columns=["split"])["split"])


def test_manifest_on_disk_matches_the_returned_one(spark, tmp_path):
    manifest = _run(spark, tmp_path)

    on_disk = json.loads((tmp_path / "features" / "manifest.json").read_text())
    assert on_disk == json.loads(json.dumps(manifest))
    assert set(on_disk["scaler"]) == {
        "avg_temperature_c",
        "peak_hours_usage_kwh",
        "energy_kwh",
        "household_size",
    }


def test_saved_pipeline_model_reproduces_the_written_features(spark, tmp_path):
    from energy_forecast.features.pipeline import scaler_statistics
    from energy_forecast.features.saved_pipeline import load_pipeline_model

    manifest = _run(spark, tmp_path)
    model = load_pipeline_model(Path(manifest["pipeline_model"]))  # its stages pass the check
    rows = spark.read.parquet(str(tmp_path / "features.parquet"))
    again = model.transform(rows).select("household_id", "date", "sequence", "mask", "static")

    assert scaler_statistics(model) == manifest["scaler"]
    written = pd.concat(_read(Path(s["path"])) for s in manifest["splits"].values())
    recomputed = again.toPandas()
    key = ["household_id", "date"]
    pd.testing.assert_frame_equal(
        written.sort_values(key).reset_index(drop=True),
        recomputed.sort_values(key).reset_index(drop=True),
    )


def test_a_saved_pipeline_naming_a_stage_we_do_not_ship_is_not_loaded(spark, tmp_path):
    from energy_forecast.features.saved_pipeline import UnknownStageError, load_pipeline_model

    saved = Path(_run(spark, tmp_path)["pipeline_model"])
    stage = next(saved.glob("stages/*/metadata/part-*"))
    metadata = json.loads(stage.read_text())
    stage.write_text(json.dumps({**metadata, "class": "someone.elses.Stage"}))

    with pytest.raises(UnknownStageError, match=r"someone\.elses\.Stage"):
        load_pipeline_model(saved)


def test_changing_a_test_day_value_changes_no_training_feature_or_statistic(spark, tmp_path):
    original = _validated(tmp_path / "seed.parquet")
    changed = original.copy()
    test_rows = changed["date"] == changed["date"].max()
    changed.loc[test_rows, "energy_kwh"] += 1000.0
    changed.loc[test_rows, "avg_temperature_c"] -= 50.0

    before = _run(spark, tmp_path, original, "before")
    after = _run(spark, tmp_path, changed, "after")

    assert before["scaler"] == after["scaler"]
    pd.testing.assert_frame_equal(
        _read(Path(before["splits"]["train"]["path"])),
        _read(Path(after["splits"]["train"]["path"])),
    )
    pd.testing.assert_frame_equal(
        _read(Path(before["splits"]["val"]["path"])),
        _read(Path(after["splits"]["val"]["path"])),
    )


def test_a_rerun_replaces_the_output_whole(spark, tmp_path):
    _run(spark, tmp_path)
    stale = tmp_path / "features" / "train" / "stale.txt"
    stale.write_text("left over from an earlier attempt")

    _run(spark, tmp_path)

    assert not stale.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_small_splits_still_get_enough_row_groups_to_shard():
    from energy_forecast.features.app import MIN_ROW_GROUPS, effective_rows_per_row_group

    assert effective_rows_per_row_group(64_285, 2_048) == 2_048
    assert effective_rows_per_row_group(900, 2_048) == 57  # 900 / 16 rounded up
    assert 900 / effective_rows_per_row_group(900, 2_048) >= MIN_ROW_GROUPS - 1
    assert effective_rows_per_row_group(3, 2_048) == 1


def test_the_file_count_follows_the_bytes_not_the_rows():
    from energy_forecast.features.app import files_per_split

    mb = 1024 * 1024
    assert files_per_split(1_000, 400.0, 64 * mb, 2_048) == 1
    assert files_per_split(100_000, 400.0, 64 * mb, 2_048) == 1  # 38 MB: still one file
    assert files_per_split(1_000_000, 400.0, 64 * mb, 2_048) == 6  # 381 MB
    assert files_per_split(100, 400.0, 1, 50) == 2  # never more files than row groups
    assert files_per_split(0, 0.0, 64 * mb, 1) == 1


def test_a_split_is_written_as_files_of_equal_row_groups_whatever_their_size(spark, tmp_path):
    import pyarrow.parquet as pq

    from energy_forecast.features.app import MIN_ROW_GROUPS, estimated_row_bytes, write_split

    rows = 8_000
    frame = spark.range(rows).selectExpr("id", "array(rand(1), rand(2), rand(3)) AS values")
    row_bytes = estimated_row_bytes(frame, rows)
    target_file_bytes = math.ceil(rows * row_bytes / 3)  # three files' worth

    groups = {}
    for group_rows in (64, 256):
        path = tmp_path / f"groups_of_{group_rows}"
        write_split(frame, path, rows, group_rows, target_file_bytes, row_bytes, key=("id",))
        files = [pq.ParquetFile(f).metadata for f in sorted(path.glob("*.parquet"))]

        assert len(files) == 3
        assert sum(file.num_rows for file in files) == rows
        for file in files:
            sizes = [file.row_group(i).num_rows for i in range(file.num_row_groups)]
            assert sizes[:-1] == [group_rows] * (len(sizes) - 1)  # all but each file's last
            assert 0 < sizes[-1] <= group_rows
        groups[group_rows] = sum(file.num_row_groups for file in files)

    assert groups[64] > groups[256] >= MIN_ROW_GROUPS


def test_the_manifest_counts_the_files_and_row_groups_training_reads(spark, tmp_path):
    from energy_forecast.features.app import effective_rows_per_row_group
    from energy_forecast.features.arrays import list_row_groups

    manifest = _run(spark, tmp_path)

    for split in manifest["splits"].values():
        path = Path(split["path"])
        group_rows = effective_rows_per_row_group(split["rows"], SETTINGS.rows_per_row_group)
        assert split["files"] == len(list(path.glob("*.parquet"))) == 1  # a few kB each
        assert split["row_groups"] == len(list_row_groups(path))
        assert split["row_groups"] == math.ceil(split["rows"] / group_rows)
    assert manifest["settings"]["target_file_mb"] == SETTINGS.target_file_mb

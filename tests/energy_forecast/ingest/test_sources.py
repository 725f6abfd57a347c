"""Source resolution: the real kagglehub call offline, local files, and what ``auto`` picks.

``real_csv`` (tests/conftest.py) is the shared real file; its tests skip when it is absent.
Every test runs with kagglehub's cache, home and credential locations pointed into
``tmp_path``, so credentials or a cache on the machine running the tests change nothing.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import kagglehub.config
import pytest

from energy_forecast.ingest.errors import SourceUnavailableError
from energy_forecast.ingest.sources import (
    SYNTHETIC_CSV,
    choose_auto_source,
    find_single_csv,
    kaggle_is_cached,
    resolve_source,
)
from energy_forecast.paths import PathOutsideRootsError
from energy_forecast.settings import IngestSettings

HANDLE = IngestSettings().kaggle_handle
DATASET = "samxsam/household-energy-consumption"
SMALL_CSV = (
    "Household_ID,Date,Day_of_Week,Energy_Consumption_kWh,Household_Size,Avg_Temperature_C,"
    "Has_AC,Peak_Hours_Usage_kWh\nH00001,4/1/2025,Tuesday,8.4,4,17.8,No,3.2\n"
)


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty kagglehub cache, and no Kaggle credentials or notebook environment anywhere."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))  # ~/.kaggle/access_token is looked up at call time
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(home / ".kaggle"))  # kaggle.json
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kagglehub"))
    for name in (
        "KAGGLE_USERNAME",
        "KAGGLE_KEY",
        "KAGGLE_API_TOKEN",
        "KAGGLE_KERNEL_RUN_TYPE",
        "TBE_RUNTIME_ADDR",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(kagglehub.config, "_kaggle_credentials", None)
    return tmp_path / "kagglehub"


def fill_cache(cache_dir: Path, csv: Path | str, version: int = 1) -> Path:
    """Lay a dataset version out as kagglehub 1.0.3 leaves a completed download."""
    folder = cache_dir / "datasets" / DATASET / "versions" / str(version)
    folder.mkdir(parents=True)
    target = folder / "household_energy_consumption.csv"
    if isinstance(csv, Path):
        shutil.copyfile(csv, target)
    else:
        target.write_text(csv, encoding="utf-8")
    (cache_dir / "datasets" / DATASET / f"{version}.complete").touch()
    return target


def test_kaggle_source_is_served_offline_from_a_filled_cache(
    cache_dir: Path, tmp_path: Path, real_csv: Path
) -> None:
    cached = fill_cache(cache_dir, real_csv)

    source = resolve_source(IngestSettings(source="kaggle"), tmp_path / "raw")

    assert source.kind == "kaggle"
    assert source.csv_path == cached
    assert source.detail == f"kaggle:{HANDLE}"


def test_a_cache_without_the_completion_marker_does_not_count(cache_dir: Path) -> None:
    fill_cache(cache_dir, SMALL_CSV)
    (cache_dir / "datasets" / DATASET / "1.complete").unlink()
    assert not kaggle_is_cached(HANDLE)


def test_an_unversioned_handle_never_counts_as_cached(cache_dir: Path) -> None:
    fill_cache(cache_dir, SMALL_CSV)
    assert kaggle_is_cached(HANDLE)
    assert not kaggle_is_cached(DATASET)  # kagglehub would ask the server for the version


def test_an_unusable_handle_fails_with_a_source_error(cache_dir: Path, tmp_path: Path) -> None:
    settings = IngestSettings(source="kaggle", kaggle_handle="not a handle")
    with pytest.raises(SourceUnavailableError, match="could not provide dataset 'not a handle'"):
        resolve_source(settings, tmp_path / "raw")


def test_auto_picks_kaggle_when_the_dataset_is_cached(
    cache_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cached = fill_cache(cache_dir, SMALL_CSV)

    with caplog.at_level(logging.INFO):
        source = resolve_source(IngestSettings(source="auto"), tmp_path / "raw")

    assert (source.kind, source.csv_path) == ("kaggle", cached)
    assert "cache" in source.reason
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_auto_falls_back_to_synthetic_with_a_warning_saying_why(
    cache_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = IngestSettings(source="auto", synthetic_households=5, synthetic_days=3)

    with caplog.at_level(logging.WARNING):
        source = resolve_source(settings, tmp_path / "raw")

    assert source.kind == "synthetic"
    assert source.csv_path == tmp_path / "raw" / SYNTHETIC_CSV
    assert source.csv_path.exists()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "synthetic" in warnings[0]
    assert "not cached and no Kaggle credentials" in warnings[0]


def test_auto_picks_kaggle_when_an_api_token_is_set(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KAGGLE_API_TOKEN", "secret-token-value")

    kind, reason = choose_auto_source(HANDLE)

    assert kind == "kaggle"
    assert "credentials" in reason
    assert "secret-token-value" not in reason


def test_auto_picks_kaggle_when_a_kaggle_json_exists(cache_dir: Path, tmp_path: Path) -> None:
    config = tmp_path / "home" / ".kaggle"
    config.mkdir()
    (config / "kaggle.json").write_text(json.dumps({"username": "someone", "key": "k3y"}))

    kind, reason = choose_auto_source(HANDLE)

    assert kind == "kaggle"
    assert "k3y" not in reason


def test_auto_treats_a_malformed_kaggle_json_as_no_credentials(
    cache_dir: Path, tmp_path: Path
) -> None:
    config = tmp_path / "home" / ".kaggle"
    config.mkdir()
    (config / "kaggle.json").write_text("{not json")

    kind, reason = choose_auto_source(HANDLE)

    assert kind == "synthetic"
    assert "unusable" in reason


def test_local_source_is_the_configured_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text(SMALL_CSV, encoding="utf-8")

    source = resolve_source(IngestSettings(source="local", local_csv_path=str(path)), tmp_path)

    assert (source.kind, source.csv_path, source.detail) == ("local", path, str(path))


def test_a_local_path_is_resolved_relative_to_the_data_roots(tmp_path: Path) -> None:
    (tmp_path / "mine.csv").write_text(SMALL_CSV, encoding="utf-8")

    source = resolve_source(IngestSettings(source="local", local_csv_path="mine.csv"), tmp_path)

    assert source.csv_path == tmp_path / "mine.csv"


@pytest.mark.parametrize("outside", ["/etc/passwd", "../../../../etc/passwd"])
def test_a_local_path_outside_the_data_roots_is_refused_before_it_is_read(
    tmp_path: Path, outside: str
) -> None:
    settings = IngestSettings(source="local", local_csv_path=outside)

    with pytest.raises(PathOutsideRootsError, match=r"local_csv_path .* outside") as err:
        resolve_source(settings, tmp_path)
    assert str(tmp_path) in str(err.value)
    assert "root:" not in str(err.value)


def test_source_local_without_a_path_says_what_is_missing() -> None:
    with pytest.raises(ValueError, match="source='local' needs local_csv_path"):
        IngestSettings(source="local", local_csv_path=None)


def test_the_single_csv_of_a_dataset_folder_is_found_in_subfolders(tmp_path: Path) -> None:
    (tmp_path / "nested").mkdir()
    (tmp_path / "README.md").write_text("about")
    (tmp_path / "nested" / "data.CSV").write_text(SMALL_CSV)
    assert find_single_csv(tmp_path) == tmp_path / "nested" / "data.CSV"


@pytest.mark.parametrize("names", [[], ["a.csv", "b.csv"]], ids=["none", "two"])
def test_a_dataset_folder_without_exactly_one_csv_is_an_error(
    tmp_path: Path, names: list[str]
) -> None:
    for name in names:
        (tmp_path / name).write_text(SMALL_CSV)
    with pytest.raises(SourceUnavailableError, match="expected exactly one CSV file") as err:
        find_single_csv(tmp_path)
    assert str(tmp_path) in str(err.value)

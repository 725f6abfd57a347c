"""Fixtures shared by the whole suite: one local SparkSession, paths to shared data."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
#: The real Kaggle file, kept outside the project (see ../shared/data/README.md).
REAL_CSV = PROJECT_ROOT.parent / "shared" / "data" / "household_energy_consumption.csv"

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
# py4j logs while the interpreter shuts down, after pytest has closed its capture streams.
logging.getLogger("py4j").setLevel(logging.WARNING)
# Airflow reads its configuration at import: point it at a throwaway home, never ~/airflow.
os.environ.setdefault(
    "AIRFLOW_HOME", str(Path(tempfile.gettempdir()) / "energy-forecast-test-airflow")
)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(PROJECT_ROOT / "dags"))


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """A small local session shared by every Spark test (starting one costs ~5 s)."""
    from energy_forecast.spark.session import get_session

    session = get_session("energy-forecast-tests", master="local[2]")
    session.conf.set("spark.sql.shuffle.partitions", "2")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def small_features(spark, tmp_path_factory) -> dict:
    """40 households x 7 days through the real preprocessing (sequence length 3, 64-row
    groups), built once for every test that needs fitted features to train or predict on."""
    from energy_forecast.features.app import run_preprocess
    from energy_forecast.settings import FeatureSettings
    from tests.builders import validated_frame

    root = tmp_path_factory.mktemp("small_features")
    validated = root / "validated.parquet"
    validated_frame().to_parquet(validated, index=False)
    settings = FeatureSettings(sequence_length=3, test_days=1, val_days=1, rows_per_row_group=64)
    manifest = run_preprocess(spark, validated, root / "features", settings)
    return {
        "root": root,
        "validated": validated,
        "manifest_path": root / "features" / "manifest.json",
        "manifest": manifest,
    }


@pytest.fixture(scope="session")
def small_baseline(small_features: dict, tmp_path_factory) -> dict[str, str]:
    """XGBoost trained on ``small_features`` (20 trees, early stopping after 5), built once:
    the outputs of ``run_xgboost``."""
    from energy_forecast.settings import XGBoostSettings
    from energy_forecast.xgb.train import run_xgboost

    settings = XGBoostSettings(xgb_n_estimators=20, xgb_early_stopping_rounds=5)
    return run_xgboost(
        settings, small_features["manifest_path"], tmp_path_factory.mktemp("xgboost"), "local[2]"
    )


@pytest.fixture(scope="session")
def real_csv() -> Path:
    if not REAL_CSV.exists():
        pytest.skip(f"real data file {REAL_CSV} is not available")
    return REAL_CSV


@pytest.fixture(scope="session")
def empty_mlflow_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """MLflow's tables, created once (about 3 s) for every test's own store to copy."""
    from energy_forecast.tracking.store import DATABASE_FILE, TrackingStore

    store = TrackingStore.local(tmp_path_factory.mktemp("mlflow-template"))
    store.client()
    return store.folder / DATABASE_FILE


def seed_tracking_store(root: Path, empty_database: Path) -> object:
    """The local MLflow store under artifacts root ``root``, its tables copied in."""
    from energy_forecast.tracking.store import DATABASE_FILE, TrackingStore

    store = TrackingStore.local(root)
    store.folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(empty_database, store.folder / DATABASE_FILE)
    return store


@pytest.fixture
def tracking_store(tmp_path: Path, empty_mlflow_database: Path) -> object:
    """A test's own local MLflow store under ``tmp_path`` (the embedded default)."""
    return seed_tracking_store(tmp_path, empty_mlflow_database)


@pytest.fixture
def scratch_database() -> Iterator[str]:
    """A Postgres database of the test's own on the machine's server, dropped afterwards;
    its libpq URL."""
    import uuid

    from deploy.topology import drop_database, recreate_database

    name = f"ef_scratch_{uuid.uuid4().hex[:10]}"
    recreate_database(name)
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        drop_database(name)

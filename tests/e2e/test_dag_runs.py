"""``airflow dags test energy_forecast`` end to end, on synthetic data and on the real file."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.e2e.airflow_cli import LocalAirflow

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def airflow(tmp_path_factory):
    local = LocalAirflow(tmp_path_factory.mktemp("airflow-e2e"))
    local.migrate()
    return local


def _assert_row_counts_add_up(run_dir, expected_input_rows=None):
    ingest = json.loads((run_dir / "raw" / "manifest.json").read_text())
    features = json.loads((run_dir / "features" / "manifest.json").read_text())
    validated = pd.read_parquet(run_dir / "raw" / "validated.parquet")
    quarantined = pd.read_csv(run_dir / "raw" / "quarantine.csv")

    assert ingest["input_rows"] == ingest["valid_rows"] + ingest["quarantined_rows"]
    assert ingest["valid_rows"] == len(validated)
    assert ingest["quarantined_rows"] == len(quarantined)
    if expected_input_rows is not None:
        assert ingest["input_rows"] == expected_input_rows
    split_rows = {name: split["rows"] for name, split in features["splits"].items()}
    assert sum(split_rows.values()) == len(validated)
    for name, split in features["splits"].items():
        assert len(pd.read_parquet(split["path"], columns=["household_id"])) == split_rows[name]
    assert (run_dir / "features" / "pipeline_model" / "metadata").is_dir()
    return split_rows


def test_synthetic_run_succeeds_and_its_row_counts_add_up(airflow):
    run = airflow.dags_test(
        {"source": "synthetic", "synthetic_households": 120, "synthetic_days": 8}
    )

    assert run.state == "success", run.log[-5000:]
    split_rows = _assert_row_counts_add_up(run.run_dir, expected_input_rows=120 * 8)
    assert split_rows == {"train": 120 * 6, "val": 120, "test": 120}


def test_real_file_run_succeeds_and_its_row_counts_add_up(airflow, real_csv):
    run = airflow.dags_test({"source": "local", "local_csv_path": str(real_csv)})

    assert run.state == "success", run.log[-5000:]
    split_rows = _assert_row_counts_add_up(run.run_dir, expected_input_rows=90_000)
    # 4/1-4/5 train, 4/6 validation, 4/7 test plus the one 4/8 row
    assert split_rows == {"train": 64_285, "val": 12_857, "test": 12_858}

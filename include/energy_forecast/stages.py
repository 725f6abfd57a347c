"""What each DAG task does, in plain Python: params and run id in, artifact paths out.

The DAG's task bodies are one call into this module, so the wiring stays readable and every
stage can be exercised without Airflow.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from energy_forecast.paths import RunLayout
from energy_forecast.settings import IngestSettings


def download_stage(run_id: str, params: Mapping[str, Any]) -> dict[str, str]:
    """Fetch and validate the raw data; also name the folder preprocessing writes to."""
    from energy_forecast.ingest.stage import run_download

    layout = RunLayout.for_run(run_id)
    outputs = run_download(IngestSettings.from_params(params), layout)
    return {**outputs, "features_dir": str(layout.features_dir)}


def check_features_stage(raw: Mapping[str, str]) -> dict[str, str]:
    """Read the Spark application's manifest and prove no row was lost on the way."""
    import pyarrow.parquet as pq

    features_dir = Path(raw["features_dir"])
    manifest_path = features_dir / "manifest.json"
    if not manifest_path.exists():
        raise FileNotFoundError(
            f"preprocessing wrote no manifest at {manifest_path}; see the preprocess task log"
        )
    manifest = json.loads(manifest_path.read_text())
    validated_rows = pq.ParquetFile(raw["validated"]).metadata.num_rows
    split_rows = {name: split["rows"] for name, split in manifest["splits"].items()}
    if sum(split_rows.values()) != validated_rows:
        raise ValueError(
            f"feature rows per split {split_rows} do not add up to the {validated_rows} "
            "validated rows"
        )
    empty = [name for name, rows in split_rows.items() if rows == 0]
    if empty:
        raise ValueError(f"feature splits {empty} are empty; check test_days/val_days")
    return {
        "manifest": str(manifest_path),
        "pipeline_model": manifest["pipeline_model"],
        **{name: split["path"] for name, split in manifest["splits"].items()},
    }

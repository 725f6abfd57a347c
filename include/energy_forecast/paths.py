"""Where artifacts live: the environment-derived root, read once, and each run's layout.

Every stage asks a :class:`RunLayout` for its paths, so the folder structure is written down
in exactly one place and two stages can never disagree about where a file is.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

DAG_ID = "energy_forecast"
_PROJECT_ROOT = Path(__file__).resolve().parents[2]

#: Root of all run folders; a shared volume or mount on a real deployment.
ARTIFACTS_ROOT = Path(os.environ.get("ENERGY_FORECAST_ARTIFACTS", _PROJECT_ROOT / "artifacts"))

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_run_id(run_id: str) -> str:
    """Turn an Airflow run id (``manual__2025-04-08T00:00:00+00:00``) into a folder name.

    Colons and plus signs are legal in POSIX names but break Hadoop paths, which Spark uses.
    """
    cleaned = _UNSAFE.sub("_", run_id).strip("._")
    if not cleaned:
        raise ValueError(f"run id {run_id!r} has no usable characters")
    return cleaned


@dataclass(frozen=True)
class RunLayout:
    """The files of one pipeline run, rooted at ``run_dir``."""

    run_dir: Path

    @classmethod
    def for_run(cls, run_id: str, root: Path | None = None) -> RunLayout:
        return cls((root or ARTIFACTS_ROOT) / DAG_ID / safe_run_id(run_id))

    # download
    @property
    def raw_dir(self) -> Path:
        return self.run_dir / "raw"

    @property
    def validated(self) -> Path:
        return self.raw_dir / "validated.parquet"

    @property
    def quarantine(self) -> Path:
        return self.raw_dir / "quarantine.csv"

    @property
    def ingest_manifest(self) -> Path:
        return self.raw_dir / "manifest.json"

    # preprocess
    @property
    def features_dir(self) -> Path:
        return self.run_dir / "features"

    @property
    def features_manifest(self) -> Path:
        return self.features_dir / "manifest.json"

    @property
    def pipeline_model(self) -> Path:
        return self.features_dir / "pipeline_model"

    def split_dir(self, split: str) -> Path:
        return self.features_dir / split

    # train
    @property
    def lstm_dir(self) -> Path:
        return self.run_dir / "lstm"

    # baseline
    @property
    def xgboost_dir(self) -> Path:
        return self.run_dir / "xgboost"

    # report
    @property
    def report_dir(self) -> Path:
        return self.run_dir / "report"

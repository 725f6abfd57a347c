"""Where artifacts and input data live, and each run's layout.

The roots come from the environment of the process that *uses* them (an Airflow worker, the
Spark driver, the API server's plugin), read when asked, never when a module is imported:
a DAG processor with another environment must not bake its own folders into the DAG.

Every stage asks a :class:`RunLayout` for its paths, so the folder structure is written down
in exactly one place and two stages can never disagree about where a file is.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from energy_forecast.errors import InputError

DAG_ID = "energy_forecast"
#: MLflow's local store and every tracked file, published versions included
#: (see ``tracking.store``), kept beside the run folders.
MLFLOW_FOLDER = "mlflow"
#: Every run's next-day forecasts from the champion, one table per forecast day
#: (see ``serving.daily``).
FORECASTS_FOLDER = "forecasts"
#: Folders under ``<artifacts>/<DAG_ID>`` that are not runs. A run may never be named like
#: one (it would write into the published versions), and nothing that looks for runs may
#: take one for a run (the report writes to MLflow after its run's folder, so it is newer).
RESERVED_FOLDERS: frozenset[str] = frozenset({MLFLOW_FOLDER, FORECASTS_FOLDER})
_PROJECT_ROOT = Path(__file__).resolve().parents[2]

#: Environment variable naming the root of all run folders (a shared volume when deployed).
ARTIFACTS_ENV = "ENERGY_FORECAST_ARTIFACTS"
#: Environment variable listing the folders (``os.pathsep``-separated) a local CSV may be in.
DATA_ROOTS_ENV = "ENERGY_FORECAST_DATA_ROOTS"

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class PathOutsideRootsError(InputError):
    """A user-supplied path points outside every folder it is allowed to reach."""


def artifacts_root() -> Path:
    """Root of all run folders: ``$ENERGY_FORECAST_ARTIFACTS``, else ``<project>/artifacts``."""
    return Path(os.environ.get(ARTIFACTS_ENV) or _PROJECT_ROOT / "artifacts").resolve()


def data_roots() -> list[Path]:
    """Folders ``local_csv_path`` may point into: ``$ENERGY_FORECAST_DATA_ROOTS``, else
    ``<project>/data``."""
    configured = os.environ.get(DATA_ROOTS_ENV, "")
    roots = [Path(p) for p in configured.split(os.pathsep) if p.strip()]
    return [p.expanduser().resolve() for p in roots or [_PROJECT_ROOT / "data"]]


def resolve_inside(candidate: str | Path, roots: Sequence[Path], what: str = "path") -> Path:
    """``candidate`` resolved (symlinks and ``..`` included) if it lies inside one of ``roots``.

    A relative ``candidate`` is taken relative to each root in turn. The error names the
    roots and the offending path, never anything read from it.
    """
    raw = Path(candidate).expanduser()
    for root in roots:
        root = Path(root).resolve()
        resolved = (raw if raw.is_absolute() else root / raw).resolve()
        if resolved.is_relative_to(root):
            return resolved
    allowed = ", ".join(str(r) for r in roots) or "(none configured)"
    raise PathOutsideRootsError(
        f"{what} {str(candidate)!r} is outside the allowed roots: {allowed}"
    )


def safe_run_id(run_id: str) -> str:
    """Turn an Airflow run id (``manual__2025-04-08T00:00:00+00:00``) into a folder name,
    one folder per run id.

    Colons and plus signs are legal in POSIX names but break Hadoop paths, which Spark uses,
    so they become ``_``. Two run ids that differ only there (``a:b``, ``a+b``) would then
    share a folder, and a run id such as ``mlflow`` would write into a reserved folder (in
    any case: on a case-insensitive file system ``MLflow`` is that folder too). So a run
    id that had to be changed, or that names a reserved folder, gets a suffix from the hash
    of the whole run id; a run id that is already a safe, free name is its own folder.
    """
    cleaned = _UNSAFE.sub("_", run_id).strip("._")
    if not cleaned:
        raise InputError(f"run id {run_id!r} has no usable characters")
    if cleaned == run_id and cleaned.casefold() not in RESERVED_FOLDERS:
        return cleaned
    return f"{cleaned}-{hashlib.sha256(run_id.encode()).hexdigest()[:8]}"


@dataclass(frozen=True)
class RunLayout:
    """The files of one pipeline run, rooted at ``run_dir``."""

    run_dir: Path

    @classmethod
    def for_run(cls, run_id: str, root: Path | None = None) -> RunLayout:
        return cls((root or artifacts_root()) / DAG_ID / safe_run_id(run_id))

    @property
    def skip_note(self) -> Path:
        """Written instead of features and models when the run found nothing changed."""
        return self.run_dir / "skipped.json"

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

    # xgboost
    @property
    def xgboost_dir(self) -> Path:
        return self.run_dir / "xgboost"

    # report
    @property
    def report_dir(self) -> Path:
        return self.run_dir / "report"

    @property
    def report_html(self) -> Path:
        return self.report_dir / "report.html"

    @property
    def decision(self) -> Path:
        """The promotion decision, written by the report task and read by publish."""
        return self.run_dir / "decision.json"

    @property
    def approval(self) -> Path:
        """A person's answer to the promotion, when the run asked for one."""
        return self.run_dir / "approval.json"

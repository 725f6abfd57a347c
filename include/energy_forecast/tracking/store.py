"""Where MLflow keeps this project's runs, registered models and their files.

Without a server (``make run``, ``airflow dags test``) the tracking and registry store is
MLflow's SQLite database under the artifacts root, so nothing has to be started. With
``MLFLOW_TRACKING_URI`` set (a deployment: ``http://mlflow:5000``) it is the server, backed
by the deployment's Postgres. Either way every file (models, PipelineModels, reports,
forecasts) goes straight to ``<artifacts>/energy_forecast/mlflow/artifacts`` on the shared
volume: the experiment is created with that location, so every host reads a published
version as a local folder and the server never proxies a file.

    <artifacts>/energy_forecast/mlflow/
        mlflow.db            runs, metrics, registered model versions (local store only)
        artifacts/<run id>/artifacts/...   each MLflow run's files
        .lock                the local store's lock (a deployment uses Postgres's)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from energy_forecast.errors import ConfigurationError
from energy_forecast.paths import DAG_ID, MLFLOW_FOLDER, artifacts_root
from energy_forecast.runtime.locks import advisory_lock, file_lock

if TYPE_CHECKING:
    from mlflow import MlflowClient

log = logging.getLogger(__name__)

#: MLflow's own variable: the tracking server, when there is one.
TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
#: A Postgres URL whose advisory lock every publisher takes (a deployment); unset: a file lock.
LOCK_URL_ENV = "ENERGY_FORECAST_PUBLISH_LOCK_URL"
#: The MLflow UI's address as a person's browser reaches it (the API server's links).
UI_URL_ENV = "ENERGY_FORECAST_MLFLOW_UI_URL"
EXPERIMENT_NAME = DAG_ID
DATABASE_FILE = "mlflow.db"
_LOCK_NAME = "energy_forecast.registry"


@dataclass(frozen=True)
class TrackingStore:
    """The tracking URI, the folder artifacts go to and the lock that orders writers."""

    tracking_uri: str
    folder: Path
    lock_url: str | None = None
    ui_url: str | None = None

    @classmethod
    def from_environment(cls, root: Path | None = None) -> TrackingStore:
        """The server ``$MLFLOW_TRACKING_URI`` names, else the local store under ``root``."""
        local = cls.local(root)
        uri = os.environ.get(TRACKING_URI_ENV) or local.tracking_uri
        ui = os.environ.get(UI_URL_ENV) or (uri if uri.startswith(("http:", "https:")) else None)
        return cls(uri, local.folder, os.environ.get(LOCK_URL_ENV) or None, ui)

    @classmethod
    def local(cls, root: Path | None = None, lock_url: str | None = None) -> TrackingStore:
        """The embedded store: SQLite under ``<root>/energy_forecast/mlflow``, no server."""
        folder = ((root or artifacts_root()) / DAG_ID / MLFLOW_FOLDER).absolute()
        return cls(f"sqlite:///{folder / DATABASE_FILE}", folder, lock_url)

    @property
    def artifact_root(self) -> Path:
        return self.folder / "artifacts"

    @property
    def is_local(self) -> bool:
        return self.tracking_uri.startswith("sqlite:")

    @contextmanager
    def lock(self) -> Iterator[None]:
        """The one lock every registry writer takes: Postgres's advisory lock when the
        deployment names a database (it spans hosts), else ``flock`` beside the store."""
        if self.lock_url:
            with advisory_lock(self.lock_url, _LOCK_NAME):
                yield
        else:
            with file_lock(self.folder / ".lock"):
                yield

    def run_page(self, experiment_id: str, mlflow_run_id: str) -> str | None:
        """The MLflow UI's page of a run, when there is a UI to link to."""
        if not self.ui_url:
            return None
        return f"{self.ui_url.rstrip('/')}/#/experiments/{experiment_id}/runs/{mlflow_run_id}"

    def client(self) -> MlflowClient:
        """A client of this store; the local database is created on first use, by one
        process at a time (two creating its tables at once would collide)."""
        return _client(self.tracking_uri, self.folder if self.is_local else None)

    def experiment_id(self) -> str:
        """The ``energy_forecast`` experiment's id, created with the shared artifact folder
        on first use. An experiment that keeps its files elsewhere is refused: published
        versions must be readable as folders on every host."""
        from mlflow.exceptions import MlflowException

        client = self.client()
        experiment = client.get_experiment_by_name(EXPERIMENT_NAME)
        if experiment is None:
            try:
                return client.create_experiment(
                    EXPERIMENT_NAME, artifact_location=self.artifact_root.as_uri()
                )
            except MlflowException:  # another process created it first
                experiment = client.get_experiment_by_name(EXPERIMENT_NAME)
                if experiment is None:
                    raise
        location = local_path(experiment.artifact_location)
        if location is None:
            raise ConfigurationError(
                f"MLflow experiment {EXPERIMENT_NAME!r} keeps its artifacts at "
                f"{experiment.artifact_location}, not in a folder this host can read; create "
                f"it with artifact_location={self.artifact_root.as_uri()}"
            )
        return experiment.experiment_id


def local_path(uri: str) -> Path | None:
    """The local folder a ``file:`` (or plain path) artifact URI names, else None."""
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return Path(parsed.path)
    return None


@cache
def _client(tracking_uri: str, local_folder: Path | None) -> MlflowClient:
    # A pipeline's workers report usage to no one unless their deployment says so.
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    if local_folder is not None:
        local_folder.mkdir(parents=True, exist_ok=True)
        with file_lock(local_folder / ".init.lock"):
            client.search_experiments(max_results=1)  # creates or upgrades the tables
    return client

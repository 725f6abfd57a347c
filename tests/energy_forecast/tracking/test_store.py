"""Where MLflow keeps things: a local store by default, a server when the deployment names
one, and artifacts always in a folder every host reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from energy_forecast.errors import ConfigurationError
from energy_forecast.paths import ARTIFACTS_ENV
from energy_forecast.tracking.store import (
    EXPERIMENT_NAME,
    LOCK_URL_ENV,
    TRACKING_URI_ENV,
    UI_URL_ENV,
    TrackingStore,
    local_path,
)


def test_without_a_server_the_store_is_sqlite_under_the_artifacts_root(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in (TRACKING_URI_ENV, LOCK_URL_ENV, UI_URL_ENV):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv(ARTIFACTS_ENV, str(tmp_path))

    store = TrackingStore.from_environment()

    folder = tmp_path / "energy_forecast" / "mlflow"
    assert store.tracking_uri == f"sqlite:///{folder / 'mlflow.db'}"
    assert (store.folder, store.lock_url, store.ui_url) == (folder, None, None)


def test_a_deployment_names_its_server_lock_and_ui(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ARTIFACTS_ENV, str(tmp_path))
    monkeypatch.setenv(TRACKING_URI_ENV, "http://mlflow:5000")
    monkeypatch.setenv(LOCK_URL_ENV, "postgresql://postgres@postgres:5432/mlflow")
    monkeypatch.setenv(UI_URL_ENV, "http://localhost:5000")

    store = TrackingStore.from_environment()

    assert store.tracking_uri == "http://mlflow:5000" and not store.is_local
    assert store.lock_url == "postgresql://postgres@postgres:5432/mlflow"
    assert store.run_page("3", "abc") == "http://localhost:5000/#/experiments/3/runs/abc"
    assert store.artifact_root == tmp_path / "energy_forecast" / "mlflow" / "artifacts"


def test_the_experiment_keeps_its_files_in_the_shared_folder(
    tracking_store: TrackingStore,
) -> None:
    experiment_id = tracking_store.experiment_id()

    experiment = tracking_store.client().get_experiment(experiment_id)
    assert experiment.name == EXPERIMENT_NAME
    assert local_path(experiment.artifact_location) == tracking_store.artifact_root
    assert tracking_store.experiment_id() == experiment_id


def test_an_experiment_whose_files_no_host_can_read_is_refused(
    tracking_store: TrackingStore,
) -> None:
    tracking_store.client().create_experiment(
        EXPERIMENT_NAME, artifact_location="s3://somewhere/else"
    )

    with pytest.raises(ConfigurationError, match=r"not in a folder this host can read"):
        tracking_store.experiment_id()

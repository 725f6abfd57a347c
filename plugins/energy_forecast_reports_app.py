"""HTTP routes that serve each run's report and the published champion from the artifacts root,
and send a person from a DAG run to its MLflow run.

The pipeline writes its reports to the artifacts volume, which people cannot browse. The API
server mounts this app (see ``energy_forecast_reports.py``) so the Airflow UI can show a run's
report in a tab of the run's page, the champion's report (the registered version the alias
``champion`` names) from the navigation bar, and a link to the run's page in the MLflow UI.

Two rules hold for every route:

* Only users that the UI's auth manager lets read the ``energy_forecast`` Dag's runs get an
  answer: Airflow's own ``requires_access_dag`` dependency reads the same JWT the UI uses
  (``Authorization: Bearer`` or the ``_token`` cookie an iframe sends), 401 without one,
  403 when the auth manager says no.
* Nothing outside the artifacts root is served. Every path goes through
  :func:`energy_forecast.paths.resolve_inside` (``..``, absolute paths and symlinks
  resolved) and anything that escapes its folder is answered like a missing file: 404, with
  a message that names the run but never a server path or a file's content.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.core_api.security import requires_access_dag
from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.responses import FileResponse, RedirectResponse

from energy_forecast.champion.registry import Registry, TamperedVersionError, Version
from energy_forecast.paths import (
    DAG_ID,
    RESERVED_FOLDERS,
    PathOutsideRootsError,
    RunLayout,
    artifacts_root,
    resolve_inside,
)
from energy_forecast.tracking.runs import DagRunTracker

#: Sent with every file. HTML gets a sandbox on top: a report opened outside the UI's
#: (already sandboxed) iframe still runs no script with the Airflow origin.
_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
_HTML_HEADERS = {
    **_HEADERS,
    "Content-Security-Policy": (
        "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    ),
}

app = FastAPI(
    title="Energy forecast reports",
    dependencies=[Depends(requires_access_dag("GET", DagAccessEntity.RUN, param_dag_id=DAG_ID))],
    docs_url=None,
    redoc_url=None,
    openapi_url=None,
)


def _not_found(message: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, message)


def _inside(candidate: str | Path, folder: Path) -> Path | None:
    """``candidate`` resolved inside ``folder``, or None when it escapes."""
    try:
        return resolve_inside(candidate, [folder])
    except PathOutsideRootsError:
        return None


def _run_dir(run_id: str) -> Path:
    """The run's folder, resolved; 404 when the run has none (or it points elsewhere)."""
    try:
        run_dir = RunLayout.for_run(run_id).run_dir
    except ValueError:  # a run id with no usable character names no folder
        raise _not_found(f"No artifacts for run {run_id!r}.") from None
    resolved = _inside(run_dir, artifacts_root())
    if resolved is None or not resolved.is_dir():
        raise _not_found(f"No artifacts for run {run_id!r}.")
    return resolved


def _version_dir(version: Version | None) -> Path:
    """A registered version's folder, verified as published; 404 when there is none."""
    if version is None:
        raise _not_found("No champion has been published yet.")
    resolved = _inside(version.path, artifacts_root())
    if resolved is None or not resolved.is_dir():
        raise _not_found(f"Version {version.name}'s files are not on this volume.")
    try:
        Registry().verified(version)
    except TamperedVersionError as error:
        raise HTTPException(status.HTTP_409_CONFLICT, str(error)) from None
    return resolved


def _champion_dir() -> Path:
    return _version_dir(Registry().current())


def _file(folder: Path, candidate: str | Path, missing: str) -> FileResponse:
    """The file at ``candidate`` (relative to ``folder``, or absolute inside it); 404 with
    ``missing`` when it is absent, a folder, or outside ``folder``."""
    path = _inside(candidate, folder)
    if path is None or not path.is_file():
        raise _not_found(missing)
    headers = _HTML_HEADERS if path.suffix in {".html", ".htm"} else _HEADERS
    return FileResponse(path, headers=headers)


@app.get("/runs")
def list_runs() -> list[dict[str, Any]]:
    """The run folders under the artifacts root, newest first, and whether each has a report."""
    dag_dir = _inside(artifacts_root() / DAG_ID, artifacts_root())
    if dag_dir is None or not dag_dir.is_dir():
        return []
    folders = [
        folder
        for folder in dag_dir.iterdir()
        if folder.name not in RESERVED_FOLDERS
        and not folder.name.startswith(".")  # folders being staged by a publish
        and _inside(folder, dag_dir) is not None
        and folder.is_dir()
    ]
    folders.sort(key=lambda folder: folder.stat().st_mtime, reverse=True)
    return [
        {"run_folder": folder.name, "has_report": RunLayout(folder).report_html.is_file()}
        for folder in folders
    ]


@app.get("/runs/{run_id}/report")
def run_report(run_id: str, dag_id: str = DAG_ID) -> FileResponse:
    """The run's ``report.html``. The UI shows this tab on every Dag's runs and passes the Dag
    id, so another Dag's run with the same run id is not shown this Dag's report."""
    if dag_id != DAG_ID:
        raise _not_found(f"Only Dag {DAG_ID!r} publishes reports here, not {dag_id!r}.")
    run_dir = _run_dir(run_id)
    layout = RunLayout(run_dir)
    if not layout.report_html.exists() and layout.skip_note.is_file():
        # Nothing had changed since a champion's run, so this run trained nothing: its
        # report is that champion version's report.
        number = json.loads(layout.skip_note.read_text())["champion_version"]
        versions = {v.name: v for v in Registry().versions()}
        folder = _version_dir(versions.get(str(number)))
        return _file(folder, RunLayout(folder).report_html, "No report.")
    return _file(run_dir, layout.report_html, f"Run {run_id!r} has no report yet.")


@app.get("/runs/{run_id}/files/{relative_path:path}")
def run_file(run_id: str, relative_path: str) -> FileResponse:
    """Any file in the run's folder: ``report/metrics.json``, a plot, predictions."""
    return _file(_run_dir(run_id), relative_path, f"Run {run_id!r} has no such file.")


@app.get("/champion")
def champion_report() -> FileResponse:
    """The published champion's ``report.html``."""
    folder = _champion_dir()
    return _file(folder, RunLayout(folder).report_html, "The champion has no report.")


@app.get("/champion/files/{relative_path:path}")
def champion_file(relative_path: str) -> FileResponse:
    """Any file in the champion's folder: ``champion.json``, ``forecasts.parquet``."""
    return _file(_champion_dir(), relative_path, "The champion has no such file.")


@app.get("/runs/{run_id}/mlflow")
def mlflow_run(run_id: str, dag_id: str = DAG_ID) -> RedirectResponse:
    """The DAG run's page in the MLflow UI (``$ENERGY_FORECAST_MLFLOW_UI_URL``)."""
    if dag_id != DAG_ID:
        raise _not_found(f"Only Dag {DAG_ID!r} tracks its runs in MLflow, not {dag_id!r}.")
    tracker = DagRunTracker.for_run(run_id)
    mlflow_run_id = tracker.existing_parent_run_id()
    if mlflow_run_id is None:
        raise _not_found(f"Run {run_id!r} has no MLflow run yet.")
    page = tracker.store.run_page(tracker.store.experiment_id(), mlflow_run_id)
    if page is None:
        raise _not_found(
            f"Run {run_id!r} is MLflow run {mlflow_run_id} in the local store "
            f"{tracker.store.tracking_uri}; no MLflow UI is configured "
            "(ENERGY_FORECAST_MLFLOW_UI_URL). Start one with `mlflow ui --backend-store-uri "
            f"{tracker.store.tracking_uri}`."
        )
    return RedirectResponse(page, status_code=status.HTTP_307_TEMPORARY_REDIRECT)

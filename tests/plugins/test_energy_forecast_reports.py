"""The reports plugin, served by the real Airflow API server app with its real auth.

The app is built in-process the way ``airflow api-server`` builds it (plugins folder =
this repo's ``plugins/``, the simple auth manager, a throwaway SQLite metadata database),
and every request carries a JWT issued by that auth manager: no dependency overrides, no
mocks.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urljoin

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from energy_forecast.champion.registry import Registry
from energy_forecast.paths import ARTIFACTS_ENV, DAG_ID, RunLayout
from energy_forecast.tracking.runs import DagRunTracker
from energy_forecast.tracking.store import UI_URL_ENV
from tests.conftest import seed_tracking_store

PLUGINS_FOLDER = Path(__file__).resolve().parents[2] / "plugins"
RUN_ID = "manual__2025-04-08T00:00:00+00:00"
REPORT_HTML = "<html><body><h1>Energy forecast report</h1></body></html>"
CHAMPION_HTML = "<html><body><h1>Champion report</h1></body></html>"
SECRET = "TOP-SECRET-CONTENT"

_SIMPLE_AUTH_MANAGER = (
    "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
)


@dataclass(frozen=True)
class Api:
    """The API server app and tokens for users the auth manager knows."""

    app: FastAPI
    viewer_token: str
    no_role_token: str

    def client(self, *, token: str | None = None, cookie: str | None = None) -> TestClient:
        """A client sending ``token`` as a Bearer header and/or ``cookie`` as the UI's cookie."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        cookies = {"_token": cookie} if cookie else None
        return TestClient(self.app, headers=headers, cookies=cookies)


def _forget_airflow_state() -> None:
    """Make Airflow re-read its settings and plugins (the suite may have loaded them)."""
    from airflow import plugins_manager, settings
    from airflow.api_fastapi.app import purge_cached_app

    settings.configure_vars()
    settings.reconfigure_orm()
    for cached in (
        plugins_manager._get_plugins,
        plugins_manager._get_ui_plugins,
        plugins_manager.get_fastapi_plugins,
        plugins_manager.get_flask_plugins,
    ):
        cached.cache_clear()
    purge_cached_app()


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    home = tmp_path_factory.mktemp("api-server")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW__CORE__PLUGINS_FOLDER", str(PLUGINS_FOLDER))
        patch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home / 'airflow.db'}")
        patch.setenv("AIRFLOW__CORE__AUTH_MANAGER", _SIMPLE_AUTH_MANAGER)
        patch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS", "False")
        patch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "viewer:viewer")
        patch.setenv(
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", str(home / "passwords.json")
        )
        patch.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "energy-forecast-plugin-tests-" + "x" * 40)
        patch.syspath_prepend(str(PLUGINS_FOLDER))  # what Airflow does for its plugins folder
        _forget_airflow_state()
        from airflow.api_fastapi.app import create_app, get_auth_manager
        from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
        from airflow.utils.db import initdb

        initdb()  # what `airflow db migrate` does on an empty database
        app = create_app()
        auth = get_auth_manager()
        yield Api(
            app=app,
            viewer_token=auth.generate_jwt(SimpleAuthManagerUser(username="viewer", role="viewer")),
            no_role_token=auth.generate_jwt(SimpleAuthManagerUser(username="nobody", role=None)),
        )
    _forget_airflow_state()
    sys.modules.pop("energy_forecast_reports", None)
    sys.modules.pop("energy_forecast_reports_app", None)


@pytest.fixture
def artifacts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, empty_mlflow_database: Path) -> Path:
    """A fresh artifacts root with one finished run, a secret file beside (outside) it, and
    an empty local MLflow store."""
    root = tmp_path / "artifacts"
    seed_tracking_store(root, empty_mlflow_database)
    layout = RunLayout.for_run(RUN_ID, root)
    layout.report_dir.mkdir(parents=True)
    layout.report_html.write_text(REPORT_HTML)
    (layout.report_dir / "metrics.json").write_text('{"rmse": 0.5}')
    (tmp_path / "secret.txt").write_text(SECRET)
    monkeypatch.setenv(ARTIFACTS_ENV, str(root))
    return root


def _register_champion() -> Path:
    """A version with a report, registered and given the alias ``champion``."""

    def build(folder: Path) -> dict:
        RunLayout(folder).report_dir.mkdir(parents=True)
        RunLayout(folder).report_html.write_text(CHAMPION_HTML)
        return {"model": "lstm", "run_id": "manual__earlier"}

    parent = DagRunTracker.for_run("manual__earlier").parent_run_id()
    return Registry().register(build, mlflow_run_id=parent)


@pytest.fixture
def champion(artifacts: Path) -> Path:
    return _register_champion().path


def _run_url(run_id: str = RUN_ID) -> str:
    return f"/energy-forecast/runs/{quote(run_id, safe='')}"


def _assert_nothing_leaks(response, artifacts: Path) -> None:
    assert SECRET not in response.text
    assert str(artifacts.parent) not in response.text


# --- auth ------------------------------------------------------------------------------


def test_a_request_without_credentials_is_401(api: Api, artifacts: Path) -> None:
    response = api.client().get(f"{_run_url()}/report")
    assert response.status_code == 401
    assert REPORT_HTML not in response.text


def test_a_forged_token_is_refused_as_airflow_refuses_it(api: Api, artifacts: Path) -> None:
    """Airflow's ``get_user`` answers an invalid signature 403 "Invalid JWT token"."""
    response = api.client(token=api.viewer_token[:-4] + "AAAA").get(f"{_run_url()}/report")
    assert response.status_code == 403
    assert REPORT_HTML not in response.text


def test_a_user_the_auth_manager_does_not_allow_to_read_the_dag_is_403(
    api: Api, artifacts: Path
) -> None:
    response = api.client(token=api.no_role_token).get(f"{_run_url()}/report")
    assert response.status_code == 403
    assert REPORT_HTML not in response.text


def test_a_bearer_token_gets_the_runs_report(api: Api, artifacts: Path) -> None:
    response = api.client(token=api.viewer_token).get(f"{_run_url()}/report")
    assert response.status_code == 200
    assert response.text == REPORT_HTML
    assert response.headers["content-type"].startswith("text/html")
    assert "sandbox" in response.headers["content-security-policy"]


def test_the_ui_cookie_an_iframe_sends_gets_the_runs_report(api: Api, artifacts: Path) -> None:
    response = api.client(cookie=api.viewer_token).get(f"{_run_url()}/report")
    assert response.status_code == 200
    assert response.text == REPORT_HTML


# --- runs ------------------------------------------------------------------------------


def test_the_run_folder_name_reaches_the_same_report_as_the_run_id(
    api: Api, artifacts: Path
) -> None:
    folder = RunLayout.for_run(RUN_ID).run_dir.name
    response = api.client(token=api.viewer_token).get(f"/energy-forecast/runs/{folder}/report")
    assert response.text == REPORT_HTML


def test_any_file_of_a_run_is_served(api: Api, artifacts: Path) -> None:
    response = api.client(token=api.viewer_token).get(f"{_run_url()}/files/report/metrics.json")
    assert response.status_code == 200
    assert response.json() == {"rmse": 0.5}


def test_an_unknown_run_is_404_and_named(api: Api, artifacts: Path) -> None:
    response = api.client(token=api.viewer_token).get(_run_url("manual__nope") + "/report")
    assert response.status_code == 404
    assert "manual__nope" in response.json()["detail"]
    _assert_nothing_leaks(response, artifacts)


def test_a_run_without_a_report_yet_is_404(api: Api, artifacts: Path) -> None:
    RunLayout.for_run("scheduled__running", artifacts).run_dir.mkdir(parents=True)
    response = api.client(token=api.viewer_token).get(_run_url("scheduled__running") + "/report")
    assert response.status_code == 404
    assert "no report" in response.json()["detail"]


def test_a_run_that_skipped_as_unchanged_shows_the_champion_version_it_deferred_to(
    api: Api, artifacts: Path
) -> None:
    version = _register_champion()
    skipped = RunLayout.for_run("scheduled__unchanged", artifacts)
    skipped.run_dir.mkdir(parents=True)
    skipped.skip_note.write_text(f'{{"reason": "same", "champion_version": "{version.name}"}}')

    response = api.client(token=api.viewer_token).get(_run_url("scheduled__unchanged") + "/report")

    assert response.status_code == 200
    assert response.text == CHAMPION_HTML


def test_another_dags_run_is_not_shown_this_dags_report(api: Api, artifacts: Path) -> None:
    response = api.client(token=api.viewer_token).get(
        f"{_run_url()}/report", params={"dag_id": "some_other_dag"}
    )
    assert response.status_code == 404
    assert REPORT_HTML not in response.text


def test_runs_lists_the_run_folders_and_whether_each_has_a_report(
    api: Api, artifacts: Path, champion: Path
) -> None:
    RunLayout.for_run("scheduled__running", artifacts).run_dir.mkdir(parents=True)
    response = api.client(token=api.viewer_token).get("/energy-forecast/runs")
    assert response.status_code == 200
    assert {run["run_folder"]: run["has_report"] for run in response.json()} == {
        RunLayout.for_run(RUN_ID).run_dir.name: True,
        "scheduled__running": False,
    }


# --- never outside the artifacts root ---------------------------------------------------

# httpx removes literal ``..`` segments before sending (as browsers and curl do); the
# encoded forms arrive at the app decoded to ``..``, which is what a raw ``..`` sent with
# ``curl --path-as-is`` looks like to it under uvicorn.
ESCAPES = {
    "encoded-dot-dot": "%2e%2e/%2e%2e/%2e%2e/secret.txt",
    "encoded-slashes": "..%2f..%2f..%2fsecret.txt",
    "mixed-case-encoding": "%2E%2E/.%2e/%2e./secret.txt",
}


@pytest.mark.parametrize("escape", ESCAPES.values(), ids=ESCAPES.keys())
def test_dot_dot_escapes_from_a_run_folder_are_404(api: Api, artifacts: Path, escape: str) -> None:
    response = api.client(token=api.viewer_token).get(f"{_run_url()}/files/{escape}")
    assert response.status_code == 404
    _assert_nothing_leaks(response, artifacts)


def test_an_absolute_path_is_404(api: Api, artifacts: Path) -> None:
    secret = quote(str(artifacts.parent / "secret.txt"), safe="")
    response = api.client(token=api.viewer_token).get(f"{_run_url()}/files/{secret}")
    assert response.status_code == 404
    _assert_nothing_leaks(response, artifacts)


def test_a_symlink_inside_a_run_folder_pointing_outside_is_404(api: Api, artifacts: Path) -> None:
    link = RunLayout.for_run(RUN_ID).report_dir / "innocent.txt"
    link.symlink_to(artifacts.parent / "secret.txt")
    response = api.client(token=api.viewer_token).get(f"{_run_url()}/files/report/innocent.txt")
    assert response.status_code == 404
    _assert_nothing_leaks(response, artifacts)


def test_a_run_folder_that_is_a_symlink_to_outside_the_root_is_404(
    api: Api, artifacts: Path
) -> None:
    outside = artifacts.parent / "elsewhere"
    outside.mkdir()
    (outside / "secret.txt").write_text(SECRET)
    (artifacts / DAG_ID / "linked_run").symlink_to(outside)
    response = api.client(token=api.viewer_token).get(
        "/energy-forecast/runs/linked_run/files/secret.txt"
    )
    assert response.status_code == 404
    _assert_nothing_leaks(response, artifacts)
    listed = api.client(token=api.viewer_token).get("/energy-forecast/runs").json()
    assert "linked_run" not in {run["run_folder"] for run in listed}


def test_a_dot_dot_run_id_is_404(api: Api, artifacts: Path) -> None:
    response = api.client(token=api.viewer_token).get("/energy-forecast/runs/%2e%2e/files/x")
    assert response.status_code == 404


def test_escapes_from_the_champion_folder_are_404(
    api: Api, artifacts: Path, champion: Path
) -> None:
    client = api.client(token=api.viewer_token)
    for escape in [*ESCAPES.values(), quote(str(artifacts.parent / "secret.txt"), safe="")]:
        response = client.get(f"/energy-forecast/champion/files/{escape}")
        assert response.status_code == 404, escape
        _assert_nothing_leaks(response, artifacts)


# --- champion ---------------------------------------------------------------------------


def test_the_champion_report_and_files_are_served(
    api: Api, artifacts: Path, champion: Path
) -> None:
    client = api.client(token=api.viewer_token)
    assert client.get("/energy-forecast/champion").text == CHAMPION_HTML
    champion_json = client.get("/energy-forecast/champion/files/champion.json")
    assert champion_json.json()["run_id"] == "manual__earlier"


def test_no_published_champion_is_404_with_a_clear_message(api: Api, artifacts: Path) -> None:
    response = api.client(token=api.viewer_token).get("/energy-forecast/champion")
    assert response.status_code == 404
    assert response.json() == {"detail": "No champion has been published yet."}


def test_the_champion_needs_credentials_too(api: Api, artifacts: Path, champion: Path) -> None:
    assert api.client().get("/energy-forecast/champion").status_code == 401


def test_a_champion_whose_files_changed_on_the_volume_is_not_served(
    api: Api, artifacts: Path, champion: Path
) -> None:
    RunLayout(champion).report_html.write_text("<html>someone else's</html>")

    response = api.client(token=api.viewer_token).get("/energy-forecast/champion")

    assert response.status_code == 409
    assert "differs from what was published" in response.json()["detail"]


# --- MLflow -----------------------------------------------------------------------------


def test_a_runs_mlflow_link_redirects_to_its_run_in_the_mlflow_ui(
    api: Api, artifacts: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(UI_URL_ENV, "http://mlflow.example:5000/")
    tracker = DagRunTracker.for_run(RUN_ID)
    mlflow_run = tracker.parent_run_id()

    response = api.client(token=api.viewer_token).get(
        f"{_run_url()}/mlflow", follow_redirects=False
    )

    assert response.status_code == 307
    experiment = tracker.store.experiment_id()
    assert response.headers["location"] == (
        f"http://mlflow.example:5000/#/experiments/{experiment}/runs/{mlflow_run}"
    )


def test_without_an_mlflow_ui_the_link_says_where_the_run_is(api: Api, artifacts: Path) -> None:
    mlflow_run = DagRunTracker.for_run(RUN_ID).parent_run_id()

    response = api.client(token=api.viewer_token).get(f"{_run_url()}/mlflow")

    assert response.status_code == 404
    assert mlflow_run in response.json()["detail"] and "mlflow ui" in response.json()["detail"]


def test_a_run_not_yet_in_mlflow_has_no_link(api: Api, artifacts: Path) -> None:
    response = api.client(token=api.viewer_token).get(f"{_run_url()}/mlflow")

    assert response.status_code == 404
    assert "has no MLflow run yet" in response.json()["detail"]


# --- how the UI finds it ----------------------------------------------------------------


def _external_views(api: Api) -> list[dict]:
    response = api.client(token=api.viewer_token).get("/api/v2/plugins")
    assert response.status_code == 200
    (plugin,) = [p for p in response.json()["plugins"] if p["name"] == "energy_forecast_reports"]
    return plugin["external_views"]


def _as_the_ui_templates(href: str, dag_id: str, run_id: str) -> str:
    """What the UI does with a ``dag_run`` view's href: fill in encodeURIComponent'ed ids."""
    return href.replace("{DAG_ID}", quote(dag_id, safe="")).replace(
        "{RUN_ID}", quote(run_id, safe="")
    )


def _ui_base_href(api: Api) -> str:
    page = api.client().get("/").text
    return re.search(r'<base href="([^"]*)"', page).group(1)


def test_the_plugin_adds_a_report_tab_to_dag_runs_that_opens_the_runs_report(
    api: Api, artifacts: Path
) -> None:
    (view,) = [v for v in _external_views(api) if v["name"] == "Report"]
    assert "{RUN_ID}" in view["href"]
    assert view["url_route"] == "energy-forecast-report"
    assert not view["href"].startswith("/"), "relative, so it follows the UI's <base href>"
    iframe_src = urljoin(_ui_base_href(api), _as_the_ui_templates(view["href"], DAG_ID, RUN_ID))
    response = api.client(cookie=api.viewer_token).get(iframe_src)
    assert response.status_code == 200
    assert response.text == REPORT_HTML


def test_the_plugin_adds_a_champion_view_to_the_navigation(
    api: Api, artifacts: Path, champion: Path
) -> None:
    (view,) = [v for v in _external_views(api) if v["destination"] == "nav"]
    assert view["name"] == "Energy forecast champion"
    response = api.client(cookie=api.viewer_token).get(urljoin(_ui_base_href(api), view["href"]))
    assert response.text == CHAMPION_HTML


def test_the_plugins_folder_loads_without_import_errors(api: Api) -> None:
    response = api.client(token=api.viewer_token).get("/api/v2/plugins/importErrors")
    assert response.json() == {"import_errors": [], "total_entries": 0}

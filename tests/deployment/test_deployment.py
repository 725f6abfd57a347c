"""The pipeline as its users run it, on three hosts: scheduler, REST trigger, the UI's
trigger form, the report, two faults, and what MLflow's UI shows of it all.

One deployment (``deploy.topology``: the compose file's services, a control-plane host and
two worker hosts as network namespaces) serves every test here, in file order: the
scheduled run first, then a REST-triggered run on the cluster path whose DDP ranks and
Spark executors span both worker hosts, then a run triggered from the UI's form, then a
broker restart and the loss of a worker host mid-run (a forced promotion), and last the
MLflow UI with every run tracked and a champion registered. Screenshots go to
``$ENERGY_FORECAST_SCREENSHOTS`` (default: the test's tmp folder); ``docs/`` holds the ones
the README shows.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from deploy.airflow_api import DAG_ID, AirflowApi
from deploy.topology import ADMIN_USER, Deployment
from energy_forecast.champion.registry import Registry
from energy_forecast.paths import safe_run_id
from energy_forecast.tracking.runs import RUN_ID_TAG
from energy_forecast.tracking.store import TrackingStore
from tests.champion_reader import ChampionReader
from tests.mlflow_ui import CHROMIUM, CHROMIUM_ARGS, check_run_and_champion

pytestmark = pytest.mark.deployment

#: The applications every run starts on the cluster. The report needs Spark only to re-score
#: an incumbent champion, and publish only when the gate promotes.
SPARK_APPS = {
    "energy-forecast-preprocess",
    "energy-forecast-train",
    "energy-forecast-xgboost",
}
#: What each DDP rank logs as it joins (training/distributed.py).
_RANK_LINE = re.compile(
    r"rank (\d+) of (\d+) on host (\S+) \((\S+), interface (\S+)\) talks to rendezvous (\S+)"
)


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = os.environ.get("ENERGY_FORECAST_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def browser_page(deployment: Deployment) -> Iterator[Any]:
    """A Chromium page logged in to the Airflow UI through its own login form."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.set_default_timeout(30_000)
        page.goto(f"{deployment.api_url}/dags/{DAG_ID}")
        page.get_by_label("Username").fill(ADMIN_USER)
        page.get_by_label("Password").fill(deployment.password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"**/dags/{DAG_ID}**")
        yield page
        browser.close()


def _interval(task: dict[str, Any]) -> tuple[datetime, datetime]:
    return (
        datetime.fromisoformat(task["start_date"]),
        datetime.fromisoformat(task["end_date"]),
    )


def _spark_apps(deployment: Deployment) -> list[dict[str, Any]]:
    status = httpx.get(f"{deployment.spark_master_ui}/json/", timeout=10).json()
    return status["activeapps"] + status["completedapps"]


def test_unpausing_the_dag_runs_the_schedule_on_the_spark_cluster(
    api: AirflowApi, deployment: Deployment
) -> None:
    started = time.monotonic()
    api.unpause()

    run = api.wait_for_run(run_type="scheduled", timeout_s=900)

    print(
        f"scheduled run {run['dag_run_id']}: {run['state']} in {time.monotonic() - started:.0f} s"
    )
    assert run["state"] == "success", api.task_instances(run["dag_run_id"])
    assert {app["name"] for app in _spark_apps(deployment)} >= SPARK_APPS


def test_params_outside_their_schema_are_refused_before_any_work(api: AirflowApi) -> None:
    for conf in ({"epochs": -5}, {"source": "ftp"}, {"local_csv_path": 7}):
        assert api.trigger(conf).status_code == 400, conf


def _apps_started_during(deployment: Deployment, run: dict[str, Any]) -> dict[str, list[str]]:
    """Spark application ids by name, for the applications the run started."""
    started, ended = (datetime.fromisoformat(run[k]).timestamp() * 1000 for k in
                      ("start_date", "end_date"))  # fmt: skip
    apps: dict[str, list[str]] = {}
    for app in _spark_apps(deployment):
        if started <= app["starttime"] <= ended:
            apps.setdefault(app["name"], []).append(app["id"])
    return apps


def _executor_hosts(deployment: Deployment, app_ids: list[str]) -> set[str]:
    """The worker hosts on which executors of these applications ran."""
    hosts = set()
    for host in deployment.worker_hosts:
        status = httpx.get(f"{deployment.spark_worker_ui(host)}/json/", timeout=10).json()
        for executor in status["executors"] + status["finishedexecutors"]:
            if executor["appid"] in app_ids:
                hosts.add(host.name)
    return hosts


def test_cluster_training_spans_both_worker_hosts_on_the_first_try(
    api: AirflowApi, deployment: Deployment
) -> None:
    started = time.monotonic()
    response = api.trigger({"local_mode": False, "num_processes": 2})
    assert response.status_code == 200, response.text
    run_id = response.json()["dag_run_id"]

    run = api.wait_for_run(run_id, timeout_s=900)

    tasks = api.task_instances(run_id)
    assert run["state"] == "success", tasks
    assert tasks["train"]["try_number"] == 1
    train, xgboost = _interval(tasks["train"]), _interval(tasks["xgboost"])
    assert train[0] < xgboost[1] and xgboost[0] < train[1], "train and xgboost did not overlap"
    ranks = {
        match.group(1): match.groups()
        for line in api.task_log(run_id, "train", 1)
        if (match := _RANK_LINE.search(str(line.get("event"))))
    }
    worker_addresses = {host.address for host in deployment.worker_hosts}
    assert {rank[3] for rank in ranks.values()} == worker_addresses, ranks
    assert len({rank[5] for rank in ranks.values()}) == 1, "the ranks met at different places"
    apps = _apps_started_during(deployment, run)
    hosts = {name: _executor_hosts(deployment, ids) for name, ids in apps.items()}
    print(
        f"local_mode=false run {run_id}: success in {time.monotonic() - started:.0f} s; "
        f"DDP ranks {sorted(ranks.values())}; executor hosts {hosts}; "
        f"task hosts { {t: ti['hostname'] for t, ti in tasks.items()} }"
    )
    worker_names = {host.name for host in deployment.worker_hosts}
    for app in ("energy-forecast-preprocess", "energy-forecast-train", "energy-forecast-xgboost"):
        assert hosts[app] == worker_names, app
    cores = {app["name"]: app["cores"] for app in _spark_apps(deployment)}
    assert cores["energy-forecast-train"] == 2


def test_tasks_ran_on_both_celery_workers(api: AirflowApi, deployment: Deployment) -> None:
    hosts = {
        task["hostname"]
        for run in api.runs()
        for task in api.task_instances(run["dag_run_id"]).values()
        if task["hostname"]
    }

    assert hosts == {host.name for host in deployment.worker_hosts}


def test_task_logs_carry_each_line_at_its_real_level(api: AirflowApi) -> None:
    run_id = api.runs()[-1]["dag_run_id"]

    lines = api.task_log(run_id, "train", 1)

    epochs = [line for line in lines if " epoch " in str(line.get("event"))]
    assert epochs, "no epoch line in the train log"
    assert {line["level"] for line in epochs} == {"info"}
    assert not [line for line in lines if line.get("level") == "error"]
    assert not [line for line in lines if "\r" in str(line.get("event"))]


def test_the_trigger_form_runs_the_defaults_and_the_run_page_links_to_the_report(
    api: AirflowApi, deployment: Deployment, browser_page: Any, screenshots: Path
) -> None:
    page = browser_page
    before = {run["dag_run_id"] for run in api.runs()}
    page.goto(f"{deployment.api_url}/dags/{DAG_ID}")
    page.get_by_role("button", name="Trigger").first.click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Data").click()
    dialog.get_by_text("Local CSV path").wait_for()
    page.screenshot(path=str(screenshots / "trigger-form-defaults.png"))
    submit = dialog.get_by_role("button", name="Trigger", exact=True)
    assert submit.is_enabled(), "the trigger form refuses its own defaults"
    submit.click()

    run_id = _new_run_id(api, before)
    run = api.wait_for_run(run_id, timeout_s=900)
    assert run["state"] == "success", api.task_instances(run_id)

    page.goto(f"{deployment.api_url}/dags/{DAG_ID}/runs/{run_id}")
    page.get_by_role("link", name="Report", exact=True).click()  # the plugin's dag_run view
    report = page.frame_locator("iframe").first
    report.get_by_role("heading", name="Energy forecast report").wait_for()
    assert report.locator("table").count() >= 1
    assert report.locator('img[src^="data:image/png;base64,"]').count() >= 3
    assert report.get_by_text("lstm").first.is_visible()
    page.screenshot(path=str(screenshots / "report-in-airflow-ui.png"), full_page=True)


def test_the_report_plugin_answers_only_logged_in_users(
    api: AirflowApi, deployment: Deployment
) -> None:
    run_id = api.runs()[-1]["dag_run_id"]
    report = f"{deployment.api_url}/energy-forecast/runs/{run_id}/report"

    assert httpx.get(report, timeout=30).status_code == 401
    assert httpx.get(report, headers=api.headers, timeout=30).status_code == 200
    champion = f"{deployment.api_url}/energy-forecast/champion"
    assert httpx.get(champion, timeout=30).status_code == 401
    escape = "..%2F..%2F..%2Fstate%2Fpasswords.json"
    response = httpx.get(
        f"{deployment.api_url}/energy-forecast/runs/{run_id}/files/{escape}",
        headers=api.headers,
        timeout=30,
    )
    assert response.status_code == 404
    assert deployment.password not in response.text


def _new_run_id(api: AirflowApi, before: set[str], timeout_s: float = 60) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        new = [run["dag_run_id"] for run in api.runs() if run["dag_run_id"] not in before]
        if new:
            return new[0]
        time.sleep(1)
    raise TimeoutError("the trigger form created no run")


def _csv_with_a_row_from_the_future(deployment: Deployment) -> tuple[Path, set[str]]:
    """The deployment's data set plus one row of its first household dated 2099, in a data
    root of the deployment's; the households in it."""
    source = next(deployment.kagglehub_cache.rglob("*.csv"))
    lines = source.read_text().splitlines()
    first = lines[1].split(",")
    future = ",".join([first[0], "12/31/2099", "Thursday", *first[3:]])
    target = deployment.data_roots[0] / "with_a_row_from_2099.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join([*lines, future]) + "\n")
    return target, {line.split(",")[0] for line in lines[1:]}


def test_an_approved_promotion_publishes_and_a_row_from_2099_silences_no_forecast(
    api: AirflowApi, deployment: Deployment
) -> None:
    """A REST run with no data interval (logical_date null) over the data plus one row dated
    2099, asking for approval: the promotion waits for a person, is published on Approve with
    the approver's comment, and every household is forecast (the row is quarantined as
    date_in_future instead of making the data's newest day 2099)."""
    csv, households = _csv_with_a_row_from_the_future(deployment)
    started = time.monotonic()
    conf = {
        "source": "local", "local_csv_path": str(csv), "approval": "required",
        "promote": "force", "promote_reason": "approval over the REST API",
    }  # fmt: skip
    run_id = api.trigger(conf).json()["dag_run_id"]

    api.wait_for_task(run_id, "approve", {"awaiting_input"}, timeout_s=900)
    assert api.task_instances(run_id)["publish"]["state"] in (None, "scheduled", "queued")
    api.respond(run_id, "approve", ["Approve"], {"comment": "checked the report"})
    run = api.wait_for_run(run_id, timeout_s=600)

    tasks = api.task_instances(run_id)
    print(
        f"approval run {run_id}: {run['state']} in {time.monotonic() - started:.0f} s, "
        f"states { {t: ti['state'] for t, ti in tasks.items()} }"
    )
    assert run["state"] == "success", tasks
    champion = _registry(deployment).current()
    assert champion.metadata["run_id"] == run_id
    approval = champion.metadata["approval"]
    assert approval["approved"] is True and approval["by"] == ADMIN_USER
    assert approval["comment"] == "checked the report"
    run_dir = deployment.artifacts / "energy_forecast" / safe_run_id(run_id)
    ingest = json.loads((run_dir / "raw" / "manifest.json").read_text())
    quarantined = {reason: rows for reason, rows in ingest["quarantine_reasons"].items() if rows}
    assert quarantined == {"date_in_future": 1}
    assert tasks["forecast"]["state"] == "success"
    forecasts = pd.concat(
        pd.read_parquet(path)
        for path in (deployment.artifacts / "energy_forecast" / "forecasts").rglob("*.parquet")
        if pd.read_parquet(path)["champion_version"].iloc[0] == champion.name
    )
    forecast = forecasts[forecasts["status"] == "forecast"]
    assert set(forecast["household_id"]) == households


def test_a_broker_restart_between_two_tasks_leaves_the_run_to_succeed(
    api: AirflowApi, deployment: Deployment
) -> None:
    started = time.monotonic()
    # New Params, so the run trains and publishes instead of skipping as unchanged.
    run_id = api.trigger({"seed": 8}).json()["dag_run_id"]
    api.wait_for_task(run_id, "download", {"success"}, timeout_s=300)

    deployment.restart_service(deployment.control_plane.name, "redis")
    restarted = datetime.now(UTC)

    run = api.wait_for_run(run_id, timeout_s=900)
    tasks = api.task_instances(run_id)
    after = sorted(t for t, ti in tasks.items() if ti["start_date"] and
                   datetime.fromisoformat(ti["start_date"]) > restarted)  # fmt: skip
    print(
        f"broker-restart run {run_id}: {run['state']} in {time.monotonic() - started:.0f} s, "
        f"tries { {t: ti['try_number'] for t, ti in tasks.items()} }, "
        f"started after the restart: {after}"
    )
    assert run["state"] == "success", tasks
    assert {"check_features", "train", "xgboost", "report"} <= set(after)


def test_a_worker_host_lost_during_training_costs_a_retry_not_the_run(
    api: AirflowApi, deployment: Deployment
) -> None:
    registry = _registry(deployment)
    versions_before = [v.name for v in registry.versions()]
    events_before = len(api.asset_events("publish"))
    reader = ChampionReader(registry)
    reader.start()
    started = time.monotonic()
    conf = {"seed": 7, "promote": "force", "promote_reason": "worker host lost"}
    run_id = api.trigger(conf).json()["dag_run_id"]
    train = api.wait_for_task(run_id, "train", {"running"}, timeout_s=600)
    time.sleep(10)  # into the training proper

    deployment.lose_host(train["hostname"])
    time.sleep(10)
    deployment.restore_host(train["hostname"])

    run = api.wait_for_run(run_id, timeout_s=1500)
    reader.done.set()
    reader.join()
    tasks = api.task_instances(run_id)
    new_versions = [v for v in registry.versions() if v.name not in versions_before]
    new_events = api.asset_events("publish")[events_before:]
    print(
        f"host-loss run {run_id}: {run['state']} in {time.monotonic() - started:.0f} s; "
        f"lost {train['hostname']} in train try {train['try_number']}; "
        f"tries { {t: ti['try_number'] for t, ti in tasks.items()} }; "
        f"hosts { {t: ti['hostname'] for t, ti in tasks.items()} }; "
        f"new versions {[v.name for v in new_versions]}; asset events "
        f"{[(e['asset_id'], e.get('source_run_id')) for e in new_events]}; "
        f"champion reads {reader.reads}"
    )
    assert run["state"] == "success", tasks
    assert tasks["train"]["try_number"] >= 2
    assert len(new_versions) == 1 and new_versions[0].metadata["run_id"] == run_id
    assert [e.get("source_run_id") for e in new_events] == [run_id]
    assert reader.problems == [] and reader.reads > 0


def _registry(deployment: Deployment) -> Registry:
    """The deployment's registry, read as a consumer on the control plane's network would."""
    local = TrackingStore.local(deployment.artifacts)
    return Registry(TrackingStore(deployment.mlflow_url, local.folder))


def test_mlflow_ui_shows_the_run_and_the_champion_alias(
    api: AirflowApi, deployment: Deployment, browser_page: Any, screenshots: Path
) -> None:
    runs = api.runs()
    scheduled = next(run["dag_run_id"] for run in runs if run["run_type"] == "scheduled")
    published = {
        run["dag_run_id"]
        for run in runs
        if api.task_instances(run["dag_run_id"]).get("publish", {}).get("state") == "success"
    }
    champion = _registry(deployment).current()
    print(
        f"MLflow: champion version {champion.name} from {champion.tags.get(RUN_ID_TAG)}; "
        f"runs that published {sorted(published)}"
    )
    assert champion.tags.get(RUN_ID_TAG) in published, champion.tags

    check_run_and_champion(
        browser_page, deployment.mlflow_url, scheduled, champion.name, screenshots
    )

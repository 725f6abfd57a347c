"""What a person sees in the MLflow UI, looked at with Chromium: a DAG run with its child
runs and Airflow tags, and the registered model with its alias ``champion``.

The e2e tests start ``mlflow server`` on their local store (:func:`local_mlflow_ui`); the
deployment test opens the deployment's own server. Selectors are those of MLflow 3.17's UI.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from energy_forecast.champion.registry import MODEL_NAME
from energy_forecast.tracking.store import EXPERIMENT_NAME, TrackingStore

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
CHILD_RUNS = ("lstm", "xgboost")


@contextmanager
def local_mlflow_ui(store: TrackingStore, log_file: Path) -> Iterator[str]:
    """``mlflow server`` on the local store, on a loopback port of its own; stopped (its
    whole process group) however the block ends."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    command = [
        str(Path(sys.executable).parent / "mlflow"), "server",
        "--backend-store-uri", store.tracking_uri,
        "--default-artifact-root", store.artifact_root.as_uri(),
        "--no-serve-artifacts", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    with log_file.open("wb") as log:
        server = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=environment, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, server)
        yield url
    finally:
        with suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _wait_healthy(url: str, server: subprocess.Popen[bytes], timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"mlflow server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"mlflow server at {url} not healthy after {timeout_s} s")


@contextmanager
def chromium_page() -> Iterator[Any]:
    """A Chromium page (Debian's browser, driven by Playwright)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(30_000)
            yield page
        finally:
            browser.close()


def check_run_and_champion(
    page: Any, mlflow_url: str, dag_run_id: str, champion_version: str, screenshots: Path
) -> None:
    """The runs table lists ``dag_run_id``; its page shows the child runs and its Airflow
    tags; the registered model's version ``champion_version`` carries the alias."""
    from playwright.sync_api import expect

    page.goto(f"{mlflow_url}/#/experiments")
    experiment = page.get_by_role("link", name=EXPERIMENT_NAME, exact=True)
    # The experiment's own page opens on its GenAI overview; the runs table is at /runs.
    page.goto(f"{mlflow_url}/{experiment.get_attribute('href')}/runs")
    run_link = page.get_by_role("link", name=dag_run_id, exact=True)
    expect(run_link).to_be_visible()
    page.screenshot(path=str(screenshots / "mlflow-runs.png"))
    run_link.click()  # the run's page lists its child runs and its Airflow tags
    for child in CHILD_RUNS:
        expect(page.get_by_role("link", name=child, exact=True).first).to_be_visible()
    expect(page.get_by_text("airflow.run_id", exact=True)).to_be_visible()
    page.screenshot(path=str(screenshots / "mlflow-run.png"))

    page.goto(f"{mlflow_url}/#/models/{MODEL_NAME}")
    version = page.get_by_role("link", name=f"Version {champion_version}", exact=True)
    expect(page.get_by_role("row").filter(has=version)).to_contain_text("champion")
    page.screenshot(path=str(screenshots / "mlflow-champion-alias.png"))

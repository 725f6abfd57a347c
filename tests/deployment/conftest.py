"""The deployed topology (``deploy.topology``) started once for the deployment tests: a
control-plane host and two worker hosts, each a network namespace with an address of the
subnet below, which nothing else on the machine uses.

Small data keeps the three runs short: the first 500 households of the real file (3,500
rows), or a synthetic set of that size where the real file is absent, served through the
real ``kagglehub`` call from a pre-filled cache, the way ``source=auto`` finds it.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.airflow_api import AirflowApi
from deploy.topology import ADMIN_USER, MULTI_HOST, Deployment
from tests.conftest import REAL_CSV

HANDLE = "samxsam/household-energy-consumption"
VERSION = 1
SMALL_ROWS = 3_500  # 500 households x 7 days
#: The test's own hosts: names prefixed ``eftest``, addresses in this subnet.
NETWORK_PREFIX, SUBNET = "eftest", "10.214.0.0/24"


def fill_kagglehub_cache(cache: Path, rows: int = SMALL_ROWS) -> Path:
    """Put a small copy of the data set where kagglehub serves versioned handles offline."""
    dataset = cache / "datasets" / HANDLE
    folder = dataset / "versions" / str(VERSION)
    folder.mkdir(parents=True)
    target = folder / "household_energy_consumption.csv"
    if REAL_CSV.exists():
        with REAL_CSV.open() as source, target.open("w") as out:
            for _, line in zip(range(rows + 1), source, strict=False):
                out.write(line)
    else:
        from energy_forecast.ingest.synthetic import write_synthetic_csv

        write_synthetic_csv(target, households=rows // 7, days=7, seed=7)
    (dataset / f"{VERSION}.complete").touch()
    return target


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="package")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("deployment")
    fill_kagglehub_cache(root / "kagglehub")
    local = Deployment(
        state_dir=root / "state",
        database=f"energy_forecast_deployment_{os.getpid()}",
        artifacts=root / "artifacts",
        kagglehub_cache=root / "kagglehub",
        network_prefix=NETWORK_PREFIX,
        subnet=SUBNET,
        placement=MULTI_HOST,
        data_roots=[root / "data"],
    )
    # A CI timeout or a Ctrl-C sends SIGTERM/SIGINT: turn both into KeyboardInterrupt so
    # pytest unwinds through this fixture and every started process, namespace and link is
    # removed.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        local.start()
        yield local
    finally:
        local.stop()
        local.drop_databases()
        signal.signal(signal.SIGTERM, previous)


@pytest.fixture(scope="package")
def api(deployment: Deployment) -> AirflowApi:
    client = AirflowApi.login(deployment.api_url, ADMIN_USER, deployment.password)
    client.wait_for_dag()
    return client

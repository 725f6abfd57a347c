"""The cost of crossing hosts: one ``local_mode=false`` run on three hosts and on one, alternating.

    .venv/bin/python -m benchmarks.hosts [--rounds 3] [--epochs 10]    # as root

Each round starts a fresh deployment (``deploy.topology``) with every service on one host
(``ONE_HOST``), runs the DAG once through the REST API on the real file with training on
the cluster path (two DDP ranks as Spark barrier tasks), stops it, then does the same on the
production placement (``MULTI_HOST``: a control plane and two worker hosts, where the ranks,
the executors and the drivers talk across the bridge). Start-up is not timed; the run is,
from its start to its end as Airflow records them, with each task's duration. Medians of the
rounds and their ratio go under ``"hosts"`` in ``benchmarks/results.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.benchmark import DEFAULT_CSV, median_runs, record_result
from deploy.airflow_api import AirflowApi
from deploy.topology import ADMIN_USER, MULTI_HOST, ONE_HOST, Deployment

PLACEMENTS = {"one_host": ONE_HOST, "multi_host": MULTI_HOST}
#: The benchmark's own hosts: names prefixed ``efbench``, addresses in this subnet.
NETWORK_PREFIX, SUBNET = "efbnch", "10.215.0.0/24"


def _seconds(task: dict[str, Any]) -> float:
    return round(task["duration"] or 0.0, 1)


def _stop_the_scheduled_run(api: AirflowApi, timeout_s: float = 120) -> None:
    """Unpausing creates a run for the latest interval; it would run first (one active run
    at a time) on data this benchmark does not measure, so it is marked failed."""
    deadline = time.monotonic() + timeout_s
    while not (scheduled := [r for r in api.runs() if r["run_type"] == "scheduled"]):
        if time.monotonic() > deadline:
            raise TimeoutError("unpausing created no scheduled run")
        time.sleep(1)
    api.set_run_state(scheduled[0]["dag_run_id"], "failed")


def run_once(placement: str, csv: Path, epochs: int, root: Path) -> dict[str, Any]:
    """Start ``placement``, run the DAG once on it, stop it; the run's and tasks' times."""
    deployment = Deployment(
        state_dir=root / "state",
        database=f"energy_forecast_bench_{placement}",
        artifacts=root / "artifacts",
        kagglehub_cache=root / "kagglehub",
        network_prefix=NETWORK_PREFIX,
        subnet=SUBNET,
        placement=PLACEMENTS[placement],
        data_roots=[csv.parent],
    )
    conf = {
        "source": "local",
        "local_csv_path": str(csv),
        "local_mode": False,
        "num_processes": 2,
        "epochs": epochs,
        "patience": epochs,  # every round trains the same number of epochs
    }
    with deployment:
        api = AirflowApi.login(deployment.api_url, ADMIN_USER, deployment.password)
        api.wait_for_dag()
        api.unpause()
        _stop_the_scheduled_run(api)
        run_id = api.trigger(conf).json()["dag_run_id"]
        run = api.wait_for_run(run_id, timeout_s=1800)
        tasks = api.task_instances(run_id)
    deployment.drop_databases()
    started, ended = (datetime.fromisoformat(run[k]) for k in ("start_date", "end_date"))
    return {
        "ok": run["state"] == "success",
        "wall_seconds": round((ended - started).total_seconds(), 1),
        "tasks": {task_id: _seconds(task) for task_id, task in tasks.items()},
        "hosts": {task_id: task["hostname"] for task_id, task in tasks.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    args = parser.parse_args()

    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in PLACEMENTS}
    for round_number in range(args.rounds):
        for placement in PLACEMENTS:
            root = Path(tempfile.mkdtemp(prefix=f"energy-forecast-hosts-{placement}-"))
            started = time.monotonic()
            try:
                run = run_once(placement, args.csv.resolve(), args.epochs, root)
            finally:
                shutil.rmtree(root, ignore_errors=True)
            runs[placement].append(run)
            print(
                f"round {round_number} {placement}: run {run['wall_seconds']} s "
                f"(ok={run['ok']}), with start-up {time.monotonic() - started:.0f} s",
                flush=True,
            )
    one, multi = median_runs(runs["one_host"]), median_runs(runs["multi_host"])
    hosts = {
        "measured_at": datetime.now().isoformat(timespec="seconds"),
        "rounds": args.rounds,
        "epochs": args.epochs,
        "one_host": one,
        "multi_host": multi,
        "multi_over_one_wall": round(multi["wall_seconds"] / one["wall_seconds"], 3),
        "multi_over_one_train": round(multi["tasks"]["train"] / one["tasks"]["train"], 3),
    }
    record_result("hosts", hosts)
    summary = {k: v for k, v in hosts.items() if k not in ("one_host", "multi_host")}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

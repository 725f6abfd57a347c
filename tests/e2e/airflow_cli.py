"""Run the real Airflow CLI (``bin/airflow-local``) against a throwaway home and artifacts root."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from energy_forecast.paths import safe_run_id

PROJECT_ROOT = Path(__file__).resolve().parents[2]
AIRFLOW_LOCAL = PROJECT_ROOT / "bin" / "airflow-local"
_RUN_STATE = re.compile(r"DagRun Finished: .*?run_id=(\S+?), .*?state=(\w+)")


_POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def fresh_postgres_database(name: str) -> str | None:
    """Create an empty Postgres database for Airflow's metadata; None when none is reachable.

    The machines this project runs on serve Postgres on 127.0.0.1:5432 (trust auth).
    """
    try:
        import psycopg2
    except ImportError:
        return None
    try:
        connection = psycopg2.connect(_POSTGRES_ADMIN, connect_timeout=3)
    except psycopg2.OperationalError:
        return None
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()
    return f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"


@dataclass(frozen=True)
class DagRunResult:
    state: str
    run_id: str
    run_dir: Path
    log: str


class LocalAirflow:
    """An isolated AIRFLOW_HOME (SQLite), artifacts root and empty kagglehub cache."""

    def __init__(self, root: Path, database_url: str | None = None) -> None:
        self.root = root
        self.artifacts = root / "artifacts"
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AIRFLOW", "KAGGLE", "MLFLOW", "ENERGY_FORECAST"))
        }
        self.env.update(
            AIRFLOW_HOME=str(root / "airflow"),
            ENERGY_FORECAST_ARTIFACTS=str(self.artifacts),
            KAGGLEHUB_CACHE=str(root / "kagglehub"),
            # the real file lives beside the project, outside its default data root
            ENERGY_FORECAST_DATA_ROOTS=str(PROJECT_ROOT.parent / "shared" / "data"),
        )
        if database_url:
            self.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = database_url

    def cli(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return self._run([str(AIRFLOW_LOCAL), *args], timeout)

    def python(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """The project's interpreter with this home's environment (its artifacts root)."""
        return self._run([sys.executable, *args], timeout)

    def _run(self, argv: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            argv,
            env=self.env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def migrate(self) -> None:
        result = self.cli("db", "migrate")
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    def dags_test(self, conf: dict, logical_date: str | None = None) -> DagRunResult:
        dated = [logical_date] if logical_date else []
        result = self.cli("dags", "test", "energy_forecast", *dated, "-c", json.dumps(conf))
        log = result.stdout + result.stderr
        match = _RUN_STATE.search(log)
        assert match, f"no DagRun end in the log (exit {result.returncode}):\n{log[-5000:]}"
        run_id, state = match.groups()
        run_dir = self.artifacts / "energy_forecast" / safe_run_id(run_id)
        return DagRunResult(state, run_id, run_dir, log)

    def task_states(self, run_id: str) -> dict[str, str]:
        result = self.cli(
            "tasks", "states-for-dag-run", "energy_forecast", run_id, "--output", "json"
        )
        assert result.returncode == 0, result.stderr[-3000:]
        rows = json.loads(result.stdout[result.stdout.index("[") :])
        return {row["task_id"]: row["state"] for row in rows}

    def asset_events(self, source_task_id: str = "publish") -> int:
        """Asset events a task emitted (``publish``: the champion's; ``forecast``: the daily
        forecasts') in this home's metadata database."""
        rows = self._query(
            "SELECT COUNT(*) FROM asset_event WHERE source_task_id = :task", task=source_task_id
        )
        return int(rows[0][0])

    def try_numbers(self, run_id: str) -> dict[str, int]:
        """How many tries each task of ``run_id`` has had."""
        rows = self._query(
            "SELECT task_id, try_number FROM task_instance WHERE run_id = :run_id", run_id=run_id
        )
        return {task_id: int(tries) for task_id, tries in rows}

    def _query(self, sql: str, **bound: str) -> list[tuple]:
        from sqlalchemy import create_engine, text

        url = self.env.get(
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
            f"sqlite:///{self.root / 'airflow' / 'airflow.db'}",
        )
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                return [tuple(row) for row in connection.execute(text(sql), bound)]
        finally:
            engine.dispose()

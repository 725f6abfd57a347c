"""Run the real Airflow CLI (``bin/airflow-local``) against a throwaway home and artifacts root."""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
AIRFLOW_LOCAL = PROJECT_ROOT / "bin" / "airflow-local"
_RUN_STATE = re.compile(r"DagRun Finished: .*?run_id=(\S+?), .*?state=(\w+)")


@dataclass(frozen=True)
class DagRunResult:
    state: str
    run_id: str
    run_dir: Path
    log: str


class LocalAirflow:
    """An isolated AIRFLOW_HOME (SQLite), artifacts root and empty kagglehub cache."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.artifacts = root / "artifacts"
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AIRFLOW", "KAGGLE"))
        }
        self.env.update(
            AIRFLOW_HOME=str(root / "airflow"),
            ENERGY_FORECAST_ARTIFACTS=str(self.artifacts),
            KAGGLEHUB_CACHE=str(root / "kagglehub"),
        )

    def cli(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(AIRFLOW_LOCAL), *args],
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

    def dags_test(self, conf: dict) -> DagRunResult:
        result = self.cli("dags", "test", "energy_forecast", "-c", json.dumps(conf))
        log = result.stdout + result.stderr
        match = _RUN_STATE.search(log)
        assert match, f"no DagRun end in the log (exit {result.returncode}):\n{log[-5000:]}"
        run_id, state = match.groups()
        runs = [p for p in (self.artifacts / "energy_forecast").iterdir() if p.is_dir()]
        run_dirs = [p for p in runs if not p.name.startswith((".", "champion"))]
        return DagRunResult(state, run_id, max(run_dirs, key=lambda p: p.stat().st_mtime), log)

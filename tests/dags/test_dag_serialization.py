"""A DAG processor in another environment serializes the very same DAG.

Interpreter, application file, artifacts root and Asset URI must be resolved on the worker
when a task runs, never baked into the serialized DAG by the process that parsed it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"
_SERIALIZE = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
from airflow.serialization.serialized_objects import DagSerialization
dag = DagBag(sys.argv[1]).dags["energy_forecast"]
print(json.dumps(DagSerialization.to_dict(dag), sort_keys=True, default=str))
"""


def _serialized(tmp_path: Path, name: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENERGY_FORECAST")}
    env.update(
        AIRFLOW_HOME=str(tmp_path / name / "airflow"),
        ENERGY_FORECAST_ARTIFACTS=str(tmp_path / name / "artifacts"),
        ENERGY_FORECAST_DATA_ROOTS=str(tmp_path / name / "data"),
        PYSPARK_PYTHON=str(tmp_path / name / "bin" / "python"),
    )
    result = subprocess.run(
        [sys.executable, "-c", _SERIALIZE, str(DAGS_FOLDER)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def test_two_environments_serialize_the_same_dag_with_none_of_their_paths(tmp_path: Path) -> None:
    first, second = _serialized(tmp_path, "one"), _serialized(tmp_path, "two")

    assert json.loads(first) == json.loads(second)
    assert str(tmp_path) not in first
    assert sys.executable not in first

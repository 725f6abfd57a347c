"""``docker-compose.yaml`` and ``deploy.topology`` describe the same deployment.

The compose file cannot run on machines without a Docker engine, so the deployment test
runs the topology as processes; these rules keep the two from drifting apart.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from deploy.topology import (
    PROJECT_ROOT,
    LocalDeployment,
    Ports,
    WorkerSize,
    airflow_services,
    spark_services,
)

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yaml").read_text())
SERVICES = COMPOSE["services"]
DOCKERFILE_ENV = set(
    re.findall(r"^(?:ENV)?\s+([A-Z_]+)=", (PROJECT_ROOT / "Dockerfile").read_text(), re.M)
)
#: Variables only a process-based deployment on one machine needs.
_LOCAL_ONLY = {"SPARK_LOCAL_IP", "SPARK_WORKER_DIR", "PATH", "PYSPARK_PYTHON"}
TOPOLOGY = spark_services(Ports(), WorkerSize(), host="spark-master") + airflow_services(Ports())


def _deployment(tmp_path: Path) -> LocalDeployment:
    return LocalDeployment(tmp_path, "unused", tmp_path / "a", tmp_path / "k")


def _project_variables(names: set[str]) -> set[str]:
    return {n for n in names if n.startswith(("AIRFLOW", "ENERGY_FORECAST", "KAGGLEHUB"))}


def test_both_run_the_same_services() -> None:
    assert set(SERVICES) == {s.name for s in TOPOLOGY} | {"postgres", "airflow-init"}


@pytest.mark.parametrize("service", TOPOLOGY, ids=lambda s: s.name)
def test_each_service_runs_the_same_command(service) -> None:
    assert shlex.split(SERVICES[service.name]["command"]) == service.command


def test_migrations_run_before_the_airflow_services() -> None:
    assert shlex.split(SERVICES["airflow-init"]["command"]) == ["airflow", "db", "migrate"]
    for service in airflow_services(Ports()):
        assert SERVICES[service.name]["depends_on"]["airflow-init"] == {
            "condition": "service_completed_successfully"
        }


def test_both_set_the_same_project_variables(tmp_path: Path) -> None:
    topology = _project_variables(set(_deployment(tmp_path).environment())) - _LOCAL_ONLY
    compose = set(SERVICES["airflow-scheduler"]["environment"]) | DOCKERFILE_ENV

    assert topology == _project_variables(compose)


def test_compose_takes_its_secrets_from_the_env_file_not_the_repo() -> None:
    text = (PROJECT_ROOT / "docker-compose.yaml").read_text()
    for secret in ("POSTGRES_PASSWORD", "AIRFLOW_JWT_SECRET", "AIRFLOW_FERNET_KEY"):
        assert f"${{{secret}:?" in text, f"{secret} is not read from .env"
        assert f"{secret}=" in (PROJECT_ROOT / ".env.example").read_text()
    assert "change-me" not in text
    assert ".env" in (PROJECT_ROOT / ".gitignore").read_text().split()


def test_the_spark_connection_names_the_master_and_its_web_ui(tmp_path: Path) -> None:
    import json

    compose = json.loads(SERVICES["airflow-scheduler"]["environment"]["AIRFLOW_CONN_SPARK_DEFAULT"])
    local = json.loads(_deployment(tmp_path).environment()["AIRFLOW_CONN_SPARK_DEFAULT"])

    assert compose["host"] == local["host"].replace("127.0.0.1", "spark-master")
    assert compose["extra"].keys() == local["extra"].keys()


@pytest.mark.parametrize("service", ["spark-worker", "airflow-scheduler"])
def test_containers_running_training_ranks_may_raise_gloos_threads(service: str) -> None:
    # The deployment test runs as root; a container needs the capability granted.
    assert "SYS_NICE" in SERVICES[service]["cap_add"]

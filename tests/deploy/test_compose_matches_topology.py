"""``docker-compose.yaml`` and ``deploy.topology`` describe the same deployment.

The compose file cannot run on machines without a Docker engine, so the deployment test
runs the topology as processes in network namespaces; these rules keep the two from
drifting apart, service by service and host by host. Addresses get no exemption: both
name the same hosts and ports (the topology's hosts files resolve the compose names).
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from deploy.services import MIGRATE, MIGRATE_GRANTS, WORKER, Service
from deploy.topology import MULTI_HOST, PROJECT_ROOT, Deployment

COMPOSE_TEXT = (PROJECT_ROOT / "docker-compose.yaml").read_text()
SERVICES = yaml.safe_load(COMPOSE_TEXT)["services"]
DOCKERFILE = (PROJECT_ROOT / "Dockerfile").read_text()
DOCKERFILE_ENV = set(re.findall(r"^(?:ENV)?\s+([A-Z_]+)=", DOCKERFILE, re.M))
#: Not built from our image: the topology runs the machine's Postgres behind a forwarder
#: and its own redis-server, so only Redis's command and health check are compared.
FOREIGN_IMAGES = {"postgres", "redis"}
PROJECT_PREFIXES = ("AIRFLOW", "ENERGY_FORECAST", "KAGGLEHUB", "MLFLOW", "SPARK", "PYSPARK")
SECRETS = (
    "POSTGRES_PASSWORD",
    "MLFLOW_POSTGRES_PASSWORD",
    "AIRFLOW_JWT_SECRET",
    "AIRFLOW_FERNET_KEY",
    "AIRFLOW_API_SECRET_KEY",
)
#: Variables whose values differ by nature: where each deployment keeps its files, and secrets.
_SECRET_VARIABLES = {
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__RESULT_BACKEND",
    "AIRFLOW__API_AUTH__JWT_SECRET", "AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API__SECRET_KEY",
    "MLFLOW_BACKEND_STORE_URI", "ENERGY_FORECAST_PUBLISH_LOCK_URL",
}  # fmt: skip
#: Addresses a person's browser opens rather than a service's: compose's are on the Docker
#: host's loopback (where it publishes the port), the topology's on the control plane's
#: address (Chromium runs in the machine's own namespace). Hosts differ, ports may not.
_BROWSER_VARIABLES = {"ENERGY_FORECAST_MLFLOW_UI_URL"}


def _deployment() -> Deployment:
    root = Path("/nonexistent-state")  # nothing is started or written by these tests
    return Deployment(
        root, "airflow", root / "a", root / "k", "eftst", "10.219.0.0/24", data_roots=[root / "d"]
    )


DEPLOYMENT = _deployment()
TOPOLOGY: list[Service] = [
    service
    for host in DEPLOYMENT.network.hosts
    for service in DEPLOYMENT.services_on(host)
    if host.name in ("control-plane", "worker-1")  # worker-2 runs what worker-1 runs
]
OURS = [s for s in TOPOLOGY if s.name not in FOREIGN_IMAGES]


@pytest.fixture(autouse=True)
def _no_secret_files(monkeypatch: pytest.MonkeyPatch) -> None:
    # environment() would write the generated secrets under the state folder.
    monkeypatch.setattr(Deployment, "_secret", lambda self, name, make: f"<{name}>")
    monkeypatch.setattr(Deployment, "_passwords_file", lambda self: Path("/passwords.json"))


def _project_variables(environment: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in environment.items() if k.startswith(PROJECT_PREFIXES)}


def _compose_environment(name: str) -> dict[str, str]:
    declared = {k: str(v) for k, v in (SERVICES[name].get("environment") or {}).items()}
    return _project_variables({**dict.fromkeys(DOCKERFILE_ENV, ""), **declared})


def _addresses(value: str) -> list[tuple[str | None, int | None]]:
    """Every (host, port) a variable's value names: URLs, and URLs inside JSON."""
    value = re.sub(r"\$\{[^}]*\}", "secret", value)  # compose's ${VAR:?message}
    urls = re.findall(r"[a-z+0-9]+://[^\s\"',]+", value)
    return [(urlparse(url).hostname, urlparse(url).port) for url in urls]


def _as_compose_browser_sees_it(
    addresses: list[tuple[str | None, int | None]],
) -> list[tuple[str | None, int | None]]:
    control_plane = DEPLOYMENT.control_plane.address
    return [("localhost" if host == control_plane else host, port) for host, port in addresses]


def test_both_run_the_same_services() -> None:
    assert set(SERVICES) == {s.name for s in TOPOLOGY} | {"airflow-init"}


@pytest.mark.parametrize(
    "service", [s for s in TOPOLOGY if s.name != "postgres"], ids=lambda s: s.name
)
def test_each_service_runs_the_same_command(service: Service) -> None:
    assert tuple(shlex.split(SERVICES[service.name]["command"])) == service.command


@pytest.mark.parametrize("service", TOPOLOGY, ids=lambda s: s.name)
def test_each_service_is_placed_on_a_host_of_its_role(service: Service) -> None:
    assert SERVICES[service.name]["labels"]["energy-forecast.role"] == service.role


def test_services_built_from_our_image_are_the_ones_the_topology_runs_from_this_checkout():
    assert {name for name, service in SERVICES.items() if "build" in service} == {
        s.name for s in OURS
    } | {"airflow-init"}


def test_compose_runs_as_many_worker_replicas_as_the_topology_has_worker_hosts() -> None:
    worker_hosts = [name for name, roles in MULTI_HOST.items() if WORKER in roles]
    for service in (s for s in OURS if s.role == WORKER):
        compose = SERVICES[service.name]
        assert compose["deploy"]["replicas"] == len(worker_hosts)
        # `docker compose up --scale` needs no fixed name and no published port
        assert "container_name" not in compose and "ports" not in compose


@pytest.mark.parametrize("service", OURS, ids=lambda s: s.name)
def test_each_service_gets_the_same_variables_with_the_same_addresses(service: Service) -> None:
    topology = _project_variables(DEPLOYMENT.environment(service.grants))
    compose = _compose_environment(service.name)

    assert set(topology) == set(compose)
    for name, value in topology.items():
        addresses = _addresses(value)
        if name in _BROWSER_VARIABLES:
            addresses = _as_compose_browser_sees_it(addresses)
        assert addresses == _addresses(compose[name]), name
        if name not in _SECRET_VARIABLES and not value.startswith("/") and "://" not in value:
            assert value == compose[name], name


def test_the_migration_job_gets_what_the_topology_gives_it() -> None:
    init = SERVICES["airflow-init"]
    assert tuple(shlex.split(init["command"])) == MIGRATE
    topology = _project_variables(DEPLOYMENT.environment(MIGRATE_GRANTS))
    assert set(topology) == set(_compose_environment("airflow-init"))
    for service in (s for s in OURS if s.name.startswith("airflow-")):
        assert SERVICES[service.name]["depends_on"]["airflow-init"] == {
            "condition": "service_completed_successfully"
        }


@pytest.mark.parametrize("service", TOPOLOGY, ids=lambda s: s.name)
def test_each_service_has_the_same_health_check(service: Service) -> None:
    test = SERVICES[service.name]["healthcheck"]["test"]
    if service.name == "postgres":
        return  # the image's own check; the topology's forwarder is checked with pg_isready
    assert test[0] == "CMD-SHELL"
    assert test[1].replace("$$", "$") == service.healthcheck


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_long_running_services_restart_unless_stopped(service: str) -> None:
    expected = "no" if service == "airflow-init" else "unless-stopped"
    assert SERVICES[service]["restart"] == expected


@pytest.mark.parametrize("secret", SECRETS)
def test_secrets_reach_only_the_services_granted_them(secret: str) -> None:
    holders = {name for name, service in SERVICES.items() if f"${{{secret}" in json.dumps(service)}
    granted = {
        "POSTGRES_PASSWORD": {"postgres", "airflow-init"}
        | {s.name for s in OURS if {"metadata", "results"} & s.grants},
        "MLFLOW_POSTGRES_PASSWORD": {"postgres"}
        | {s.name for s in OURS if {"mlflow-server", "publish-lock"} & s.grants},
        "AIRFLOW_JWT_SECRET": {s.name for s in OURS if "signing" in s.grants},
        "AIRFLOW_FERNET_KEY": {"airflow-init"} | {s.name for s in OURS if "fernet" in s.grants},
        "AIRFLOW_API_SECRET_KEY": {s.name for s in OURS if "logs" in s.grants},
    }[secret]
    assert holders == granted
    assert not holders & {"spark-master", "spark-worker", "redis"}


def test_compose_takes_its_secrets_from_the_env_file_not_the_repo() -> None:
    for secret in SECRETS:
        assert f"${{{secret}:?" in COMPOSE_TEXT, f"{secret} is not read from .env"
        assert f"{secret}=" in (PROJECT_ROOT / ".env.example").read_text()
    assert "change-me" not in COMPOSE_TEXT
    assert ".env" in (PROJECT_ROOT / ".gitignore").read_text().split()


def test_the_image_runs_as_an_unprivileged_user() -> None:
    users = re.findall(r"^USER\s+(\S+)", DOCKERFILE, re.M)
    assert users and users[-1] not in {"root", "0"}


def test_the_spark_master_ui_is_published_on_the_docker_hosts_loopback_without_kill_links() -> None:
    master = SERVICES["spark-master"]
    assert master["ports"] == ["127.0.0.1:8090:8090"]
    for service in ("spark-master", "spark-worker"):
        assert "-Dspark.ui.killEnabled=false" in " ".join(SERVICES[service]["environment"].values())


def test_the_mlflow_ui_is_published_on_the_docker_hosts_loopback_where_links_point() -> None:
    port = DEPLOYMENT.ports.mlflow
    assert SERVICES["mlflow"]["ports"] == [f"127.0.0.1:{port}:{port}"]
    ui = SERVICES["airflow-apiserver"]["environment"]["ENERGY_FORECAST_MLFLOW_UI_URL"]
    assert _addresses(ui) == [("localhost", port)]


def test_services_that_reach_mlflow_start_after_it_is_healthy() -> None:
    for service in (s for s in OURS if "tracking" in s.grants):
        assert SERVICES[service.name]["depends_on"]["mlflow"] == {"condition": "service_healthy"}
    assert SERVICES["mlflow"]["depends_on"]["postgres"] == {"condition": "service_healthy"}


def test_postgres_creates_the_role_and_database_mlflow_and_the_publishers_use() -> None:
    postgres = SERVICES["postgres"]
    assert "./deploy/postgres-init:/docker-entrypoint-initdb.d:ro" in postgres["volumes"]
    init = (PROJECT_ROOT / "deploy" / "postgres-init" / "mlflow.sh").read_text()
    urls = [
        SERVICES["mlflow"]["environment"]["MLFLOW_BACKEND_STORE_URI"],
        SERVICES["airflow-worker"]["environment"]["ENERGY_FORECAST_PUBLISH_LOCK_URL"],
    ]
    for url in (urlparse(re.sub(r"\$\{[^}]*\}", "secret", u)) for u in urls):
        assert f"CREATE ROLE {url.username} LOGIN" in init
        assert f"CREATE DATABASE {url.path.lstrip('/')} OWNER {url.username}" in init


def _volume_names(service: str) -> set[str]:
    return {volume.split(":")[0] for volume in SERVICES[service].get("volumes", [])}


def test_airflows_home_is_mounted_only_by_airflow_and_the_password_file_only_by_the_ui() -> None:
    for name in SERVICES:
        assert ("airflow-state" in _volume_names(name)) == name.startswith("airflow-"), name
        assert ("airflow-users" in _volume_names(name)) == (name == "airflow-apiserver"), name


@pytest.mark.parametrize("service", ["spark-worker", "airflow-worker"])
def test_containers_running_training_ranks_may_raise_gloos_threads(service: str) -> None:
    # Non-root processes get no capability from cap_add; an RLIMIT_RTPRIO of 1 is enough.
    assert SERVICES[service]["ulimits"]["rtprio"] >= 1

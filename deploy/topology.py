"""The deployment of ``docker-compose.yaml``, run on one machine with a namespace per host.

Three hosts, as the deployment is placed in production (``deploy.services`` lists what each
runs, a test keeps the compose file in step):

- ``control-plane``: Postgres, Redis (the Celery broker), the Spark master, the MLflow
  tracking server (with the Model Registry and its UI), and Airflow's API server with the
  UI, scheduler, DAG processor and triggerer;
- ``worker-1`` and ``worker-2``: each an Airflow Celery worker (which runs the tasks, and so
  the Spark drivers) and a Spark worker (the executors, and the DDP ranks of
  ``local_mode=false`` training).

Each host is a Linux network namespace with its own address on a bridge (``deploy.network``).
Postgres is the machine's own, reached through a forwarder that listens on the control
plane's address, with two databases per deployment (Airflow's and MLflow's); Redis is an
instance of its own. The artifacts folder is one folder that every host sees, as a shared
volume (MLflow's clients write their artifacts there too). ``ONE_HOST`` places every service
on one host, for comparison.

    python -m deploy.topology serve    # start in the background, print the UIs' addresses
    python -m deploy.topology stop     # stop it and remove its namespaces and links

Needs root (network namespaces). Each service logs to ``<state>/logs/<host>/<service>.log``.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy.network import Host, Network
from deploy.services import (
    CONTROL_PLANE,
    MIGRATE,
    MIGRATE_GRANTS,
    WORKER,
    Ports,
    Service,
    WorkerSize,
    control_plane_services,
    worker_services,
)
from energy_forecast.tracking.store import TrackingStore

PROJECT_ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
#: Postgres as every machine of this project serves it (trust auth, on loopback and a socket).
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
POSTGRES_SOCKET = "/var/run/postgresql/.s.PGSQL.5432"
ADMIN_USER = "admin"

#: Which roles each host plays: the production placement, and everything on one host.
MULTI_HOST: dict[str, tuple[str, ...]] = {
    "control-plane": (CONTROL_PLANE,),
    "worker-1": (WORKER,),
    "worker-2": (WORKER,),
}
ONE_HOST: dict[str, tuple[str, ...]] = {"control-plane": (CONTROL_PLANE, WORKER)}


def _postgres_forwarder(ports: Ports) -> Service:
    """The control plane's ``postgres``: the machine's Postgres, on the control plane's
    address (its Unix socket is on the shared file system; its TCP port is on loopback)."""
    return Service(
        "postgres",
        CONTROL_PLANE,
        ("socat", f"TCP-LISTEN:{ports.postgres},fork,reuseaddr", f"UNIX-CONNECT:{POSTGRES_SOCKET}"),
        healthcheck=f"pg_isready -h postgres -p {ports.postgres} -U postgres",
    )


@dataclass
class Deployment:
    """Start, wait for, break and stop the deployment; usable as a context manager."""

    state_dir: Path
    database: str
    artifacts: Path
    kagglehub_cache: Path
    network_prefix: str
    subnet: str
    placement: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(MULTI_HOST))
    data_roots: list[Path] = field(default_factory=list)
    ports: Ports = field(default_factory=Ports)
    worker: WorkerSize = field(default_factory=WorkerSize)
    password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    _processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    # --- where things are ----------------------------------------------------------------
    @property
    def network(self) -> Network:
        control_plane = [s.name for s in self.services_of(CONTROL_PLANE)]
        return Network(
            self.network_prefix,
            ipaddress.ip_network(self.subnet),
            tuple(self.placement),
            {
                name: tuple(control_plane) if CONTROL_PLANE in roles else ()
                for name, roles in self.placement.items()
            },
        )

    @property
    def control_plane(self) -> Host:
        name = next(n for n, roles in self.placement.items() if CONTROL_PLANE in roles)
        return self.network.host(name)

    @property
    def worker_hosts(self) -> list[Host]:
        return [h for h in self.network.hosts if WORKER in self.placement[h.name]]

    @property
    def api_url(self) -> str:
        """The UI and REST API, as the machine reaches them."""
        return f"http://{self.control_plane.address}:{self.ports.api}"

    @property
    def mlflow_url(self) -> str:
        """The MLflow UI and REST API, as the machine (and a browser on it) reaches them."""
        return f"http://{self.control_plane.address}:{self.ports.mlflow}"

    @property
    def mlflow_database(self) -> str:
        """MLflow's Postgres database: its tracking store, its Model Registry, and the
        advisory lock publishers take."""
        return f"{self.database}_mlflow"

    @property
    def spark_master_ui(self) -> str:
        return f"http://{self.control_plane.address}:{self.ports.spark_master_ui}"

    def spark_worker_ui(self, host: Host) -> str:
        return f"http://{host.address}:{self.ports.spark_worker_ui}"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    def services_of(self, role: str) -> list[Service]:
        if role == CONTROL_PLANE:
            return [_postgres_forwarder(self.ports), *control_plane_services(self.ports)]
        return worker_services(self.ports, self.worker)

    def services_on(self, host: Host) -> list[Service]:
        return [s for role in self.placement[host.name] for s in self.services_of(role)]

    # --- what each service knows ---------------------------------------------------------
    def environment(self, grants: frozenset[str]) -> dict[str, str]:
        """The machine's basics, the image's variables, and the groups ``grants`` names."""
        machine = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(
                ("AIRFLOW", "KAGGLE", "ENERGY_FORECAST", "MLFLOW", "PYSPARK", "SPARK")
            )
        }
        environment = {
            **machine,
            "PATH": f"{VENV_BIN}{os.pathsep}{machine.get('PATH', '')}",
            # as the Dockerfile's ENV sets them in every container
            "AIRFLOW_HOME": str(self.state_dir / "airflow"),
            "ENERGY_FORECAST_ARTIFACTS": str(self.artifacts),
            "PYSPARK_PYTHON": sys.executable,
            "PYSPARK_DRIVER_PYTHON": sys.executable,
        }
        groups = self._variable_groups()
        for grant in sorted(grants):
            environment.update(groups[grant])
        return environment

    def _variable_groups(self) -> dict[str, dict[str, str]]:
        """Every group of variables a service may be granted, by name."""
        ports = self.ports
        spark_connection = {
            "conn_type": "spark",
            "host": f"spark://spark-master:{ports.spark}",
            "extra": {"master_web_ui": f"http://spark-master:{ports.spark_master_ui}"},
        }
        database = f"postgres@postgres:{ports.postgres}/{self.database}"
        mlflow_database = f"postgres@postgres:{ports.postgres}/{self.mlflow_database}"
        # Where the package creates its experiment's artifacts: the same shared folder.
        mlflow_artifacts = TrackingStore.local(self.artifacts).artifact_root.as_uri()
        groups: dict[str, dict[str, str]] = {
            "airflow": {
                "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": (
                    f"http://airflow-apiserver:{ports.api}/execution/"
                ),
                "AIRFLOW__CELERY__BROKER_URL": f"redis://redis:{ports.redis}/0",
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
                # A lost worker host's tasks are failed (and retried) after a minute.
                "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "60",
                "AIRFLOW_CONN_SPARK_DEFAULT": json.dumps(spark_connection),
                "ENERGY_FORECAST_DATA_ROOTS": os.pathsep.join(str(p) for p in self.data_roots),
                "KAGGLEHUB_CACHE": str(self.kagglehub_cache),
            },
            "metadata": {
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{database}"
            },
            "results": {"AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql+psycopg2://{database}"},
            "signing": {"AIRFLOW__API_AUTH__JWT_SECRET": self._secret("jwt_secret", _token)},
            "fernet": {"AIRFLOW__CORE__FERNET_KEY": self._secret("fernet_key", _fernet_key)},
            "logs": {"AIRFLOW__API__SECRET_KEY": self._secret("api_secret_key", _token)},
            "users": {
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self._passwords_file()),
            },
            # Read by `mlflow server` as its --backend-store-uri and --default-artifact-root;
            # SQLAlchemy 2.1's default driver for postgresql:// is psycopg 3, not installed.
            # No job runner: its seven consumer processes serve GenAI features this project
            # does not use, and each start leaves a folder in /dev/shm behind.
            "mlflow-server": {
                "MLFLOW_BACKEND_STORE_URI": f"postgresql+psycopg2://{mlflow_database}",
                "MLFLOW_DEFAULT_ARTIFACT_ROOT": mlflow_artifacts,
                "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
            },
            # Tasks log runs and register models; the API server's plugin reads the registry.
            "tracking": {"MLFLOW_TRACKING_URI": f"http://mlflow:{ports.mlflow}"},
            # Publishers serialise on a Postgres advisory lock in MLflow's database.
            "publish-lock": {"ENERGY_FORECAST_PUBLISH_LOCK_URL": f"postgresql://{mlflow_database}"},
            # The plugin's links to the MLflow UI are opened by a person's browser.
            "mlflow-ui": {"ENERGY_FORECAST_MLFLOW_UI_URL": self.mlflow_url},
            "spark-master": {"SPARK_MASTER_OPTS": "-Dspark.ui.killEnabled=false"},
            "spark-worker": {
                # Executors' scratch space; by default it lands inside the pyspark package.
                "SPARK_WORKER_DIR": str(self.state_dir / "spark-work"),
                "SPARK_WORKER_OPTS": "-Dspark.ui.killEnabled=false",
            },
        }
        return groups

    # --- lifecycle -----------------------------------------------------------------------
    def start(self, timeout_s: float = 240) -> None:
        """Hosts, fresh databases, then each service in order; stops everything on error."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.artifacts.mkdir(parents=True, exist_ok=True)
        # A fresh database, so a fresh broker: old task messages would name unknown runs.
        shutil.rmtree(self.state_dir / "appendonlydir", ignore_errors=True)
        try:
            self.network.create()
            recreate_database(self.database)
            recreate_database(self.mlflow_database)
            control = self.control_plane
            # Postgres, Redis, the Spark master and MLflow: what the Airflow services use.
            infrastructure = [
                s for s in self.services_of(CONTROL_PLANE) if not s.name.startswith("airflow-")
            ]
            for service in infrastructure:
                self._start(control, service)
            self._wait_healthy(control, infrastructure, timeout_s)
            for host in self.worker_hosts:
                self._start(host, self._service(host, "spark-worker"))
            _wait_until(
                lambda: self._spark_workers_alive() >= len(self.worker_hosts),
                timeout_s,
                "every Spark worker to register",
            )
            self._run_once(control, "airflow-init", MIGRATE, MIGRATE_GRANTS, timeout_s)
            for host in self.network.hosts:
                for service in self.services_on(host):
                    if service.name.startswith("airflow-"):
                        self._start(host, service)
            for host in self.network.hosts:
                airflow = [s for s in self.services_on(host) if s.name.startswith("airflow-")]
                self._wait_healthy(host, airflow, timeout_s)
        except BaseException:
            self.stop()
            raise

    def stop(self, grace_s: float = 20) -> None:
        """Stop every service, then remove the namespaces, links and hosts files."""
        for key in reversed(list(self._processes)):
            _stop_group(self._processes.pop(key), grace_s)
        self.network.destroy()

    def drop_databases(self) -> None:
        """Drop Airflow's and MLflow's databases; after :meth:`stop`, when done with them."""
        drop_database(self.database)
        drop_database(self.mlflow_database)

    def __enter__(self) -> Deployment:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # --- faults --------------------------------------------------------------------------
    def lose_host(self, name: str) -> list[int]:
        """Every process on host ``name`` dies at once (SIGKILL), as when a machine is lost."""
        host = self.network.host(name)
        killed = self.network.kill_processes(self.network.namespace(host), grace_s=0)
        for key in [k for k in self._processes if k.startswith(f"{name}/")]:
            self._processes.pop(key).wait()
        return killed

    def restore_host(self, name: str, timeout_s: float = 240) -> None:
        """Start host ``name``'s services again and wait until they are healthy."""
        host = self.network.host(name)
        services = self.services_on(host)
        for service in services:
            self._start(host, service)
        self._wait_healthy(host, services, timeout_s)

    def restart_service(self, host_name: str, service_name: str, timeout_s: float = 60) -> None:
        """Stop one service (SIGTERM, as a container restart does) and start it again."""
        host = self.network.host(host_name)
        service = self._service(host, service_name)
        _stop_group(self._processes.pop(f"{host_name}/{service_name}"), grace_s=10)
        self._start(host, service)
        self._wait_healthy(host, [service], timeout_s)

    def check_alive(self) -> None:
        """Raise, naming the service and its log, if any service has exited."""
        for key, process in self._processes.items():
            if process.poll() is not None:
                raise RuntimeError(
                    f"service {key} exited with {process.returncode}; "
                    f"see {self.log_dir / (key + '.log')}"
                )

    # --- helpers -------------------------------------------------------------------------
    def _service(self, host: Host, name: str) -> Service:
        return next(s for s in self.services_on(host) if s.name == name)

    def _start(self, host: Host, service: Service) -> None:
        log_path = self.log_dir / host.name / f"{service.name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            self._processes[f"{host.name}/{service.name}"] = subprocess.Popen(
                self.network.command_in(host, service.command),
                env=self.environment(service.grants),
                cwd=self.state_dir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so stop() reaches its children
            )

    def _run_once(
        self,
        host: Host,
        name: str,
        command: tuple[str, ...],
        grants: frozenset[str],
        timeout_s: float,
    ) -> None:
        log_path = self.log_dir / host.name / f"{name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            result = subprocess.run(
                self.network.command_in(host, command),
                env=self.environment(grants),
                cwd=self.state_dir,
                stdout=log,
                stderr=log,
                timeout=timeout_s,
            )
        if result.returncode != 0:
            raise RuntimeError(f"{name} failed on {host.name}; see {log_path}")

    def _healthy(self, host: Host, service: Service) -> bool:
        self.check_alive()
        if service.healthcheck is None:
            return True
        check = subprocess.run(
            self.network.command_in(host, ("sh", "-c", service.healthcheck)),
            env=self.environment(service.grants),
            cwd=self.state_dir,
            capture_output=True,
            timeout=120,
        )
        return check.returncode == 0

    def _wait_healthy(self, host: Host, services: list[Service], timeout_s: float) -> None:
        for service in services:
            _wait_until(
                lambda s=service: self._healthy(host, s),
                timeout_s,
                f"{service.name} on {host.name} to pass its health check",
            )

    def _spark_workers_alive(self) -> int:
        self.check_alive()
        status = _get_json(f"{self.spark_master_ui}/json/")
        return int(status.get("aliveworkers", 0)) if status else 0

    def _passwords_file(self) -> Path:
        path = self.state_dir / "passwords.json"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({ADMIN_USER: self.password}))
            path.chmod(0o600)
        self.password = json.loads(path.read_text())[ADMIN_USER]
        return path

    def _secret(self, name: str, make: Callable[[], str]) -> str:
        path = self.state_dir / "secrets" / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(make())
            path.chmod(0o600)
        return path.read_text()


def recreate_database(name: str) -> None:
    """An empty Postgres database (dropped first if it exists)."""
    _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin_sql(*statements: str) -> None:
    import psycopg2

    connection = psycopg2.connect(POSTGRES_ADMIN_URL, connect_timeout=5)
    connection.autocommit = True
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    connection.close()


def _stop_group(process: subprocess.Popen[bytes], grace_s: float) -> None:
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace_s)
    with suppress(ProcessLookupError):  # children that outlived their leader, or a stuck one
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _get_json(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return json.load(response)
    except (OSError, ValueError):
        return None


def _wait_until(condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(1)


def _token() -> str:
    return secrets.token_urlsafe(48)


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


# --- make serve / make stop -------------------------------------------------------------
_SERVE_STATE = PROJECT_ROOT / ".deployment"
_SERVING = _SERVE_STATE / "serving.json"
#: ``make serve``'s hosts; the deployment test and the benchmark use subnets of their own.
SERVE_PREFIX, SERVE_SUBNET = "efserv", "10.213.0.0/24"


def _serve_deployment() -> Deployment:
    return Deployment(
        state_dir=_SERVE_STATE,
        database="energy_forecast_local",
        artifacts=PROJECT_ROOT / "artifacts",
        kagglehub_cache=Path.home() / ".cache" / "kagglehub",
        network_prefix=SERVE_PREFIX,
        subnet=SERVE_SUBNET,
        data_roots=[PROJECT_ROOT / "data"],
    )


def serve() -> None:
    if _SERVING.exists():
        sys.exit(f"already serving ({_SERVING}); run `make stop` first")
    deployment = _serve_deployment()
    deployment.start()
    _SERVING.write_text(
        json.dumps({"api_url": deployment.api_url, "mlflow_url": deployment.mlflow_url})
    )
    hosts = ", ".join(f"{h.name} {h.address}" for h in deployment.network.hosts)
    print(
        f"Airflow UI: {deployment.api_url}  (user {ADMIN_USER!r}, password "
        f"{deployment.password!r})\nMLflow UI: {deployment.mlflow_url}\n"
        f"Spark master UI: {deployment.spark_master_ui}\n"
        f"hosts: {hosts}\nlogs: {deployment.log_dir}\nstop with: make stop"
    )


def stop() -> None:
    """Stop every process on ``make serve``'s hosts and remove the hosts themselves."""
    _serve_deployment().network.destroy()
    _SERVING.unlink(missing_ok=True)
    print(f"stopped; namespaces {SERVE_PREFIX}-* and bridge {SERVE_PREFIX}br0 removed")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["serve", "stop"])
    args = parser.parse_args(argv)
    if shutil.which("spark-class", path=str(VENV_BIN)) is None:
        sys.exit(f"spark-class is not in {VENV_BIN}; run `make install` first")
    if os.geteuid() != 0:
        sys.exit("the deployment's hosts are network namespaces: run as root")
    {"serve": serve, "stop": stop}[args.action]()


if __name__ == "__main__":
    main()

"""The deployment of ``docker-compose.yaml``, started as plain processes on one machine.

The same services, commands and environment as the compose file (a test keeps them in
step): a Spark standalone master and worker, and Airflow's API server (with the UI),
scheduler and DAG processor on LocalExecutor with a fresh Postgres database. The
deployment test runs the pipeline on it, and ``make serve`` starts it for a person:

    python -m deploy.topology serve    # start in the background, print the UI's address
    python -m deploy.topology stop     # stop every process ``serve`` started

Each service runs in its own process group and logs to ``<state>/logs/<service>.log``.
"""

from __future__ import annotations

import argparse
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

PROJECT_ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
#: Postgres as every machine of this project serves it (trust auth).
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
LOOPBACK = "127.0.0.1"
ADMIN_USER = "admin"


@dataclass(frozen=True)
class Ports:
    api: int = 8080
    spark: int = 7077
    spark_master_ui: int = 8090
    spark_worker_ui: int = 8091


@dataclass(frozen=True)
class Service:
    """One long-running process of the deployment, named as in ``docker-compose.yaml``."""

    name: str
    command: list[str]
    #: URL that answers 200 once the service is up, or None to only check it is alive.
    ready_url: str | None = None


@dataclass(frozen=True)
class WorkerSize:
    """What the Spark worker offers; may exceed the machine's cores (tasks are light)."""

    cores: int = 4
    memory: str = "6g"


@dataclass
class LocalDeployment:
    """Start, wait for and stop the whole topology; usable as a context manager."""

    state_dir: Path
    database: str
    artifacts: Path
    kagglehub_cache: Path
    data_roots: list[Path] = field(default_factory=list)
    ports: Ports = field(default_factory=Ports)
    worker: WorkerSize = field(default_factory=WorkerSize)
    password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    _processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    # --- what runs ---------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports.api}"

    @property
    def spark_master_url(self) -> str:
        return f"spark://{LOOPBACK}:{self.ports.spark}"

    @property
    def spark_master_ui(self) -> str:
        return f"http://{LOOPBACK}:{self.ports.spark_master_ui}"

    @property
    def database_url(self) -> str:
        return f"postgresql+psycopg2://postgres@{LOOPBACK}:5432/{self.database}"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "logs"

    def services(self) -> list[Service]:
        """The long-running services, in start order (compose's ``depends_on``)."""
        return spark_services(self.ports, self.worker) + airflow_services(self.ports)

    def environment(self) -> dict[str, str]:
        """One environment for every process, as the compose file's shared ``environment``."""
        inherited = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AIRFLOW", "KAGGLE", "ENERGY_FORECAST", "PYSPARK"))
        }
        spark_connection = {
            "conn_type": "spark",
            "host": self.spark_master_url,
            "extra": {"master_web_ui": self.spark_master_ui},
        }
        return {
            **inherited,
            "PATH": f"{VENV_BIN}{os.pathsep}{inherited.get('PATH', '')}",
            "AIRFLOW_HOME": str(self.state_dir / "airflow"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__FERNET_KEY": self._secret("fernet_key", _fernet_key),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self._passwords_file()),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.database_url,
            "AIRFLOW__API_AUTH__JWT_SECRET": self._secret("jwt_secret", _token),
            "AIRFLOW_CONN_SPARK_DEFAULT": json.dumps(spark_connection),
            "ENERGY_FORECAST_ARTIFACTS": str(self.artifacts),
            "ENERGY_FORECAST_DATA_ROOTS": os.pathsep.join(str(p) for p in self.data_roots),
            "KAGGLEHUB_CACHE": str(self.kagglehub_cache),
            "PYSPARK_PYTHON": sys.executable,
            "SPARK_LOCAL_IP": LOOPBACK,
            # Executors' scratch space; by default it lands inside the pyspark package.
            "SPARK_WORKER_DIR": str(self.state_dir / "spark-work"),
        }

    # --- lifecycle ---------------------------------------------------------------------
    def start(self, timeout_s: float = 180) -> None:
        """Fresh database, then each service in order, each waited for; stops all on error."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.artifacts.mkdir(parents=True, exist_ok=True)
        try:
            recreate_database(self.database)
            env = self.environment()
            for service in spark_services(self.ports, self.worker):
                self._start(service, env)
            _wait_until(self._spark_worker_registered, timeout_s, "the Spark worker to register")
            self._run_once("airflow-init", ["airflow", "db", "migrate"], env, timeout_s)
            for service in airflow_services(self.ports):
                self._start(service, env)
            for service in self.services():
                if service.ready_url:
                    _wait_until(
                        lambda url=service.ready_url: _answers(url), timeout_s, service.name
                    )
        except BaseException:
            self.stop()
            raise

    def stop(self, grace_s: float = 20) -> None:
        """Stop every service this object started (its whole process group), newest first."""
        for name in reversed(list(self._processes)):
            _stop_group(self._processes.pop(name), grace_s)

    def __enter__(self) -> LocalDeployment:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def check_alive(self) -> None:
        """Raise, naming the service and its log, if any service has exited."""
        for name, process in self._processes.items():
            if process.poll() is not None:
                raise RuntimeError(
                    f"service {name} exited with {process.returncode}; "
                    f"see {self.log_dir / (name + '.log')}"
                )

    @property
    def pids(self) -> dict[str, int]:
        return {name: process.pid for name, process in self._processes.items()}

    # --- helpers -----------------------------------------------------------------------
    def _start(self, service: Service, env: Mapping[str, str]) -> None:
        log = (self.log_dir / f"{service.name}.log").open("ab")
        self._processes[service.name] = subprocess.Popen(
            service.command,
            env=dict(env),
            cwd=self.state_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() reaches its children
        )

    def _run_once(
        self, name: str, command: list[str], env: Mapping[str, str], timeout_s: float
    ) -> None:
        with (self.log_dir / f"{name}.log").open("ab") as log:
            result = subprocess.run(
                command,
                env=dict(env),
                cwd=self.state_dir,
                stdout=log,
                stderr=log,
                timeout=timeout_s,
            )
        if result.returncode != 0:
            raise RuntimeError(f"{name} failed; see {self.log_dir / (name + '.log')}")

    def _spark_worker_registered(self) -> bool:
        self.check_alive()
        status = _get_json(f"{self.spark_master_ui}/json/")
        return bool(status and status.get("aliveworkers", 0) >= 1)

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


def spark_services(ports: Ports, worker: WorkerSize, host: str = LOOPBACK) -> list[Service]:
    """The Spark standalone cluster from the pip wheel's ``spark-class``."""
    master = f"spark://{host}:{ports.spark}"
    return [
        Service(
            "spark-master",
            [
                "spark-class", "org.apache.spark.deploy.master.Master",
                "--host", host, "--port", str(ports.spark),
                "--webui-port", str(ports.spark_master_ui),
            ],
            ready_url=f"http://{LOOPBACK}:{ports.spark_master_ui}/json/",
        ),
        Service(
            "spark-worker",
            [
                "spark-class", "org.apache.spark.deploy.worker.Worker", master,
                "--cores", str(worker.cores), "--memory", worker.memory,
                "--webui-port", str(ports.spark_worker_ui),
            ],
        ),
    ]  # fmt: skip


def airflow_services(ports: Ports) -> list[Service]:
    """Airflow 3's three long-running services, each its own process."""
    return [
        Service(
            "airflow-apiserver",
            ["airflow", "api-server", "--port", str(ports.api)],
            ready_url=f"http://{LOOPBACK}:{ports.api}/api/v2/monitor/health",
        ),
        Service("airflow-scheduler", ["airflow", "scheduler"]),
        Service("airflow-dag-processor", ["airflow", "dag-processor"]),
    ]


def recreate_database(name: str) -> None:
    """An empty Postgres database for Airflow's metadata (dropped first if it exists)."""
    import psycopg2

    connection = psycopg2.connect(POSTGRES_ADMIN_URL, connect_timeout=5)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    connection.close()


def drop_database(name: str) -> None:
    import psycopg2

    connection = psycopg2.connect(POSTGRES_ADMIN_URL, connect_timeout=5)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
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


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


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


# --- make serve / make stop -----------------------------------------------------------
_SERVE_STATE = PROJECT_ROOT / ".deployment"
_PIDS_FILE = _SERVE_STATE / "pids.json"


def _serve_deployment() -> LocalDeployment:
    return LocalDeployment(
        state_dir=_SERVE_STATE,
        database="energy_forecast_local",
        artifacts=PROJECT_ROOT / "artifacts",
        kagglehub_cache=Path.home() / ".cache" / "kagglehub",
        data_roots=[PROJECT_ROOT / "data"],
    )


def serve() -> None:
    if _PIDS_FILE.exists():
        sys.exit(f"already serving (pids in {_PIDS_FILE}); run `make stop` first")
    deployment = _serve_deployment()
    deployment.start()
    _PIDS_FILE.write_text(json.dumps(deployment.pids))
    print(
        f"Airflow UI: {deployment.api_url}  (user {ADMIN_USER!r}, password "
        f"{deployment.password!r})\nSpark master UI: {deployment.spark_master_ui}\n"
        f"logs: {deployment.log_dir}\nstop with: make stop"
    )


def stop() -> None:
    if not _PIDS_FILE.exists():
        print("nothing to stop")
        return
    for name, pid in reversed(json.loads(_PIDS_FILE.read_text()).items()):
        with suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
            print(f"stopped {name} (process group {pid})")
    _PIDS_FILE.unlink()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["serve", "stop"])
    args = parser.parse_args(argv)
    if shutil.which("spark-class", path=str(VENV_BIN)) is None:
        sys.exit(f"spark-class is not in {VENV_BIN}; run `make install` first")
    {"serve": serve, "stop": stop}[args.action]()


if __name__ == "__main__":
    main()

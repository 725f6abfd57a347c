"""The deployment's services: what each runs, on which kind of host, and what it may know.

One list describes both deployments: ``docker-compose.yaml`` (a test compares them service
by service) and the processes ``deploy.topology`` starts in network namespaces. Addresses
are the compose service names in both; the topology's hosts files resolve them.
"""

from __future__ import annotations

from dataclasses import dataclass

CONTROL_PLANE = "control-plane"
WORKER = "worker"
#: The Celery app of Airflow's Celery executor, for the workers' health check.
CELERY_APP = "airflow.providers.celery.executors.celery_executor.app"


@dataclass(frozen=True)
class Ports:
    postgres: int = 5432
    redis: int = 6379
    api: int = 8080
    spark: int = 7077
    spark_master_ui: int = 8090
    spark_worker_ui: int = 8091
    mlflow: int = 5000


@dataclass(frozen=True)
class WorkerSize:
    """What each Spark worker offers; may exceed the host's cores (tasks are light)."""

    cores: int = 4
    memory: str = "6g"


@dataclass(frozen=True)
class Service:
    """One long-running process of the deployment, named as in ``docker-compose.yaml``.

    ``grants`` names the groups of environment variables it gets (see
    ``deploy.topology.Deployment.environment``): secrets go only where they are needed.
    ``logs`` is the key that signs the API server's requests for a task's log to the
    worker that ran it; both ends need the same one.
    """

    name: str
    role: str
    command: tuple[str, ...]
    grants: frozenset[str] = frozenset()
    #: A shell command that succeeds once the service is healthy, run on its own host.
    healthcheck: str | None = None


#: Every Airflow service: the DAGs, the executor, the broker, the project's settings.
_AIRFLOW = frozenset({"airflow"})


def mlflow_server(ports: Ports) -> tuple[str, ...]:
    """The MLflow tracking server and Model Registry, on Postgres.

    Clients write artifacts straight to the shared artifacts volume (the package creates its
    experiment with a ``file://`` artifact location there), so the server proxies none.
    Where it keeps its store and which folder new experiments default to come from
    variables the CLI reads (``MLFLOW_BACKEND_STORE_URI``, ``MLFLOW_DEFAULT_ARTIFACT_ROOT``):
    one holds a password, which a command line would show to anyone running ``ps``, and
    both differ between the two deployments.

    MLflow answers 403 to a Host header other than localhost or a private address, and to a
    state-changing request from a browser origin other than localhost. Tasks and the API
    server send ``Host: mlflow:<port>``. A browser opens the UI as ``localhost`` in compose
    (the port is published on loopback only) and by the control plane's address on the
    topology's bridge, in 10.0.0.0/8; the UI's searches are POSTs from that origin. Only
    address literals match the pattern: a DNS-rebinding page would send its own name.
    """
    port = ports.mlflow
    bridge = f"10.[0-9]*.[0-9]*.[0-9]*:{port}"
    return (
        "mlflow", "server", "--no-serve-artifacts",
        "--host", "0.0.0.0", "--port", str(port), "--workers", "1",
        "--allowed-hosts", f"mlflow:{port},localhost:{port},127.0.0.1:{port},{bridge}",
        "--cors-allowed-origins", f"http://{bridge}",
    )  # fmt: skip


def control_plane_services(ports: Ports) -> list[Service]:
    """The control-plane host's services, in start order (compose's ``depends_on``)."""
    api = f"http://localhost:{ports.api}/api/v2/monitor/health"
    return [
        # The append-only file keeps queued task messages across a broker restart; it is
        # written to the working directory (the compose image's /data volume; the topology
        # removes it when it starts, with the database, so no stale message is replayed).
        Service("redis", CONTROL_PLANE, (
            "redis-server", "--port", str(ports.redis), "--appendonly", "yes",
            "--protected-mode", "no",
        ), healthcheck=f"redis-cli -p {ports.redis} ping"),
        Service("spark-master", CONTROL_PLANE, (
            "spark-class", "org.apache.spark.deploy.master.Master",
            "--host", "spark-master", "--port", str(ports.spark),
            "--webui-port", str(ports.spark_master_ui),
        ), frozenset({"spark-master"}),
            healthcheck=f"curl --fail --silent http://localhost:{ports.spark_master_ui}/json/"),
        # Only the server holds its store's credentials; /health needs no allowed Host.
        Service("mlflow", CONTROL_PLANE, mlflow_server(ports), frozenset({"mlflow-server"}),
            healthcheck=f"curl --fail --silent http://localhost:{ports.mlflow}/health"),
        # The plugin reads the registry (tracking) and links runs for a browser (mlflow-ui).
        Service("airflow-apiserver", CONTROL_PLANE,
            ("airflow", "api-server", "--port", str(ports.api)),
            _AIRFLOW | {"metadata", "signing", "fernet", "users", "logs", "tracking",
                        "mlflow-ui"},
            healthcheck=f"curl --fail --silent {api}"),
        Service("airflow-scheduler", CONTROL_PLANE, ("airflow", "scheduler"),
            _AIRFLOW | {"metadata", "signing", "fernet", "results"},
            healthcheck="airflow jobs check --job-type SchedulerJob --local"),
        # The DAG processor and the triggerer reach the execution API in-process: no JWT key.
        Service("airflow-dag-processor", CONTROL_PLANE, ("airflow", "dag-processor"),
            _AIRFLOW | {"metadata", "fernet"},
            healthcheck="airflow jobs check --job-type DagProcessorJob --local"),
        Service("airflow-triggerer", CONTROL_PLANE, ("airflow", "triggerer"),
            _AIRFLOW | {"metadata", "fernet"},
            healthcheck="airflow jobs check --job-type TriggererJob --local"),
    ]  # fmt: skip


def worker_services(ports: Ports, size: WorkerSize) -> list[Service]:
    """A worker host: a Spark worker and a Celery worker, which runs the tasks (and with them
    the Spark drivers). Neither holds the JWT signing key or the Fernet key; the Celery
    worker reaches Postgres only as the result backend and, to publish (which only tasks
    do), for the advisory lock in the MLflow database that serialises publishers."""
    return [
        Service("spark-worker", WORKER, (
            "spark-class", "org.apache.spark.deploy.worker.Worker",
            f"spark://spark-master:{ports.spark}",
            "--cores", str(size.cores), "--memory", size.memory,
            "--webui-port", str(ports.spark_worker_ui),
        ), frozenset({"spark-worker"}),
            healthcheck=f"curl --fail --silent http://localhost:{ports.spark_worker_ui}/json/"),
        Service("airflow-worker", WORKER, ("airflow", "celery", "worker"),
            _AIRFLOW | {"results", "logs", "tracking", "publish-lock"},
            healthcheck=f'celery --app {CELERY_APP} inspect ping -d "celery@$(hostname)"'),
    ]  # fmt: skip


#: What the migration job (compose's ``airflow-init``) runs before any Airflow service.
MIGRATE = ("airflow", "db", "migrate")
MIGRATE_GRANTS = _AIRFLOW | {"metadata", "fernet"}

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
        Service("airflow-apiserver", CONTROL_PLANE,
            ("airflow", "api-server", "--port", str(ports.api)),
            _AIRFLOW | {"metadata", "signing", "fernet", "users", "logs"},
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
    worker reaches Postgres only as the result backend."""
    return [
        Service("spark-worker", WORKER, (
            "spark-class", "org.apache.spark.deploy.worker.Worker",
            f"spark://spark-master:{ports.spark}",
            "--cores", str(size.cores), "--memory", size.memory,
            "--webui-port", str(ports.spark_worker_ui),
        ), frozenset({"spark-worker"}),
            healthcheck=f"curl --fail --silent http://localhost:{ports.spark_worker_ui}/json/"),
        Service("airflow-worker", WORKER, ("airflow", "celery", "worker"),
            _AIRFLOW | {"results", "logs"},
            healthcheck=f'celery --app {CELERY_APP} inspect ping -d "celery@$(hostname)"'),
    ]  # fmt: skip


#: What the migration job (compose's ``airflow-init``) runs before any Airflow service.
MIGRATE = ("airflow", "db", "migrate")
MIGRATE_GRANTS = _AIRFLOW | {"metadata", "fernet"}

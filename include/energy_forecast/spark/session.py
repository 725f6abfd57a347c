"""One way to start Spark, used by the Spark applications, the tasks and the tests.

Spark's Python workers otherwise run the first ``python3`` on PATH, which lacks this
project's dependencies; pointing them at the interpreter running this code fixes that
for local mode and for clusters whose nodes share the image. Everything here is read from
the process that starts Spark (an Airflow worker), never from the one that parsed the DAG.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlparse

from energy_forecast.errors import ConfigurationError
from energy_forecast.runtime.network import address_towards
from energy_forecast.spark.class_archive import java_options as class_archive_options
from energy_forecast.spark.cluster import wait_for_executors

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

LOOPBACK = "127.0.0.1"
#: Settings that keep a single-machine session light; a cluster's own defaults win elsewhere.
_LOCAL_CONF: dict[str, str] = {"spark.ui.enabled": "false"}
#: 200 shuffle partitions (Spark's default) cost more than the work itself on one machine.
_LOCAL_SHUFFLE_PARTITIONS = "8"


@dataclass(frozen=True)
class SparkConnection:
    """The master URL and the deployment-wide extras of the ``spark_default`` connection.

    Extras this project reads: ``driver_memory``, ``executor_memory``, ``cores`` (defaults
    for every application, see ``settings.SparkSettings``) and ``master_web_ui`` (the
    standalone master's web UI, used to name who holds the cluster's cores).
    """

    master: str
    extras: Mapping[str, Any] = field(default_factory=dict)

    @property
    def master_web_ui(self) -> str | None:
        return self.extras.get("master_web_ui")


def python_for_workers() -> str:
    """The interpreter Spark's Python workers should run."""
    return os.environ.get("PYSPARK_PYTHON", sys.executable)


def log4j_config_url() -> str:
    """The packaged log4j2 configuration: WARN from the first line, level in every line."""
    return (resources.files("energy_forecast.spark") / "log4j2.properties").as_uri()


#: The throughput collector for driver JVMs. A driver here runs batch jobs, where pauses
#: cost nothing and G1's (the JDK default) concurrent bookkeeping costs start-up and CPU:
#: on 2 cores the features application took 17.2 s instead of 18.4 s on the real file
#: (medians of 3, alternating) and 184.6 s instead of 214.1 s at 100x, same peak memory.
DRIVER_GC = "-XX:+UseParallelGC"


def driver_conf(class_archive: bool = True) -> dict[str, str]:
    """Spark properties every driver of this project needs, resolved in this process.

    ``class_archive`` maps this machine's class-data archive into the driver JVM when it
    has one (see :mod:`energy_forecast.spark.class_archive`).
    """
    java_options = f"-Dlog4j2.configurationFile={log4j_config_url()} {DRIVER_GC}"
    if class_archive and (archive := class_archive_options()):
        java_options += f" {archive}"
    return {
        "spark.pyspark.python": python_for_workers(),
        "spark.pyspark.driver.python": sys.executable,
        "spark.ui.showConsoleProgress": "false",
        # A cluster driver's UI listens on the host's network address: no kill links there.
        "spark.ui.killEnabled": "false",
        "spark.driver.extraJavaOptions": java_options,
        "spark.sql.session.timeZone": "UTC",
        # toPandas/toArrow of predictions and keys: columnar transfer instead of pickled rows.
        "spark.sql.execution.arrow.pyspark.enabled": "true",
    }


def driver_address(master: str) -> str:
    """The address a driver for ``master`` binds and advertises: loopback for a local
    master, else this host's address on the route to the (first) master host, which is the
    network its executors share with it. Spark's own guess, the address the host name
    resolves to, is loopback on many machines, and executors on other hosts cannot call
    back to that."""
    if master.startswith("local"):
        return LOOPBACK
    endpoint = urlparse(master.split(",")[0])
    if not endpoint.hostname:
        raise ConfigurationError(f"the Spark master URL {master!r} names no host")
    return address_towards(endpoint.hostname, endpoint.port)


def configure_environment(master: str | None) -> None:
    """Environment a spark-submit child or a session for ``master`` needs; idempotent.

    ``SPARK_LOCAL_IP`` set by the deployment wins; ``master=None`` (inside spark-submit,
    whose parent already chose) leaves it alone.
    """
    os.environ.setdefault("PYSPARK_PYTHON", python_for_workers())
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    if master is not None and "SPARK_LOCAL_IP" not in os.environ:
        os.environ["SPARK_LOCAL_IP"] = driver_address(master)


def get_session(
    app_name: str,
    master: str | None = None,
    conf: Mapping[str, str] | None = None,
    web_ui: str | None = None,
) -> SparkSession:
    """Return a SparkSession; ``master=None`` keeps what spark-submit already configured.

    ``conf`` declares the application's resources (see ``settings.SparkResources``); on a
    local master the single-machine settings win over it. ``web_ui`` is the standalone
    master's web UI, named in the error when no executor registers.
    """
    from pyspark.sql import SparkSession

    configure_environment(master)
    builder = SparkSession.builder.appName(app_name)
    if master is not None:
        settings = {**driver_conf(), **(conf or {})}
        if master.startswith("local"):
            settings.update(_LOCAL_CONF)
        builder = builder.master(master)
        for key, value in settings.items():
            builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    wait_for_executors(spark, web_ui=web_ui)
    if spark.sparkContext.master.startswith("local"):
        # Also under spark-submit, where the master came from the command line.
        spark.conf.set("spark.sql.shuffle.partitions", _LOCAL_SHUFFLE_PARTITIONS)
    return spark


_Result = TypeVar("_Result")


def in_background(work: Callable[[], _Result]) -> Future[_Result]:
    """Run ``work`` on a thread of its own. Spark runs jobs submitted from several threads
    at once, so a step made of small jobs (saving a model's metadata) can overlap the next
    step instead of preceding it, and Python work can overlap the driver JVM's start;
    ``result()`` on the future waits, returns what ``work`` returned, and re-raises."""
    executor = ThreadPoolExecutor(max_workers=1)
    future = executor.submit(work)
    executor.shutdown(wait=False)
    return future

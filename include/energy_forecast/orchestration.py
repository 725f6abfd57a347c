"""Airflow-facing glue: resolve Spark's master from a connection and submit Spark apps.

This is the only module of the package that imports Airflow; the DAG file uses it and
nothing else in the package depends on it.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

from energy_forecast.spark import python_for_workers

SPARK_CONN_ID = "spark_default"
_CONNECTION_HINT = (
    'set AIRFLOW_CONN_SPARK_DEFAULT=\'{"conn_type": "spark", "host": "local[*]"}\' '
    "for a single machine, or create the connection in the Airflow UI with the cluster's "
    "master URL as host"
)


class SparkConnectionError(RuntimeError):
    """The Spark connection is missing or unusable; we never guess a master."""


def master_from_connection(conn_type: str | None, host: str | None, port: int | None) -> str:
    """The master URL a Spark connection describes, with the provider's own rules."""
    if not host:
        raise SparkConnectionError(
            f"the Spark connection has no host (master URL); {_CONNECTION_HINT}"
        )
    if "://" in host or host.startswith(("local", "yarn")):
        master = host
    else:
        master = f"{conn_type or 'spark'}://{host}"
    return f"{master}:{port}" if port else master


def spark_master(conn_id: str = SPARK_CONN_ID) -> str:
    """Master URL of ``conn_id``; a clear error instead of the provider's silent YARN default."""
    from airflow.sdk import BaseHook

    try:
        connection = BaseHook.get_connection(conn_id)
    except Exception as error:  # the SDK raises different types across versions
        raise SparkConnectionError(
            f"Airflow connection {conn_id!r} is not defined ({error}); {_CONNECTION_HINT}"
        ) from error
    return master_from_connection(connection.conn_type, connection.host, connection.port)


def spark_submit_conf() -> dict[str, str]:
    """Spark properties every submitted application of this project needs."""
    return {
        "spark.pyspark.python": python_for_workers(),
        "spark.pyspark.driver.python": sys.executable,
        "spark.ui.showConsoleProgress": "false",
    }


def application_path(module_file: str) -> str:
    """Absolute path of a package module that spark-submit runs as an application."""
    return str(Path(module_file).resolve())


class CheckedSparkSubmitOperator(SparkSubmitOperator):
    """``SparkSubmitOperator`` that fails loudly when its connection or binary is missing.

    The provider falls back to master ``yarn`` when the connection does not exist, which on
    a laptop hangs or fails far from the cause; checking first names the real problem.
    """

    def execute(self, context: Any) -> None:
        master = spark_master(self._conn_id)
        if shutil.which("spark-submit") is None:
            raise SparkConnectionError(
                "spark-submit is not on PATH; install pyspark in this environment "
                "(it ships bin/spark-submit) and put its bin folder on PATH"
            )
        self.log.info("submitting %s to Spark master %s", self.application, master)
        super().execute(context)

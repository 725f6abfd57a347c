"""Airflow-facing glue: the Spark connection, run-time task settings, and spark-submit.

This is the only module of the package that imports Airflow; the DAG file uses it and
nothing else in the package depends on it. Whatever depends on the machine (interpreter,
application file, resources) is resolved here when a task runs on a worker, never when the
DAG is parsed, so every DAG processor serializes the same DAG.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Mapping
from typing import Any

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

from energy_forecast.errors import ConfigurationError
from energy_forecast.orchestration.failures import fails_fast
from energy_forecast.runtime.log_relay import SparkSubmitLineLogger
from energy_forecast.settings import SparkSettings, TrainSettings, _FromParams
from energy_forecast.spark.session import SparkConnection, configure_environment, driver_conf

SPARK_CONN_ID = "spark_default"
_CONNECTION_HINT = (
    'set AIRFLOW_CONN_SPARK_DEFAULT=\'{"conn_type": "spark", "host": "local[*]"}\' '
    "for a single machine, or create the connection in the Airflow UI with the cluster's "
    "master URL as host"
)


class SparkConnectionError(ConfigurationError):
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


def spark_connection(conn_id: str = SPARK_CONN_ID) -> SparkConnection:
    """``conn_id``'s master and extras; a clear error instead of the provider's YARN default."""
    from airflow.sdk import BaseHook

    try:
        connection = BaseHook.get_connection(conn_id)
    except Exception as error:  # the SDK raises different types across versions
        raise SparkConnectionError(
            f"Airflow connection {conn_id!r} is not defined ({error}); {_CONNECTION_HINT}"
        ) from error
    master = master_from_connection(connection.conn_type, connection.host, connection.port)
    return SparkConnection(master, connection.extra_dejson or {})


def spark_master(conn_id: str = SPARK_CONN_ID) -> str:
    """Master URL of ``conn_id``."""
    return spark_connection(conn_id).master


def apply_train_timeout(context: Mapping[str, Any]) -> None:
    """``pre_execute`` hook of the train task: its timeout follows this run's Params.

    Airflow reads ``execution_timeout`` after ``pre_execute``, so a run with more epochs or
    slower epochs gets a proportionally longer bound.
    """
    context["task"].execution_timeout = TrainSettings.from_params(
        context["params"]
    ).execution_timeout


def module_file(module: str) -> str:
    """Path of an importable module's source file in *this* environment."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin:
        raise ModuleNotFoundError(f"cannot find module {module!r} to submit to Spark")
    return spec.origin


class CheckedSparkSubmitOperator(SparkSubmitOperator):
    """``SparkSubmitOperator`` for one of this package's Spark applications.

    It fails loudly when its connection or ``spark-submit`` is missing (the provider falls
    back to master ``yarn``, which fails far from the cause), and at run time it resolves
    the application's file, the interpreter and the resources the run's Params and the
    connection's extras ask for.
    """

    def __init__(
        self,
        *,
        application_module: str,
        settings_type: type[_FromParams] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.application_module = application_module
        #: The application's settings, built from the run's Params and passed as one
        #: ``--settings`` JSON argument, so each setting is declared once (in ``settings``).
        self.settings_type = settings_type

    @fails_fast
    def execute(self, context: Any) -> None:
        connection = spark_connection(self._conn_id)
        if shutil.which("spark-submit") is None:
            raise SparkConnectionError(
                "spark-submit is not on PATH; install pyspark in this environment "
                "(it ships bin/spark-submit) and put its bin folder on PATH"
            )
        resources = SparkSettings.from_params(context["params"]).resources(connection.extras)
        self.application = module_file(self.application_module)
        if self.settings_type is not None:
            settings = self.settings_type.from_params(context["params"])
            self.application_args = [
                *(self.application_args or []),
                "--settings",
                settings.to_json(),
            ]
        self.conf = {**(self.conf or {}), **driver_conf(), **resources.conf()}
        # spark-submit inherits this process's environment: its driver advertises the
        # address on which this host reaches the master, not Spark's loopback guess.
        configure_environment(connection.master)
        self.log.info(
            "submitting %s to Spark master %s with %s; the driver binds %s",
            self.application,
            connection.master,
            resources,
            os.environ["SPARK_LOCAL_IP"],
        )
        super().execute(context)

    def _get_hook(self) -> Any:
        # The hook logs every spark-submit line at INFO; log each at the level it names.
        hook = super()._get_hook()
        hook._log = SparkSubmitLineLogger(hook.log)
        return hook

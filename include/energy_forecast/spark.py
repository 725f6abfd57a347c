"""One way to start Spark, used by the Spark applications, the training task and the tests.

Spark's Python workers otherwise run the first ``python3`` on PATH, which lacks this
project's dependencies; pointing them at the interpreter running this code fixes that
for local mode and for clusters whose nodes share the image.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: Settings that keep a single-machine session light; a cluster's own defaults win elsewhere.
_LOCAL_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.driver.memory": "4g",
}
#: 200 shuffle partitions (Spark's default) cost more than the work itself on one machine.
_LOCAL_SHUFFLE_PARTITIONS = "8"


def python_for_workers() -> str:
    """The interpreter Spark's Python workers should run."""
    return os.environ.get("PYSPARK_PYTHON", sys.executable)


def configure_environment() -> None:
    """Environment a spark-submit child or a local session needs; idempotent."""
    os.environ.setdefault("PYSPARK_PYTHON", python_for_workers())
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")


def get_session(app_name: str, master: str | None = None) -> SparkSession:
    """Return a SparkSession; ``master=None`` keeps what spark-submit already configured."""
    from pyspark.sql import SparkSession

    configure_environment()
    builder = SparkSession.builder.appName(app_name)
    if master is not None:
        builder = builder.master(master)
        if master.startswith("local"):
            for key, value in _LOCAL_CONF.items():
                builder = builder.config(key, value)
    spark = builder.config("spark.sql.session.timeZone", "UTC").getOrCreate()
    if spark.sparkContext.master.startswith("local"):
        # Also under spark-submit, where the master came from the command line.
        spark.conf.set("spark.sql.shuffle.partitions", _LOCAL_SHUFFLE_PARTITIONS)
    return spark

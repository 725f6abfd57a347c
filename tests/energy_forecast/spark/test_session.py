"""Every driver JVM this project starts runs with the options ``driver_conf`` gives it."""

from __future__ import annotations

import os

import pytest

from energy_forecast.errors import ConfigurationError
from energy_forecast.spark.session import (
    DRIVER_GC,
    configure_environment,
    driver_address,
    driver_conf,
)


def test_drivers_are_configured_for_the_throughput_collector() -> None:
    assert DRIVER_GC in driver_conf()["spark.driver.extraJavaOptions"].split()
    assert DRIVER_GC in driver_conf(class_archive=False)["spark.driver.extraJavaOptions"].split()


@pytest.mark.spark
def test_a_local_session_driver_collects_garbage_with_the_throughput_collector(spark) -> None:
    """The option reaches the JVM: its collectors are the parallel ones, not G1's."""
    management = spark.sparkContext._jvm.java.lang.management.ManagementFactory
    collectors = {bean.getName() for bean in management.getGarbageCollectorMXBeans()}

    assert collectors == {"PS Scavenge", "PS MarkSweep"}


def test_a_local_driver_binds_loopback() -> None:
    assert driver_address("local[2]") == "127.0.0.1"


def test_a_cluster_driver_binds_its_address_on_the_route_to_the_master() -> None:
    # Executors connect back to the address the driver advertises: the one its host uses
    # towards the master, never loopback unless the master itself is on loopback.
    assert driver_address("spark://127.0.0.1:7077") == "127.0.0.1"
    assert driver_address("spark://localhost:7077,other:7077") == "127.0.0.1"


def test_a_master_url_without_a_host_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="names no host"):
        driver_address("spark://:7077")


def test_a_deployments_own_spark_local_ip_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARK_LOCAL_IP", "10.0.0.7")
    configure_environment("spark://127.0.0.1:7077")
    assert os.environ["SPARK_LOCAL_IP"] == "10.0.0.7"
    monkeypatch.delenv("SPARK_LOCAL_IP")
    configure_environment("spark://127.0.0.1:7077")
    assert os.environ["SPARK_LOCAL_IP"] == "127.0.0.1"

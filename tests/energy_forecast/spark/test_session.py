"""Every driver JVM this project starts runs with the options ``driver_conf`` gives it."""

from __future__ import annotations

import pytest

from energy_forecast.spark.session import DRIVER_GC, driver_conf


def test_drivers_are_configured_for_the_throughput_collector() -> None:
    assert DRIVER_GC in driver_conf()["spark.driver.extraJavaOptions"].split()
    assert DRIVER_GC in driver_conf(class_archive=False)["spark.driver.extraJavaOptions"].split()


@pytest.mark.spark
def test_a_local_session_driver_collects_garbage_with_the_throughput_collector(spark) -> None:
    """The option reaches the JVM: its collectors are the parallel ones, not G1's."""
    management = spark.sparkContext._jvm.java.lang.management.ManagementFactory
    collectors = {bean.getName() for bean in management.getGarbageCollectorMXBeans()}

    assert collectors == {"PS Scavenge", "PS MarkSweep"}

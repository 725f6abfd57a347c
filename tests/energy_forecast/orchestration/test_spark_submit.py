"""Spark's master always comes from the spark_default connection, never a silent default."""

from __future__ import annotations

import json

import pytest

from energy_forecast.orchestration.spark_submit import (
    SparkConnectionError,
    master_from_connection,
    spark_master,
)


@pytest.mark.parametrize(
    ("conn_type", "host", "port", "master"),
    [
        ("spark", "local[*]", None, "local[*]"),
        ("spark", "spark://10.0.0.5", 7077, "spark://10.0.0.5:7077"),
        ("spark", "10.0.0.5", 7077, "spark://10.0.0.5:7077"),
        ("spark", "yarn", None, "yarn"),
        ("spark", "k8s://https://api.example:6443", None, "k8s://https://api.example:6443"),
    ],
)
def test_master_url_follows_the_providers_rules(conn_type, host, port, master):
    assert master_from_connection(conn_type, host, port) == master


def test_a_connection_without_host_is_an_error():
    with pytest.raises(SparkConnectionError, match="no host"):
        master_from_connection("spark", "", None)


def test_master_is_read_from_the_connection(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_SPARK_DEFAULT", json.dumps({"conn_type": "spark", "host": "local[2]"})
    )
    assert spark_master() == "local[2]"


def test_a_missing_connection_names_the_fix_instead_of_falling_back_to_yarn(monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_SPARK_DEFAULT", raising=False)
    with pytest.raises(SparkConnectionError, match="AIRFLOW_CONN_SPARK_DEFAULT"):
        spark_master("spark_default")

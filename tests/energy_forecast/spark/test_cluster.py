"""When a barrier job cannot get its slots, the message says who holds the cluster's cores."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from energy_forecast.spark.cluster import describe_cluster, master_web_ui

MASTER_PORT, MASTER_UI_PORT, WORKER_UI_PORT = 7177, 8190, 8191
MASTER = f"spark://127.0.0.1:{MASTER_PORT}"
_HOLD_CORES = "import time; from pyspark.sql import SparkSession; SparkSession.builder.getOrCreate(); time.sleep(600)"  # noqa: E501


def test_the_web_ui_defaults_to_port_8080_on_the_masters_host() -> None:
    assert master_web_ui("spark://10.0.0.5:7077") == "http://10.0.0.5:8080"
    assert master_web_ui("spark://m:7077", "http://m:8090/") == "http://m:8090"
    assert master_web_ui("local[2]") is None


def test_an_unreachable_master_is_said_so_not_raised() -> None:
    assert "could not be read" in describe_cluster("http://127.0.0.1:9", timeout_s=1)


def _wait_for(condition, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.5)


def _status() -> dict:
    """The master's JSON status, or {} while it starts: not listening yet, or its web UI
    already serving pages (HTML at /json/) before the JSON endpoint is attached."""
    try:
        return httpx.get(f"http://127.0.0.1:{MASTER_UI_PORT}/json/", timeout=2).json()
    except (httpx.HTTPError, ValueError):
        return {}


@pytest.fixture
def standalone_cluster(tmp_path: Path) -> Iterator[str]:
    """A real master and a 2-core worker from the pip wheel, stopped whatever happens."""
    bin_dir = Path(sys.executable).parent  # spark-class finds Spark through python3 on PATH
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_WORKER_DIR": str(tmp_path),
    }
    spark_class = str(bin_dir / "spark-class")
    commands = [
        [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
         "--port", str(MASTER_PORT), "--webui-port", str(MASTER_UI_PORT)],
        [spark_class, "org.apache.spark.deploy.worker.Worker", MASTER, "--cores", "2",
         "--memory", "1g", "--webui-port", str(WORKER_UI_PORT)],
    ]  # fmt: skip
    processes = [
        subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        for command in commands
    ]
    try:
        _wait_for(lambda: _status().get("aliveworkers") == 1)
        yield MASTER
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.spark
def test_the_description_names_the_application_holding_the_cores(
    standalone_cluster: str, tmp_path: Path
) -> None:
    holder_app = tmp_path / "hold.py"
    holder_app.write_text(_HOLD_CORES)
    spark_submit = Path(sys.executable).parent / "spark-submit"
    holder = subprocess.Popen(
        [str(spark_submit), "--master", standalone_cluster, "--name", "greedy-app",
         "--conf", f"spark.pyspark.python={sys.executable}", str(holder_app)],
        env={**os.environ, "PATH": f"{spark_submit.parent}{os.pathsep}{os.environ['PATH']}",
             "SPARK_LOCAL_IP": "127.0.0.1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        _wait_for(lambda: _status().get("coresused") == 2)

        described = describe_cluster(f"http://127.0.0.1:{MASTER_UI_PORT}")
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait()

    assert "the cluster has 2 cores on 1 alive worker(s), 2 in use" in described
    assert "greedy-app" in described and "holds 2" in described


#: A driver that advertises an address it does not listen on (it binds 127.0.0.1 only):
#: executors start, fail to connect back, and exit, as across hosts with a loopback driver.
_UNREACHABLE_DRIVER = """
import sys
from pyspark.sql import SparkSession
from energy_forecast.spark.cluster import NoExecutorsError, wait_for_executors
spark = (SparkSession.builder.master(sys.argv[1]).appName("unreachable-driver")
         .config("spark.driver.host", "127.0.0.2").config("spark.driver.bindAddress", "127.0.0.1")
         .config("spark.pyspark.python", sys.executable).getOrCreate())
try:
    wait_for_executors(spark, timeout_s=20)
except NoExecutorsError as error:
    print(error)
finally:
    spark.stop()
"""


@pytest.mark.spark
def test_a_driver_its_executors_cannot_reach_fails_naming_its_address(
    standalone_cluster: str, tmp_path: Path
) -> None:
    script = tmp_path / "unreachable.py"
    script.write_text(_UNREACHABLE_DRIVER)
    started = time.monotonic()

    result = subprocess.run(
        [sys.executable, str(script), standalone_cluster],
        env={**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"},
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert "no executor registered with this driver at 127.0.0.2:" in result.stdout, (
        result.stdout + result.stderr[-3000:]
    )
    assert f"(master {standalone_cluster})" in result.stdout
    assert time.monotonic() - started < 120

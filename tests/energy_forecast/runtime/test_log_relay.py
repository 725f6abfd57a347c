"""Console output of a task and its children reaches the task log at the level each line
names, not ERROR for everything on stderr."""

from __future__ import annotations

import json
import logging
import os
import re
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from energy_forecast.runtime.log_relay import (
    SparkSubmitLineLogger,
    clean_line,
    parse_level,
    relay_output,
)

DEBUG, INFO, WARNING, ERROR, CRITICAL = (
    logging.DEBUG,
    logging.INFO,
    logging.WARNING,
    logging.ERROR,
    logging.CRITICAL,
)
LOGGER = "tests.log_relay"

PARSE_CASES = [
    # (line, previous level, level, what it shows)
    ("25/11/24 10:00:00 WARN NativeCodeLoader: Unable to load", INFO, WARNING, "log4j-warn"),
    ("25/11/24 10:00:00 INFO SparkContext: Running Spark", ERROR, INFO, "log4j-info"),
    ("25/11/24 10:00:00 ERROR Executor: Exception in task", INFO, ERROR, "log4j-error"),
    ("25/11/24 10:00:00 TRACE Netty: frame", INFO, DEBUG, "log4j-trace-is-debug"),
    ("25/11/24 10:00:00 FATAL Main: gone", INFO, CRITICAL, "log4j-fatal-is-critical"),
    ("2025-11-24 10:00:00,123 INFO energy_forecast.trainer: epoch 3", ERROR, INFO, "py-info"),
    ("2025-11-24 10:00:00,123 - trainer - WARNING - slow", INFO, WARNING, "py-dashed"),
    ("2025-11-24 10:00:00,123 CRITICAL energy_forecast: out of disk", INFO, CRITICAL, "py-crit"),
    ("WARNING:root:no handler configured", INFO, WARNING, "py-basicconfig"),
    ("[10:00:00] WARNING: /workspace/src/learner.cc:740: Parameters", INFO, WARNING, "xgb-warn"),
    ("W1124 10:00:00.123000 1234 torch/distributed/run.py:793] ****", INFO, WARNING, "torchrun"),
    ("[E1124 10:00:00.123456 ProcessGroupGloo.cpp:12] connect failed", INFO, ERROR, "torch-c10"),
    ('Exception in thread "main" org.apache.spark.SparkException: x', INFO, ERROR, "jvm-uncaught"),
    ("[12]\ttrain-rmse:0.51234\tvalidation-rmse:0.6", ERROR, INFO, "bare-xgboost-eval"),
    ("plain print from a worker", ERROR, INFO, "bare-print"),
    ("Stored 3 WARNINGS in the report", ERROR, INFO, "level-word-inside-a-word"),
    ("loaded energy_forecast.ERROR_CODES", ERROR, INFO, "level-word-inside-a-name"),
    ("x" * 61 + " ERROR after the first sixty characters", WARNING, INFO, "level-word-too-late"),
    ("\tat org.apache.spark.rdd.RDD.compute(RDD.scala:42)", ERROR, ERROR, "java-frame-tab"),
    ("at org.apache.spark.rdd.RDD.compute(RDD.scala:42)", WARNING, WARNING, "java-frame-strip"),
    ("at java.base/java.lang.Thread.run(Thread.java:840)", ERROR, ERROR, "java-frame-module"),
    ("Caused by: java.io.IOException: disk full", ERROR, ERROR, "caused-by"),
    ("\t... 12 more", ERROR, ERROR, "n-more"),
    ("... 12 common frames omitted", WARNING, WARNING, "frames-omitted"),
    ("java.lang.RuntimeException: boom", ERROR, ERROR, "java-exception-header"),
    ("Traceback (most recent call last):", WARNING, WARNING, "py-traceback-start"),
    ('  File "train.py", line 3, in <module>', ERROR, ERROR, "py-frame"),
    ('File "train.py", line 3, in <module>', ERROR, ERROR, "py-frame-stripped"),
    ("    model.fit(frame)", ERROR, ERROR, "py-code-line"),
    ("ValueError: bad shape", ERROR, ERROR, "py-exception-line"),
    ("py4j.protocol.Py4JJavaError: An error occurred while calling o42", ERROR, ERROR, "py4j"),
    ("During handling of the above exception, another exception occurred:", ERROR, ERROR, "chain"),
    ("at least three rows were dropped", ERROR, INFO, "at-without-a-frame-is-not-one"),
]


@pytest.mark.parametrize(
    ("line", "previous", "level"), [c[:3] for c in PARSE_CASES], ids=[c[3] for c in PARSE_CASES]
)
def test_parse_level_reads_the_level_a_line_names(line: str, previous: int, level: int) -> None:
    assert parse_level(line, previous) == level


CLEAN_CASES = [
    # (raw text, cleaned line or None, what it shows)
    ("25/11/24 10:00:00 WARN X: y", "25/11/24 10:00:00 WARN X: y", "plain-line-unchanged"),
    ("25/11/24 10:00:00 WARN X: y  \r\n", "25/11/24 10:00:00 WARN X: y", "crlf-and-trailing-space"),
    ("\tat a.B.c(B.java:1)", "\tat a.B.c(B.java:1)", "indentation-kept"),
    ("step 1\rstep 2\rstep 3", "step 3", "last-carriage-return-wins"),
    ("\r[Stage 3:=====>   (2 + 1) / 4]", None, "spark-bar-alone"),
    ("\r[Stage 3:=>  (2 + 1) / 4]\r" + " " * 80 + "\r", None, "spark-bar-cleared"),
    (
        "\r[Stage 1:>  (0 + 1) / 1]\r25/11/24 10:00:00 INFO DAGScheduler: Job 0 finished",
        "25/11/24 10:00:00 INFO DAGScheduler: Job 0 finished",
        "line-after-spark-bar",
    ),
    (
        "[Stage 3:=====>   (2 + 1) / 4][Stage 4:>   (0 + 2) / 8]25/11/24 10:00:00 WARN X: y",
        "25/11/24 10:00:00 WARN X: y",
        "line-glued-to-two-spark-bars",
    ),
    ("[Stage 7:(4 + 0) / 4]", None, "spark-bar-without-room-to-draw"),
    (" 10%|#    | 1/10 [00:00<00:01, 9.90it/s]", None, "tqdm-ascii"),
    ("epoch 1:  45%|████▌     | 45/100 [00:01<00:01, 44.1it/s, loss=0.3]", None, "tqdm-desc"),
    ("45it [00:01, 44.12it/s]", None, "tqdm-without-total"),
    ("\x1b[32mINFO\x1b[0m model saved", "INFO model saved", "ansi-colours"),
    ("\x1b[2K\rdone", "done", "ansi-erase-line"),
    ("   ", None, "blank"),
    ("", None, "empty"),
    ("[12]\ttrain-rmse:0.51", "[12]\ttrain-rmse:0.51", "xgboost-eval-is-not-a-bar"),
]


@pytest.mark.parametrize(
    ("text", "cleaned"), [c[:2] for c in CLEAN_CASES], ids=[c[2] for c in CLEAN_CASES]
)
def test_clean_line_keeps_what_a_terminal_would_show_minus_progress_bars(
    text: str, cleaned: str | None
) -> None:
    assert clean_line(text) == cleaned


# A child writing straight to fds 1 and 2, as a JVM or a torchrun rank does, in a fixed order.
CHILD_OUTPUT = r"""
import os
import re
def out(text): os.write(1, text.encode())
def err(text): os.write(2, text.encode())
out("25/11/24 10:00:00 INFO SparkContext: Running Spark version 4.2.0\n")
err("25/11/24 10:00:01 WARN NativeCodeLoader: Unable to load native-hadoop library\n")
out("2025-11-24 10:00:02,123 INFO energy_forecast.training.trainer: epoch 3 loss 0.12\n")
out("[12]\ttrain-rmse:0.51234\n")
err("\r[Stage 3:=====>   (2 + 1) / 4]")
err("\r[Stage 3:==========>(4 + 0) / 4]\r" + " " * 40 + "\r")
err("25/11/24 10:00:03 ERROR Executor: Exception in task 0.0 in stage 3.0\n")
err("java.lang.RuntimeException: boom\n")
err("\tat org.apache.spark.rdd.RDD.compute(RDD.scala:42)\n")
err("Caused by: java.io.IOException: disk full\n")
err("\t... 12 more\n")
err(" 10%|#         | 1/10 [00:00<00:01, 9.90it/s]\r")
err("100%|##########| 10/10 [00:01<00:00, 9.90it/s]\n")
err("2025-11-24 10:00:04,000 WARNING energy_forecast.training.trainer: slow epoch\n")
err("Traceback (most recent call last):\n")
err('  File "train.py", line 3, in <module>\n')
err("ValueError: bad shape\n")
out("\x1b[32mdone\x1b[0m\n")
"""

RELAYED = [
    ("INFO", "25/11/24 10:00:00 INFO SparkContext: Running Spark version 4.2.0"),
    ("WARNING", "25/11/24 10:00:01 WARN NativeCodeLoader: Unable to load native-hadoop library"),
    ("INFO", "2025-11-24 10:00:02,123 INFO energy_forecast.training.trainer: epoch 3 loss 0.12"),
    ("INFO", "[12]\ttrain-rmse:0.51234"),
    ("ERROR", "25/11/24 10:00:03 ERROR Executor: Exception in task 0.0 in stage 3.0"),
    ("ERROR", "java.lang.RuntimeException: boom"),
    ("ERROR", "\tat org.apache.spark.rdd.RDD.compute(RDD.scala:42)"),
    ("ERROR", "Caused by: java.io.IOException: disk full"),
    ("ERROR", "\t... 12 more"),
    ("WARNING", "2025-11-24 10:00:04,000 WARNING energy_forecast.training.trainer: slow epoch"),
    ("WARNING", "Traceback (most recent call last):"),
    ("WARNING", '  File "train.py", line 3, in <module>'),
    ("WARNING", "ValueError: bad shape"),
    ("INFO", "done"),
]


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> logging.Logger:
    caplog.set_level(logging.DEBUG, logger=LOGGER)
    return logging.getLogger(LOGGER)


def relayed(caplog: pytest.LogCaptureFixture, logger: str = LOGGER) -> list[tuple[str, str]]:
    return [(r.levelname, r.getMessage()) for r in caplog.records if r.name == logger]


def run_python(code: str) -> None:
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def fd_identity(fd: int) -> tuple[int, int]:
    status = os.fstat(fd)
    return status.st_dev, status.st_ino


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_childs_stdout_and_stderr_lines_are_logged_at_the_level_each_names(
    log: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    with relay_output(log):
        run_python(CHILD_OUTPUT)

    assert relayed(caplog) == RELAYED


def test_fds_1_and_2_are_a_pipe_inside_the_block_and_the_originals_after_it(
    log: logging.Logger,
) -> None:
    before = fd_identity(1), fd_identity(2)

    with relay_output(log):
        inside = os.fstat(1), os.fstat(2)

    assert all(stat.S_ISFIFO(status.st_mode) for status in inside)
    assert (fd_identity(1), fd_identity(2)) == before


def test_lines_written_before_the_block_raises_are_logged_before_the_error_leaves_it(
    log: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    before = fd_identity(1), fd_identity(2)

    with pytest.raises(RuntimeError, match="training failed"), relay_output(log):
        run_python("import sys; sys.stderr.write('25/11/24 10:00:00 ERROR Rank: lost\\n')")
        raise RuntimeError("training failed")

    assert relayed(caplog) == [("ERROR", "25/11/24 10:00:00 ERROR Rank: lost")]
    assert (fd_identity(1), fd_identity(2)) == before


def test_a_child_that_outlives_the_block_does_not_hold_up_its_exit_and_is_still_relayed(
    log: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    late_line = "25/11/24 10:00:09 WARN Straggler: written after the block ended"
    script = f"import os, time; time.sleep(1); os.write(2, b'{late_line}\\n'); time.sleep(60)"
    before = fd_identity(1), fd_identity(2)

    started = time.monotonic()
    with relay_output(log, join_timeout=0.5):
        child = subprocess.Popen([sys.executable, "-c", script])
    try:
        assert time.monotonic() - started < 3
        assert (fd_identity(1), fd_identity(2)) == before
        assert wait_for(lambda: ("WARNING", late_line) in relayed(caplog), timeout=15)
    finally:
        child.kill()
        child.wait()


def test_a_nested_block_does_nothing_and_the_outer_one_relays_everything(
    log: logging.Logger, caplog: pytest.LogCaptureFixture
) -> None:
    inner = logging.getLogger(f"{LOGGER}.inner")
    before = fd_identity(1), fd_identity(2)

    with relay_output(log):
        with relay_output(inner):
            run_python("print('25/11/24 10:00:00 WARN Inner: first', flush=True)")
        still_a_pipe = stat.S_ISFIFO(os.fstat(1).st_mode)
        run_python("print('25/11/24 10:00:01 INFO Outer: second', flush=True)")

    assert still_a_pipe
    assert relayed(caplog) == [
        ("WARNING", "25/11/24 10:00:00 WARN Inner: first"),
        ("INFO", "25/11/24 10:00:01 INFO Outer: second"),
    ]
    assert relayed(caplog, inner.name) == []
    assert (fd_identity(1), fd_identity(2)) == before


def test_a_console_handler_on_fd_2_writes_to_the_real_stderr_not_back_into_the_pipe(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    logger = logging.getLogger(f"{LOGGER}.console")
    caplog.set_level(logging.INFO, logger=logger.name)
    console = logging.StreamHandler(open(2, "w", closefd=False))  # noqa: SIM115
    logger.addHandler(console)
    try:
        with relay_output(logger):
            run_python("print('25/11/24 10:00:00 WARN Once: logged exactly once', flush=True)")
    finally:
        logger.removeHandler(console)

    assert relayed(caplog, logger.name) == [
        ("WARNING", "25/11/24 10:00:00 WARN Once: logged exactly once")
    ]
    assert capfd.readouterr().err.count("logged exactly once") == 1
    assert console.stream.fileno() == 2


def test_pythons_own_prints_are_relayed_and_a_stdout_console_logger_does_not_loop(
    tmp_path: Path,
) -> None:
    # As under `airflow dags test`: logging prints to sys.stdout, the very fd being relayed;
    # torchrun's output reaches us through TorchDistributor's sys.stdout.write.
    script = tmp_path / "task.py"
    script.write_text(
        textwrap.dedent(
            """
            import logging, subprocess, sys, time
            from energy_forecast.runtime.log_relay import relay_output

            logging.basicConfig(
                level=logging.DEBUG, stream=sys.stdout, format="%(levelname)s|%(message)s"
            )
            with relay_output(logging.getLogger("task")):
                sys.stdout.write("2025-11-24 10:00:00,000 WARNING rank0: from sys.stdout\\n")
                sys.stdout.flush()
                time.sleep(0.3)  # the reader logs while fd 1 is still the pipe
                subprocess.run([
                    sys.executable, "-c",
                    "import sys; sys.stderr.write('25/11/24 10:00:00 ERROR Jvm: from a child')",
                ])
            print("after the block")
            """
        )
    )

    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=True
    )

    assert result.stdout.splitlines() == [
        "WARNING|2025-11-24 10:00:00,000 WARNING rank0: from sys.stdout",
        "ERROR|25/11/24 10:00:00 ERROR Jvm: from a child",
        "after the block",
    ]
    assert result.stderr == ""


def test_in_a_task_process_relayed_lines_reach_airflows_log_channel_at_their_levels(
    tmp_path: Path,
) -> None:
    # Logging set up as Airflow's supervisor sets it up in a task process: JSON records on
    # their own channel, fds 1 and 2 read separately (and logged as INFO and ERROR).
    child = tmp_path / "child.py"
    child.write_text(
        "import os\n"
        "os.write(2, b'25/11/24 10:00:00 WARN NativeCodeLoader: no hadoop\\n')\n"
        "os.write(1, b'2025-11-24 10:00:00,000 INFO energy_forecast.trainer: epoch 1\\n')\n"
    )
    script = tmp_path / "task.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import logging, os, subprocess, sys
            from airflow.sdk.log import configure_logging, reset_logging
            from energy_forecast.runtime.log_relay import relay_output

            reset_logging()
            configure_logging(
                json_output=True,
                output=os.fdopen(int(sys.argv[1]), "wb", buffering=0),
                sending_to_supervisor=True,
            )
            with relay_output(logging.getLogger("energy_forecast.console")):
                subprocess.run([sys.executable, {str(child)!r}], check=True)
            """
        )
    )
    read_end, write_end = os.pipe()
    with subprocess.Popen(
        [sys.executable, str(script), str(write_end)],
        pass_fds=(write_end,),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as task:
        os.close(write_end)
        with open(read_end, encoding="utf-8") as channel:
            records = [json.loads(line) for line in channel]
        stdout, stderr = task.communicate(timeout=60)

    assert [
        (r["level"], r["event"]) for r in records if r["logger"] == "energy_forecast.console"
    ] == [
        ("warning", "25/11/24 10:00:00 WARN NativeCodeLoader: no hadoop"),
        ("info", "2025-11-24 10:00:00,000 INFO energy_forecast.trainer: epoch 1"),
    ]
    assert (stdout, stderr) == ("", "")


# spark-submit's merged output, as SparkSubmitHook reads it from its child.
SPARK_SUBMIT_OUTPUT = [
    "25/11/24 10:00:00 WARN NativeCodeLoader: Unable to load native-hadoop library\n",
    "25/11/24 10:00:01 INFO SparkContext: Running Spark version 4.2.0\n",
    "\r[Stage 0:>                                                          (0 + 1) / 1]\r\n",
    "25/11/24 10:00:02 ERROR Executor: Exception in task 0.0 in stage 0.0 (TID 0)\n",
    "org.apache.spark.api.python.PythonException: Traceback (most recent call last):\n",
    '  File "/app/features.py", line 12, in <lambda>\n',
    "    return 1 / 0\n",
    "ZeroDivisionError: division by zero\n",
    "\tat org.apache.spark.api.python.BasePythonRunner.handle(PythonRunner.scala:600)\n",
    "2025-11-24 10:00:03,000 INFO energy_forecast.features.app: wrote 3 files\n",
    "Traceback (most recent call last):\n",
    '  File "/app/features.py", line 40, in <module>\n',
    "    main()\n",
    "RuntimeError: no rows\n",
    "25/11/24 10:00:04 INFO ShutdownHookManager: Shutdown hook called\n",
]
SPARK_SUBMIT_LOGGED = [
    ("warning", "25/11/24 10:00:00 WARN NativeCodeLoader: Unable to load native-hadoop library"),
    ("info", "25/11/24 10:00:01 INFO SparkContext: Running Spark version 4.2.0"),
    ("error", "25/11/24 10:00:02 ERROR Executor: Exception in task 0.0 in stage 0.0 (TID 0)"),
    ("error", "org.apache.spark.api.python.PythonException: Traceback (most recent call last):"),
    ("error", 'File "/app/features.py", line 12, in <lambda>'),
    ("error", "return 1 / 0"),
    ("error", "ZeroDivisionError: division by zero"),
    ("error", "at org.apache.spark.api.python.BasePythonRunner.handle(PythonRunner.scala:600)"),
    ("info", "2025-11-24 10:00:03,000 INFO energy_forecast.features.app: wrote 3 files"),
    ("info", "Traceback (most recent call last):"),
    ("info", 'File "/app/features.py", line 40, in <module>'),
    ("info", "main()"),
    ("info", "RuntimeError: no rows"),
    ("info", "25/11/24 10:00:04 INFO ShutdownHookManager: Shutdown hook called"),
]


@pytest.fixture
def spark_submit_hook(monkeypatch: pytest.MonkeyPatch):
    from airflow.providers.apache.spark.hooks.spark_submit import SparkSubmitHook

    monkeypatch.setenv(
        "AIRFLOW_CONN_SPARK_DEFAULT", json.dumps({"conn_type": "spark", "host": "local[1]"})
    )
    hook = SparkSubmitHook(conn_id="spark_default", name="log-relay-test")
    hook._log = SparkSubmitLineLogger(hook.log)
    return hook


def test_spark_submit_hook_logs_each_line_of_its_child_at_the_lines_own_level(
    spark_submit_hook,
) -> None:
    from structlog.testing import capture_logs

    with capture_logs() as logs:
        spark_submit_hook._process_spark_submit_log(iter(SPARK_SUBMIT_OUTPUT))

    assert [(e["log_level"], e["event"]) for e in logs] == SPARK_SUBMIT_LOGGED


def test_the_hooks_own_messages_pass_through_the_wrapper_unchanged(spark_submit_hook) -> None:
    from structlog.testing import capture_logs

    with capture_logs() as logs:
        spark_submit_hook.log.info("Identified spark driver id: %s", "driver-1")
        spark_submit_hook.log.warning("25/11/24 10:00:00 INFO looks like a line")
        spark_submit_hook.log.info("ERROR: plain message")

    assert [(e["log_level"], e["event"]) for e in logs] == [
        ("info", "Identified spark driver id: driver-1"),
        ("warning", "25/11/24 10:00:00 INFO looks like a line"),
        ("error", "ERROR: plain message"),
    ]


@pytest.mark.spark
def test_a_real_spark_submit_run_is_logged_at_log4js_levels(
    spark_submit_hook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # spark-submit and the app's interpreter come from this environment, as on a worker.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)
    monkeypatch.setenv("PYSPARK_DRIVER_PYTHON", sys.executable)
    from structlog.testing import capture_logs

    app = tmp_path / "app.py"
    app.write_text(
        textwrap.dedent(
            """
            import sys
            from pyspark.sql import SparkSession

            spark = SparkSession.builder.config("spark.ui.enabled", "false").getOrCreate()
            jvm = spark.sparkContext._jvm
            jvm.org.apache.logging.log4j.LogManager.getLogger("RelayTest").warn("from log4j")
            print("[0]\\ttrain-rmse:0.5", flush=True)
            spark.stop()
            """
        )
    )

    with capture_logs() as logs:
        spark_submit_hook.submit(str(app))

    lines = [(e["log_level"], e["event"]) for e in logs]
    assert any(
        level == "warning" and event.endswith("WARN RelayTest: from log4j")
        for level, event in lines
    )
    assert ("info", "[0]\ttrain-rmse:0.5") in lines
    started = [
        level for level, event in lines if " INFO SparkContext: Running Spark version" in event
    ]
    assert started == ["info"]
    assert not [event for level, event in lines if level == "error"]


@pytest.mark.spark
def test_a_spark_jvm_started_inside_the_block_is_relayed_at_log4js_levels(tmp_path: Path) -> None:
    # The JVM inherits the pipe when the session starts and outlives spark.stop() (py4j keeps
    # it until the process exits), so the block's exit must not wait for it.
    script = tmp_path / "task.py"
    script.write_text(
        textwrap.dedent(
            """
            import logging, sys, time
            from energy_forecast.runtime.log_relay import relay_output
            from energy_forecast.spark.session import get_session

            logging.basicConfig(
                level=logging.INFO, stream=sys.stdout, format="%(levelname)s|%(message)s"
            )
            with relay_output(logging.getLogger("task"), join_timeout=1.0):
                spark = get_session("log-relay-test", master="local[1]")
                log4j = spark.sparkContext._jvm.org.apache.logging.log4j.LogManager
                log4j.getLogger("RelayTest").warn("from the JVM")
                log4j.getLogger("RelayTest").error("also from the JVM")
                spark.stop()
                leaving = time.monotonic()
            print(f"block left in {time.monotonic() - leaving:.1f} s")
            """
        )
    )

    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=True
    )

    lines = result.stdout.splitlines()
    assert any(re.fullmatch(r"WARNING\|\S+ \S+ WARN RelayTest: from the JVM", x) for x in lines)
    assert any(re.fullmatch(r"ERROR\|\S+ \S+ ERROR RelayTest: also from the JVM", x) for x in lines)
    left_in = next(float(x.split()[3]) for x in lines if x.startswith("block left in"))
    assert left_in < 3
    assert "RelayTest" not in result.stderr

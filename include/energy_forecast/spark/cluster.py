"""Task slots: how many an application holds, waiting for them, and who holds the rest.

Barrier jobs (TorchDistributor with ``local_mode=False``, ``SparkXGBRegressor``) need all their
tasks running at once. On a standalone cluster an application's executors register a few
seconds after the session starts, and cores held by another application are not free at
all, so "how many slots now" is the wrong question. We wait a bounded time for the slots
this application declared (``spark.cores.max``), and when they do not come, say who holds
the cluster's cores instead of suggesting a bigger master.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

#: Port of a standalone master's web UI when the connection does not name one.
_DEFAULT_MASTER_WEB_UI_PORT = 8080


#: How long a driver waits for its first executor before it names the addresses involved.
EXECUTOR_WAIT_S = 120.0


class InsufficientSlotsError(RuntimeError):
    """A barrier job cannot get as many concurrent tasks as it needs."""


class NoExecutorsError(RuntimeError):
    """No executor registered with this driver: they cannot reach it, or none was given.

    Retried: a worker host that is down now may be back for the next try.
    """


def registered_executors(spark: SparkSession) -> int:
    """Executors registered with this driver now (the driver itself not counted)."""
    jvm_context = spark.sparkContext._jsc.sc()  # type: ignore[attr-defined]
    return max(0, int(jvm_context.getExecutorMemoryStatus().size()) - 1)


def wait_for_executors(
    spark: SparkSession,
    *,
    web_ui: str | None = None,
    timeout_s: float = EXECUTOR_WAIT_S,
    poll_s: float = 0.5,
) -> int:
    """Block until an executor has registered; fail naming the driver's and master's addresses.

    Without this, a driver whose executors cannot connect back to it logs "Initial job has
    not accepted any resources" until the task's timeout, and never says why.
    """
    master = spark.sparkContext.master
    if master.startswith("local"):
        return 0
    deadline = time.monotonic() + timeout_s
    while (count := registered_executors(spark)) == 0:
        if time.monotonic() > deadline:
            conf = spark.sparkContext.getConf()
            driver = f"{conf.get('spark.driver.host', '?')}:{conf.get('spark.driver.port', '?')}"
            raise NoExecutorsError(
                f"no executor registered with this driver at {driver} within {timeout_s:.0f} s "
                f"(master {master}); {describe_cluster(master_web_ui(master, web_ui))}. "
                "Either the cluster has no free cores (see who holds them above), or its "
                f"executors cannot reach {driver}: the driver binds SPARK_LOCAL_IP, which "
                "must be this host's address on the cluster's network."
            )
        time.sleep(poll_s)
    log.info("%d executor(s) registered with the driver on %s", count, master)
    return count


def task_slots(spark: SparkSession) -> int:
    """How many tasks this application can run at once with its current executors."""
    context = spark.sparkContext
    try:
        jvm_context = context._jsc.sc()  # type: ignore[attr-defined]
        profile = jvm_context.resourceProfileManager().defaultResourceProfile()
        return int(jvm_context.maxNumConcurrentTasks(profile))
    except Exception:  # a JVM without that (private) method: estimate from the cores
        task_cpus = int(context.getConf().get("spark.task.cpus", "1"))
        return context.defaultParallelism // task_cpus


def master_web_ui(master: str, configured: str | None = None) -> str | None:
    """The standalone master's web UI: the configured URL, else ``http://<host>:8080``."""
    if configured:
        return configured.rstrip("/")
    if not master.startswith("spark://"):
        return None
    host = urlparse(master.split(",")[0]).hostname
    return f"http://{host}:{_DEFAULT_MASTER_WEB_UI_PORT}" if host else None


def describe_cluster(web_ui: str | None, timeout_s: float = 5.0) -> str:
    """One sentence on the cluster's cores and the applications holding them."""
    if web_ui is None:
        return "the master is not a standalone cluster, so its holders cannot be listed"
    try:
        with urllib.request.urlopen(f"{web_ui}/json/", timeout=timeout_s) as response:
            status: dict[str, Any] = json.load(response)
    except (OSError, ValueError) as error:
        return f"the master's status at {web_ui}/json/ could not be read ({error})"
    holders = [
        f"{app.get('name', '?')} ({app.get('id', '?')}) holds {app.get('cores', '?')}"
        for app in status.get("activeapps", [])
    ]
    cores, used = status.get("cores", "?"), status.get("coresused", "?")
    held = "; ".join(holders) if holders else "no application holds any"
    return (
        f"the cluster has {cores} cores on {status.get('aliveworkers', '?')} alive worker(s), "
        f"{used} in use: {held}"
    )


def wait_for_task_slots(
    spark: SparkSession,
    needed: int,
    purpose: str,
    *,
    web_ui: str | None = None,
    timeout_s: float = 120.0,
    poll_s: float = 1.0,
) -> int:
    """Block until this application holds ``needed`` task slots; fail naming who holds them.

    ``purpose`` says what needs the slots (``"xgb_num_workers=2"``), for the error message.
    """
    master = spark.sparkContext.master
    deadline = time.monotonic() + timeout_s
    slots = task_slots(spark)
    while slots < needed and not master.startswith("local") and time.monotonic() < deadline:
        time.sleep(poll_s)
        slots = task_slots(spark)
    if slots >= needed:
        log.info("%s: %d task slots available on %s", purpose, slots, master)
        return slots
    waited = "" if master.startswith("local") else f" after waiting {timeout_s:.0f} s"
    raise InsufficientSlotsError(
        f"{purpose} needs {needed} concurrent Spark tasks, but this application holds "
        f"{slots} task slots on master {master!r}{waited}; "
        f"{describe_cluster(master_web_ui(master, web_ui))}. "
        "Free cores (wait for or stop the applications above, or give the worker more "
        "--cores) or ask for fewer processes/workers."
    )

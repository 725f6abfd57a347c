"""Gloo's threads run at real-time priority while the training thread keeps its own.

What this buys (DDP's 2-vs-1 speed-up) is measured by ``benchmarks/benchmark.py``; these
tests pin down who gets the policy, and that a process without the privilege still trains.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading

import pytest

from energy_forecast.training.collective_threads import make_realtime, thread_ids
from energy_forecast.training.distributed import process_group
from tests.conftest import PROJECT_ROOT


def _policies(threads: set[int]) -> set[int]:
    return {os.sched_getscheduler(tid) for tid in threads}


@pytest.fixture
def realtime_permitted() -> None:
    waiting = threading.Event()
    probe = threading.Thread(target=waiting.wait)
    probe.start()
    try:
        os.sched_setscheduler(probe.native_id, os.SCHED_FIFO, os.sched_param(1))
    except PermissionError:
        pytest.skip("this process may not set real-time priorities (no CAP_SYS_NICE)")
    finally:
        waiting.set()
        probe.join()


def test_threads_the_process_group_starts_run_real_time(realtime_permitted: None) -> None:
    before = thread_ids()
    with process_group(use_gpu=False, realtime_collectives=True):
        gloo_threads = thread_ids() - before
        assert gloo_threads, "gloo started no threads"
        assert _policies(gloo_threads) == {os.SCHED_FIFO}
        assert os.sched_getscheduler(threading.get_native_id()) == os.SCHED_OTHER


def test_switched_off_the_process_groups_threads_keep_normal_priority() -> None:
    before = thread_ids()
    with process_group(use_gpu=False, realtime_collectives=False):
        assert _policies(thread_ids() - before) == {os.SCHED_OTHER}


def test_a_thread_that_has_exited_is_skipped(realtime_permitted: None) -> None:
    finished = threading.Thread(target=lambda: None)
    finished.start()
    finished.join()
    waiting = threading.Event()
    alive = threading.Thread(target=waiting.wait)
    alive.start()
    try:
        assert make_realtime([finished.native_id, alive.native_id])
        assert os.sched_getscheduler(alive.native_id) == os.SCHED_FIFO
    finally:
        waiting.set()
        alive.join()


_WITHOUT_SYS_NICE = ["setpriv", "--inh-caps=-sys_nice", "--bounding-set=-sys_nice", "--"]
_JOIN_AND_REPORT = """
import os, sys
from energy_forecast.training.collective_threads import thread_ids
from energy_forecast.training.distributed import process_group
before = thread_ids()
with process_group(use_gpu=False):
    print(sorted({os.sched_getscheduler(tid) for tid in thread_ids() - before}))
"""


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="dropping CAP_SYS_NICE for a child needs root and util-linux's setpriv",
)
def test_without_the_privilege_training_goes_on_at_normal_priority_and_says_why() -> None:
    unprivileged = subprocess.run(
        [*_WITHOUT_SYS_NICE, sys.executable, "-c", _JOIN_AND_REPORT],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert unprivileged.returncode == 0, unprivileged.stderr
    assert unprivileged.stdout.strip() == f"[{os.SCHED_OTHER}]"
    assert "gloo's threads keep normal priority" in unprivileged.stderr
    assert "CAP_SYS_NICE" in unprivileged.stderr

"""The registry's locks let one holder in at a time and are let go when the holder dies."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path

from energy_forecast.runtime.locks import advisory_lock, file_lock

_SPAWN = multiprocessing.get_context("spawn")


def _overlaps(lock_factory) -> int:
    """Holders inside the lock at once, at most, over 8 threads."""
    inside, most, guard = [0], [0], threading.Lock()

    def hold() -> None:
        with lock_factory():
            with guard:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.02)
            with guard:
                inside[0] -= 1

    threads = [threading.Thread(target=hold) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return most[0]


def test_a_file_lock_admits_one_holder_at_a_time(tmp_path: Path) -> None:
    assert _overlaps(lambda: file_lock(tmp_path / ".lock")) == 1


def test_an_advisory_lock_admits_one_holder_at_a_time(scratch_database: str) -> None:
    assert _overlaps(lambda: advisory_lock(scratch_database, "registry")) == 1


def _hold_and_die(database: str, held: object) -> None:
    with advisory_lock(database, "registry"):
        held.set()
        time.sleep(60)  # killed long before


def test_an_advisory_lock_is_let_go_when_its_holder_is_killed(scratch_database: str) -> None:
    held = _SPAWN.Event()
    holder = _SPAWN.Process(target=_hold_and_die, args=(scratch_database, held))
    holder.start()
    assert held.wait(timeout=60)
    holder.kill()
    holder.join()

    started = time.monotonic()
    with advisory_lock(scratch_database, "registry"):
        waited = time.monotonic() - started

    assert waited < 10

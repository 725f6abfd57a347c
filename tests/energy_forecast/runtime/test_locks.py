"""The registry's locks let one holder in at a time and are let go when the holder dies."""

from __future__ import annotations

import multiprocessing
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from energy_forecast.runtime.locks import advisory_lock, file_lock

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
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


@pytest.fixture
def database() -> Iterator[str]:
    import psycopg2

    name = f"ef_locks_{uuid.uuid4().hex[:10]}"
    admin = psycopg2.connect(POSTGRES_ADMIN)
    admin.autocommit = True
    try:
        admin.cursor().execute(f'CREATE DATABASE "{name}"')
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_a_file_lock_admits_one_holder_at_a_time(tmp_path: Path) -> None:
    assert _overlaps(lambda: file_lock(tmp_path / ".lock")) == 1


def test_an_advisory_lock_admits_one_holder_at_a_time(database: str) -> None:
    assert _overlaps(lambda: advisory_lock(database, "registry")) == 1


def _hold_and_die(database: str, held: object) -> None:
    with advisory_lock(database, "registry"):
        held.set()
        time.sleep(60)  # killed long before


def test_an_advisory_lock_is_let_go_when_its_holder_is_killed(database: str) -> None:
    held = _SPAWN.Event()
    holder = _SPAWN.Process(target=_hold_and_die, args=(database, held))
    holder.start()
    assert held.wait(timeout=60)
    holder.kill()
    holder.join()

    started = time.monotonic()
    with advisory_lock(database, "registry"):
        waited = time.monotonic() - started

    assert waited < 10

"""Exclusive locks that separate processes and hosts, released when their holder dies.

:func:`file_lock` is ``flock`` on a file: per open file, so it separates threads and
processes alike, and the kernel drops it with the process. :func:`advisory_lock` is a
Postgres session-level advisory lock: every host that reaches the database shares it, and
Postgres drops it when the holder's connection closes (a killed task cannot leave it held).
"""

from __future__ import annotations

import fcntl
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``path`` (created if missing) for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``name``, as ``pg_advisory_lock`` takes."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def advisory_lock(database_url: str, name: str, connect_timeout_s: int = 10) -> Iterator[None]:
    """Hold the Postgres advisory lock ``name`` in the database at ``database_url`` (a libpq
    URL, ``postgresql://user@host:port/db``) for the block."""
    import psycopg2

    connection = psycopg2.connect(database_url, connect_timeout=connect_timeout_s)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", (advisory_key(name),))
            try:
                yield
            finally:
                cursor.execute("SELECT pg_advisory_unlock(%s)", (advisory_key(name),))
    finally:
        connection.close()

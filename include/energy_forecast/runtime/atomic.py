"""Replace a whole output file or folder at once, so readers never see half of one.

A file is written under a temporary name beside it and renamed over it (:func:`atomic_file`);
a folder is built in a hidden temporary sibling and swapped in by :func:`replace_dir`, so a
retry or a rerun of the same run id replaces it whole. Works on any POSIX file system shared
by the Airflow workers and the Spark driver (a rename within one directory).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """Yield a temporary path to write; it replaces ``path`` only if the block succeeds.

    The temporary name is unique, so two writers of one file (two tries of a task, two
    runs) never write into or remove each other's temporary file: the last rename wins,
    and each reader sees one whole file.
    """
    tmp = temporary_sibling(path)
    try:
        yield tmp
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> Path:
    """Write UTF-8 text to ``path`` atomically."""
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def temporary_sibling(target: Path) -> Path:
    """A fresh, not yet existing path beside ``target`` to build the new content in."""
    target.parent.mkdir(parents=True, exist_ok=True)
    return target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:12]}"


def replace_dir(staged: Path, target: Path) -> Path:
    """Move ``staged`` to ``target``, replacing any previous ``target`` whole."""
    if not staged.is_dir():
        raise FileNotFoundError(f"staged output {staged} does not exist")
    retired = None
    if target.exists():
        retired = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:12]}"
        target.rename(retired)
    staged.rename(target)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)
    return target

"""Replace a whole output folder at once, so readers never see half of one.

A stage writes into a hidden temporary sibling and calls :func:`replace_dir`; a retry or a
rerun of the same run id then swaps in a complete new folder. Works on any POSIX file
system shared by the Airflow workers and the Spark driver (a rename within one directory).
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path


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

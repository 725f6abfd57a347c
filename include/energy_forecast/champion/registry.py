"""The model registry: every promoted champion kept as an immutable, numbered version.

MLflow's registry (an alias ``champion`` over model versions) is what users of this field
know; until the project moves to it (docs/promotion-and-registry.md), this is the same idea
on files under the artifacts root:

    energy_forecast/registry/v0001/   model/, pipeline_model/, report/, forecasts.parquet,
                                      champion.json (run id, data interval, input sha256,
                                      params, metrics, gate decision, each file's sha256)
    energy_forecast/registry/backtest.json   one row per run date, promoted or not
    energy_forecast/champion -> registry/v0003   the "current" pointer

A version folder is built under a hidden name and renamed into place complete; the pointer
is a symlink replaced with one ``rename``. A reader that resolves ``champion`` once and reads
inside the folder it names therefore always finds a whole version, old or new, and never
none once one exists (versions are never changed or deleted).

Publishers may run at once: a backfill beside the daily run, ``airflow dags test`` beside
the scheduler, two tries of one task. The slow build runs unlocked; then, under an exclusive
lock on ``registry/.lock`` that every publisher takes (``flock``: per open file, so it
separates threads and processes alike; Linux NFS clients map it to NFS locks, which
separates hosts too, not tried here), one step checks that
the pointer still names the version the gate compared against and that the newcomer's data
is not older, numbers the version and moves the pointer. The backtest table is rewritten
under the same lock, so no row is lost.

    python -m energy_forecast.champion.registry          # the history, newest first
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

from energy_forecast.errors import PermanentError
from energy_forecast.paths import DAG_ID, REGISTRY_FOLDER, artifacts_root, champion_dir
from energy_forecast.runtime.atomic import write_text

METADATA_FILE = "champion.json"
BACKTEST_FILE = "backtest.json"
LOCK_FILE = ".lock"
_VERSION = re.compile(r"^v(\d{4,})$")
#: ``register(replaces=UNCHECKED)``: make the build current whatever is current now.
UNCHECKED = object()


class TamperedVersionError(PermanentError):
    """A version's files are not the ones that were published: never load them."""


class ChampionMovedError(PermanentError):
    """The champion is no longer the one the gate compared against, or it holds newer data.

    A retry would publish the same challenger against a champion it was never compared with,
    so the try fails at once; a new run gates against the new champion.
    """


@dataclass(frozen=True)
class Version:
    """One registered champion: its folder and what was recorded about it."""

    number: int
    path: Path
    metadata: dict[str, Any]

    @property
    def name(self) -> str:
        return version_name(self.number)

    @property
    def model(self) -> str:
        return self.metadata["model"]


def version_name(number: int) -> str:
    return f"v{number:04d}"


class Registry:
    """Versions under ``<root>/energy_forecast/registry`` and the ``champion`` pointer."""

    def __init__(self, root: Path | None = None) -> None:
        base = (root or artifacts_root()) / DAG_ID
        self.folder = base / REGISTRY_FOLDER
        self.pointer = champion_dir(root)

    # --- reading -----------------------------------------------------------------------
    def versions(self) -> list[Version]:
        """Every registered version, oldest first."""
        if not self.folder.is_dir():
            return []
        found = []
        for path in self.folder.iterdir():
            match = _VERSION.match(path.name)
            if match and path.is_dir():
                found.append(Version(int(match.group(1)), path, _read_metadata(path)))
        return sorted(found, key=lambda v: v.number)

    def current(self) -> Version | None:
        """The version the ``champion`` pointer names, or None before the first promotion."""
        if not self.pointer.is_symlink():
            return None
        target = self.pointer.resolve()
        match = _VERSION.match(target.name)
        if not match or not target.is_dir():
            return None
        return Version(int(match.group(1)), target, _read_metadata(target))

    def find(self, run_id: str, fingerprint: object = None) -> Version | None:
        """The version ``run_id`` registered (with this input ``fingerprint``), if any: how a
        retried publish finds that an earlier try of it already went live."""
        for version in reversed(self.versions()):
            meta = version.metadata
            if meta.get("run_id") == run_id and fingerprint in (None, meta.get("fingerprint")):
                return version
        return None

    def backtest(self) -> list[dict[str, Any]]:
        """One row per run that reached the gate, ordered by the data's last date."""
        path = self.folder / BACKTEST_FILE
        rows = json.loads(path.read_text()) if path.exists() else []
        return sorted(rows, key=lambda r: (r.get("data_last_date") or "", r.get("run_id", "")))

    def verified(self, version: Version) -> Version:
        """``version``, once every file it holds is the one published (sha256 recorded at
        publish): a file changed, removed or added in the artifacts volume since then could
        make loading it run someone else's code."""
        recorded = version.metadata.get("files")
        if not isinstance(recorded, dict):
            raise TamperedVersionError(
                f"version {version.name} records no file digests (published before they were "
                "recorded); refusing to load it. Publish a new champion (promote=force)."
            )
        found = file_digests(version.path)
        changed = sorted(
            name for name in recorded.keys() | found.keys() if recorded.get(name) != found.get(name)
        )
        if changed:
            raise TamperedVersionError(
                f"version {version.name} differs from what was published in {changed[:5]}"
                f"{' and more' if len(changed) > 5 else ''}; refusing to load it"
            )
        return version

    # --- writing -----------------------------------------------------------------------
    def register(
        self, build: Callable[[Path], dict[str, Any]], *, replaces: object = UNCHECKED
    ) -> Version:
        """Build a new version with ``build(folder)`` (it returns the metadata), then make
        it current. Nothing is visible until the folder is complete.

        ``replaces`` is the version name (None: no champion) the gate compared against; the
        pointer moves only if it still names that version and the newcomer's
        ``data_last_date`` is not older than the champion's, else :class:`ChampionMovedError`.
        A version of the same ``run_id`` and ``fingerprint`` already registered (an earlier
        try of this publish went live) is returned as it is.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        staged = self.folder / f".staged-{uuid4().hex[:12]}"
        staged.mkdir()
        try:
            metadata = {**build(staged), "files": file_digests(staged)}
            with self._locked():
                if (run_id := metadata.get("run_id")) and (
                    earlier := self.find(run_id, metadata.get("fingerprint"))
                ):
                    shutil.rmtree(staged, ignore_errors=True)
                    return earlier
                if replaces is not UNCHECKED:
                    _check_still_replaces(self.current(), replaces, metadata)
                versions = self.versions()
                number = (versions[-1].number if versions else 0) + 1
                metadata = {**metadata, "version": version_name(number)}
                write_text(staged / METADATA_FILE, json.dumps(metadata, indent=2, default=str))
                final = self.folder / version_name(number)
                staged.rename(final)  # fails if it exists: versions are never overwritten
                self._point_at(final)
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
        return Version(number, final, metadata)

    def record_backtest(self, row: dict[str, Any]) -> None:
        """Add (or, for a retried run, replace) this run's row of the backtest table."""
        with self._locked():
            rows = [r for r in self.backtest() if r.get("run_id") != row.get("run_id")]
            text = json.dumps([*rows, row], indent=2, default=str)
            write_text(self.folder / BACKTEST_FILE, text)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the registry's exclusive lock for the block."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / LOCK_FILE).open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _point_at(self, version_folder: Path) -> None:
        self.pointer.parent.mkdir(parents=True, exist_ok=True)
        if self.pointer.exists() and not self.pointer.is_symlink():
            # A champion folder from before the registry: keep it, out of the way.
            self.pointer.rename(self.pointer.with_name(f".champion-legacy-{uuid4().hex[:8]}"))
        link = self.pointer.with_name(f".champion-link-{uuid4().hex[:12]}")
        link.symlink_to(os.path.relpath(version_folder, self.pointer.parent))
        os.replace(link, self.pointer)  # one rename: readers see the old or the new version


def _check_still_replaces(
    current: Version | None, replaces: object, metadata: dict[str, Any]
) -> None:
    current_name = current.name if current else None
    if current_name != replaces:
        raise ChampionMovedError(
            f"the champion is {current_name or 'none'}, not {replaces or 'none'} as when the "
            f"gate compared run {metadata.get('run_id')!r} against it; not replacing it. "
            "The next run gates against the new champion."
        )
    ours, theirs = (
        metadata.get("data_last_date"),
        current.metadata.get("data_last_date") if current else None,
    )
    if ours and theirs and str(ours) < str(theirs):
        raise ChampionMovedError(
            f"run {metadata.get('run_id')!r} has data to {ours}, older than the champion "
            f"{current_name}'s ({theirs}); a champion is never replaced by older data"
        )


def file_digests(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` but the metadata, by path relative to it."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != METADATA_FILE
    }


def _read_metadata(folder: Path) -> dict[str, Any]:
    path = folder / METADATA_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def history_rows(registry: Registry) -> list[list[str]]:
    """The registry's versions as table rows, newest first: what the report and CLI show."""
    current = registry.current()
    rows = []
    for version in reversed(registry.versions()):
        meta = version.metadata
        gate = meta.get("gate", {})
        rows.append(
            [
                version.name + (" *" if current and current.number == version.number else ""),
                meta.get("model", "?"),
                meta.get("run_id", "?"),
                str(meta.get("data_last_date", "?")),
                _rmse(gate.get("challenger_test_rmse")),
                str(meta.get("source", "?")),
                str(meta.get("published_at", "?")),
            ]
        )
    return rows


HISTORY_TITLES = [
    "version",
    "model",
    "run id",
    "data to",
    "test RMSE kWh",
    "source",
    "promoted at",
]


def _rmse(value: Any) -> str:
    return f"{value:.4f}" if isinstance(value, int | float) else "n/a"


def main() -> None:
    registry = Registry()
    rows = history_rows(registry)
    if not rows:
        print(f"no champion registered under {registry.folder}")
        return
    table = [HISTORY_TITLES, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(HISTORY_TITLES))]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    print("* current champion")


if __name__ == "__main__":
    main()

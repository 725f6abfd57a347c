"""The Model Registry: MLflow's registered model ``energy_forecast``, one version per
promotion, its alias ``champion`` naming the current one.

A version's files are artifacts of its DAG run's MLflow run, under ``published/<attempt>/``
on the shared volume, and the version's ``source`` names that folder:

    MLmodel              the signature (features in, kWh out) and which model the files hold
    model/  pipeline_model/  report/  forecasts.parquet
    champion.json        run id, data interval, input sha256, Params, metrics, the gate's
                         decision, and each file's sha256

The version's tags repeat what finding and checking it needs (run id, fingerprint digest,
last data date, model) and hold the sha256 of ``champion.json``: they live in MLflow's
database, so a file changed on the volume after publishing is noticed before it is loaded.

Publishers may run at once: a backfill beside the daily run, ``airflow dags test`` beside
the scheduler, two tries of one task. The slow build and the upload run unlocked; then,
under the store's lock that every publisher takes (:meth:`TrackingStore.lock`: a Postgres
advisory lock in a deployment, ``flock`` locally), one step checks that the alias still
names the version the gate compared against and that the newcomer's data is not older,
creates the version and moves the alias.

    python -m energy_forecast.champion.registry          # the history, newest first
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

from energy_forecast.errors import PermanentError
from energy_forecast.runtime.atomic import write_text
from energy_forecast.tracking.runs import RUN_ID_TAG
from energy_forecast.tracking.store import TrackingStore, local_path

MODEL_NAME = "energy_forecast"
CHAMPION_ALIAS = "champion"
METADATA_FILE = "champion.json"
#: Where in its MLflow run a version's files are uploaded.
PUBLISHED_ARTIFACTS = "published"
#: Version tags.
FINGERPRINT_TAG = "fingerprint_sha256"
METADATA_DIGEST_TAG = "champion_json_sha256"
DATA_LAST_DATE_TAG = "data_last_date"
MODEL_TAG = "model"
PROMOTED_AT_TAG = "promoted_at"
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
    """One registered model version: its number, its folder and what was recorded."""

    number: int
    path: Path
    metadata: dict[str, Any]
    tags: dict[str, str]

    @property
    def name(self) -> str:
        return str(self.number)

    @property
    def model(self) -> str:
        return self.metadata["model"]

    @property
    def uri(self) -> str:
        return f"models:/{MODEL_NAME}/{self.number}"


def fingerprint_digest(fingerprint: object) -> str:
    return hashlib.sha256(json.dumps(fingerprint, sort_keys=True, default=str).encode()).hexdigest()


class Registry:
    """The registered model ``energy_forecast`` in the tracking store and its alias."""

    def __init__(self, store: TrackingStore | None = None) -> None:
        self.store = store or TrackingStore.from_environment()

    # --- reading -----------------------------------------------------------------------
    def versions(self) -> list[Version]:
        """Every registered version, oldest first."""
        found = self.store.client().search_model_versions(f"name='{MODEL_NAME}'")
        return sorted((_version(v) for v in found), key=lambda v: v.number)

    def current(self) -> Version | None:
        """The version the alias ``champion`` names, or None before the first promotion."""
        from mlflow.exceptions import MlflowException

        try:
            found = self.store.client().get_model_version_by_alias(MODEL_NAME, CHAMPION_ALIAS)
        except MlflowException as error:
            if error.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
                return None
            raise
        return _version(found)

    def find(self, run_id: str, fingerprint: object = None) -> Version | None:
        """The version ``run_id`` registered (with this input ``fingerprint``), if any: how a
        retried publish finds that an earlier try of it already registered one."""
        digest = None if fingerprint is None else fingerprint_digest(fingerprint)
        for version in reversed(self.versions()):
            if version.tags.get(RUN_ID_TAG) == run_id and digest in (
                None,
                version.tags.get(FINGERPRINT_TAG),
            ):
                return version
        return None

    def verified(self, version: Version) -> Version:
        """``version``, once every file it holds is the one published: ``champion.json``
        against the digest in MLflow's database, every other file against ``champion.json``.
        A file changed, removed or added on the volume since then could make loading it run
        someone else's code."""
        metadata_file = version.path / METADATA_FILE
        recorded_digest = version.tags.get(METADATA_DIGEST_TAG)
        if not metadata_file.exists() or recorded_digest != _sha256(metadata_file):
            raise TamperedVersionError(
                f"version {version.name}'s {METADATA_FILE} is missing or differs from the one "
                "published; refusing to load it"
            )
        recorded = version.metadata.get("files", {})
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
        self,
        build: Callable[[Path], dict[str, Any]],
        *,
        mlflow_run_id: str,
        replaces: object = UNCHECKED,
    ) -> Version:
        """Build a version's files with ``build(folder)`` (it returns the metadata), upload
        them to the MLflow run ``mlflow_run_id``, then register them and move the alias.

        ``replaces`` is the version name (None: no champion) the gate compared against; the
        alias moves only if it still names that version and the newcomer's
        ``data_last_date`` is not older than the champion's, else :class:`ChampionMovedError`.
        A version of the same run id and fingerprint already registered (an earlier try of
        this publish) is returned, made current first if that try died before the alias
        moved.
        """
        self.store.folder.mkdir(parents=True, exist_ok=True)
        attempt = uuid4().hex[:12]
        staged = self.store.folder / f".staged-{attempt}"
        staged.mkdir()
        try:
            metadata = {**build(staged), "files": file_digests(staged)}
            write_text(staged / METADATA_FILE, json.dumps(metadata, indent=2, default=str))
            artifact_path = f"{PUBLISHED_ARTIFACTS}/{attempt}"
            self.store.client().log_artifacts(mlflow_run_id, str(staged), artifact_path)
            run = self.store.client().get_run(mlflow_run_id)
            source = f"{run.info.artifact_uri}/{artifact_path}"
            tags = {
                RUN_ID_TAG: str(metadata.get("run_id", "")),
                FINGERPRINT_TAG: fingerprint_digest(metadata.get("fingerprint")),
                METADATA_DIGEST_TAG: _sha256(staged / METADATA_FILE),
                DATA_LAST_DATE_TAG: str(metadata.get("data_last_date", "")),
                MODEL_TAG: str(metadata.get("model", "")),
            }
        finally:
            shutil.rmtree(staged, ignore_errors=True)
        with self.store.lock():
            current = self.current()
            earlier = self.find(tags[RUN_ID_TAG], metadata.get("fingerprint"))
            if earlier is not None:
                if earlier.tags.get(PROMOTED_AT_TAG) or (
                    current and current.number == earlier.number
                ):
                    return earlier
                version = earlier  # registered, but its try died before the alias moved
            else:
                version = None
            if replaces is not UNCHECKED:
                _check_still_replaces(current, replaces, metadata)
            if version is None:
                version = self._create_version(source, mlflow_run_id, tags, metadata)
            self._make_current(version)
            return self._get(version.number)

    def _get(self, number: int) -> Version:
        return _version(self.store.client().get_model_version(MODEL_NAME, str(number)))

    def _create_version(
        self, source: str, mlflow_run_id: str, tags: dict[str, str], metadata: dict[str, Any]
    ) -> Version:
        from mlflow.exceptions import MlflowException

        client = self.store.client()
        try:
            client.create_registered_model(
                MODEL_NAME, description="Next-day household energy, kWh; alias champion."
            )
        except MlflowException as error:
            if error.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
        created = client.create_model_version(
            MODEL_NAME,
            source,
            run_id=mlflow_run_id,
            tags=tags,
            description=str((metadata.get("gate") or {}).get("reason", ""))[:5000],
        )
        return _version(created)

    def _make_current(self, version: Version) -> None:
        client = self.store.client()
        client.set_registered_model_alias(MODEL_NAME, CHAMPION_ALIAS, version.name)
        promoted_at = datetime.now(UTC).isoformat(timespec="seconds")
        client.set_model_version_tag(MODEL_NAME, version.name, PROMOTED_AT_TAG, promoted_at)


def _check_still_replaces(
    current: Version | None, replaces: object, metadata: dict[str, Any]
) -> None:
    current_name = current.name if current else None
    if current_name != replaces:
        raise ChampionMovedError(
            f"the champion is version {current_name or 'none'}, not {replaces or 'none'} as "
            f"when the gate compared run {metadata.get('run_id')!r} against it; not replacing "
            "it. The next run gates against the new champion."
        )
    ours = metadata.get("data_last_date")
    theirs = current.tags.get(DATA_LAST_DATE_TAG) if current else None
    if ours and theirs and str(ours) < str(theirs):
        raise ChampionMovedError(
            f"run {metadata.get('run_id')!r} has data to {ours}, older than the champion "
            f"version {current_name}'s ({theirs}); a champion is never replaced by older data"
        )


def _version(found: Any) -> Version:
    """Our view of an MLflow ``ModelVersion`` whose source is a folder on the volume."""
    path = local_path(found.source)
    if path is None:
        raise TamperedVersionError(
            f"version {found.version} of {MODEL_NAME} has its files at {found.source}, not in "
            "a folder on the shared volume; refusing to read it"
        )
    metadata_file = path / METADATA_FILE
    metadata = json.loads(metadata_file.read_text()) if metadata_file.exists() else {}
    return Version(int(found.version), path, metadata, dict(found.tags or {}))


def file_digests(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` but the metadata, by path relative to it."""
    return {
        path.relative_to(folder).as_posix(): _sha256(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != METADATA_FILE
    }


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


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
                _rmse(gate.get("challenger", {}).get("test_rmse")),
                str(meta.get("source", "?")),
                version.tags.get(PROMOTED_AT_TAG, "never (its try died)"),
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
        print(f"no version of {MODEL_NAME} registered in {registry.store.tracking_uri}")
        return
    print(f"registered model {MODEL_NAME} in {registry.store.tracking_uri}")
    table = [HISTORY_TITLES, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(HISTORY_TITLES))]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    print(f"* alias {CHAMPION_ALIAS}")


if __name__ == "__main__":
    main()

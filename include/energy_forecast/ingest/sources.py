"""Decide where the raw CSV comes from and put it on local disk.

``auto`` prefers the real data whenever it can plausibly be had: a versioned Kaggle handle
already in kagglehub's cache (served without a network call) or kagglehub credentials. Only
otherwise does it fall back to the synthetic generator, and it says so with a warning, so a
run on synthetic data is never mistaken for a run on the real one. Credentials stay inside
kagglehub: this module only asks whether they exist and never logs or returns them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from energy_forecast.ingest.errors import SourceUnavailableError
from energy_forecast.ingest.synthetic import write_synthetic_csv
from energy_forecast.paths import data_roots, resolve_inside
from energy_forecast.settings import IngestSettings

log = logging.getLogger(__name__)

ResolvedKind = Literal["kaggle", "local", "synthetic"]

#: File name of the generated CSV inside the run's raw folder.
SYNTHETIC_CSV = "synthetic.csv"


@dataclass(frozen=True)
class ResolvedSource:
    """The CSV to ingest and a secret-free account of where it came from."""

    kind: ResolvedKind
    csv_path: Path
    #: The Kaggle handle, local path or generator arguments: safe to log and to store.
    detail: str
    #: Why this source was used (the setting itself, or what ``auto`` found).
    reason: str


def resolve_source(settings: IngestSettings, raw_dir: Path) -> ResolvedSource:
    """Fetch or generate the CSV ``settings.source`` asks for (synthetic: into ``raw_dir``)."""
    if settings.source == "auto":
        kind, reason = choose_auto_source(settings.kaggle_handle)
        if kind == "synthetic":
            log.warning("source=auto: using synthetic data because %s", reason)
        else:
            log.info("source=auto: using kaggle because %s", reason)
    else:
        kind, reason = settings.source, f"source={settings.source!r} was requested"

    if kind == "kaggle":
        path = download_kaggle_csv(settings.kaggle_handle)
        return ResolvedSource("kaggle", path, f"kaggle:{settings.kaggle_handle}", reason)
    if kind == "local":
        path = resolve_inside(settings.local_csv_path or "", data_roots(), "local_csv_path")
        return ResolvedSource("local", path, str(path), reason)
    path = write_synthetic_csv(
        raw_dir / SYNTHETIC_CSV,
        households=settings.synthetic_households,
        days=settings.synthetic_days,
        seed=settings.synthetic_seed,
    )
    detail = (
        f"synthetic:households={settings.synthetic_households},"
        f"days={settings.synthetic_days},seed={settings.synthetic_seed}"
    )
    return ResolvedSource("synthetic", path, detail, reason)


def choose_auto_source(handle: str) -> tuple[Literal["kaggle", "synthetic"], str]:
    """``("kaggle", why)`` when the data is cached or credentials exist, else synthetic."""
    if kaggle_is_cached(handle):
        return "kaggle", f"{handle} is in the kagglehub cache"
    try:
        has_credentials = kaggle_credentials_available()
    except ValueError as err:  # a malformed kaggle.json; kagglehub's message names the file
        return "synthetic", f"{handle} is not cached and the Kaggle credentials are unusable: {err}"
    if has_credentials:
        return "kaggle", "Kaggle credentials are configured"
    return "synthetic", f"{handle} is not cached and no Kaggle credentials are configured"


def kaggle_is_cached(handle: str) -> bool:
    """Whether kagglehub would serve ``handle`` from its cache (honours ``KAGGLEHUB_CACHE``).

    Only a versioned handle qualifies: for an unversioned one kagglehub always asks the
    server for the latest version first.
    """
    from kagglehub.cache import Cache
    from kagglehub.handle import parse_dataset_handle

    try:
        parsed = parse_dataset_handle(handle)
    except ValueError:
        return False
    return parsed.is_versioned() and Cache().load_from_cache(parsed) is not None


def kaggle_credentials_available() -> bool:
    """Whether kagglehub finds credentials (token, env vars, kaggle.json); never their value."""
    from kagglehub.config import get_kaggle_credentials

    return get_kaggle_credentials() is not None


def download_kaggle_csv(handle: str) -> Path:
    """Download (or take from cache) the dataset and return its single CSV file."""
    try:
        import kagglehub  # 0.5 s to import; local and synthetic runs never need it

        folder = kagglehub.dataset_download(handle)
    except Exception as err:  # kagglehub raises many types; the caller needs only one
        raise SourceUnavailableError(
            f"kagglehub could not provide dataset {handle!r}: {type(err).__name__}: {err}"
        ) from err
    return find_single_csv(Path(folder))


def find_single_csv(folder: Path) -> Path:
    """The one ``*.csv`` file in ``folder`` (searched recursively); anything else is an error."""
    if folder.is_file():
        candidates = [folder] if folder.suffix.lower() == ".csv" else []
    else:
        files = (p for p in folder.rglob("*") if p.is_file())
        candidates = sorted(p for p in files if p.suffix.lower() == ".csv")
    if len(candidates) != 1:
        found = ", ".join(p.name for p in candidates) or "none"
        raise SourceUnavailableError(f"expected exactly one CSV file in {folder}, found {found}")
    return candidates[0]

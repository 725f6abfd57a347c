"""The features manifest: written by preprocessing, read by every later task.

This module is the one place that knows its keys: :func:`write_manifest` writes them and
:meth:`FeaturesManifest.load` reads and checks them, so a broken or half-written feature
folder fails the task at once with a message naming what is wrong, not minutes later inside
a Spark task. Each fact is written once: the feature settings (sequence length included)
under ``settings``, the fitted scaler's statistics under ``scaler``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import pyarrow.parquet as pq

from energy_forecast import columns as C
from energy_forecast.errors import InputError
from energy_forecast.features.arrays import FeatureShape, RowGroup, list_row_groups
from energy_forecast.settings import FeatureSettings

#: Columns training reads from every split.
REQUIRED_COLUMNS: tuple[str, ...] = (
    C.HOUSEHOLD,
    C.DATE,
    C.SPLIT,
    C.SEQUENCE,
    C.MASK,
    C.STATIC,
    C.TARGET,
    C.TARGET_KWH,
)
MANIFEST_NAME = "manifest.json"
PIPELINE_MODEL_NAME = "pipeline_model"
_REQUIRED_KEYS = (
    "settings",
    "sequence_features",
    "static_features",
    "target",
    "target_kwh",
    "splits",
    "scaler",
)


class ManifestError(InputError):
    """The features manifest or the folders it points to cannot be trained on."""


@dataclass(frozen=True)
class Scale:
    """Mean and standard deviation that standardised the target."""

    mean: float
    std: float


@dataclass(frozen=True)
class FeaturesManifest:
    """What training needs from ``features/manifest.json``.

    Split paths are absolute in manifests written by preprocessing; a relative one is taken
    relative to the manifest's folder.
    """

    path: Path
    sequence_length: int
    sequence_features: tuple[str, ...]
    static_features: tuple[str, ...]
    target: str
    target_kwh: str
    split_paths: dict[str, Path]
    target_scale: Scale
    fingerprint: str  # sha256 of the manifest: new features, new fingerprint
    split_rows: dict[str, int] = field(default_factory=dict)
    split_dates: dict[str, list[str]] = field(default_factory=dict)
    pipeline_model: Path | None = None
    #: The fitted scaler's ``{column: {"mean", "std"}}``, for every scaled input.
    scaler: dict[str, dict[str, float]] = field(default_factory=dict)
    #: The next-day rows' features, which forecasts are made from (absent before they were).
    next_day_path: Path | None = None

    @property
    def shape(self) -> FeatureShape:
        """The array shapes every row of every split has."""
        return FeatureShape(
            self.sequence_length, len(self.sequence_features), len(self.static_features)
        )

    def scale_of(self, column: str) -> Scale:
        """The mean and std that standardised ``column``."""
        stats = self.scaler.get(column)
        if not stats:
            raise ManifestError(f"features manifest {self.path} has no scaler entry for {column!r}")
        return Scale(mean=float(stats["mean"]), std=float(stats["std"]))

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read and check the manifest's keys; raise :class:`ManifestError` naming the problem."""
        path = Path(path).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"features manifest {path} does not exist; run preprocessing")
        text = path.read_bytes()
        try:
            raw: dict[str, Any] = json.loads(text)
        except json.JSONDecodeError as error:
            raise ManifestError(f"features manifest {path} is not valid JSON: {error}") from error
        missing = [key for key in _REQUIRED_KEYS if key not in raw]
        if missing:
            raise ManifestError(f"features manifest {path} lacks keys {missing}")
        splits = raw["splits"]
        absent = [name for name in C.SPLITS if "path" not in splits.get(name, {})]
        if absent:
            raise ManifestError(f"features manifest {path} lacks a path for splits {absent}")
        manifest = cls(
            path=path,
            sequence_length=int(raw["settings"]["sequence_length"]),
            sequence_features=tuple(raw["sequence_features"]),
            static_features=tuple(raw["static_features"]),
            target=raw["target"],
            target_kwh=raw["target_kwh"],
            split_paths={name: path.parent / splits[name]["path"] for name in C.SPLITS},
            target_scale=_target_scale(raw, path),
            fingerprint=hashlib.sha256(text).hexdigest(),
            split_rows={name: int(splits[name].get("rows", 0)) for name in C.SPLITS},
            split_dates={name: list(splits[name].get("dates", [])) for name in C.SPLITS},
            pipeline_model=path.parent / raw["pipeline_model"] if "pipeline_model" in raw else None,
            scaler=dict(raw["scaler"]),
            next_day_path=path.parent / raw[C.NEXT_DAY]["path"] if C.NEXT_DAY in raw else None,
        )
        if manifest.sequence_length < 1 or not manifest.sequence_features:
            raise ManifestError(f"features manifest {path} describes an empty sequence")
        if not manifest.static_features:
            raise ManifestError(f"features manifest {path} lists no static features")
        if manifest.target != C.TARGET or manifest.target_kwh != C.TARGET_KWH:
            raise ManifestError(
                f"features manifest {path} targets {manifest.target!r}/{manifest.target_kwh!r}, "
                f"training expects {C.TARGET!r}/{C.TARGET_KWH!r}"
            )
        return manifest

    def row_groups(self, split: str) -> list[RowGroup]:
        """The split's non-empty row groups; raise :class:`ManifestError` if there are none."""
        folder = self.split_paths[split]
        if not folder.is_dir():
            raise ManifestError(f"split {split!r} folder {folder} does not exist")
        groups = list_row_groups(folder)
        if not groups:
            raise ManifestError(f"split {split!r} at {folder} has no rows")
        schema = pq.read_schema(groups[0].path)
        missing = [c for c in REQUIRED_COLUMNS if c not in schema.names]
        if missing:
            raise ManifestError(f"split {split!r} at {folder} lacks columns {missing}")
        return groups

    def validate_splits(self) -> dict[str, list[RowGroup]]:
        """Check every split is present, non-empty and has the columns training reads."""
        return {split: self.row_groups(split) for split in C.SPLITS}


def _target_scale(raw: dict[str, Any], path: Path) -> Scale:
    stats = raw["scaler"].get(raw["target_kwh"])
    if not stats or "mean" not in stats or "std" not in stats:
        raise ManifestError(
            f"features manifest {path} has no scaler mean/std for {raw['target_kwh']!r}"
        )
    scale = Scale(mean=float(stats["mean"]), std=float(stats["std"]))
    if not (math.isfinite(scale.mean) and math.isfinite(scale.std)) or scale.std <= 0:
        raise ManifestError(f"features manifest {path} has an unusable target scale {scale}")
    return scale


@dataclass(frozen=True)
class SplitSummary:
    """What preprocessing wrote for one split."""

    rows: int
    row_groups: int
    files: int
    dates: Sequence[str]


def write_manifest(
    path: Path,
    features_dir: Path,
    *,
    validated: Path,
    settings: FeatureSettings,
    columns: Sequence[str],
    scaler: Mapping[str, Mapping[str, float]],
    splits: Mapping[str, SplitSummary],
    next_day_rows: int,
    estimated_row_bytes: float,
    timings_s: Mapping[str, float],
) -> dict[str, Any]:
    """Write ``path``, naming the folders as they will be under ``features_dir`` (the
    manifest is written in a staging folder that is renamed there when complete)."""
    manifest = {
        "created": datetime.now(UTC).isoformat(),
        "validated": str(validated),
        "input_rows": sum(split.rows for split in splits.values()),
        "settings": dataclasses.asdict(settings),
        "sequence_features": list(C.SEQUENCE_INPUTS),
        "static_features": list(C.STATIC_FEATURES),
        "target": C.TARGET,
        "target_kwh": C.TARGET_KWH,
        "columns": list(columns),
        "pipeline_model": str(features_dir / PIPELINE_MODEL_NAME),
        "scaler": {column: dict(stats) for column, stats in scaler.items()},
        "splits": {
            name: {
                "path": str(features_dir / name),
                "rows": split.rows,
                "row_groups": split.row_groups,
                "files": split.files,
                "dates": list(split.dates),
            }
            for name, split in splits.items()
        },
        C.NEXT_DAY: {"path": str(features_dir / C.NEXT_DAY), "rows": next_day_rows},
        "estimated_row_bytes": round(estimated_row_bytes, 1),
        "timings_s": {step: round(seconds, 3) for step, seconds in timings_s.items()},
    }
    Path(path).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest

"""The ``download`` stage: source -> validation -> validated Parquet, quarantine, manifest.

The DAG task calls :func:`run_download` and pushes its small return value through XCom;
everything large stays on disk under the run's ``raw`` folder. A rerun of the same run
replaces all three outputs, and a failed run leaves none that could pass for a success.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from energy_forecast import columns as c
from energy_forecast.atomic import atomic_file
from energy_forecast.ingest.errors import QuarantineLimitError
from energy_forecast.ingest.raw import read_raw_csv
from energy_forecast.ingest.schema import write_validated
from energy_forecast.ingest.sources import SYNTHETIC_CSV, ResolvedSource, resolve_source
from energy_forecast.ingest.validation import ValidationResult, validate_rows
from energy_forecast.metrics import write_json
from energy_forecast.paths import RunLayout
from energy_forecast.settings import IngestSettings

log = logging.getLogger(__name__)


def run_download(settings: IngestSettings, layout: RunLayout) -> dict[str, str]:
    """Ingest one run's raw data and return the paths of what was written (XCom-safe)."""
    previous = (
        layout.validated,
        layout.quarantine,
        layout.ingest_manifest,
        layout.raw_dir / SYNTHETIC_CSV,
    )
    for stale in previous:  # a failed rerun must not leave an earlier success behind
        stale.unlink(missing_ok=True)
    layout.raw_dir.mkdir(parents=True, exist_ok=True)

    source = resolve_source(settings, layout.raw_dir)
    raw = read_raw_csv(source.csv_path)
    result = validate_rows(raw)
    write_quarantine(result.quarantine, layout.quarantine)
    if result.quarantine_fraction > settings.max_quarantine_fraction:
        raise QuarantineLimitError(
            f"{result.quarantined_rows} of {result.input_rows} rows of {source.csv_path} were "
            f"quarantined (fraction {result.quarantine_fraction:.4f}), above the limit "
            f"max_quarantine_fraction={settings.max_quarantine_fraction}; "
            f"see {layout.quarantine} ({_reason_summary(result)})"
        )
    write_validated(result.valid, layout.validated)
    write_json(_manifest(source, raw.sha256, result, layout), layout.ingest_manifest)
    log.info(
        "download: %d input rows from %s, %d valid, %d quarantined",
        result.input_rows,
        source.kind,
        result.valid_rows,
        result.quarantined_rows,
    )
    return {
        "run_dir": str(layout.run_dir),
        "validated": str(layout.validated),
        "quarantine": str(layout.quarantine),
        "manifest": str(layout.ingest_manifest),
        "source": source.kind,
    }


def write_quarantine(quarantine: pd.DataFrame, path: Path) -> Path:
    """Write the quarantined rows as CSV (header only when there are none), atomically."""
    with atomic_file(path) as tmp:
        quarantine.to_csv(tmp, index=False, lineterminator="\n")
    return path


def _manifest(
    source: ResolvedSource, sha256: str, result: ValidationResult, layout: RunLayout
) -> dict[str, object]:
    valid = result.valid
    return {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": source.kind,
        "source_detail": source.detail,
        "source_reason": source.reason,
        "input_file": str(source.csv_path),
        "input_sha256": sha256,
        "input_rows": result.input_rows,
        "valid_rows": result.valid_rows,
        "quarantined_rows": result.quarantined_rows,
        "quarantine_fraction": result.quarantine_fraction,
        "quarantine_reasons": result.reason_counts,
        "households": int(valid[c.HOUSEHOLD].nunique()),
        "first_date": str(valid[c.DATE].min()) if len(valid) else None,
        "last_date": str(valid[c.DATE].max()) if len(valid) else None,
        "validated": str(layout.validated),
        "quarantine": str(layout.quarantine),
    }


def _reason_summary(result: ValidationResult) -> str:
    counts = {code: n for code, n in result.reason_counts.items() if n}
    return ", ".join(f"{code}: {n}" for code, n in counts.items())

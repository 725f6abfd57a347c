"""Publish the champion: its model, the PipelineModel, the report and next-day forecasts.

Everything is staged in a temporary sibling folder and swapped in with one rename, so a
consumer scheduled on the champion Asset never reads a half-copied champion.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from energy_forecast.atomic import replace_dir, temporary_sibling
from energy_forecast.paths import champion_dir

FORECASTS_FILE = "forecasts.parquet"
CHAMPION_FILE = "champion.json"


def _copy(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)


def publish_champion(
    *,
    champion: str,
    model_files: list[Path],
    pipeline_model: Path,
    report_dir: Path,
    write_forecasts: Callable[[Path], Path],
    summary: dict[str, Any],
    destination: Path | None = None,
) -> dict[str, str]:
    """Build the champion folder beside ``destination`` (default: the artifacts root's
    champion folder) and replace it whole."""
    destination = destination or champion_dir()
    missing = [str(p) for p in [*model_files, pipeline_model, report_dir] if not p.exists()]
    if missing:
        raise FileNotFoundError(f"cannot publish, missing artifacts: {missing}")
    staged = temporary_sibling(destination)
    try:
        for path in model_files:
            _copy(path, staged / "model" / path.name)
        _copy(pipeline_model, staged / "pipeline_model")
        _copy(report_dir, staged / "report")
        forecasts = write_forecasts(staged / FORECASTS_FILE)
        champion_info = {
            "champion": champion,
            "published_at": datetime.now(UTC).isoformat(timespec="seconds"),
            **summary,
        }
        (staged / CHAMPION_FILE).write_text(json.dumps(champion_info, indent=2, default=str))
        replace_dir(staged, destination)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return {
        "champion_dir": str(destination),
        "champion": champion,
        "forecasts": str(destination / forecasts.name),
        "report_html": str(destination / "report" / "report.html"),
    }

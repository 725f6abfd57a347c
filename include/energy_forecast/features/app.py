"""Spark application run by the DAG's ``SparkSubmitOperator``: validated rows -> features.

It fits the preprocessing pipeline on the training split, transforms every row, and writes
``pipeline_model/``, one Parquet folder per split and ``manifest.json`` into a temporary
folder that replaces ``--output-dir`` only when complete.

    spark-submit --master local[*] include/energy_forecast/features/app.py \
        --validated artifacts/.../raw/validated.parquet --output-dir artifacts/.../features
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from energy_forecast import columns as C
from energy_forecast.atomic import replace_dir, temporary_sibling
from energy_forecast.settings import FeatureSettings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
PIPELINE_MODEL_NAME = "pipeline_model"


def _with_split(frame: DataFrame, settings: FeatureSettings) -> tuple[DataFrame, dict[str, str]]:
    from pyspark.sql import functions as F

    from energy_forecast.features.split import split_boundaries

    rows_per_date = {row[C.DATE]: row["count"] for row in frame.groupBy(C.DATE).count().collect()}
    bounds = split_boundaries(rows_per_date, settings.test_days, settings.val_days)
    split = (
        F.when(F.col(C.DATE) >= F.lit(bounds.test_start), "test")
        .when(F.col(C.DATE) >= F.lit(bounds.val_start), "val")
        .otherwise("train")
    )
    dates = {
        name: sorted(str(d) for d in rows_per_date if bounds.split_of(d) == name)
        for name in C.SPLITS
    }
    return frame.withColumn(C.SPLIT, split), dates


#: A split is written as at least this many row groups (when it has that many rows), so
#: small data sets still shard over several training processes and loader workers.
MIN_ROW_GROUPS = 16


def effective_rows_per_row_group(rows: int, rows_per_row_group: int) -> int:
    """The configured row-group size, shrunk so a split has at least MIN_ROW_GROUPS groups."""
    return max(1, min(rows_per_row_group, math.ceil(rows / MIN_ROW_GROUPS)))


def _write_split(frame: DataFrame, path: Path, rows: int, rows_per_row_group: int) -> None:
    # One row group per file, files of at most `rows_per_row_group` rows: the trainer
    # shards by row group, so many equal small groups let every rank get an even share.
    group_rows = effective_rows_per_row_group(rows, rows_per_row_group)
    files = max(1, math.ceil(rows / group_rows))
    (
        frame.repartition(files)
        .write.option("maxRecordsPerFile", group_rows)
        .mode("overwrite")
        .parquet(str(path))
    )


def _row_groups(path: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).num_row_groups for f in sorted(path.glob("part-*.parquet")))


def run_preprocess(
    spark: SparkSession, validated: Path, output_dir: Path, settings: FeatureSettings
) -> dict[str, Any]:
    """Fit on training rows, transform all rows, publish ``output_dir`` atomically."""
    from pyspark.sql import functions as F

    from energy_forecast.features.pipeline import OUTPUT_COLUMNS, build_pipeline, scaler_statistics

    started = time.perf_counter()
    if not validated.exists():
        raise FileNotFoundError(f"validated data {validated} does not exist")
    rows = spark.read.parquet(str(validated))
    input_rows = rows.count()
    if input_rows == 0:
        raise ValueError(f"validated data {validated} has no rows")
    rows, split_dates = _with_split(rows, settings)

    fit_started = time.perf_counter()
    model = build_pipeline(settings.sequence_length).fit(rows.filter(F.col(C.SPLIT) == "train"))
    fit_seconds = time.perf_counter() - fit_started

    transform_started = time.perf_counter()
    features = model.transform(rows).select(*OUTPUT_COLUMNS).persist()
    split_rows = {name: 0 for name in C.SPLITS}
    split_rows.update({r[C.SPLIT]: r["count"] for r in features.groupBy(C.SPLIT).count().collect()})
    if sum(split_rows.values()) != input_rows:
        raise RuntimeError(f"split rows {split_rows} do not add up to {input_rows} input rows")

    staged = temporary_sibling(output_dir)
    model.write().save(str(staged / PIPELINE_MODEL_NAME))
    row_groups = {}
    for name in C.SPLITS:
        _write_split(
            features.filter(F.col(C.SPLIT) == name),
            staged / name,
            split_rows[name],
            settings.rows_per_row_group,
        )
        row_groups[name] = _row_groups(staged / name)
    features.unpersist()
    transform_seconds = time.perf_counter() - transform_started

    manifest = {
        "created": datetime.now(UTC).isoformat(),
        "validated": str(validated),
        "input_rows": input_rows,
        "sequence_length": settings.sequence_length,
        "sequence_features": list(C.SEQUENCE_INPUTS),
        "static_features": list(C.STATIC_FEATURES),
        "target": C.TARGET,
        "target_kwh": C.TARGET_KWH,
        "columns": list(OUTPUT_COLUMNS),
        "pipeline_model": str(output_dir / PIPELINE_MODEL_NAME),
        "scaler": scaler_statistics(model),
        "splits": {
            name: {
                "path": str(output_dir / name),
                "rows": split_rows[name],
                "row_groups": row_groups[name],
                "dates": split_dates[name],
            }
            for name in C.SPLITS
        },
        "settings": {
            "sequence_length": settings.sequence_length,
            "test_days": settings.test_days,
            "val_days": settings.val_days,
            "rows_per_row_group": settings.rows_per_row_group,
        },
        "timings_s": {
            "fit": round(fit_seconds, 3),
            "transform_and_write": round(transform_seconds, 3),
            "total": round(time.perf_counter() - started, 3),
        },
    }
    (staged / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
    replace_dir(staged, output_dir)
    log.info("features written to %s: %s", output_dir, split_rows)
    return manifest


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    defaults = FeatureSettings()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--validated", type=Path, required=True, help="validated Parquet")
    parser.add_argument("--output-dir", type=Path, required=True, help="features folder")
    parser.add_argument("--sequence-length", type=int, default=defaults.sequence_length)
    parser.add_argument("--test-days", type=int, default=defaults.test_days)
    parser.add_argument("--val-days", type=int, default=defaults.val_days)
    parser.add_argument("--rows-per-row-group", type=int, default=defaults.rows_per_row_group)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    from energy_forecast.spark import get_session

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    args = _parse_args(argv)
    settings = FeatureSettings(
        sequence_length=args.sequence_length,
        test_days=args.test_days,
        val_days=args.val_days,
        rows_per_row_group=args.rows_per_row_group,
    )
    spark = get_session("energy-forecast-preprocess")
    # Spark's INFO lines would bury this application's own log in the Airflow task log.
    spark.sparkContext.setLogLevel("WARN")
    try:
        run_preprocess(spark, args.validated.resolve(), args.output_dir.resolve(), settings)
    finally:
        spark.stop()


if __name__ == "__main__":
    main()

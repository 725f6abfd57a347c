"""Spark application run by the DAG's ``SparkSubmitOperator``: validated rows -> features.

It fits the preprocessing pipeline on the training split, transforms every row, and writes
``pipeline_model/``, one Parquet folder per split and ``manifest.json`` into a temporary
folder that replaces ``--output-dir`` only when complete.

    spark-submit --master local[*] include/energy_forecast/features/app.py \
        --validated artifacts/.../raw/validated.parquet --output-dir artifacts/.../features \
        --settings '{"sequence_length": 7, "test_days": 1, ...}'
"""

from __future__ import annotations

import argparse
import logging
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from energy_forecast import columns as C
from energy_forecast.features.manifest import (
    MANIFEST_NAME,
    PIPELINE_MODEL_NAME,
    SplitSummary,
    write_manifest,
)
from energy_forecast.features.next_day import next_day_rows
from energy_forecast.runtime.atomic import replace_dir, temporary_sibling
from energy_forecast.settings import FeatureSettings
from energy_forecast.spark.session import in_background

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

log = logging.getLogger(__name__)


def _with_split(
    frame: DataFrame, settings: FeatureSettings
) -> tuple[DataFrame, dict[str, list[str]], dict[str, int]]:
    """``frame`` with its split column, each split's dates and each split's row count, from
    one pass over the dates (a row's split depends only on its date)."""
    from pyspark.sql import functions as F

    from energy_forecast.features.split import split_boundaries

    rows_per_date = {row[C.DATE]: row["count"] for row in frame.groupBy(C.DATE).count().collect()}
    if not rows_per_date:
        raise ValueError("the validated data has no rows")
    bounds = split_boundaries(rows_per_date, settings.test_days, settings.val_days)
    split = (
        F.when(F.col(C.DATE) >= F.lit(bounds.test_start), "test")
        .when(F.col(C.DATE) >= F.lit(bounds.val_start), "val")
        .otherwise("train")
    )
    dates: dict[str, list[str]] = {name: [] for name in C.SPLITS}
    rows: dict[str, int] = {name: 0 for name in C.SPLITS}
    for day, count in sorted(rows_per_date.items()):
        dates[bounds.split_of(day)].append(str(day))
        rows[bounds.split_of(day)] += count
    return frame.withColumn(C.SPLIT, split), dates, rows


#: A split is written as at least this many row groups (when it has that many rows), so
#: small data sets still shard over several training processes and loader workers.
MIN_ROW_GROUPS = 16


#: Rows whose Parquet size estimates a split's bytes per row.
_SAMPLE_ROWS = 5_000
_MB = 1024 * 1024
#: Parquet's default row-group byte limit; raised where a group would come near it.
_PARQUET_BLOCK_BYTES = 128 * _MB


def effective_rows_per_row_group(rows: int, rows_per_row_group: int) -> int:
    """The configured row-group size, shrunk so a split has at least MIN_ROW_GROUPS groups."""
    return max(1, min(rows_per_row_group, math.ceil(rows / MIN_ROW_GROUPS)))


def files_per_split(rows: int, row_bytes: float, target_file_bytes: int, group_rows: int) -> int:
    """How many files a split is written as: enough for files of about ``target_file_bytes``,
    at least one, and no more than it has row groups (every file holds a full one)."""
    by_size = math.ceil(rows * row_bytes / target_file_bytes)
    return max(1, min(by_size, math.ceil(rows / group_rows)))


def estimated_row_bytes(frame: DataFrame, rows: int) -> float:
    """Parquet bytes per row, from about ``_SAMPLE_ROWS`` random rows encoded in memory.

    Random rows, like the files' hashed mix: a household's consecutive rows share most of
    their sequences' values, so they would compress better than a file's rows do. The
    sample is one row group, so splits of small row groups come out somewhat larger.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    sample = frame.sample(fraction=min(1.0, _SAMPLE_ROWS / max(1, rows)), seed=0).toArrow()
    if not sample.num_rows:
        return 0.0
    sink = pa.BufferOutputStream()
    pq.write_table(sample, sink, compression="snappy")  # Spark's default codec
    return sink.getvalue().size / sample.num_rows


def write_split(
    frame: DataFrame,
    path: Path,
    rows: int,
    rows_per_row_group: int,
    target_file_bytes: int,
    row_bytes: float,
    key: tuple[str, ...] = (C.HOUSEHOLD, C.DATE),
) -> None:
    """Write ``frame`` as files of about ``target_file_bytes``, each a run of row groups of
    exactly ``effective_rows_per_row_group`` rows (the last of each file may be shorter).

    The trainer shards by row group, so equal groups give every rank an even share; the file
    count follows the bytes, so a split's footers stay few however small its groups are.
    Parquet cuts a row group at ``parquet.block.row.count.limit`` rows; its byte limit
    (``parquet.block.size``) is kept at twice a group's estimated size, so it never cuts first.
    Rows go to files by a hash of their ``key`` columns.
    """
    group_rows = effective_rows_per_row_group(rows, rows_per_row_group)
    files = files_per_split(rows, row_bytes, target_file_bytes, group_rows)
    group_bytes_limit = max(_PARQUET_BLOCK_BYTES, math.ceil(2 * group_rows * row_bytes))
    (
        # One task, one file per partition. Hashing on the row key, not round-robin: Spark
        # sorts every row before a round-robin shuffle (to repeat it exactly on a retry), and
        # at 9 M rows of sequences that sort's spill buffers exhausted a 2 GB driver.
        frame.repartition(files, *key)
        .write.option("maxRecordsPerFile", 0)
        .option("parquet.block.row.count.limit", group_rows)
        .option("parquet.block.size", group_bytes_limit)
        .mode("overwrite")
        .parquet(str(path))
    )


#: Beside the model columns, what a next-day row tells the forecast it becomes.
NEXT_DAY_COLUMNS: tuple[str, ...] = (C.LAST_OBSERVED_DATE, C.TEMPERATURE)


def write_next_day(features: DataFrame, path: Path) -> int:
    """Write the next-day rows' features (one per household, so one file) and count them."""
    import pyarrow.parquet as pq
    from pyspark.sql import functions as F

    from energy_forecast.features.pipeline import OUTPUT_COLUMNS

    rows = features.filter(F.col(C.SPLIT) == C.NEXT_DAY).select(*OUTPUT_COLUMNS, *NEXT_DAY_COLUMNS)
    rows.coalesce(1).write.mode("overwrite").parquet(str(path))
    return sum(pq.ParquetFile(file).metadata.num_rows for file in _parquet_files(path))


def _parquet_files(path: Path) -> list[Path]:
    return sorted(path.glob("part-*.parquet"))


def _written(path: Path) -> tuple[int, int]:
    """Rows and row groups in a written split, from the Parquet footers."""
    import pyarrow.parquet as pq

    rows = groups = 0
    for file in _parquet_files(path):
        metadata = pq.ParquetFile(file).metadata
        rows += metadata.num_rows
        groups += metadata.num_row_groups
    return rows, groups


def run_preprocess(
    spark: SparkSession, validated: Path, output_dir: Path, settings: FeatureSettings
) -> dict[str, Any]:
    """Fit on training rows, transform all rows, publish ``output_dir`` atomically."""
    from pyspark.sql import functions as F

    from energy_forecast.features.pipeline import OUTPUT_COLUMNS, build_pipeline, scaler_statistics

    started = time.perf_counter()
    if not validated.exists():
        raise FileNotFoundError(f"validated data {validated} does not exist")
    history = spark.read.parquet(str(validated))
    rows, split_dates, split_rows = _with_split(history, settings)
    input_rows = sum(split_rows.values())

    fit_started = time.perf_counter()
    model = build_pipeline(settings.sequence_length).fit(rows.filter(F.col(C.SPLIT) == "train"))
    fit_seconds = time.perf_counter() - fit_started

    transform_started = time.perf_counter()
    staged = temporary_sibling(output_dir)
    # Saving writes each stage's metadata as a small Spark job; they run beside the splits'
    # writes instead of before them.
    saving = in_background(lambda: model.write().save(str(staged / PIPELINE_MODEL_NAME)))
    next_day = next_day_rows(history).withColumn(C.SPLIT, F.lit(C.NEXT_DAY))
    features = (
        model.transform(rows.unionByName(next_day, allowMissingColumns=True))
        .select(*OUTPUT_COLUMNS, *NEXT_DAY_COLUMNS)
        .persist()
    )
    row_bytes = estimated_row_bytes(features.select(*OUTPUT_COLUMNS), input_rows)
    row_groups, files = {}, {}
    for name in C.SPLITS:
        write_split(
            features.filter(F.col(C.SPLIT) == name).select(*OUTPUT_COLUMNS),
            staged / name,
            split_rows[name],
            settings.rows_per_row_group,
            settings.target_file_mb * _MB,
            row_bytes,
        )
        written_rows, row_groups[name] = _written(staged / name)
        if written_rows != split_rows[name]:
            raise RuntimeError(
                f"wrote {written_rows} {name} rows, but the validated data has "
                f"{split_rows[name]} rows on the {name} dates"
            )
        files[name] = len(_parquet_files(staged / name))
    next_day_households = write_next_day(features, staged / C.NEXT_DAY)
    features.unpersist()
    saving.result()
    transform_seconds = time.perf_counter() - transform_started

    manifest = write_manifest(
        staged / MANIFEST_NAME,
        output_dir,
        validated=validated,
        settings=settings,
        columns=OUTPUT_COLUMNS,
        scaler=scaler_statistics(model),
        splits={
            name: SplitSummary(split_rows[name], row_groups[name], files[name], split_dates[name])
            for name in C.SPLITS
        },
        next_day_rows=next_day_households,
        estimated_row_bytes=row_bytes,
        timings_s={
            "fit": fit_seconds,
            "transform_and_write": transform_seconds,
            "total": time.perf_counter() - started,
        },
    )
    replace_dir(staged, output_dir)
    log.info("features written to %s: %s", output_dir, split_rows)
    return manifest


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--validated", type=Path, required=True, help="validated Parquet")
    parser.add_argument("--output-dir", type=Path, required=True, help="features folder")
    parser.add_argument(
        "--settings",
        help="FeatureSettings as JSON (the DAG passes the run's); default: the built-in ones",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    from energy_forecast.spark.session import get_session

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    args = _parse_args(argv)
    settings = FeatureSettings.from_json(args.settings) if args.settings else FeatureSettings()
    spark = get_session("energy-forecast-preprocess")
    # Spark's INFO lines would bury this application's own log in the Airflow task log.
    spark.sparkContext.setLogLevel("WARN")
    try:
        run_preprocess(spark, args.validated.resolve(), args.output_dir.resolve(), settings)
    finally:
        spark.stop()


if __name__ == "__main__":
    main()

"""Feature folders in the preprocessing contract, made without Spark.

Training tests need input of a chosen size and row-group layout in seconds; running
preprocessing for that would test Spark, not training.
The target is a noisy function of the inputs, so a model that learns shows a falling loss.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from energy_forecast import columns as C
from energy_forecast.features.arrays import FeatureShape

#: The shape of :func:`sample_table`'s rows at its default sequence length.
SAMPLE_SHAPE = FeatureShape(sequence_length=7, sequence_features=3, static_features=3)
#: Seven row groups (an odd number) of unequal sizes spread over four files.
UNEVEN_LAYOUT = [[50, 13], [7], [31, 20, 9], [40]]
#: Scale of the sample target, as a manifest's scaler section would record it.
SAMPLE_SCALE = {"mean": 4.9, "std": 2.6}
_FIRST_DAY = date(2025, 1, 1)


def sample_table(
    rows: int, split: str, sequence_length: int = 7, seed: int = 0, first_row: int = 0
) -> pa.Table:
    """``rows`` feature rows of ``split`` with masks of every kind (none, gaps, full)."""
    rng = np.random.default_rng([seed, first_row, rows])
    steps = sequence_length
    sequence = rng.normal(size=(rows, steps, len(C.SEQUENCE_INPUTS)))
    first_real = rng.integers(0, steps + 1, size=rows)  # steps: no real day at all
    mask = (np.arange(steps)[None, :] >= first_real[:, None]).astype(np.float64)
    mask[rng.random(size=(rows, steps)) < 0.1] = 0.0  # missing days inside the window
    sequence[mask == 0] = 0.0
    static = np.column_stack(
        [rng.normal(size=rows), rng.integers(0, 2, size=rows), rng.normal(size=rows)]
    ).astype(np.float64)
    energy = sequence[:, :, -1]
    recent = (energy * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1.0)
    target = 0.6 * recent + 0.4 * static[:, 0] + 0.3 * static[:, 1] + 0.1 * rng.normal(size=rows)
    ids = np.arange(first_row, first_row + rows)
    return pa.table(
        {
            C.HOUSEHOLD: [f"H{i:06d}" for i in ids],
            C.DATE: pa.array([_FIRST_DAY + timedelta(days=int(i % 365)) for i in ids], pa.date32()),
            C.SPLIT: [split] * rows,
            C.SEQUENCE: pa.array(sequence.tolist(), pa.list_(pa.list_(pa.float64()))),
            C.MASK: pa.array(mask.tolist(), pa.list_(pa.float64())),
            C.STATIC: pa.array(static.tolist(), pa.list_(pa.float64())),
            C.TARGET: target,
            C.TARGET_KWH: target * SAMPLE_SCALE["std"] + SAMPLE_SCALE["mean"],
        }
    )


def write_split(folder: Path, table: pa.Table, files: Sequence[Sequence[int]]) -> Path:
    """Write ``table`` as ``part-*.parquet`` files whose row groups have the given sizes.

    ``files[i]`` lists the row-group sizes of file ``i``; the sizes must add up to the rows.
    """
    if sum(sum(f) for f in files) != table.num_rows:
        raise ValueError(f"row-group sizes {files} do not add up to {table.num_rows} rows")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "_SUCCESS").touch()
    start = 0
    for number, sizes in enumerate(files):
        with pq.ParquetWriter(folder / f"part-{number:05d}.snappy.parquet", table.schema) as out:
            for size in sizes:
                out.write_table(table.slice(start, size), row_group_size=max(size, 1))
                start += size
    return folder


def even_layout(rows: int, row_group_size: int, row_groups_per_file: int = 2) -> list[list[int]]:
    """Row groups of ``row_group_size`` rows (the last one smaller), a few per file."""
    sizes = [min(row_group_size, rows - s) for s in range(0, rows, row_group_size)]
    step = row_groups_per_file
    return [sizes[i : i + step] for i in range(0, len(sizes), step)] or [[0]]


def write_features(
    root: Path,
    rows: Mapping[str, int] | None = None,
    row_group_size: int = 64,
    sequence_length: int = 7,
    seed: int = 0,
) -> Path:
    """A complete feature folder (three splits and ``manifest.json``); returns the manifest."""
    rows = dict(rows or {"train": 512, "val": 128, "test": 128})
    root.mkdir(parents=True, exist_ok=True)
    splits = {}
    first_row = 0
    for split in C.SPLITS:
        table = sample_table(rows[split], split, sequence_length, seed, first_row)
        first_row += rows[split]
        folder = write_split(root / split, table, even_layout(rows[split], row_group_size))
        splits[split] = {"path": str(folder.resolve()), "rows": rows[split]}
    manifest = {
        "settings": {"sequence_length": sequence_length},
        "sequence_features": list(C.SEQUENCE_INPUTS),
        "static_features": list(C.STATIC_FEATURES),
        "target": C.TARGET,
        "target_kwh": C.TARGET_KWH,
        "splits": splits,
        "scaler": {C.TARGET_KWH: dict(SAMPLE_SCALE)},
        "pipeline_model": str((root / "pipeline_model").resolve()),
    }
    path = root / "manifest.json"
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return path

"""Written feature rows as numpy arrays: what every model reads, without importing torch.

Preprocessing writes each row's sequence, mask and static features as Parquet lists, and the
same values flattened for XGBoost. Training, evaluation, the served score, forecasts and the
XGBoost baseline all read them through these functions, one row group at a time; none of
them needs torch to do it, so the tasks that only predict with XGBoost never import it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from energy_forecast import columns as C

#: What the model reads from every row.
MODEL_COLUMNS: tuple[str, ...] = (C.SEQUENCE, C.MASK, C.STATIC, C.TARGET)


class RowGroup(NamedTuple):
    """One row group of one Parquet file: the unit of sharding."""

    path: str
    index: int
    rows: int


class FeatureShape(NamedTuple):
    """Shape every row's arrays must have; a mismatch is a preprocessing bug."""

    sequence_length: int
    sequence_features: int
    static_features: int


def list_row_groups(folder: Path) -> list[RowGroup]:
    """Non-empty row groups of the Parquet files in ``folder``, in file order.

    Hidden files and Spark's ``_SUCCESS``-style markers (``.`` or ``_`` prefix) are skipped.
    """
    files = sorted(
        p for p in Path(folder).iterdir() if p.is_file() and not p.name.startswith((".", "_"))
    )
    groups = []
    for file in files:
        metadata = pq.ParquetFile(file).metadata
        for index in range(metadata.num_row_groups):
            rows = metadata.row_group(index).num_rows
            if rows > 0:
                groups.append(RowGroup(str(file), index, rows))
    return groups


def read_row_group(group: RowGroup, columns: Sequence[str]) -> pa.Table:
    """Only ``columns`` of one row group."""
    return pq.ParquetFile(group.path).read_row_group(group.index, columns=list(columns))


def decode(table: pa.Table, shape: FeatureShape) -> dict[str, np.ndarray]:
    """Model arrays (float32) from a table holding :data:`MODEL_COLUMNS`."""
    rows = table.num_rows
    sequence = _fixed_lists(table.column(C.SEQUENCE), shape.sequence_length, C.SEQUENCE)
    sequence = _fixed_lists(sequence, shape.sequence_features, C.SEQUENCE)
    return {
        "sequence": _values(sequence).reshape(rows, shape.sequence_length, shape.sequence_features),
        "mask": _values(_fixed_lists(table.column(C.MASK), shape.sequence_length, C.MASK)).reshape(
            rows, shape.sequence_length
        ),
        "static": _values(
            _fixed_lists(table.column(C.STATIC), shape.static_features, C.STATIC)
        ).reshape(rows, shape.static_features),
        "target": _values(table.column(C.TARGET).combine_chunks()),
    }


def decode_tabular(table: pa.Table, shape: FeatureShape) -> np.ndarray:
    """XGBoost's inputs (float32, ``[rows, lags + static]``) from ``tabular_features``."""
    width = shape.sequence_length * shape.sequence_features + shape.static_features
    values = _fixed_lists(table.column(C.TABULAR_FEATURES), width, C.TABULAR_FEATURES)
    return _values(values).reshape(table.num_rows, width)


def _fixed_lists(column: pa.ChunkedArray | pa.Array, size: int, name: str) -> pa.Array:
    """The flattened values of a list column whose every entry must have ``size`` items."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if array.null_count:
        raise ValueError(f"column {name!r} has null entries")
    lengths = pc.list_value_length(array)
    if len(array) and (pc.min(lengths).as_py() != size or pc.max(lengths).as_py() != size):
        raise ValueError(f"column {name!r} must hold lists of {size} values at every level")
    return array.flatten()


def _values(array: pa.Array) -> np.ndarray:
    return array.to_numpy(zero_copy_only=False).astype(np.float32, copy=False)

"""Written feature rows read back as numpy arrays, one row group at a time, without torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from energy_forecast.features.arrays import (
    MODEL_COLUMNS,
    decode,
    decode_tabular,
    list_row_groups,
    read_row_group,
)
from tests.feature_files import SAMPLE_SHAPE, UNEVEN_LAYOUT, sample_table, write_split

SHAPE, LAYOUT = SAMPLE_SHAPE, UNEVEN_LAYOUT


@pytest.fixture(scope="module")
def split_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_split(tmp_path_factory.mktemp("split"), sample_table(170, "train"), LAYOUT)


def test_row_groups_are_listed_per_file_ignoring_markers_and_hidden_files(
    split_folder: Path,
) -> None:
    (split_folder / ".part-00000.snappy.parquet.crc").write_bytes(b"not parquet")

    groups = list_row_groups(split_folder)

    assert (split_folder / "_SUCCESS").exists()
    assert [g.rows for g in groups] == [50, 13, 7, 31, 20, 9, 40]
    assert len({g.path for g in groups}) == len(LAYOUT)


def test_a_row_group_decodes_to_float32_arrays_of_the_manifest_shape(split_folder: Path) -> None:
    group = list_row_groups(split_folder)[1]

    arrays = decode(read_row_group(group, MODEL_COLUMNS), SHAPE)

    assert arrays["sequence"].shape == (13, 7, 3) and arrays["sequence"].dtype == np.float32
    assert arrays["mask"].shape == (13, 7) and arrays["static"].shape == (13, 3)
    assert arrays["target"].shape == (13,)


def test_tabular_features_decode_to_one_float32_row_per_feature_row() -> None:
    rows = [[float(i * 100 + j) for j in range(7 * 3 + 3)] for i in range(4)]
    table = pa.table({"tabular_features": pa.array(rows, pa.list_(pa.float64()))})

    tabular = decode_tabular(table, SHAPE)

    assert tabular.dtype == np.float32
    np.testing.assert_array_equal(tabular, np.array(rows, dtype=np.float32))


def test_rows_of_the_wrong_shape_are_a_clear_error(tmp_path: Path) -> None:
    write_split(tmp_path, sample_table(10, "train", sequence_length=5), [[10]])
    table = read_row_group(list_row_groups(tmp_path)[0], MODEL_COLUMNS)

    with pytest.raises(ValueError, match="'sequence' must hold lists of 7"):
        decode(table, SHAPE)


def test_reading_features_forecasting_and_serving_never_import_torch() -> None:
    """Tasks that only check features or predict with XGBoost stay clear of torch's ~1 s
    import; only an LSTM prediction or training loads it."""
    modules = [
        "energy_forecast.features.arrays",
        "energy_forecast.features.manifest",
        "energy_forecast.serving.served",
        "energy_forecast.serving.forecast",
        "energy_forecast.xgb.train",
    ]
    code = f"import sys\nfor m in {modules!r}: __import__(m)\nprint('torch' in sys.modules)"

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"

"""Validated rows come out sorted whatever order they go in; the quarantine is safe to open."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as arrow
import pyarrow.parquet as pq
import pytest

from energy_forecast import columns as c
from energy_forecast.ingest.schema import VALIDATED_ARROW_SCHEMA
from energy_forecast.ingest.writers import (
    OrderTracker,
    QuarantineWriter,
    ValidatedWriter,
    escape_formula,
)
from tests.builders import validated_frame

ORDER = [(c.HOUSEHOLD, "ascending"), (c.DATE, "ascending")]


def table(households: int = 30, days: int = 7) -> arrow.Table:
    frame = validated_frame(households=households, days=days)
    return arrow.Table.from_pandas(frame, schema=VALIDATED_ARROW_SCHEMA, preserve_index=False)


def shuffled_pieces(whole: arrow.Table, pieces: int, seed: int = 0) -> list[arrow.Table]:
    order = np.random.default_rng(seed).permutation(whole.num_rows)
    return [whole.take(part) for part in np.array_split(order, pieces)]


def test_rows_in_any_order_come_out_sorted_by_household_and_date(tmp_path: Path) -> None:
    whole = table()
    path = tmp_path / "validated.parquet"
    writer = ValidatedWriter(path, presorted=False, workdir=tmp_path, run_rows=7, fan_in=3)

    for piece in shuffled_pieces(whole, 25):  # 30 runs of 7 rows: merged over three levels
        writer.write(piece)
    summary = writer.close()

    written = pq.read_table(path)
    assert written.equals(whole.sort_by(ORDER))
    assert written.schema == VALIDATED_ARROW_SCHEMA
    assert (summary.rows, summary.households) == (210, 30)
    assert (summary.first_date, summary.last_date) == (dt.date(2025, 4, 1), dt.date(2025, 4, 7))
    assert not list(tmp_path.glob("sorted-run-*")), "merged runs are deleted"


def test_rows_promised_in_order_are_written_as_they_come(tmp_path: Path) -> None:
    whole = table()
    path = tmp_path / "validated.parquet"
    writer = ValidatedWriter(path, presorted=True, workdir=tmp_path, row_group_rows=50)

    for start in range(0, whole.num_rows, 40):
        writer.write(whole.slice(start, 40))
    writer.close()

    assert pq.read_table(path).equals(whole)
    assert pq.ParquetFile(path).metadata.num_row_groups == 5  # 210 rows, 50 per group


@pytest.mark.parametrize("broken", ["out of order", "repeated key"])
def test_a_table_that_is_not_strictly_increasing_is_never_written(
    tmp_path: Path, broken: str
) -> None:
    whole = table(households=3, days=2)
    second = whole.slice(1, 1) if broken == "out of order" else whole.slice(0, 1)
    writer = ValidatedWriter(
        tmp_path / "validated.parquet", presorted=True, workdir=tmp_path, row_group_rows=1
    )
    writer.write(whole.slice(0, 2))

    with pytest.raises(RuntimeError, match="strictly increasing"):
        writer.write(second)
        writer.close()


def test_no_rows_still_make_a_table_with_the_contract_schema(tmp_path: Path) -> None:
    path = tmp_path / "validated.parquet"
    with ValidatedWriter(path, presorted=False, workdir=tmp_path) as writer:
        summary = writer.close()

    assert pq.read_table(path).schema == VALIDATED_ARROW_SCHEMA
    assert (summary.rows, summary.households, summary.first_date) == (0, 0, None)


def test_the_order_tracker_notices_keys_out_of_order_across_batches() -> None:
    tracker = OrderTracker()
    tracker.add(arrow.array(["H1", "H1", "H2"]), np.array([1, 1, 0]))  # a repeat is in order
    tracker.add(arrow.array(["H2", "H3"]), np.array([5, 0]))
    assert tracker.in_order

    tracker.add(arrow.array(["H2"]), np.array([9]))

    assert not tracker.in_order


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+1", "'+1+1"),
        ("-3", "'-3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("H00001", "H00001"),
        (" =1", " =1"),
        ("", ""),
    ],
)
def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_escaped(cell: str, written: str) -> None:
    assert escape_formula(cell) == written


def test_the_quarantine_escapes_formulas_in_cells_and_column_names(tmp_path: Path) -> None:
    handle = io.StringIO()
    columns = ["source_line", "Energy_Consumption_kWh", "=cmd", "reason"]
    writer = QuarantineWriter(handle, columns)
    writer.write(
        pd.DataFrame(
            {
                "source_line": [2, 3],
                "Energy_Consumption_kWh": ["-3", "8.4"],
                "=cmd": ["@evil", "ok"],
                "reason": ["negative_energy", "missing_value"],
            }
        )
    )

    assert handle.getvalue().splitlines() == [
        "source_line,Energy_Consumption_kWh,'=cmd,reason",
        "2,'-3,'@evil,negative_energy",
        "3,8.4,ok,missing_value",
    ]
    assert writer.rows == 2

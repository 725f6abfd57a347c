"""Row-level problems move rows to quarantine with a reason; every input row is accounted for."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from energy_forecast import columns as c
from energy_forecast.ingest import validation as v
from energy_forecast.ingest.raw import read_raw_csv
from energy_forecast.ingest.validation import ValidationResult, validate_rows

HEADER = ",".join(c.RAW_COLUMNS)
GOOD = [
    "H00001,4/1/2025,Tuesday,8.4,4,17.8,No,3.2",
    "H00001,4/2/2025,Wednesday,7.9,4,17.3,No,2.8",
    "H00002,4/1/2025,Tuesday,12.5,3,20.1,Yes,5",
]


def validate(tmp_path: Path, *rows: str, header: str = HEADER) -> ValidationResult:
    path = tmp_path / "input.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return validate_rows(read_raw_csv(path))


def assert_accounted_for(result: ValidationResult) -> None:
    assert result.valid_rows + result.quarantined_rows == result.input_rows


@pytest.mark.parametrize(
    ("bad_row", "reason"),
    [
        ("H00009,2025-04-01,Tuesday,8.4,4,17.8,No,3.2", v.UNPARSEABLE_DATE),
        ("H00009,4/31/2025,Thursday,8.4,4,17.8,No,3.2", v.UNPARSEABLE_DATE),
        ("H00009,4/1/2025,Tuesday,,4,17.8,No,3.2", v.MISSING_VALUE),
        (",4/1/2025,Tuesday,8.4,4,17.8,No,3.2", v.MISSING_VALUE),
        ("H00009,4/1/2025,Tuesday,8.4,4,17.8,   ,3.2", v.MISSING_VALUE),
        ("H00009,4/1/2025,Tuesday,lots,4,17.8,No,3.2", v.NON_NUMERIC),
        ("H00009,4/1/2025,Tuesday,8.4,4,warm,No,3.2", v.NON_NUMERIC),
        ("H00009,4/1/2025,Tuesday,nan,4,17.8,No,3.2", v.NON_NUMERIC),
        ("H00009,4/1/2025,Tuesday,8.4,4,inf,No,3.2", v.NON_NUMERIC),
        ("H00009,4/1/2025,Tuesday,-inf,-inf,17.8,No,3.2", v.NON_NUMERIC),
        ("H00009,4/1/2025,Tuesday,-0.1,4,17.8,No,0", v.NEGATIVE_ENERGY),
        ("H00009,4/1/2025,Tuesday,8.4,4,17.8,No,-3.2", v.NEGATIVE_PEAK_USAGE),
        ("H00009,4/1/2025,Tuesday,8.4,0,17.8,No,3.2", v.INVALID_HOUSEHOLD_SIZE),
        ("H00009,4/1/2025,Tuesday,8.4,-2,17.8,No,3.2", v.INVALID_HOUSEHOLD_SIZE),
        ("H00009,4/1/2025,Tuesday,8.4,2.5,17.8,No,3.2", v.INVALID_HOUSEHOLD_SIZE),
        ("H00009,4/1/2025,Tuesday,8.4,1e300,17.8,No,3.2", v.INVALID_HOUSEHOLD_SIZE),
        ("H00009,4/1/2025,Tuesday,8.4,4,17.8,Maybe,3.2", v.UNKNOWN_HAS_AC),
        ("H00009,4/1/2025,Tuesday,8.4,4,17.8,1,3.2", v.UNKNOWN_HAS_AC),
        ("H00009,4/1/2025,Friday,8.4,4,17.8,No,3.2", v.DAY_OF_WEEK_MISMATCH),
        ("H00001,4/1/2025,Tuesday,9.9,4,17.8,No,3.2", v.DUPLICATE_HOUSEHOLD_DATE),
        ("H00009,4/1/2025,Tuesday,8.4,4,17.8,No,3.2,surplus", v.WRONG_FIELD_COUNT),
        ("H00009,4/1/2025,Tuesday,8.4", f"{v.WRONG_FIELD_COUNT};{v.MISSING_VALUE}"),
    ],
)
def test_a_bad_row_is_quarantined_with_its_reason(
    tmp_path: Path, bad_row: str, reason: str
) -> None:
    result = validate(tmp_path, *GOOD, bad_row)

    assert result.valid_rows == len(GOOD)
    assert result.quarantined_rows == 1
    assert result.quarantine.loc[0, v.REASON] == reason
    for code in reason.split(v.REASON_SEPARATOR):
        assert result.reason_counts[code] == 1
    assert_accounted_for(result)


def test_a_quarantined_row_keeps_its_raw_values_and_source_line(tmp_path: Path) -> None:
    bad = "H00009, 4/1/2025 ,Tuesday,-08.40,4,17.8,no,3.2"
    result = validate(tmp_path, GOOD[0], "", bad)  # the blank line still counts as a line

    row = result.quarantine.iloc[0]
    assert row[v.SOURCE_LINE] == 4
    assert row[list(c.RAW_COLUMNS)].tolist() == bad.split(",")
    assert list(result.quarantine.columns) == [v.SOURCE_LINE, *c.RAW_COLUMNS, v.REASON]


def test_a_row_with_several_problems_lists_every_reason(tmp_path: Path) -> None:
    result = validate(tmp_path, *GOOD, "H00009,4/1/2025,Tuesday,lots,0,17.8,Maybe,-1")

    reasons = result.quarantine.loc[0, v.REASON].split(v.REASON_SEPARATOR)
    assert reasons == [
        v.NON_NUMERIC,
        v.NEGATIVE_PEAK_USAGE,
        v.INVALID_HOUSEHOLD_SIZE,
        v.UNKNOWN_HAS_AC,
    ]
    assert result.quarantined_rows == 1


def test_the_first_copy_of_a_household_day_is_kept_and_later_copies_quarantined(
    tmp_path: Path,
) -> None:
    first, second, third = (f"H00001,4/1/2025,Tuesday,{kwh},4,17.8,No,1" for kwh in (5, 6, 7))
    result = validate(tmp_path, first, second, third)

    assert result.valid[c.ENERGY].tolist() == [5.0]
    assert result.quarantine["Energy_Consumption_kWh"].tolist() == ["6", "7"]
    assert result.reason_counts[v.DUPLICATE_HOUSEHOLD_DATE] == 2


def test_a_broken_first_copy_does_not_push_out_a_usable_later_one(tmp_path: Path) -> None:
    broken = "H00001,4/1/2025,Tuesday,-5,4,17.8,No,1"
    usable = "H00001,4/1/2025,Tuesday,6,4,17.8,No,1"
    result = validate(tmp_path, broken, usable)

    assert result.valid[c.ENERGY].tolist() == [6.0]
    assert result.quarantine.loc[0, v.REASON] == v.NEGATIVE_ENERGY


def test_counts_per_reason_and_rows_add_up_on_a_mixed_file(tmp_path: Path) -> None:
    result = validate(
        tmp_path,
        *GOOD,
        "H00003,4/1/2025,Tuesday,,2,17.8,No,3.2",
        "H00003,4/2/2025,Wednesday,-1,2,17.8,No,3.2",
        "H00003,4/3/2025,Thursday,5,2,17.8,Sometimes,2",
        "H00002,4/1/2025,Tuesday,12.5,3,20.1,Yes,5",
    )

    assert (result.input_rows, result.valid_rows, result.quarantined_rows) == (7, 3, 4)
    assert {k: n for k, n in result.reason_counts.items() if n} == {
        v.MISSING_VALUE: 1,
        v.NEGATIVE_ENERGY: 1,
        v.UNKNOWN_HAS_AC: 1,
        v.DUPLICATE_HOUSEHOLD_DATE: 1,
    }
    assert set(result.reason_counts) == set(v.REASONS)
    assert result.quarantine_fraction == pytest.approx(4 / 7)
    assert_accounted_for(result)


def test_lenient_spellings_of_valid_values_are_accepted(tmp_path: Path) -> None:
    result = validate(
        tmp_path,
        "H00001,04/01/2025,tuesday,8.4,4.0,17.8, yes ,3.2",
        "H00002,4/1/2025,Tuesday,8,1,-3,NO,0",
    )

    assert result.quarantined_rows == 0
    assert result.valid[c.HAS_AC].tolist() == [True, False]
    assert result.valid[c.DAY_OF_WEEK].tolist() == ["Tuesday", "Tuesday"]


def test_valid_rows_are_typed_renamed_and_sorted_by_household_and_date(tmp_path: Path) -> None:
    rows = (row + ",an extra column" for row in (GOOD[2], GOOD[1], GOOD[0]))
    result = validate(tmp_path, *rows, header=HEADER + ",Comment")

    frame = result.valid
    assert list(frame.columns) == list(c.RAW_TO_VALIDATED.values())
    assert frame[c.HOUSEHOLD].tolist() == ["H00001", "H00001", "H00002"]
    assert frame[c.DATE].tolist() == [dt.date(2025, 4, 1), dt.date(2025, 4, 2), dt.date(2025, 4, 1)]
    assert {name: str(dtype) for name, dtype in frame.dtypes.items()} == {
        c.HOUSEHOLD: "string",
        c.DATE: "date32[day][pyarrow]",
        c.DAY_OF_WEEK: "string",
        c.ENERGY: "float64",
        c.HOUSEHOLD_SIZE: "int64",
        c.TEMPERATURE: "float64",
        c.HAS_AC: "bool",
        c.PEAK_USAGE: "float64",
    }
    assert frame.index.equals(pd.RangeIndex(3))


def test_the_real_file_validates_completely(real_csv: Path) -> None:
    result = validate_rows(read_raw_csv(real_csv))

    assert result.input_rows == 90_000
    assert result.valid_rows == 90_000
    assert result.quarantined_rows == 0
    assert result.valid[c.HOUSEHOLD].nunique() == 12_857
    assert result.valid[c.DATE].max() == dt.date(2025, 4, 8)

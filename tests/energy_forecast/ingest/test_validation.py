"""Each row is judged on what it says by itself: typed if usable, else the reasons it is not."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from energy_forecast import columns as c
from energy_forecast.ingest import validation as v
from energy_forecast.ingest.raw import open_raw_csv
from energy_forecast.ingest.schema import VALIDATED_ARROW_SCHEMA
from energy_forecast.ingest.validation import CheckedBatch, check_batch, quarantine_rows
from energy_forecast.settings import IngestSettings

HEADER = ",".join(c.RAW_COLUMNS)
GOOD = [
    "H00001,4/1/2025,Tuesday,8.4,4,17.8,No,3.2",
    "H00001,4/2/2025,Wednesday,7.9,4,17.3,No,2.8",
    "H00002,4/1/2025,Tuesday,12.5,3,20.1,Yes,5",
]


def check(
    tmp_path: Path, *rows: str, header: str = HEADER, settings: IngestSettings | None = None
) -> CheckedBatch:
    path = tmp_path / "input.csv"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    (batch,) = open_raw_csv(path).batches()
    return check_batch(batch, settings or IngestSettings())


def reasons(checked: CheckedBatch) -> list[str]:
    """The reason text of every row; ``""`` for a row without problems."""
    return v.reason_text(checked.problems, np.ones(checked.raw.n_rows, dtype=bool)).tolist()


@pytest.mark.parametrize(
    ("bad_row", "reason"),
    [
        ("H00009,2025-04-31,Thursday,8.4,4,17.8,No,3.2", v.UNPARSEABLE_DATE),
        ("H00009,2025/04/01,Tuesday,8.4,4,17.8,No,3.2", v.UNPARSEABLE_DATE),
        ("H00009,2025-04-01T00:00,Tuesday,8.4,4,17.8,No,3.2", v.UNPARSEABLE_DATE),
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
        ("H00009,4/1/2025,Tuesday,1e300,4,17.8,No,3.2", v.ENERGY_ABOVE_LIMIT),
        ("H00009,4/1/2025,Tuesday,1000.1,4,17.8,No,3.2", v.ENERGY_ABOVE_LIMIT),
        ("H00009,4/1/2025,Tuesday,8.4,4,17.8,No,1e300", v.PEAK_USAGE_ABOVE_LIMIT),
        ("H00009,4/1/2025,Tuesday,8.4,4,60.1,No,3.2", v.TEMPERATURE_OUT_OF_RANGE),
        ("H00009,4/1/2025,Tuesday,8.4,4,-60.1,No,3.2", v.TEMPERATURE_OUT_OF_RANGE),
        ("H00009,4/1/2025,Tuesday,8.4,4,1e300,No,3.2", v.TEMPERATURE_OUT_OF_RANGE),
        ("H00009,4/1/2025,Tuesday,8.4,0,17.8,No,3.2", v.INVALID_HOUSEHOLD_SIZE),
        ("H00009,4/1/2025,Tuesday,8.4,-2,17.8,No,3.2", v.INVALID_HOUSEHOLD_SIZE),
        ("H00009,4/1/2025,Tuesday,8.4,2.5,17.8,No,3.2", v.INVALID_HOUSEHOLD_SIZE),
        ("H00009,4/1/2025,Tuesday,8.4,1e300,17.8,No,3.2", v.INVALID_HOUSEHOLD_SIZE),
        ("H00009,4/1/2025,Tuesday,8.4,4,17.8,Maybe,3.2", v.UNKNOWN_HAS_AC),
        ("H00009,4/1/2025,Tuesday,8.4,4,17.8,1,3.2", v.UNKNOWN_HAS_AC),
        ("H00009,4/1/2025,Friday,8.4,4,17.8,No,3.2", v.DAY_OF_WEEK_MISMATCH),
        ("H00009,2025-04-01,Friday,8.4,4,17.8,No,3.2", v.DAY_OF_WEEK_MISMATCH),
        ("H00009,4/1/2025,Tuesday,8.4,4,17.8,No,3.2,surplus", v.WRONG_FIELD_COUNT),
        ("H00009,4/1/2025,Tuesday,8.4", f"{v.WRONG_FIELD_COUNT};{v.MISSING_VALUE}"),
    ],
)
def test_a_bad_row_is_flagged_with_its_reason(tmp_path: Path, bad_row: str, reason: str) -> None:
    checked = check(tmp_path, *GOOD, bad_row)

    assert reasons(checked) == ["", "", "", reason]
    assert checked.clean.tolist() == [True, True, True, False]


def test_dates_may_be_written_month_first_or_iso(tmp_path: Path) -> None:
    checked = check(
        tmp_path,
        "H00001,4/3/2025,Thursday,8.4,4,17.8,No,3.2",
        "H00002,2025-04-03,Thursday,8.4,4,17.8,No,3.2",
        "H00003,04/03/2025,thursday,8.4,4,17.8,No,3.2",
        "H00004,2025-4-3,Thursday,8.4,4,17.8,No,3.2",
    )

    assert checked.clean.all()
    assert checked.typed(checked.clean)[c.DATE].to_pylist() == [dt.date(2025, 4, 3)] * 4


def test_a_date_after_the_runs_own_date_is_from_the_future(tmp_path: Path) -> None:
    path = tmp_path / "input.csv"
    rows = [*GOOD, "H00009,12/31/2099,Thursday,8.4,4,17.8,No,3.2"]
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    (batch,) = open_raw_csv(path).batches()

    checked = check_batch(batch, IngestSettings(), run_date=dt.date(2025, 4, 2))
    undated = check_batch(batch, IngestSettings())

    assert reasons(checked) == ["", "", "", v.DATE_IN_FUTURE]
    assert reasons(undated) == ["", "", "", ""]  # without a run date nothing is in the future


def test_the_plausibility_bounds_come_from_the_settings(tmp_path: Path) -> None:
    strict = IngestSettings(max_energy_kwh=10, min_temperature_c=15, max_temperature_c=20)

    checked = check(tmp_path, *GOOD, settings=strict)

    assert reasons(checked) == ["", "", v.ENERGY_ABOVE_LIMIT + ";" + v.TEMPERATURE_OUT_OF_RANGE]


@pytest.mark.parametrize(
    "settings",
    [
        {"max_energy_kwh": 0},
        {"min_temperature_c": 20, "max_temperature_c": 20},
    ],
)
def test_bounds_that_would_refuse_everything_are_rejected(settings: dict) -> None:
    with pytest.raises(ValueError, match=r"max_energy_kwh|min_temperature_c"):
        IngestSettings(**settings)


def test_a_quarantined_row_keeps_its_raw_values_and_source_line(tmp_path: Path) -> None:
    bad = "H00009, 4/1/2025 ,Tuesday,-08.40,4,17.8,no,3.2"
    checked = check(tmp_path, GOOD[0], "", bad)  # the blank line still counts as a line

    quarantine = quarantine_rows(checked, checked.problems)

    assert list(quarantine.columns) == [v.SOURCE_LINE, *c.RAW_COLUMNS, v.REASON]
    row = quarantine.iloc[0]
    assert row[v.SOURCE_LINE] == 4
    assert row[list(c.RAW_COLUMNS)].tolist() == bad.split(",")
    assert row[v.REASON] == v.NEGATIVE_ENERGY
    assert len(quarantine) == 1


def test_a_row_with_several_problems_lists_every_reason_in_a_fixed_order(tmp_path: Path) -> None:
    checked = check(tmp_path, *GOOD, "H00009,4/1/2025,Tuesday,lots,0,99,Maybe,-1")

    assert reasons(checked)[-1].split(v.REASON_SEPARATOR) == [
        v.NON_NUMERIC,
        v.NEGATIVE_PEAK_USAGE,
        v.TEMPERATURE_OUT_OF_RANGE,
        v.INVALID_HOUSEHOLD_SIZE,
        v.UNKNOWN_HAS_AC,
    ]


def test_lenient_spellings_of_valid_values_are_accepted(tmp_path: Path) -> None:
    checked = check(
        tmp_path,
        "H00001,04/01/2025,tuesday,8.4,4.0,17.8, yes ,3.2",
        "H00002,4/1/2025,Tuesday,8,1,-3,NO,0",
    )

    assert checked.clean.all()
    typed = checked.typed(checked.clean)
    assert typed[c.HAS_AC].to_pylist() == [True, False]
    assert typed[c.DAY_OF_WEEK].to_pylist() == ["Tuesday", "Tuesday"]


def test_typed_rows_have_the_validated_names_types_and_values(tmp_path: Path) -> None:
    rows = (row + ",an extra column" for row in GOOD)
    checked = check(tmp_path, *rows, header=HEADER + ",Comment")

    typed = checked.typed(np.array([False, True, True]))

    assert typed.schema == VALIDATED_ARROW_SCHEMA
    assert typed.to_pylist()[0] == {
        c.HOUSEHOLD: "H00001",
        c.DATE: dt.date(2025, 4, 2),
        c.DAY_OF_WEEK: "Wednesday",
        c.ENERGY: 7.9,
        c.HOUSEHOLD_SIZE: 4,
        c.TEMPERATURE: 17.3,
        c.HAS_AC: False,
        c.PEAK_USAGE: 2.8,
    }
    assert typed.num_rows == 2


def test_the_default_bounds_keep_every_row_of_the_real_file(real_csv: Path) -> None:
    raw = open_raw_csv(real_csv)
    checked = [check_batch(batch, IngestSettings()) for batch in raw.batches()]

    assert sum(batch.raw.n_rows for batch in checked) == 90_000
    assert all(batch.clean.all() for batch in checked)

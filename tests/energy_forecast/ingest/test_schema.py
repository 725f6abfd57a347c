"""The validated table's contract: pandera guards its values, Arrow fixes its on-disk types."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pandera.errors
import pyarrow as arrow
import pyarrow.parquet as pq
import pytest

from energy_forecast import columns as c
from energy_forecast.ingest.schema import DATE_DTYPE, ValidatedEnergy, write_validated


def frame(**overrides: list) -> pd.DataFrame:
    data = {
        c.HOUSEHOLD: pd.array(["H00001", "H00002"], dtype="string"),
        c.DATE: pd.array([dt.date(2025, 4, 1)] * 2, dtype=DATE_DTYPE),
        c.DAY_OF_WEEK: pd.array(["Tuesday"] * 2, dtype="string"),
        c.ENERGY: [8.4, 12.5],
        c.HOUSEHOLD_SIZE: [4, 3],
        c.TEMPERATURE: [17.8, 20.1],
        c.HAS_AC: [False, True],
        c.PEAK_USAGE: [3.2, 5.0],
    }
    for name, values in overrides.items():
        data[name] = pd.array(values, dtype=pd.Series(data[name]).dtype)
    return pd.DataFrame(data)


def test_a_well_formed_frame_passes() -> None:
    assert ValidatedEnergy.validate(frame()).shape == (2, 8)


@pytest.mark.parametrize(
    "overrides",
    [
        {c.ENERGY: [-1.0, 2.0]},
        {c.PEAK_USAGE: [-1.0, 2.0]},
        {c.HOUSEHOLD_SIZE: [0, 2]},
        {c.DAY_OF_WEEK: ["Funday", "Tuesday"]},
        {c.HOUSEHOLD: ["H00001", "H00001"]},  # the same household twice on one date
    ],
    ids=["negative-energy", "negative-peak", "empty-household", "unknown-day", "duplicate-key"],
)
def test_values_outside_the_domain_are_rejected(overrides: dict) -> None:
    with pytest.raises(pandera.errors.SchemaErrors):
        ValidatedEnergy.validate(frame(**overrides), lazy=True)


def test_written_parquet_has_a_real_date_and_the_contract_types(tmp_path: Path) -> None:
    path = write_validated(frame(), tmp_path / "validated.parquet")

    schema = pq.read_schema(path)
    assert schema.names == list(c.RAW_TO_VALIDATED.values())
    assert schema.field(c.DATE).type == arrow.date32()
    assert schema.field(c.HOUSEHOLD).type == arrow.string()
    assert schema.field(c.HOUSEHOLD_SIZE).type == arrow.int64()
    assert schema.field(c.HAS_AC).type == arrow.bool_()
    assert schema.field(c.ENERGY).type == arrow.float64()
    assert not list(tmp_path.glob("*.tmp"))


def test_an_invalid_frame_is_never_written(tmp_path: Path) -> None:
    path = tmp_path / "validated.parquet"
    with pytest.raises(pandera.errors.SchemaErrors):
        write_validated(frame(**{c.ENERGY: [-1.0, 2.0]}), path)
    assert not path.exists()

"""The validated table's contract: pandera guards its values, Arrow fixes its on-disk types."""

from __future__ import annotations

import datetime as dt

import pandera.errors
import pyarrow as arrow
import pytest

from energy_forecast import columns as c
from energy_forecast.ingest.schema import (
    VALIDATED_ARROW_SCHEMA,
    ValidatedEnergy,
    check_validated,
    to_pandas,
)


def table(**overrides: list) -> arrow.Table:
    data = {
        c.HOUSEHOLD: ["H00001", "H00002"],
        c.DATE: [dt.date(2025, 4, 1)] * 2,
        c.DAY_OF_WEEK: ["Tuesday"] * 2,
        c.ENERGY: [8.4, 12.5],
        c.HOUSEHOLD_SIZE: [4, 3],
        c.TEMPERATURE: [17.8, 20.1],
        c.HAS_AC: [False, True],
        c.PEAK_USAGE: [3.2, 5.0],
    }
    return arrow.Table.from_pydict({**data, **overrides}, schema=VALIDATED_ARROW_SCHEMA)


def test_a_well_formed_table_passes() -> None:
    check_validated(table())
    assert ValidatedEnergy.validate(to_pandas(table())).shape == (2, 8)


@pytest.mark.parametrize(
    "overrides",
    [
        {c.ENERGY: [-1.0, 2.0]},
        {c.PEAK_USAGE: [-1.0, 2.0]},
        {c.HOUSEHOLD_SIZE: [0, 2]},
        {c.DAY_OF_WEEK: ["Funday", "Tuesday"]},
        {c.HOUSEHOLD: ["", "H00002"]},
        {c.HOUSEHOLD: ["H00001", "H00001"]},  # the same household twice on one date
    ],
    ids=[
        "negative-energy",
        "negative-peak",
        "zero-household-size",
        "unknown-day",
        "blank-household-id",
        "duplicate-key",
    ],
)
def test_values_outside_the_domain_are_rejected(overrides: dict) -> None:
    with pytest.raises(pandera.errors.SchemaErrors):
        check_validated(table(**overrides))


def test_another_arrow_schema_is_rejected_before_any_value_is_checked() -> None:
    as_text = table().set_column(1, c.DATE, arrow.array(["2025-04-01"] * 2))
    with pytest.raises(TypeError, match="not the contract's"):
        check_validated(as_text)


def test_the_contract_stores_a_real_date_and_plain_arrow_types() -> None:
    schema = VALIDATED_ARROW_SCHEMA
    assert schema.names == list(c.RAW_TO_VALIDATED.values())
    assert schema.field(c.DATE).type == arrow.date32()
    assert schema.field(c.HOUSEHOLD).type == arrow.string()
    assert schema.field(c.HOUSEHOLD_SIZE).type == arrow.int64()
    assert schema.field(c.HAS_AC).type == arrow.bool_()
    assert schema.field(c.ENERGY).type == arrow.float64()

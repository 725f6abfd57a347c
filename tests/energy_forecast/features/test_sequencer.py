"""DaySequencer: previous calendar days, oldest first, padded and masked, per household."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

pytestmark = pytest.mark.spark

PAD = [0.5, -0.5]  # training means of (a, b) in the frame below


@pytest.fixture()
def days(spark):
    # Household H1 has no row on 4/3: a gap. H2 has a single day.
    rows = [
        ("H1", date(2025, 4, 1), 1.0, 0.0),
        ("H1", date(2025, 4, 2), 2.0, -1.0),
        ("H1", date(2025, 4, 4), 4.0, -2.0),
        ("H1", date(2025, 4, 5), -5.0, 1.0),
        ("H2", date(2025, 4, 2), 0.5, -0.5),
    ]
    return spark.createDataFrame(rows, ["household_id", "date", "a", "b"])


def _fit(frame, length=3):
    from energy_forecast.features.sequencer import DaySequencer

    return DaySequencer(inputCols=["a", "b"], sequenceLength=length).fit(frame)


def _by_key(frame):
    return {(r["household_id"], r["date"].day): r for r in frame.collect()}


def test_padding_values_are_the_means_of_the_fitted_rows(days):
    assert _fit(days).getPadValues() == PAD


def test_a_missing_calendar_day_is_a_masked_gap_not_a_shift(days):
    rows = _by_key(_fit(days).transform(days))

    target = rows[("H1", 5)]  # window: 4/2, 4/3 (missing), 4/4
    assert target["mask"] == [1.0, 0.0, 1.0]
    assert target["sequence"] == [[2.0, -1.0], PAD, [4.0, -2.0]]


def test_sequences_start_with_padding_where_history_is_short(days):
    rows = _by_key(_fit(days).transform(days))

    assert rows[("H1", 1)]["mask"] == [0.0, 0.0, 0.0]
    assert rows[("H1", 1)]["sequence"] == [PAD, PAD, PAD]
    assert rows[("H1", 2)]["mask"] == [0.0, 0.0, 1.0]
    assert rows[("H1", 2)]["sequence"] == [PAD, PAD, [1.0, 0.0]]
    assert rows[("H1", 4)]["mask"] == [1.0, 1.0, 0.0]  # 4/1, 4/2, 4/3 missing


def test_the_target_day_itself_is_never_in_its_sequence(days):
    rows = _by_key(_fit(days).transform(days))

    assert [-5.0, 1.0] not in rows[("H1", 5)]["sequence"]


def test_households_never_see_each_others_days(days):
    rows = _by_key(_fit(days).transform(days))

    assert rows[("H2", 2)]["mask"] == [0.0, 0.0, 0.0]


def test_save_and_load_give_identical_output(days, tmp_path):
    from energy_forecast.features.sequencer import DaySequencerModel

    model = _fit(days, length=2)
    model.write().overwrite().save(str(tmp_path / "sequencer"))
    loaded = DaySequencerModel.load(str(tmp_path / "sequencer"))

    assert loaded.getSequenceLength() == 2
    assert _by_key(loaded.transform(days)) == _by_key(model.transform(days))


def test_sequence_length_must_be_positive(days):
    from energy_forecast.features.sequencer import DaySequencer

    with pytest.raises(ValueError, match="sequenceLength"):
        DaySequencer(inputCols=["a", "b"], sequenceLength=0).fit(days)


def test_a_repeated_day_fills_one_slot_and_shifts_nothing(spark):
    rows = [
        ("H1", date(2025, 4, 1), 1.0, 0.0),
        ("H1", date(2025, 4, 2), 2.0, -1.0),
        ("H1", date(2025, 4, 2), 2.0, -1.0),
        ("H1", date(2025, 4, 3), 3.0, -3.0),
        ("H1", date(2025, 4, 4), 4.0, -4.0),
    ]
    frame = spark.createDataFrame(rows, ["household_id", "date", "a", "b"])

    target = _by_key(_fit(frame).transform(frame))[("H1", 4)]

    assert target["mask"] == [1.0, 1.0, 1.0]
    assert target["sequence"] == [[1.0, 0.0], [2.0, -1.0], [3.0, -3.0]]


def test_a_year_long_sequence_matches_a_day_by_day_reference(spark):
    # Two households with over a year of days and scattered gaps: every slot of every row,
    # at the Param's maximum length, against a plain Python construction.
    length, start = 365, date(2024, 1, 1)
    rng = random.Random(0)
    values = {
        (household, start + timedelta(days=d)): (float(d), rng.uniform(-1, 1))
        for household, days in (("H1", 400), ("H2", 380))
        for d in range(days)
        if rng.random() > 0.1
    }
    frame = spark.createDataFrame(
        [(h, day, a, b) for (h, day), (a, b) in values.items()],
        ["household_id", "date", "a", "b"],
    )
    model = _fit(frame, length=length)
    pad = model.getPadValues()

    for row in model.transform(frame).collect():
        before = [
            (row["household_id"], row["date"] - timedelta(days=k)) for k in range(length, 0, -1)
        ]
        assert row["mask"] == [1.0 if key in values else 0.0 for key in before]
        assert row["sequence"] == [list(values.get(key, pad)) for key in before]

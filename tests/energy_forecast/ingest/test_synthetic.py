"""The synthetic generator is a faithful, deterministic stand-in for the real file."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pandas as pd
import pytest

from energy_forecast import columns as c
from energy_forecast.ingest.raw import open_raw_csv
from energy_forecast.ingest.synthetic import generate_synthetic, write_synthetic_csv
from energy_forecast.ingest.validation import check_batch
from energy_forecast.settings import IngestSettings

DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def default_sized() -> pd.DataFrame:
    """The default synthetic data set (as many households as the real file), parsed."""
    settings = IngestSettings()
    raw = generate_synthetic(
        settings.synthetic_households, settings.synthetic_days, settings.synthetic_seed
    )
    numeric = [
        "Energy_Consumption_kWh",
        "Household_Size",
        "Avg_Temperature_C",
        "Peak_Hours_Usage_kWh",
    ]
    return raw.astype(dict.fromkeys(numeric, float))


def test_the_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    first = write_synthetic_csv(tmp_path / "a.csv", households=30, days=7, seed=7)
    second = write_synthetic_csv(tmp_path / "b.csv", households=30, days=7, seed=7)
    assert sha256(first) == sha256(second)


def test_another_seed_writes_other_data(tmp_path: Path) -> None:
    first = write_synthetic_csv(tmp_path / "a.csv", households=30, days=7, seed=7)
    second = write_synthetic_csv(tmp_path / "b.csv", households=30, days=7, seed=8)
    assert sha256(first) != sha256(second)


def test_it_writes_the_real_header_and_value_formats(tmp_path: Path) -> None:
    path = write_synthetic_csv(tmp_path / "s.csv", households=12, days=10, seed=1)
    lines = path.read_text(encoding="utf-8").splitlines()
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)

    assert lines[0] == ",".join(c.RAW_COLUMNS)
    assert lines[1].startswith("H00001,4/1/2025,Tuesday,")
    assert frame["Household_ID"].str.fullmatch(r"H\d{5}").all()
    assert frame["Date"].str.fullmatch(r"[1-9]\d?/[1-9]\d?/2025").all()  # no zero padding
    assert set(frame["Has_AC"]) <= {"Yes", "No"}
    assert frame["Household_Size"].str.fullmatch(r"[1-6]").all()
    for name in ("Energy_Consumption_kWh", "Avg_Temperature_C", "Peak_Hours_Usage_kWh"):
        assert frame[name].str.fullmatch(r"\d+(\.[1-9])?").all(), name  # 8.4, 3 (never 3.0)


def test_day_of_week_matches_the_date_from_april_1st_2025() -> None:
    frame = generate_synthetic(households=3, days=10, seed=1)
    dates = pd.to_datetime(frame["Date"], format=c.RAW_DATE_FORMAT)

    assert dates.min().date() == dt.date(2025, 4, 1)
    assert dates.max().date() == dt.date(2025, 4, 10)
    assert (frame["Day_of_Week"] == dates.dt.weekday.map(DAY_NAMES.__getitem__)).all()


def test_each_household_keeps_its_size_and_air_conditioning() -> None:
    frame = generate_synthetic(households=40, days=7, seed=3)
    per_household = frame.groupby("Household_ID")[["Household_Size", "Has_AC"]].nunique()
    assert (per_household == 1).all().all()
    assert frame.groupby("Household_ID").size().eq(7).all()


def test_it_passes_validation_with_nothing_quarantined(tmp_path: Path) -> None:
    path = write_synthetic_csv(tmp_path / "s.csv", households=500, days=7, seed=42)
    (batch,) = open_raw_csv(path).batches()
    checked = check_batch(batch, IngestSettings())

    assert batch.n_rows == 3_500
    assert checked.clean.all()
    assert len(set(checked.typed(checked.clean)[c.HOUSEHOLD].to_pylist())) == 500


def test_its_marginals_resemble_the_real_file(default_sized: pd.DataFrame) -> None:
    frame = default_sized
    energy, peak = frame["Energy_Consumption_kWh"], frame["Peak_Hours_Usage_kWh"]
    temperature = frame["Avg_Temperature_C"]
    # Reference figures of the real file: energy 10.57 ± 5.52 kWh in [0.5, 20], temperature
    # 17.5 ± 2.49 °C in [10, 25], sizes 1-6, 49.4 % with AC, peak share 0.40 ± 0.06.
    assert energy.mean() == pytest.approx(10.57, abs=0.4)
    assert energy.std() == pytest.approx(5.52, abs=0.4)
    assert (energy.min(), energy.max()) == (0.5, 20.0)
    assert temperature.mean() == pytest.approx(17.5, abs=0.2)
    assert temperature.std() == pytest.approx(2.49, abs=0.2)
    assert temperature.between(10, 25).all()
    assert set(frame["Household_Size"]) == {1, 2, 3, 4, 5, 6}
    assert (frame["Has_AC"] == "Yes").mean() == pytest.approx(0.494, abs=0.03)
    assert (peak / energy).mean() == pytest.approx(0.40, abs=0.02)
    assert (peak / energy).std() == pytest.approx(0.058, abs=0.015)
    assert (peak <= energy).all()


def test_energy_grows_with_household_size_and_air_conditioning(
    default_sized: pd.DataFrame,
) -> None:
    means = default_sized.groupby(["Household_Size", "Has_AC"])["Energy_Consumption_kWh"].mean()
    for ac in ("Yes", "No"):
        assert means.xs(ac, level="Has_AC").is_monotonic_increasing
    assert (means.xs("Yes", level="Has_AC") > means.xs("No", level="Has_AC")).all()


def test_day_to_day_noise_is_near_the_real_noise_floor(default_sized: pd.DataFrame) -> None:
    within = default_sized.groupby("Household_ID")["Energy_Consumption_kWh"].std().mean()
    assert within == pytest.approx(1.35, abs=0.15)  # the real file: 1.35 kWh


@pytest.mark.parametrize(("households", "days"), [(0, 7), (10, 0)])
def test_it_refuses_an_empty_request(households: int, days: int) -> None:
    with pytest.raises(ValueError, match="at least one household and one day"):
        generate_synthetic(households, days, seed=1)

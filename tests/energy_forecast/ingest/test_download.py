"""``run_download``: one call turns a source into validated Parquet, quarantine and manifest.

Most tests read their file in batches of a few rows, so that what a rule needs to see (a
repeated key, the order of households) is spread over several batches, as in a large file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import kagglehub.config
import pandas as pd
import pyarrow as arrow
import pyarrow.parquet as pq
import pytest

from energy_forecast import columns as c
from energy_forecast.ingest import InputDataError, QuarantineLimitError, run_download
from energy_forecast.paths import RunLayout
from energy_forecast.settings import IngestSettings

HEADER = ",".join(c.RAW_COLUMNS)
DAYS = ((1, "Tuesday"), (2, "Wednesday"), (3, "Thursday"))
GOOD = [
    f"H{h:05d},4/{d}/2025,{day},{5 + h},{h % 6 + 1},18,{'Yes' if h % 2 else 'No'},2"
    for h in range(1, 11)
    for d, day in DAYS[:2]
]  # 20 valid rows: 10 households, April 1 and 2
BAD = "H00099,4/1/2025,Tuesday,-3,2,18,No,1"


def local_settings(tmp_path: Path, rows: list[str], **overrides: object) -> IngestSettings:
    path = tmp_path / "input.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return IngestSettings(source="local", local_csv_path=str(path), **overrides)


def manifest(layout: RunLayout) -> dict:
    return json.loads(layout.ingest_manifest.read_text())


def quarantine(layout: RunLayout) -> pd.DataFrame:
    return pd.read_csv(layout.quarantine, dtype=str, keep_default_na=False)


def accounted_for(written: dict) -> bool:
    """Every input row is valid, quarantined or past the cut-off: exactly one of them."""
    parts = written["valid_rows"] + written["quarantined_rows"] + written["rows_after_cutoff"]
    return written["input_rows"] == parts


@pytest.fixture
def layout(tmp_path: Path) -> RunLayout:
    return RunLayout.for_run("manual__2025-04-08T00:00:00+00:00", root=tmp_path / "artifacts")


def test_it_writes_the_three_outputs_and_returns_their_paths(
    tmp_path: Path, layout: RunLayout
) -> None:
    settings = IngestSettings(source="synthetic", synthetic_households=40, synthetic_days=7)

    returned = run_download(settings, layout)

    assert returned == {
        "run_dir": str(layout.run_dir),
        "validated": str(layout.validated),
        "quarantine": str(layout.quarantine),
        "manifest": str(layout.ingest_manifest),
        "source": "synthetic",
    }
    assert all(Path(returned[key]).is_file() for key in ("validated", "quarantine", "manifest"))
    assert json.loads(json.dumps(returned)) == returned  # XCom-safe
    assert sorted(p.name for p in layout.raw_dir.iterdir()) == [
        "manifest.json",
        "quarantine.csv",
        "synthetic.csv",
        "validated.parquet",
    ], "no scratch file is left behind"


def test_the_validated_parquet_has_the_contract_schema_and_order(layout: RunLayout) -> None:
    run_download(IngestSettings(source="synthetic", synthetic_households=25), layout)

    table = pq.read_table(layout.validated)
    assert table.schema.names == list(c.RAW_TO_VALIDATED.values())
    assert [table.schema.field(n).type for n in table.schema.names] == [
        arrow.string(),
        arrow.date32(),
        arrow.string(),
        arrow.float64(),
        arrow.int64(),
        arrow.float64(),
        arrow.bool_(),
        arrow.float64(),
    ]
    frame = table.to_pandas()
    assert frame.equals(frame.sort_values([c.HOUSEHOLD, c.DATE], ignore_index=True))
    assert frame[c.DATE].iloc[0] == dt.date(2025, 4, 1)


def test_rows_in_any_order_are_written_sorted_by_household_and_date(
    tmp_path: Path, layout: RunLayout
) -> None:
    by_date = sorted(GOOD, key=lambda row: (row.split(",")[1], row[::-1]))  # e.g. appended daily

    run_download(local_settings(tmp_path, by_date), layout, batch_rows=3)

    frame = pq.read_table(layout.validated).to_pandas()
    assert frame[c.HOUSEHOLD].tolist() == [f"H{h:05d}" for h in range(1, 11) for _ in range(2)]
    assert frame[c.DATE].tolist() == [dt.date(2025, 4, 1), dt.date(2025, 4, 2)] * 10


def test_the_manifest_accounts_for_every_row_and_names_the_source(
    tmp_path: Path, layout: RunLayout
) -> None:
    settings = local_settings(tmp_path, [*GOOD, BAD], max_quarantine_fraction=0.1)

    run_download(settings, layout, batch_rows=4)

    written = manifest(layout)
    assert written["input_rows"] == 21
    assert written["valid_rows"] == 20
    assert written["quarantined_rows"] == 1
    assert written["rows_after_cutoff"] == 0
    assert accounted_for(written)
    assert written["quarantine_reasons"]["negative_energy"] == 1
    assert written["households"] == 10
    assert (written["first_date"], written["last_date"]) == ("2025-04-01", "2025-04-02")
    assert written["cutoff"] is None
    assert written["source"] == "local"
    assert written["source_detail"] == settings.local_csv_path
    assert written["source_reason"] == "source='local' was requested"
    input_bytes = Path(settings.local_csv_path).read_bytes()
    assert written["input_sha256"] == hashlib.sha256(input_bytes).hexdigest()
    assert dt.datetime.fromisoformat(written["created_at"]).tzinfo is not None
    assert quarantine(layout)[["Household_ID", "reason"]].values.tolist() == [
        ["H00099", "negative_energy"]
    ]


def test_rows_that_disagree_on_a_household_day_are_all_quarantined(
    tmp_path: Path, layout: RunLayout
) -> None:
    first = GOOD[0]  # H00001 on April 1, read in the first batch
    disagreeing = first.replace(",6,", ",7.5,")  # ... and again, far later, with more energy
    exact_copy = GOOD[2]  # H00002 on April 1, the same values again
    rows = [*GOOD, exact_copy, disagreeing]
    settings = local_settings(tmp_path, rows, max_quarantine_fraction=0.5)

    run_download(settings, layout, batch_rows=3)

    written = manifest(layout)
    assert written["quarantine_reasons"]["conflicting_household_date"] == 2
    assert written["quarantine_reasons"]["duplicate_household_date"] == 1
    assert (written["valid_rows"], written["quarantined_rows"]) == (19, 3)
    assert accounted_for(written)
    assert quarantine(layout)[["source_line", "reason"]].values.tolist() == [
        ["2", "conflicting_household_date"],
        ["22", "duplicate_household_date"],
        ["23", "conflicting_household_date"],
    ]
    validated = pq.read_table(layout.validated).to_pandas()
    assert not (
        (validated[c.HOUSEHOLD] == "H00001") & (validated[c.DATE] == dt.date(2025, 4, 1))
    ).any()
    assert (
        (validated[c.HOUSEHOLD] == "H00002") & (validated[c.DATE] == dt.date(2025, 4, 1))
    ).sum() == 1


def test_rows_on_or_after_the_cutoff_are_counted_but_neither_written_nor_quarantined(
    tmp_path: Path, layout: RunLayout
) -> None:
    april_3 = [f"H{h:05d},2025-04-03,Thursday,{5 + h},2,18,No,2" for h in range(1, 11)]
    settings = local_settings(tmp_path, [*GOOD, *april_3, BAD], max_quarantine_fraction=0.1)

    run_download(settings, layout, cutoff=dt.date(2025, 4, 2), batch_rows=4)

    written = manifest(layout)
    assert written["cutoff"] == "2025-04-02"
    assert (written["input_rows"], written["valid_rows"]) == (31, 10)
    assert (written["rows_after_cutoff"], written["quarantined_rows"]) == (20, 1)
    assert accounted_for(written)
    assert written["last_date"] == "2025-04-01"
    validated = pq.read_table(layout.validated).to_pandas()
    assert set(validated[c.DATE]) == {dt.date(2025, 4, 1)}
    assert quarantine(layout)["reason"].tolist() == ["negative_energy"]


def test_a_row_dated_after_the_runs_own_date_is_quarantined_as_from_the_future(
    tmp_path: Path, layout: RunLayout
) -> None:
    """A run with no data interval has no cut-off; one mistyped year must not become the
    data's newest date (every real household would then look stale to the forecasts)."""
    typo = "H00001,12/31/2099,Thursday,6,2,18,Yes,2"
    settings = local_settings(tmp_path, [*GOOD, typo], max_quarantine_fraction=0.1)

    run_download(settings, layout, run_date=dt.date(2025, 4, 8), batch_rows=4)

    written = manifest(layout)
    assert (written["valid_rows"], written["quarantined_rows"]) == (20, 1)
    assert {k: n for k, n in written["quarantine_reasons"].items() if n} == {"date_in_future": 1}
    assert written["last_date"] == "2025-04-02"
    assert quarantine(layout)["Date"].tolist() == ["12/31/2099"]
    assert accounted_for(written)


def test_a_row_dated_on_the_runs_own_date_is_valid(tmp_path: Path, layout: RunLayout) -> None:
    run_download(local_settings(tmp_path, GOOD), layout, run_date=dt.date(2025, 4, 2))

    assert (manifest(layout)["valid_rows"], manifest(layout)["quarantined_rows"]) == (20, 0)


def test_a_cutoff_after_every_row_changes_nothing(tmp_path: Path, layout: RunLayout) -> None:
    run_download(local_settings(tmp_path, GOOD), layout, cutoff=dt.date(2025, 4, 3))

    written = manifest(layout)
    assert (written["valid_rows"], written["rows_after_cutoff"]) == (20, 0)
    assert written["last_date"] == "2025-04-02"


def test_the_quarantine_file_is_safe_to_open_in_a_spreadsheet(
    tmp_path: Path, layout: RunLayout
) -> None:
    formula = "=HYPERLINK(1),4/1/2025,Tuesday,@x,2,18,No,1"
    settings = local_settings(tmp_path, [*GOOD, BAD, formula], max_quarantine_fraction=0.1)

    run_download(settings, layout)

    rows = quarantine(layout)
    assert rows["Energy_Consumption_kWh"].tolist() == ["'-3", "'@x"]
    assert rows["Household_ID"].tolist() == ["H00099", "'=HYPERLINK(1)"]


def test_quoting_the_fields_changes_nothing(tmp_path: Path, layout: RunLayout) -> None:
    rows = [*GOOD, BAD, "H00003,4/1/2025", "H00001,4/1/2025,Tuesday,6,2,18,No,2,extra"]
    plain = local_settings(tmp_path, rows, max_quarantine_fraction=0.5)
    run_download(plain, layout, batch_rows=5)
    plain_outputs = (layout.validated.read_bytes(), layout.quarantine.read_bytes())

    quoted = tmp_path / "quoted.csv"  # read by the csv module, not Arrow
    lines = [HEADER, *rows]
    quoted.write_text("\n".join(",".join(f'"{v}"' for v in line.split(",")) for line in lines))
    settings = IngestSettings(
        source="local", local_csv_path=str(quoted), max_quarantine_fraction=0.5
    )
    run_download(settings, layout, batch_rows=5)

    assert (layout.validated.read_bytes(), layout.quarantine.read_bytes()) == plain_outputs


def test_too_many_quarantined_rows_fail_after_writing_the_quarantine(
    tmp_path: Path, layout: RunLayout
) -> None:
    settings = local_settings(tmp_path, [*GOOD, BAD, BAD.replace("H00099", "H00098")])

    with pytest.raises(QuarantineLimitError, match=r"fraction 0\.0909.*limit") as err:
        run_download(settings, layout)

    assert "max_quarantine_fraction=0.05" in str(err.value)
    assert "negative_energy: 2" in str(err.value)
    assert len(quarantine(layout)) == 2
    assert not layout.validated.exists()
    assert not layout.ingest_manifest.exists()


def test_a_rerun_replaces_the_previous_outputs(tmp_path: Path, layout: RunLayout) -> None:
    run_download(IngestSettings(source="synthetic", synthetic_households=30), layout)
    first = manifest(layout)

    run_download(local_settings(tmp_path, GOOD), layout)

    second = manifest(layout)
    assert (first["source"], second["source"]) == ("synthetic", "local")
    assert second["valid_rows"] == len(pd.read_parquet(layout.validated)) == 20
    assert not (layout.raw_dir / "synthetic.csv").exists()


def test_a_failed_rerun_leaves_no_earlier_success_behind(tmp_path: Path, layout: RunLayout) -> None:
    run_download(IngestSettings(source="synthetic", synthetic_households=30), layout)
    missing = IngestSettings(source="local", local_csv_path=str(tmp_path / "gone.csv"))

    with pytest.raises(InputDataError, match=r"gone\.csv does not exist"):
        run_download(missing, layout)

    assert not layout.validated.exists()
    assert not layout.ingest_manifest.exists()


def test_a_file_malformed_late_leaves_no_output_at_all(tmp_path: Path, layout: RunLayout) -> None:
    too_long = f"{'x' * 200_000},4/1/2025,Tuesday,5,2,18,No,2"  # over the csv field limit
    settings = local_settings(tmp_path, [*GOOD, too_long])

    with pytest.raises(InputDataError, match="not a well-formed CSV near line 22"):
        run_download(settings, layout, batch_rows=4)

    assert sorted(p.name for p in layout.raw_dir.iterdir()) == []


def test_the_real_file_through_kagglehub_offline_lands_whole_and_leaks_no_secret(
    tmp_path: Path, layout: RunLayout, monkeypatch: pytest.MonkeyPatch, real_csv: Path
) -> None:
    cache = tmp_path / "kagglehub"
    dataset = cache / "datasets" / "samxsam" / "household-energy-consumption"
    (dataset / "versions" / "1").mkdir(parents=True)
    shutil.copyfile(real_csv, dataset / "versions" / "1" / real_csv.name)
    (dataset / "1.complete").touch()
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(cache))
    monkeypatch.setenv("KAGGLE_API_TOKEN", "secret-token-value")
    monkeypatch.setattr(kagglehub.config, "_kaggle_credentials", None)

    returned = run_download(IngestSettings(source="auto"), layout)

    written = manifest(layout)
    assert returned["source"] == written["source"] == "kaggle"
    assert (written["input_rows"], written["valid_rows"], written["quarantined_rows"]) == (
        90_000,
        90_000,
        0,
    )
    assert (written["households"], written["last_date"]) == (12_857, "2025-04-08")
    assert written["input_sha256"] == hashlib.sha256(real_csv.read_bytes()).hexdigest()
    assert pq.read_metadata(layout.validated).num_rows == 90_000
    assert "secret-token-value" not in json.dumps(returned) + layout.ingest_manifest.read_text()

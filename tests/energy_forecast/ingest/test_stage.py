"""``run_download``: one call turns a source into validated Parquet, quarantine and manifest."""

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
GOOD = [
    f"H{h:05d},4/{d}/2025,{day},{5 + h},{h % 6 + 1},18,{'Yes' if h % 2 else 'No'},2"
    for h in range(1, 11)
    for d, day in ((1, "Tuesday"), (2, "Wednesday"))
]  # 20 valid rows
BAD = "H00099,4/1/2025,Tuesday,-3,2,18,No,1"


def local_settings(tmp_path: Path, rows: list[str], **overrides: object) -> IngestSettings:
    path = tmp_path / "input.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return IngestSettings(source="local", local_csv_path=str(path), **overrides)


def manifest(layout: RunLayout) -> dict:
    return json.loads(layout.ingest_manifest.read_text())


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


def test_the_manifest_accounts_for_every_row_and_names_the_source(
    tmp_path: Path, layout: RunLayout
) -> None:
    settings = local_settings(tmp_path, [*GOOD, BAD], max_quarantine_fraction=0.1)

    run_download(settings, layout)

    written = manifest(layout)
    assert written["input_rows"] == 21
    assert written["valid_rows"] == 20
    assert written["quarantined_rows"] == 1
    assert written["quarantine_reasons"]["negative_energy"] == 1
    assert written["source"] == "local"
    assert written["source_detail"] == settings.local_csv_path
    assert written["source_reason"] == "source='local' was requested"
    input_bytes = Path(settings.local_csv_path).read_bytes()
    assert written["input_sha256"] == hashlib.sha256(input_bytes).hexdigest()
    assert dt.datetime.fromisoformat(written["created_at"]).tzinfo is not None
    quarantine = pd.read_csv(layout.quarantine, dtype=str)
    assert quarantine[["Household_ID", "reason"]].values.tolist() == [["H00099", "negative_energy"]]


def test_too_many_quarantined_rows_fail_after_writing_the_quarantine(
    tmp_path: Path, layout: RunLayout
) -> None:
    settings = local_settings(tmp_path, [*GOOD, BAD, BAD.replace("H00099", "H00098")])

    with pytest.raises(QuarantineLimitError, match=r"fraction 0\.0909.*limit") as err:
        run_download(settings, layout)

    assert "max_quarantine_fraction=0.05" in str(err.value)
    assert len(pd.read_csv(layout.quarantine)) == 2
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
    assert written["input_sha256"] == hashlib.sha256(real_csv.read_bytes()).hexdigest()
    assert pq.read_metadata(layout.validated).num_rows == 90_000
    assert "secret-token-value" not in json.dumps(returned) + layout.ingest_manifest.read_text()

"""Streaming ingestion writes what the in-memory ingestion it replaced (commit c2fde0d) wrote.

The old package is taken from git history (``git archive``) into a temporary folder and run in
a subprocess, so no copy of it lives in the package. Each side's outputs are reduced to a
fingerprint: the validated table's schema and a hash of its rows in file order, a hash of the
quarantine file's bytes, and the manifest's counts. They must be identical on the real file
and on messy files that only break rules the old code already had (the new rules, such as
plausibility bounds, conflicting copies and escaping formula-like cells, are left out: they
change the output on purpose). The new side reads the real file in 18 batches and the messy
ones in batches of seven rows, so rows, copies and households are spread over many batches;
one messy file is read by Arrow, one (quoted) by the csv module.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import subprocess
import sys
import tarfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from energy_forecast import columns as c
from energy_forecast.ingest import run_download
from energy_forecast.paths import RunLayout
from energy_forecast.settings import IngestSettings

OLD_COMMIT = "c2fde0d"
REPO = Path(__file__).resolve().parents[3]
_RUN_OLD = """
import sys
from pathlib import Path
import energy_forecast
from energy_forecast.ingest.stage import run_download  # its name at the old commit
from energy_forecast.paths import RunLayout
from energy_forecast.settings import IngestSettings
print(energy_forecast.__file__)
settings = IngestSettings(source="local", local_csv_path=sys.argv[1], max_quarantine_fraction=1.0)
run_download(settings, RunLayout.for_run("old", root=Path(sys.argv[2])))
"""
_COUNTS = (
    "input_sha256",
    "input_rows",
    "valid_rows",
    "quarantined_rows",
    "households",
    "first_date",
    "last_date",
)


@pytest.fixture(scope="module")
def old_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``include/`` of the old commit, extracted from this clone's history."""
    try:
        found = subprocess.run(
            ["git", "-C", str(REPO), "cat-file", "-e", f"{OLD_COMMIT}^{{commit}}"],
            capture_output=True,
        )
    except FileNotFoundError:
        pytest.skip("git is not installed: cannot extract the old implementation")
    if found.returncode:
        pytest.skip(
            f"commit {OLD_COMMIT} is not in this clone (shallow?): fetch the full history "
            "(git fetch --unshallow) to compare with the old implementation"
        )
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", OLD_COMMIT, "include/energy_forecast"],
        capture_output=True,
        check=True,
    ).stdout
    target = tmp_path_factory.mktemp(OLD_COMMIT)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target / "include"


def old_outputs(package: Path, csv_path: Path, root: Path) -> Path:
    env = {**os.environ, "PYTHONPATH": str(package)}
    done = subprocess.run(
        [sys.executable, "-c", _RUN_OLD, str(csv_path), str(root)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().startswith(str(package)), "the old package must be the one run"
    return RunLayout.for_run("old", root=root).raw_dir


def new_outputs(csv_path: Path, root: Path, batch_rows: int) -> Path:
    settings = IngestSettings(
        source="local", local_csv_path=str(csv_path), max_quarantine_fraction=1.0
    )
    layout = RunLayout.for_run("new", root=root)
    run_download(settings, layout, batch_rows=batch_rows)
    return layout.raw_dir


def fingerprint(raw_dir: Path) -> dict[str, object]:
    table = pq.read_table(raw_dir / "validated.parquet")
    rows = table.to_pandas().to_csv(index=False).encode()  # values, in the order written
    manifest = json.loads((raw_dir / "manifest.json").read_text())
    return {
        "validated_schema": table.schema.to_string(show_schema_metadata=False),
        "validated_rows_sha256": hashlib.sha256(rows).hexdigest(),
        "quarantine_sha256": hashlib.sha256((raw_dir / "quarantine.csv").read_bytes()).hexdigest(),
        "counts": {key: manifest[key] for key in _COUNTS},
        "reasons": {code: n for code, n in manifest["quarantine_reasons"].items() if n},
    }


def messy_rows(seed: int = 7) -> list[str]:
    """Valid rows out of order, with blank lines and every problem the old rules knew."""
    days = [(f"4/{d}/2025", name) for d, name in enumerate(["Tuesday", "Wednesday", "Thursday"], 1)]
    good = [
        f"H{h:05d},{date},{name},{h % 9 + 1.5},{h % 6 + 1},{15 + h % 7},{('No', 'Yes')[h % 2]},"
        f"{h % 4 + 0.5},note {h}"
        for h in range(1, 41)
        for date, name in days
    ]
    broken = [
        "H00041,4/1/2025",  # too few fields
        "H00042,4/1/2025,Tuesday,5,2,18,No,2,note,surplus",  # too many
        "H00043,4/1/2025,Tuesday,,2,18,No,2,",  # missing energy
        "H00044,4/1/2025,Tuesday,lots,2,18,No,2,",
        "H00045,4/1/2025,Tuesday,nan,2,inf,No,2,",
        "H00046,4/1/2025,Tuesday,5,2.5,18,Maybe,2,",
        "H00047,4/1/2025,Tuesday,5,0,18,No,2,",
        "H00048,4/1/2025,Friday,5,2,18,No,2,",
        "H00049,4/31/2025,Thursday,5,2,18,No,2,",
        "H00050,04/01/2025, tuesday ,5.0,2.0,18, yes ,2,lenient but valid",
        "",
        "   ",
    ]
    copies = [good[0], good[10], good[10]]  # exact copies: the first stays, the rest are set aside
    rows = good + broken + copies
    random.Random(seed).shuffle(rows)
    return rows


def test_the_real_file_gives_identical_outputs(
    old_package: Path, real_csv: Path, tmp_path: Path
) -> None:
    old = fingerprint(old_outputs(old_package, real_csv, tmp_path / "old"))
    new = fingerprint(new_outputs(real_csv, tmp_path / "new", batch_rows=5_000))

    assert new == old
    assert new["counts"]["valid_rows"] == 90_000


@pytest.mark.parametrize("quoted", [False, True], ids=["plain-arrow", "quoted-csv-module"])
def test_a_messy_file_gives_identical_outputs(
    old_package: Path, tmp_path: Path, quoted: bool
) -> None:
    lines = [",".join([*c.RAW_COLUMNS, "Comment"]), *messy_rows()]
    if quoted:  # every field in quotes, and a comment with a comma in it
        lines = [",".join(f'"{v}"' for v in line.split(",")) if line else "" for line in lines]
        lines.append('H00099,4/2/2025,Wednesday,4,1,17,No,1,"a, quoted comment"')
    csv_path = tmp_path / "messy.csv"
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    old = fingerprint(old_outputs(old_package, csv_path, tmp_path / "old"))
    new = fingerprint(new_outputs(csv_path, tmp_path / "new", batch_rows=7))

    assert new == old
    assert old["counts"]["quarantined_rows"] >= 10
    assert old["reasons"]["duplicate_household_date"] == 3

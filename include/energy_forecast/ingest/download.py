"""The ``download`` stage: source -> validation -> validated Parquet, quarantine, manifest.

The DAG task calls :func:`run_download` and pushes its small return value through XCom;
everything large stays on disk under the run's ``raw`` folder. A rerun of the same run
replaces all three outputs, and a failed run leaves none that could pass for a success.

Memory does not grow with the input file: the CSV is read in batches of ``batch_rows``
records and nothing holds more than a few batches at once. The one exception is the
duplicate check, which sorts an 8-byte hash per row once (72 MB for 9 million rows; see
:mod:`energy_forecast.ingest.duplicates`). Two passes are needed because a row's fate can
depend on a row much later in the file:

1. *Survey*: tokenise the CSV (keeping the batches in a compressed scratch file when the
   slow csv module had to read them), check each row on its own, log the key hash of each
   clean row and note whether the clean rows come in (household, date) order. Then settle
   which rows repeat a key, and so know every count, before anything is written.
2. *Write*: read the batches again, check them again (a pure function, cheaper than keeping
   the results), and send each row to the quarantine, past the cut-off, or to the validated
   table, which is written in (household, date) order (merged from sorted runs when the
   input was in another order; see :mod:`energy_forecast.ingest.writers`).

A source that changes between the passes fails the run rather than mixing two versions.
Scratch files live in a hidden folder beside the outputs and are removed however the run
ends. Measured on copies of the real file (households repeated under a suffix, see
``benchmarks/ingest_memory.py``): 9 million rows take about 16 s and 0.4-0.5 GB at peak,
where reading the whole file into pandas (c2fde0d) took 116-182 s and 8.9 GB.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path

import numpy as np

from energy_forecast.ingest.duplicates import KeyLog, Verdicts, resolve
from energy_forecast.ingest.errors import QuarantineLimitError
from energy_forecast.ingest.raw import BATCH_ROWS, BatchSpill, RawBatch, RawCsv, open_raw_csv
from energy_forecast.ingest.sources import SYNTHETIC_CSV, ResolvedSource, resolve_source
from energy_forecast.ingest.validation import (
    CONFLICTING_HOUSEHOLD_DATE,
    DUPLICATE_HOUSEHOLD_DATE,
    REASON,
    REASONS,
    SOURCE_LINE,
    CheckedBatch,
    check_batch,
    quarantine_rows,
)
from energy_forecast.ingest.writers import (
    OrderTracker,
    QuarantineWriter,
    ValidatedWriter,
    WrittenSummary,
)
from energy_forecast.metrics import write_json
from energy_forecast.paths import RunLayout
from energy_forecast.runtime.atomic import atomic_file
from energy_forecast.settings import IngestSettings

log = logging.getLogger(__name__)

_EPOCH = date(1970, 1, 1)
_SCRATCH_PREFIX = ".download-"


def run_download(
    settings: IngestSettings,
    layout: RunLayout,
    cutoff: date | None = None,
    *,
    run_date: date | None = None,
    batch_rows: int = BATCH_ROWS,
) -> dict[str, str]:
    """Ingest one run's raw data and return the paths of what was written (XCom-safe).

    Rows dated on or after ``cutoff`` are valid but not yet usable at this point in time:
    they are counted in the manifest (``rows_after_cutoff``), neither written nor quarantined.
    Rows dated after ``run_date``, the day the run started, are quarantined as
    ``date_in_future``: no measurement can be dated after the run that reads it.
    ``batch_rows`` trades memory for speed; tests make it small to cross batch boundaries.
    """
    previous = (
        layout.validated,
        layout.quarantine,
        layout.ingest_manifest,
        layout.raw_dir / SYNTHETIC_CSV,
    )
    for stale in previous:  # a failed rerun must not leave an earlier success behind
        stale.unlink(missing_ok=True)
    for scratch in layout.raw_dir.glob(f"{_SCRATCH_PREFIX}*"):  # left by a killed worker
        shutil.rmtree(scratch, ignore_errors=True)
    layout.raw_dir.mkdir(parents=True, exist_ok=True)

    source = resolve_source(settings, layout.raw_dir)
    raw = open_raw_csv(source.csv_path)
    with tempfile.TemporaryDirectory(dir=layout.raw_dir, prefix=_SCRATCH_PREFIX) as scratch:
        check = partial(check_batch, settings=settings, run_date=run_date)
        survey = _survey(raw, check, Path(scratch), batch_rows)
        over_limit = survey.quarantine_fraction > settings.max_quarantine_fraction
        tally = _write(raw, survey, check, layout, cutoff, Path(scratch), over_limit)
    if over_limit:
        raise QuarantineLimitError(
            f"{survey.quarantined_rows} of {survey.input_rows} rows of {source.csv_path} were "
            f"quarantined (fraction {survey.quarantine_fraction:.4f}), above the limit "
            f"max_quarantine_fraction={settings.max_quarantine_fraction}; "
            f"see {layout.quarantine} ({_reason_summary(survey.reason_counts)})"
        )
    write_json(_manifest(source, raw, survey, tally, layout, cutoff), layout.ingest_manifest)
    log.info(
        "download: %d input rows from %s, %d valid, %d quarantined, %d on or after the cut-off %s",
        survey.input_rows,
        source.kind,
        tally.written.rows,
        survey.quarantined_rows,
        tally.after_cutoff,
        cutoff,
    )
    return {
        "run_dir": str(layout.run_dir),
        "validated": str(layout.validated),
        "quarantine": str(layout.quarantine),
        "manifest": str(layout.ingest_manifest),
        "source": source.kind,
    }


@dataclass(frozen=True)
class _Survey:
    """What the first pass learnt: every count, the duplicate verdicts, the input's order."""

    #: The same batches again, from the scratch file or the source.
    batches: Callable[[], Iterator[RawBatch]]
    input_rows: int
    quarantined_rows: int
    reason_counts: dict[str, int]
    verdicts: Verdicts
    in_order: bool

    @property
    def quarantine_fraction(self) -> float:
        return self.quarantined_rows / self.input_rows if self.input_rows else 0.0


@dataclass(frozen=True)
class _Tally:
    """What the second pass did with the rows that were not quarantined."""

    written: WrittenSummary
    after_cutoff: int


def _survey(
    raw: RawCsv, check: Callable[[RawBatch], CheckedBatch], scratch: Path, batch_rows: int
) -> _Survey:
    keys, order = KeyLog(scratch / "keys.u64"), OrderTracker()
    counts = dict.fromkeys(REASONS, 0)
    input_rows = quarantined = 0
    # Arrow reads a plain file again in a second or two; what the csv module read is kept.
    spill = None if raw.plain else BatchSpill(scratch / "batches.arrow", raw.header)
    with spill or nullcontext():
        for batch in raw.batches(batch_rows):
            if spill is not None:
                spill.write(batch)
            checked = check(batch)
            for code, hit in checked.problems.items():
                counts[code] += int(hit.sum())
            input_rows += batch.n_rows
            quarantined += int((~checked.clean).sum())
            keys.add(checked)
            order.add(checked.household.filter(checked.clean), checked.days[checked.clean])
    log.info(
        "download: %d rows surveyed; sorting their key hashes takes %.0f MB",
        input_rows,
        keys.nbytes / 1e6,
    )
    again = spill.batches if spill is not None else partial(raw.batches, batch_rows)
    suspects = keys.repeated()
    verdicts = resolve((check(batch) for batch in again()), suspects)
    counts[DUPLICATE_HOUSEHOLD_DATE] = verdicts.duplicates
    counts[CONFLICTING_HOUSEHOLD_DATE] = verdicts.conflicts
    return _Survey(
        batches=again,
        input_rows=input_rows,
        quarantined_rows=quarantined + len(verdicts.rows),
        reason_counts=counts,
        verdicts=verdicts,
        in_order=order.in_order,
    )


def _write(
    raw: RawCsv,
    survey: _Survey,
    check: Callable[[RawBatch], CheckedBatch],
    layout: RunLayout,
    cutoff: date | None,
    scratch: Path,
    over_limit: bool,
) -> _Tally:
    """Write the quarantine and, unless ``over_limit``, the validated table."""
    own = [name for name in raw.header if name not in (SOURCE_LINE, REASON)]
    cutoff_day = (cutoff - _EPOCH).days if cutoff else None
    after_cutoff = 0
    written = WrittenSummary(rows=0, households=0, first_date=None, last_date=None)
    with ExitStack() as outputs:  # each file replaces its target only if every row went well
        quarantine_path = outputs.enter_context(atomic_file(layout.quarantine))
        handle = outputs.enter_context(quarantine_path.open("w", encoding="utf-8", newline=""))
        quarantine = QuarantineWriter(handle, [SOURCE_LINE, *own, REASON])
        validated = None
        if not over_limit:
            validated_path = outputs.enter_context(atomic_file(layout.validated))
            validated = outputs.enter_context(
                ValidatedWriter(validated_path, presorted=survey.in_order, workdir=scratch)
            )
        for batch in survey.batches():
            checked = check(batch)
            duplicate, conflicting = survey.verdicts.marks(batch)
            problems = {
                **checked.problems,
                DUPLICATE_HOUSEHOLD_DATE: duplicate,
                CONFLICTING_HOUSEHOLD_DATE: conflicting,
            }
            quarantine.write(quarantine_rows(checked, problems))
            usable = ~np.logical_or.reduce(list(problems.values()))
            if cutoff_day is not None:
                late = usable & (checked.days >= cutoff_day)
                after_cutoff += int(late.sum())
                usable &= ~late
            if validated is not None:
                validated.write(checked.typed(usable))
        if validated is not None:
            written = validated.close()
    if quarantine.rows != survey.quarantined_rows:
        raise RuntimeError("the write pass quarantined other rows than the survey counted")
    if not over_limit and survey.input_rows != written.rows + quarantine.rows + after_cutoff:
        raise RuntimeError("ingestion lost rows: valid + quarantined + after cut-off != input")
    return _Tally(written=written, after_cutoff=after_cutoff)


def _manifest(
    source: ResolvedSource,
    raw: RawCsv,
    survey: _Survey,
    tally: _Tally,
    layout: RunLayout,
    cutoff: date | None,
) -> dict[str, object]:
    written = tally.written
    return {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source": source.kind,
        "source_detail": source.detail,
        "source_reason": source.reason,
        "input_file": str(source.csv_path),
        "input_sha256": raw.sha256,
        "input_rows": survey.input_rows,
        "valid_rows": written.rows,
        "quarantined_rows": survey.quarantined_rows,
        "rows_after_cutoff": tally.after_cutoff,
        "quarantine_fraction": survey.quarantine_fraction,
        "quarantine_reasons": survey.reason_counts,
        "households": written.households,
        "first_date": written.first_date.isoformat() if written.first_date else None,
        "last_date": written.last_date.isoformat() if written.last_date else None,
        "cutoff": cutoff.isoformat() if cutoff else None,
        "validated": str(layout.validated),
        "quarantine": str(layout.quarantine),
    }


def _reason_summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{code}: {n}" for code, n in counts.items() if n)

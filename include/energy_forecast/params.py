"""The DAG's Params: typed, bounded and documented, with defaults from ``settings``.

The Airflow UI renders these as the trigger form (one section per stage); a value outside
its JSON-schema bounds is rejected before the run starts.
"""

from __future__ import annotations

from airflow.sdk import Param

from energy_forecast.settings import SOURCES, FeatureSettings, IngestSettings

_INGEST = IngestSettings()
_FEATURES = FeatureSettings()


def ingest_params() -> dict[str, Param]:
    section = "Data"
    return {
        "source": Param(
            _INGEST.source,
            type="string",
            enum=list(SOURCES),
            title="Data source",
            description="auto: Kaggle if cached or credentials exist, else synthetic.",
            section=section,
        ),
        "kaggle_handle": Param(
            _INGEST.kaggle_handle,
            type="string",
            minLength=3,
            title="Kaggle data set handle",
            description="Versioned kagglehub handle, served from the local cache when present.",
            section=section,
        ),
        "local_csv_path": Param(
            _INGEST.local_csv_path,
            type="string",
            title="Local CSV path",
            description="CSV with the Kaggle file's columns; used when source is 'local'.",
            section=section,
        ),
        "synthetic_households": Param(
            _INGEST.synthetic_households,
            type="integer",
            minimum=1,
            maximum=1_000_000,
            title="Synthetic households",
            description="Households to generate when the source is synthetic.",
            section=section,
        ),
        "synthetic_days": Param(
            _INGEST.synthetic_days,
            type="integer",
            minimum=3,
            maximum=3_650,
            title="Synthetic days",
            description="Days per household to generate when the source is synthetic.",
            section=section,
        ),
        "synthetic_seed": Param(
            _INGEST.synthetic_seed,
            type="integer",
            minimum=0,
            title="Synthetic seed",
            description="Seed of the synthetic generator; same seed, same data.",
            section=section,
        ),
        "max_quarantine_fraction": Param(
            _INGEST.max_quarantine_fraction,
            type="number",
            minimum=0,
            maximum=1,
            title="Max quarantined fraction",
            description="Fail the run when more than this share of rows is quarantined.",
            section=section,
        ),
    }


def feature_params() -> dict[str, Param]:
    section = "Features"
    return {
        "sequence_length": Param(
            _FEATURES.sequence_length,
            type="integer",
            minimum=1,
            maximum=365,
            title="Sequence length (days)",
            description="Previous calendar days each sequence holds.",
            section=section,
        ),
        "test_days": Param(
            _FEATURES.test_days,
            type="integer",
            minimum=1,
            maximum=365,
            title="Test days",
            description="Last dates held out for the final comparison.",
            section=section,
        ),
        "val_days": Param(
            _FEATURES.val_days,
            type="integer",
            minimum=1,
            maximum=365,
            title="Validation days",
            description="Dates before the test days used for early stopping and the champion.",
            section=section,
        ),
        "rows_per_row_group": Param(
            _FEATURES.rows_per_row_group,
            type="integer",
            minimum=16,
            maximum=1_000_000,
            title="Rows per Parquet row group",
            description="Smaller groups shard more evenly across training processes.",
            section=section,
        ),
    }


def all_params() -> dict[str, Param]:
    return ingest_params() | feature_params()

"""The DAG's Params: typed, bounded and documented, with defaults from ``settings``.

The Airflow UI renders these as the trigger form (one section per stage); a value outside
its JSON-schema bounds is rejected before the run starts.
"""

from __future__ import annotations

from airflow.sdk import Param

from energy_forecast.settings import (
    SOURCES,
    BaselineSettings,
    FeatureSettings,
    IngestSettings,
    TrainSettings,
)

_INGEST = IngestSettings()
_FEATURES = FeatureSettings()
_TRAIN = TrainSettings()
_BASELINE = BaselineSettings()


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


def _integer(default: int, low: int, high: int, title: str, description: str, section: str):
    return Param(
        default,
        type="integer",
        minimum=low,
        maximum=high,
        title=title,
        description=description,
        section=section,
    )


def _number(default: float, low: float, high: float, title: str, description: str, section: str):
    return Param(
        default,
        type="number",
        minimum=low,
        maximum=high,
        title=title,
        description=description,
        section=section,
    )


def train_params() -> dict[str, Param]:
    section = "LSTM training"
    return {
        "num_processes": _integer(
            _TRAIN.num_processes, 1, 256, "Training processes",
            "DDP processes TorchDistributor launches.", section,
        ),
        "local_mode": Param(
            _TRAIN.local_mode,
            type="boolean",
            title="Train on the driver",
            description="True: processes on the Spark driver; False: in barrier Spark tasks "
            "(needs at least num_processes task slots).",
            section=section,
        ),
        "use_gpu": Param(
            _TRAIN.use_gpu,
            type=["null", "boolean"],
            title="Use GPUs",
            description="Empty: use CUDA when it is available; true/false forces it.",
            section=section,
        ),
        "epochs": _integer(_TRAIN.epochs, 1, 1000, "Epochs", "Maximum epochs.", section),
        "patience": _integer(
            _TRAIN.patience, 1, 100, "Early-stopping patience",
            "Epochs without a better validation RMSE before training stops.", section,
        ),
        "learning_rate": _number(
            _TRAIN.learning_rate, 1e-6, 1.0, "Learning rate", "Adam learning rate.", section
        ),
        "weight_decay": _number(
            _TRAIN.weight_decay, 0.0, 1.0, "Weight decay", "AdamW weight decay.", section
        ),
        "batch_size": _integer(
            _TRAIN.batch_size, 8, 65_536, "Batch size", "Rows per batch on each process.", section
        ),
        "lstm_hidden_size": _integer(
            _TRAIN.lstm_hidden_size, 1, 1024, "LSTM hidden size",
            "Hidden units of the LSTM over past days.", section,
        ),
        "lstm_layers": _integer(
            _TRAIN.lstm_layers, 1, 8, "LSTM layers", "Stacked LSTM layers.", section
        ),
        "static_hidden_size": _integer(
            _TRAIN.static_hidden_size, 1, 1024, "Static branch size",
            "Hidden units of the feed-forward branch over static features.", section,
        ),
        "head_hidden_size": _integer(
            _TRAIN.head_hidden_size, 1, 1024, "Head size",
            "Hidden units of the head combining both branches.", section,
        ),
        "dropout": _number(_TRAIN.dropout, 0.0, 0.9, "Dropout", "Dropout in the head.", section),
        "loader_workers": _integer(
            _TRAIN.loader_workers, 0, 16, "DataLoader workers",
            "Worker processes per training process reading Parquet row groups.", section,
        ),
        "seed": _integer(
            _TRAIN.seed, 0, 2**31 - 1, "Seed",
            "Seed for weights, shuffling and XGBoost; same seed, same results.", section,
        ),
    }  # fmt: skip


def baseline_params() -> dict[str, Param]:
    section = "XGBoost baseline"
    return {
        "xgb_num_workers": _integer(
            _BASELINE.xgb_num_workers, 1, 256, "XGBoost workers",
            "Spark tasks training XGBoost (needs as many task slots).", section,
        ),
        "xgb_max_depth": _integer(
            _BASELINE.xgb_max_depth, 1, 16, "Max tree depth", "Depth of each tree.", section
        ),
        "xgb_n_estimators": _integer(
            _BASELINE.xgb_n_estimators, 1, 10_000, "Boosting rounds",
            "Upper bound on trees; early stopping usually ends sooner.", section,
        ),
        "xgb_learning_rate": _number(
            _BASELINE.xgb_learning_rate, 1e-4, 1.0, "XGBoost learning rate",
            "Shrinkage per boosting round.", section,
        ),
        "xgb_early_stopping_rounds": _integer(
            _BASELINE.xgb_early_stopping_rounds, 1, 1000, "Early-stopping rounds",
            "Rounds without a better validation RMSE before boosting stops.", section,
        ),
    }  # fmt: skip


def all_params() -> dict[str, Param]:
    return ingest_params() | feature_params() | train_params() | baseline_params()

"""The DAG's Params: typed, bounded and documented, with defaults from ``settings``.

The Airflow UI renders these as the trigger form (one section per stage); a value outside
its JSON-schema bounds is rejected before the run starts.
"""

from __future__ import annotations

from airflow.sdk import Param

from energy_forecast.settings import (
    APPROVALS,
    PROMOTE_MODES,
    SOURCES,
    FeatureSettings,
    IngestSettings,
    MonitoringSettings,
    PublishSettings,
    SparkResources,
    SparkSettings,
    TrainSettings,
    XGBoostSettings,
)

_INGEST = IngestSettings()
_FEATURES = FeatureSettings()
_TRAIN = TrainSettings()
_BASELINE = XGBoostSettings()
_SPARK = SparkSettings()
_PUBLISH = PublishSettings()
_MONITORING = MonitoringSettings()
_RESOURCES = SparkResources()


def _bounded(
    default: float, low: float, high: float, title: str, description: str, section: str
) -> Param:
    """A numeric Param with bounds; an ``int`` default makes it an integer field."""
    return Param(
        default,
        type="integer" if isinstance(default, int) else "number",
        minimum=low,
        maximum=high,
        title=title,
        description=description,
        section=section,
    )


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
            type=["null", "string"],  # the UI form marks an empty "string" Param as missing
            title="Local CSV path",
            description="CSV with the Kaggle file's columns, inside the worker's data roots "
            "(ENERGY_FORECAST_DATA_ROOTS); required when source is 'local', ignored otherwise.",
            section=section,
        ),
        "synthetic_households": _bounded(
            _INGEST.synthetic_households, 1, 1_000_000, "Synthetic households",
            "Households to generate when the source is synthetic.", section,
        ),
        "synthetic_days": _bounded(
            _INGEST.synthetic_days, 3, 3_650, "Synthetic days",
            "Days per household to generate when the source is synthetic.", section,
        ),
        "synthetic_seed": Param(
            _INGEST.synthetic_seed,
            type="integer",
            minimum=0,
            title="Synthetic seed",
            description="Seed of the synthetic generator; same seed, same data.",
            section=section,
        ),
        "max_quarantine_fraction": _bounded(
            _INGEST.max_quarantine_fraction, 0, 1, "Max quarantined fraction",
            "Fail the run when more than this share of rows is quarantined.", section,
        ),
        "max_energy_kwh": _bounded(
            _INGEST.max_energy_kwh, 1, 1_000_000, "Max energy per day (kWh)",
            "Rows whose energy or peak-hours energy exceeds this are quarantined.", section,
        ),
        "min_temperature_c": _bounded(
            _INGEST.min_temperature_c, -100, 100, "Min average temperature (°C)",
            "Rows with a colder average temperature are quarantined.", section,
        ),
        "max_temperature_c": _bounded(
            _INGEST.max_temperature_c, -100, 100, "Max average temperature (°C)",
            "Rows with a warmer average temperature are quarantined.", section,
        ),
    }  # fmt: skip


def feature_params() -> dict[str, Param]:
    section = "Features"
    return {
        "sequence_length": _bounded(
            _FEATURES.sequence_length, 1, 365, "Sequence length (days)",
            "Previous calendar days each sequence holds.", section,
        ),
        "test_days": _bounded(
            _FEATURES.test_days, 1, 365, "Test days",
            "Last dates held out for the final comparison.", section,
        ),
        "val_days": _bounded(
            _FEATURES.val_days, 1, 365, "Validation days",
            "Dates before the test days used for early stopping and the champion.", section,
        ),
        "rows_per_row_group": _bounded(
            _FEATURES.rows_per_row_group, 16, 1_000_000, "Rows per Parquet row group",
            "Smaller groups shard more evenly across training processes.", section,
        ),
        "target_file_mb": _bounded(
            _FEATURES.target_file_mb, 1, 4_096, "Target Parquet file size (MB)",
            "Each split is written as files of about this size (estimated from a sample), "
            "each holding many row groups of the size above.", section,
        ),
    }  # fmt: skip


def train_params() -> dict[str, Param]:
    section = "LSTM training"
    return {
        "num_processes": _bounded(
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
        "epochs": _bounded(_TRAIN.epochs, 1, 1000, "Epochs", "Maximum epochs.", section),
        "patience": _bounded(
            _TRAIN.patience, 1, 100, "Early-stopping patience",
            "Epochs without a better validation RMSE before training stops.", section,
        ),
        "learning_rate": _bounded(
            _TRAIN.learning_rate, 1e-6, 1.0, "Learning rate", "Adam learning rate.", section
        ),
        "weight_decay": _bounded(
            _TRAIN.weight_decay, 0.0, 1.0, "Weight decay", "AdamW weight decay.", section
        ),
        "batch_size": _bounded(
            _TRAIN.batch_size, 8, 65_536, "Batch size", "Rows per batch on each process.", section
        ),
        "lstm_hidden_size": _bounded(
            _TRAIN.lstm_hidden_size, 1, 1024, "LSTM hidden size",
            "Hidden units of the LSTM over past days.", section,
        ),
        "lstm_layers": _bounded(
            _TRAIN.lstm_layers, 1, 8, "LSTM layers", "Stacked LSTM layers.", section
        ),
        "static_hidden_size": _bounded(
            _TRAIN.static_hidden_size, 1, 1024, "Static branch size",
            "Hidden units of the feed-forward branch over static features.", section,
        ),
        "head_hidden_size": _bounded(
            _TRAIN.head_hidden_size, 1, 1024, "Head size",
            "Hidden units of the head combining both branches.", section,
        ),
        "dropout": _bounded(_TRAIN.dropout, 0.0, 0.9, "Dropout", "Dropout in the head.", section),
        "loader_workers": _bounded(
            _TRAIN.loader_workers, 0, 16, "DataLoader workers",
            "Worker processes per training process reading Parquet row groups.", section,
        ),
        "seed": _bounded(
            _TRAIN.seed, 0, 2**31 - 1, "Seed",
            "Seed for weights, shuffling and XGBoost; same seed, same results.", section,
        ),
        "epoch_timeout_minutes": _bounded(
            _TRAIN.epoch_timeout_minutes, 0.1, 600.0, "Epoch time limit (minutes)",
            "A rank stuck longer than this in one epoch fails the try; the train task's "
            "timeout is 10 minutes plus epochs times this.", section,
        ),
        "realtime_collectives": Param(
            _TRAIN.realtime_collectives,
            type="boolean",
            title="Real-time all-reduce threads",
            description="On CPU, run gloo's threads at real-time priority so DDP's "
            "all-reduces do not wait for a CPU (needs CAP_SYS_NICE; without it training "
            "runs at normal priority and logs a warning).",
            section=section,
        ),
        "gloo_interface": Param(
            _TRAIN.gloo_interface,
            type=["null", "string"],
            title="Gloo network interface",
            description="Interface the DDP ranks talk over (GLOO_SOCKET_IFNAME), e.g. eth1. "
            "Empty: each rank picks the interface on its route to the rendezvous host.",
            section=section,
        ),
        "rendezvous_timeout_s": _bounded(
            _TRAIN.rendezvous_timeout_s, 5.0, 3600.0, "Rendezvous timeout (s)",
            "How long the ranks wait to meet at the start; a rank that cannot reach its "
            "peers fails after this, naming the addresses. Collectives during training keep "
            "torch's 30-minute bound.", section,
        ),
    }  # fmt: skip


def xgboost_params() -> dict[str, Param]:
    section = "XGBoost"
    return {
        "xgb_num_workers": Param(
            _BASELINE.xgb_num_workers,
            type=["null", "integer"],
            minimum=1,
            maximum=256,
            title="XGBoost workers",
            description="Spark tasks training XGBoost (needs as many task slots). Empty: as "
            "many as the task slots the application gets when it declares spark_cores.",
            section=section,
        ),
        "xgb_max_depth": _bounded(
            _BASELINE.xgb_max_depth, 1, 16, "Max tree depth", "Depth of each tree.", section
        ),
        "xgb_n_estimators": _bounded(
            _BASELINE.xgb_n_estimators, 1, 10_000, "Boosting rounds",
            "Upper bound on trees; early stopping usually ends sooner.", section,
        ),
        "xgb_learning_rate": _bounded(
            _BASELINE.xgb_learning_rate, 1e-4, 1.0, "XGBoost learning rate",
            "Shrinkage per boosting round.", section,
        ),
        "xgb_early_stopping_rounds": _bounded(
            _BASELINE.xgb_early_stopping_rounds, 1, 1000, "Early-stopping rounds",
            "Rounds without a better validation RMSE before boosting stops.", section,
        ),
    }  # fmt: skip


def publish_params() -> dict[str, Param]:
    section = "Promotion and forecasts"
    return {
        "promote": Param(
            _PUBLISH.promote,
            type="string",
            enum=list(PROMOTE_MODES),
            title="Promote the challenger",
            description="auto: only past the gate (beats persistence and the champion by the "
            "margin); never: an experiment; force: replace the champion (give a reason).",
            section=section,
        ),
        "promote_reason": Param(
            _PUBLISH.promote_reason,
            type=["null", "string"],
            title="Reason for forcing",
            description="Required with promote=force; recorded in MLflow with the version.",
            section=section,
        ),
        "promotion_margin_kwh": _bounded(
            _PUBLISH.promotion_margin_kwh, 0.0, 10.0, "Promotion margin (kWh)",
            "Test RMSE the challenger must gain over the champion on the same rows.", section,
        ),
        "allow_synthetic_promotion": Param(
            _PUBLISH.allow_synthetic_promotion,
            type="boolean",
            title="Allow a synthetic-data champion",
            description="A model trained on synthetic data is never promoted unless this is on.",
            section=section,
        ),
        "stale_after_days": _bounded(
            _PUBLISH.stale_after_days, 0, 3650, "Stale after (days)",
            "Households whose data ends this many days before the newest date are flagged, "
            "not forecast.", section,
        ),
        "temperature_forecasts_path": Param(
            _PUBLISH.temperature_forecasts_path,
            type=["null", "string"],
            title="Temperature forecasts",
            description="CSV or Parquet (household_id, date, temperature_c) inside the data "
            "roots; empty: each household's mean temperature is the proxy.",
            section=section,
        ),
        "approval": Param(
            _PUBLISH.approval,
            type="string",
            enum=list(APPROVALS),
            title="Human approval",
            description="none: the gate's promotion goes ahead; required: it waits for a "
            "person to approve it in the Airflow UI (Required actions), and a rejection keeps "
            "the champion.",
            section=section,
        ),
    }  # fmt: skip


def monitoring_params() -> dict[str, Param]:
    section = "Monitoring"
    return {
        "degradation_window_days": _bounded(
            _MONITORING.degradation_window_days, 1, 365, "Degradation window (days)",
            "The champion's most recent measured forecast days whose pooled realized RMSE "
            "is held against its promise.", section,
        ),
        "degradation_tolerance": _bounded(
            _MONITORING.degradation_tolerance, 0.0, 10.0, "Degradation tolerance",
            "Degraded when the realized RMSE exceeds the promised (served test) RMSE by more "
            "than this fraction; then a challenger that beats persistence replaces it.",
            section,
        ),
        "drift_psi_warning": _bounded(
            _MONITORING.drift_psi_warning, 0.0, 10.0, "Drift: shifted from PSI",
            "Population stability index of a feature (newest day vs training days) from "
            "which the report calls it shifted.", section,
        ),
        "drift_psi_alert": _bounded(
            _MONITORING.drift_psi_alert, 0.0, 10.0, "Drift: drifted from PSI",
            "Population stability index from which the report calls a feature drifted.",
            section,
        ),
    }  # fmt: skip


def spark_params() -> dict[str, Param]:
    section = "Spark resources"
    memory = {"type": ["null", "string"], "pattern": r"^[0-9]+[kmgtKMGT]?$", "section": section}
    fallback = "Empty: the spark_default connection's extra {key!r}, else {default}."
    return {
        "spark_driver_memory": Param(
            _SPARK.spark_driver_memory,
            title="Driver memory",
            description="JVM heap of each Spark driver, e.g. 4g. "
            + fallback.format(key="driver_memory", default=_RESOURCES.driver_memory),
            **memory,
        ),
        "spark_executor_memory": Param(
            _SPARK.spark_executor_memory,
            title="Executor memory",
            description="Heap of each executor on a cluster, e.g. 2g. "
            + fallback.format(key="executor_memory", default=_RESOURCES.executor_memory),
            **memory,
        ),
        "spark_cores": Param(
            _SPARK.spark_cores,
            type=["null", "integer"],
            minimum=1,
            maximum=1024,
            title="Cores for preprocess and report",
            description="spark.cores.max of those applications (the report starts one only "
            "to re-score the champion; train holds num_processes, the baseline xgb_num_workers). "
            + fallback.format(key="cores", default=_RESOURCES.cores),
            section=section,
        ),
    }


def all_params() -> dict[str, Param]:
    """Every Param of the DAG, one trigger-form section per stage."""
    return (
        ingest_params()
        | feature_params()
        | train_params()
        | xgboost_params()
        | publish_params()
        | monitoring_params()
        | spark_params()
    )

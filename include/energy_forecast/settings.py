"""Typed settings for every stage: the single place where defaults and bounds live.

The DAG builds its ``Param`` objects from these dataclasses, and each task rebuilds the
settings it needs from the run's params with ``from_params``; the Spark application and the
tests construct them directly. No other module repeats a default.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, Self

from energy_forecast.errors import InputError

Source = Literal["auto", "kaggle", "local", "synthetic"]
SOURCES: tuple[str, ...] = ("auto", "kaggle", "local", "synthetic")
#: auto: the gate decides (see ``champion.gate``); never: an experiment; force: with a reason.
PromoteMode = Literal["auto", "never", "force"]
PROMOTE_MODES: tuple[str, ...] = ("auto", "never", "force")
#: none: the gate's promotion goes ahead; required: a person approves it in the Airflow UI.
Approval = Literal["none", "required"]
APPROVALS: tuple[str, ...] = ("none", "required")


class _FromParams:
    """Build a settings object from a params mapping, ignoring keys that belong elsewhere,
    and carry it to another process (a Spark application) as JSON."""

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Self:
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in params.items() if k in names})

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)  # type: ignore[call-overload]

    @classmethod
    def from_json(cls, text: str) -> Self:
        """The settings ``to_json`` wrote; an unknown or mistyped field fails here, naming it."""
        try:
            values = json.loads(text)
        except json.JSONDecodeError as error:
            raise InputError(f"{cls.__name__} JSON is malformed: {error}") from error
        if not isinstance(values, dict):
            raise InputError(f"{cls.__name__} JSON must be an object, got {text!r}")
        unknown = set(values) - {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        if unknown:
            raise InputError(f"{cls.__name__} has no fields {sorted(unknown)}")
        return cls(**values)


@dataclass(frozen=True)
class IngestSettings(_FromParams):
    """Where the raw data comes from and how much bad input a run tolerates."""

    source: Source = "auto"
    kaggle_handle: str = "samxsam/household-energy-consumption/versions/1"
    local_csv_path: str | None = None  # inside $ENERGY_FORECAST_DATA_ROOTS (see paths)
    synthetic_households: int = 12_857  # as many as the real file
    synthetic_days: int = 7
    synthetic_seed: int = 42
    max_quarantine_fraction: float = 0.05
    # Plausibility bounds: a row outside them is quarantined. The real file stays within
    # 0.5-20 kWh and 10-25 °C; these only catch what no household can have measured.
    max_energy_kwh: float = 1_000.0  # a day's energy, and its peak-hours part
    min_temperature_c: float = -60.0
    max_temperature_c: float = 60.0

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise InputError(f"source must be one of {SOURCES}, got {self.source!r}")
        if not 0.0 <= self.max_quarantine_fraction <= 1.0:
            raise InputError("max_quarantine_fraction must be within [0, 1]")
        if not self.max_energy_kwh > 0:
            raise InputError("max_energy_kwh must be > 0")
        if not self.min_temperature_c < self.max_temperature_c:
            raise InputError("min_temperature_c must be below max_temperature_c")
        if self.source == "local" and not self.local_csv_path:
            raise InputError(
                "source='local' needs local_csv_path: the path of a CSV file inside one of the "
                "folders listed in ENERGY_FORECAST_DATA_ROOTS"
            )


@dataclass(frozen=True)
class FeatureSettings(_FromParams):
    """How preprocessing splits the calendar and shapes the sequences."""

    sequence_length: int = 7
    test_days: int = 1
    val_days: int = 1
    rows_per_row_group: int = 2_048
    #: Each split is written as files of about this size, each holding many row groups, so
    #: the number of files (and of footers every training rank opens) follows the data's
    #: size, never its row-group count.
    target_file_mb: int = 64

    def __post_init__(self) -> None:
        if self.sequence_length < 1:
            raise InputError("sequence_length must be >= 1")
        if self.test_days < 1 or self.val_days < 1:
            raise InputError("test_days and val_days must be >= 1")
        if self.rows_per_row_group < 1:
            raise InputError("rows_per_row_group must be >= 1")
        if self.target_file_mb < 1:
            raise InputError("target_file_mb must be >= 1")


@dataclass(frozen=True)
class TrainSettings(_FromParams):
    """Hyper-parameters and launch options of the distributed LSTM training."""

    num_processes: int = 2
    local_mode: bool = True
    use_gpu: bool | None = None  # None: use CUDA when it is available
    # Tuned on the real file (see README "Results"): larger batches with no dropout gave
    # the steadiest validation curve; early stopping usually ends training near epoch 30.
    epochs: int = 60
    patience: int = 8
    learning_rate: float = 3e-3
    weight_decay: float = 1e-5
    batch_size: int = 1024
    lstm_hidden_size: int = 32
    lstm_layers: int = 1
    static_hidden_size: int = 16
    head_hidden_size: int = 32
    dropout: float = 0.0
    loader_workers: int = 0
    seed: int = 42
    #: Bound on one epoch, collectives included: a rank stuck in an all-reduce fails the
    #: try after this long instead of holding every later run (max_active_runs=1).
    epoch_timeout_minutes: float = 2.0
    #: gloo's threads at real-time priority (CPU runs), so all-reduces do not wait for a
    #: CPU; see training/collective_threads.py. Needs CAP_SYS_NICE, else a warning.
    realtime_collectives: bool = True
    #: The network interface gloo uses (``GLOO_SOCKET_IFNAME``); None: the one on the route
    #: to the rendezvous host (``MASTER_ADDR``), found on each rank's own host.
    gloo_interface: str | None = None
    #: Bound on the ranks meeting at the rendezvous: a rank that cannot reach its peers fails
    #: naming the addresses instead of waiting for torch's default of 30 minutes.
    rendezvous_timeout_s: float = 180.0

    def __post_init__(self) -> None:
        if self.num_processes < 1:
            raise InputError("num_processes must be >= 1")
        if self.epochs < 1 or self.batch_size < 1:
            raise InputError("epochs and batch_size must be >= 1")
        if self.learning_rate <= 0:
            raise InputError("learning_rate must be > 0")
        if self.epoch_timeout_minutes <= 0:
            raise InputError("epoch_timeout_minutes must be > 0")
        if self.rendezvous_timeout_s <= 0:
            raise InputError("rendezvous_timeout_s must be > 0")

    @property
    def execution_timeout(self) -> timedelta:
        """The train task's bound: start-up and evaluation, plus every epoch at its limit."""
        return _TRAIN_OVERHEAD + timedelta(minutes=self.epochs * self.epoch_timeout_minutes)

    @property
    def spark_cores(self) -> int:
        """Cores the training application holds: one task slot per rank on the cluster path,
        none of its own in local mode (the ranks run beside the driver)."""
        return 1 if self.local_mode else self.num_processes


@dataclass(frozen=True)
class XGBoostSettings(_FromParams):
    """Hyper-parameters of XGBoost on lag features, the LSTM's rival."""

    #: Spark tasks training XGBoost; None: every task slot the application gets when it
    #: declares the default cores (``SparkResources.cores``).
    xgb_num_workers: int | None = None
    xgb_max_depth: int = 4
    xgb_n_estimators: int = 400
    xgb_learning_rate: float = 0.05
    xgb_early_stopping_rounds: int = 30
    seed: int = 42


@dataclass(frozen=True)
class SparkResources:
    """What one Spark application asks of the cluster; the built-in defaults fit one 2-core
    machine running the preprocess, train and baseline applications side by side, and 100x
    the real file (a local driver holds the executor too: 4g keeps its scoring of 1.3 M rows
    in memory, under 5 GB resident)."""

    driver_memory: str = "4g"
    executor_memory: str = "2g"
    cores: int = 2

    def conf(self, cores: int | None = None) -> dict[str, str]:
        """Spark properties declaring these resources (``cores`` overrides the default).

        ``spark.cores.max`` matters most: without it an application takes every free core of
        a standalone cluster and the next one waits with none. Shuffles get a few partitions
        per core: Spark's default of 200 tasks cost more than the work on this data.
        """
        cores = cores or self.cores
        return {
            "spark.driver.memory": self.driver_memory,
            "spark.executor.memory": self.executor_memory,
            "spark.cores.max": str(cores),
            "spark.sql.shuffle.partitions": str(max(_MIN_SHUFFLE_PARTITIONS, 4 * cores)),
        }


@dataclass(frozen=True)
class SparkSettings(_FromParams):
    """Per-run overrides of Spark resources; ``None`` defers to the ``spark_default``
    connection's extras (``driver_memory``, ``executor_memory``, ``cores``), then to
    :class:`SparkResources`' defaults."""

    spark_driver_memory: str | None = None
    spark_executor_memory: str | None = None
    spark_cores: int | None = None

    def resources(self, connection_extras: Mapping[str, Any]) -> SparkResources:
        built_in = SparkResources()
        return SparkResources(
            driver_memory=self.spark_driver_memory
            or connection_extras.get("driver_memory")
            or built_in.driver_memory,
            executor_memory=self.spark_executor_memory
            or connection_extras.get("executor_memory")
            or built_in.executor_memory,
            cores=int(self.spark_cores or connection_extras.get("cores") or built_in.cores),
        )


@dataclass(frozen=True)
class PublishSettings(_FromParams):
    """The promotion gate (see ``gate``) and the next-day forecasts that are published."""

    promote: PromoteMode = "auto"
    promote_reason: str | None = None
    promotion_margin_kwh: float = 0.01
    allow_synthetic_promotion: bool = False
    #: A household whose last row is more than this many days before the data's last date is
    #: flagged stale in the forecasts instead of being forecast.
    stale_after_days: int = 7
    #: Temperature forecasts (household_id, date, temperature_c), inside the data roots;
    #: without it the household's mean temperature stands in.
    temperature_forecasts_path: str | None = None
    #: With ``required``, a promotion waits for a person's approval (Airflow's HITL).
    approval: Approval = "none"

    def __post_init__(self) -> None:
        if self.approval not in APPROVALS:
            raise InputError(f"approval must be one of {APPROVALS}, got {self.approval!r}")
        if self.promote not in PROMOTE_MODES:
            raise InputError(f"promote must be one of {PROMOTE_MODES}, got {self.promote!r}")
        if self.promote == "force" and not (self.promote_reason or "").strip():
            raise InputError("promote='force' needs promote_reason: say why it overrides the gate")
        if self.promotion_margin_kwh < 0 or self.stale_after_days < 0:
            raise InputError("promotion_margin_kwh and stale_after_days must be >= 0")


@dataclass(frozen=True)
class MonitoringSettings(_FromParams):
    """When the champion counts as degraded, and when an input counts as drifted
    (see ``monitoring``)."""

    #: The champion's most recent measured forecast days pooled into its realized RMSE.
    degradation_window_days: int = 7
    #: Degraded when that RMSE exceeds the promised (served test) RMSE by this fraction.
    degradation_tolerance: float = 0.25
    #: Population stability index from which a feature counts as shifted, and drifted.
    drift_psi_warning: float = 0.1
    drift_psi_alert: float = 0.25

    def __post_init__(self) -> None:
        if self.degradation_window_days < 1:
            raise InputError("degradation_window_days must be >= 1")
        if self.degradation_tolerance < 0:
            raise InputError("degradation_tolerance must be >= 0")
        if not 0 <= self.drift_psi_warning <= self.drift_psi_alert:
            raise InputError(
                "drift thresholds need 0 <= drift_psi_warning <= drift_psi_alert, got "
                f"{self.drift_psi_warning} and {self.drift_psi_alert}"
            )


_TRAIN_OVERHEAD = timedelta(minutes=10)
_MIN_SHUFFLE_PARTITIONS = 8

#: Upper bounds on the other tasks' run time at the data sizes this project targets; a hung
#: Spark job fails its try instead of blocking every later run. Train's follows its Params
#: (:attr:`TrainSettings.execution_timeout`).
TASK_TIMEOUTS: dict[str, timedelta] = {
    "download": timedelta(minutes=30),
    "preprocess": timedelta(minutes=60),
    "check_features": timedelta(minutes=5),
    "xgboost": timedelta(minutes=60),
    "report": timedelta(minutes=30),
    "publish": timedelta(minutes=30),
    "forecast": timedelta(minutes=30),
    "alert_degraded": timedelta(minutes=5),
    #: How long a promotion waits for a person when ``approval=required``; then it is kept.
    "approve": timedelta(hours=12),
}

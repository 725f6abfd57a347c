"""Typed settings for every stage: the single place where defaults and bounds live.

The DAG builds its ``Param`` objects from these dataclasses, and each task rebuilds the
settings it needs from the run's params with ``from_params``; the Spark application and the
tests construct them directly. No other module repeats a default.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Self

Source = Literal["auto", "kaggle", "local", "synthetic"]
SOURCES: tuple[str, ...] = ("auto", "kaggle", "local", "synthetic")


class _FromParams:
    """Build a settings object from a params mapping, ignoring keys that belong elsewhere."""

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Self:
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in params.items() if k in names})


@dataclass(frozen=True)
class IngestSettings(_FromParams):
    """Where the raw data comes from and how much bad input a run tolerates."""

    source: Source = "auto"
    kaggle_handle: str = "samxsam/household-energy-consumption/versions/1"
    local_csv_path: str = ""
    synthetic_households: int = 12_857  # as many as the real file
    synthetic_days: int = 7
    synthetic_seed: int = 42
    max_quarantine_fraction: float = 0.05

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {self.source!r}")
        if not 0.0 <= self.max_quarantine_fraction <= 1.0:
            raise ValueError("max_quarantine_fraction must be within [0, 1]")
        if self.source == "local" and not self.local_csv_path:
            raise ValueError("source='local' needs local_csv_path")


@dataclass(frozen=True)
class FeatureSettings(_FromParams):
    """How preprocessing splits the calendar and shapes the sequences."""

    sequence_length: int = 7
    test_days: int = 1
    val_days: int = 1
    rows_per_row_group: int = 2_048

    def __post_init__(self) -> None:
        if self.sequence_length < 1:
            raise ValueError("sequence_length must be >= 1")
        if self.test_days < 1 or self.val_days < 1:
            raise ValueError("test_days and val_days must be >= 1")
        if self.rows_per_row_group < 1:
            raise ValueError("rows_per_row_group must be >= 1")


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

    def __post_init__(self) -> None:
        if self.num_processes < 1:
            raise ValueError("num_processes must be >= 1")
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError("epochs and batch_size must be >= 1")
        if self.learning_rate <= 0:
            raise ValueError("learning_rate must be > 0")


@dataclass(frozen=True)
class BaselineSettings(_FromParams):
    """Hyper-parameters of the XGBoost baseline on lag features."""

    xgb_num_workers: int = 1
    xgb_max_depth: int = 4
    xgb_n_estimators: int = 400
    xgb_learning_rate: float = 0.05
    xgb_early_stopping_rounds: int = 30
    seed: int = 42

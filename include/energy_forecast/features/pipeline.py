"""The preprocessing ``Pipeline``: scale, sequence, assemble static and lag features.

One fitted ``PipelineModel`` produces every model's inputs, so the LSTM and XGBoost see the
same rows, split and history, and the scaler statistics needed to report in kWh travel with it.
"""

from __future__ import annotations

from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.feature import SQLTransformer

from energy_forecast import columns as C
from energy_forecast.features.lags import LagFeatures
from energy_forecast.features.scaler import MeanStdScaler, MeanStdScalerModel
from energy_forecast.features.sequencer import DaySequencer, DaySequencerModel


def _static_features_sql() -> str:
    values = ", ".join(f"CAST(`{name}` AS DOUBLE)" for name in C.STATIC_FEATURES)
    return f"SELECT *, array({values}) AS `{C.STATIC}` FROM __THIS__"


def build_pipeline(sequence_length: int) -> Pipeline:
    """An unfitted pipeline; fit it on training rows only."""
    return Pipeline(
        stages=[
            MeanStdScaler(
                inputCols=list(C.SCALED_INPUTS),
                outputCols=[C.scaled(c) for c in C.SCALED_INPUTS],
            ),
            DaySequencer(
                inputCols=[C.scaled(c) for c in C.SEQUENCE_INPUTS],
                outputCol=C.SEQUENCE,
                maskCol=C.MASK,
                householdCol=C.HOUSEHOLD,
                dateCol=C.DATE,
                sequenceLength=sequence_length,
            ),
            SQLTransformer(statement=_static_features_sql()),
            LagFeatures(
                sequenceCol=C.SEQUENCE,
                maskCol=C.MASK,
                staticCol=C.STATIC,
                outputCol=C.TABULAR_FEATURES,
            ),
        ]
    )


def scaler_statistics(model: PipelineModel) -> dict[str, dict[str, float]]:
    """The fitted scaler's ``{column: {"mean", "std"}}``, read from the model itself."""
    for stage in model.stages:
        if isinstance(stage, MeanStdScalerModel):
            return stage.statistics()
    raise ValueError("the PipelineModel has no MeanStdScalerModel stage")


def history_days(model: PipelineModel) -> int:
    """How many calendar days before a target day its features read: rows older than that
    never reach a prediction, so scoring may leave them unread."""
    for stage in model.stages:
        if isinstance(stage, DaySequencerModel):
            return stage.getSequenceLength()
    raise ValueError("the PipelineModel has no DaySequencerModel stage")


#: Columns written to the feature Parquet, in order.
OUTPUT_COLUMNS: tuple[str, ...] = (
    C.HOUSEHOLD,
    C.DATE,
    C.SPLIT,
    C.SEQUENCE,
    C.MASK,
    C.STATIC,
    C.TABULAR_FEATURES,
    C.TARGET,
    C.TARGET_KWH,
)

"""Tabular lag features for tree models, derived from the same fitted sequences as the LSTM.

XGBoost gets each previous calendar day as its own column (``lag_k`` = k days before the
target day) and handles missing values natively, so a missing day becomes NaN: never a
padding value and never the neighbouring day shifted into its slot. Built from the
sequencer's output, so both models see exactly the same rows, split and history.

The output is ``array<double>`` rather than an ML vector: ``xgboost.spark`` accepts both,
and Spark 4.2 cannot pass the vector type through the Arrow-based prediction UDF.
"""

from __future__ import annotations

from pyspark import keyword_only
from pyspark.ml import Transformer
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasOutputCol
from pyspark.ml.util import DefaultParamsReadable, DefaultParamsWritable
from pyspark.sql import DataFrame
from pyspark.sql import functions as F


class LagFeatures(Transformer, HasOutputCol, DefaultParamsReadable, DefaultParamsWritable):
    """Flattens ``sequenceCol`` (NaN where ``maskCol`` is 0) and appends ``staticCol``
    into one ``array<double>`` column: ``[day -L features..., day -1 features..., static...]``."""

    sequenceCol = Param(
        Params._dummy(), "sequenceCol", "array<array<double>> sequence", TypeConverters.toString
    )
    maskCol = Param(Params._dummy(), "maskCol", "array<double> mask", TypeConverters.toString)
    staticCol = Param(
        Params._dummy(), "staticCol", "array<double> of static features", TypeConverters.toString
    )

    @keyword_only
    def __init__(
        self,
        *,
        sequenceCol: str = "sequence",
        maskCol: str = "mask",
        staticCol: str = "static",
        outputCol: str = "tabular_features",
    ) -> None:
        super().__init__()
        self._setDefault(
            sequenceCol="sequence",
            maskCol="mask",
            staticCol="static",
            outputCol="tabular_features",
        )
        self._set(**self._input_kwargs)

    def _transform(self, dataset: DataFrame) -> DataFrame:
        sequence = F.col(self.getOrDefault(self.sequenceCol))
        mask = F.col(self.getOrDefault(self.maskCol))
        lags = F.flatten(
            F.zip_with(
                sequence,
                mask,
                lambda day, real: F.when(real > 0, day).otherwise(
                    F.transform(day, lambda _: F.lit(float("nan")))
                ),
            )
        )
        combined = F.concat(lags, F.col(self.getOrDefault(self.staticCol)).cast("array<double>"))
        return dataset.withColumn(self.getOutputCol(), combined)

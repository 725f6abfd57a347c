"""Standardise columns with statistics fitted on the training split only.

Spark's own ``StandardScaler`` works on a vector column, which would hide the per-column
statistics the trainer and the report need to turn predictions back into kWh. This scaler
keeps one scalar column per input and stores its means and standard deviations as Params,
so they travel inside the persisted ``PipelineModel``.

>>> scaler = MeanStdScaler(inputCols=["x"], outputCols=["x_scaled"])
>>> model = scaler.fit(train_df)                       # doctest: +SKIP
>>> model.write().overwrite().save(path)              # doctest: +SKIP
>>> MeanStdScalerModel.load(path).getMeans()          # doctest: +SKIP
"""

from __future__ import annotations

from pyspark import keyword_only
from pyspark.ml import Estimator, Model
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasInputCols, HasOutputCols
from pyspark.ml.util import DefaultParamsReadable, DefaultParamsWritable
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

#: A constant training column gets std 1, so scaling shifts it instead of dividing by zero.
_MIN_STD = 1e-12


class _MeanStdScalerParams(HasInputCols, HasOutputCols):
    """Params shared by the estimator and its model."""

    def _check_columns(self) -> None:
        inputs, outputs = self.getInputCols(), self.getOutputCols()
        if len(inputs) != len(outputs):
            raise ValueError(f"inputCols {inputs} and outputCols {outputs} differ in length")


class MeanStdScaler(Estimator, _MeanStdScalerParams, DefaultParamsReadable, DefaultParamsWritable):
    """Fits the mean and sample standard deviation of each input column."""

    @keyword_only
    def __init__(
        self, *, inputCols: list[str] | None = None, outputCols: list[str] | None = None
    ) -> None:
        super().__init__()
        self._set(**self._input_kwargs)

    @keyword_only
    def setParams(
        self, *, inputCols: list[str] | None = None, outputCols: list[str] | None = None
    ) -> MeanStdScaler:
        return self._set(**self._input_kwargs)

    def setInputCols(self, value: list[str]) -> MeanStdScaler:
        return self._set(inputCols=value)

    def setOutputCols(self, value: list[str]) -> MeanStdScaler:
        return self._set(outputCols=value)

    def _fit(self, dataset: DataFrame) -> MeanStdScalerModel:
        self._check_columns()
        inputs = self.getInputCols()
        aggregates = [F.count(F.lit(1)).alias("n")]
        for i, column in enumerate(inputs):
            aggregates.append(F.avg(F.col(column).cast("double")).alias(f"mean{i}"))
            aggregates.append(F.stddev_samp(F.col(column).cast("double")).alias(f"std{i}"))
        row = dataset.agg(*aggregates).first()
        if row is None or row["n"] == 0:
            raise ValueError("MeanStdScaler cannot be fitted on an empty DataFrame")
        means, stds = [], []
        for i, column in enumerate(inputs):
            if row[f"mean{i}"] is None:
                raise ValueError(f"column {column!r} has no non-null values to fit on")
            std = row[f"std{i}"]
            means.append(float(row[f"mean{i}"]))
            stds.append(float(std) if std is not None and std > _MIN_STD else 1.0)
        model = MeanStdScalerModel(
            inputCols=inputs, outputCols=self.getOutputCols(), means=means, stds=stds
        )
        return self._copyValues(model)


class MeanStdScalerModel(Model, _MeanStdScalerParams, DefaultParamsReadable, DefaultParamsWritable):
    """Applies ``(x - mean) / std`` per column with the fitted statistics."""

    means = Param(
        Params._dummy(), "means", "training mean per input column", TypeConverters.toListFloat
    )
    stds = Param(
        Params._dummy(),
        "stds",
        "training sample standard deviation per input column",
        TypeConverters.toListFloat,
    )

    @keyword_only
    def __init__(
        self,
        *,
        inputCols: list[str] | None = None,
        outputCols: list[str] | None = None,
        means: list[float] | None = None,
        stds: list[float] | None = None,
    ) -> None:
        super().__init__()
        self._set(**self._input_kwargs)

    def getMeans(self) -> list[float]:
        return self.getOrDefault(self.means)

    def getStds(self) -> list[float]:
        return self.getOrDefault(self.stds)

    def statistics(self) -> dict[str, dict[str, float]]:
        """``{input column: {"mean": m, "std": s}}``, for manifests and un-scaling."""
        return {
            column: {"mean": mean, "std": std}
            for column, mean, std in zip(
                self.getInputCols(), self.getMeans(), self.getStds(), strict=True
            )
        }

    def _transform(self, dataset: DataFrame) -> DataFrame:
        self._check_columns()
        scaled = {
            output: (F.col(column).cast("double") - F.lit(mean)) / F.lit(std)
            for column, output, mean, std in zip(
                self.getInputCols(),
                self.getOutputCols(),
                self.getMeans(),
                self.getStds(),
                strict=True,
            )
        }
        return dataset.withColumns(scaled)

"""Per-household windows of the previous calendar days, padded and masked.

The LSTM needs, for every (household, target day), the values of the ``sequenceLength``
calendar days *before* the target day, oldest first. Windows are taken on calendar days,
not on row positions: when a day is missing from the data its slot is padding with mask 0,
so every later value stays on its own date instead of shifting by one.

The estimator fits the padding values (the training mean of each input, i.e. about 0 for
standardised inputs), so padding never carries information from outside the training split.

>>> sequencer = DaySequencer(inputCols=["t_scaled", "e_scaled"], sequenceLength=7)
>>> pipeline_model = Pipeline(stages=[scaler, sequencer]).fit(train_df)   # doctest: +SKIP
>>> PipelineModel.load(path).transform(all_rows_df)                        # doctest: +SKIP
"""

from __future__ import annotations

from pyspark import keyword_only
from pyspark.ml import Estimator, Model
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasInputCols, HasOutputCol
from pyspark.ml.util import DefaultParamsReadable, DefaultParamsWritable
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

_DAY = "__sequencer_day"
_HISTORY = "__sequencer_history"
_DAYS = "__sequencer_days"
_SLOTS = "__sequencer_slots"


class _DaySequencerParams(HasInputCols, HasOutputCol):
    """Params shared by the estimator and its model."""

    householdCol = Param(
        Params._dummy(), "householdCol", "column identifying a household", TypeConverters.toString
    )
    dateCol = Param(Params._dummy(), "dateCol", "date column (DateType)", TypeConverters.toString)
    maskCol = Param(
        Params._dummy(),
        "maskCol",
        "output column: 1.0 for a real previous day, 0.0 for padding or a missing day",
        TypeConverters.toString,
    )
    sequenceLength = Param(
        Params._dummy(),
        "sequenceLength",
        "number of previous calendar days in each sequence (> 0)",
        TypeConverters.toInt,
    )

    def __init__(self, *args: object) -> None:
        super().__init__(*args)
        self._setDefault(
            householdCol="household_id",
            dateCol="date",
            outputCol="sequence",
            maskCol="mask",
            sequenceLength=7,
        )

    def getHouseholdCol(self) -> str:
        return self.getOrDefault(self.householdCol)

    def getDateCol(self) -> str:
        return self.getOrDefault(self.dateCol)

    def getMaskCol(self) -> str:
        return self.getOrDefault(self.maskCol)

    def getSequenceLength(self) -> int:
        length = self.getOrDefault(self.sequenceLength)
        if length < 1:
            raise ValueError(f"sequenceLength must be > 0, got {length}")
        return length


class DaySequencer(Estimator, _DaySequencerParams, DefaultParamsReadable, DefaultParamsWritable):
    """Fits padding values (training means) for :class:`DaySequencerModel`."""

    @keyword_only
    def __init__(
        self,
        *,
        inputCols: list[str] | None = None,
        outputCol: str = "sequence",
        maskCol: str = "mask",
        householdCol: str = "household_id",
        dateCol: str = "date",
        sequenceLength: int = 7,
    ) -> None:
        super().__init__()
        self._set(**self._input_kwargs)

    @keyword_only
    def setParams(
        self,
        *,
        inputCols: list[str] | None = None,
        outputCol: str = "sequence",
        maskCol: str = "mask",
        householdCol: str = "household_id",
        dateCol: str = "date",
        sequenceLength: int = 7,
    ) -> DaySequencer:
        return self._set(**self._input_kwargs)

    def setSequenceLength(self, value: int) -> DaySequencer:
        return self._set(sequenceLength=value)

    def _fit(self, dataset: DataFrame) -> DaySequencerModel:
        self.getSequenceLength()
        inputs = self.getInputCols()
        row = dataset.agg(*[F.avg(F.col(c).cast("double")).alias(c) for c in inputs]).first()
        if row is None or any(row[c] is None for c in inputs):
            raise ValueError("DaySequencer cannot fit padding values on an empty DataFrame")
        model = DaySequencerModel(padValues=[float(row[c]) for c in inputs])
        return self._copyValues(model)


class DaySequencerModel(Model, _DaySequencerParams, DefaultParamsReadable, DefaultParamsWritable):
    """Adds ``outputCol`` (array<array<double>>, [sequenceLength][len(inputCols)]) and
    ``maskCol`` (array<double>) built from each household's previous calendar days."""

    padValues = Param(
        Params._dummy(),
        "padValues",
        "value written for each input where a day is padding",
        TypeConverters.toListFloat,
    )

    @keyword_only
    def __init__(self, *, padValues: list[float] | None = None) -> None:
        super().__init__()
        self._set(**self._input_kwargs)

    def getPadValues(self) -> list[float]:
        return self.getOrDefault(self.padValues)

    def _transform(self, dataset: DataFrame) -> DataFrame:
        length = self.getSequenceLength()
        inputs = self.getInputCols()
        pads = self.getPadValues()
        if len(pads) != len(inputs):
            raise ValueError(f"{len(pads)} padValues for {len(inputs)} inputCols")

        day = F.col(_DAY)
        history, days, slots = F.col(_HISTORY), F.col(_DAYS), F.col(_SLOTS)
        # Rows of the previous `length` calendar days, oldest first (range frame on day
        # numbers, so a missing day is simply absent and never pulls an older value in).
        window = Window.partitionBy(self.getHouseholdCol()).orderBy(day).rangeBetween(-length, -1)
        values = F.array(*[F.col(c).cast("double") for c in inputs])
        collected = F.collect_list(_entry(day, 1.0, values)).over(window)

        # One entry per day (a repeated (household, date) keeps its first row), then the
        # target day itself as an end marker.
        pad_values = F.array(*[F.lit(p) for p in pads])
        first_of_day = F.filter(
            history, lambda entry, i: (i == 0) | (entry["day"] != F.get(history, i - 1)["day"])
        )
        with_marker = F.concat(first_of_day, F.array(_entry(day, 0.0, pad_values)))

        # Each entry preceded by one padding slot per calendar day missing before it: the
        # result is the `length` slots in calendar order plus the marker, in O(length) per
        # row. Looking each offset up in the history costs O(length) per offset instead, a
        # per-row map included: element_at scans a map's keys unless the map is a literal.
        pad = _entry(F.lit(None).cast("int"), 0.0, pad_values)

        def missing_before(entry: Column, i: Column) -> Column:
            previous = F.coalesce(F.get(days, i - 1)["day"], day - length - 1)
            # Never null, so the output columns stay non-nullable.
            return F.coalesce(entry["day"] - previous - 1, F.lit(0))

        filled = F.flatten(
            F.transform(
                days,
                lambda entry, i: F.concat(
                    F.array_repeat(pad, missing_before(entry, i)), F.array(entry)
                ),
            )
        )
        return (
            dataset.withColumn(_DAY, F.datediff(F.col(self.getDateCol()), F.lit("1970-01-01")))
            .withColumn(_HISTORY, collected)
            .withColumn(_DAYS, with_marker)
            .withColumn(_SLOTS, F.slice(filled, 1, length))
            .withColumns(
                {
                    self.getOutputCol(): F.transform(slots, lambda slot: slot["values"]),
                    self.getMaskCol(): F.transform(slots, lambda slot: slot["mask"]),
                }
            )
            .drop(_DAY, _HISTORY, _DAYS, _SLOTS)
        )


def _entry(day: Column, mask: float, values: Column) -> Column:
    """One calendar slot: its day number, 1.0 for a real day or 0.0, and the input values."""
    return F.struct(day.alias("day"), F.lit(mask).alias("mask"), values.alias("values"))

"""Load a saved ``PipelineModel`` only if every stage is one this project ships.

``PipelineModel.load`` imports and instantiates whatever class each stage's metadata names,
so a folder someone edited on the artifacts volume could run their code in the driver. The
metadata is plain JSON: we read the class names first and refuse any we do not know.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from energy_forecast.errors import PermanentError
from energy_forecast.features.lags import LagFeatures
from energy_forecast.features.scaler import MeanStdScalerModel
from energy_forecast.features.sequencer import DaySequencerModel

if TYPE_CHECKING:
    from pyspark.ml import PipelineModel

#: The Python classes a fitted features pipeline is made of (``features.pipeline``).
SHIPPED_STAGES = frozenset(
    f"{cls.__module__}.{cls.__qualname__}"
    for cls in (LagFeatures, MeanStdScalerModel, DaySequencerModel)
) | {"pyspark.ml.pipeline.PipelineModel"}
#: Spark's own JVM stages (``SQLTransformer`` and the like) run Spark's code, not ours.
SPARK_STAGE_PREFIX = "org.apache.spark.ml."


class UnknownStageError(PermanentError):
    """A saved pipeline names a stage class this project does not ship."""


def stage_classes(path: Path) -> dict[str, str]:
    """The class each saved stage names, by its metadata file (the pipeline's own first)."""
    classes = {}
    for metadata in sorted(Path(path).glob("**/metadata/part-*")):
        for line in metadata.read_text().splitlines():
            if line.strip():
                classes[str(metadata.relative_to(path))] = json.loads(line)["class"]
    return classes


def check_stages(path: Path) -> None:
    """Raise :class:`UnknownStageError` unless every stage under ``path`` is known."""
    classes = stage_classes(path)
    if not classes:
        raise UnknownStageError(f"{path} holds no saved pipeline metadata")
    unknown = {
        where: name
        for where, name in classes.items()
        if name not in SHIPPED_STAGES and not name.startswith(SPARK_STAGE_PREFIX)
    }
    if unknown:
        raise UnknownStageError(
            f"the saved pipeline {path} names stage classes this project does not ship: "
            f"{unknown}; refusing to load it"
        )


def load_pipeline_model(path: Path) -> PipelineModel:
    """``PipelineModel.load(path)``, after :func:`check_stages`."""
    from pyspark.ml import PipelineModel

    check_stages(path)
    return PipelineModel.load(str(path))

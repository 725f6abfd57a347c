"""A saved pipeline is loaded only when every stage class it names is one we ship."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from energy_forecast.features.saved_pipeline import (
    SHIPPED_STAGES,
    UnknownStageError,
    check_stages,
)


def _saved(root: Path, *stage_classes: str) -> Path:
    """The metadata files ``PipelineModel.save`` writes, with these stage classes."""
    (root / "metadata").mkdir(parents=True)
    (root / "metadata" / "part-00000").write_text(
        json.dumps({"class": "pyspark.ml.pipeline.PipelineModel"}) + "\n"
    )
    for index, name in enumerate(stage_classes):
        folder = root / "stages" / f"{index}_stage" / "metadata"
        folder.mkdir(parents=True)
        (folder / "part-00000").write_text(json.dumps({"class": name}) + "\n")
    return root


def test_our_stages_and_sparks_own_are_accepted(tmp_path: Path) -> None:
    ours = sorted(SHIPPED_STAGES - {"pyspark.ml.pipeline.PipelineModel"})

    check_stages(_saved(tmp_path, *ours, "org.apache.spark.ml.feature.SQLTransformer"))


@pytest.mark.parametrize("name", ["builtins.eval", "energy_forecast.features.app.main"])
def test_any_other_class_is_refused_naming_it(tmp_path: Path, name: str) -> None:
    with pytest.raises(UnknownStageError, match=name.replace(".", r"\.")):
        check_stages(_saved(tmp_path, "energy_forecast.features.lags.LagFeatures", name))


def test_a_folder_without_pipeline_metadata_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UnknownStageError, match="no saved pipeline metadata"):
        check_stages(tmp_path)

"""What a logged model reads and returns, as an MLflow signature.

The models read the arrays preprocessing writes (:mod:`energy_forecast.features.arrays`):
the LSTM a masked day sequence and the household's static features, XGBoost their flattened
lags. Both return next-day energy in kWh. The signature lets a consumer of a registered
version check its inputs without reading our code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from energy_forecast.features.arrays import FeatureShape

if TYPE_CHECKING:
    from mlflow.models import ModelSignature

PREDICTION = "predicted_kwh"


def model_signature(model: str, shape: FeatureShape) -> ModelSignature:
    """The signature of ``model`` (``lstm`` or ``xgboost``) on features of ``shape``."""
    import numpy as np
    from mlflow.models import ModelSignature
    from mlflow.types import Schema, TensorSpec

    float32 = np.dtype("float32")
    if model == "lstm":
        inputs = [
            TensorSpec(float32, (-1, shape.sequence_length, shape.sequence_features), "sequence"),
            TensorSpec(float32, (-1, shape.sequence_length), "mask"),
            TensorSpec(float32, (-1, shape.static_features), "static"),
        ]
    elif model == "xgboost":
        width = shape.sequence_length * shape.sequence_features + shape.static_features
        inputs = [TensorSpec(float32, (-1, width), "tabular_features")]
    else:
        raise ValueError(f"no signature for model {model!r}; expected lstm or xgboost")
    return ModelSignature(Schema(inputs), Schema([TensorSpec(float32, (-1,), PREDICTION)]))


def write_mlmodel(folder: str, model: str, shape: FeatureShape, files: list[str]) -> None:
    """An ``MLmodel`` file in ``folder``: the signature and which of our models the files
    hold (flavor ``energy_forecast``; :mod:`energy_forecast.serving.scoring` loads them)."""
    from mlflow.models import Model

    description = Model(signature=model_signature(model, shape))
    description.add_flavor("energy_forecast", model=model, files=sorted(files))
    description.save(f"{folder}/MLmodel")

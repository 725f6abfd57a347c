"""A saved model put to use: scoring it with its own PipelineModel, its test RMSE as served
(with the temperatures a forecast can know), next-day forecasts and their temperature input."""

"""XGBoost (``xgboost.spark``) on lag features of the same rows and split as the LSTM: its
rival. The naive references (persistence, household mean) live in :mod:`energy_forecast.report`."""

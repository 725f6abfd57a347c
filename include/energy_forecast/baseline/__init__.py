"""XGBoost on lag features: the tabular baseline the LSTM has to beat."""

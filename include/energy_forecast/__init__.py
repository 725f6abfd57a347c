"""Household energy forecasting: the logic behind the ``energy_forecast`` Airflow DAG.

The package is importable without Airflow so every stage can be unit-tested and run by
spark-submit; heavy libraries (pyspark, torch, xgboost) are imported inside the functions
that need them so that parsing the DAG stays fast.
"""

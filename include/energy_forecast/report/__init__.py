"""The report: naive baselines, one comparison of every model, and the run's challenger.

The trained models are scored next to two naive forecasts on exactly the same rows, so a
reader can see at a glance whether the learned models earn their keep. The challenger (the
run's best trained model, which the promotion gate then weighs against the published
champion) is chosen on validation RMSE only; the test split is reported, never used to choose.

Import :mod:`energy_forecast.report.build` inside the Airflow task: it pulls in matplotlib,
which the DAG file should not load at parse time.
"""

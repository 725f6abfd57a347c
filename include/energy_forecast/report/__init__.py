"""The report stage: naive baselines, one comparison of every model, and the champion.

The trained models are scored next to two naive forecasts on exactly the same rows, so a
reader can see at a glance whether the learned models earn their keep. The champion is
chosen on validation RMSE only; the test split is reported, never used to choose.

Import :func:`energy_forecast.report.build.run_report` inside the Airflow task: it pulls in
matplotlib, which the DAG file should not load at parse time.
"""
